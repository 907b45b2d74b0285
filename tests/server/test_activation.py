"""Sockets (DESIGN §4.1): socket activation through systemd's own
systemd-socket-activate (-l, several -l, --fdname) and through hand-set
LISTEN_FDS with a TCP IPv4, a TCP IPv6 and a UNIX stream socket at once;
-b binding (HOST:PORT, [::1]:PORT, unix:PATH, repeated); a UNIX socket
end to end, with the environ of a UNIX peer compared with gunicorn's."""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile

import pytest

from conftest import APPS, Notify, START_TIMEOUT, activation_command, get, read_response, unitcorn_binary

ENVIRON_GET = b"GET /environ HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n"


def free_port(family=socket.AF_INET, host="127.0.0.1"):
    with socket.socket(family) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def environ_over(sock, host=b"example.org:81"):
    """GET /environ on a connected socket: the app's environ."""
    with sock:
        sock.sendall(ENVIRON_GET % host)
        r = read_response(sock.makefile("rb"))
    assert r.status == 200, (r.status, r.body)
    return json.loads(r.body)


def tcp(host, port, family=socket.AF_INET):
    s = socket.socket(family)
    s.settimeout(START_TIMEOUT)
    s.connect((host, port))
    return s


def unix(path):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(START_TIMEOUT)
    s.connect(path)
    return s


@pytest.fixture
def sockdir():
    d = tempfile.mkdtemp(prefix="uc")     # short: sun_path holds 108 bytes
    yield d
    shutil.rmtree(d)


def check_three(v4_port, v6_port, path):
    env = environ_over(tcp("127.0.0.1", v4_port))
    assert env["REMOTE_ADDR"] == "127.0.0.1" and env["SERVER_NAME"] == "example.org"
    env = environ_over(tcp("::1", v6_port, socket.AF_INET6))
    assert env["REMOTE_ADDR"] == "::1" and int(env["REMOTE_PORT"]) > 0
    assert env["SERVER_PORT"] == "81"
    env = environ_over(unix(path))
    assert env["REMOTE_ADDR"] == ""


def test_systemd_socket_activate(launch, sockdir):
    """systemd-socket-activate listens on three addresses (-l IPv4, -l
    [::1], -l a UNIX path), accepts nothing itself, and on the first
    connection execs unitcorn with LISTEN_FDS=3 and the --fdname names;
    that first connection, waiting in the backlog, is answered too."""
    v4, v6 = free_port(), free_port(socket.AF_INET6, "::1")
    path = os.path.join(sockdir, "s")
    # it passes on only PATH, TERM and what -E names
    keep = [a for k in ("NOTIFY_SOCKET", "PYTHONDONTWRITEBYTECODE", "ASAN_OPTIONS", "UBSAN_OPTIONS")
            for a in ("-E", k)]
    cmd = ["systemd-socket-activate", "-l", f"127.0.0.1:{v4}", "-l", f"[::1]:{v6}", "-l", path,
           "--fdname=web:web6", "--fdname=local", *keep, "--",
           unitcorn_binary(), "--chdir", APPS, "hello:app"]
    srv = launch(cmd, env={"ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", ""),
                           "UBSAN_OPTIONS": os.environ.get("UBSAN_OPTIONS", "")},
                 wait=False, pipe=True)
    srv.wait_line("Listening on", 3)
    first = tcp("127.0.0.1", v4)          # wakes the launcher, which execs
    first.sendall(ENVIRON_GET % b"x")
    srv.wait_ready()
    assert read_response(first.makefile("rb")).status == 200
    first.close()
    check_three(v4, v6, path)
    out = srv.output()
    for addr, name in ((f"127.0.0.1:{v4}", "web"), (f"[::1]:{v6}", "web6"), (f"unix:{path}", "local")):
        assert f"Listening at: {addr} ({name}), from systemd" in out, out
    assert srv.stop() == 0
    assert os.path.exists(path)           # not ours to remove: the launcher made it


def test_hand_set_listen_fds_three_families(launch, sockdir):
    """LISTEN_FDS=3 set by hand: IPv4, IPv6 and UNIX listeners at once,
    names from LISTEN_FDNAMES, every one answering."""
    v4 = socket.socket(socket.AF_INET)
    v4.bind(("127.0.0.1", 0))
    v6 = socket.socket(socket.AF_INET6)
    v6.bind(("::1", 0))
    un = socket.socket(socket.AF_UNIX)
    path = os.path.join(sockdir, "s")
    un.bind(path)
    socks = [v4, v6, un]
    for s in socks:
        s.listen(16)
    prefix, env, fds = activation_command(socks, ["four", "six", "unix"])
    srv = launch([*prefix, unitcorn_binary(), "--chdir", APPS, "-w", "2", "hello:app"], env=env, pass_fds=fds)
    v4_port, v6_port = v4.getsockname()[1], v6.getsockname()[1]
    for s in socks:
        s.close()                          # only the server holds them now
    for _ in range(2):
        check_three(v4_port, v6_port, path)
    out = srv.output()
    for addr, name in ((f"127.0.0.1:{v4_port}", "four"), (f"[::1]:{v6_port}", "six"), (f"unix:{path}", "unix")):
        assert f"Listening at: {addr} ({name}), from systemd" in out, out


def test_listen_fds_without_names(launch):
    """Without LISTEN_FDNAMES (systemd < 227, or a hand-written launcher)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    prefix, env, fds = activation_command([s])
    srv = launch([*prefix, unitcorn_binary(), "--chdir", APPS, "hello:app"], env=env, pass_fds=fds)
    port = s.getsockname()[1]
    s.close()
    assert environ_over(tcp("127.0.0.1", port))["REMOTE_ADDR"] == "127.0.0.1"
    assert srv.proc.poll() is None


@pytest.mark.parametrize("kind", ["not listening", "datagram"])
def test_listen_fds_not_a_listening_stream_socket(launch, kind):
    if kind == "datagram":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
    else:
        s = socket.socket()
        s.bind(("127.0.0.1", 0))           # bound, never listen()ed
    prefix, env, fds = activation_command([s], ["bogus"])
    srv = launch([*prefix, unitcorn_binary(), "--chdir", APPS, "hello:app"], env=env, pass_fds=fds, wait=False)
    s.close()
    assert srv.proc.wait(timeout=START_TIMEOUT) != 0
    assert "Passed fd 3 (bogus) is not a listening stream socket." in srv.output()


def test_bind_ipv4_ipv6_unix_repeated(start_server, sockdir):
    v4, v6 = free_port(), free_port(socket.AF_INET6, "::1")
    path = os.path.join(sockdir, "s")
    srv = start_server("hello:app", ["-b", f"127.0.0.1:{v4}", "-b", f"[::1]:{v6}", "-b", f"unix:{path}"],
                       activate=False)
    check_three(v4, v6, path)
    out = srv.output()
    for spec in (f"127.0.0.1:{v4}", f"[::1]:{v6}", f"unix:{path}"):
        assert f"Listening at: {spec}\n" in out, out
    assert srv.stop() == 0
    assert not os.path.exists(path)


def test_bind_replaces_a_stale_unix_socket(start_server, sockdir):
    path = os.path.join(sockdir, "s")
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(path)                       # a socket file left by a dead server
    stale.close()
    start_server("hello:app", ["-b", f"unix:{path}"], activate=False)
    assert environ_over(unix(path))["REMOTE_ADDR"] == ""


@pytest.mark.parametrize("spec,message", [
    ("::1:8000", "Invalid address '::1:8000': expected HOST:PORT, [V6]:PORT or unix:PATH."),
    ("[::1", "Invalid address '[::1'"),
    ("127.0.0.1:", "Invalid address '127.0.0.1:'"),
    ("127.0.0.1:http-alt-nope", "Failed to resolve '127.0.0.1:http-alt-nope'"),
    ("unix:", "Invalid UNIX socket path ''."),
    ("unix:/nonexistent-dir/s", "Failed to bind 'unix:/nonexistent-dir/s'"),
])
def test_bind_errors_are_named(spec, message):
    r = subprocess.run([unitcorn_binary(), "--chdir", APPS, "-b", spec, "hello:app"],
                       capture_output=True, text=True, timeout=START_TIMEOUT)
    assert r.returncode != 0 and message in r.stderr, r.stderr
    assert "Booting worker" not in r.stderr


def test_bind_address_in_use():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        r = subprocess.run([unitcorn_binary(), "--chdir", APPS, "-b", f"127.0.0.1:{port}", "hello:app"],
                           capture_output=True, text=True, timeout=START_TIMEOUT)
    assert r.returncode != 0
    assert f"Failed to bind '127.0.0.1:{port}': Address already in use" in r.stderr, r.stderr


# A UNIX peer: gunicorn 20.1 (measured with this same app) gives
# REMOTE_ADDR "" and no REMOTE_PORT; SERVER_NAME/SERVER_PORT from Host
# (port 80 when Host has none), and without Host the socket's path and "".
UNIX_KEYS = ("REMOTE_ADDR", "REMOTE_PORT", "SERVER_NAME", "SERVER_PORT")
UNIX_CASES = [b"GET /environ HTTP/1.1\r\nHost: example.org:81\r\nConnection: close\r\n\r\n",
              b"GET /environ HTTP/1.1\r\nHost: example.org\r\nConnection: close\r\n\r\n",
              b"GET /environ HTTP/1.0\r\n\r\n"]


def unix_environs(path):
    out = []
    for raw in UNIX_CASES:
        with unix(path) as s:
            s.sendall(raw)
            r = read_response(s.makefile("rb"))
        assert r.status == 200
        env = json.loads(r.body)
        out.append({k: env.get(k, "<absent>") for k in UNIX_KEYS})
    return out


def test_unix_peer_environ(start_server, sockdir):
    path = os.path.join(sockdir, "s")
    start_server("hello:app", ["-b", f"unix:{path}"], activate=False)
    with_port, default_port, no_host = unix_environs(path)
    assert with_port["REMOTE_ADDR"] == "" and with_port["SERVER_NAME"] == "example.org"
    assert with_port["SERVER_PORT"] == "81" and default_port["SERVER_PORT"] == "80"
    assert no_host["SERVER_NAME"] and no_host["SERVER_PORT"] == ""   # PEP 3333: never empty


@pytest.fixture
def gunicorn_unix(sockdir):
    """gunicorn (Debian's) serving hello:app on a UNIX socket; its READY=1
    (sent once it listens) through a NOTIFY_SOCKET of ours."""
    exe = shutil.which("gunicorn")
    if not exe:
        pytest.skip("gunicorn is not installed (tests/packages.txt)")
    path = os.path.join(sockdir, "g")
    notify = Notify()
    env = dict(os.environ, NOTIFY_SOCKET=notify.name, PYTHONDONTWRITEBYTECODE="1")
    proc = subprocess.Popen(["/usr/bin/python3", exe, "--chdir", APPS, "-b", f"unix:{path}", "hello:app"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        notify.wait_for("READY=1")
        yield path
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=START_TIMEOUT)
        notify.close()


def test_unix_peer_environ_matches_gunicorn(start_server, gunicorn_unix, sockdir):
    path = os.path.join(sockdir, "s")
    start_server("hello:app", ["-b", f"unix:{path}"], activate=False)
    ours = unix_environs(path)
    theirs = unix_environs(gunicorn_unix)
    theirs[2]["SERVER_NAME"] = theirs[2]["SERVER_NAME"].replace(gunicorn_unix, path)
    assert ours == theirs


def test_port_environment_variable(start_server):
    """As gunicorn: without -b, $PORT means 0.0.0.0:$PORT."""
    port = free_port()
    srv = start_server("hello:app", activate=False, env={"PORT": str(port)})
    assert environ_over(tcp("127.0.0.1", port))["SERVER_PORT"] == "81"
    assert f"Listening at: 0.0.0.0:{port}\n" in srv.output()


def test_bind_beats_port_environment_variable(start_server):
    port, other = free_port(), free_port()
    srv = start_server("hello:app", ["-b", f"127.0.0.1:{port}"], activate=False, env={"PORT": str(other)})
    assert environ_over(tcp("127.0.0.1", port))["REMOTE_ADDR"] == "127.0.0.1"
    assert f"0.0.0.0:{other}" not in srv.output()


def test_bind_unix_url_form(start_server, sockdir):
    """gunicorn's unix://PATH spelling."""
    path = os.path.join(sockdir, "s")
    start_server("hello:app", ["--bind", f"unix://{path}"], activate=False)
    assert environ_over(unix(path))["REMOTE_ADDR"] == ""


def test_socket_activation_wins_over_bind(launch):
    """Socket-activated, -b is ignored (README): nothing is bound there."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    unused = free_port()
    prefix, env, fds = activation_command([s], ["web"])
    srv = launch([*prefix, unitcorn_binary(), "--chdir", APPS, "-b", f"127.0.0.1:{unused}", "hello:app"],
                 env=env, pass_fds=fds)
    port = s.getsockname()[1]
    s.close()
    assert environ_over(tcp("127.0.0.1", port))["REMOTE_ADDR"] == "127.0.0.1"
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", unused), timeout=START_TIMEOUT).close()
    assert f"127.0.0.1:{unused}" not in srv.output()


def test_listen_fds_for_another_pid_are_ignored(launch):
    """LISTEN_PID names another process (the fds were meant for a parent):
    not ours to take; -b is bound instead."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    port = free_port()
    prefix, env, fds = activation_command([s])
    prefix[2] = prefix[2].replace("export LISTEN_PID=$$", "export LISTEN_PID=1")
    srv = launch([*prefix, unitcorn_binary(), "--chdir", APPS, "-b", f"127.0.0.1:{port}", "hello:app"],
                 env=env, pass_fds=fds)
    s.close()
    assert environ_over(tcp("127.0.0.1", port))["SERVER_PORT"] == "81"
    out = srv.output()
    assert f"Listening at: 127.0.0.1:{port}\n" in out and "from systemd" not in out


def test_listen_fdnames_with_a_colon(start_server):
    """A [group:x] member's socket unit is app@x:NAME.socket, and systemd
    names the descriptor after it unless FileDescriptorName= says otherwise:
    LISTEN_FDNAMES then reads as two names for one descriptor.  The socket
    is taken all the same, and the app does not see the variables."""
    srv = start_server("osenv:app", env={"LISTEN_FDNAMES": "app@shop:cart.socket"})
    r = get(srv)
    assert r.status == 200
    env = json.loads(r.body)["environ"]
    assert not {"LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES"} & set(env)
