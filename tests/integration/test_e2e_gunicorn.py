"""Issue 4, integration tests 1-5: a supervisor program running gunicorn
with a Flask app, under a real systemd as PID 1 (sysbox.py), becomes a
socket-activated Type=notify unitcorn service (the built unitcorn).

1. the INI dropped into /etc/supervisor.d, daemon-reload: app@wsgi.socket
   listens, a request starts app@wsgi.service, the answer is the app's;
   Type=notify, MainPID the master, unitcorn's StatusText (with -b, and with
   -c pygun.py holding bind);
2. journalctl -u app@wsgi: print(), logging records at their priorities,
   one access entry per request with its fields, a traceback at 3;
3. kill -9 of the master: PID 1 restarts the unit; of a worker: the master
   replaces it, the unit is not restarted;
4. a stopped master (SIGSTOP): the watchdog fires, PID 1 restarts it;
5. restart and reload under load: no failed request, none refused; after
   the reload the changed code is served.

Every wait is on an event (a journal line, systemctl's own job, an HTTP
answer); the few polls are bounded and each waits on a command's answer.
"""

import json
import os
import re
import select
import subprocess
import uuid

import pytest

import e2e

pytestmark = pytest.mark.skipif(e2e.skip_reason() is not None, reason=str(e2e.skip_reason()))

UNIT = "app@wsgi.service"
SOCKET = "app@wsgi.socket"
PORT = 5000

COMMANDS = {
    "bind": "gunicorn -w 2 -b 127.0.0.1:5000 wsgi:app",
    "config": "gunicorn -w 2 -c pygun.py wsgi:app",
}
# What the later tests run: gunicorn logs no access without --access-logfile,
# and the rewrite passes the option on to unitcorn as it is.
SERVED = "gunicorn -w 2 -b 127.0.0.1:5000 --access-logfile - wsgi:app"


class Env:
    pass


@pytest.fixture(scope="module")
def env():
    e = Env()
    e.root = e2e.workdir()
    e.supd = os.path.join(e.root, "supervisor.d")
    os.mkdir(e.supd)
    e.app = e2e.make_app(os.path.join(e.root, "app"))
    e.box = e2e.box(e.supd)
    try:
        e.box.boot()
        yield e
    finally:
        e.box.cleanup()
        e2e.cleanup_dir(e.root)


def install(e, command):
    """The program's INI into /etc/supervisor.d, then daemon-reload and the
    sockets of autostart programs started (daemon-reload alone starts
    nothing: systemd never starts units on a reload)."""
    e.box.systemctl("stop", SOCKET, UNIT, check=False)   # (not loaded the first time)
    e2e.write(os.path.join(e.supd, "wsgi.ini"),
              "[program:wsgi]\ncommand=%s\ndirectory=%s\n" % (command, e.app))
    e.box.systemctl("daemon-reload")
    e.box.systemctl("start", "sockets.target")


@pytest.fixture(scope="module")
def served(env):
    install(env, SERVED)
    env.box.systemctl("start", UNIT)
    return env


@pytest.mark.parametrize("form", ["config", "bind"])
def test_1_request_starts_the_socket_activated_service(env, form):
    b = env.box
    install(env, COMMANDS[form])
    assert b.show(SOCKET, "ActiveState") == "active"
    assert b.show(SOCKET, "Listen") == "127.0.0.1:%d (Stream)" % PORT
    assert b.show(UNIT, "ActiveState") == "inactive"
    exec_start = b.show(UNIT, "ExecStart")
    assert "path=%s/bin/unitcorn " % b.stage in exec_start, exec_start
    assert ("pygun.py" in exec_start) == (form == "config")

    status, body = e2e.get_one(b, PORT, "/")
    assert status == 200 and body.startswith("e2e app one from worker "), body
    # one worker may answer before the other is ready, and READY=1 (active)
    # comes when all are
    e2e.poll("active", lambda: b.show(UNIT, "ActiveState") == "active")
    assert b.show(UNIT, "Type") == "notify"
    master = e2e.main_pid(b, UNIT)
    assert e2e.cmdline(b, master).startswith("unitcorn: master [wsgi:app]")
    workers = e2e.children(b, master)
    assert len(workers) == 2
    assert all(e2e.cmdline(b, w).startswith("unitcorn: worker [wsgi:app]") for w in workers)
    assert int(body.split()[-1]) in workers
    assert re.fullmatch(r"2 workers( accepting|, \d+ requests? served, \d+ in flight)",
                        b.show(UNIT, "StatusText")), b.show(UNIT, "StatusText")
    assert b.show(UNIT, "TriggeredBy") == SOCKET


def test_2_journal(served):
    b = served.box
    mark = uuid.uuid4().hex
    paths = ["/?n=%s-%d" % (mark, i) for i in range(5)] + ["/print", "/log", "/raise?why=" + mark]
    answers = e2e.get(b, PORT, *paths)
    assert [s for s, _ in answers] == [200] * 7 + [500], answers

    # one access entry per request, with the structured fields
    mine = lambda e: e.get("HTTP_QUERY", "").startswith("n=" + mark)  # noqa: E731
    e2e.wait_entries(b, mine, 5, "-u", UNIT, "HTTP_STATUS=200")
    out = b.run("journalctl", "--no-pager", "-u", "app@wsgi", "HTTP_STATUS=200", "-o", "json").stdout
    access = [e for e in map(json.loads, out.splitlines()) if mine(e)]
    assert sorted(e["HTTP_QUERY"] for e in access) == sorted(p[2:] for p in paths[:5])
    workers = {str(w) for w in e2e.children(b, e2e.main_pid(b, UNIT))}
    for a, (_, body) in zip(sorted(access, key=lambda e: e["HTTP_QUERY"]), answers[:5]):
        assert (a["HTTP_METHOD"], a["HTTP_PATH"], a["HTTP_VERSION"], a["HTTP_STATUS"]) == \
            ("GET", "/", "HTTP/1.1", "200")
        assert a["HTTP_BYTES"] == str(len(body.encode()))
        assert a["REMOTE_ADDR"] == "127.0.0.1" and a["HTTP_USER_AGENT"] == "e2e-test/1"
        assert a["PRIORITY"] == "6" and a["WORKER_PID"] in workers
        assert a["_SYSTEMD_UNIT"] == UNIT and int(a["HTTP_DURATION_USEC"]) >= 0
        assert '"GET /?%s HTTP/1.1" 200 ' % a["HTTP_QUERY"] in e2e.message(a)

    # the app's print(), its logging records, Flask's record of the exception
    found = e2e.wait_entries(b, lambda e: e2e.message(e).startswith((
        "e2e print from worker", "e2e warning record", "e2e error record", "e2e critical record",
        "Exception on /raise")) and mark_or_any(e, mark), 5, "-u", UNIT)
    by = {e2e.message(e).split("\n")[0].split(" from ")[0]: e for e in found}
    assert by["e2e print"]["_TRANSPORT"] == "stdout" and by["e2e print"]["PRIORITY"] == "6"
    assert by["e2e warning record"]["PRIORITY"] == "4"
    assert by["e2e error record"]["PRIORITY"] == "3"
    assert by["e2e critical record"]["PRIORITY"] == "2"
    assert by["e2e warning record"]["LOGGER"] == "e2e"
    tb = by["Exception on /raise [GET]"]
    lines = e2e.message(tb).split("\n")
    assert tb["PRIORITY"] == "3" and tb["_SYSTEMD_UNIT"] == UNIT
    assert lines[1] == "Traceback (most recent call last):"
    assert lines[-1] == "RuntimeError: e2e failed on purpose: " + mark
    # the traceback is one entry, not a line each; the debug record is below the root level
    text = b.journal("-u", UNIT)
    assert text.count("RuntimeError: e2e failed on purpose: " + mark) == 1
    assert "e2e debug record" not in text
    raised = b.run("journalctl", "--no-pager", "-u", UNIT, "HTTP_STATUS=500", "-o", "json").stdout
    assert any(json.loads(line).get("HTTP_PATH") == "/raise" for line in raised.splitlines())


def mark_or_any(entry, mark):
    """Flask's exception record must be this run's; the others are unique per module."""
    m = e2e.message(entry)
    return mark in m if m.startswith("Exception on /raise") else True


def test_3_kill_master_restarts_unit_kill_worker_does_not(served):
    b = served.box
    master, restarts = e2e.main_pid(b, UNIT), int(b.show(UNIT, "NRestarts"))
    c = e2e.cursor(b)
    b.run("kill", "-9", str(master))
    e2e.wait_after(b, c, "restart counter is at %d" % (restarts + 1), "-u", UNIT)
    status, body = e2e.get_one(b, PORT, "/")
    assert status == 200 and body.startswith("e2e app one"), body
    new_master = e2e.main_pid(b, UNIT)
    assert new_master != master and int(b.show(UNIT, "NRestarts")) == restarts + 1
    e2e.poll("active", lambda: b.show(UNIT, "ActiveState") == "active")

    workers = e2e.children(b, new_master)
    assert len(workers) == 2
    c = e2e.cursor(b)
    b.run("kill", "-9", str(workers[0]))
    e2e.wait_after(b, c, "Worker %d was killed by signal Killed, respawning." % workers[0], "-u", UNIT)
    e2e.wait_after(b, c, "Booting worker with pid: ", "-u", UNIT)
    now = e2e.poll("two workers again", lambda: (lambda w: len(w) == 2 and workers[0] not in w and w)(
        e2e.children(b, new_master)))
    assert workers[1] in now
    assert e2e.main_pid(b, UNIT) == new_master
    assert int(b.show(UNIT, "NRestarts")) == restarts + 1
    assert e2e.get_one(b, PORT, "/")[0] == 200


def test_4_watchdog_restarts_a_stopped_master(served):
    """The generated WatchdogSec=30s, shortened to 2 s by a drop-in (an
    admin's override, /run/systemd/system/app@wsgi.service.d/) to keep the
    test quick; LimitCORE=0 so the SIGABRT leaves no core file."""
    b = served.box
    dropin = "/run/systemd/system/%s.d" % UNIT
    b.run("sh", "-c", "mkdir -p %s && printf '[Service]\\nWatchdogSec=2\\nLimitCORE=0\\n' > %s/90-test.conf"
          % (dropin, dropin))
    try:
        b.systemctl("daemon-reload")
        b.systemctl("restart", UNIT)
        assert b.show(UNIT, "WatchdogUSec") == "2s"
        master, restarts = e2e.main_pid(b, UNIT), int(b.show(UNIT, "NRestarts"))
        c = e2e.cursor(b)
        b.run("kill", "-STOP", str(master))
        e2e.wait_after(b, c, "Watchdog timeout", "-u", UNIT)
        e2e.wait_after(b, c, "restart counter is at %d" % (restarts + 1), "-u", UNIT)
        assert e2e.get_one(b, PORT, "/")[0] == 200
        assert e2e.main_pid(b, UNIT) != master
        assert int(b.show(UNIT, "NRestarts")) == restarts + 1
    finally:
        b.run("rm", "-rf", dropin)
        b.systemctl("daemon-reload")
        b.systemctl("restart", UNIT)


class Load:
    """loadclient.py running in the box."""

    def __init__(self, b, threads=4):
        with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "loadclient.py")) as f:
            code = f.read()
        self.p = subprocess.Popen(["nsenter", "-t", str(b.pid), "-a", "--", "/usr/bin/python3", "-c", code,
                                   str(PORT), str(threads)],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, start_new_session=True)
        self.pending = b""
        self.seen = []                        # (version, pid) in the order first seen
        while self.line() != "ready":
            pass

    def line(self, timeout=60):
        while b"\n" not in self.pending:
            ready, _, _ = select.select([self.p.stdout], [], [], timeout)
            if not ready:
                raise TimeoutError("the load client said nothing for %ss" % timeout)
            chunk = os.read(self.p.stdout.fileno(), 65536)
            if not chunk:
                raise RuntimeError("the load client exited")
            self.pending += chunk
        line, self.pending = self.pending.split(b"\n", 1)
        words = line.decode().split()
        if words[0] == "seen":
            self.seen.append((words[1], int(words[2])))
        return line.decode()

    def until_seen(self, pred):
        """Until the client has had an answer from a (version, pid) that
        pred accepts."""
        while not any(pred(v, pid) for v, pid in self.seen):
            self.line()

    def stop(self):
        self.p.stdin.close()
        while True:
            line = self.line()
            if line.startswith("{"):
                self.p.wait(30)
                return json.loads(line)

    def kill(self):
        if self.p.poll() is None:
            e2e.sysbox._end_nsenter(self.p)


def test_5_restart_under_load_refuses_nothing(served):
    """systemctl restart: the master drains and exits, a new one starts;
    the socket stays open throughout (socket activation), so connections
    made meanwhile wait in its backlog and are answered by the new master:
    none is refused, none fails.  Keep-alive connections the old workers
    close are retried by the client (counted apart)."""
    b = served.box
    old = set(e2e.children(b, e2e.main_pid(b, UNIT)))
    load = Load(b)
    try:
        load.until_seen(lambda v, pid: pid in old)
        b.systemctl("restart", UNIT)          # returns at READY=1 of the new master
        new = set(e2e.children(b, e2e.main_pid(b, UNIT)))
        assert not new & old
        load.until_seen(lambda v, pid: pid in new)
        stats = load.stop()
    finally:
        load.kill()
    print("restart under load:", stats)
    assert stats["refused"] == 0 and stats["failed"] == [], stats
    assert stats["ok"] > 0


def test_5_reload_under_load_fails_nothing_and_serves_new_code(served):
    b = served.box
    master, restarts = e2e.main_pid(b, UNIT), b.show(UNIT, "NRestarts")
    load = Load(b)
    try:
        path = os.path.join(served.app, "wsgi.py")
        with open(path) as f:
            code = f.read()
        e2e.write(path, code.replace('VERSION = "one"', 'VERSION = "two-reloaded"'))
        c = e2e.cursor(b)
        b.systemctl("reload", UNIT)           # the reload is done when the master says so
        e2e.wait_after(b, c, "Reloaded: 2 new workers ready", "-u", UNIT)
        load.until_seen(lambda v, pid: v == "two-reloaded")
        stats = load.stop()
    finally:
        load.kill()
    print("reload under load:", stats)
    assert stats["refused"] == 0 and stats["failed"] == [], stats
    assert stats["ok"] > 0
    status, body = e2e.get_one(b, PORT, "/")
    assert status == 200 and body.startswith("e2e app two-reloaded from worker "), body
    assert e2e.main_pid(b, UNIT) == master and b.show(UNIT, "NRestarts") == restarts


def test_no_sanitizer_reports(served):
    e2e.no_sanitizer_reports(served.box, "-u", UNIT)
