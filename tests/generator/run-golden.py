#!/usr/bin/python3
"""Golden cases for unitcorn-generator, in the style of Quadlet's tests.

Usage: run-golden.py CASES_DIR [NAME...]
Environment: UNITCORN_GENERATOR (the binary), UNITCORN_UNITS (the built
units/ directory, holding app@.service, app@.socket, apps.target).
Set UNITCORN_GOLDEN_KEEP=1 to keep each case's temporary directory.
Output: TAP (one test point per case); exit status 1 if any case failed.

A case is CASES_DIR/NAME.ini, or a directory CASES_DIR/NAME/ for cases
that need several files (includes, [DEFAULT] or duplicate names across
files).  The case is copied into a fresh temporary directory CASEDIR and
the generator is run as systemd would run it, with that directory as its
only configuration directory:

    UNITCORN_CONFIG_DIRS=CASEDIR UNITCORN_UNITDIR=$UNITCORN_UNITS \\
        unitcorn-generator OUT OUT OUT

with cwd=CASEDIR and only this environment: HOME=/root,
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin,
UNITCORN_TEST_VAR=hello (for %(ENV_UNITCORN_TEST_VAR)s), messages on
stderr (SYSTEMD_LOG_TARGET=console), the case's set-env lines, and the
*SAN_OPTIONS-style variables of a sanitizer build.

Expectations are comment lines of the case file(s) starting with "## " (a
full-line comment to supervisor too).  In their arguments @CASEDIR@ is the
temporary copy of the case, @UNITS@ is $UNITCORN_UNITS and @HOSTNAME@ is
the node name (platform.node(), what supervisor's %(host_node_name)s is).
UNIT is a unit name: for app@X.service and app@X.socket the generator's
drop-in app@X.service.d/50-supervisor.conf is read, for a .target the
whole file; a UNIT with a '/' is a file of OUT (app@X.service.d/60-sandbox.conf).  Values are compared as written in the unit (unitfile.parse()).

  ## assert-key-is UNIT SECTION KEY VALUE...
        the last occurrence of KEY in [SECTION] is exactly VALUE (the rest
        of the line, stripped; may be empty)
  ## assert-key-is-all UNIT SECTION KEY
  ## | VALUE
  ## | VALUE...
        every occurrence of KEY in [SECTION], in order, is exactly the
        "## |" lines that follow (none: the key must not occur)
  ## assert-key-contains UNIT SECTION KEY SUBSTRING...
        the last occurrence of KEY contains SUBSTRING
  ## assert-key-missing UNIT SECTION KEY
  ## assert-keys UNIT SECTION KEY...
        the keys of [SECTION], in file order (repeats included), are
        exactly KEY...: nothing more was written (an injected directive
        would show here)
  ## assert-exec UNIT ARGS...
        ExecStart= (the last one), unquoted as systemd does
        (unitfile.exec_argv()), is the argv ARGS, written in Python shlex
        syntax
  ## assert-exec-json UNIT JSON
        the same, with the argv as a JSON list (for words with newlines)
  ## assert-env UNIT NAME VALUE...
        Environment= sets NAME to exactly VALUE (rest of line; may be empty)
  ## assert-env-missing UNIT NAME
  ## assert-symlink RELPATH TARGET
        OUT/RELPATH is a symlink pointing to TARGET
  ## assert-no-symlink RELPATH
        OUT/RELPATH does not exist (as a link or otherwise)
  ## assert-unit UNIT / ## assert-no-unit UNIT
        the drop-in (or .target file) was / was not written
  ## assert-units UNIT...
        exactly these units were written (drop-ins and targets), no others
  ## assert-after UNIT OTHER...
        UNIT is ordered after each OTHER, directly or through other units
        written (After=, and Before= read backwards)
  ## assert-not-after UNIT OTHER...
        no such ordering
  ## assert-not-pulls UNIT OTHER...
        starting UNIT does not start OTHER: no chain of Wants=, Requires=,
        Requisite=, BindsTo=, Upholds= or .wants/.requires links leads there
  ## assert-stderr-contains TEXT...
  ## assert-stderr-not-contains TEXT...
  ## assert-stderr-matches REGEX...      (re.search, multi-line)
  ## assert-no-stderr
  ## assert-exit-code N                  (without it, 0 is required)

Not assertions, settings for the run:
  ## set-env NAME=VALUE                  extra environment for the generator
                                         (UNITCORN_BINDIR=DIR: unitcorn pinned
                                         there, so that the output does not
                                         depend on where the build tree is;
                                         verify's "not executable" for
                                         DIR/unitcorn is then expected)

Any other "## " line is an error (a mistyped assertion must not pass
silently); prose comments in a case use a single "#".

Every case needs at least one assertion.  After the assertions, every unit
written is checked with
    SYSTEMD_UNIT_PATH=OUT:$UNITCORN_UNITS: systemd-analyze verify --man=no UNIT...
(cwd=OUT), which must exit 0 and print nothing, and every symlink written
must resolve.
"""

import json
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import unitfile  # noqa: E402

DROPIN = "50-supervisor.conf"
FIXED_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
RUN_TIMEOUT = 60
SANITIZER_ENV = ("ASAN_", "UBSAN_", "LSAN_", "MSAN_", "TSAN_")


class CaseError(Exception):
    """A case file that the driver cannot use (not a failed expectation)."""


class Assertion:
    def __init__(self, origin, verb, rest):
        self.origin = origin        # "file:line" in the case
        self.verb = verb
        self.rest = rest            # the text after the verb, stripped
        self.lines = []             # "## |" lines that follow

    def __str__(self):
        s = "%s: %s %s" % (self.origin, self.verb, self.rest)
        return s.rstrip() + "".join("\n  | %s" % v for v in self.lines)


def case_files(root):
    """The files of a case, relative to its root, in sorted order."""
    if os.path.isfile(root):
        return [os.path.basename(root)]
    out = []
    for d, dirs, files in os.walk(root):
        dirs.sort()
        for f in sorted(files):
            out.append(os.path.relpath(os.path.join(d, f), root))
    return out


def read_assertions(casedir, files, subst):
    asserts, settings = [], []
    for rel in files:
        with open(os.path.join(casedir, rel), "rb") as f:
            data = f.read()
        text = data.decode("utf-8", errors="surrogateescape")
        for n, line in enumerate(re.split(r"\r\n|\r|\n", text), start=1):
            if line.startswith("\ufeff"):
                line = line[1:]
            if not line.startswith("## "):
                continue
            body = subst(line[3:].strip())
            origin = "%s:%d" % (rel, n)
            if body.startswith("|"):
                if not asserts or asserts[-1].verb != "assert-key-is-all":
                    raise CaseError("%s: '## |' line not after assert-key-is-all" % origin)
                asserts[-1].lines.append(body[1:].strip())
                continue
            verb, _, rest = body.partition(" ")
            if verb == "set-env":
                name, eq, value = rest.strip().partition("=")
                if not eq or not name:
                    raise CaseError("%s: set-env needs NAME=VALUE" % origin)
                settings.append((name, value))
            elif verb in CHECKS:
                asserts.append(Assertion(origin, verb, rest.strip()))
            else:
                raise CaseError("%s: unknown directive %r" % (origin, verb))
    return asserts, settings


class Run:
    """The result of one generator run."""

    def __init__(self, casedir, out, units, proc):
        self.casedir = casedir
        self.out = out
        self.units_dir = units
        self.rc = proc.returncode
        self.stderr = proc.stderr.decode("utf-8", errors="backslashreplace")

    def unit_path(self, unit):
        if "/" in unit:      # a file of its own: app@X.service.d/60-sandbox.conf
            return os.path.join(self.out, unit)
        if unit.endswith(".target"):
            return os.path.join(self.out, unit)
        return os.path.join(self.out, unit + ".d", DROPIN)

    def written_units(self):
        units = []
        for name in sorted(os.listdir(self.out)):
            p = os.path.join(self.out, name)
            if name.endswith((".service.d", ".socket.d")) and os.path.isfile(os.path.join(p, DROPIN)):
                units.append(name[:-2])
            elif name.endswith(".target") and os.path.isfile(p) and not os.path.islink(p):
                units.append(name)
        return units


def _split(rest, n, what):
    parts = rest.split(None, n)
    if len(parts) < n:
        raise CaseError("%s needs at least %d arguments" % (what, n))
    while len(parts) < n + 1:
        parts.append("")
    return parts


def _unit_values(run, unit, section, key):
    path = run.unit_path(unit)
    if not os.path.isfile(path):
        return None, "%s was not written (no %s)" % (unit, os.path.relpath(path, run.out))
    return unitfile.values(path, section, key), None


def check_key_is(run, a):
    unit, section, key, want = _split(a.rest, 3, a.verb)
    vals, err = _unit_values(run, unit, section, key)
    if err:
        return err
    if not vals:
        return "[%s] %s= is missing, expected %r" % (section, key, want)
    if vals[-1] != want.strip():
        return "[%s] %s=: got %r, expected %r" % (section, key, vals[-1], want.strip())
    return None


def check_key_is_all(run, a):
    unit, section, key, extra = _split(a.rest, 3, a.verb)
    if extra:
        raise CaseError("assert-key-is-all takes its values on '## |' lines")
    vals, err = _unit_values(run, unit, section, key)
    if err:
        return err
    if vals != a.lines:
        return "[%s] %s=: got %r, expected %r" % (section, key, vals, a.lines)
    return None


def check_key_contains(run, a):
    unit, section, key, sub = _split(a.rest, 3, a.verb)
    vals, err = _unit_values(run, unit, section, key)
    if err:
        return err
    if not vals:
        return "[%s] %s= is missing, expected it to contain %r" % (section, key, sub)
    if sub not in vals[-1]:
        return "[%s] %s=: got %r, expected it to contain %r" % (section, key, vals[-1], sub)
    return None


def check_key_missing(run, a):
    unit, section, key, _ = _split(a.rest, 3, a.verb)
    vals, err = _unit_values(run, unit, section, key)
    if err:
        return err
    if vals:
        return "[%s] %s= should be absent, got %r" % (section, key, vals)
    return None


def check_keys(run, a):
    unit, section, *want = a.rest.split()
    path = run.unit_path(unit)
    if not os.path.isfile(path):
        return "%s was not written" % unit
    got = [k for (s, k, _) in unitfile.parse(path) if s == section]
    if got != want:
        return "[%s] keys: got %s, expected %s" % (section, " ".join(got), " ".join(want))
    return None


def check_exec(run, a):
    unit, args = _split(a.rest, 1, a.verb)
    try:
        if a.verb == "assert-exec-json":
            want = json.loads(args)
        else:
            want = shlex.split(args)
    except ValueError as e:
        raise CaseError("cannot read the expected argv: %s" % e)
    vals, err = _unit_values(run, unit, "Service", "ExecStart")
    if err:
        return err
    if not vals:
        return "no ExecStart=, expected %r" % (want,)
    try:
        got = unitfile.exec_argv(vals[-1])
    except ValueError as e:
        return "ExecStart=%s cannot be read back: %s" % (vals[-1], e)
    if got != want:
        return "ExecStart argv: got %r, expected %r (raw: %s)" % (got, want, vals[-1])
    return None


def _env(run, unit):
    path = run.unit_path(unit)
    if not os.path.isfile(path):
        return None, "%s was not written" % unit
    try:
        return unitfile.environment(path), None
    except ValueError as e:
        return None, "Environment= cannot be read back: %s" % e


def check_env(run, a):
    unit, name, value = _split(a.rest, 2, a.verb)
    env, err = _env(run, unit)
    if err:
        return err
    if name not in env:
        return "Environment %s is not set, expected %r (have %r)" % (name, value, env)
    if env[name] != value:
        return "Environment %s: got %r, expected %r" % (name, env[name], value)
    return None


def check_env_missing(run, a):
    unit, name, _ = _split(a.rest, 2, a.verb)
    env, err = _env(run, unit)
    if err:
        return err
    if name in env:
        return "Environment %s should be absent, got %r" % (name, env[name])
    return None


def check_symlink(run, a):
    rel, target = _split(a.rest, 2, a.verb)[:2]
    p = os.path.join(run.out, rel)
    if not os.path.islink(p):
        return "%s is not a symlink (exists: %s)" % (rel, os.path.lexists(p))
    got = os.readlink(p)
    if got != target:
        return "%s -> %s, expected -> %s" % (rel, got, target)
    return None


def check_no_symlink(run, a):
    rel = _split(a.rest, 1, a.verb)[0]
    if os.path.lexists(os.path.join(run.out, rel)):
        return "%s exists, expected it not to" % rel
    return None


def check_unit(run, a):
    unit = _split(a.rest, 1, a.verb)[0]
    if not os.path.isfile(run.unit_path(unit)):
        return "%s was not written; written: %s" % (unit, " ".join(run.written_units()) or "nothing")
    return None


def check_no_unit(run, a):
    unit = _split(a.rest, 1, a.verb)[0]
    for p in (run.unit_path(unit), os.path.join(run.out, unit)):
        if os.path.lexists(p):
            return "%s was written (%s), expected not" % (unit, os.path.relpath(p, run.out))
    return None


def check_units(run, a):
    want = sorted(a.rest.split())
    got = run.written_units()
    if got != want:
        return "units written: %s; expected: %s" % (" ".join(got) or "nothing", " ".join(want) or "nothing")
    return None


PULLS = ("Wants", "Requires", "Requisite", "BindsTo", "Upholds")


def unit_graph(run):
    """Ordering and pulling edges among what the generator wrote:
    ({unit: set(units it is ordered after)}, {unit: set(units it pulls in)})."""
    after, pulls = {}, {}

    def add(d, a, b):
        d.setdefault(a, set()).add(b)

    files = []
    for name in os.listdir(run.out):
        p = os.path.join(run.out, name)
        if name.endswith(".d") and os.path.isdir(p):
            files += [(name[:-2], os.path.join(p, f)) for f in sorted(os.listdir(p)) if f.endswith(".conf")]
        elif name.endswith((".wants", ".requires")) and os.path.isdir(p):
            for link in os.listdir(p):
                add(pulls, name.rsplit(".", 1)[0], link)
        elif os.path.isfile(p) and not os.path.islink(p):
            files.append((name, p))
    for unit, path in files:
        for section, key, value in unitfile.parse(path):
            if section != "Unit":
                continue
            for other in value.split():
                if key == "After":
                    add(after, unit, other)
                elif key == "Before":
                    add(after, other, unit)
                elif key in PULLS:
                    add(pulls, unit, other)
    return after, pulls


def _reaches(edges, start, goal):
    seen, todo = set(), [start]
    while todo:
        u = todo.pop()
        for v in edges.get(u, ()):
            if v == goal:
                return True
            if v not in seen:
                seen.add(v)
                todo.append(v)
    return False


def check_after(run, a):
    unit, *others = a.rest.split()
    if not others:
        raise CaseError("%s needs a unit and at least one other" % a.verb)
    after, _ = unit_graph(run)
    want = a.verb == "assert-after"
    wrong = [o for o in others if _reaches(after, unit, o) != want]
    if wrong:
        return "%s is%s ordered after %s" % (unit, " not" if want else "", " ".join(wrong))
    return None


def check_not_pulls(run, a):
    unit, *others = a.rest.split()
    if not others:
        raise CaseError("%s needs a unit and at least one other" % a.verb)
    _, pulls = unit_graph(run)
    wrong = [o for o in others if _reaches(pulls, unit, o)]
    if wrong:
        return "starting %s starts %s" % (unit, " ".join(wrong))
    return None


def check_stderr_contains(run, a):
    if a.rest not in run.stderr:
        return "stderr does not contain %r" % a.rest
    return None


def check_stderr_not_contains(run, a):
    if a.rest in run.stderr:
        return "stderr contains %r, expected not" % a.rest
    return None


def check_stderr_matches(run, a):
    if not re.search(a.rest, run.stderr, re.M):
        return "stderr does not match /%s/" % a.rest
    return None


def check_no_stderr(run, a):
    if run.stderr:
        return "stderr is not empty"
    return None


def check_exit_code(run, a):
    want = int(a.rest)
    if run.rc != want:
        return "exit code %d, expected %d" % (run.rc, want)
    return None


CHECKS = {
    "assert-key-is": check_key_is,
    "assert-key-is-all": check_key_is_all,
    "assert-key-contains": check_key_contains,
    "assert-key-missing": check_key_missing,
    "assert-keys": check_keys,
    "assert-exec": check_exec,
    "assert-exec-json": check_exec,
    "assert-env": check_env,
    "assert-env-missing": check_env_missing,
    "assert-symlink": check_symlink,
    "assert-no-symlink": check_no_symlink,
    "assert-unit": check_unit,
    "assert-no-unit": check_no_unit,
    "assert-units": check_units,
    "assert-after": check_after,
    "assert-not-after": check_after,
    "assert-not-pulls": check_not_pulls,
    "assert-stderr-contains": check_stderr_contains,
    "assert-stderr-not-contains": check_stderr_not_contains,
    "assert-stderr-matches": check_stderr_matches,
    "assert-no-stderr": check_no_stderr,
    "assert-exit-code": check_exit_code,
}


def verify_units(run, pinned_bindir=None):
    """systemd-analyze verify on every unit written; returns problems."""
    problems = []
    for d, dirs, files in os.walk(run.out):
        for name in dirs + files:
            p = os.path.join(d, name)
            if os.path.islink(p) and not os.path.exists(p):
                problems.append("dangling symlink %s -> %s" % (os.path.relpath(p, run.out), os.readlink(p)))
    units = run.written_units()
    if not units:
        return problems
    # verify reads "A:B" as "the file A, loaded as unit B", so a name with
    # a ':' (app@group:prog.service) is passed as its template loaded
    # under that name; its drop-ins are found in OUT all the same.
    args = []
    for u in units:
        if ":" in u:
            template = re.sub(r"@.*\.", "@.", u, count=1)
            args.append("%s:%s" % (os.path.join(run.units_dir, template), u))
        else:
            args.append(u)
    env = dict(os.environ)
    env["SYSTEMD_UNIT_PATH"] = "%s:%s:" % (run.out, run.units_dir)
    env.pop("SYSTEMD_LOG_LEVEL", None)
    proc = subprocess.run(["systemd-analyze", "verify", "--man=no"] + args, cwd=run.out, env=env,
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=RUN_TIMEOUT)
    output = proc.stdout.decode("utf-8", errors="backslashreplace")
    if pinned_bindir and not os.path.exists(os.path.join(pinned_bindir, "unitcorn")):
        absent = "Command %s is not executable: No such file or directory" % os.path.join(pinned_bindir, "unitcorn")
        lines = [l for l in output.splitlines() if not l.endswith(absent)]
        if len(lines) < len(output.splitlines()) and not lines:
            output = ""
            proc.returncode = 0         # that was all it had to say
    if proc.returncode != 0 or output:
        problems.append("systemd-analyze verify %s: exit %d" % (" ".join(units), proc.returncode))
        problems.extend("  " + l for l in output.splitlines())
    return problems


def run_case(src, generator, units_dir):
    """Returns (ok, diagnostic lines)."""
    name = os.path.basename(src)
    tmp = os.path.realpath(tempfile.mkdtemp(prefix="unitcorn-golden-"))
    keep = bool(os.environ.get("UNITCORN_GOLDEN_KEEP"))
    try:
        casedir = os.path.join(tmp, "conf")
        out = os.path.join(tmp, "out")
        if os.path.isdir(src):
            shutil.copytree(src, casedir, symlinks=True)
        else:
            os.mkdir(casedir)
            shutil.copy(src, os.path.join(casedir, name))
        os.mkdir(out)

        def subst(s):
            return (s.replace("@CASEDIR@", casedir).replace("@UNITS@", units_dir)
                    .replace("@BINDIR@", os.environ.get("UNITCORN_BINDIR", "@BINDIR@"))
                    .replace("@HOSTNAME@", platform.node()))

        asserts, settings = read_assertions(casedir, case_files(casedir), subst)
        if not asserts:
            return False, ["case has no '## assert-...' line"]

        # A small fixed environment, as PID 1 gives generators: the
        # ENV_* expansion names must not depend on who runs the tests.
        env = {
            "HOME": "/root",
            "PATH": FIXED_PATH,
            "UNITCORN_CONFIG_DIRS": casedir,
            "UNITCORN_UNITDIR": units_dir,
            "UNITCORN_TEST_VAR": "hello",
            # where ExecStart= finds unitcorn: the build tree's server/
            "UNITCORN_BINDIR": os.environ.get("UNITCORN_BINDIR", ""),
            "SYSTEMD_LOG_TARGET": "console",
        }
        # sanitizer settings of an instrumented build pass through
        env.update((k, v) for k, v in os.environ.items() if k.startswith(SANITIZER_ENV))
        env.update(settings)
        try:
            proc = subprocess.run([generator, out, out, out], cwd=casedir, env=env, stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=RUN_TIMEOUT)
        except (OSError, subprocess.TimeoutExpired) as e:
            return False, ["cannot run the generator: %s" % e]
        run = Run(casedir, out, units_dir, proc)

        diag = []
        if run.rc < 0:
            diag.append("generator killed by signal %d" % -run.rc)
        if not any(a.verb == "assert-exit-code" for a in asserts) and run.rc != 0:
            diag.append("exit code %d, expected 0" % run.rc)
        for a in asserts:
            try:
                err = CHECKS[a.verb](run, a)
            except CaseError as e:
                err = "bad assertion: %s" % e
            except Exception as e:  # a bug in the driver must not hide the other cases
                err = "assertion raised %s: %s" % (type(e).__name__, e)
            if err:
                diag.append("FAILED %s" % a)
                diag.extend("  " + l for l in err.splitlines())
        diag.extend(verify_units(run, dict(settings).get("UNITCORN_BINDIR")))
        if diag:
            if keep:
                diag.append("case kept in %s" % tmp)
            diag.append("generator exit code %d, stderr:" % run.rc)
            diag.extend("  " + l for l in run.stderr.splitlines() or ["(empty)"])
        return not diag, diag
    except CaseError as e:
        return False, ["bad case: %s" % e]
    finally:
        if not keep:
            shutil.rmtree(tmp, ignore_errors=True)


def find_cases(cases_dir, names):
    found = []
    for entry in sorted(os.listdir(cases_dir)):
        p = os.path.join(cases_dir, entry)
        if os.path.isdir(p):
            found.append((entry, p))
        elif entry.endswith(".ini"):
            found.append((entry[:-4], p))
    if names:
        found = [(n, p) for n, p in found if n in names]
        missing = set(names) - {n for n, _ in found}
        if missing:
            sys.exit("no such case: %s" % " ".join(sorted(missing)))
    return found


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__.split("\n\n")[1])
    generator = os.environ.get("UNITCORN_GENERATOR")
    units_dir = os.environ.get("UNITCORN_UNITS")
    if not generator or not units_dir:
        sys.exit("UNITCORN_GENERATOR and UNITCORN_UNITS must be set")
    generator = os.path.abspath(generator)
    units_dir = os.path.abspath(units_dir)
    if shutil.which("systemd-analyze") is None:
        print("1..0 # SKIP systemd-analyze is not installed")
        return 0

    cases = find_cases(sys.argv[1], sys.argv[2:])
    print("1..%d" % len(cases), flush=True)
    failed = 0
    for i, (name, path) in enumerate(cases, start=1):
        ok, diag = run_case(path, generator, units_dir)
        print("%s %d - %s" % ("ok" if ok else "not ok", i, name))
        for entry in diag:
            for line in entry.splitlines() or [""]:
                print("# " + line)
        sys.stdout.flush()
        failed += not ok
    if failed:
        print("# %d of %d cases failed" % (failed, len(cases)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
