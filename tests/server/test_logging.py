"""Logging without a journal: the server's lines on stderr (gunicorn's
format), --log-level, --error-logfile, the access log on stdout and in a
file with gunicorn's atoms, the config file's logging keys.  The journal
side is tests/integration/test_server_journal.py."""
import base64
import os
import re
import socket
import subprocess
import tempfile

from conftest import ACTIVATE, APPS, Notify, get, request, unitcorn_binary

LINE = re.compile(r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}\] \[(\d+)\] \[([A-Z]+)\] (.*)$")
CLF_TIME = r"\[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\]"


def run(*args, cwd=None):
    return subprocess.run([unitcorn_binary(), *args], capture_output=True, text=True, timeout=60, cwd=cwd)


def lines(text):
    """The log lines of text, as (pid, level, message) (a traceback's
    continuation lines are not lines of their own)."""
    return [m.groups() for m in map(LINE.match, text.splitlines()) if m]


class Split:
    """unitcorn socket-activated as conftest's Server, but with stdout and
    stderr in two files: the access log's "-" is stdout, the server's
    messages stderr."""

    def __init__(self, args, app="logapp:app"):
        self.notify = Notify()
        self.out = tempfile.TemporaryFile(mode="w+")
        self.err = tempfile.TemporaryFile(mode="w+")
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        self.port = listener.getsockname()[1]
        fd = listener.fileno()
        env = {k: v for k, v in os.environ.items() if k not in ("LISTEN_FDS", "LISTEN_PID", "JOURNAL_STREAM")}
        env.update(NOTIFY_SOCKET=self.notify.name, LISTEN_FDS="1", PYTHONDONTWRITEBYTECODE="1")
        script = ACTIVATE.format(fd=fd) if fd != 3 else 'export LISTEN_PID=$$; exec "$0" "$@"'
        self.proc = subprocess.Popen(["/bin/bash", "-c", script, unitcorn_binary(), "--chdir", APPS, *args, app],
                                     env=env, pass_fds=(fd,), stdout=self.out, stderr=self.err)
        listener.close()
        try:
            self.notify.wait_for("READY=1")
        except AssertionError:
            self.stop()
            raise AssertionError(self.stderr())

    def connect(self, timeout=30):
        return socket.create_connection(("127.0.0.1", self.port), timeout=timeout)

    def stdout(self):
        self.out.seek(0)
        return self.out.read()

    def stderr(self):
        self.err.seek(0)
        return self.err.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(60)
        self.notify.close()


# ---- the server's own messages ----

def test_stderr_lines_in_gunicorn_format(start_server):
    srv = start_server("logapp:app")
    booted = [m for m in lines(srv.output()) if m[2].startswith("Booting worker with pid: ")]
    assert len(booted) == 1, srv.output()
    pid, level, msg = booted[0]
    assert level == "INFO" and msg == f"Booting worker with pid: {pid}"   # the worker's own pid


def test_stale_journal_stream_means_lines(start_server):
    """$JOURNAL_STREAM naming another stream (inherited, stderr redirected
    since): stderr is not the journal."""
    srv = start_server("logapp:app", env={"JOURNAL_STREAM": "1:2"})
    assert any(m[2].startswith("Booting worker") for m in lines(srv.output()))


def test_app_traceback_is_one_error_message(start_server):
    srv = start_server("logapp:app")
    assert get(srv, "/raise?x=1").status == 500
    out = srv.output()
    errors = [m for m in lines(out) if m[1] == "ERROR"]
    assert [m[2] for m in errors] == ["Error handling request GET /raise?x=1: the application raised"], out
    # the traceback follows that line, without line prefixes of its own
    after = out.split("Error handling request GET /raise?x=1: the application raised\n", 1)[1]
    assert after.startswith("Traceback (most recent call last):\n"), out
    assert "ValueError: logapp failed on purpose" in after.split("\n[", 1)[0]


def test_log_level_warning_hides_info_and_notices(start_server):
    srv = start_server("logapp:app", ["--log-level", "WARNING"])
    assert get(srv, "/raise").status == 500
    out = srv.output()
    assert "Booting worker" not in out
    assert {m[1] for m in lines(out)} == {"ERROR"}, out


def test_log_level_critical_hides_errors(start_server):
    srv = start_server("logapp:app", ["--log-level", "critical"])
    assert get(srv, "/raise").status == 500
    assert get(srv).status == 200
    srv.stop()
    assert "Traceback" not in srv.output() and lines(srv.output()) == []


def test_log_level_debug(start_server):
    srv = start_server("logapp:app", ["--log-level", "debug"])
    assert ("DEBUG", "Error log: stderr; access log: off.") in [m[1:] for m in lines(srv.output())]


def test_log_level_info_is_the_default(start_server):
    srv = start_server("logapp:app")
    levels = {m[1] for m in lines(srv.output())}
    assert "INFO" in levels and "DEBUG" not in levels


def test_bad_log_level():
    r = run("--log-level", "verbose", "logapp:app")
    assert r.returncode == 2
    assert "--log-level: invalid log level 'verbose' (choose from debug, info, warning, error, critical)" in r.stderr


def test_error_logfile(start_server, tmp_path):
    path = tmp_path / "errors.log"
    path.write_text("before\n")
    srv = start_server("logapp:app", ["--error-logfile", str(path)])
    assert get(srv, "/raise").status == 500
    srv.stop()
    text = path.read_text()
    assert text.startswith("before\n")                      # appended
    assert [m[2] for m in lines(text) if m[1] == "ERROR"] == ["Error handling request GET /raise: the application raised"]
    assert "ValueError: logapp failed on purpose" in text
    assert "Booting worker" in text and "Booting worker" not in srv.output()


def test_log_file_alias_and_dash(start_server, tmp_path):
    path = tmp_path / "e.log"
    srv = start_server("logapp:app", ["--log-file", str(path)])
    srv.stop()
    assert "Booting worker" in path.read_text()
    srv = start_server("logapp:app", ["--error-logfile", "-"])
    assert "Booting worker" in srv.output()


def test_error_logfile_unwritable(tmp_path):
    r = run("--error-logfile", str(tmp_path / "no" / "such" / "dir"), "logapp:app")
    assert r.returncode == 1
    assert f"Failed to open error log file '{tmp_path}/no/such/dir': No such file or directory" in r.stderr


def test_python_logging_untouched_without_journal(start_server):
    """No journal: Python's own logging (here its last-resort handler,
    WARNING and up, bare messages on stderr) and wsgi.errors = sys.stderr."""
    srv = start_server("logapp:app")
    assert get(srv, "/log").status == 200
    assert get(srv, "/errors").status == 200
    srv.stop()
    out = srv.output().splitlines()
    assert "logapp warning record 4" in out and "logapp critical record" in out
    assert "logapp info record" not in "\n".join(out)
    assert "logapp to wsgi.errors in three words" in out


# ---- the access log ----

def test_access_log_off_by_default(start_server):
    srv = start_server("logapp:app")
    assert get(srv).status == 200
    srv.stop()
    assert "GET / HTTP/1.1" not in srv.output()


def test_access_log_stdout_default_format():
    srv = Split(["--access-logfile", "-"])
    try:
        r = request(srv, b"GET /a?b=c HTTP/1.1\r\nHost: x\r\nUser-Agent: tester/1.0\r\n"
                         b"Referer: http://ref.example/\r\nConnection: close\r\n\r\n")
        assert r.status == 200
        assert request(srv, b"GET / HTTP/1.0\r\n\r\n").status == 200
    finally:
        srv.stop()
    out = srv.stdout().splitlines()
    assert len(out) == 2, out
    assert re.fullmatch(r'127\.0\.0\.1 - - ' + CLF_TIME + r' "GET /a\?b=c HTTP/1\.1" 200 5 '
                        r'"http://ref\.example/" "tester/1\.0"', out[0]), out[0]
    assert re.fullmatch(r'127\.0\.0\.1 - - ' + CLF_TIME + r' "GET / HTTP/1\.0" 200 5 "-" "-"', out[1]), out[1]
    assert "GET /a" not in srv.stderr()


ALL_ATOMS = ("%(h)s|%(l)s|%(u)s|%(t)s|%(r)s|%(m)s|%(U)s|%(q)s|%(H)s|%(s)s|%(B)s|%(b)s|%(f)s|%(a)s|"
             "%(T)s|%(D)s|%(M)s|%(L)s|%(p)s|%({X-Test}i)s|%({x-out}o)s|%({PATH_INFO}e)s|%({nope}i)s|"
             "%(zz)s|%%|%(P)s")


def access_lines(path, n):
    text = path.read_text()
    out = text.splitlines()
    assert len(out) == n and text.endswith("\n"), text
    return [line.split("|") for line in out]


def test_access_log_file_every_atom(start_server, tmp_path):
    path = tmp_path / "access.log"
    srv = start_server("logapp:app", ["--access-logfile", str(path), "--access-logformat", ALL_ATOMS])
    pid = get(srv, "/pid").body.decode()
    auth = base64.b64encode(b"alice:s3cret:x").decode()
    r = request(srv, ("GET /a%20b%0A?x=1&y=%22 HTTP/1.1\r\nHost: x\r\nAuthorization: Basic " + auth +
                      "\r\nUser-Agent: ua \"quoted\"\r\nReferer: /from\r\nX-Test: t1\r\nX-Test: t2\r\n"
                      "Connection: close\r\n\r\n").encode())
    assert r.status == 200
    assert request(srv, b"HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", head=True).status == 200
    assert get(srv, "/raise").status == 500
    srv.stop()
    first, full, head, error = access_lines(path, 4)
    assert first[18] == f"<{pid}>"                        # p: the worker's pid
    (h, l, u, t, r_, m, U, q, H, s, B, b, f, a, T, D, M, L, p, xi, xo, e, nope, zz, pct, P) = full
    assert (h, l, u) == ("127.0.0.1", "-", "alice")
    assert re.fullmatch(CLF_TIME, t)
    assert r_ == 'GET /a%20b%0A?x=1&y=%22 HTTP/1.1'
    assert (m, U, q, H) == ("GET", "/a b\\x0a", "x=1&y=%22", "HTTP/1.1")   # U decoded, control bytes escaped
    assert (s, B, b) == ("200", "5", "5")
    assert (f, a) == ("/from", 'ua \\"quoted\\"')           # '"' escaped as gunicorn does
    assert T == "0" and int(D) < 10_000_000 and int(M) == int(D) // 1000
    assert re.fullmatch(r"0\.\d{6}", L) and int(L.split(".")[1]) == int(D)
    assert p == f"<{pid}>"
    assert (xi, xo, e) == ("t2", "out-value", "/a b\\x0a")  # the last X-Test, as gunicorn's dict
    assert (nope, zz, pct, P) == ("-", "-", "%", "-")       # unknown atoms: "-"
    assert head[4:5] + head[9:12] == ["HEAD / HTTP/1.1", "200", "0", "0"]
    assert head[2] == "-" and head[12:14] == ["-", "-"]     # no user, referer, agent
    assert error[4] == "GET /raise HTTP/1.1" and error[9:11] == ["500", "0"]


def test_access_log_unix_socket_peer(start_server, tmp_path):
    """No address on a UNIX socket: h is "-"."""
    sock, log = str(tmp_path / "s.sock"), tmp_path / "access.log"
    srv = start_server("logapp:app", ["-b", "unix:" + sock, "--access-logfile", str(log),
                                      "--access-logformat", "%(h)s %(r)s %(s)s"], activate=False)
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(sock)
        s.sendall(b"GET /u HTTP/1.0\r\n\r\n")
        assert s.makefile("rb").readline().startswith(b"HTTP/1.0 200")
    srv.stop()
    assert log.read_text() == "- GET /u HTTP/1.0 200\n"


def test_access_log_file_appends(start_server, tmp_path):
    path = tmp_path / "access.log"
    path.write_text("old line\n")
    srv = start_server("logapp:app", ["-w", "2", "--access-logfile", str(path)])
    for i in range(6):
        assert get(srv, f"/n{i}").status == 200
    srv.stop()
    out = path.read_text().splitlines()
    assert out[0] == "old line" and len(out) == 7
    assert sorted(re.search(r'"GET (/n\d) ', line).group(1) for line in out[1:]) == [f"/n{i}" for i in range(6)]


def test_bad_access_log_format():
    r = run("--access-logfile", "-", "--access-logformat", "%(h)d", "logapp:app")
    assert r.returncode == 1
    assert "--access-logformat: '%(h)d' at offset 0: only the conversion 's' is supported" in r.stderr
    r = run("--access-logfile", "-", "--access-logformat", "%(h)s 100%", "logapp:app")
    assert r.returncode == 1
    assert "--access-logformat: '%' at offset 9 is neither %(NAME)s nor %%." in r.stderr


def test_access_log_unwritable(tmp_path):
    r = run("--access-logfile", str(tmp_path / "missing" / "a.log"), "logapp:app")
    assert r.returncode == 1
    assert "Failed to open access log file" in r.stderr


# ---- config files ----

def test_config_file_logging_keys(start_server, tmp_path):
    conf = tmp_path / "gunicorn.conf.py"
    conf.write_text(f"""
loglevel = "warning"
errorlog = {str(tmp_path / "errors.log")!r}
accesslog = {str(tmp_path / "access.log")!r}
access_log_format = "%(m)s %(U)s %(s)s"
""")
    srv = start_server("logapp:app", ["-c", str(conf)])
    assert get(srv, "/x").status == 200
    assert get(srv, "/raise").status == 500
    srv.stop()
    assert (tmp_path / "access.log").read_text() == "GET /x 200\nGET /raise 500\n"
    errors = (tmp_path / "errors.log").read_text()
    assert "Error handling request GET /raise" in errors and "Booting worker" not in errors


def test_command_line_over_config_file_logging(start_server, tmp_path):
    conf = tmp_path / "gunicorn.conf.py"
    conf.write_text(f'loglevel = "critical"\naccesslog = {str(tmp_path / "a.log")!r}\n')
    srv = start_server("logapp:app", ["-c", str(conf), "--log-level", "info", "--access-logformat", "%(s)s"])
    assert get(srv).status == 200
    srv.stop()
    assert "Booting worker" in srv.output()
    assert (tmp_path / "a.log").read_text() == "200\n"


def test_config_file_bad_loglevel(tmp_path):
    conf = tmp_path / "gunicorn.conf.py"
    conf.write_text('loglevel = "loud"\n')
    r = run("-c", str(conf), "logapp:app")
    assert r.returncode == 2
    assert f"{conf}: setting 'loglevel': invalid log level 'loud'" in r.stderr
    conf.write_text('accesslog = 1\n')
    r = run("-c", str(conf), "logapp:app")
    assert r.returncode == 2
    assert "setting 'accesslog': a string expected" in r.stderr
