#!/usr/bin/python3
"""The quickstart's demo: a supervisor config running gunicorn, under a
throwaway systemd.

Boots systemd as PID 1 in namespaces (tests/integration/sysbox.py) with
contrib/examples/blog/ as /etc/supervisor.d and the built unitcorn as the
server the generator's units run, and shows what an operator sees:
`systemctl status app@blog`, a request to the Flask blog and its answer,
`journalctl -u app@blog` (the access entries and the app's log), a crash
(kill -9 of the master) and PID 1 bringing it back.  Then powers the box
off.  Nothing is installed on this machine, and nothing is written into
the checkout.

Usage: contrib/demo.py BUILD_DIR
"""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
import sysbox  # noqa: E402

UNIT = "app@blog.service"

# Inside the box (its own network namespace): GET a path, print the answer.
FETCH = r"""
import sys, urllib.error, urllib.request
try:
    r = urllib.request.urlopen("http://127.0.0.1:8080" + sys.argv[1], timeout=60)
except urllib.error.HTTPError as e:
    r = e
print("HTTP %d %s" % (r.status, r.reason))
body = r.read().decode().rstrip()
print(body if r.status == 200 else "(%d bytes of HTML)" % len(body))
"""


def show(title, text):
    print("\n== %s" % title)
    print(text.rstrip())


def fetch(box, path):
    out = box.run("/usr/bin/python3", "-c", FETCH, path).stdout
    show("GET http://127.0.0.1:8080%s (from inside the box)" % path, out)


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "build")
    why = sysbox.available()
    if why:
        print("contrib/demo.py: cannot boot a throwaway systemd here: %s" % why, file=sys.stderr)
        return 1
    box = sysbox.Box(os.path.join(build, "generator", "unitcorn-generator"), os.path.join(build, "units"),
                     os.path.join(HERE, "examples", "blog"), unitcorn=os.path.join(build, "server", "unitcorn"),
                     # no __pycache__ in the checkout; a sanitizer build's
                     # leak report would fail every stop
                     service_env={"PYTHONDONTWRITEBYTECODE": "1", "ASAN_OPTIONS": "detect_leaks=0"})
    with box:
        show("booted a throwaway systemd; the units unitcorn-generator made",
             box.systemctl("list-units", "app@*", "apps*", "--all").stdout)
        show("systemctl status app@blog", box.systemctl("status", UNIT, check=False).stdout)
        fetch(box, "/")
        fetch(box, "/post/2")
        fetch(box, "/post/9")
        box.wait_journal("GET /post/9 HTTP/1.1", "-u", UNIT)
        show("journalctl -u app@blog",
             box.run("journalctl", "--no-pager", "-u", UNIT, check=False).stdout)
        out = box.run("journalctl", "--no-pager", "-u", UNIT, "HTTP_STATUS=200", "-o", "json", "-n", "1").stdout
        entry = json.loads(out.splitlines()[-1])
        show("journalctl -u app@blog HTTP_STATUS=200 -o json -n 1 (its fields)",
             "\n".join("%s=%s" % (k, v) for k, v in sorted(entry.items())
                       if k.startswith(("HTTP_", "REMOTE_", "WORKER_", "PRIORITY"))))
        pid = box.show(UNIT, "MainPID")
        box.run("kill", "-9", pid)
        show("kill -9 %s (the master): the crash, as PID 1 logs it" % pid,
             box.wait_journal("restart counter is at 1", "-u", UNIT))
        fetch(box, "/")
        show("journalctl -u app@blog -n 16: the crash and the restart",
             box.run("journalctl", "--no-pager", "-u", UNIT, "-n", "16", check=False).stdout)
        show("PID 1 brought it back",
             "MainPID=%s NRestarts=%s ActiveState=%s StatusText=%s" % (
                 box.show(UNIT, "MainPID"), box.show(UNIT, "NRestarts"), box.show(UNIT, "ActiveState"),
                 box.show(UNIT, "StatusText")))
    print("\n== powered the box off")
    return 0


if __name__ == "__main__":
    sys.exit(main())
