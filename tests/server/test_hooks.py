"""Server hooks from a -c config file (hooks.h): called where gunicorn calls
them, with stand-ins for its Arbiter/Worker/Request/Response, and
gunicorn's reaction to an exception in each."""
import json
import signal
import socket
import subprocess

from conftest import APPS, WRAPPER, closed_unanswered, get, unitcorn_binary

# Every hook appends one JSON line to $HOOK_EVENTS: what it was given.
RECORDING_HOOKS = """
import json, os

def record(name, **facts):
    with open(os.environ["HOOK_EVENTS"], "a") as f:
        f.write(json.dumps(dict(hook=name, pid=os.getpid(), **facts)) + "\\n")

def on_starting(server):
    record("on_starting", server_pid=server.pid, workers=server.cfg.workers, bind=server.cfg.bind,
           proc_name=server.proc_name, timeout=server.cfg.timeout)
    server.log.info("on_starting says %s", "hello")

def when_ready(server):
    record("when_ready", address=server.address)

def on_reload(server):
    record("on_reload")

def pre_fork(server, worker):
    record("pre_fork", age=worker.age, worker_pid=worker.pid)

def post_fork(server, worker):
    record("post_fork", age=worker.age, worker_pid=worker.pid, ppid=worker.ppid, server_pid=server.pid)

def post_worker_init(worker):
    import hello
    record("post_worker_init", worker_pid=worker.pid, app_loaded="hello" in __import__("sys").modules)

def pre_request(worker, req):
    record("pre_request", worker_pid=worker.pid, method=req.method, path=req.path, query=req.query,
           uri=req.uri, version=list(req.version), headers=req.headers, scheme=req.scheme)

def post_request(worker, req, environ, resp):
    record("post_request", path=req.path, status=resp.status, status_code=resp.status_code,
           headers=resp.headers, sent=resp.sent, length=resp.response_length,
           path_info=environ.get("PATH_INFO"))

def worker_exit(server, worker):
    record("worker_exit", worker_pid=worker.pid, alive=worker.alive)

def child_exit(server, worker):
    record("child_exit", worker_pid=worker.pid, age=worker.age)

def on_exit(server):
    record("on_exit")
"""


def events(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


def write_conf(tmp_path, text):
    conf = tmp_path / "hooks.conf.py"
    conf.write_text(text)
    return str(conf)


def wait_count(notify, line, n, timeout=60):
    """Waits until `line` was sent in n datagrams."""
    notify.sock.settimeout(timeout)
    while sum(line in m.split("\n") for m in notify.messages) < n:
        notify.messages.append(notify.sock.recv(4096).decode())


def test_hooks_run_in_order_with_their_objects(start_server, tmp_path):
    ev = str(tmp_path / "events")
    conf = write_conf(tmp_path, RECORDING_HOOKS)
    s = start_server("hello:app", args=("-c", conf, "-n", "hooked"), env={"HOOK_EVENTS": ev})
    r = get(s, "/pid?x=1", headers="X-Test: yes\r\n")
    assert r.status == 200
    worker_pid = int(r.body)
    assert s.stop() == 0

    e = events(ev)
    names = [x["hook"] for x in e]
    assert names == ["on_starting", "when_ready", "pre_fork", "post_fork", "post_worker_init",
                     "pre_request", "post_request", "worker_exit", "child_exit", "on_exit"], names
    master = s.proc.pid
    by = {x["hook"]: x for x in e}
    for h in ("on_starting", "when_ready", "pre_fork", "child_exit", "on_exit"):
        assert by[h]["pid"] == master, h               # run in the master
    for h in ("post_fork", "post_worker_init", "pre_request", "post_request", "worker_exit"):
        assert by[h]["pid"] == worker_pid, h           # run in the worker
    assert by["on_starting"]["server_pid"] == master
    # the default --timeout, or the one conftest.wrapped() gives valgrind
    assert by["on_starting"]["workers"] == 1 and by["on_starting"]["timeout"] == (600 if WRAPPER else 30)
    assert by["on_starting"]["proc_name"] == "hooked"
    assert by["when_ready"]["address"] == [f"127.0.0.1:{s.port}"]
    assert by["pre_fork"]["age"] == 1 and by["pre_fork"]["worker_pid"] == "[booting]"
    assert by["post_fork"] == dict(by["post_fork"], age=1, worker_pid=worker_pid, ppid=master, server_pid=master)
    assert by["post_worker_init"]["app_loaded"]
    pre = by["pre_request"]
    assert (pre["method"], pre["path"], pre["query"], pre["uri"], pre["version"], pre["scheme"]) == \
        ("GET", "/pid", "x=1", "/pid?x=1", [1, 1], "http")
    assert ["X-TEST", "yes"] in pre["headers"] and ["HOST", "localhost"] in pre["headers"]
    post = by["post_request"]
    assert post["status"] == "200 OK" and post["status_code"] == 200 and post["path_info"] == "/pid"
    assert post["sent"] == len(r.body) and post["length"] == int(r.header("Content-Length"))
    assert ["Content-Type", "text/plain"] in post["headers"]
    assert by["worker_exit"]["worker_pid"] == worker_pid and by["worker_exit"]["alive"] is False
    assert by["child_exit"]["worker_pid"] == worker_pid and by["child_exit"]["age"] == 1
    assert "on_starting says hello" in s.output()


def test_on_reload_and_worker_ages(start_server, tmp_path):
    ev = str(tmp_path / "events")
    conf = write_conf(tmp_path, RECORDING_HOOKS)
    s = start_server("hello:app", args=("-c", conf, "-w", "2"), env={"HOOK_EVENTS": ev})
    s.proc.send_signal(signal.SIGHUP)
    wait_count(s.notify, "READY=1", 2)
    assert s.stop() == 0
    e = events(ev)
    names = [x["hook"] for x in e]
    assert names.count("on_reload") == 1
    reload_at = names.index("on_reload")
    # ages count forks: 1 and 2 first, 3 and 4 after the reload
    assert sorted(x["age"] for x in e[:reload_at] if x["hook"] == "pre_fork") == [1, 2]
    assert sorted(x["age"] for x in e[reload_at:] if x["hook"] == "pre_fork") == [3, 4]
    assert sorted(x["age"] for x in e if x["hook"] == "child_exit") == [1, 2, 3, 4]


def test_request_hooks_cost_nothing_undefined_and_see_500(start_server, tmp_path):
    """post_request sees our 500 when the app raised."""
    ev = str(tmp_path / "events")
    conf = write_conf(tmp_path, RECORDING_HOOKS)
    s = start_server("hello:app", args=("-c", conf), env={"HOOK_EVENTS": ev})
    assert get(s, "/raise").status == 500
    assert s.stop() == 0
    post = [x for x in events(ev) if x["hook"] == "post_request"]
    assert post[0]["status"] == "500 Internal Server Error" and post[0]["status_code"] == 500


def test_exception_in_pre_request_is_a_500(start_server, tmp_path):
    conf = write_conf(tmp_path, """
def pre_request(worker, req):
    if req.path == "/refused":
        raise ValueError("pre_request refuses " + req.path)
""")
    s = start_server("hello:app", args=("-c", conf))
    assert get(s, "/refused").status == 500
    assert get(s, "/pid").status == 200        # the worker goes on
    out = s.output()
    assert "Exception in the pre_request hook" in out
    assert "ValueError: pre_request refuses /refused" in out


def test_exception_in_post_request_is_logged(start_server, tmp_path):
    conf = write_conf(tmp_path, """
def post_request(worker, req, environ, resp):
    worker.log.info("post_request saw %s", resp.status)
    1 / 0
""")
    s = start_server("hello:app", args=("-c", conf))
    assert get(s, "/pid").status == 200
    assert get(s, "/pid").status == 200
    out = s.output()
    assert "post_request saw 200 OK" in out
    assert "Exception in the post_request hook" in out and "ZeroDivisionError" in out


def test_log_exception_carries_the_traceback(start_server, tmp_path):
    conf = write_conf(tmp_path, """
def when_ready(server):
    try:
        {}["missing"]
    except KeyError:
        server.log.exception("caught %s", "it")
    server.log.warning("plain %(what)s", {"what": "mapping"})
""")
    s = start_server("hello:app", args=("-c", conf))
    out = s.output()
    assert "caught it\nTraceback (most recent call last):" in out and "KeyError: 'missing'" in out
    assert "plain mapping" in out


def run(conf, *args):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return subprocess.run([unitcorn_binary(), "-c", conf, "-b", f"127.0.0.1:{port}", "--chdir", APPS,
                           *args, "hello:app"], capture_output=True, text=True, timeout=60)


def test_exception_in_on_starting_stops_the_server(tmp_path):
    conf = write_conf(tmp_path, "def on_starting(server):\n    raise RuntimeError('no start today')\n")
    r = run(conf)
    assert r.returncode == 1
    assert "Exception in the on_starting hook" in r.stderr and "RuntimeError: no start today" in r.stderr
    assert "Booting worker" not in r.stderr


def test_exception_in_when_ready_stops_the_server(tmp_path):
    pidfile = tmp_path / "pid"
    conf = write_conf(tmp_path, "def when_ready(server):\n    raise RuntimeError('not ready')\n")
    r = run(conf, "-p", str(pidfile))
    assert r.returncode == 1
    assert "Exception in the when_ready hook" in r.stderr and "RuntimeError: not ready" in r.stderr
    assert "Booting worker" not in r.stderr
    assert not pidfile.exists()


def test_exception_in_post_fork_is_a_boot_error(tmp_path):
    conf = write_conf(tmp_path, """
def post_fork(server, worker):
    raise RuntimeError("post_fork broke")
def worker_exit(server, worker):
    worker.log.info("worker_exit ran in %s", worker.pid)
""")
    r = run(conf)
    assert r.returncode == 3       # gunicorn's WORKER_BOOT_ERROR
    assert "Exception in the post_fork hook" in r.stderr and "RuntimeError: post_fork broke" in r.stderr
    assert "failed to boot" in r.stderr
    assert "worker_exit ran in" in r.stderr


def test_exception_in_post_worker_init_is_a_boot_error(tmp_path):
    conf = write_conf(tmp_path, "def post_worker_init(worker):\n    raise RuntimeError('init broke')\n")
    r = run(conf)
    assert r.returncode == 3
    assert "Exception in the post_worker_init hook" in r.stderr


def test_hook_must_be_callable(tmp_path):
    conf = write_conf(tmp_path, "when_ready = 'not a function'\n")
    r = run(conf, "--check-config")
    assert r.returncode == 2
    assert "setting 'when_ready': a callable expected" in r.stderr


def test_worker_abort_on_timeout(start_server, tmp_path):
    """A worker past --timeout: its stack is dumped, then worker_abort runs
    in it (before the master's SIGKILL), then it is replaced."""
    conf = write_conf(tmp_path, """
def worker_abort(worker):
    worker.log.warning("worker_abort ran in %s", worker.pid)
""")
    s = start_server("lifecycle:app", args=("-c", conf, "--timeout", "2"))
    pid = int(get(s, "/pid").body)
    with s.connect(timeout=30) as c:
        c.sendall(b"GET /spin HTTP/1.1\r\nHost: x\r\n\r\n")
        assert closed_unanswered(c)          # the worker was killed
    assert int(get(s, "/pid").body) != pid
    out = s.output()
    dump = out.index(f"Worker {pid} timed out")
    assert out.index(f"worker_abort ran in {pid}") > dump
    assert "while True: pass" in out or 'lifecycle.py", line' in out[dump:]


def test_hooks_with_preload(start_server, tmp_path):
    """--preload: the master imports the app before on_starting (as
    gunicorn's Arbiter.setup()); the worker hooks run as without it."""
    ev = str(tmp_path / "events")
    conf = write_conf(tmp_path, RECORDING_HOOKS)
    s = start_server("hello:app", args=("-c", conf, "--preload"), env={"HOOK_EVENTS": ev})
    assert get(s, "/pid").status == 200
    assert s.stop() == 0
    names = [x["hook"] for x in events(ev)]
    assert names == ["on_starting", "when_ready", "pre_fork", "post_fork", "post_worker_init",
                     "pre_request", "post_request", "worker_exit", "child_exit", "on_exit"], names
    assert s.output().index("Preloading the app") < s.output().index("on_starting says hello")
