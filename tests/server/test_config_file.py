"""-c FILE: gunicorn Python config files, run in the embedded interpreter,
with the command line overriding them."""
import json
import os
import socket
import subprocess

from conftest import (APPS, HERE, START_TIMEOUT, Notify, check_sanitizers, get, read_response, request,
                      under_wrapper, unitcorn_binary)

KEEP_ALIVE_GET = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"

CONFIGS = os.path.join(HERE, "configs")


def run(*args, cwd=None):
    return subprocess.run([unitcorn_binary(), *args], capture_output=True, text=True, timeout=60, cwd=cwd)


def write(tmp_path, text, name="gunicorn.conf.py"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_status(server, prefix, timeout=START_TIMEOUT):
    """Waits for a STATUS= line starting with prefix (sent once a second
    at most, when the figures change)."""
    server.notify.sock.settimeout(timeout)
    while True:
        for m in server.notify.messages:
            if any(line.startswith("STATUS=" + prefix) for line in m.split("\n")):
                return
        try:
            server.notify.messages.append(server.notify.sock.recv(4096).decode())
        except socket.timeout:
            raise AssertionError(f"no STATUS={prefix}… within {timeout}s; got {server.notify.messages}")


@under_wrapper      # /proc/PID/cmdline: valgrind's process has its own
def test_real_deployment_config(start_server, tmp_path):
    """The issue's config, on a free port and with its pid file in a
    temporary directory: binds from the file, serves, writes the pid file
    and the process titles, says what it does with gevent and with
    'logfile' (not a gunicorn setting); its errorlog (relative: after
    --chdir) gets the messages at debug level."""
    port = free_port()
    pidfile = tmp_path / "app.pid"
    with open(os.path.join(CONFIGS, "deployment.py")) as f:
        text = f.read().replace("127.0.0.1:5000", f"127.0.0.1:{port}").replace("./app.pid", str(pidfile))
    conf = write(tmp_path, text)
    s = start_server("hello:app", args=("-c", conf, "--chdir", str(tmp_path), "--pythonpath", APPS),
                     activate=False)
    s.port = port
    r = request(s, KEEP_ALIVE_GET)
    assert r.status == 200
    assert r.header("Connection") != "close"      # keepalive = 75: kept alive
    assert pidfile.read_text() == f"{s.proc.pid}\n"
    with open(f"/proc/{s.proc.pid}/cmdline", "rb") as f:
        assert f.read().rstrip(b"\0") == b"unitcorn: master [app]"
    out = s.output()
    # said while the file is read, before errorlog applies: on stderr
    assert "worker_class 'gevent'" in out
    assert "'logfile'" in out
    errors = (tmp_path / "error.log").read_text()
    assert "[DEBUG] Error log: ./error.log" in errors
    assert "[INFO] Booting worker with pid:" in errors
    assert "Booting worker" not in out
    assert s.stop() == 0
    assert not pidfile.exists()


def test_command_line_overrides_file(start_server, tmp_path):
    conf = write(tmp_path, "workers = 1\nkeepalive = 0\n")
    s = start_server("hello:app", args=("-c", conf, "-w", "2"))
    wait_status(s, "2 workers")
    assert request(s, KEEP_ALIVE_GET).header("Connection") == "close"  # the file's keepalive = 0 applies


def test_file_overrides_web_concurrency(start_server, tmp_path):
    conf = write(tmp_path, "workers = 2\n")
    s = start_server("hello:app", args=("--config", conf), env={"WEB_CONCURRENCY": "3"})
    wait_status(s, "2 workers")


def test_command_line_bind_replaces_file_bind(start_server, tmp_path):
    port = free_port()
    conf = write(tmp_path, "bind = ['127.0.0.1:1', 'unix:/nonexistent/dir/sock']\n")
    s = start_server("hello:app", args=("-c", conf, "-b", f"127.0.0.1:{port}"), activate=False)
    s.port = port
    assert get(s).status == 200


def test_uvicorn_worker_is_an_error(tmp_path):
    conf = write(tmp_path, "worker_class = 'uvicorn.workers.UvicornWorker'\n")
    r = run("-c", conf, "--chdir", APPS, "hello:app")
    assert r.returncode != 0
    assert "uvicorn.workers.UvicornWorker" in r.stderr


def test_syntax_error_names_file_and_line(tmp_path):
    conf = write(tmp_path, "workers = 2\n\nbind = '127.0.0.1:8000\n")
    r = run("-c", conf, "--chdir", APPS, "hello:app")
    assert r.returncode != 0
    assert f"{conf}:3:" in r.stderr


def test_exception_in_file(tmp_path):
    conf = write(tmp_path, "import nonexistent_module_xyz\n")
    r = run("--check-config", "-c", conf, "--chdir", APPS, "hello:app")
    assert r.returncode != 0
    assert "nonexistent_module_xyz" in r.stderr and conf in r.stderr


def test_missing_file(tmp_path):
    r = run("-c", str(tmp_path / "nope.py"), "--chdir", APPS, "hello:app")
    assert r.returncode != 0 and "nope.py" in r.stderr


def test_check_config_with_file(tmp_path):
    """Settings from the file count: chdir and pythonpath (a list) find the
    app; hooks get a notice; other names are ignored (threads: test_threads.py)."""
    conf = write(tmp_path, f"""
import os
chdir = {str(tmp_path)!r}
pythonpath = [{APPS!r}]
threads = 4
worker_class = 'gthread'
preload_app = True
some_helper_variable = object()
def post_fork(server, worker):
    pass
def worker_int(worker):
    pass
""")
    r = run("--check-config", "-c", conf, "flaskapp:app", cwd="/")
    assert r.returncode == 0, r.stderr
    assert "'post_fork'" not in r.stderr
    assert "'worker_int' is accepted but never called" in r.stderr
    assert "some_helper_variable" not in r.stderr


def test_check_config_bad_value(tmp_path):
    conf = write(tmp_path, "workers = 'many'\n")
    r = run("--check-config", "-c", conf, "--chdir", APPS, "hello:app")
    assert r.returncode != 0 and "workers" in r.stderr


def test_relative_config_path(tmp_path):
    write(tmp_path, "workers = 2\n", name="my.conf.py")
    r = run("--check-config", "-c", "my.conf.py", "--chdir", APPS, "hello:app", cwd=str(tmp_path))
    assert r.returncode == 0, r.stderr


def test_default_config_file_in_working_directory(tmp_path):
    """No -c: gunicorn reads ./gunicorn.conf.py (of the directory it is
    started in, before --chdir) when there is one."""
    write(tmp_path, "workers = 3\nproc_name = 'from-default'\n")
    r = run("--print-config", "--chdir", APPS, "hello:app", cwd=str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert "\nworkers                  = 3\n" in r.stdout
    assert "proc_name                = from-default" in r.stdout
    assert "config                   = gunicorn.conf.py" in r.stdout
    # -c names another file: the default one is not read
    other = write(tmp_path, "workers = 4\n", name="other.py")
    r = run("--print-config", "-c", other, "--chdir", APPS, "hello:app", cwd=str(tmp_path))
    assert "\nworkers                  = 4\n" in r.stdout and "from-default" not in r.stdout


def test_no_default_config_file(tmp_path):
    r = run("--print-config", "--chdir", APPS, "hello:app", cwd=str(tmp_path))
    assert r.returncode == 0 and "\nworkers                  = 1\n" in r.stdout


def test_wsgi_app_from_the_file(tmp_path):
    """The file's wsgi_app when the command line has no app spec; sys.argv
    is then that app spec alone."""
    port = free_port()
    conf = write(tmp_path, f"wsgi_app = 'argv:app'\nbind = '127.0.0.1:{port}'\nchdir = {APPS!r}\n")
    notify = Notify()
    env = dict(os.environ, NOTIFY_SOCKET=notify.name)
    for k in ("LISTEN_FDS", "LISTEN_PID", "WEB_CONCURRENCY"):
        env.pop(k, None)
    proc = subprocess.Popen([unitcorn_binary(), "-c", conf], env=env, stderr=subprocess.PIPE, text=True)
    try:
        notify.wait_for("READY=1")
        with socket.create_connection(("127.0.0.1", port), timeout=30) as c:
            c.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            r = read_response(c.makefile("rb"))
        assert json.loads(r.body) == ["argv:app"]
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=60)
        notify.close()
    assert proc.returncode == 0, err
    check_sanitizers(err)


def test_command_line_app_over_wsgi_app(tmp_path):
    conf = write(tmp_path, "wsgi_app = 'nonexistent_module_xyz:app'\n")
    r = run("--check-config", "-c", conf, "--chdir", APPS, "hello:app")
    assert r.returncode == 0, r.stderr
    r = run("--check-config", "-c", conf, "--chdir", APPS)
    assert r.returncode == 1 and "nonexistent_module_xyz" in r.stderr
