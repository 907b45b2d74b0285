"""The pieces of the server benchmark (tests/bench/run): how each server is
started and waited for, how wrk is run and read, how memory is counted.

Protocol (DESIGN.md section 5): the server with one worker pinned to CPU 0,
`wrk -t1 -cN` pinned to CPU 1, a warm-up, then the measured run.  Peers come
from Debian: gunicorn (sync and gthread workers), uWSGI --http11-socket, and
nginx answering a constant string (the ceiling for the raw app)."""

import os
import re
import select
import signal
import socket
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
APPDIR = os.path.join(HERE, "apps")

# name: (module, callable, path); the body every server must answer
APPS = {
    "hello": ("hello", "app", "/"),
    "flask": ("flaskapp", "app", "/"),
    "flask-json": ("flaskapp", "app", "/items/42"),
}
HELLO_BODY = b"Hello, World!"

NGINX_CONF = """worker_processes 1;
daemon off;
master_process on;
pid {dir}/nginx.pid;
error_log stderr warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    keepalive_requests 100000000;
    client_body_temp_path {dir}; proxy_temp_path {dir}; fastcgi_temp_path {dir};
    uwsgi_temp_path {dir}; scgi_temp_path {dir};
    server {{
        listen 127.0.0.1:{port};
        location / {{ default_type text/plain; return 200 "Hello, World!"; }}
    }}
}}
"""


class BenchError(Exception):
    pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def command(server, unitcorn, app, port, workers=1, extra=()):
    """The argv of one server serving app on 127.0.0.1:port."""
    module, callable_, _ = APPS[app]
    addr = "127.0.0.1:%d" % port
    spec = "%s:%s" % (module, callable_)
    if server == "unitcorn":
        return [unitcorn, "-w", str(workers), "-b", addr, "--chdir", APPDIR, *extra, spec]
    if server == "gunicorn-sync":
        return ["/usr/bin/gunicorn", "-w", str(workers), "-b", addr, "--chdir", APPDIR, spec]
    if server == "gunicorn-gthread":
        return ["/usr/bin/gunicorn", "-w", str(workers), "-k", "gthread", "--threads", "4", "-b", addr,
                "--chdir", APPDIR, spec]
    if server == "uwsgi":
        return ["/usr/bin/uwsgi", "--plugin", "python3", "--http11-socket", addr, "--master", "--processes",
                str(workers), "--chdir", APPDIR, "--module", spec, "--disable-logging", "--die-on-term",
                "--need-app"]
    raise BenchError("unknown server %s" % server)


class Running:
    """One started server: its process group, and how it was waited for."""

    def __init__(self, server, unitcorn, app, workers=1, pin=True, extra=()):
        self.server, self.app = server, app
        self.port = free_port()
        self.notify = None
        self.tmp = None
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
        for k in ("LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "WEB_CONCURRENCY", "NOTIFY_SOCKET"):
            env.pop(k, None)
        if server == "nginx":
            if app != "hello":
                raise BenchError("nginx only answers the constant string (app hello)")
            self.tmp = tempfile.TemporaryDirectory(prefix="unitcorn-bench-nginx-")
            conf = os.path.join(self.tmp.name, "nginx.conf")
            with open(conf, "w") as f:
                f.write(NGINX_CONF.format(dir=self.tmp.name, port=self.port))
            argv = ["/usr/sbin/nginx", "-c", conf, "-p", self.tmp.name]
        else:
            argv = command(server, unitcorn, app, self.port, workers, extra)
        if server == "unitcorn":
            self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            name = "\0unitcorn-bench-%d-%d" % (os.getpid(), self.port)
            self.notify.bind(name)
            env["NOTIFY_SOCKET"] = "@" + name[1:]
        if pin:
            argv = ["taskset", "-c", "0"] + argv
        self.started = time.monotonic()
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                                     start_new_session=True)
        self.ready_after = None          # seconds from exec to READY=1 (unitcorn)
        self.first_answer_after = None   # seconds from exec to the first complete answer

    def wait_ready(self, timeout=60):
        """unitcorn: its READY=1.  The others: their port answering a
        request, tried each time they print something (they log when they
        bind and when a worker boots) and, since an idle server prints
        nothing more, every 2 ms in between."""
        deadline = time.monotonic() + timeout
        fds = [self.proc.stdout] + ([self.notify] if self.notify else [])
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError("%s exited before it was ready:\n%s"
                                 % (self.server, self.proc.stdout.read().decode(errors="replace")))
            ready, _, _ = select.select(fds, [], [], 0.002)
            if self.notify in ready:
                if b"READY=1" in self.notify.recv(4096).split(b"\n"):
                    self.ready_after = time.monotonic() - self.started
                    break
                continue
            if self.proc.stdout in ready:
                os.read(self.proc.stdout.fileno(), 65536)
            if not self.notify and self._answers():
                self.first_answer_after = time.monotonic() - self.started
                return self
        else:
            raise BenchError("%s not ready after %ss" % (self.server, timeout))
        if not self._answers(wait=True):
            raise BenchError("%s said READY=1 but does not answer" % self.server)
        self.first_answer_after = time.monotonic() - self.started
        return self

    def _answers(self, wait=False):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=30 if wait else 5) as s:
                s.sendall(b"GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
                          % APPS[self.app][2].encode())
                data = b""
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    data += chunk
            return data.startswith(b"HTTP/1.1 200")
        except OSError:
            return False

    def pids(self):
        """The server's processes: the session we started, minus taskset
        (which exec'd) and minus nothing else: everything in it is the server."""
        out = []
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    if os.getsid(int(d)) == self.proc.pid:
                        out.append(int(d))
                except OSError:
                    pass
        return out

    def memory_kib(self):
        """(RSS, PSS) summed over the server's processes, in KiB."""
        rss = pss = 0
        for p in self.pids():
            try:
                with open("/proc/%d/status" % p) as f:
                    rss += int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))
                with open("/proc/%d/smaps_rollup" % p) as f:
                    pss += int(re.search(r"^Pss:\s+(\d+)", f.read(), re.M).group(1))
            except (FileNotFoundError, ProcessLookupError, AttributeError):
                pass
        return rss, pss

    def stop(self):
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        except ProcessLookupError:
            pass
        self.proc.stdout.close()
        if self.notify:
            self.notify.close()
        if self.tmp:
            self.tmp.cleanup()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def parse_wrk(out):
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = {}
    for pct in ("50", "99"):
        m = re.search(r"\s%s%%\s+([\d.]+)(us|ms|s)\b" % pct, out)
        lat[pct] = float(m.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[m.group(2)]
    errors = 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        errors = sum(int(x) for x in m.groups())
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p50": lat["50"], "p99": lat["99"], "errors": errors,
            "non2xx": int(m.group(1)) if m else 0}


def wrk_argv(port, path, duration, connections, pin=True, threads=1):
    argv = ["wrk", "-t%d" % threads, "-c%d" % connections, "-d%ds" % duration, "--latency",
            "http://127.0.0.1:%d%s" % (port, path)]
    return (["taskset", "-c", "1"] + argv) if pin else argv


def wrk(port, path, duration, connections, pin=True, runner=None):
    """Runs wrk (through runner(argv) -> stdout when given, e.g. inside a
    namespace) and returns its figures; a run with socket errors or non-2xx
    answers is a failed benchmark."""
    argv = wrk_argv(port, path, duration, connections, pin)
    if runner:
        out = runner(argv)
    else:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 60)
        if r.returncode != 0:
            raise BenchError("wrk failed: %s" % r.stderr)
        out = r.stdout
    res = parse_wrk(out)
    if res["errors"] or res["non2xx"]:
        raise BenchError("wrk on port %d: %d socket errors, %d non-2xx answers\n%s"
                         % (port, res["errors"], res["non2xx"], out))
    return res
