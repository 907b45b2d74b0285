"""Issue 4, integration tests 8 and 9 (on top of test_generator_systemd.py,
which has them for plain programs that only sleep):

8. numprocs and [group:x] with gunicorn programs: `systemctl restart
   app@x.target` restarts every member (new invocation, new master, each
   serving again); priority orders start-up, and with Type=notify a later
   priority starts only once the earlier program is READY (its workers
   imported the app);
9. a plain shell loop with autorestart=unexpected and exitcodes, told how
   to end through a FIFO: each way of ending is restarted or not exactly as
   supervisor's rule says (an exit code in exitcodes is expected, any other
   code and any death by a signal are unexpected), and the restarted
   process has its user=, directory= and environment= again.
"""

import os

import pytest

import e2e

pytestmark = pytest.mark.skipif(e2e.skip_reason() is not None, reason=str(e2e.skip_reason()))

GUNICORN = """\
[program:early]
command=gunicorn -w 1 -b 127.0.0.1:6001 wsgi:app
directory=%(app)s
priority=1

[program:late]
command=gunicorn -w 1 -b 127.0.0.1:6002 wsgi:app
directory=%(app)s
priority=2

[program:cart]
command=gunicorn -w 1 -b 127.0.0.1:6003 wsgi:app
directory=%(app)s

[program:pay]
command=gunicorn -w 1 -b 127.0.0.1:6004 wsgi:app
directory=%(app)s

[group:shop]
programs=cart,pay

[program:api]
command=gunicorn -w 1 -b 127.0.0.1:70%%(process_num)02d wsgi:app
directory=%(app)s
numprocs=2
process_name=%%(program_name)s_%%(process_num)02d
"""

# The loop waits on its FIFO: "exit N" ends it with status N, anything
# else is echoed.  A read that meets only EOF (it opened the FIFO while the
# last writer was still closing it) opens it again.  startsecs=0: supervisor takes an exit within startsecs
# for a failed start and retries it whatever the code; here every exit
# comes later than that, as in a long-running program.
LOOP = """\
[program:%(name)s]
command=/bin/sh -c 'echo "%%(program_name)s up as $(id -un) in $(pwd) with $COLOR"; while :; do read -r line < %%(program_name)s.ctl || continue; case $line in exit*) exit ${line#exit};; esac; echo "%%(program_name)s: $line"; done'
directory=%(dir)s
user=nobody
environment=COLOR="deep blue"
autorestart=unexpected
exitcodes=%(exitcodes)s
startsecs=0
"""


@pytest.fixture(scope="module")
def env():
    root = e2e.workdir()
    supd = os.path.join(root, "supervisor.d")
    app = e2e.make_app(os.path.join(root, "app"))
    loopdir = os.path.join(root, "loop")
    os.mkdir(loopdir)
    os.chmod(loopdir, 0o755)
    e2e.write(os.path.join(supd, "gunicorn.ini"), GUNICORN % {"app": app})
    loops = ""
    for name, codes in (("loop", "0,2"), ("strict", "2")):
        os.mkfifo(os.path.join(loopdir, name + ".ctl"))
        os.chmod(os.path.join(loopdir, name + ".ctl"), 0o666)
        loops += LOOP % {"name": name, "dir": loopdir, "exitcodes": codes} + "\n"
    e2e.write(os.path.join(supd, "loop.ini"), loops)
    b = e2e.box(supd)
    try:
        b.boot()
        b.loopdir = loopdir
        yield b
    finally:
        b.cleanup()
        e2e.cleanup_dir(root)


MEMBERS = {"app@early.service": 6001, "app@late.service": 6002,
           "app@shop:cart.service": 6003, "app@shop:pay.service": 6004,
           "app@api_00.service": 7000, "app@api_01.service": 7001}

# A [group:x] member's socket unit is app@x:NAME.socket, and systemd names
# the descriptor after it (FileDescriptorName= defaults to the unit name):
# LISTEN_FDNAMES=app@shop:cart.socket reads as two names for one
# descriptor; unitcorn takes the socket all the same (server/listen.c).


def test_8_priority_orders_start_up_after_ready(env):
    b = env
    early_ready = int(b.show("app@early.service", "ActiveEnterTimestampMonotonic"))
    late_started = int(b.show("app@late.service", "ExecMainStartTimestampMonotonic"))
    assert 0 < early_ready <= late_started
    assert b.show("app@early.service", "Type") == "notify"
    assert e2e.get_one(b, 6002)[0] == 200


@pytest.mark.parametrize("target,members", [
    ("app@shop.target", ["app@shop:cart.service", "app@shop:pay.service"]),
    ("app@api.target", ["app@api_00.service", "app@api_01.service"]),
])
def test_8_restarting_the_target_restarts_every_member(env, target, members):
    b = env
    for unit in members:
        assert b.show(unit, "ActiveState") == "active", unit
        assert e2e.get_one(b, MEMBERS[unit])[0] == 200, unit
    before = {u: (b.show(u, "InvocationID"), e2e.main_pid(b, u)) for u in members}
    b.systemctl("restart", target)
    for unit, (invocation, master) in before.items():
        assert b.show(unit, "ActiveState") == "active", unit
        assert b.show(unit, "InvocationID") != invocation, unit
        assert e2e.main_pid(b, unit) != master, unit
        status, body = e2e.get_one(b, MEMBERS[unit])
        assert status == 200 and body.startswith("e2e app one"), (unit, body)
    # the other programs were left alone
    for u in set(MEMBERS) - set(members):
        if not u.startswith("app@shop:"):
            assert b.show(u, "ActiveState") == "active", u


def tell(b, name, line):
    """Writes a line to the loop's FIFO: waits until the loop opens it."""
    b.run("sh", "-c", "echo '%s' > %s/%s.ctl" % (line, b.loopdir, name), timeout=30)


def ended(b, name, how):
    """Ends the loop (exit N through its FIFO, or a signal); whether PID 1
    restarted it."""
    unit = "app@%s.service" % name
    restarts = int(b.show(unit, "NRestarts"))
    c = e2e.cursor(b)
    if how.startswith("SIG"):
        b.run("kill", "-" + how[3:], str(e2e.main_pid(b, unit)))
    else:
        tell(b, name, how)
    # systemd says how the process ended ("Failed with result", or
    # "Deactivated successfully" for an exit in SuccessExitStatus= and for
    # SIGTERM, which it counts as clean); the restart is decided at that
    # moment: the unit is then either dead or waiting for RestartSec=
    e2e.wait_entries(b, lambda e: e2e.seqnum(e) > c and any(t in e2e.message(e) for t in (
        "Failed with result", "Deactivated successfully")), 1, "-u", unit)
    if b.show(unit, "SubState") not in ("dead", "failed"):
        line = e2e.wait_after(b, c, "Scheduled restart job", "-u", unit)
        assert "restart counter is at %d" % (restarts + 1) in line, line
        # the new process, as the program is configured
        up = e2e.wait_after(b, c, "%s up as" % name, "-u", unit)
        assert up == "%s up as nobody in %s with deep blue" % (name, b.loopdir), up
        return True
    assert b.show(unit, "SubState") == "dead" and b.show(unit, "Result") == "success"
    assert int(b.show(unit, "NRestarts")) == restarts
    return False


@pytest.mark.parametrize("name,how,restarted", [
    ("loop", "exit 3", True),      # not in exitcodes=0,2: unexpected
    ("loop", "SIGTERM", True),     # a death by a signal is always unexpected to supervisor
    ("loop", "SIGKILL", True),
    ("loop", "exit 2", False),     # in exitcodes: expected, stays stopped
    ("loop", "exit 0", False),
    ("strict", "exit 0", True),    # exitcodes=2: 0 is unexpected too
    ("strict", "exit 2", False),
])
def test_9_autorestart_unexpected_with_exitcodes(env, name, how, restarted):
    b = env
    unit = "app@%s.service" % name
    if b.show(unit, "ActiveState") != "active":
        b.systemctl("start", unit)
    assert b.show(unit, "User") == "nobody"
    # the loop is reading its FIFO (and has closed it after the last line:
    # a line written meanwhile would be lost)
    c = e2e.cursor(b)
    try:
        tell(b, name, "ping")
        e2e.wait_after(b, c, "%s: ping" % name, "-u", unit)
        assert ended(b, name, how) == restarted
    except BaseException:
        print(b.run("journalctl", "--no-pager", "-o", "short-monotonic", "-u", unit).stdout)
        raise


def test_9_loop_output_in_the_journal(env):
    assert "loop: ping" in env.journal("-u", "app@loop.service")
    e2e.no_sanitizer_reports(env, "-u", "app@early.service", "-u", "app@api_00.service")
