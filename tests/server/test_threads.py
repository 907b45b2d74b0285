"""--threads N (DESIGN §4.1): a pool of Python threads per worker.  That the
requests really run at once is proven by a threading.Barrier(N) in the app
(it breaks, and the request gets a 500, unless N requests are inside at the
same time), never by timing.  The rest of the suite runs again with
--threads 4 (meson test "server-threads", conftest.py)."""
import os
import signal
import socket
import subprocess
import threading
import time

from conftest import (APPS, closed_unanswered, get, line_of, read_response, small_window_client, under_wrapper,
                      unitcorn_binary)

WAIT = 30


def parallel(fn, args):
    """fn(arg) for each arg, each in its own thread; the results in order."""
    results = [None] * len(args)
    errors = []

    def run(i, a):
        try:
            results[i] = fn(a)
        except Exception as e:          # reported below, with the others
            errors.append(e)

    ts = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(args)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(WAIT * 2)
    assert not errors, errors
    return results


def open_writer(path):
    """open(path, "wb") on a FIFO: returns once the app opened it for
    reading, i.e. once that request is in the app; fails (rather than
    hanging) if that does not happen within WAIT."""
    got = []
    t = threading.Thread(target=lambda: got.append(open(path, "wb")), daemon=True)
    t.start()
    t.join(WAIT)
    assert got, f"the request on {path} never reached the app"
    return got[0]


def test_n_requests_run_at_once(start_server):
    srv = start_server("threads:app", ["--threads", "4"], env={"BARRIER_PARTIES": "4"})
    rs = parallel(lambda _: get(srv, "/barrier"), range(4))
    assert [(r.status, r.body) for r in rs] == [(200, b"passed")] * 4, srv.output()
    # and again, on the same threads
    rs = parallel(lambda _: get(srv, "/barrier"), range(4))
    assert [r.status for r in rs] == [200] * 4


def test_a_blocked_request_does_not_hold_up_the_others(start_server):
    srv = start_server("threads:app", ["--threads", "2"])
    with srv.connect(timeout=WAIT) as s:
        s.sendall(b"GET /wait HTTP/1.1\r\nHost: x\r\n\r\n")
        # served by the second thread while the first waits for it
        assert get(srv, "/release").body == b"set"
        assert read_response(s.makefile("rb")).body == b"released"


def test_one_thread_is_one_request_at_a_time(start_server):
    """--threads 1 (the default) stays the synchronous worker: a second
    request waits for the first, so a Barrier(2) breaks."""
    srv = start_server("threads:app", ["--threads", "1"],
                       env={"BARRIER_PARTIES": "2", "BARRIER_TIMEOUT": "0.5"})
    with srv.connect(timeout=WAIT) as s:
        s.sendall(b"GET /barrier HTTP/1.1\r\nHost: x\r\n\r\n")
        r = read_response(s.makefile("rb"))
    assert r.status == 500
    assert "BrokenBarrierError" in srv.output()


def test_wsgi_multithread(start_server):
    threaded = start_server("threads:app", ["--threads", "3"])
    assert get(threaded, "/multithread").body == b"True"
    assert "Using worker: gthread" in threaded.output()     # gunicorn's words
    plain = start_server("threads:app", ["--threads", "1"])
    assert get(plain, "/multithread").body == b"False"
    assert "Using worker: sync" in plain.output()


def test_keep_alive_and_pipelining_in_order(start_server):
    srv = start_server("threads:app", ["--threads", "4", "--keep-alive", "30"])
    with srv.connect(timeout=WAIT) as s:
        f = s.makefile("rb")
        paths = [f"/p{i}" for i in range(20)]
        s.sendall(b"".join(f"GET {p} HTTP/1.1\r\nHost: x\r\n\r\n".encode() for p in paths))
        bodies = [read_response(f).body.decode() for _ in paths]
        assert bodies == paths
        # the connection stays usable after its pipeline
        s.sendall(b"GET /again HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_response(f).body == b"/again"
        s.sendall(b"GET /calls HTTP/1.1\r\nHost: x\r\n\r\n")
        calls = read_response(f).body.decode().split()
    # the app saw them in order too: one connection is in one thread at a time
    assert calls[-22:] == paths + ["/again", "/calls"]


def test_keep_alive_connections_share_the_threads(start_server):
    """More keep-alive connections than threads, each with several
    requests: all answered, each connection's in order."""
    srv = start_server("threads:app", ["--threads", "2", "--keep-alive", "30"])

    def client(n):
        with srv.connect(timeout=WAIT) as s:
            f = s.makefile("rb")
            got = []
            for i in range(10):
                s.sendall(f"GET /c{n}-{i} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
                got.append(read_response(f).body.decode())
            return got

    results = parallel(client, range(6))
    assert results == [[f"/c{n}-{i}" for i in range(10)] for n in range(6)]


def test_streamed_body_from_threads(start_server):
    """Bodies over the output high-water mark, written by threads while
    other threads run the app."""
    srv = start_server("threads:app", ["--threads", "3"])
    rs = parallel(lambda _: get(srv, "/stream"), range(6))
    want = b"".join(bytes([i]) * 65536 for i in range(16))
    assert all(r.status == 200 and r.body == want for r in rs)


@under_wrapper      # --timeout 2: a worker (re)booting under valgrind takes longer and is killed as stuck
def test_stuck_thread_times_out_with_its_traceback(start_server):
    """A request stuck in the app longer than --timeout: the loop goes on
    beating (the other thread still serves meanwhile), but the worker is
    dumped (every thread's stack) and replaced."""
    srv = start_server("threads:app", ["--threads", "2", "--timeout", "2"])
    pid = int(get(srv, "/pid").body)
    with srv.connect(timeout=WAIT) as s:
        s.sendall(b"GET /spin HTTP/1.1\r\nHost: x\r\n\r\n")
        # the other thread answers while one spins
        assert int(get(srv, "/pid").body) == pid
        assert closed_unanswered(s)          # the worker was killed
    r = get(srv, "/pid")
    assert r.status == 200 and int(r.body) != pid
    out = srv.output()
    assert f"Worker {pid} timed out (a request inside the app for more than 2 s)" in out
    line = line_of("threads.py", "while True: pass")
    assert f'threads.py", line {line} in app' in out, out


def slow_reader(srv, path, n=1):
    """A connection that asks for path (n times, pipelined) and then reads
    nothing."""
    s = small_window_client(srv.port, timeout=WAIT)
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode() * n)
    return s


def wait_status(srv, pred):
    """Waits for a STATUS= datagram whose text satisfies pred."""
    deadline = time.monotonic() + WAIT
    while True:
        for m in srv.notify.messages:
            for line in m.split("\n"):
                if line.startswith("STATUS=") and pred(line):
                    return line
        left = deadline - time.monotonic()
        assert left > 0, f"no such STATUS= within {WAIT}s; got {srv.notify.messages}"
        srv.notify.sock.settimeout(left)
        try:
            srv.notify.messages.append(srv.notify.sock.recv(4096).decode())
        except socket.timeout:
            pass


@under_wrapper      # --timeout 1: a worker (re)booting under valgrind takes longer and is killed as stuck
def test_a_slow_reader_is_not_a_stuck_app(start_server):
    """A thread waiting for a client to read its response is not inside the
    app: --timeout leaves the worker alone (--header-timeout is what bounds
    that wait), and the other thread serves meanwhile."""
    srv = start_server("threads:app", ["--threads", "2", "--timeout", "1"])
    pid = int(get(srv, "/pid").body)
    with slow_reader(srv, "/big") as s:
        # a window in which nothing must happen: well past --timeout
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            assert int(get(srv, "/pid").body) == pid
            srv.notify.sock.settimeout(0.2)
            try:
                srv.notify.messages.append(srv.notify.sock.recv(4096).decode())
            except socket.timeout:
                pass
        f = s.makefile("rb")
        r = read_response(f)
        assert r.status == 200 and len(r.body) == 32 * 1024 * 1024
    assert "timed out" not in srv.output()


def test_header_timeout_bounds_a_slow_reader(start_server):
    """Writing a response after the app returned: --header-timeout without
    progress, then the thread gives the client up (the connection is closed
    mid-response) and is free again.  Pipelined requests fill the socket
    buffers first."""
    srv = start_server("threads:app", ["--threads", "2", "--header-timeout", "1", "--keep-alive", "30"])
    n = 80
    with slow_reader(srv, "/medium", n) as s:
        wait_status(srv, lambda line: " 0 requests served" not in line and line.endswith(" 0 in flight"))
        got = 0
        try:
            while chunk := s.recv(1 << 20):
                got += len(chunk)
        except ConnectionResetError:
            pass
        assert got < n * 200 * 1024, "every response was written"
    assert get(srv, "/pid").status == 200


def test_sigterm_drains_the_requests_in_flight(start_server, tmp_path):
    fifos = [tmp_path / f"fifo{i}" for i in range(3)]
    for p in fifos:
        os.mkfifo(p)
    srv = start_server("threads:app", ["--threads", "3", "--keep-alive", "30"])
    conns = [srv.connect(timeout=WAIT) for _ in fifos]
    writers = []
    for s, p in zip(conns, fifos):
        s.sendall(f"GET /fifo?{p} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        writers.append(open_writer(p))          # 3 in the app at once
    srv.notify.wait_for("STATUS=1 worker, 0 requests served, 3 in flight")
    srv.proc.send_signal(signal.SIGTERM)
    srv.notify.wait_for("STOPPING=1")
    for i, w in enumerate(writers):
        w.write(f"body{i}".encode())
        w.close()
    for i, s in enumerate(conns):
        f = s.makefile("rb")
        r = read_response(f)
        assert r.status == 200 and r.body == f"body{i}".encode()
        assert f.read() == b""                  # closed after it: draining
        s.close()
    assert srv.proc.wait(timeout=WAIT) == 0
    assert "Worker exiting" in srv.output()


def test_max_requests_with_threads(start_server):
    srv = start_server("threads:app", ["--threads", "2", "--max-requests", "3"])
    served = [int(get(srv, "/pid").body) for _ in range(7)]
    assert served[0] == served[1] == served[2] != served[3], served
    assert served[3] == served[4] == served[5] != served[6], served
    out = srv.output()
    assert out.count("exited after --max-requests") == 2, out
    assert "respawning" not in out


def test_bad_threads_option():
    r = subprocess.run([unitcorn_binary(), "--threads", "0", "--chdir", APPS, "hello:app"],
                       capture_output=True, text=True, timeout=WAIT)
    assert r.returncode == 2 and "--threads" in r.stderr and "'0'" in r.stderr, r.stderr


def write_conf(tmp_path, text):
    p = tmp_path / "gunicorn.conf.py"
    p.write_text(text)
    return str(p)


def test_config_file_threads(start_server, tmp_path):
    """threads = 3 with worker_class 'sync' is gthread (as in gunicorn):
    three requests in the app at once."""
    conf = write_conf(tmp_path, "threads = 3\nworker_class = 'sync'\n")
    srv = start_server("threads:app", ["-c", conf], env={"BARRIER_PARTIES": "3"})
    assert get(srv, "/multithread").body == b"True"
    rs = parallel(lambda _: get(srv, "/barrier"), range(3))
    assert [r.status for r in rs] == [200] * 3, srv.output()


def test_command_line_threads_over_the_file(start_server, tmp_path):
    conf = write_conf(tmp_path, "threads = 3\n")
    srv = start_server("threads:app", ["-c", conf, "--threads", "1"])
    assert get(srv, "/multithread").body == b"False"


def test_config_file_gevent_is_threaded(start_server, tmp_path):
    conf = write_conf(tmp_path, "threads = 2\nworker_class = 'gevent'\n")
    srv = start_server("threads:app", ["-c", conf])
    assert get(srv, "/multithread").body == b"True"
    assert "worker_class 'gevent' is served by unitcorn's threaded worker" in srv.output()


def test_deployment_config_with_one_thread(start_server, tmp_path):
    """The issue's deployment config (threads = 1, worker_class 'gevent')
    loads and runs: one thread, with the notice."""
    with open(os.path.join(os.path.dirname(__file__), "configs", "deployment.py")) as f:
        text = f.read().replace("127.0.0.1:5000", "127.0.0.1:0")
    # its relative pid file and logs: in a directory of this test's, not in
    # the apps directory that parallel runs share
    for name in ("./app.pid", "./error.log", "./debug.log"):
        text = text.replace(name, str(tmp_path / name[2:]))
    conf = write_conf(tmp_path, text)
    srv = start_server("threads:app", ["-c", conf], env={"UNITCORN_TEST_THREADS": ""})
    assert get(srv, "/multithread").body == b"False"
    assert "worker_class 'gevent'" in srv.output()
    assert "Booting worker with pid" in (tmp_path / "error.log").read_text()


def test_bad_threads_in_config_file(tmp_path):
    conf = write_conf(tmp_path, "threads = 0\n")
    r = subprocess.run([unitcorn_binary(), "-c", conf, "--check-config", "--chdir", APPS, "hello:app"],
                       capture_output=True, text=True, timeout=WAIT)
    assert r.returncode != 0 and "threads" in r.stderr, r.stderr


def test_sigint_stops_after_the_requests_running(start_server, tmp_path):
    """SIGINT: the worker stops accepting at once, lets its threads finish
    the requests they run (within the master's 1 s), and exits."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    srv = start_server("threads:app", ["--threads", "2"])
    with srv.connect(timeout=WAIT) as s:
        s.sendall(f"GET /fifo?{fifo} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        with open_writer(fifo) as w:
            srv.proc.send_signal(signal.SIGINT)
            srv.notify.wait_for("STOPPING=1")
            w.write(b"finished")
        r = read_response(s.makefile("rb"))
        assert r.status == 200 and r.body == b"finished"
    assert srv.proc.wait(timeout=WAIT) == 0
    assert "did not stop in time" not in srv.output()
