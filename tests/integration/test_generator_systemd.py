"""unitcorn-generator under a real systemd as PID 1 (sysbox.py).

Supervisor configs go into /etc/supervisor.d, systemd boots and runs the
generator, and we check what an operator would: the units run (or not) as
supervisor would have them, with their user, directory and environment,
output in `journalctl -u`, restarts as autorestart/exitcodes say, groups
restart together, priority orders start-up, a broken file is reported with
file and line in the journal while its neighbours run, a reboot brings the
autostart programs back.  Plain (non-WSGI) programs: the gunicorn rewrite
is issue 4's.
"""

import os
import shutil
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sysbox  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GENERATOR = os.environ.get("UNITCORN_GENERATOR") or os.path.join(ROOT, "build", "generator", "unitcorn-generator")
UNITS = os.environ.get("UNITCORN_UNITS") or os.path.join(ROOT, "build", "units")

pytestmark = pytest.mark.skipif(sysbox.available() is not None, reason=str(sysbox.available()))

CONFIGS = {
    "hello.ini": """
[program:hello]
command=/bin/sh -c 'echo "hello from $(id -un) in $(pwd) with $GREETING"; exec sleep infinity'
directory=/usr
user=nobody
environment=GREETING="hi, there"
""",
    "manual.ini": """
[program:manual]
command=/bin/sleep infinity
autostart=false
""",
    "crash.ini": """
; exits 3, not an expected code: restarted (supervisor: autorestart=unexpected)
[program:crash]
command=/bin/sh -c 'echo crash run; exit 3'
startsecs=0
autorestart=unexpected
exitcodes=0

; exits 2, an expected code: not restarted
[program:clean]
command=/bin/sh -c 'echo clean run; exit 2'
startsecs=0
autorestart=unexpected
exitcodes=0,2
""",
    "group.ini": """
[program:first]
command=/bin/sleep infinity
priority=1

[program:second]
command=/bin/sleep infinity
priority=2

[group:web]
programs=first,second
""",
    "order.ini": """
[program:early]
command=/bin/sh -c 'echo early up; exec sleep infinity'
priority=10

[program:late]
command=/bin/sh -c 'echo late up; exec sleep infinity'
priority=20
""",
}


@pytest.fixture(scope="module")
def confdir():
    d = tempfile.mkdtemp(prefix="unitcorn-supd-")
    for name, text in CONFIGS.items():
        with open(os.path.join(d, name), "w") as f:
            f.write(text)
    yield d
    shutil.rmtree(d)


@pytest.fixture(scope="module")
def box(confdir):
    b = sysbox.Box(GENERATOR, UNITS, confdir)
    try:
        b.boot()
        yield b
    finally:
        b.cleanup()


def test_autostart_program_runs_with_user_directory_environment(box):
    line = box.wait_journal("hello from", "-u", "app@hello.service")
    assert line == "hello from nobody in /usr with hi, there"
    assert box.show("app@hello.service", "ActiveState") == "active"
    assert box.show("app@hello.service", "User") == "nobody"
    assert box.show("app@hello.service", "SourcePath") == "/etc/supervisor.d/hello.ini"
    # the output is attributed to the unit, not just tagged
    assert "hello from nobody" in box.journal("_SYSTEMD_UNIT=app@hello.service")


def test_autostart_false_is_not_started_but_can_be(box):
    assert box.show("app@manual.service", "ActiveState") == "inactive"
    assert box.show("app@manual.service", "LoadState") == "loaded"
    box.systemctl("start", "app@manual.service")
    assert box.show("app@manual.service", "ActiveState") == "active"
    box.systemctl("stop", "app@manual.service")


def test_unexpected_exit_restarts_expected_exit_does_not(box):
    box.wait_journal("Scheduled restart job, restart counter is at 2", "-u", "app@crash.service")
    assert int(box.show("app@crash.service", "NRestarts")) >= 2
    box.wait_journal("Deactivated successfully", "-u", "app@clean.service")
    assert box.show("app@clean.service", "NRestarts") == "0"
    assert box.show("app@clean.service", "Result") == "success"
    box.systemctl("stop", "app@crash.service")


def test_group_target_restarts_its_members(box):
    before = {u: box.show(u, "InvocationID") for u in ("app@web:first.service", "app@web:second.service")}
    assert all(before.values()), before
    box.systemctl("restart", "app@web.target")
    for unit, invocation in before.items():
        assert box.show(unit, "ActiveState") == "active"
        assert box.show(unit, "InvocationID") != invocation, unit


def test_priority_orders_start_up(box):
    box.wait_journal("late up", "-u", "app@late.service")
    early = int(box.show("app@early.service", "ActiveEnterTimestampMonotonic"))
    late = int(box.show("app@late.service", "ExecMainStartTimestampMonotonic"))
    assert 0 < early <= late
    # and for "supervisorctl restart all": the priority barriers restart too
    box.systemctl("restart", "apps.target")
    early = int(box.show("app@early.service", "ActiveEnterTimestampMonotonic"))
    late = int(box.show("app@late.service", "ExecMainStartTimestampMonotonic"))
    assert early <= late


def test_broken_file_is_reported_with_line_and_neighbours_still_run(box, confdir):
    path = os.path.join(confdir, "zz-broken.ini")
    with open(path, "w") as f:
        f.write("[program:broken]\ncommand=/bin/true\nautostart=true.\n\n[program:fine]\ncommand=/bin/sleep infinity\n")
    try:
        box.systemctl("daemon-reload")
        line = box.wait_journal("not a valid boolean", "-t", "unitcorn-generator")
        assert line.startswith("/etc/supervisor.d/zz-broken.ini:3: autostart: not a valid boolean value: 'true.'")
        fields = box.run("journalctl", "--no-pager", "-t", "unitcorn-generator", "-o", "export",
                         "CONFIG_LINE=3", check=False).stdout
        assert "CONFIG_FILE=/etc/supervisor.d/zz-broken.ini" in fields
        assert "PRIORITY=3" in fields
        assert box.show("app@broken.service", "LoadState") in ("not-found", "bad-setting", "loaded")
        assert box.show("app@broken.service", "ExecStart") == ""
        box.systemctl("start", "app@fine.service")
        assert box.show("app@fine.service", "ActiveState") == "active"
        assert box.show("app@hello.service", "ActiveState") == "active"
    finally:
        os.unlink(path)
        box.systemctl("daemon-reload")


def test_unknown_instance_refuses_to_start(box):
    r = box.systemctl("start", "app@nosuchprogram.service", check=False)
    assert r.returncode != 0
    assert box.show("app@nosuchprogram.service", "ActiveState") != "active"


def test_reboot_brings_back_autostart_programs(confdir):
    for boot in (1, 2):
        with sysbox.Box(GENERATOR, UNITS, confdir) as b:
            b.wait_journal("hello from", "-u", "app@hello.service")
            assert b.show("app@hello.service", "ActiveState") == "active", boot
            assert b.show("app@web:first.service", "ActiveState") == "active", boot
            assert b.show("app@manual.service", "ActiveState") == "inactive", boot
