"""Fixtures for the server tests: start the built unitcorn ($UNITCORN) and
wait until it says it is ready, never a fixed sleep.

By default the listening socket is created here and handed over with
systemd's socket-activation protocol (fd 3, LISTEN_FDS=1, LISTEN_PID set to
the server's own pid by a bash that then execs it), so every test also
exercises socket activation.  Readiness is the READY=1 datagram on a
NOTIFY_SOCKET this fixture listens on.

$UNITCORN_TEST_THREADS=N puts --threads N in front of every server's
arguments (a test's own --threads comes later and wins; a test about a
config file's threads passes env={"UNITCORN_TEST_THREADS": ""}): meson
runs the whole suite a second time that way (test "server-threads").

$UNITCORN_TEST_WRAPPER, a command prefix (shell words), runs every server
under it: tests/valgrind/run sets it to valgrind.  The server's environment
then has UNITCORN_TEST_ID, the test's name made file-name safe, for the
wrapper's log file names (valgrind's --log-file=...%q{UNITCORN_TEST_ID}...)."""
import fcntl
import os
import re
import shlex
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
import uuid

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
APPS = os.path.join(HERE, "apps")

# bash (dash cannot redirect fds above 9) starts, exports its own pid as LISTEN_PID, moves the socket to fd 3
# and execs unitcorn, which keeps that pid.
ACTIVATE = 'export LISTEN_PID=$$; exec "$0" "$@" 3<&{fd} {fd}<&-'


def unitcorn_binary():
    path = os.environ.get("UNITCORN")
    if not path:
        pytest.fail("$UNITCORN is not set: run these tests through meson test")
    return path


WRAPPER = shlex.split(os.environ.get("UNITCORN_TEST_WRAPPER", ""))
# generous: the sanitizer build starts slowly, and under valgrind a worker
# imports its app in tens of seconds (minutes on a loaded machine)
START_TIMEOUT = 300 if WRAPPER else 60
# a client's wait for an answer (through a worker's respawn, say)
CLIENT_TIMEOUT = 300 if WRAPPER else 30
under_wrapper = pytest.mark.skipif(bool(WRAPPER),
                                   reason="needs the server run directly, not under $UNITCORN_TEST_WRAPPER")


def wrapped(cmd, environ):
    """cmd with $UNITCORN_TEST_WRAPPER in front of the unitcorn binary in
    it (if set), and the test's name in environ as UNITCORN_TEST_ID.
    Under the wrapper the server also gets --timeout 600 first (a test's
    own comes later and wins): a worker importing its app under valgrind
    can take longer than the default 30 s, and would be killed as stuck."""
    if not WRAPPER:
        return cmd
    test = os.environ.get("PYTEST_CURRENT_TEST", "unknown").rsplit(" ", 1)[0]
    test_id = re.sub(r"[^A-Za-z0-9_.-]+", "_", test.split("/")[-1])
    environ["UNITCORN_TEST_ID"] = test_id
    # also written into the wrapper's words: a launcher that passes no
    # environment (systemd-socket-activate) must not lose it
    wrapper = [w.replace("%q{UNITCORN_TEST_ID}", test_id) for w in WRAPPER]
    i = cmd.index(unitcorn_binary())
    return [*cmd[:i], *wrapper, cmd[i], "--timeout", "600", *cmd[i + 1:]]


class Notify:
    """A NOTIFY_SOCKET in the abstract namespace, recording datagrams."""

    def __init__(self, passcred=False):
        self.name = "@unitcorn-test-" + uuid.uuid4().hex
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
        if passcred:
            # the kernel then attaches the sender's pid to every datagram
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.sock.bind("\0" + self.name[1:])
        self.messages = []
        self.senders = []        # (pid, message), filled by receive() only

    def wait_for(self, line, timeout=START_TIMEOUT):
        """Returns once a datagram with `line` as one of its lines arrived."""
        while not any(line in m.split("\n") for m in self.messages):
            self.sock.settimeout(timeout)
            try:
                self.messages.append(self.sock.recv(4096).decode())
            except socket.timeout:
                raise AssertionError(f"no {line} within {timeout}s; got {self.messages}")
        return self.messages

    def receive(self, timeout):
        """One datagram (text, sender pid; pid 0 without passcred), or None
        after timeout seconds (0: only what is queued already)."""
        self.sock.settimeout(max(timeout, 0.0))      # 0.0: non-blocking
        try:
            data, anc, _, _ = self.sock.recvmsg(4096, socket.CMSG_SPACE(12))
        except (socket.timeout, BlockingIOError):
            return None
        pid = 0
        for level, kind, cdata in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                pid = struct.unpack("iII", cdata[:12])[0]
        text = data.decode()
        self.messages.append(text)
        self.senders.append((pid, text))
        return text, pid

    def drain(self):
        """Every datagram queued now, without waiting."""
        out = []
        while (got := self.receive(0)) is not None:
            out.append(got)
        return out

    def close(self):
        self.sock.close()


class Server:
    def __init__(self, app, args=(), activate=True, env=None, passcred=False):
        self.notify = Notify(passcred)
        self.log = tempfile.TemporaryFile(mode="w+")
        self.port = None
        self.listener = None
        threads = (env or {}).get("UNITCORN_TEST_THREADS", os.environ.get("UNITCORN_TEST_THREADS"))
        cmd = [unitcorn_binary(), "--chdir", APPS, *(["--threads", threads] if threads else []), *args, app]
        environ = dict(os.environ)
        for k in ("LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "WEB_CONCURRENCY", "PORT"):
            environ.pop(k, None)
        environ.update(NOTIFY_SOCKET=self.notify.name, PYTHONDONTWRITEBYTECODE="1")
        environ.update(env or {})
        pass_fds = ()
        if activate:
            self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.listener.bind(("127.0.0.1", 0))
            self.listener.listen(128)
            self.port = self.listener.getsockname()[1]
            fd = self.listener.fileno()
            script = ACTIVATE.format(fd=fd) if fd != 3 else 'export LISTEN_PID=$$; exec "$0" "$@"'
            cmd = ["/bin/bash", "-c", script, *cmd]
            environ["LISTEN_FDS"] = "1"
            pass_fds = (fd,)
        cmd = wrapped(cmd, environ)
        self.proc = subprocess.Popen(cmd, env=environ, pass_fds=pass_fds,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        if self.listener:
            # the server has it now; our copy would keep accepting otherwise
            self.listener.close()

    def wait_ready(self):
        try:
            self.notify.wait_for("READY=1")
        except AssertionError:
            self.proc.poll()
            raise AssertionError(f"server not ready (exit status {self.proc.returncode}):\n{self.output()}")
        return self

    def connect(self, timeout=CLIENT_TIMEOUT):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        return s

    def output(self):
        self.log.seek(0)
        return self.log.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.notify.close()
        return self.proc.returncode


class Launched(Server):
    """unitcorn started by a command line of the test's own (through
    systemd-socket-activate, or with several hand-passed sockets), with the
    same NOTIFY_SOCKET, log and clean-up as Server.  cmd is the whole
    command; the caller sets .port (or connects by itself)."""

    def __init__(self, cmd, env=None, pass_fds=(), passcred=False, pipe=False):
        self.notify = Notify(passcred)
        self.log = tempfile.TemporaryFile(mode="w+")
        self.port = None
        self.listener = None
        environ = dict(os.environ)
        for k in ("LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "WEB_CONCURRENCY", "PORT"):
            environ.pop(k, None)
        environ.update(NOTIFY_SOCKET=self.notify.name, PYTHONDONTWRITEBYTECODE="1")
        environ.update(env or {})
        self.proc = subprocess.Popen(wrapped(cmd, environ), env=environ, pass_fds=pass_fds,
                                     stdout=subprocess.PIPE if pipe else self.log,
                                     stderr=subprocess.STDOUT)

    def wait_line(self, text, count=1):
        """With pipe=True: reads the output until `count` lines containing
        `text` came (a launcher saying it listens), copying it to the log,
        then copies the rest in a thread."""
        # O_APPEND through its own open file description: never at the
        # offset output() moves
        log = open(f"/proc/self/fd/{self.log.fileno()}", "a")
        seen = 0
        while seen < count:
            line = self.proc.stdout.readline().decode(errors="replace")
            if not line:
                raise AssertionError(f"output ended before {count} lines with {text!r}:\n{self.output()}")
            log.write(line)
            log.flush()
            seen += text in line

        def pump():
            with log:
                for raw in self.proc.stdout:
                    log.write(raw.decode(errors="replace"))
                    log.flush()
        self.pump = threading.Thread(target=pump, daemon=True)
        self.pump.start()

    def stop(self):
        status = super().stop()
        if getattr(self, "pump", None):
            self.pump.join(timeout=60)       # all of the output is in the log
        return status


def activation_command(sockets, names=None):
    """(command prefix, environment, fds to pass) handing `sockets` over as
    fds 3, 4, … with LISTEN_FDS (and LISTEN_FDNAMES): bash sets LISTEN_PID
    to its own pid and execs the rest of the command.  The sockets are
    duplicated to fds 100 and up first, so that moving one to 3 + i never
    overwrites another."""
    high = [fcntl.fcntl(s.fileno(), fcntl.F_DUPFD_CLOEXEC, 100) for s in sockets]
    moves = " ".join(f"{3 + i}<&{fd} {fd}<&-" for i, fd in enumerate(high))
    env = {"LISTEN_FDS": str(len(sockets))}
    if names:
        env["LISTEN_FDNAMES"] = ":".join(names)
    return ["/bin/bash", "-c", f'export LISTEN_PID=$$; exec "$0" "$@" {moves}'], env, high


def poll_until(what, condition, timeout=30, srv=None):
    """Bounded polling of a condition (every 10 ms), for what has no event
    to wait on (a log line, /proc); with srv, a server that exits fails at
    once, and its output's end goes into the failure."""
    deadline = time.monotonic() + timeout
    while not condition():
        detail = "\n" + srv.output()[-3000:] if srv else ""
        assert srv is None or srv.proc.poll() is None, f"the server exited while waiting: {what}{detail}"
        assert time.monotonic() < deadline, f"not within {timeout}s: {what}{detail}"
        time.sleep(0.01)


def closed_unanswered(sock):
    """Whether the server closed sock without a byte of answer: EOF or a
    reset (a worker killed mid-request)."""
    try:
        return sock.recv(100) == b""
    except ConnectionResetError:
        return True


def line_of(app_file, text):
    """The number of the first line of apps/app_file containing text."""
    with open(os.path.join(APPS, app_file)) as f:
        return next(i for i, line in enumerate(f, 1) if text in line)


def small_window_client(port, timeout=30):
    """A connection with a 4 KiB receive buffer: a response of any size
    cannot all be in flight to it, so the server must wait on its reads."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(timeout)
    s.connect(("127.0.0.1", port))
    return s


def finish(servers):
    """A fixture's end: stop every server, show its output (pytest prints
    it for a failed test) and fail on any sanitizer report in it."""
    for s in servers:
        s.stop()
        out = s.output()
        print(out)
        check_sanitizers(out)


def check_sanitizers(output):
    for marker in ("ERROR: AddressSanitizer", "runtime error:", "ERROR: LeakSanitizer"):
        assert marker not in output, f"sanitizer report in the server's output:\n{output}"


@pytest.fixture
def start_server():
    """start_server(app, args=(), activate=True, env=None) -> a ready Server."""
    servers = []

    def start(app="hello:app", args=(), activate=True, env=None, wait=True, passcred=False):
        s = Server(app, args, activate, env, passcred)
        servers.append(s)
        return s.wait_ready() if wait else s

    yield start
    finish(servers)


@pytest.fixture
def launch():
    """launch(cmd, env=None, pass_fds=(), passcred=False, wait=True, pipe=False) -> a
    Launched server (ready, unless wait=False), stopped and checked for
    sanitizer reports at the end of the test."""
    servers = []

    def start(cmd, env=None, pass_fds=(), passcred=False, wait=True, pipe=False):
        s = Launched(cmd, env, pass_fds, passcred, pipe)
        servers.append(s)
        for fd in pass_fds:
            if fd >= 100:        # activation_command()'s copies: the server has them now
                os.close(fd)
        return s.wait_ready() if wait else s

    yield start
    finish(servers)


@pytest.fixture
def server(start_server):
    """The validator-wrapped raw WSGI app, one worker."""
    return start_server("hello:app")


class Response:
    def __init__(self, status, reason, version, headers, body):
        self.status, self.reason, self.version = status, reason, version
        self.headers, self.body = headers, body

    def header(self, name):
        values = [v for k, v in self.headers if k.lower() == name.lower()]
        return values[0] if values else None


def read_response(f, head=False):
    """Reads one HTTP/1.x response from the binary file f (sock.makefile('rb')),
    framed as RFC 9112 §6.3 says; None at EOF before a status line."""
    line = f.readline()
    if not line:
        return None
    version, status, *reason = line.decode("latin-1").rstrip("\r\n").split(" ", 2)
    headers = []
    while True:
        h = f.readline()
        assert h.endswith(b"\r\n"), f"bad header line {h!r}"
        if h == b"\r\n":
            break
        k, v = h.decode("latin-1").rstrip("\r\n").split(":", 1)
        headers.append((k, v.strip()))
    r = Response(int(status), reason[0] if reason else "", version, headers, b"")
    if head or r.status in (204, 304) or r.status < 200:
        return r
    te = r.header("Transfer-Encoding")
    cl = r.header("Content-Length")
    if te:
        assert te == "chunked"
        body = b""
        while True:
            size = int(f.readline().split(b";")[0], 16)
            chunk = f.read(size + 2)
            assert chunk.endswith(b"\r\n")
            if size == 0:
                break
            body += chunk[:-2]
        r.body = body
    elif cl is not None:
        r.body = f.read(int(cl))
    else:
        r.body = f.read()
    return r


def request(server, raw, head=False):
    """Sends raw bytes on a new connection, returns the first response."""
    with server.connect() as s:
        s.sendall(raw)
        f = s.makefile("rb")
        return read_response(f, head=head)


def get(server, path="/", headers=""):
    return request(server, f"GET {path} HTTP/1.1\r\nHost: localhost\r\n{headers}Connection: close\r\n\r\n".encode())


def assert_rejected(server, raw, status):
    """raw on a new connection is answered with status and Connection: close,
    the server closes the connection after that answer, and the worker goes
    on serving new connections."""
    with server.connect() as s:
        s.sendall(raw)
        f = s.makefile("rb")
        r = read_response(f)
        assert r is not None, "closed without an answer"
        assert r.status == status, (r.status, r.body)
        assert r.header("Connection") == "close"
        assert f.read() == b""          # closed after the error, nothing else parsed
    # and the worker keeps serving
    assert get(server).status == 200
