"""Shared by the end-to-end tests (test_e2e_*.py): the built programs, a
Flask app, a box that runs gunicorn commands as the built unitcorn, and
ways to wait on the box's journal and to talk HTTP from inside it.

Everything a box must see lives under /var/tmp (the box has its own /tmp
and /run): the supervisor dir and the app dir are made there, so a second
box booted with the same dirs (a reboot) finds them at the same paths.
"""

import json
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sysbox  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GENERATOR = os.environ.get("UNITCORN_GENERATOR") or os.path.join(ROOT, "build", "generator", "unitcorn-generator")
UNITS = os.environ.get("UNITCORN_UNITS") or os.path.join(ROOT, "build", "units")
UNITCORN = os.environ.get("UNITCORN") or os.path.join(ROOT, "build", "server", "unitcorn")

# Every app@ instance: a sanitizer build of unitcorn must not report
# CPython's start-up allocations as leaks at each exit (tests/server/meson.build);
# every other sanitizer report is looked for in the journal (no_sanitizer_reports).
SERVICE_ENV = {"ASAN_OPTIONS": "detect_leaks=0"}

FLASK_APP = '''\
import logging
import os

from flask import Flask, request

VERSION = "one"
app = Flask(__name__)
log = logging.getLogger("e2e")


@app.route("/")
def index():
    return "e2e app %s from worker %d\\n" % (VERSION, os.getpid())


@app.route("/print")
def do_print():
    print("e2e print from worker %d" % os.getpid())
    return "printed\\n"


@app.route("/log")
def do_log():
    log.debug("e2e debug record")
    log.warning("e2e warning record")
    log.error("e2e error record")
    log.critical("e2e critical record")
    return "logged\\n"


@app.route("/raise")
def do_raise():
    raise RuntimeError("e2e failed on purpose: " + request.args.get("why", ""))
'''

# Run inside the box (its own network namespace): GET each path on a new
# connection; prints one JSON line per request: [status, body] or
# ["error", "ExceptionName: text"].
CLIENT = r"""
import http.client, json, sys
port = int(sys.argv[1])
for path in sys.argv[2:]:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        c.request("GET", path, headers={"User-Agent": "e2e-test/1"})
        r = c.getresponse()
        print(json.dumps([r.status, r.read().decode()]))
    except Exception as e:
        print(json.dumps(["error", "%s: %s" % (type(e).__name__, e)]))
    finally:
        c.close()
"""


def skip_reason():
    return sysbox.available()


def workdir():
    """A fresh directory under /var/tmp that the box sees at the same
    path, readable by every user (programs with user= read their app)."""
    d = tempfile.mkdtemp(prefix="unitcorn-e2e-", dir="/var/tmp")
    os.chmod(d, 0o755)
    return d


def write(path, text, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    return path


def make_app(directory):
    """The Flask app as DIR/wsgi.py (wsgi:app), with pygun.py beside it."""
    write(os.path.join(directory, "wsgi.py"), FLASK_APP)
    write(os.path.join(directory, "pygun.py"), "# gunicorn config\nbind = '127.0.0.1:5000'\n")
    return directory


def box(supervisor_dir):
    """A Box (not booted) whose generator rewrites gunicorn commands to the
    built unitcorn."""
    return sysbox.Box(GENERATOR, UNITS, supervisor_dir, unitcorn=UNITCORN, service_env=SERVICE_ENV)


def get(b, port, *paths, timeout=90):
    """GET each path from inside the box; [(status, body)] (status "error"
    with the exception as body when the request failed)."""
    r = b.run("/usr/bin/python3", "-c", CLIENT, str(port), *paths, timeout=timeout)
    return [tuple(json.loads(line)) for line in r.stdout.splitlines()]


def get_one(b, port, path="/"):
    return get(b, port, path)[0]


def cursor(b):
    """The journal's current end (the sequence number of its last entry),
    for waiting on what comes after it.  Not journalctl's --after-cursor:
    systemd 252 combined with a match (-u, -t) skips the first matching
    entry when the cursor's own entry does not match."""
    out = b.run("journalctl", "--no-pager", "-n", "1", "-o", "json").stdout
    return seqnum(json.loads(out.splitlines()[-1]))


def seqnum(entry):
    """The entry's sequence number, from its cursor ("s=...;i=HEX;...")."""
    fields = dict(kv.split("=", 1) for kv in entry["__CURSOR"].split(";"))
    return int(fields["i"], 16)


def wait_after(b, c, pattern, *args, timeout=30):
    """The MESSAGE of the first journal entry after cursor c (and matching
    args, e.g. -u UNIT) that contains pattern."""
    e = wait_entries(b, lambda e: seqnum(e) > c and pattern in message(e), 1, *args, timeout=timeout)[0]
    return message(e)


def wait_entries(b, predicate, count, *args, timeout=30):
    """Follows the journal as JSON (with args, e.g. -u UNIT) until count
    entries satisfy predicate; returns them."""
    found = []
    for line in b.follow_journal(*args, output="json", timeout=timeout, what="%d journal entries" % count):
        if line.strip():
            e = json.loads(line)
            if predicate(e):
                found.append(e)
                if len(found) == count:
                    return found


def message(e):
    """An entry's MESSAGE as text (journalctl gives non-UTF-8 ones as a list of bytes)."""
    m = e.get("MESSAGE")
    return m if isinstance(m, str) else bytes(m or []).decode(errors="replace")


def main_pid(b, unit):
    """The unit's main PID in the box (never 0: `kill 0` would signal
    the caller's process group)."""
    pid = int(b.show(unit, "MainPID"))
    assert pid > 0, "%s has no main process (%s)" % (unit, b.show(unit, "ActiveState"))
    return pid


def children(b, pid):
    """The PIDs (in the box) of pid's children: a master's workers."""
    r = b.run("cat", "/proc/%d/task/%d/children" % (pid, pid), check=False)
    return sorted(int(k) for k in r.stdout.split())


def cmdline(b, pid):
    r = b.run("cat", "/proc/%d/cmdline" % pid, check=False)
    return r.stdout.replace("\0", " ").strip()


def poll(what, fn, tries=100):
    """fn() until it returns something true, a bounded number of times,
    each one a command's answer (no sleeping in between: each call waits on
    the box).  For state that no event announces (a set of PIDs)."""
    for _ in range(tries):
        v = fn()
        if v:
            return v
    raise AssertionError("still not %s after %d tries" % (what, tries))


def no_sanitizer_reports(b, *args):
    text = b.journal(*args)
    for marker in ("ERROR: AddressSanitizer", "runtime error:", "ERROR: LeakSanitizer"):
        assert marker not in text, text


def cleanup_dir(d):
    shutil.rmtree(d, ignore_errors=True)
