"""Issue 4, integration tests 6 and 7, with gunicorn programs (the plain
programs' versions are in test_generator_systemd.py):

6. a reboot: the box is powered off and a new one boots with the same
   /etc/supervisor.d: the autostart=true gunicorn program is back, its
   socket listening and answering, without any command; the
   autostart=false one is not (its port refuses connections);
7. a broken INI beside good ones: at boot and after daemon-reload the good
   ones run; after daemon-reload the generator's messages naming file and
   line are in the journal (at boot they go to /dev/kmsg, which the box
   does not read: test_generator_systemd.py).
"""

import os

import pytest

import e2e

pytestmark = pytest.mark.skipif(e2e.skip_reason() is not None, reason=str(e2e.skip_reason()))

BROKEN = """\
[program:broken]
command=gunicorn -w 1 -b 127.0.0.1:5002 wsgi:app
directory=%(app)s
startsecs=soon

[program:odd]
command=gunicorn -w 1 --no-such-option -b 127.0.0.1:5003 wsgi:app
directory=%(app)s
"""


@pytest.fixture(scope="module")
def dirs():
    root = e2e.workdir()
    supd = os.path.join(root, "supervisor.d")
    app = e2e.make_app(os.path.join(root, "app"))
    e2e.write(os.path.join(supd, "web.ini"),
              "[program:web]\ncommand=gunicorn -w 1 -b 127.0.0.1:5000 wsgi:app\ndirectory=%s\n" % app)
    e2e.write(os.path.join(supd, "idle.ini"),
              "[program:idle]\ncommand=gunicorn -w 1 -b 127.0.0.1:5001 wsgi:app\ndirectory=%s\nautostart=false\n"
              % app)
    e2e.write(os.path.join(supd, "zz-broken.ini"), BROKEN.replace("%(app)s", app))
    yield supd
    e2e.cleanup_dir(root)


def check_programs(b):
    # autostart=true: socket and service up at boot, answering
    assert b.show("app@web.socket", "ActiveState") == "active"
    assert b.show("app@web.service", "ActiveState") == "active"
    assert b.show("app@web.service", "Type") == "notify"
    status, body = e2e.get_one(b, 5000)
    assert status == 200 and body.startswith("e2e app one from worker "), body
    # autostart=false: nothing listens
    assert b.show("app@idle.socket", "ActiveState") == "inactive"
    assert b.show("app@idle.service", "ActiveState") == "inactive"
    status, error = e2e.get_one(b, 5001)
    assert status == "error" and error.startswith("ConnectionRefusedError"), error
    # the broken program has no drop-in at all, its neighbour in the file is kept as it is
    assert b.show("app@broken.service", "ExecStart") == ""
    assert b.show("app@broken.socket", "ActiveState") == "inactive"


def test_6_reboot_brings_back_autostart_programs_7_broken_file(dirs):
    for boot in (1, 2):
        with e2e.box(dirs) as b:
            check_programs(b)
            if boot == 1:
                c = e2e.cursor(b)
                b.systemctl("daemon-reload")
                line = e2e.wait_after(b, c, "startsecs", "-t", "unitcorn-generator")
                assert line.startswith("/etc/supervisor.d/zz-broken.ini:4: startsecs: "), line
                assert line.endswith("skipping program 'broken'."), line
                line = e2e.wait_after(b, c, "--no-such-option", "-t", "unitcorn-generator")
                assert line.startswith("/etc/supervisor.d/zz-broken.ini:7: [program:odd] command: "), line
                assert "gunicorn would refuse its arguments (unrecognized arguments: --no-such-option)" in line
                b.systemctl("start", "sockets.target", "apps.target")
                check_programs(b)
                # a program the operator starts by hand works as well
                b.systemctl("start", "app@idle.socket")
                assert e2e.get_one(b, 5001)[0] == 200
            e2e.no_sanitizer_reports(b, "-u", "app@web.service", "-u", "app@idle.service")
