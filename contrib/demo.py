#!/usr/bin/python3
"""The quickstart's demo: supervisor configs under a throwaway systemd.

Boots systemd as PID 1 in namespaces (tests/integration/sysbox.py) with
contrib/examples/blog/ as /etc/supervisor.d, and shows what an operator sees:
the units the generator made, `systemctl status`, a request to the blog, its
journal, and PID 1 restarting it after a crash.  Then powers the box off.
Nothing is installed on this machine.

Usage: contrib/demo.py BUILD_DIR
"""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
import sysbox  # noqa: E402


def show(title, text):
    print("\n== %s" % title)
    print(text.rstrip())


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "build")
    why = sysbox.available()
    if why:
        print("contrib/demo.py: cannot boot a throwaway systemd here: %s" % why, file=sys.stderr)
        return 1
    box = sysbox.Box(os.path.join(build, "generator", "unitcorn-generator"), os.path.join(build, "units"),
                     os.path.join(HERE, "examples", "blog"))
    with box:
        show("booted a throwaway systemd; the units unitcorn-generator made",
             box.systemctl("list-units", "app@*", "apps*", "--all").stdout)
        box.wait_journal("Serving HTTP", "-u", "app@blog.service")
        show("systemctl status app@blog", box.systemctl("status", "app@blog.service", check=False).stdout)
        fetch = "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:8080/').status)"
        show("a request to the blog (inside the box)", "HTTP status " + box.run("/usr/bin/python3", "-c", fetch).stdout)
        show("journalctl -u app@blog", box.journal("-u", "app@blog.service"))
        pid = box.show("app@blog.service", "MainPID")
        box.run("kill", "-9", pid)
        box.wait_journal("Scheduled restart job", "-u", "app@blog.service")
        box.wait_journal("Serving HTTP", "_SYSTEMD_UNIT=app@blog.service", "_PID=" + box.show("app@blog.service", "MainPID"))
        show("after kill -9 %s: PID 1 restarted it" % pid,
             "MainPID=%s NRestarts=%s ActiveState=%s" % (box.show("app@blog.service", "MainPID"),
                                                          box.show("app@blog.service", "NRestarts"),
                                                          box.show("app@blog.service", "ActiveState")))
        show("the group and the numprocs target", box.systemctl("list-dependencies", "app@jobs.target",
                                                                "app@worker.target").stdout)
    print("\n== powered the box off")
    return 0


if __name__ == "__main__":
    sys.exit(main())
