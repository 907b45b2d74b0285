"""The sandbox of the units we generate (issue 5, "The units we
generate"), under a real systemd as PID 1 (sysbox.py):

1. a gunicorn program rewritten to unitcorn gets the sandbox drop-in
   (app@NAME.service.d/60-sandbox.conf) and its Flask app still works:
   it reads its files, writes to its directory= (ReadWritePaths=), logs to
   the journal, and a large upload is spooled to its private /var/tmp;
   what the sandbox forbids fails (writing outside, /root, /dev) and the
   app's /tmp is its own;
2. `systemd-analyze security` scores it far below the same program with
   systemd_sandbox=false (the score before), lower still with user=
   (which works as well);
3. per program: an override.conf (what `systemctl edit` writes, in
   /run/systemd/system: `--runtime`) loosens one setting and wins over
   the generator's drop-in; a file of the same name, linked to /dev/null,
   drops the sandbox;
4. plain programs keep supervisor's semantics (no sandbox) unless
   systemd_sandbox=true, and then run sandboxed;
5. hostile values in command= and environment= reach the program as
   written: its argv and environment, as it prints them, and no
   ExecStartPre= appeared.

The box shows its stage at /srv/unitcorn-box (Box(srv=True)): the
sandbox's PrivateTmp= hides /var/tmp, where the stage lives on the host.
Every wait is on an event (systemctl's own jobs, an HTTP answer, a
journal line).
"""

import hashlib
import json
import os
import re

import pytest

import e2e
import sysbox

pytestmark = pytest.mark.skipif(e2e.skip_reason() is not None, reason=str(e2e.skip_reason()))

APP = r'''
import errno
import hashlib
import json
import logging
import os

from flask import Flask, request

app = Flask(__name__)
log = logging.getLogger("sandbox")


def attempt(fn):
    try:
        fn()
        return "ok"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))


def write(path, text="x"):
    with open(path, "w") as f:
        f.write(text)


@app.route("/read")
def read():
    with open("data.txt") as f:
        return f.read()


@app.route("/write", methods=["POST"])
def do_write():
    write("written.txt", request.get_data(as_text=True))
    return "wrote %s\n" % os.path.abspath("written.txt")


@app.route("/log")
def do_log():
    log.warning("sandbox app log record %s", request.args.get("mark", ""))
    return "logged\n"


@app.route("/upload", methods=["POST"])
def upload():
    # the body is spooled before the app runs (bodies over 64 KiB): its
    # O_TMPFILE is among our fds while we read it
    spools = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink("/proc/self/fd/" + fd)
        except OSError:
            continue
        if target.endswith("(deleted)"):
            spools.append(target)
    data = request.stream.read()
    return json.dumps({"length": len(data), "sha256": hashlib.sha256(data).hexdigest(), "spools": spools})


@app.route("/probe")
def probe():
    path = request.args.get("path")
    return json.dumps({
        "tmp": attempt(lambda: write("/tmp/unitcorn-sandbox-probe")),
        # access(2) says EROFS without writing: /etc is the host's
        "etc": os.access("/etc", os.W_OK),
        "usr": os.access("/usr", os.W_OK),
        "run": os.access("/run", os.W_OK),
        "root": attempt(lambda: os.listdir("/root")),
        "dev": sorted(os.listdir("/dev")),
        "path": attempt(lambda: write(path)) if path else None,
    })
'''

# A plain program's argv and environment, printed as the program got
# them (test 5); and a plain program that writes to its directory (4).
SHOW_ARGV = "import json, os, sys; print('ARGV ' + json.dumps([sys.argv[1:], dict(os.environ)]), flush=True)"
WRITER = "open('alive.txt', 'w').write('alive'); print('wrote alive.txt', flush=True)"

# test 5: each value holds what could end a word, a line or a directive.
INJECT_INI = """[program:inject]
command=/usr/bin/python3 -c "%(show)s" "a
  ExecStartPre=/bin/false" '%%%%n' $HOME 'a;b' "q\\"uote" 'tail\\'
environment=A="x
  B=injected",C="100%%%%",D="$HOME ${X}",F="back\\slash",H="tail\\"
autostart=false
startsecs=0
autorestart=false
"""
INJECT_ARGV = ["a\nExecStartPre=/bin/false", "%n", "$HOME", "a;b", 'q"uote', "tail\\"]
INJECT_ENV = {"A": "x\nB=injected", "C": "100%", "D": "$HOME ${X}", "F": "back\\slash", "H": "tail\\"}

# what PrivateDevices=yes leaves in /dev
PRIVATE_DEV = {"char", "console", "core", "fd", "full", "hugepages", "log", "mqueue", "null", "ptmx", "pts", "random",
               "shm", "stderr", "stdin", "stdout", "tty", "urandom", "zero"}

PORTS = {"web": 5000, "before": 5001, "loose": 5002, "masked": 5003, "daemon": 5004}


class Env:
    pass


def security_score(b, unit):
    """systemd-analyze security's overall exposure level of unit."""
    out = b.run("systemd-analyze", "security", "--no-pager", unit, check=False).stdout
    m = re.search(r"Overall exposure level for %s: (\d+\.\d+)" % re.escape(unit), out)
    assert m, out
    return float(m.group(1))


@pytest.fixture(scope="module")
def env():
    e = Env()
    e.root = e2e.workdir()
    supd = os.path.join(e.root, "supervisor.d")
    os.mkdir(supd)
    e.box = sysbox.Box(e2e.GENERATOR, e2e.UNITS, supd, unitcorn=e2e.UNITCORN, service_env=e2e.SERVICE_ENV,
                       srv=True)
    try:
        # the programs' directories in the stage, as the box sees them under /srv
        apps = {}
        for name in list(PORTS) + ["optin", "plain"]:
            d = os.path.join(e.box.stage, "apps", name)
            e2e.write(os.path.join(d, "wsgi.py"), APP)
            e2e.write(os.path.join(d, "data.txt"), "data of %s\n" % name)
            apps[name] = e.box.inside(d)
        os.chmod(os.path.join(e.box.stage, "apps"), 0o755)
        # user=daemon writes to its directory as under supervisor: its own
        os.chown(os.path.join(e.box.stage, "apps", "daemon"), 1, 1)
        e.apps = apps
        ini = ""
        for name, port in PORTS.items():
            ini += "[program:%s]\ncommand=gunicorn -w 1 -b 127.0.0.1:%d wsgi:app\ndirectory=%s\n" % (
                name, port, apps[name])
            if name == "before":
                ini += "systemd_sandbox=false\n"
            if name == "daemon":
                ini += "user=daemon\n"
        ini += '[program:plain]\ncommand=/usr/bin/python3 -c "%s"\ndirectory=%s\nstartsecs=0\nautorestart=false\n' % (
            WRITER, apps["plain"])
        ini += ('[program:optin]\ncommand=/usr/bin/python3 -c "%s"\ndirectory=%s\nstartsecs=0\nautorestart=false\n'
                'systemd_sandbox=true\n' % (WRITER, apps["optin"]))
        e2e.write(os.path.join(supd, "programs.ini"), ini)
        e2e.write(os.path.join(supd, "inject.ini"), INJECT_INI % {"show": SHOW_ARGV})
        e.box.boot()
        # loosened by an admin's drop-in, as `systemctl edit --runtime` writes it
        b = e.box
        b.run("mkdir", "-p", "/run/unitcorn-loose", "/run/systemd/system/app@loose.service.d",
              "/run/systemd/system/app@masked.service.d")
        b.run("sh", "-c", "printf '[Service]\\nReadWritePaths=/run/unitcorn-loose\\n' "
                          "> /run/systemd/system/app@loose.service.d/override.conf")
        b.run("ln", "-s", "/dev/null", "/run/systemd/system/app@masked.service.d/60-sandbox.conf")
        b.systemctl("daemon-reload")
        b.systemctl("restart", *("app@%s.service" % n for n in PORTS))
        yield e
    finally:
        e.box.cleanup()
        e2e.cleanup_dir(e.root)


def get_json(b, port, path):
    status, body = e2e.get_one(b, port, path)
    assert status == 200, body
    return json.loads(body)


def test_1_sandboxed_flask_app_works(env):
    b = env.box
    unit = "app@web.service"
    assert b.show(unit, "ActiveState") == "active"
    assert b.show(unit, "ProtectSystem") == "strict"
    assert b.show(unit, "PrivateTmp") == "yes"
    assert b.show(unit, "ReadWritePaths") == env.apps["web"]

    # reads its files; writes to its directory=
    assert e2e.get_one(b, 5000, "/read") == (200, "data of web\n")
    r = b.run("/usr/bin/python3", "-c", "import http.client as h; c = h.HTTPConnection('127.0.0.1', 5000); "
              "c.request('POST', '/write', body=b'hello from the sandbox'); r = c.getresponse(); "
              "print(r.status, r.read().decode())")
    assert r.stdout.strip() == "200 wrote %s/written.txt" % env.apps["web"], r.stdout
    with open(os.path.join(env.box.stage, "apps", "web", "written.txt")) as f:
        assert f.read() == "hello from the sandbox"

    # logging reaches the journal
    mark = os.urandom(8).hex()
    assert e2e.get_one(b, 5000, "/log?mark=" + mark) == (200, "logged\n")
    b.wait_journal("sandbox app log record " + mark, "-u", unit)

    # a 1 MiB upload is spooled to the private /var/tmp and read whole
    body = os.urandom(1 << 20)
    script = ("import http.client as h, sys; body = open(sys.argv[1], 'rb').read(); "
              "c = h.HTTPConnection('127.0.0.1', 5000); c.request('POST', '/upload', body=body); "
              "r = c.getresponse(); print(r.status, r.read().decode())")
    src = os.path.join(env.box.stage, "upload.bin")
    with open(src, "wb") as f:
        f.write(body)
    r = b.run("/usr/bin/python3", "-c", script, src)
    status, _, answer = r.stdout.strip().partition(" ")
    assert status == "200", r.stdout
    up = json.loads(answer)
    assert up["length"] == len(body) and up["sha256"] == hashlib.sha256(body).hexdigest()
    assert any(s.startswith("/var/tmp/") for s in up["spools"]), up

    # what the sandbox forbids
    p = get_json(b, 5000, "/probe")
    assert p["tmp"] == "ok"                     # its own /tmp ...
    assert b.run("test", "-e", "/tmp/unitcorn-sandbox-probe", check=False).returncode == 1   # ... not the host's
    assert p["etc"] is False and p["usr"] is False and p["run"] is False
    assert p["root"] == "EACCES"
    print("/dev in the sandbox:", p["dev"])
    assert "null" in p["dev"] and "urandom" in p["dev"]
    assert set(p["dev"]) <= PRIVATE_DEV, set(p["dev"]) - PRIVATE_DEV
    e2e.no_sanitizer_reports(b, "-u", unit)


def test_2_exposure_score(env):
    b = env.box
    before, after = security_score(b, "app@before.service"), security_score(b, "app@web.service")
    as_user = security_score(b, "app@daemon.service")
    print("systemd-analyze security: app@before.service %.1f, app@web.service %.1f, app@daemon.service (user=) %.1f"
          % (before, after, as_user))
    assert before >= 9.0 and after <= 2.0 and as_user < after, (before, after, as_user)
    # with user=, the same app works, writing to its (own) directory
    assert e2e.get_one(b, 5004, "/read") == (200, "data of daemon\n")
    r = b.run("/usr/bin/python3", "-c", "import http.client as h; c = h.HTTPConnection('127.0.0.1', 5004); "
              "c.request('POST', '/write', body=b'by daemon'); print(c.getresponse().status)")
    assert r.stdout.strip() == "200"
    st = os.stat(os.path.join(env.box.stage, "apps", "daemon", "written.txt"))
    assert st.st_uid == 1
    # the unsandboxed twin serves the same app, unconfined
    assert e2e.get_one(b, 5001, "/read") == (200, "data of before\n")
    assert get_json(b, 5001, "/probe")["etc"] is True


def test_3_override_and_mask(env):
    b = env.box
    # override.conf comes after 60-sandbox.conf: its ReadWritePaths= adds
    # to the generator's; everything else of the sandbox stays
    assert b.show("app@loose.service", "ReadWritePaths").split() == [env.apps["loose"], "/run/unitcorn-loose"]
    assert b.show("app@loose.service", "ProtectSystem") == "strict"
    p = get_json(b, 5002, "/probe?path=/run/unitcorn-loose/x")
    assert p["path"] == "ok" and p["etc"] is False
    # without the override the same write is refused
    assert get_json(b, 5000, "/probe?path=/run/unitcorn-loose/x")["path"] == "EROFS"

    # masked: no sandbox at all
    assert b.show("app@masked.service", "ProtectSystem") == "no"
    assert security_score(b, "app@masked.service") >= 9.0
    assert get_json(b, 5003, "/probe")["root"] == "ok"


def test_4_plain_programs(env):
    b = env.box
    for name, sandboxed in (("plain", False), ("optin", True)):
        unit = "app@%s.service" % name
        b.wait_journal("wrote alive.txt", "-u", unit)
        assert b.show(unit, "ProtectSystem") == ("strict" if sandboxed else "no")
        assert b.show(unit, "NoNewPrivileges") == ("yes" if sandboxed else "no")
        with open(os.path.join(env.box.stage, "apps", name, "alive.txt")) as f:
            assert f.read() == "alive"


def test_5_values_reach_the_program_as_written(env):
    b = env.box
    unit = "app@inject.service"
    assert b.show(unit, "ExecStartPre") == ""
    b.systemctl("start", unit)
    line = b.wait_journal("ARGV ", "-u", unit)
    argv, environ = json.loads(line[len("ARGV "):])
    assert argv == INJECT_ARGV
    for k, v in INJECT_ENV.items():
        assert environ.get(k) == v, (k, environ.get(k))
    assert "B" not in environ
