"""Differential tests: unitcorn-generator against supervisor itself.

For every configuration, oracle.Configuration says what supervisord would
run (or refuse), and this compares it with what the generated units run,
read back the way systemd reads them (unitfile.py): argv after systemd's
unquoting, environment, working directory, user (as a uid), umask, restart
policy, SuccessExitStatus=/RestartForceExitStatus=, stop signal, timeout
and kill mode, standard output/error, autostart, and the set of unit
instances.  Every drop-in must consist of well-formed lines only.  A
program supervisor refuses, or one of oracle.DEVIATIONS, must be reported
(file:line, "skipping") and no unit written for it.

Configurations: every file or directory in differential/ (hand-written),
every *.ini directly under cases/ (the golden cases), and RANDOM_CONFIGS
random ones from a fixed seed.  The generator runs once per configuration
with a fixed environment (environ()), which is also the oracle's.

A mismatch shows the configuration, supervisor's result and the
generator's log and units.  KNOWN_BUGS turns a test whose every mismatch
is a known generator bug into an xfail naming the bug; --runxfail shows
them in full.

Run: /usr/bin/python3 -m pytest -q tests/generator/test_differential.py
(UNITCORN_GENERATOR and UNITCORN_UNITS default to the build/ directory).
"""

import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

import oracle  # noqa: E402
import unitfile  # noqa: E402

GENERATOR = os.environ.get("UNITCORN_GENERATOR") or os.path.join(ROOT, "build", "generator", "unitcorn-generator")
UNITS = os.environ.get("UNITCORN_UNITS") or os.path.join(ROOT, "build", "units")
HAND_DIR = os.path.join(HERE, "differential")
CASES_DIR = os.path.join(HERE, "cases")
RANDOM_SEED = 20240611
RANDOM_CONFIGS = 300


def environ(confdir):
    """The generator's whole environment (and the oracle's ENV_*)."""
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": os.path.expanduser("~"),
        "LANG": "C.UTF-8",
        "UC_VAR": "hello world",
        "UC_PCT": "50%",
        "UC_QUOTE": "it's \"q\"",
        "UC_SLASH": "a/b",
        "USER_NAME": "nobody",
        "NUM": "5",
        "UC_NL": "line1\nline2",
        "UC_TAB": "a\tb",
        "SYSTEMD_LOG_TARGET": "console",
        "UNITCORN_CONFIG_DIRS": confdir,
        "UNITCORN_UNITDIR": UNITS,
    }


# --- the generator's side --------------------------------------------------

MSG_RE = re.compile(r"unitcorn-generator\[\d+\]: (?:(/[^:]*?):(?:(\d+): )?)?(.*)")


def messages(stderr):
    """[(file, line, text)] of the generator's log (line 0: none)."""
    out = []
    for raw in stderr.split("\n"):
        m = MSG_RE.match(raw)
        if m:
            out.append([m.group(1), int(m.group(2) or 0), m.group(3)])
        elif out and raw:
            out[-1][2] += "\n" + raw
    return [tuple(x) for x in out]


def unescape_instance(s):
    return re.sub(rb"\\x([0-9a-f]{2})", lambda m: bytes([int(m.group(1), 16)]),
                  s.encode("utf-8", "surrogateescape")).decode("utf-8", "surrogateescape")


def signal_number(v):
    if re.fullmatch(r"[0-9]+", v):
        return int(v)
    return signal.Signals[v].value


UNIT_LINE_RE = re.compile(r"(#.*|;.*|\[[A-Za-z]+\]|[A-Za-z][A-Za-z0-9]*=.*|)")


def malformed_lines(path):
    """Lines of a unit file that are neither comment, section header nor
    Key=value: what a value with a newline in it leaves behind."""
    with open(path, "rb") as f:
        lines = f.read().decode("utf-8", "surrogateescape").split("\n")
    return ["%d: %r" % (i, l) for i, l in enumerate(lines, start=1) if not UNIT_LINE_RE.fullmatch(l.strip())]


def exec_argv(value):
    """unitfile.exec_argv() without its private-use marker for '$' (which a
    real \\x01 in an argument would trip): the argv systemd runs."""
    argv = []
    for word, quoted in unitfile.split_words(value):
        if not quoted and word == "\\;":
            argv.append(";")
            continue
        if not quoted and word == ";":
            raise ValueError("unescaped ';' separator in %r" % value)
        word = unitfile.unspecifier(word)
        if re.search(r"(?<!\$)(\$\$)*\$(?!\$)", word):
            raise ValueError("unescaped '$' (variable expansion) in %r" % value)
        argv.append(word.replace("$$", "$"))
    return argv


def read_unit(outdir, dirname):
    """What a drop-in makes systemd run, in the oracle's terms."""
    path = os.path.join(outdir, dirname, "50-supervisor.conf")
    unit = {}
    bad = malformed_lines(path)
    if bad:
        return {"unreadable": "malformed line(s) %s" % "; ".join(bad)}

    def one(key, conv=lambda v: v, default=None):
        vs = unitfile.values(path, "Service", key)
        if not vs:
            return default
        if len(vs) > 1:
            return "several %s= lines: %r" % (key, vs)
        try:
            return conv(vs[-1])
        except (ValueError, KeyError) as e:
            return "unreadable %s=%r: %s" % (key, vs[-1], e)

    execs = unitfile.values(path, "Service", "ExecStart")
    try:
        unit["argv"] = exec_argv(execs[0]) if len(execs) == 1 else "ExecStart= lines: %r" % execs
    except ValueError as e:
        unit["argv"] = "unreadable ExecStart=: %s" % e
    try:
        unit["environment"] = unitfile.environment(path)
    except ValueError as e:
        unit["environment"] = "unreadable Environment=: %s" % e
    unit["directory"] = one("WorkingDirectory", unitfile.unspecifier)

    def uid(v):
        u = oracle.unit_uid(unitfile.unspecifier(v))
        if u is None:
            raise ValueError("not a user systemd can run as")
        return u
    unit["uid"] = one("User", uid)
    unit["umask"] = one("UMask", lambda v: int(v, 8), 0o22)
    unit["restart"] = one("Restart")
    success = []
    for v in unitfile.values(path, "Service", "SuccessExitStatus"):
        success += [int(x) for x in v.split()]
    unit["success_exit_status"] = sorted(set(success))
    force = [x for v in unitfile.values(path, "Service", "RestartForceExitStatus") for x in v.split()]
    unit["restart_force_exit_status"] = sorted(set(force)) if force else None
    unit["kill_signal"] = one("KillSignal", signal_number)
    unit["timeout_stop_sec"] = one("TimeoutStopSec", lambda v: int(re.fullmatch(r"([0-9]+)s", v).group(1)))
    unit["kill_mode"] = one("KillMode")
    unit["standard_output"] = one("StandardOutput", unitfile.unspecifier, "journal")
    unit["standard_error"] = one("StandardError", unitfile.unspecifier, "journal")
    name = dirname[:-len(".d")]
    unit["autostart"] = os.path.lexists(os.path.join(outdir, "apps.target.wants", name))
    return unit


def read_units(outdir):
    units = {}
    for d in sorted(os.listdir(outdir)):
        m = re.fullmatch(r"app@(.*)\.service\.d", d)
        if m:
            try:
                units[unescape_instance(m.group(1))] = read_unit(outdir, d)
            except ValueError as e:   # includes UnicodeDecodeError
                units[unescape_instance(m.group(1))] = {"unreadable": "%s: %s" % (type(e).__name__, e)}
    return units


def run_generator(confdir, env, outdir):
    return subprocess.run([GENERATOR, outdir, outdir, outdir], env=env, capture_output=True,
                          timeout=60, encoding="utf-8", errors="surrogateescape")


# --- comparing -------------------------------------------------------------

def reported(msgs, reject, occ):
    """Whether the generator's log reports a skipped program as required."""
    problems = []
    if reject.lines and not any((f, n) in reject.lines for f, n, _ in msgs):
        problems.append("no message at %s (%s)" % (
            " or ".join(sorted("%s:%d" % l for l in reject.lines)), reject.kind))
    names = ["'%s'" % occ.program.strip(), "[%s]" % occ.section]
    if occ.group_section:
        names.append("[%s]" % occ.group_section)
    if not any(n > 0 and "skipping" in t and any(x in t for x in names) for _, n, t in msgs):
        problems.append("no file:line message saying it skips %s" % " / ".join(names))
    return problems


def why_not(conf, outdir, inst):
    """Why supervisor runs no process for a unit the generator wrote: the
    section named in the drop-in's header comment, and its rejection."""
    path = os.path.join(outdir, "app@%s.service.d" % oracle.escape_instance(inst), "50-supervisor.conf")
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            m = re.search(r"\(supervisor \[(.*?)\], process ", f.read())
    except OSError:
        m = None
    for o in conf.occurrences:
        if m and o.section == m.group(1) and o.reject:
            return "supervisor refuses [%s] (%s: %s)" % (o.section, o.reject.kind, o.reject.message)
    return "supervisor runs no such process"


GUNICORN_NAMES = ("gunicorn", "gunicorn3", "unitcorn")


def rewritten(exp, act):
    """Whether the generator rewrote supervisor's gunicorn command to
    unitcorn (generator/README.md, "gunicorn commands"): its argv and stop
    timeout then differ from supervisor's by design."""
    if not isinstance(act["argv"], list) or not isinstance(exp["argv"], list):
        return False
    if os.path.basename(act["argv"][0]) != "unitcorn":
        return False
    e = exp["argv"]
    return (os.path.basename(e[0]) in GUNICORN_NAMES
            or (os.path.basename(e[0]).startswith("python") and "gunicorn" in e[1:3] + [e[1][2:]]))


def check_rewrite(exp, act):
    """The rewrite keeps supervisor's view: every value unitcorn gets was
    on supervisor's command line, and the stop timeout only grows."""
    problems = []
    words = act["argv"][1:]
    for i, w in enumerate(words):
        if w.startswith("--") or (i and words[i - 1] == "--virtualenv"):
            continue
        if not any(w in x for x in exp["argv"]):
            problems.append("unitcorn gets %r, which supervisor's command %r does not hold" % (w, exp["argv"]))
    if not isinstance(act["timeout_stop_sec"], int) or act["timeout_stop_sec"] < exp["timeout_stop_sec"]:
        problems.append("TimeoutStopSec %r below supervisor's stopwaitsecs %r" % (act["timeout_stop_sec"],
                                                                                  exp["timeout_stop_sec"]))
    return problems


def compare(conf, proc, outdir):
    problems = []
    if proc.returncode != 0:
        problems.append("generator exited with %d" % proc.returncode)
    if "Sanitizer" in proc.stderr or "runtime error" in proc.stderr:
        problems.append("sanitizer report")
    msgs = messages(proc.stderr)
    expected = conf.expected_units()
    actual = read_units(outdir)
    for inst in sorted(set(expected) | set(actual)):
        if inst not in actual:
            o = next(o for o in conf.occurrences if any(p["instance"] == inst for p in o.processes))
            said = [t for _, _, t in msgs if "[%s]" % o.section in t]
            problems.append("app@%s.service: missing (supervisor runs [%s]%s; generator: %s)" % (
                inst, o.section, " in [%s]" % o.group_section if o.group else "",
                ascii(said[0]) if said else "nothing"))
            continue
        if inst not in expected:
            problems.append("app@%s.service: generated, but %s" % (inst, why_not(conf, outdir, inst)))
            continue
        exp, act = expected[inst], actual[inst]
        if "unreadable" in act:
            problems.append("app@%s.service: %s" % (inst, act["unreadable"]))
            continue
        skip = ()
        if rewritten(exp, act):
            problems += ["app@%s.service (gunicorn rewritten): %s" % (inst, p) for p in check_rewrite(exp, act)]
            skip = ("argv", "timeout_stop_sec")
        for k in sorted(act):
            if k not in skip and exp[k] != act[k]:
                problems.append("app@%s.service %s: supervisor %r, units %r" % (inst, k, exp[k], act[k]))
    for o in conf.occurrences:
        if o.reject:
            for p in reported(msgs, o.reject, o):
                problems.append("[%s]%s (%s: %s): %s" % (o.section, " in [%s]" % o.group_section if o.group else "",
                                                         o.reject.kind, o.reject.message, p))
    for text, where, section in conf.notes:
        if section and any("skipping" in t and "[%s]" % section in t for _, _, t in msgs):
            continue   # the whole [group:x] is reported
        if where and not any((f, n) in where for f, n, _ in msgs):
            problems.append("%s: no message at %s" % (text, sorted("%s:%d" % w for w in where)))
    return problems


def show_files(confdir):
    out = []
    for dirpath, _, names in sorted(os.walk(confdir)):
        for n in sorted(names):
            p = os.path.join(dirpath, n)
            with open(p, "rb") as f:
                text = f.read().decode("utf-8", "backslashreplace")
            out.append("--- %s" % p)
            for i, line in enumerate(re.split(r"\r\n|\r|\n", text), start=1):
                out.append("%4d| %s" % (i, ascii(line)[1:-1] if not line.isascii() or
                                        any(ord(c) < 32 and c != "\t" for c in line) else line))
    return "\n".join(out)


def show_units(outdir):
    out = []
    for dirpath, _, names in sorted(os.walk(outdir)):
        for n in sorted(names):
            p = os.path.join(dirpath, n)
            if os.path.islink(p):
                out.append("--- %s -> %s" % (os.path.relpath(p, outdir), os.readlink(p)))
            elif n.endswith(".conf"):
                with open(p, encoding="utf-8", errors="backslashreplace") as f:
                    body = [l for l in f.read().split("\n") if l and not l.startswith("#")]
                out.append("--- %s\n%s" % (os.path.relpath(p, outdir), "\n".join(body)))
    return "\n".join(out) or "(nothing)"


# Generator bugs found by these tests and not fixed yet: (name, pattern).
# A test whose every mismatch matches one of these is reported as xfail
# naming them; any other mismatch fails.  Remove an entry once fixed.
# (bug description, regular expression over a mismatch).  Empty: every bug
# this test found is fixed; add an entry only with the issue that tracks it.
KNOWN_BUGS = []


def known_bugs(problems):
    names = []
    for p in problems:
        hits = [name for name, pattern in KNOWN_BUGS if re.search(pattern, p)]
        if not hits:
            return None
        names += [h for h in hits if h not in names]
    return names


def check(confdir):
    """Runs both sides on a config directory; fails with everything shown."""
    confdir = os.path.realpath(confdir)
    env = environ(confdir)
    conf = oracle.Configuration(confdir, env)
    with tempfile.TemporaryDirectory(prefix="unitcorn-diff-out-") as outdir:
        proc = run_generator(confdir, env, outdir)
        problems = compare(conf, proc, outdir)
        if problems:
            bugs = known_bugs(problems)
            if bugs:
                pytest.xfail("known generator bug(s): " + "; ".join(bugs))
            pytest.fail("\n".join(
                ["%d mismatch(es):" % len(problems)] + ["  * " + p for p in problems] +
                ["", "CONFIG:", show_files(confdir),
                 "", "SUPERVISOR:", conf.describe(),
                 "", "GENERATOR stderr:", proc.stderr.rstrip() or "(empty)",
                 "", "GENERATOR units:", show_units(outdir)]), pytrace=False)
    return conf


# --- hand-written and golden configurations --------------------------------

def hand_cases():
    if not os.path.isdir(HAND_DIR):
        return []
    return sorted(n for n in os.listdir(HAND_DIR) if not n.startswith(".") and
                  (n.endswith(".ini") or os.path.isdir(os.path.join(HAND_DIR, n))))


def golden_cases():
    """*.ini directly under cases/, each a config dir of one file.  Left
    out: cases that need more than their one file ([include]) or whose
    assertions name a directory case."""
    if not os.path.isdir(CASES_DIR):
        return []
    out = []
    for n in sorted(os.listdir(CASES_DIR)):
        p = os.path.join(CASES_DIR, n)
        if not n.endswith(".ini") or not os.path.isfile(p):
            continue
        with open(p, "rb") as f:
            text = f.read().decode("utf-8", "replace")
        asserts = [l for l in text.splitlines() if l.lstrip().startswith("## assert-")]
        if re.search(r"(?m)^\s*\[include\]", text) or any(re.search(r"\.d(/|\b)|/\s*$", a) for a in asserts):
            continue
        out.append(n)
    return out


@pytest.fixture
def workdir():
    d = tempfile.mkdtemp(prefix="unitcorn-diff-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def copy_case(src, workdir):
    conf = os.path.join(workdir, "conf")
    if os.path.isdir(src):
        shutil.copytree(src, conf, symlinks=True)
    else:
        os.mkdir(conf)
        shutil.copyfile(src, os.path.join(conf, os.path.basename(src)))
    return conf


@pytest.mark.parametrize("name", hand_cases())
def test_hand(name, workdir):
    check(copy_case(os.path.join(HAND_DIR, name), workdir))


@pytest.mark.parametrize("name", golden_cases())
def test_golden_case(name, workdir):
    check(copy_case(os.path.join(CASES_DIR, name), workdir))


def test_corpus_size():
    assert len(hand_cases()) >= 40


# --- random configurations -------------------------------------------------

BOOLS = ["true", "false", "True", "FALSE", "yes", "No", "on", "OFF", "1", "0"]
BAD_BOOLS = ["true.", "yes!", "", "maybe", "2", "ture"]
AUTORESTART = ["true", "false", "unexpected", "Unexpected", "UNEXPECTED", "1", "0", "on", "no"]
BAD_AUTORESTART = ["sometimes", "unexpected.", ""]
SIGNALS = ["TERM", "term", "SIGTERM", "sigterm", "HUP", "INT", "QUIT", "KILL", "USR1", "usr2", "15", "9",
           "1", "34", "64", "RTMIN", "SIGRTMAX", "CLD", "iot", "POLL", " term ", "WINCH", "_IGN", "SIG_SETMASK"]
BAD_SIGNALS = ["BOGUS", "35", "-1", "65", "", "SIGTERM.", "0", "_DFL", "sig_block", "%(process_num)s"]
INTS = ["0", "1", "10", "3", "-1", "+5", " 7", "1_0", "60", "%(ENV_NUM)s", "0010"]
BAD_INTS = ["x", "", "3.5", "0x10", "1__0", "_1", "10s", "%(numprocs)d", "%(process_num)s", "99999999999999999999"]
EXITCODES = ["0", "0,2", "2", "1,2,3", "", "0, 1", "0,255", " 3 ", "2,0", "0,0", "+1", "1_0"]
BAD_EXITCODES = ["256", "-1", "0,,1", "a", "0;1", "1 2"]
UMASKS = ["022", "0o22", "002", "777", "0777", "0", "0o0", "27", "1000", "-1"]
BAD_UMASKS = ["abc", "8", "0x12", "", "0o8"]
USERS = ["root", "nobody", "0", "65534", "%(ENV_USER_NAME)s"]
BAD_USERS = ["nosuchuser", "99999", "", "root nobody", "+0"]
DIRECTORIES = ["/tmp", "/", "/var/tmp", "/tmp/%(program_name)s", "%(here)s", "/nonexistent/dir", "/srv/my app"]
BAD_DIRECTORIES = ["relative/dir", "~", "~/x", ".", "%(nosuch)s"]
LOGFILES = ["NONE", "AUTO", "/tmp/x.log", "syslog", "off", "/tmp/%(program_name)s.log", "none", "~/x.log",
            "relative.log", "/tmp/100%%.log"]
BAD_LOGFILES = ["/nonexistent/dir/x.log", "%(nosuch)s"]
SIZES = ["0", "50MB", "1kb", "10", "1GB", "5 MB"]
BAD_SIZES = ["fifty", "1TB", "", "MB"]
ENVIRONMENTS = [
    "A=1", 'A="1,2",B=3', "A=x y", 'A=1,B="a b"', "PATH=/usr/bin:/bin", 'PATH="/nonexistent:/bin"',
    "HOME=%(here)s", "X=%(ENV_HOME)s", "N=%(process_num)s,G=%(group_name)s", "A=1,", "A=%%",
    'A="%(program_name)s"', "UC_VAR=override", "SUPERVISOR_PROCESS_NAME=custom", "A='single quoted'",
    'A=""', "A=é", "A=a=b", "A=x#y", "A=1, B=2", "A=1 ,B=2", 'Q="it\'s"', "PATH=", "A=%(ENV_UC_PCT)s",
    "X=/a/b.c+d-e(f):g", "A=1,A=2", 'A="x\n    y"', 'NL="%(ENV_UC_NL)s"', "A=1,\n    B=2#c\n    ,C=3",
]
BAD_ENVIRONMENTS = ["A.B=1", "1A=2", "A-B=1", "A=x y,B=2", "A", "A=%s", "A=%(nosuch)s", "A=b\\c", "A=",
                    "=1", "A=1 B=2 C=3", "(A)=1"]
COMMANDS = [
    "/bin/echo hello", "echo 'a b' \"c d\"", "/bin/sleep 10", "/usr/bin/env FOO=1 /bin/true",
    "sleep %(process_num)d", "echo %(program_name)s %(group_name)s", "echo %(ENV_UC_VAR)s",
    "echo %%", "echo $HOME ${X} $$", "echo a\\ b", "echo \"a\\\"b\" 'c\\d'", "env", "echo é ü ☃",
    "echo\ttab", "echo %(process_num)02d %(numprocs)d", "echo %(host_node_name)s", "echo %(here)s",
    "printf '%%s\\n' x", "/bin/echo 'a#b' c;d", "echo ;", "echo ';' \";\"", "echo a ;comment", "echo a#b",
    "/usr/bin/env -i A=1 /bin/echo %(ENV_HOME)s", "echo \"\"", "echo '' x", "echo \\\\", "echo 100%%",
    "echo %(ENV_UC_PCT)s", "true", "cat", "echo one\n    two three", "echo \"multi\n    line\"",
    "/bin/echo --flag=\"x y\" -k 'v'", "echo %(process_num)x %(process_num)o %(process_num)5.2f",
    "echo %(program_name).3s", "echo %(program_name)r", "echo\\ x", "echo 'it'\"'\"'s'",
    "/bin/sh -c 'exec sleep 1'", "echo `date`", "echo a\\;b", "echo %(ENV_UC_NL)s \"%(ENV_UC_TAB)s\"",
]
BAD_COMMANDS = ["echo 'unterminated", "", "   ", "echo %s", "echo %(nosuch)s", "echo %(program_name)d",
                "echo %", "nonexistent-cmd-xyz", "bin/true", "echo \"x", "echo %(process_num)c",
                "echo %(ENV_UC_QUOTE)s"]
PROGRAM_NAMES = ["web", "worker", "p1", "a.b", "x_y", "café", "-dash", ".dot", "web-2", "API"]
BAD_PROGRAM_NAMES = ["with space", "a/b", "c:d", " ", "tab\there"]
PROCESS_NAMES = [  # (process_name, numprocs, numprocs_start)
    (None, None, None), ("%(program_name)s_%(process_num)s", "2", None),
    ("%(program_name)s%(process_num)02d", "3", "5"), ("x", None, None),
    ("%(process_num)d", "2", None), ("%(program_name)s-%(group_name)s", None, None), (None, "0", None),
    ("%(program_name)s_%(process_num)s", "1", "-1"), ("%(program_name)s_%(process_num)s", "-1", None),
    ("  %(program_name)s  ", None, None), ("%(program_name)s.%(process_num)s", "2", "1"),
]
BAD_PROCESS_NAMES = [(None, "2", None), ("a b", None, None), ("%(program_name)s:x", None, None),
                     ("%(ENV_UC_SLASH)s", None, None), ("", None, None), ("%(nosuch)s", None, None),
                     ("%(process_num)s", "2", "%(nosuch)s")]
BAD_CHARS = ["\u00a0", "\u3000", "\x0c", "\x7f", "\ufeff", "\udcff", "\x1f", "\u2028"]

KEYS = {  # key: (valid pool, invalid pool)
    "autostart": (BOOLS, BAD_BOOLS),
    "autorestart": (AUTORESTART, BAD_AUTORESTART),
    "startsecs": (INTS, BAD_INTS),
    "startretries": (INTS, BAD_INTS),
    "stopsignal": (SIGNALS, BAD_SIGNALS),
    "stopwaitsecs": (INTS, BAD_INTS),
    "stopasgroup": (BOOLS, BAD_BOOLS),
    "killasgroup": (BOOLS, BAD_BOOLS),
    "exitcodes": (EXITCODES, BAD_EXITCODES),
    "redirect_stderr": (BOOLS, BAD_BOOLS),
    "priority": (INTS, BAD_INTS),
    "umask": (UMASKS, BAD_UMASKS),
    "user": (USERS, BAD_USERS),
    "directory": (DIRECTORIES, BAD_DIRECTORIES),
    "environment": (ENVIRONMENTS, BAD_ENVIRONMENTS),
    "stdout_logfile": (LOGFILES, BAD_LOGFILES),
    "stderr_logfile": (LOGFILES, BAD_LOGFILES),
    "stdout_logfile_maxbytes": (SIZES, BAD_SIZES),
    "stderr_capture_maxbytes": (SIZES, BAD_SIZES),
    "stdout_logfile_backups": (INTS, BAD_INTS),
    "stderr_syslog": (BOOLS, BAD_BOOLS),
    "stdout_syslog": (BOOLS, BAD_BOOLS),
    "stdout_events_enabled": (BOOLS, BAD_BOOLS),
    "serverurl": (["AUTO", "http://127.0.0.1:9001", "unix:///tmp/s.sock"], ["%(nosuch)s"]),
}


class RandomConfig:
    """One random configuration: {relative path: bytes}."""

    def __init__(self, rnd):
        self.rnd = rnd
        self.files = {}

    def pick(self, good, bad, p_bad):
        return self.rnd.choice(bad if bad and self.rnd.random() < p_bad else good)

    def key(self, name):
        r = self.rnd.random()
        if r < 0.1:
            name = name.upper()
        elif r < 0.2:
            name = name.capitalize()
        return name

    def assign(self, name, value):
        delim = self.rnd.choice(["=", "=", " = ", ": ", "="])
        line = "%s%s%s" % (self.key(name), delim, value)
        if self.rnd.random() < 0.08 and value and "\n" not in value:
            line += self.rnd.choice([" ; a comment", "  # another", "\t;tab comment"])
        if self.rnd.random() < 0.08 and " " in value.strip() and "\n" not in value:
            head, _, tail = value.rpartition(" ")
            line = "%s%s%s\n    %s" % (self.key(name), delim, head, tail)
        return line

    def program(self, lines, name, p_bad):
        rnd = self.rnd
        fcgi = rnd.random() < 0.05
        lines.append("[%s:%s]" % ("fcgi-program" if fcgi else "program", name))
        if fcgi:
            lines.append(self.assign("socket", self.pick(
                ["unix:///tmp/%(program_name)s.sock", "tcp://127.0.0.1:9000", "tcp://*:9001"],
                ["", "unix://relative.sock", "bogus://x", "tcp://host"], 0.2)))
        if rnd.random() < 0.1:
            lines.append("; a comment line")
        body = []
        if rnd.random() < 0.97:
            cmd = self.pick(COMMANDS, BAD_COMMANDS, p_bad)
            if cmd == "bin/true" or cmd.startswith("./"):
                body.append(("directory", "/usr"))
            body.append(("command", cmd))
        pn = self.pick(PROCESS_NAMES, BAD_PROCESS_NAMES, p_bad)
        for key, v in zip(("process_name", "numprocs", "numprocs_start"), pn):
            if v is not None:
                body.append((key, v))
        for key in rnd.sample(sorted(KEYS), rnd.randint(0, 7)):
            if key == "directory" and any(k == "directory" for k, _ in body):
                continue
            good, bad = KEYS[key]
            body.append((key, self.pick(good, bad, p_bad)))
        if rnd.random() < 0.05 and body:
            k, _ = rnd.choice(body)   # a key set twice: the last wins
            good, bad = KEYS.get(k, ([""], []))
            body.insert(0, (k, rnd.choice(good)))
        rnd.shuffle(body)
        for k, v in body:
            lines.append(self.assign(k, v))
            if rnd.random() < 0.04:
                lines.append("" if rnd.random() < 0.5 else "# between keys")
        if rnd.random() < 0.04:
            # a character the generator refuses, somewhere in the section
            i = rnd.randrange(len(lines) - len(body) - 1, len(lines))
            c = rnd.choice(BAD_CHARS)
            at = rnd.randint(0, len(lines[i]))
            lines[i] = lines[i][:at] + c + lines[i][at:]
        lines.append("")

    def build(self):
        rnd = self.rnd
        n = rnd.randint(1, 4)
        names = []
        for _ in range(n):
            name = self.pick(PROGRAM_NAMES, BAD_PROGRAM_NAMES, 0.05)
            names.append(name)
        p_bad = rnd.choice([0.0, 0.02, 0.05, 0.1])
        main, second = [], []
        if rnd.random() < 0.12:
            main.append("[DEFAULT]")
            for key in rnd.sample(["autorestart", "stopsignal", "startsecs", "stopwaitsecs", "exitcodes",
                                   "umask", "environment", "directory"], rnd.randint(1, 3)):
                good, bad = KEYS[key]
                main.append(self.assign(key, self.pick(good, bad, p_bad / 2)))
            main.append("")
        if rnd.random() < 0.12:
            main.append("[supervisord]")
            if rnd.random() < 0.7:
                main.append(self.assign("environment", rnd.choice(
                    ["SD=1", "PATH=/bin", 'A="%%(ENV_HOME)s"', "B=%(ENV_UC_VAR)s", "SD=x,UC_VAR=sd",
                     "PATH=/nonexistent"])))
            if rnd.random() < 0.3:
                main.append(self.assign("umask", rnd.choice(["022", "077", "002"])))
            if rnd.random() < 0.2:
                main.append(self.assign("user", rnd.choice(["root", "0"])))
            main.append("")
        if rnd.random() < 0.15 and len(names) > 1:
            members = rnd.sample(names, rnd.randint(1, len(names)))
            if rnd.random() < 0.1:
                members.append("ghost")
            main.append("[group:%s]" % rnd.choice(["grp", "g2", "web"]))
            main.append(self.assign("programs", ",".join(members)))
            if rnd.random() < 0.3:
                main.append(self.assign("priority", self.pick(INTS, BAD_INTS, p_bad)))
            main.append("")
        split = n > 1 and rnd.random() < 0.2
        include = split and rnd.random() < 0.4
        for i, name in enumerate(names):
            target = second if split and i >= n // 2 + (n % 2) else main
            self.program(target, name, p_bad)
        if include:
            main.append("[include]")
            main.append("files = sub/*.ini")
            self.files["sub/50-inc.ini"] = second
        elif split:
            self.files["60-more.ini"] = second
        self.files["50-main.ini"] = main
        eol = "\r\n" if rnd.random() < 0.05 else "\n"
        return {p: eol.join(lines).encode("utf-8", "surrogateescape") for p, lines in self.files.items()}


def random_configs():
    rnd = random.Random(RANDOM_SEED)
    return [RandomConfig(rnd).build() for _ in range(RANDOM_CONFIGS)]


@pytest.mark.parametrize("index,files", list(enumerate(random_configs())),
                         ids=["random-%03d" % i for i in range(RANDOM_CONFIGS)])
def test_random(index, files, workdir):
    conf = os.path.join(workdir, "conf")
    for rel, data in files.items():
        p = os.path.join(conf, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)
    check(conf)
