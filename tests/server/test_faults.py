"""Faults (DESIGN §4.1): an app that ends its worker with os._exit, one
stuck in a loop while other workers serve, and reload and stop under load
with no request in flight failing.  test_lifecycle.py has --timeout's
stack dump and the graceful stop of one blocked request;
test_recycle.py has --max-requests."""
import os
import re
import select
import signal
import socket
import threading
import time

import pytest

from conftest import closed_unanswered, get, line_of, read_response, under_wrapper

WAIT = 30


def closed_without_answer(srv, raw):
    """raw sent on a new connection gets no byte back: EOF or a reset."""
    with srv.connect(timeout=WAIT) as s:
        s.sendall(raw)
        return closed_unanswered(s)


@pytest.mark.parametrize("code", [
    0, 1, 2, 77,
    3, 4,
])
def test_os_exit_in_the_app_replaces_the_worker(start_server, code):
    srv = start_server("faulty:app")
    pid = int(get(srv, "/pid").body)
    assert closed_without_answer(srv, f"GET /exit/{code} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    r = get(srv, "/pid")                   # waits in the backlog for the new worker
    assert r.status == 200 and int(r.body) != pid
    assert f"Worker {pid} exited with status {code}, respawning." in srv.output()
    assert srv.proc.poll() is None


def test_os_exit_with_two_workers_the_other_serves(start_server):
    srv = start_server("faulty:app", ["-w", "2"])
    for _ in range(3):
        assert closed_without_answer(srv, b"GET /exit/1 HTTP/1.1\r\nHost: x\r\n\r\n")
        assert get(srv).status == 200
    # (the last exit may not be reaped yet: the other worker answered)
    assert "exited with status 1, respawning." in srv.output()
    assert srv.proc.poll() is None


@under_wrapper      # --timeout 2: a worker (re)booting under valgrind takes longer and is killed as stuck
def test_stuck_worker_others_serve_then_it_is_replaced(start_server):
    """One of two workers spins in the app: the other answers meanwhile;
    after --timeout the spinning one's stack (both frames) is in the log,
    it is killed and replaced.  One thread per worker (also in the suite's
    --threads run): with more, the spinning worker would answer too."""
    srv = start_server("faulty:app", ["-w", "2", "--timeout", "2", "--threads", "1"])
    spinning = srv.connect(timeout=WAIT)
    spinning.sendall(b"GET /spin HTTP/1.1\r\nHost: x\r\n\r\n")
    # STATUS= says when the request is in the app
    srv.notify.sock.settimeout(WAIT)
    while not any("1 in flight" in m for m in srv.notify.messages):
        srv.notify.messages.append(srv.notify.sock.recv(4096).decode())
    others = {int(get(srv, "/pid").body) for _ in range(5)}
    assert len(others) == 1
    assert closed_unanswered(spinning)     # killed: closed without an answer
    spinning.close()
    # replaced: two workers again, nothing in flight
    srv.notify.messages.clear()
    while not any(line.startswith("STATUS=2 workers") and line.endswith(" 0 in flight")
                  for m in srv.notify.messages for line in m.split("\n")):
        srv.notify.messages.append(srv.notify.sock.recv(4096).decode())
    out = srv.output()
    stuck = int(re.search(r"Worker (\d+) timed out \((no heartbeat|a request inside the app)", out).group(1))
    assert stuck not in others
    loop_line = line_of("faulty.py", "n += 1")
    # the loop's two lines: the dump catches the frame on either
    assert re.search(r'faulty\.py", line (%d|%d) in spin_inner' % (loop_line - 1, loop_line), out), out
    assert 'in spin_outer' in out and 'in app' in out
    assert f"Worker {stuck} (timed out) was killed, respawning." in out
    assert get(srv).status == 200


def test_request_waiting_on_an_idle_keep_alive_connection_at_stop_is_answered(start_server, tmp_path):
    """A request already received on an idle keep-alive connection when
    the worker starts draining is answered (Connection: close), not reset.
    Made deterministic: the only worker is held in the app by another
    request (a FIFO) while the request arrives and SIGTERM is handled."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    # one thread (also in the suite's --threads run): the premise is a worker held in the app
    srv = start_server("lifecycle:app", ["--keep-alive", "30", "--threads", "1"])
    idle = srv.connect(timeout=WAIT)
    idle_f = idle.makefile("rb")
    idle.sendall(b"GET /pid HTTP/1.1\r\nHost: x\r\n\r\n")
    assert read_response(idle_f).status == 200          # now idle, kept alive
    with srv.connect(timeout=WAIT) as busy:
        busy.sendall(f"GET /block?{fifo} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        with open(fifo, "wb") as w:                     # the worker is in the app
            idle.sendall(b"GET /pid HTTP/1.1\r\nHost: x\r\n\r\n")   # queued in its socket
            srv.proc.send_signal(signal.SIGTERM)
            srv.notify.wait_for("STOPPING=1")          # the worker was signalled
            w.write(b"released")
        assert read_response(busy.makefile("rb")).body == b"released"
    try:
        r = read_response(idle_f)
    except ConnectionResetError:
        r = "reset"
    assert r != "reset" and r is not None, f"the waiting request got {r or 'EOF'}"
    assert r.status == 200 and r.header("Connection") == "close"
    idle.close()
    assert srv.proc.wait(timeout=WAIT) == 0


class Load:
    """Client threads, each looping over one keep-alive connection (a new
    one when the server closes it), recording every outcome.

    The rules, against the time `mark` of a signal (RFC 9112 §9.3.1 and
    §9.6): a response that began must be a complete 200; a request sent
    (sendall returned) before the mark must be answered; a reused
    connection that the server closed cleanly before any byte of an
    answer (EOF, the idle keep-alive race: the request crossed the FIN)
    is retried on a new connection; a reset is a failure, except, when
    stopping, on a connection opened after the mark (left in the backlog
    of a server that stopped accepting); so is a refused connection before
    the mark."""

    REQUEST = b"GET /pid HTTP/1.1\r\nHost: x\r\n\r\n"

    def __init__(self, srv, threads=4):
        self.srv = srv
        self.mark = float("inf")       # monotonic time of the signal
        self.stopping = False          # SIGTERM: new connections may then fail
        self.done = threading.Event()
        self.lock = threading.Condition()
        self.ok, self.retried, self.refused, self.failures = 0, 0, 0, []
        self.pids = set()
        self.threads = [threading.Thread(target=self.client, daemon=True) for _ in range(threads)]
        for t in self.threads:
            t.start()

    def fail(self, what):
        with self.lock:
            self.failures.append(what)
            self.lock.notify_all()

    def client(self):
        conn = f = None
        while not self.done.is_set():
            if conn is None:
                try:
                    conn = socket.create_connection(("127.0.0.1", self.srv.port), timeout=WAIT)
                except ConnectionRefusedError:
                    if time.monotonic() < self.mark:
                        self.fail("connection refused before the signal")
                    with self.lock:
                        self.refused += 1
                    return
                opened, reused, f = time.monotonic(), False, conn.makefile("rb")
            try:
                conn.sendall(self.REQUEST)
                sent = time.monotonic()
                r = read_response(f)
            except ConnectionResetError:
                if opened < self.mark or not self.stopping:
                    self.fail(f"reset (connection opened {opened - self.mark:+.3f}s from the signal, "
                              f"reused {reused})")
                conn.close()
                conn = None
                continue
            except BrokenPipeError:
                r = None                       # closed before we wrote: as EOF
                sent = time.monotonic()
            except Exception as e:             # a partial or malformed answer
                self.fail(f"bad response: {e!r}")
                conn.close()
                conn = None
                continue
            if r is None:
                if sent < self.mark or not (reused or self.stopping):
                    self.fail(f"closed without an answer (sent {sent - self.mark:+.3f}s from the signal, "
                              f"reused {reused})")
                with self.lock:
                    self.retried += 1
                conn.close()
                conn = None
                continue
            if r.status != 200:
                self.fail(f"status {r.status}")
            with self.lock:
                self.ok += 1
                self.pids.add(int(r.body))
                self.lock.notify_all()
            reused = True
            if r.header("Connection") == "close":
                conn.close()
                conn = None

    def wait_ok(self, n):
        with self.lock:
            target = self.ok + n
            assert self.lock.wait_for(lambda: self.failures or self.ok >= target, timeout=WAIT), \
                f"only {self.ok} of {target} answers"

    def sigterm(self):
        """SIGTERM to the server under load, marked; it must exit 0."""
        self.stopping = True
        self.mark = time.monotonic()
        self.srv.proc.send_signal(signal.SIGTERM)
        assert self.srv.proc.wait(timeout=WAIT) == 0

    def finish(self):
        self.done.set()
        for t in self.threads:
            t.join(timeout=WAIT)


def worker_pids(srv):
    return [int(line.rsplit(" ", 1)[1]) for line in srv.output().splitlines() if "Booting worker with pid:" in line]


def wait_exited(fds):
    """Waits for processes that are not our children to end (pidfds
    opened while they ran)."""
    try:
        for fd in fds:
            assert select.select([fd], [], [], WAIT)[0], "an old worker did not exit"
    finally:
        for fd in fds:
            os.close(fd)


# --keep-alive 0: a connection per request (gunicorn's sync worker), no
# idle connection when the workers drain
KEEP_ALIVE = [pytest.param("30", id="keep-alive"), pytest.param("0", id="close")]


@pytest.mark.parametrize("keep_alive", KEEP_ALIVE)
def test_reload_under_load_no_failed_request(start_server, keep_alive):
    srv = start_server("hello:app", ["-w", "2", "--keep-alive", keep_alive])
    old = worker_pids(srv)
    old_fds = [os.pidfd_open(pid) for pid in old]      # before they can exit
    load = Load(srv)
    try:
        load.wait_ok(200)
        load.mark = time.monotonic()
        srv.proc.send_signal(signal.SIGHUP)
        srv.notify.wait_for("RELOADING=1")
        srv.notify.messages.clear()
        srv.notify.wait_for("READY=1")
        wait_exited(old_fds)
        load.wait_ok(200)
    finally:
        load.finish()
    assert not load.failures, (load.failures[:10], load.ok, load.retried)
    new = set(worker_pids(srv)) - set(old)
    assert len(new) == 2 and new & load.pids, (new, load.pids)
    assert srv.proc.poll() is None


@under_wrapper      # the stop within WAIT (30 s): workers under valgrind drain and leak-check slower
@pytest.mark.parametrize("keep_alive", KEEP_ALIVE)
def test_stop_under_load_no_failed_request(start_server, keep_alive):
    srv = start_server("hello:app", ["-w", "2", "--keep-alive", keep_alive])
    load = Load(srv)
    try:
        load.wait_ok(200)
        load.sigterm()
    finally:
        load.finish()
    assert not load.failures, (load.failures[:10], load.ok, load.retried)
