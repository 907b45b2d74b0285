"""sd_notify through a NOTIFY_SOCKET of the test's (conftest.Notify):
READY=1 only once every worker imported the app, WATCHDOG=1 never while
the master is stopped, and every datagram (READY, STATUS, RELOADING,
STOPPING) sent by the master, whose pid a reload does not change
(SCM_CREDENTIALS with SO_PASSCRED).  test_lifecycle.py has the rest:
STATUS= figures, WATCHDOG=1 withheld for a hung worker, RELOADING=1 then
READY=1, STOPPING=1."""
import os
import signal
import socket
import time

from conftest import get, poll_until, read_response

WAIT = 30


def lines(m):
    return m.split("\n")


def receive_until(srv, line, timeout=WAIT):
    """(text, pid) of the first datagram with `line` among its lines."""
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        got = srv.notify.receive(left)
        if got and line in lines(got[0]):
            return got
    raise AssertionError(f"no {line} within {timeout}s; got {srv.notify.messages}\n{srv.output()}")


def test_ready_only_after_every_worker_imported(start_server, tmp_path):
    """Two workers whose import blocks on a FIFO: with one released, it
    already answers on the shared socket, and still no READY=1; READY=1
    once the second import is done."""
    gate = tmp_path / "gate"
    os.mkfifo(gate)
    fd = os.open(gate, os.O_RDWR)          # never blocks; the workers' reads do
    try:
        srv = start_server("gated:app", ["-w", "2"], env={"UNITCORN_TEST_GATE": str(gate)}, wait=False)
        os.write(fd, b"1")                 # one import finishes
        r = get(srv)                       # waits in the backlog until that worker accepts
        assert r.status == 200
        early = [text for text, _ in srv.notify.drain()]
        assert not any("READY=1" in lines(m) for m in early), early
        assert srv.proc.poll() is None
        os.write(fd, b"2")                 # the second one
        srv.wait_ready()
    finally:
        os.close(fd)
    assert "2 workers ready." in srv.output()
    assert get(srv).status == 200


def wait_status(srv, text):
    """The first STATUS= line containing text (the master sends one when
    the figures change, at most once a second)."""
    deadline = time.monotonic() + WAIT
    while (left := deadline - time.monotonic()) > 0:
        got = srv.notify.receive(left)
        if got and any(line.startswith("STATUS=") and text in line for line in lines(got[0])):
            return got
    raise AssertionError(f"no STATUS= with {text!r}; got {srv.notify.messages}\n{srv.output()}")


def test_status_follows_requests_and_in_flight_across_workers(start_server, tmp_path):
    """Two requests held in the app by FIFOs, one in each worker: "2 in
    flight"; released: "0 in flight" and the served count moves on."""
    srv = start_server("lifecycle:app", ["-w", "2"], passcred=True)
    for _ in range(2):
        assert get(srv).status == 200
    wait_status(srv, "2 workers, 2 requests served, 0 in flight")
    fifos = [tmp_path / "a", tmp_path / "b"]
    conns = []
    for i, fifo in enumerate(fifos):
        os.mkfifo(fifo)
        c = srv.connect()
        c.sendall(f"GET /block?{fifo} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        conns.append(c)
        # the first worker is in the app before the second request is sent:
        # the other worker, the only one waiting, takes it
        wait_status(srv, f"{i + 1} in flight")
    for fifo in fifos:
        with open(fifo, "wb") as w:
            w.write(b"x")
    for c in conns:
        with c:
            assert read_response(c.makefile("rb")).body == b"x"
    text, pid = wait_status(srv, "2 workers, 4 requests served, 0 in flight")
    assert pid == srv.proc.pid


def test_no_watchdog_while_the_master_is_stopped(start_server):
    srv = start_server("hello:app", env={"WATCHDOG_USEC": "400000"}, passcred=True)
    text, pid = receive_until(srv, "WATCHDOG=1")
    assert pid == srv.proc.pid
    os.kill(srv.proc.pid, signal.SIGSTOP)
    try:
        # the master is our child: waitid() returns once it is stopped
        os.waitid(os.P_PID, srv.proc.pid, os.WSTOPPED | os.WNOWAIT)
        srv.notify.drain()                 # what it sent before stopping
        # five intervals of 0.2 s: nothing while it is stopped
        got = srv.notify.receive(1.0)
        assert got is None, f"{got} from a stopped master"
    finally:
        os.kill(srv.proc.pid, signal.SIGCONT)
    text, pid = receive_until(srv, "WATCHDOG=1")      # and they resume
    assert pid == srv.proc.pid
    assert get(srv).status == 200


def test_watchdog_goes_on_while_a_request_runs_long(start_server, tmp_path):
    """A worker inside the app is --timeout's business: the pings go on
    for several watchdog intervals while a request is held in the app."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    srv = start_server("lifecycle:app", ["--timeout", "0"], env={"WATCHDOG_USEC": "400000"})
    with srv.connect() as s:
        s.sendall(f"GET /block?{fifo} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        with open(fifo, "wb") as w:              # the request is in the app
            srv.notify.drain()
            for _ in range(5):                   # 5 pings at 0.2 s: 2.5 intervals of 0.4 s
                receive_until(srv, "WATCHDOG=1", timeout=5)
            w.write(b"done")
        assert read_response(s.makefile("rb")).body == b"done"
    assert "withholding" not in srv.output()


def test_no_watchdog_without_watchdog_usec(start_server):
    srv = start_server("hello:app", ["-w", "2"])
    assert get(srv).status == 200
    deadline = time.monotonic() + 1.0
    while (left := deadline - time.monotonic()) > 0:
        got = srv.notify.receive(left)
        assert got is None or "WATCHDOG=1" not in lines(got[0]), got


def test_no_watchdog_for_another_pid(start_server):
    """$WATCHDOG_PID names the process meant to ping (sd_watchdog_enabled)."""
    srv = start_server("hello:app", env={"WATCHDOG_USEC": "200000", "WATCHDOG_PID": "1"})
    deadline = time.monotonic() + 1.0
    while (left := deadline - time.monotonic()) > 0:
        got = srv.notify.receive(left)
        assert got is None or "WATCHDOG=1" not in lines(got[0]), got


def test_master_sends_everything_and_keeps_its_pid_across_reload(start_server):
    """READY=1, STATUS=, RELOADING=1, the READY=1 after it and STOPPING=1
    all come from the master's pid (what systemd takes for MAINPID), also
    after a reload replaced every worker; a MAINPID= if sent names it."""
    srv = start_server("hello:app", ["-w", "2"], passcred=True, wait=False)
    master = srv.proc.pid
    receive_until(srv, "READY=1")
    old = {int(get(srv, "/pid").body) for _ in range(4)}
    srv.proc.send_signal(signal.SIGHUP)
    receive_until(srv, "RELOADING=1")
    receive_until(srv, "READY=1")
    assert get(srv).status == 200
    srv.proc.send_signal(signal.SIGTERM)
    receive_until(srv, "STOPPING=1")
    assert srv.proc.wait(timeout=WAIT) == 0
    srv.notify.drain()
    senders = srv.notify.senders
    assert {pid for pid, _ in senders} == {master}, senders
    kinds = [line for _, text in senders for line in lines(text)
             if line in ("READY=1", "RELOADING=1", "STOPPING=1")]
    assert kinds == ["READY=1", "RELOADING=1", "READY=1", "STOPPING=1"], kinds
    assert any(line.startswith("STATUS=") for _, text in senders for line in lines(text))
    for _, text in senders:
        for line in lines(text):
            if line.startswith("MAINPID="):
                assert int(line[len("MAINPID="):]) == master
    booted = [int(line.rsplit(" ", 1)[1]) for line in srv.output().splitlines() if "Booting worker" in line]
    assert len(booted) == 4 and not old & set(booted[2:]), (old, booted)


def fill(sock_path):
    """Fills the receive queue of the datagram socket at sock_path with
    datagrams of our own until the kernel refuses one more."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
        s.connect(sock_path)
        s.setblocking(False)
        n = 0
        try:
            while True:
                s.send(b"X-TEST=filler")
                n += 1
        except BlockingIOError:
            return n


def test_a_manager_that_does_not_read_never_holds_the_master(start_server, tmp_path):
    """$NOTIFY_SOCKET's queue full (a manager that does not read): the
    master drops READY=1 after a bounded wait, says so once, serves, sends
    STATUS= again once there is room, and a SIGTERM with the queue full
    still stops it (exit 0).  A blocking send would hold the master, its
    signals blocked, for good."""
    path = str(tmp_path / "notify")
    manager = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    manager.bind(path)
    assert fill(path) > 0
    srv = start_server("hello:app", env={"NOTIFY_SOCKET": path}, wait=False)
    assert get(srv).status == 200
    warning = "does not read $NOTIFY_SOCKET (its queue is full): READY=1 dropped"
    poll_until("the dropped READY=1 logged", lambda: warning in srv.output(), srv=srv)

    manager.setblocking(False)
    while True:                               # the manager reads again
        try:
            assert manager.recv(4096) == b"X-TEST=filler"
        except BlockingIOError:
            break
    assert get(srv).status == 200
    manager.settimeout(WAIT)
    while "STATUS=1 worker, 2 requests served, 0 in flight" not in lines(manager.recv(4096).decode()):
        pass
    poll_until("the recovery logged", lambda: "reads $NOTIFY_SOCKET again" in srv.output(), srv=srv)

    assert fill(path) > 0
    srv.proc.send_signal(signal.SIGTERM)
    assert srv.proc.wait(timeout=WAIT) == 0
    assert srv.output().count("does not read $NOTIFY_SOCKET") == 2, srv.output()
    manager.close()
