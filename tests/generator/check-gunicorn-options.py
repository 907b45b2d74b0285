#!/usr/bin/python3
"""The generator's gunicorn option table against gunicorn and unitcorn.

1. generator/gunicorn.c's table (the O(...) rows) holds exactly gunicorn's
   command-line settings, as the installed gunicorn (Debian's
   python3-gunicorn, gunicorn/config.py) defines them: setting name, short
   option, long options, whether it takes a value.
2. Every option the table passes to unitcorn (PASS, BIND, CONFIG, EXIT,
   and the U(...) rows) is in unitcorn's getopt table (server/config.c),
   and every unitcorn option is in ours.
3. For a list of command lines, the generator (--dry-run) and gunicorn's
   own argparse agree: where argparse refuses, the generator keeps the
   command with a notice; where the generator writes unitcorn's command
   line, gunicorn's parser reads it back as the same settings, less the
   ones that become the socket (bind) or are unitcorn's behaviour anyway
   (worker_class sync, threads 1), and the built unitcorn accepts it
   (--print-config: any exit status but 2, its usage error).

Usage: check-gunicorn-options.py SOURCE_ROOT GENERATOR.  TAP output.
"""

import io
import contextlib
import os
import re
import shlex
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import unitfile  # noqa: E402

try:
    from gunicorn import config as gconfig
except ImportError:
    print("1..0 # SKIP python3-gunicorn is not installed")
    sys.exit(0)

ROW = re.compile(r'^\s*O\("([a-z_]*)",\s*(0|\'.\'),\s*"([a-z_-]+)",\s*(NULL|"[a-z_-]+"),\s*(true|false),\s*([A-Z_]+)\),')
UROW = re.compile(r'^\s*U\("([a-z_]+)",\s*(0|\'.\'),\s*"([a-z_-]+)",\s*(true|false)\),')
GETOPT = re.compile(r'\{\s*"([a-z_-]+)",\s*(required|no)_argument,')
PASSED = ("PASS", "BIND", "CONFIG", "EXIT")

n = 0
failed = 0


def ok(cond, desc, diag=None):
    global n, failed
    n += 1
    print("%sok %d - %s" % ("" if cond else "not ", n, desc))
    if not cond:
        failed += 1
        for line in (diag or "").splitlines():
            print("# " + line)
            print("    " + line, file=sys.stderr)
    return cond


def table(root):
    rows, urows = [], []
    with open(os.path.join(root, "generator", "gunicorn.c")) as f:
        for line in f:
            m = ROW.match(line)
            if m:
                s, sh, l1, l2, val, sup = m.groups()
                rows.append((s, None if sh == "0" else sh[1], [l1] + ([l2.strip('"')] if l2 != "NULL" else []),
                             val == "true", sup))
            m = UROW.match(line)
            if m:
                s, sh, l1, val = m.groups()
                urows.append((s, None if sh == "0" else sh[1], [l1], val == "true", "PASS"))
    return rows, urows


def check_table(rows):
    ours = {r[0]: r for r in rows if r[0]}
    theirs = {}
    for s in gconfig.KNOWN_SETTINGS:
        if not s.cli:
            continue
        short = [c[1] for c in s.cli if not c.startswith("--")]
        longs = [c[2:] for c in s.cli if c.startswith("--")]
        takes = (s.action or "store") in ("store", "append")
        theirs[s.name] = (s.name, short[0] if short else None, longs, takes)
    ok(sorted(ours) == sorted(theirs), "the table has gunicorn's command-line settings",
       "only ours: %s\nonly gunicorn's: %s" % (sorted(set(ours) - set(theirs)), sorted(set(theirs) - set(ours))))
    for name in sorted(set(ours) & set(theirs)):
        ok(ours[name][:4] == theirs[name], "setting %s: options and value as gunicorn's" % name,
           "ours %r\ngunicorn's %r" % (ours[name][:4], theirs[name]))


def check_unitcorn(root, rows, urows):
    with open(os.path.join(root, "server", "config.c")) as f:
        text = f.read()
    start = text.index("static const struct option options[]")
    getopt = dict((m.group(1), m.group(2) == "required") for m in GETOPT.finditer(text[start:text.index("};", start)]))
    passed = {}
    for s, sh, longs, takes, sup in rows + urows:
        if sup in PASSED:
            for l in longs:
                passed[l] = takes
    for l in sorted(passed):
        ok(l in getopt and getopt[l] == passed[l], "--%s: unitcorn has it, with a value as ours" % l,
           "unitcorn: %r" % (getopt.get(l),))
    for l in sorted(getopt):
        ok(l in passed, "unitcorn's --%s is in the generator's table" % l)


VECTORS = [
    "gunicorn -w 2 -b 127.0.0.1:5000 wsgi:app",
    "gunicorn -w4 --timeout=60 -t 30 --graceful-timeout 10 wsgi:app",
    "gunicorn --preload --max-requests 1000 --max-requests-jitter 50 --keep-alive 5 wsgi:app",
    "gunicorn -e A=1 --env B=2 -n blog -p /run/blog.pid --log-level debug wsgi:app",
    "gunicorn --access-logfile - --error-logfile - --access-logformat '%(h)s %(r)s' wsgi:app",
    "gunicorn --log-file=- --chdir /tmp --pythonpath /a,/b wsgi:app",
    "gunicorn --limit-request-line 100 --limit-request-fields 10 --limit-request-field_size 100 wsgi:app",
    "gunicorn --backlog 64 --forwarded-allow-ips '*' wsgi:app",
    "gunicorn -k sync --threads 1 wsgi:app",
    "gunicorn --max-requests-j 5 --access-logfi - wsgi:app",
    "gunicorn -c /nonexistent.py wsgi:app",
    "gunicorn -- wsgi:app",
    "gunicorn --check-config wsgi:app",
    "gunicorn --work 2 wsgi:app",
    "gunicorn --log debug wsgi:app",
    "gunicorn wsgi:app -w",
    "gunicorn -w --preload wsgi:app",
    "gunicorn --preload=yes wsgi:app",
    "gunicorn --nonsense wsgi:app",
    "gunicorn -Z wsgi:app",
    "gunicorn --pas x",
]
NORMALISED = {"bind": None, "worker_class": "sync", "threads": 1}


def gunicorn_parse(argv):
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            ns = gconfig.Config().parser().parse_args(argv)
    except SystemExit:
        return None, err.getvalue().strip().splitlines()[-1]
    settings = {}
    for k, v in vars(ns).items():
        if v is None or (k in NORMALISED and v == NORMALISED[k]) or k == "bind":
            continue
        settings[k] = v
    return settings, None


def check_vectors(generator):
    with tempfile.TemporaryDirectory(prefix="unitcorn-gunopts-") as d:
        for i, cmd in enumerate(VECTORS):
            ini = os.path.join(d, "c%d.ini" % i)
            with open(ini, "w") as f:
                f.write("[program:p]\ncommand=%s\n" % cmd.replace("%", "%%"))
            env = {"PATH": "/usr/bin:/bin", "SYSTEMD_LOG_TARGET": "console", "UNITCORN_BINDIR": "/opt/uc/bin"}
            env.update((k, v) for k, v in os.environ.items() if k.endswith("SAN_OPTIONS"))
            proc = subprocess.run([generator, "--dry-run", ini], env=env, capture_output=True, encoding="utf-8")
            want, error = gunicorn_parse(shlex.split(cmd)[1:])
            m = re.search(r'^ExecStart=(.*)$', proc.stdout, re.M)
            if not m:
                ok(False, "%s: a unit" % cmd, proc.stderr)
                continue
            argv = unitfile.exec_argv(m.group(1))
            if error:
                ok("gunicorn would refuse its arguments" in proc.stderr and argv[0] == "/usr/bin/gunicorn",
                   "%s: argparse refuses (%s), the command is kept with a notice" % (cmd, error),
                   "ExecStart=%s\nstderr: %s" % (m.group(1), proc.stderr))
                continue
            if not ok(argv[0] == "/opt/uc/bin/unitcorn", "%s: rewritten to unitcorn" % cmd,
                      "ExecStart=%s\nstderr: %s" % (m.group(1), proc.stderr)):
                continue
            got, error = gunicorn_parse(argv[1:])
            ok(got == want, "%s: unitcorn's command line has the same settings" % cmd,
               "unitcorn argv %r\ngunicorn reads %r\nexpected %r (%s)" % (argv, got, want, error))
            check_unitcorn_accepts(cmd, argv, d)


def check_unitcorn_accepts(cmd, argv, workdir):
    """unitcorn itself takes the command line (exit status 2 is its usage
    error; 1 is the app that does not exist)."""
    unitcorn = os.path.join(os.environ.get("UNITCORN_BINDIR", ""), "unitcorn")
    if not os.access(unitcorn, os.X_OK) or "-c" in cmd.split():
        return
    env = {k: v for k, v in os.environ.items() if k.endswith("SAN_OPTIONS") or k in ("PATH", "HOME")}
    proc = subprocess.run([unitcorn, "--print-config"] + argv[1:], cwd=workdir, env=env, capture_output=True,
                          encoding="utf-8", errors="replace", timeout=60, stdin=subprocess.DEVNULL)
    ok(proc.returncode != 2, "%s: unitcorn accepts its command line" % cmd,
       "exit status %d\n%s" % (proc.returncode, proc.stderr[-2000:]))


def main():
    root, generator = sys.argv[1], sys.argv[2]
    rows, urows = table(root)
    ok(len(rows) > 60, "the table was read (%d rows)" % len(rows))
    check_table(rows)
    check_unitcorn(root, rows, urows)
    check_vectors(generator)
    print("1..%d" % n)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
