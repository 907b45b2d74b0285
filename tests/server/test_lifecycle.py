"""The master's process management (DESIGN §4.1): live STATUS=, WATCHDOG=1,
--timeout (stack dump, then a new worker), SIGHUP reload without a failed
request, SIGTERM draining.  Every wait is for an event (a datagram, a
response, a FIFO's other end, the process's exit); the only bounded
windows are where a test checks that something does *not* happen."""
import os
import select
import signal
import socket
import threading
import time

from conftest import closed_unanswered, get, line_of, read_response

WAIT = 30


def recv_until(srv, pred, timeout=WAIT):
    """Receives datagrams until pred(message) holds for one of them, returns it."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"no such datagram within {timeout}s; got {srv.notify.messages}\n{srv.output()}")
        srv.notify.sock.settimeout(left)
        try:
            m = srv.notify.sock.recv(4096).decode()
        except socket.timeout:
            continue
        srv.notify.messages.append(m)
        if pred(m):
            return m


def lines(m):
    return m.split("\n")


def test_status_live_figures(start_server):
    srv = start_server("hello:app", ["-w", "2"])
    for _ in range(3):
        assert get(srv).status == 200
    recv_until(srv, lambda m: "STATUS=2 workers, 3 requests served, 0 in flight" in lines(m))


def test_status_in_flight_and_graceful_stop(start_server, tmp_path):
    """SIGTERM while a request is in the app: STOPPING=1, the request
    completes, the master exits 0."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    srv = start_server("lifecycle:app", ["--keep-alive", "30"])
    idle = srv.connect()                    # a keep-alive connection, idle at SIGTERM
    idle.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    idle_f = idle.makefile("rb")
    assert read_response(idle_f).body == b"hello"

    with srv.connect() as s:
        s.sendall(f"GET /block?{fifo} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        with open(fifo, "wb") as w:          # returns once the app opened it
            recv_until(srv, lambda m: "STATUS=1 worker, 1 request served, 1 in flight" in lines(m))
            srv.proc.send_signal(signal.SIGTERM)
            # STOPPING=1 is sent after the workers were signalled
            recv_until(srv, lambda m: "STOPPING=1" in lines(m))
            w.write(b"released")
        r = read_response(s.makefile("rb"))
        assert r.status == 200 and r.body == b"released"
        # the worker knew it would close the connection when it sent the head
        assert r.header("Connection") == "close"
    assert idle_f.read() == b""              # the idle connection was closed
    idle.close()
    assert srv.proc.wait(timeout=WAIT) == 0
    assert "Worker exiting" in srv.output()


def test_graceful_timeout_kills_a_stuck_request(start_server, tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    srv = start_server("lifecycle:app", ["--graceful-timeout", "1", "--timeout", "0"])
    with srv.connect() as s:
        s.sendall(f"GET /block?{fifo} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        with open(fifo, "wb"):               # the app is in, and never released
            srv.proc.send_signal(signal.SIGTERM)
            assert srv.proc.wait(timeout=WAIT) == 0
    assert "did not stop in time" in srv.output()


def test_timeout_dumps_stack_and_replaces_worker(start_server):
    srv = start_server("lifecycle:app", ["--timeout", "2"])
    pid = int(get(srv, "/pid").body)
    with srv.connect(timeout=WAIT) as s:
        s.sendall(b"GET /spin HTTP/1.1\r\nHost: x\r\n\r\n")
        assert closed_unanswered(s)          # the worker was killed
    r = get(srv, "/pid")
    assert r.status == 200 and int(r.body) != pid
    out = srv.output()
    assert f"Worker {pid} timed out" in out
    line = line_of("lifecycle.py", "while True: pass")
    assert f'lifecycle.py", line {line} in app' in out, out


def test_watchdog_pings_while_healthy(start_server):
    srv = start_server("hello:app", env={"WATCHDOG_USEC": "1000000"})
    recv_until(srv, lambda m: m == "WATCHDOG=1")
    pid = int(get(srv, "/pid").body)
    # a worker whose loop does not run (not in the app): the pings stop
    os.kill(pid, signal.SIGSTOP)
    try:
        stopped = time.monotonic()
        last = stopped
        srv.notify.sock.settimeout(0.5)
        while time.monotonic() - stopped < 3:
            try:
                m = srv.notify.sock.recv(4096).decode()
            except socket.timeout:
                continue
            srv.notify.messages.append(m)
            if m == "WATCHDOG=1":
                last = time.monotonic()
        # the worker beat < 0.25 s before SIGSTOP; the ping after 1 s of
        # silence, and every later one, is withheld
        assert last - stopped < 1.6, f"WATCHDOG=1 {last - stopped:.2f}s after SIGSTOP"
    finally:
        os.kill(pid, signal.SIGCONT)
    recv_until(srv, lambda m: m == "WATCHDOG=1")
    assert "withholding WATCHDOG=1" in srv.output()
    assert get(srv).status == 200


APP_V = """
def app(environ, start_response):
    body = b"{version}"
    start_response("200 OK", [("Content-Length", str(len(body)))])
    return [body]
"""


def booted_pids(srv):
    return [int(line.rsplit(" ", 1)[1]) for line in srv.output().splitlines()
            if "Booting worker with pid:" in line]


def wait_exited(fds, timeout=WAIT):
    """Waits for processes that are not our children to end (pidfds)."""
    try:
        for fd in fds:
            assert select.select([fd], [], [], timeout)[0], "an old worker did not exit"
    finally:
        for fd in fds:
            os.close(fd)


def test_sighup_reload_serves_new_code_without_failures(start_server, tmp_path):
    (tmp_path / "versioned.py").write_text(APP_V.format(version="v1"))
    srv = start_server("versioned:app", ["-w", "2", "--chdir", str(tmp_path)])
    old = booted_pids(srv)
    assert len(old) == 2
    old_fds = [os.pidfd_open(pid) for pid in old]   # before they can exit
    seen, errors = [], []
    cond = threading.Condition()
    done = threading.Event()

    def client():
        while not done.is_set():
            try:
                r = get(srv)
                result = r.body if r is not None and r.status == 200 else None
                if result is None:
                    errors.append(r and r.status)
            except OSError as e:
                errors.append(repr(e))
            with cond:
                if not errors:
                    seen.append(result)
                cond.notify_all()

    def wait_seen(pred):
        with cond:
            assert cond.wait_for(lambda: errors or pred(), timeout=WAIT), seen[-5:]

    t = threading.Thread(target=client)
    t.start()
    try:
        wait_seen(lambda: len(seen) >= 20)
        (tmp_path / "versioned.py").write_text(APP_V.format(version="v2-changed"))
        srv.proc.send_signal(signal.SIGHUP)
        m = recv_until(srv, lambda m: "RELOADING=1" in lines(m))
        assert any(line.startswith("MONOTONIC_USEC=") for line in lines(m))
        recv_until(srv, lambda m: "READY=1" in lines(m))
        wait_exited(old_fds)                 # the old workers drained and exited
        wait_seen(lambda: seen.count(b"v2-changed") >= 20)
    finally:
        done.set()
        t.join()
    assert not errors, errors
    assert seen[0] == b"v1" and seen[-1] == b"v2-changed"
    assert srv.output().count("Worker exiting") == 2
    assert srv.proc.poll() is None


def test_reload_with_broken_code_keeps_old_workers(start_server, tmp_path):
    (tmp_path / "versioned.py").write_text(APP_V.format(version="v1"))
    srv = start_server("versioned:app", ["--chdir", str(tmp_path)])
    (tmp_path / "versioned.py").write_text("raise RuntimeError('broken on reload')\n")
    srv.proc.send_signal(signal.SIGHUP)
    recv_until(srv, lambda m: "RELOADING=1" in lines(m))
    m = recv_until(srv, lambda m: "READY=1" in lines(m))
    assert "reload failed" in m
    assert get(srv).body == b"v1"
    assert srv.proc.poll() is None
