"""unitcorn under a real systemd as PID 1 (sysbox.py), logging to the
journal: started as a transient Type=notify service (systemd-run, which
returns once READY=1 came), it gets requests from inside the box, then
`journalctl -u UNIT -o json` must show what an operator would look for:
one access entry per request with its structured fields, an app's
traceback as one entry at PRIORITY=3 with the request, Python logging
records at their mapped priorities with CODE_*/LOGGER, wsgi.errors at 3,
print() output, the server's own messages with WORKER_PID.
"""

import json
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
UNITCORN = os.environ.get("UNITCORN") or os.path.join(ROOT, "build", "server", "unitcorn")
APPS = os.path.join(ROOT, "tests", "server", "apps")
UNIT = "uc-journal.service"

pytestmark = pytest.mark.skipif(sysbox.available() is not None, reason=str(sysbox.available()))

# Run inside the box (its own network namespace): one request per path, on
# a new connection each, in this order; prints each status.
CLIENT = r"""
import http.client, sys
for path in sys.argv[1:]:
    c = http.client.HTTPConnection("127.0.0.1", 8000, timeout=30)
    c.request("GET", path, headers={"User-Agent": "journal-test/1", "Referer": "http://ref.test/"})
    r = c.getresponse()
    r.read()
    print(r.status)
    c.close()
"""

PATHS = ["/a?b=1", "/pid", "/raise", "/log", "/errors", "/print", "/basic"]


@pytest.fixture(scope="module")
def entries():
    confdir = tempfile.mkdtemp(prefix="unitcorn-supd-")
    box = sysbox.Box(GENERATOR, UNITS, confdir)
    try:
        box.boot()
        # returns once the unit is started: Type=notify, READY=1 after the workers imported the app
        # (ASAN_OPTIONS: a sanitizer build of unitcorn works too, see
        # tests/server/meson.build for why leaks are not reported)
        box.run("systemd-run", "--unit", UNIT, "-p", "Type=notify", "--setenv=PYTHONDONTWRITEBYTECODE=1",
                "--setenv=ASAN_OPTIONS=detect_leaks=0", box.share(UNITCORN), "--access-logfile", "-",
                "-b", "127.0.0.1:8000", "--chdir", box.share(APPS), "logapp:app")
        r = box.run("/usr/bin/python3", "-c", CLIENT, *PATHS)
        statuses = r.stdout.split()
        assert statuses == ["200", "200", "500", "200", "200", "200", "200"], r.stdout
        # the last request's access entry is sent after everything its
        # worker logged before; print() comes through another socket (the
        # stdout stream): wait for both
        box.wait_journal("GET /basic HTTP/1.1", "-u", UNIT)
        box.wait_journal("logapp print to stdout", "-u", UNIT)
        out = box.run("journalctl", "--no-pager", "-o", "json", "-u", UNIT).stdout
        yield [json.loads(line) for line in out.splitlines() if line.strip()]
    finally:
        box.cleanup()
        shutil.rmtree(confdir, ignore_errors=True)


def find(entries, text):
    """The entries whose MESSAGE contains text."""
    return [e for e in entries if text in (e.get("MESSAGE") if isinstance(e.get("MESSAGE"), str) else "")]


def one(entries, text):
    found = find(entries, text)
    assert len(found) == 1, (text, found)
    return found[0]


def worker_pid(entries):
    access = [e for e in entries if "HTTP_DURATION_USEC" in e]
    pids = {e["WORKER_PID"] for e in access}
    assert len(pids) == 1, pids
    return pids.pop()


def test_one_access_entry_per_request_with_fields(entries):
    access = [e for e in entries if "HTTP_DURATION_USEC" in e]
    assert [e["HTTP_PATH"] for e in access] == [p.split("?")[0] for p in PATHS], access
    a = access[0]
    assert a["PRIORITY"] == "6" and a["SYSLOG_IDENTIFIER"] == "unitcorn"
    assert (a["HTTP_METHOD"], a["HTTP_PATH"], a["HTTP_QUERY"], a["HTTP_VERSION"]) == ("GET", "/a", "b=1", "HTTP/1.1")
    assert (a["HTTP_STATUS"], a["HTTP_BYTES"]) == ("200", "5")
    assert int(a["HTTP_DURATION_USEC"]) < 10_000_000
    assert a["REMOTE_ADDR"] == "127.0.0.1" and 0 < int(a["REMOTE_PORT"]) < 65536
    assert (a["HTTP_USER_AGENT"], a["HTTP_REFERER"]) == ("journal-test/1", "http://ref.test/")
    assert a["WORKER_PID"] == a["_PID"]
    # MESSAGE: gunicorn's default format
    assert a["MESSAGE"].startswith("127.0.0.1 - - [")
    assert a["MESSAGE"].endswith('] "GET /a?b=1 HTTP/1.1" 200 5 "http://ref.test/" "journal-test/1"')
    assert a["_TRANSPORT"] == "journal"                 # sent natively, not a stdout line
    failed = [e for e in access if e["HTTP_PATH"] == "/raise"][0]
    assert (failed["HTTP_STATUS"], failed["HTTP_BYTES"]) == ("500", "0")


def test_worker_pid_is_the_worker(entries):
    pid = one(entries, '"GET /pid HTTP/1.1"')
    assert pid["WORKER_PID"] == worker_pid(entries)
    booted = one(entries, "Booting worker with pid: ")
    assert booted["MESSAGE"] == "Booting worker with pid: " + worker_pid(entries)
    assert booted["WORKER_PID"] == worker_pid(entries) and booted["PRIORITY"] == "6"
    assert booted["SYSLOG_IDENTIFIER"] == "unitcorn"
    assert booted["_TRANSPORT"] == "journal"


def test_app_traceback_is_one_entry_at_error(entries):
    e = one(entries, "Error handling request GET /raise")
    assert e["PRIORITY"] == "3"
    lines = e["MESSAGE"].split("\n")
    assert lines[0] == "Error handling request GET /raise: the application raised"
    assert lines[1] == "Traceback (most recent call last):"
    assert lines[-1] == "ValueError: logapp failed on purpose"
    assert (e["HTTP_METHOD"], e["HTTP_PATH"], e["WORKER_PID"]) == ("GET", "/raise", worker_pid(entries))
    # and no line of it logged on its own
    assert find(entries, "Traceback (most recent call last)") == [e] + find(entries, "logapp caught an exception")


def test_python_logging_records_at_mapped_priorities(entries):
    expected = {"logapp warning record 4": "4", "logapp error record": "3", "logapp critical record": "2"}
    for text, prio in expected.items():
        e = one(entries, text)
        assert e["MESSAGE"] == text and e["PRIORITY"] == prio, e
        assert e["LOGGER"] == "logapp" and e["CODE_FUNC"] == "app"
        # (the box runs a copy of the apps: sysbox.Box.share())
        assert e["CODE_FILE"].endswith("/apps/logapp.py") and int(e["CODE_LINE"]) > 0
        assert e["WORKER_PID"] == worker_pid(entries)
    # the root logger's level stays Python's WARNING
    assert find(entries, "logapp info record") == [] and find(entries, "logapp debug record") == []
    exc = one(entries, "logapp caught an exception")
    assert exc["PRIORITY"] == "3"
    assert exc["MESSAGE"].startswith("logapp caught an exception\nTraceback (most recent call last):\n")
    assert exc["MESSAGE"].endswith("ZeroDivisionError: division by zero")


def test_basic_config_level_applies(entries):
    e = one(entries, "logapp info after basicConfig")
    assert e["PRIORITY"] == "6" and e["MESSAGE"] == "logapp info after basicConfig"


def test_wsgi_errors_whole_writes_at_error(entries):
    e = one(entries, "logapp to wsgi.errors")
    assert e["MESSAGE"] == "logapp to wsgi.errors in three words" and e["PRIORITY"] == "3"
    e = one(entries, "logapp two")
    assert e["MESSAGE"] == "logapp two\nlines" and e["PRIORITY"] == "3"


def test_no_sanitizer_reports(entries):
    for marker in ("ERROR: AddressSanitizer", "runtime error:"):
        assert find(entries, marker) == []


def test_print_output_reaches_the_journal(entries):
    e = one(entries, "logapp print to stdout")
    assert e["MESSAGE"] == "logapp print to stdout" and e["_TRANSPORT"] == "stdout"
