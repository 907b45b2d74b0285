"""contrib/supervisorctl under a real systemd (sysbox.py): supervisorctl's
commands and output on the generator's units, for plain programs and a
[group:x]; update after adding and removing a supervisor file."""

import os
import re
import shutil
import sys
import select
import subprocess
import tempfile
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sysbox  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GENERATOR = os.environ.get("UNITCORN_GENERATOR") or os.path.join(ROOT, "build", "generator", "unitcorn-generator")
UNITS = os.environ.get("UNITCORN_UNITS") or os.path.join(ROOT, "build", "units")
SCRIPT = os.path.join(ROOT, "contrib", "supervisorctl")

pytestmark = pytest.mark.skipif(sysbox.available() is not None, reason=str(sysbox.available()))

CONFIG = """\
[program:hello]
command=/bin/sh -c 'echo "hello says hi"; exec sleep infinity'

[program:manual]
command=/bin/sleep infinity
autostart=false

[program:cart]
command=/bin/sleep infinity

[program:pay]
command=/bin/sleep infinity

[group:shop]
programs=cart,pay

; dies at once, given up after the first try: BACKOFF, then FATAL
[program:crash]
command=/bin/sh -c 'echo crashing; exit 3'
startretries=0

; ends by itself and is not restarted: EXITED
[program:once]
command=/bin/sh -c 'echo once; exit 3'
autorestart=false
startsecs=5

; says so on SIGUSR1
[program:ticker]
command=/bin/sh -c 'trap "echo ticked" USR1; echo ticker up; while :; do sleep 1000 & wait $!; done'

[program:filed]
command=/bin/sh -c 'echo to-file; echo to-err >&2; exec sleep infinity'
stdout_logfile=/run/filed.log
stderr_logfile=/run/filed.err
"""

NAMES = {"hello", "manual", "shop:cart", "shop:pay", "crash", "once", "filed", "ticker"}


@pytest.fixture(scope="module")
def box():
    supd = tempfile.mkdtemp(prefix="unitcorn-sctl-", dir="/var/tmp")
    with open(os.path.join(supd, "apps.ini"), "w") as f:
        f.write(CONFIG)
    b = sysbox.Box(GENERATOR, UNITS, supd)
    try:
        b.boot()
        b.script = b.share(SCRIPT)
        b.supd = supd
        yield b
    finally:
        b.cleanup()
        shutil.rmtree(supd, ignore_errors=True)


def ctl(b, *args):
    r = b.run("/usr/bin/python3", b.script, *args, check=False)
    return r.returncode, r.stdout


def states(out):
    """{namespec: (state, description)} from status output."""
    return {m[0]: (m[1], m[2]) for m in re.findall(r"^(\S+)\s+([A-Z]+)\s*(.*)$", out, re.M)}


def wait_status(b, name, state, timeout=20):
    """Asks `status NAME` until it says state (bounded); the last answer."""
    deadline = time.monotonic() + timeout
    while True:
        got = states(ctl(b, "status", name)[1])[name]
        if got[0] == state or time.monotonic() > deadline:
            return got


def test_status_running_and_stopped(box):
    assert wait_status(box, "crash", "FATAL") == ("FATAL", "Exited too quickly (process log may have details)")
    assert box.show("app@crash.service", "NRestarts") == "1"
    assert wait_status(box, "once", "EXITED")[0] == "EXITED"
    code, out = ctl(box, "status")
    s = states(out)
    assert set(s) == NAMES
    pid = box.show("app@hello.service", "MainPID")
    assert re.fullmatch(r"pid %s, uptime \d+:\d\d:\d\d" % pid, s["hello"][1])
    assert s["shop:cart"][0] == "RUNNING"
    assert s["manual"] == ("STOPPED", "Not started")
    assert re.fullmatch(r"[A-Z][a-z][a-z] \d\d \d\d:\d\d [AP]M", s["once"][1])
    assert code == 3        # one is not running
    # supervisorctl's columns: name padded to 33, state to 10
    line = [l for l in out.splitlines() if l.startswith("hello")][0]
    assert line.startswith("hello" + " " * 28 + "RUNNING   pid ")
    code, out = ctl(box, "status", "hello", "shop:*")
    assert code == 0 and list(states(out)) == ["hello", "shop:cart", "shop:pay"]


def test_unknown_name(box):
    code, out = ctl(box, "status", "nosuch")
    assert code == 4 and out == "nosuch: ERROR (no such process)\n"
    code, out = ctl(box, "start", "nosuch")
    assert code == 1 and out == "nosuch: ERROR (no such process)\n"
    code, out = ctl(box, "stop", "nogroup:*")
    assert code == 1 and out == "nogroup: ERROR (no such group)\n"


def test_stop_start_restart_by_name(box):
    code, out = ctl(box, "start", "manual")
    assert (code, out) == (0, "manual: started\n")
    assert box.show("app@manual.service", "ActiveState") == "active"
    code, out = ctl(box, "start", "manual")
    assert (code, out) == (0, "manual: ERROR (already started)\n")
    old = box.show("app@manual.service", "MainPID")
    code, out = ctl(box, "restart", "manual")
    assert (code, out) == (0, "manual: stopped\nmanual: started\n")
    assert box.show("app@manual.service", "MainPID") not in (old, "0")
    code, out = ctl(box, "stop", "manual")
    assert (code, out) == (0, "manual: stopped\n")
    assert box.show("app@manual.service", "ActiveState") == "inactive"
    code, out = ctl(box, "status", "manual")
    assert code == 3 and states(out)["manual"][0] == "STOPPED"


def test_group_star_and_all(box):
    code, out = ctl(box, "stop", "shop:*")
    assert (code, out) == (0, "shop:cart: stopped\nshop:pay: stopped\n")
    for u in ("app@shop:cart.service", "app@shop:pay.service"):
        assert box.show(u, "ActiveState") == "inactive"
    assert box.show("app@hello.service", "ActiveState") == "active"
    code, out = ctl(box, "start", "all")
    # the two that die at once are reported, and make the exit status 1
    assert code == 1
    got = {l.split(" (")[0] + (" (already started)" if "already" in l else "") for l in out.splitlines()}
    assert got == {"hello: ERROR (already started)", "filed: ERROR (already started)",
                   "ticker: ERROR (already started)", "manual: started", "shop:cart: started",
                   "shop:pay: started", "crash: ERROR", "once: ERROR"}, out
    assert "crash: ERROR (spawn error: BACKOFF" in out
    s = states(ctl(box, "status")[1])
    assert {n for n in s if s[n][0] == "RUNNING"} == NAMES - {"crash", "once"}
    code, out = ctl(box, "stop", "manual")
    assert code == 0


def test_tail(box):
    code, out = ctl(box, "tail", "hello")
    # the program's output, not systemd's lines about its unit
    assert code == 0 and "hello says hi" in out and "app@hello.service" not in out
    code, out = ctl(box, "tail", "crash")
    assert code == 0 and set(out.splitlines()) == {"crashing"}
    # stdout_logfile=, stderr_logfile=: those files
    assert ctl(box, "tail", "filed") == (0, "to-file\n")
    assert ctl(box, "tail", "filed", "stderr") == (0, "to-err\n")
    assert ctl(box, "tail", "-3", "filed") == (0, "le\n")
    assert ctl(box, "tail", "nosuch") == (1, "nosuch: ERROR (no such process name)\n")


def read_until(p, text, seen=b"", timeout=20):
    deadline = time.monotonic() + timeout
    while text not in seen:
        left = deadline - time.monotonic()
        assert left > 0, seen
        if select.select([p.stdout], [], [], left)[0]:
            chunk = os.read(p.stdout.fileno(), 4096)
            assert chunk, seen
            seen += chunk
    return seen


def test_tail_f_follows(box):
    p = subprocess.Popen(["nsenter", "-t", str(box.pid), "-a", "--", "/usr/bin/python3", box.script,
                          "tail", "-f", "ticker"], stdout=subprocess.PIPE, start_new_session=True)
    try:
        seen = read_until(p, b"ticker up\n")
        assert seen.startswith(b"==> Press Ctrl-C to exit <==\n")
        # a line the program writes after tail -f began
        box.systemctl("kill", "-s", "USR1", "--kill-who=main", "app@ticker.service")
        read_until(p, b"ticked\n", seen)
    finally:
        sysbox._end_nsenter(p)


def test_update_after_adding_and_removing_a_file(box):
    assert ctl(box, "reread") == (0, "No config updates to processes\n")
    with open(os.path.join(box.supd, "more.ini"), "w") as f:
        f.write("[program:extra]\ncommand=/bin/sleep infinity\n\n[program:idle]\ncommand=/bin/sleep infinity\n"
                "autostart=false\n")
    assert ctl(box, "reread") == (0, "extra: available\nidle: available\n")
    code, out = ctl(box, "avail")
    assert re.search(r"^extra\s+avail\s+auto$", out, re.M)
    assert re.search(r"^idle\s+avail\s+manual$", out, re.M)
    assert re.search(r"^hello\s+in use\s+auto$", out, re.M)
    assert ctl(box, "update") == (0, "extra: added process group\nidle: added process group\n")
    assert box.show("app@extra.service", "ActiveState") == "active"
    assert box.show("app@idle.service", "ActiveState") == "inactive"
    assert states(ctl(box, "status", "extra")[1])["extra"][0] == "RUNNING"
    assert ctl(box, "reread") == (0, "No config updates to processes\n")
    # a comment added above moves the programs' lines, and changes nothing
    with open(os.path.join(box.supd, "more.ini")) as f:
        text = f.read()
    with open(os.path.join(box.supd, "more.ini"), "w") as f:
        f.write("; more programs\n\n" + text)
    assert ctl(box, "reread") == (0, "No config updates to processes\n")
    # a changed program is stopped and started again with its new command
    old = box.show("app@extra.service", "MainPID")
    with open(os.path.join(box.supd, "more.ini"), "w") as f:
        f.write("[program:extra]\ncommand=/bin/sleep 1000\n")
    assert ctl(box, "reread") == (0, "extra: changed\nidle: disappeared\n")
    # supervisorctl's order: the removed groups, then the changed ones
    assert ctl(box, "update") == (0, "idle: stopped\nidle: removed process group\n"
                                     "extra: stopped\nextra: updated process group\n")
    assert box.show("app@extra.service", "MainPID") not in (old, "0")
    assert "1000" in box.show("app@extra.service", "ExecStart")
    os.unlink(os.path.join(box.supd, "more.ini"))
    assert ctl(box, "reread") == (0, "extra: disappeared\n")
    assert ctl(box, "update") == (0, "extra: stopped\nextra: removed process group\n")
    assert box.show("app@extra.service", "ActiveState") == "inactive"
    assert ctl(box, "status", "extra") == (4, "extra: ERROR (no such process)\n")
    assert ctl(box, "reread") == (0, "No config updates to processes\n")
