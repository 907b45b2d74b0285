"""-c FILE: gunicorn Python config files, run in the embedded interpreter,
with the command line overriding them."""
import os
import socket
import subprocess

from conftest import APPS, HERE, START_TIMEOUT, get, request, unitcorn_binary

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


def test_real_deployment_config(start_server, tmp_path):
    """The issue's config, on a free port: binds from the file, serves, and
    says what it does with gevent and the settings it does not implement."""
    port = free_port()
    with open(os.path.join(CONFIGS, "deployment.py")) as f:
        text = f.read().replace("127.0.0.1:5000", f"127.0.0.1:{port}")
    conf = write(tmp_path, text)
    s = start_server("hello:app", args=("-c", conf), activate=False)
    s.port = port
    r = request(s, KEEP_ALIVE_GET)
    assert r.status == 200
    assert r.header("Connection") != "close"      # keepalive = 75: kept alive
    out = s.output()
    assert "worker_class 'gevent'" in out
    for name in ("pidfile", "loglevel", "logfile", "errorlog", "proc_name"):
        assert f"'{name}'" in out, name


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
""")
    r = run("--check-config", "-c", conf, "flaskapp:app", cwd="/")
    assert r.returncode == 0, r.stderr
    assert "'post_fork'" in r.stderr and "not run" in r.stderr
    assert "some_helper_variable" not in r.stderr


def test_check_config_bad_value(tmp_path):
    conf = write(tmp_path, "workers = 'many'\n")
    r = run("--check-config", "-c", conf, "--chdir", APPS, "hello:app")
    assert r.returncode != 0 and "workers" in r.stderr


def test_relative_config_path(tmp_path):
    write(tmp_path, "workers = 2\n", name="my.conf.py")
    r = run("--check-config", "-c", "my.conf.py", "--chdir", APPS, "hello:app", cwd=str(tmp_path))
    assert r.returncode == 0, r.stderr
