"""Signals at the wrong moment (issue 5, "Load and faults"): a worker
killed with SIGKILL in the middle of a request, and SIGTERM while a reload
(SIGHUP) is under way.  test_faults.py has reload and stop under load each
on its own, test_lifecycle.py a graceful stop with a request in flight.

A request is known to be inside the app, and in which worker, through
apps/hazards.py's /block: the app writes its pid, then opens a FIFO that
the test opens for writing; what the test writes is the answer."""
import errno
import os
import re
import signal

from conftest import closed_unanswered, get, poll_until, read_response, under_wrapper
from test_faults import Load

WAIT = 30


class Gate:
    """A FIFO that a request (or an import) waits on."""

    def __init__(self, path):
        self.path = str(path)
        os.mkfifo(self.path)
        self.fd = None

    def wait_reader(self, srv):
        """Returns once the other side opened it (bounded: a failed server
        must not hang the test); then pid is the process that did."""
        def opened():
            try:
                self.fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
                return True
            except OSError as e:
                if e.errno != errno.ENXIO:      # ENXIO: no reader yet
                    raise
                return False
        poll_until(f"a reader of {self.path}", opened, timeout=WAIT, srv=srv)
        return self

    @property
    def pid(self):
        with open(self.path + ".pid") as f:
            return int(f.read())

    def release(self, data=b"released"):
        os.write(self.fd, data)
        os.close(self.fd)
        self.fd = None


def booted(srv):
    return [int(p) for p in re.findall(r"Booting worker with pid: (\d+)", srv.output())]


def wait_log(srv, what, pred):
    poll_until(what, lambda: pred(srv.output()), WAIT, srv)


def block(srv, gate, sock=None):
    """Sends /block on sock (a new connection if None) and waits until the
    request is inside the app."""
    s = sock or srv.connect(timeout=WAIT)
    s.sendall(f"GET /block?{gate.path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    gate.wait_reader(srv)
    return s


def answered_then_closed(conn):
    """The request in flight at SIGTERM gets its whole answer, then the
    connection is closed cleanly (EOF, not a reset).  The answer may say
    keep-alive: its head was decided before the signal (worker.c)."""
    f = conn.makefile("rb")
    r = read_response(f)
    assert r is not None and r.status == 200 and r.body == b"released"
    assert f.read() == b""
    conn.close()


# ---- SIGKILL mid-request ----

def test_sigkill_mid_request_closes_the_connection_and_the_worker_is_replaced(start_server, tmp_path):
    """Two workers: the request's connection (a keep-alive one that had an
    answer already) is closed without an answer, no hang; the other worker
    serves meanwhile; the master replaces the killed one and goes on."""
    srv = start_server("hazards:app", ["-w", "2"])
    conn = srv.connect(timeout=WAIT)
    f = conn.makefile("rb")
    conn.sendall(b"GET /pid HTTP/1.1\r\nHost: x\r\n\r\n")
    victim = int(read_response(f).body)
    gate = Gate(tmp_path / "fifo")
    block(srv, gate, conn)                  # the same keep-alive connection: the same worker
    assert gate.pid == victim
    os.kill(victim, signal.SIGKILL)
    assert closed_unanswered(conn)          # EOF or a reset, within WAIT (the socket's timeout)
    conn.close()
    other = next(p for p in booted(srv) if p != victim)
    wait_log(srv, "the death logged", lambda out: f"Worker {victim} was killed by signal Killed, respawning." in out)
    wait_log(srv, "a third worker booted", lambda out: len(booted(srv)) == 3)
    replacement = booted(srv)[-1]
    pids = set()
    for _ in range(10):
        r = get(srv, "/pid")
        assert r.status == 200
        pids.add(int(r.body))
    assert victim not in pids and pids <= {other, replacement}
    assert srv.proc.poll() is None
    srv.notify.wait_for("STATUS=2 workers, 11 requests served, 0 in flight")


def test_sigkill_of_the_only_worker_mid_request(start_server, tmp_path):
    """One worker: its client's connection is closed; a client that comes
    meanwhile waits in the backlog and is served by the replacement.  One
    thread (also in the suite's --threads run): the premise is a worker
    held in the app."""
    srv = start_server("hazards:app", ["--threads", "1"])
    [victim] = booted(srv)
    gate = Gate(tmp_path / "fifo")
    conn = block(srv, gate)
    waiting = srv.connect(timeout=WAIT)
    waiting.sendall(b"GET /pid HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    os.kill(victim, signal.SIGKILL)
    assert closed_unanswered(conn)
    conn.close()
    r = read_response(waiting.makefile("rb"))
    # the kernel may have put it on the killed worker's side already (an
    # accepted connection closes with it) or left it in the backlog
    if r is not None:
        assert r.status == 200 and int(r.body) != victim
    waiting.close()
    r = get(srv, "/pid")
    assert r.status == 200 and int(r.body) not in (victim, 0)
    assert f"Worker {victim} was killed by signal Killed, respawning." in srv.output()
    assert srv.proc.poll() is None


# ---- SIGTERM during a reload ----

APP_V2_BLOCKING_IMPORT = """
import os
with open({gate!r}, "rb") as f:     # the import waits for the test
    f.read()
from hazards import app
"""


def test_sigterm_while_the_new_workers_import(start_server, tmp_path):
    """SIGHUP, then SIGTERM while the new worker is still importing the app
    and an old one has a request in flight: STOPPING=1, no READY=1 after
    it, a SIGHUP meanwhile ignored, the request answered, both workers
    gone on their own (nobody killed), the master exits 0."""
    (tmp_path / "gen.py").write_text("from hazards import app\n")
    srv = start_server("gen:app", ["--chdir", str(tmp_path), "--pythonpath", os.path.dirname(__file__) + "/apps",
                                   "--graceful-timeout", str(WAIT)])
    [old] = booted(srv)
    request = Gate(tmp_path / "request")
    conn = block(srv, request)
    assert request.pid == old

    importing = Gate(tmp_path / "import")
    (tmp_path / "gen.py").write_text(APP_V2_BLOCKING_IMPORT.format(gate=importing.path))
    srv.proc.send_signal(signal.SIGHUP)
    srv.notify.wait_for("RELOADING=1")
    importing.wait_reader(srv)               # the new worker is inside its import
    new = booted(srv)[-1]
    assert new != old

    srv.notify.messages.clear()
    srv.proc.send_signal(signal.SIGTERM)
    srv.notify.wait_for("STOPPING=1")
    srv.proc.send_signal(signal.SIGHUP)      # while stopping: ignored
    importing.release(b"")
    request.release()
    answered_then_closed(conn)
    assert srv.proc.wait(timeout=WAIT) == 0
    assert not any("READY=1" in m.split("\n") or "RELOADING=1" in m.split("\n") for m in srv.notify.messages)
    out = srv.output()
    assert "killing" not in out and "did not stop in time" not in out and "respawning" not in out, out
    assert f"Worker {old} draining." in out and f"Worker {new} draining." in out


def test_sigterm_while_the_old_workers_drain(start_server, tmp_path):
    """SIGHUP completes (READY=1) while an old worker still has a request
    in flight; a new client is served; then SIGTERM: the old worker's
    request is answered and the master exits 0."""
    srv = start_server("hazards:app", ["--graceful-timeout", str(WAIT)])
    [old] = booted(srv)
    request = Gate(tmp_path / "request")
    conn = block(srv, request)
    srv.proc.send_signal(signal.SIGHUP)
    srv.notify.wait_for("RELOADING=1")
    srv.notify.messages.clear()
    srv.notify.wait_for("READY=1")
    new = booted(srv)[-1]
    # (with --threads the old worker may take it, in the moment before it
    # handles its SIGTERM: it is not busy)
    r = get(srv, "/pid")
    assert r.status == 200 and int(r.body) in (new, old)
    srv.proc.send_signal(signal.SIGTERM)
    srv.notify.wait_for("STOPPING=1")
    assert srv.proc.poll() is None           # the old worker's request holds it
    request.release()
    answered_then_closed(conn)
    assert srv.proc.wait(timeout=WAIT) == 0
    out = srv.output()
    assert "killing" not in out and "did not stop in time" not in out and "respawning" not in out, out


@under_wrapper      # the stop within WAIT (30 s): workers under valgrind drain and leak-check slower
def test_sigterm_right_after_sighup_under_load(start_server):
    """Clients looping on keep-alive connections; SIGHUP, and SIGTERM as
    soon as RELOADING=1 is out: test_faults.Load's rules (no request sent
    before the SIGTERM lost, no broken answer), exit 0."""
    srv = start_server("hello:app", ["-w", "2", "--keep-alive", "30"])
    load = Load(srv)
    try:
        load.wait_ok(200)
        srv.proc.send_signal(signal.SIGHUP)
        srv.notify.wait_for("RELOADING=1")
        load.sigterm()
    finally:
        load.finish()
    assert not load.failures, (load.failures[:10], load.ok, load.retried)
    out = srv.output()
    assert "killing" not in out and "did not stop in time" not in out, out
