"""What supervisor itself makes of a configuration: the oracle of the
differential tests (test_differential.py).

The configuration is read as supervisord reads /etc/supervisor.d/*.ini
included from its main file: one supervisor.options.UnhosedConfigParser,
each file read in sorted order and followed by parser.expand_here(its
directory); ENV_* expansions from the environment the generator runs with;
[supervisord] environment= handled as ServerOptions.read_config() does
(expanded twice, added to the ENV_* expansions and under each process's
environment).  Every program is then handed to supervisor's own
ServerOptions.process_groups_from_parser() on a copy of the parser that
holds only that program (and its [group:x], and [DEFAULT]), so that a
ValueError rejects that one program: supervisord itself would refuse the
whole file, the generator deliberately skips only the bad program.

Then what supervisor checks only when it spawns (process.py
Subprocess.get_execv_args() and ServerOptions.check_execv_args()):
shlex.split(command) errors, an empty command, a bare name looked up in
PATH (the first candidate that exists must be an executable file), a
relative path with '/' resolved against directory=.  Where the generator
looks a bare name up differs slightly from supervisord, and is mirrored
here: the program's environment PATH (which includes [supervisord]
environment=), else the generator's own $PATH, else its built-in default
(an empty PATH counts as unset); empty and relative PATH entries are
skipped (supervisord would look them up relative to its own working
directory, which a generator has not).  An absolute (or directory-relative)
command is not looked at: a generator runs before file systems are mounted,
and systemd reports a missing file when the unit starts.

Finally DEVIATIONS: what supervisor accepts and the generator deliberately
refuses, reported with file:line.  Those programs are expected to be
reported and skipped.

What the units must say (Configuration._process()) follows DESIGN.md 3.2,
with these documented differences: ExecStart='s argv[0] is the resolved
path (supervisor passes the name as written); TimeoutStopSec= is at least
1 s (0 is "no timeout" to systemd, supervisor SIGKILLs at once); the
effective umask is the program's, else [supervisord]'s, else 022;
*_logfile=AUTO or syslog goes to the journal, a relative path too.
Not checked, as a generator cannot: whether an absolute command or the
directory= exists (see above), whether supervisord could switch users.

The result, per program occurrence (a [program:x], or a member of a
[group:x]), is either "rejected" (with the reason, and where known the
file:line the report must name) or "accepted" with the processes and what
their units must say (expected_units()).
"""

import configparser
import glob
import io
import os
import platform
import pwd
import re
import shlex
import stat
import sys

if "/usr/lib/python3/dist-packages" not in sys.path:
    sys.path.append("/usr/lib/python3/dist-packages")

from supervisor import datatypes  # noqa: E402
from supervisor.options import ServerOptions, UnhosedConfigParser, expand  # noqa: E402

# The generator's fallback when no PATH is set anywhere (generator/program.c).
GENERATOR_DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# systemd's UNIT_NAME_MAX, without the NUL.
UNIT_NAME_MAX = 255
INT64_MIN, INT64_MAX = -(2 ** 63), 2 ** 63 - 1

# Where the generator is deliberately stricter than supervisor: each is
# something supervisor accepts (or accepts in the file and only trips over
# when it spawns) and the generator refuses, reporting file:line and
# skipping the program.  Keep this the one list of them.
#
# The first four are about a line's content as configparser keeps it: the
# section name, the key, the value, each stripped of (Python's) whitespace,
# comments removed.  Non-ASCII whitespace around them is stripped, as
# supervisor strips it, and is no deviation.  Such a line breaks its
# section; in [DEFAULT] or [supervisord] every program, before any section
# the whole file.
DEVIATIONS = {
    # Non-ASCII whitespace (U+00A0, U+3000...) inside a name or value:
    # supervisor keeps it as part of the word, which is almost always a
    # copy-paste accident.
    "non-ascii-space": "line contains non-ASCII whitespace",
    # Control characters other than tab inside a name or value (form feed,
    # vertical tab, U+001C..U+001F, which Python counts as whitespace; DEL).
    "control-char": "line contains a control character",
    # Bytes that are not UTF-8, even in a comment: supervisor reads files in
    # the locale's encoding (UTF-8) and fails on the whole configuration.
    "invalid-utf8": "line contains invalid UTF-8",
    # U+FEFF inside a name or value: an invisible character.  (At the start
    # of a file supervisor fails too: no section header.)
    "bom": "line contains a byte order mark",
    # "%s", "%r", "%a" without a (name): Python formats the whole expansion
    # dictionary into the value, which is never what was meant.
    "nameless-format": "a '%' conversion without a (name)",
    # directory= that does not start with '/': relative to supervisord's own
    # working directory (and '~' is not expanded by chdir() either).
    "relative-directory": "relative directory=",
    # Environment names systemd's Environment= cannot take; supervisor's
    # tokenizer allows '.', '-', '/', '+', '(', ')', ':' and a leading digit.
    "environment-name": "environment name not [A-Za-z_][A-Za-z0-9_]*",
    # stopsignal=0 (or SIG_DFL, SIG_BLOCK): supervisor "stops" with signal 0,
    # i.e. waits stopwaitsecs and then SIGKILLs.
    "stopsignal-0": "stopsignal is 0",
    # umask (program or [supervisord]) outside 0..0777: Python's int(x, 8)
    # takes "-1" and "1000".
    "umask-range": "umask outside 0..0777",
    # A bare command= name the generator cannot find in PATH (see the module
    # comment for which PATH); supervisor finds out only when it spawns.
    "command-not-found": "bare command not found in PATH",
    # A relative command with '/' (bin/app) without an absolute directory=:
    # supervisor resolves it against its own working directory.
    "relative-command": "relative command without an absolute directory=",
    # [program:] or [program: ]: supervisor names the program (and its
    # group) "" (process_or_group_name() strips).
    "program-name": "empty program name",
    # [group:] or [group: ]: its target would be app@.target, the template.
    "group-name": "empty group name",
    # A process name that is empty or has '/' after expansion (supervisor
    # checks the name before expanding it): it cannot name a unit.
    "process-name": "process name empty or containing '/' after expansion",
    # An escaped unit name longer than systemd's 255 bytes.
    "unit-name-too-long": "unit name longer than 255 bytes",
    # Two processes that would be the same app@NAME.service (supervisor keeps
    # processes of different groups apart; plain programs share the instance
    # namespace here).  The later one, in the generator's order ([group:x]
    # members first, then programs in file order), is skipped.
    "instance-collision": "two processes map to the same unit",
    # directory=, a log file path or an [fcgi-program:x] socket path that an
    # unquoted unit-file setting cannot hold (path settings know no
    # escapes): a line break (from a continuation line) would start a
    # directive of its own, a final backslash would join the next line to
    # the path, surrounding spaces would be stripped.
    "unquoted-path": "line break, final backslash or surrounding space in a path",
    # Integers beyond int64 (Python's int() has no bound).
    "integer-range": "integer beyond int64",
    # Digits that are not ASCII ('١٠', '０'): Python's int() reads any Unicode
    # decimal digit; the generator reads ASCII digits only.
    "unicode-digits": "a number written with non-ASCII digits",
    # systemd_sandbox= (the generator's own key, which supervisor ignores)
    # that is no boolean: it would silently give no sandbox.
    "systemd-sandbox": "systemd_sandbox is not a boolean",
    # [eventlistener:x]: systemd has no event protocol.
    "eventlistener": "event listeners are not supported",
}

# Keys supervisor reads from a program section with "%" expansion
# (saneget() with do_expand, or expand() on the value): before the loop
# over process numbers, and in it (only read when numprocs > 0).
PRE_LOOP_KEYS = [
    "priority", "autostart", "autorestart", "startsecs", "startretries", "stopsignal",
    "stopwaitsecs", "stopasgroup", "killasgroup", "exitcodes", "redirect_stderr", "numprocs",
    "numprocs_start", "stdout_capture_maxbytes", "stdout_events_enabled",
    "stderr_capture_maxbytes", "stderr_events_enabled", "serverurl", "user", "umask",
]
LOOP_KEYS = [
    "environment", "process_name", "directory", "stdout_logfile", "stdout_logfile_backups",
    "stdout_logfile_maxbytes", "stdout_syslog", "stderr_logfile", "stderr_logfile_backups",
    "stderr_logfile_maxbytes", "stderr_syslog", "command",
]
FCGI_KEYS = ["socket", "socket_owner", "socket_mode", "socket_backlog"]
INTEGER_KEYS = ["priority", "startsecs", "startretries", "stopwaitsecs", "numprocs_start",
                "stdout_logfile_backups", "stderr_logfile_backups"]
BYTE_SIZE_KEYS = ["stdout_capture_maxbytes", "stderr_capture_maxbytes",
                  "stdout_logfile_maxbytes", "stderr_logfile_maxbytes"]

ENV_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def unquoted_problem(s):
    """generator/unit.c's unit_unquoted_problem(): a value an unquoted
    unit-file setting cannot hold."""
    return (any(ord(c) < 0x20 or c == "\x7f" for c in s) or s.endswith("\\")
            or s.startswith(" ") or s.endswith(" "))


class Reject(Exception):
    """A program the generator must report and skip.  kind is "supervisor"
    (supervisor refuses it) or a DEVIATIONS key; lines is a set of
    (file, line) of which the report must name one (empty: not known)."""

    def __init__(self, kind, message, lines=()):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.lines = set(lines)


LINE_DEVIATIONS = ("non-ascii-space", "control-char", "invalid-utf8", "bom")


def combine(rejects):
    """One Reject for several reasons.  The generator reports the first it
    meets, so the report may be at any of their lines (none required when
    one of them has no known line) -- except lines it cannot read, which it
    always reports while reading."""
    if len(rejects) == 1:
        return rejects[0]
    lines = set()
    for r in rejects:
        if not r.lines:
            lines = set()
            break
        lines |= r.lines
    for r in rejects:
        if r.kind in LINE_DEVIATIONS:
            lines = r.lines
            break
    return Reject(rejects[0].kind, "; ".join("%s: %s" % (r.kind, r.message) for r in rejects), lines)


# --- reading files ---------------------------------------------------------

def split_lines(data):
    """Physical lines as Python's universal newlines see them (bytes)."""
    return re.split(rb"\r\n|\r|\n", data)


def text_deviation(text):
    """The DEVIATIONS key for the first character in text (a line's content,
    decoded with surrogateescape) the generator refuses, or None."""
    for ch in text:
        o = ord(ch)
        if 0xdc80 <= o <= 0xdcff:
            return "invalid-utf8"
        if ch == "\ufeff":
            return "bom"
        if (o < 0x20 and ch != "\t") or o == 0x7f:
            return "control-char"
        if o > 0x7f and ch.isspace():
            return "non-ascii-space"
    return None


class FileScan:
    """Where things are in one file, found with the same rules as
    configparser's RawConfigParser._read(): the section each line belongs
    to, the line of each key, the section headers."""

    SECTCRE = configparser.RawConfigParser.SECTCRE
    OPTCRE = configparser.RawConfigParser.OPTCRE
    NONSPACE = re.compile(r"\S")

    def __init__(self, path, data):
        self.path = path
        self.data = data
        self.raw_lines = split_lines(data)
        if self.raw_lines and self.raw_lines[-1] == b"":
            self.raw_lines.pop()
        self.line_section = {}     # lineno -> section name or None
        self.keys = []             # (section, key, lineno) in order
        self.headers = []          # (section, lineno)
        self.bad_lines = []        # (lineno, DEVIATIONS key, where: "" or " (in a comment)")
        self.missing_header = False
        self._scan()

    def _scan(self):
        """RawConfigParser._read()'s structure, recording where things are.
        What the generator refuses is looked for where configparser keeps
        it: in the section name, the key and the value, each stripped
        (Python's whitespace) and without comments.  Bytes that are not
        UTF-8 count anywhere, comments included: supervisor cannot decode
        the file at all."""
        cursect = None
        optname = None
        indent_level = 0
        for lineno, raw in enumerate(self.raw_lines, start=1):
            line = raw.decode("utf-8", "surrogateescape")
            comment_start = inline_comment_start(line)
            if line.strip().startswith(("#", ";")):
                comment_start = 0
            value = line[:comment_start].strip()
            self.line_section[lineno] = cursect
            try:
                raw.decode("utf-8")
                self._invalid = False
            except UnicodeDecodeError:
                self._invalid = True
            if not value:
                self._bad(lineno, [])
                continue
            m = self.NONSPACE.search(line)
            cur_indent = m.start() if m else 0
            if cursect is not None and optname and cur_indent > indent_level:
                self._bad(lineno, [value])
                continue
            indent_level = cur_indent
            mo = self.SECTCRE.match(value)
            if mo:
                cursect = mo.group("header")
                self.headers.append((cursect, lineno))
                optname = None
                self.line_section[lineno] = cursect
                self._bad(lineno, [value])
                continue
            if cursect is None:
                self._bad(lineno, [value])
                self.missing_header = lineno
                return
            mo = self.OPTCRE.match(value)
            if mo:
                optname = mo.group("option").rstrip().lower()
                self.keys.append((cursect, optname, lineno))
                self._bad(lineno, [mo.group("option").strip(), mo.group("value").strip()])
            else:
                # a parsing error; configparser keeps optname
                self._bad(lineno, [value])

    def _bad(self, lineno, parts):
        """Records (lineno, DEVIATIONS key, where) for a refused line."""
        for p in parts:
            dev = text_deviation(p)
            if dev:
                self.bad_lines.append((lineno, dev, ""))
                return
        if self._invalid:
            self.bad_lines.append((lineno, "invalid-utf8", " (in a comment)"))

    def key_line(self, section, key):
        found = None
        for s, k, n in self.keys:
            if s == section and k == key:
                found = n
        return found

    def defines(self, section, key):
        return self.key_line(section, key) is not None


def inline_comment_start(line):
    """configparser's search for an inline comment (';' or '#' at the start
    or after whitespace), including its quirk of looking at the n-th
    occurrence of every prefix in turn rather than for the first one."""
    start = None
    prefixes = {";": -1, "#": -1}
    while start is None and prefixes:
        nxt = {}
        for prefix, index in prefixes.items():
            index = line.find(prefix, index + 1)
            if index == -1:
                continue
            nxt[prefix] = index
            if index == 0 or (index > 0 and line[index - 1].isspace()):
                start = index if start is None else min(start, index)
        prefixes = nxt
    return start


def nameless_conversion(fmt):
    """True if a Python %-format string has a conversion without (name)."""
    i, n = 0, len(fmt)
    while i < n:
        if fmt[i] != "%":
            i += 1
            continue
        i += 1
        if i >= n:
            return False          # "incomplete format": Python fails anyway
        if fmt[i] == "%":
            i += 1
            continue
        if fmt[i] != "(":
            return True
        depth = 1
        i += 1
        while i < n and depth:
            depth += {"(": 1, ")": -1}.get(fmt[i], 0)
            i += 1
        while i < n and fmt[i] in "#0- +123456789.*hlL":
            i += 1
        i += 1
    return False


# --- the configuration as a whole -----------------------------------------

class Occurrence:
    """One program as the generator treats it: a [program:x] (or
    [fcgi-program:x]) on its own, or as a member of a [group:x]."""

    def __init__(self, section, group=None, group_section=None):
        self.section = section
        self.group = group                  # [group:x] name, or None
        self.group_section = group_section
        self.program = section.split(":", 1)[1]
        self.reject = None                  # Reject, or None when accepted
        self.processes = []                 # dicts, see _process()

    @property
    def accepted(self):
        return self.reject is None

    def describe(self):
        where = "[%s]%s" % (self.section, " in [%s]" % self.group_section if self.group else "")
        if self.reject:
            return "%s: rejected (%s): %s%s" % (
                where, self.reject.kind, self.reject.message,
                "; report expected at one of %s" % sorted("%s:%d" % l for l in self.reject.lines)
                if self.reject.lines else "")
        lines = ["%s: accepted, %d process(es)" % (where, len(self.processes))]
        for p in self.processes:
            lines.append("    %s" % ({k: v for k, v in sorted(p.items())},))
        return "\n".join(lines)


class Configuration:
    """Reads a config directory as described in the module docstring."""

    def __init__(self, config_dir, environ):
        self.dir = os.path.abspath(config_dir)
        self.environ = dict(environ)
        self.node = platform.node()
        self.environ_expansions = {"ENV_%s" % k: v for k, v in self.environ.items()}
        self.parser = UnhosedConfigParser()
        self.parser.expansions = self.environ_expansions
        self.scans = []            # FileScan, in reading order
        self.seen = set()
        self.parse_errors = []     # (file, lineno)
        # expected reports not tied to a program: (text, {(file, line)} of
        # which one must be reported, or a section whose skipping will do)
        self.notes = []
        self.sd_reject = None
        self.sd_env = {}
        self.sd_umask = 0o22
        self.sd_user = None
        self.occurrences = []
        self.group_errors = {}     # [group:x] -> why supervisor refuses its programs=

        names = sorted(n for n in os.listdir(self.dir)
                       if not n.startswith(".") and n.endswith((".ini", ".conf")))
        for n in names:
            self._read(os.path.join(self.dir, n), top_level=True)
        self._read_supervisord()
        self._programs()

    # -- files --

    def _read(self, path, top_level):
        real = os.path.realpath(path)
        if real in self.seen:
            return
        self.seen.add(real)
        with open(path, "rb") as f:
            data = f.read()
        scan = FileScan(path, data)
        self.scans.append(scan)
        if data.startswith(b"\xef\xbb\xbf") or scan.missing_header:
            # configparser: MissingSectionHeaderError, nothing of the file is
            # read (a BOM makes the first line no section header either);
            # the generator skips the file too, and says where.
            self.notes.append(("%s cannot be read (no section header first)" % path,
                               {(path, 1 if data.startswith(b"\xef\xbb\xbf") else scan.missing_header)}, None))
            return
        text = data.decode("utf-8", "surrogateescape").replace("\r\n", "\n").replace("\r", "\n")
        before = set(self.parser.sections())
        try:
            self.parser.read_file(io.StringIO(text), source=path)
        except configparser.ParsingError as e:
            for lineno, _ in e.errors:
                self.parse_errors.append((path, lineno))
        for s in set(self.parser.sections()) - before:
            self.parser.section_to_file[s] = path
        self.parser.expand_here(os.path.abspath(os.path.dirname(path)))
        if top_level and scan.defines("include", "files"):
            self._include(path)

    def _include(self, path):
        here = os.path.abspath(os.path.dirname(path))
        expansions = {"here": here, "host_node_name": self.node}
        expansions.update({"ENV_%s" % k: v for k, v in self.environ.items()})
        try:
            files = expand(self.parser.get("include", "files"), expansions, "include.files")
        except ValueError:
            return
        for pattern in files.split():
            for name in sorted(glob.glob(os.path.join(here, pattern))):
                self._read(name, top_level=False)

    # -- lookups in the files --

    def key_lines(self, section, key):
        """Where the value supervisor uses for section.key was set: the
        last definition in the section, else in [DEFAULT]."""
        for sect in (section, "DEFAULT"):
            found = None
            for scan in self.scans:
                n = scan.key_line(sect, key)
                if n is not None:
                    found = (scan.path, n)
            if found:
                return {found}
        return set()

    def section_lines(self, section):
        return {(scan.path, n) for scan in self.scans for s, n in scan.headers if s == section}

    def section_files(self, section):
        return {f for f, _ in self.section_lines(section)}

    def bad_lines_in(self, section):
        """[(file, line, DEVIATIONS key, where)] of the lines of a section
        the generator refuses to read."""
        out = []
        for scan in self.scans:
            for lineno, dev, where in scan.bad_lines:
                if scan.line_section.get(lineno) == section:
                    out.append((scan.path, lineno, dev, "%s (in [%s])" % (where, section)))
        return out

    def bad_lines_outside(self):
        """Bad lines before any section: the generator skips such a file."""
        return [(scan.path, lineno, dev, where + " (before any section)")
                for scan in self.scans for lineno, dev, where in scan.bad_lines
                if scan.line_section.get(lineno) is None]

    def parse_errors_in(self, section):
        out = []
        for scan in self.scans:
            for f, lineno in self.parse_errors:
                if f == scan.path and scan.line_section.get(lineno) == section:
                    out.append((f, lineno))
        return out

    # -- [supervisord] --

    def _read_supervisord(self):
        p = self.parser
        if not p.has_section("supervisord"):
            return
        get = lambda opt, default: p.saneget("supervisord", opt, default, expansions={"here": self.dir})  # noqa: E731
        # read_config()'s order; of supervisord's own settings only those that
        # reach the children are checked (a missing supervisord log directory
        # must not stop the programs once supervisor is gone)
        for key, default in (("minfds", 1024), ("minprocs", 200)):
            try:
                datatypes.integer(get(key, default))
            except ValueError as e:
                self.sd_reject = Reject("supervisor", "[supervisord] %s: %s" % (key, e),
                                        self.key_lines("supervisord", key))
                return
        try:
            environ_str = get("environment", "")
            once = environ_str
            expansions = {"here": self.dir, "host_node_name": self.node}
            expansions.update(self.environ_expansions)
            environ_str = expand(environ_str, expansions, "environment")
            self.sd_env = datatypes.dict_of_key_value_pairs(environ_str)
        except ValueError as e:
            self.sd_reject = Reject("supervisor", "[supervisord] environment: %s" % e,
                                    self.key_lines("supervisord", "environment"))
            return
        if p.has_option("supervisord", "environment") and \
                any(nameless_conversion(v) for v in (p.get("supervisord", "environment"), once)):
            self.sd_reject = Reject("nameless-format", "[supervisord] environment",
                                    self.key_lines("supervisord", "environment"))
            return
        for k, v in self.sd_env.items():
            self.environ_expansions["ENV_%s" % k] = v
        try:
            self.sd_umask = datatypes.octal_type(get("umask", "022"))
        except ValueError as e:
            self.sd_reject = Reject("supervisor", "[supervisord] umask: %s" % e,
                                    self.key_lines("supervisord", "umask"))
            return
        if not 0 <= self.sd_umask <= 0o777:
            self.sd_reject = Reject("umask-range", "[supervisord] umask %o" % self.sd_umask,
                                    self.key_lines("supervisord", "umask"))
            return
        try:
            # supervisord's own user: checked when a program inherits it
            self.sd_user = get("user", None)
        except ValueError as e:
            self.sd_reject = Reject("supervisor", "[supervisord] user: %s" % e,
                                    self.key_lines("supervisord", "user"))

    # -- programs --

    def _programs(self):
        p = self.parser
        sections = p.sections()
        grouped = set()
        occ = []
        # [group:x] members first, as the generator does.
        for gs in sections:
            if not gs.startswith("group:"):
                continue
            gname = gs.split(":", 1)[1]
            try:
                members = datatypes.list_of_strings(p.saneget(gs, "programs", None, expansions={"here": self.dir}))
            except ValueError as e:
                # supervisor refuses the group; its members are still its own
                self.group_errors[gs] = str(e)
                members = datatypes.list_of_strings(p.get(gs, "programs", fallback=""))
            for m in members:
                ps, fs = "program:%s" % m, "fcgi-program:%s" % m
                if ps in sections and fs in sections:
                    self.notes.append(("[%s] member %s is ambiguous" % (gs, m), self.key_lines(gs, "programs"), gs))
                    continue
                if ps not in sections and fs not in sections:
                    self.notes.append(("[%s] names unknown program %r" % (gs, m), self.key_lines(gs, "programs"), gs))
                    continue
                ms = ps if ps in sections else fs
                grouped.add(ms)
                occ.append(Occurrence(ms, gname.strip(), gs))
        for s in sections:
            if s.startswith("eventlistener:"):
                o = Occurrence(s)
                o.reject = Reject("eventlistener", "[%s] is an event listener" % s, self.section_lines(s))
                occ.append(o)
                continue
            if not s.startswith(("program:", "fcgi-program:")) or s in grouped:
                continue
            occ.append(Occurrence(s))
        self.occurrences = occ

        options = ServerOptions()
        options.here = self.dir
        options.environ_expansions = self.environ_expansions
        options.configfile = os.path.join(self.dir, "supervisord.conf")
        for o in occ:
            if o.reject:
                continue
            try:
                self._evaluate(options, o)
            except Reject as r:
                o.reject = r

        # Instance names, claimed in the generator's order.
        claimed = {}
        for o in occ:
            if not o.accepted:
                continue
            names = [pr["instance"] for pr in o.processes]
            clash = [n for n in names if n in claimed] or \
                [n for i, n in enumerate(names) if n in names[:i]]
            if clash:
                o.reject = Reject("instance-collision", "app@%s.service is already %s" % (
                    clash[0], "generated for [%s]" % claimed[clash[0]] if clash[0] in claimed else "used twice"),
                    self.section_lines(o.section))
                o.processes = []
                continue
            for n in names:
                claimed[n] = o.section

    def _subparser(self, o):
        """A parser holding only what one occurrence needs."""
        p = self.parser
        sub = UnhosedConfigParser()
        sub.expansions = p.expansions
        sub._defaults.update(p._defaults)
        sub.add_section(o.section)
        sub._sections[o.section].update(p._sections[o.section])
        if o.group:
            sub.add_section(o.group_section)
            sub._sections[o.group_section].update(p._sections[o.group_section])
            sub._sections[o.group_section]["programs"] = o.program.replace("%", "%%")
        sub.section_to_file = dict(p.section_to_file)
        return sub

    def _evaluate(self, options, o):
        """Sets o.processes, or raises Reject with every reason found."""
        s = o.section
        rejects = []
        # Lines the generator cannot read: in the section, its group, the
        # sections every program inherits from, or before any section of a
        # file the section is in.
        bad = [b for b in self.bad_lines_outside() if b[0] in self.section_files(s)]
        for sect in (s, o.group_section, "DEFAULT", "supervisord"):
            if sect:
                bad += self.bad_lines_in(sect)
        if bad:
            f, n, d, where = bad[0]
            rejects.append(Reject(d, "%s at %s:%d%s" % (DEVIATIONS[d], f, n, where), {(f, n) for f, n, _, _ in bad}))
        if not o.program.strip():
            rejects.append(Reject("program-name", "empty program name", self.section_lines(s)))
        if o.group is not None and not o.group.strip():
            rejects.append(Reject("group-name", "empty group name", self.section_lines(o.group_section)))
        if self.sd_reject:
            rejects.append(self.sd_reject)
        for sect in (s, o.group_section, "DEFAULT"):
            errs = self.parse_errors_in(sect) if sect else []
            if errs:
                rejects.append(Reject("supervisor", "configparser cannot parse %s" % errs, set(errs)))
        if o.group_section in self.group_errors:
            raise combine(rejects + [Reject("supervisor", "[%s]: %s" % (o.group_section,
                                                                         self.group_errors[o.group_section]))])
        if o.group:
            # the [group:x] itself, without its members
            sub = self._subparser(o)
            sub._sections[o.group_section]["programs"] = ""
            sub.remove_section(o.section)
            try:
                options.process_groups_from_parser(sub)
            except ValueError as e:
                raise combine(rejects + [Reject("supervisor", "[%s]: %s" % (o.group_section, e))])
        try:
            groups = options.process_groups_from_parser(self._subparser(o))
        except ValueError as e:
            msg = str(e)
            if s.startswith("fcgi-program:"):
                # supervisor checks the socket before it reads numprocs
                try:
                    msg += " [numprocs=%d]" % int(self._get(o, "numprocs", 1))
                except (ValueError, TypeError):
                    pass
            raise combine(rejects + [Reject("supervisor", msg)])

        # (the group name is the [group:x] name, or the program name)
        configs = [(g.name, pc) for g in groups for pc in g.process_configs]
        for g in groups:
            url = getattr(getattr(g, "socket_config", None), "url", None)
            if isinstance(url, str) and unquoted_problem(url):
                rejects.append(Reject("unquoted-path", "socket=%r" % url, self.key_lines(s, "socket")))
        rejects += self._value_deviations(o, bool(configs))
        procs = []
        for gname, pc in configs:
            try:
                procs.append(self._process(o, gname, pc))
            except Reject as r:
                rejects.append(r)
                break
        if rejects:
            raise combine(rejects)
        o.processes = sorted(procs, key=lambda pr: pr["instance"])

    def _get(self, o, key, default):
        """saneget() with the expansions supervisor has before the
        process loop (no process_num)."""
        return self.parser.saneget(o.section, key, default, expansions={
            "here": self.dir, "program_name": o.program.strip(), "host_node_name": self.node,
            "group_name": o.group or o.program.strip()})

    def _value_deviations(self, o, has_processes):
        """DEVIATIONS in the program's values, once supervisor accepted
        them.  Keys read inside the process loop count only when there are
        processes (numprocs > 0)."""
        p, s = self.parser, o.section
        out = []
        keys = PRE_LOOP_KEYS + (FCGI_KEYS if s.startswith("fcgi-program:") else [])
        if has_processes:
            keys = keys + LOOP_KEYS
        for key in keys:
            if not p.has_option(s, key):
                continue
            raw = p.get(s, key)
            values = [raw]
            if key.endswith("_logfile"):
                # expanded twice; the first expansion succeeded
                try:
                    values.append(expand(raw, self._expansions_for(o), key))
                except ValueError:
                    pass
            if any(nameless_conversion(v) for v in values):
                out.append(Reject("nameless-format", "%s=%r" % (key, raw), self.key_lines(s, key)))
        for key in INTEGER_KEYS + BYTE_SIZE_KEYS + ["numprocs", "exitcodes", "umask", "socket_backlog", "socket_mode"]:
            if not p.has_option(s, key) or (key not in keys):
                continue
            try:
                v = expand(p.get(s, key), self._expansions_for(o), key)
            except ValueError:
                v = ""
            if any(ord(ch) > 127 and ch.isdigit() for ch in v):
                out.append(Reject("unicode-digits", "%s=%r" % (key, v), self.key_lines(s, key)))
        for key in INTEGER_KEYS + BYTE_SIZE_KEYS:
            if not p.has_option(s, key) or (key not in keys):
                continue
            try:
                v = expand(p.get(s, key), self._expansions_for(o), key)
                n = datatypes.byte_size(v) if key in BYTE_SIZE_KEYS else int(v)
            except (ValueError, TypeError):
                continue
            if not INT64_MIN <= n <= INT64_MAX:
                out.append(Reject("integer-range", "%s=%s" % (key, n), self.key_lines(s, key)))
        if o.group and p.has_option(o.group_section, "priority"):
            try:
                n = int(expand(p.get(o.group_section, "priority"), dict(p.expansions, here=self.dir), "priority"))
            except (ValueError, TypeError):
                n = 0
            if not INT64_MIN <= n <= INT64_MAX:
                out.append(Reject("integer-range", "[%s]: priority %d" % (o.group_section, n),
                                  self.key_lines(o.group_section, "priority")))
        sandbox = self._get(o, "systemd_sandbox", None)
        if sandbox is not None:
            try:
                datatypes.boolean(sandbox)
            except ValueError:
                out.append(Reject("systemd-sandbox", "systemd_sandbox=%r" % sandbox,
                                  self.key_lines(s, "systemd_sandbox")))
        if datatypes.signal_number(self._get(o, "stopsignal", "TERM")) == 0:
            out.append(Reject("stopsignal-0", "stopsignal is 0", self.key_lines(s, "stopsignal")))
        umask = self._get(o, "umask", None)
        umask = self.sd_umask if umask is None else datatypes.octal_type(umask)
        if not 0 <= umask <= 0o777:
            out.append(Reject("umask-range", "umask %o" % umask,
                              self.key_lines(s, "umask") or self.key_lines("supervisord", "umask")))
        return out

    def _expansions_for(self, o):
        e = {"here": self.dir, "program_name": o.program.strip(), "host_node_name": self.node,
             "group_name": o.group or o.program.strip(), "process_num": 0, "numprocs": 1}
        e.update(self.environ_expansions)
        return e

    def _process(self, o, gname, pc):
        s = o.section
        env = dict(self.sd_env)
        env.update(pc.environment or {})
        for k in env:
            if not ENV_NAME_RE.match(k):
                raise Reject("environment-name", "environment name %r" % k,
                             self.key_lines(s, "environment") | self.key_lines("supervisord", "environment")
                             | self.section_lines(s))
        if pc.directory is not None and not pc.directory.startswith("/"):
            raise Reject("relative-directory", "directory=%r" % pc.directory, self.key_lines(s, "directory"))
        paths = [("directory", pc.directory), ("stdout_logfile", pc.stdout_logfile)]
        if not pc.redirect_stderr:
            paths.append(("stderr_logfile", pc.stderr_logfile))
        for key, path in paths:
            if isinstance(path, str) and unquoted_problem(path):
                raise Reject("unquoted-path", "%s=%r" % (key, path), self.key_lines(s, key))
        umask = pc.umask if pc.umask is not None else self.sd_umask
        if not pc.name or "/" in pc.name:
            raise Reject("process-name", "process name %r" % pc.name,
                         self.key_lines(s, "process_name") or self.section_lines(s))
        uid = pc.uid
        if uid is None and self.sd_user is not None:
            try:
                uid = datatypes.name_to_uid(self.sd_user)
            except ValueError as e:
                raise Reject("supervisor", "[supervisord] user: %s" % e, self.key_lines("supervisord", "user"))
        argv = self._command(o, pc, env)
        if any("\0" in w for w in argv) or any("\0" in k + v for k, v in env.items()):
            # os.execve() refuses it ("embedded null byte"): the spawn fails
            raise Reject("supervisor", "embedded null byte in the command or environment",
                         self.key_lines(s, "command") | self.key_lines(s, "environment"))

        instance = "%s:%s" % (gname, pc.name) if o.group else pc.name
        if len(escape_instance(instance)) + len("app@.service") > UNIT_NAME_MAX:
            raise Reject("unit-name-too-long", "instance %r" % instance, self.section_lines(s))
        from supervisor.datatypes import RestartUnconditionally, RestartWhenExitUnexpected
        restart = {RestartUnconditionally: "always", RestartWhenExitUnexpected: "on-failure",
                   False: "no"}[pc.autorestart]
        full_env = {"SUPERVISOR_ENABLED": "1", "SUPERVISOR_PROCESS_NAME": pc.name,
                    "SUPERVISOR_GROUP_NAME": gname}
        full_env.update(env)
        force = None
        if restart == "on-failure":
            # a death by signal is never expected in supervisor; exit 0 is
            # unexpected when exitcodes does not list it
            force = {"SIGHUP", "SIGINT", "SIGTERM", "SIGPIPE"} | ({"0"} if 0 not in pc.exitcodes else set())
        return {
            "instance": instance,
            "standard_output": output_target(pc.stdout_logfile, pc.stdout_syslog),
            "standard_error": "inherit" if pc.redirect_stderr else
            output_target(pc.stderr_logfile, pc.stderr_syslog),
            "argv": argv,
            "environment": full_env,
            "directory": pc.directory,
            "uid": uid,
            "umask": umask,
            "autostart": bool(pc.autostart),
            "restart": restart,
            "success_exit_status": sorted(set(pc.exitcodes) - {0}),
            "restart_force_exit_status": sorted(force) if force is not None else None,
            "kill_signal": int(pc.stopsignal),
            # documented deviation: systemd takes 0 as "no timeout"
            "timeout_stop_sec": max(pc.stopwaitsecs, 1),
            "kill_mode": "control-group" if pc.stopasgroup else "mixed",
        }

    def _command(self, o, pc, env):
        """get_execv_args() at generation time (see the module docstring)."""
        lines = self.key_lines(o.section, "command")
        try:
            argv = shlex.split(pc.command)
        except ValueError as e:
            raise Reject("supervisor", "can't parse command %r: %s" % (pc.command, e), lines)
        if not argv:
            raise Reject("supervisor", "command is empty", lines)
        prog = argv[0]
        if "/" not in prog:
            path = env.get("PATH")
            if path is None:
                path = self.environ.get("PATH")
            if not path:
                path = GENERATOR_DEFAULT_PATH
            for d in path.split(":"):
                if not d.startswith("/"):
                    continue
                cand = os.path.join(d, prog)
                try:
                    st = os.stat(cand)
                except OSError:
                    continue
                if stat.S_ISDIR(st.st_mode):
                    raise Reject("supervisor", "command at %r is a directory" % cand, lines)
                if not st.st_mode & 0o111:
                    raise Reject("supervisor", "command at %r is not executable" % cand, lines)
                if not os.access(cand, os.X_OK):
                    raise Reject("supervisor", "no permission to run command %r" % cand, lines)
                return [cand] + argv[1:]
            raise Reject("command-not-found", "can't find command %r in PATH=%s" % (prog, path), lines)
        if prog.startswith("/"):
            return argv
        if not pc.directory or not pc.directory.startswith("/"):
            raise Reject("relative-command", "relative command %r" % prog, lines)
        return [os.path.join(pc.directory, prog)] + argv[1:]

    # -- results --

    def expected_units(self):
        """{instance: process dict} of every unit the generator must write."""
        out = {}
        for o in self.occurrences:
            if o.accepted:
                for p in o.processes:
                    out[p["instance"]] = p
        return out

    def describe(self):
        lines = [o.describe() for o in self.occurrences]
        if self.sd_reject:
            lines.append("[supervisord]: %s" % self.sd_reject.message)
        for text, where, _ in self.notes:
            lines.append("note: %s (report expected at %s)" % (text, sorted("%s:%d" % w for w in where)))
        return "\n".join(lines) if lines else "(no programs)"


def output_target(logfile, syslog):
    """StandardOutput=/StandardError= for supervisor's *_logfile (already
    through datatypes.logfile_name(): None for NONE, Automatic, or an
    expanded path) and *_syslog.  AUTO and syslog go to the journal; a path
    is appended to (relative ones are relative to supervisord's directory:
    the journal, with a warning)."""
    if logfile is None:
        return "journal" if syslog else "null"
    if logfile is datatypes.Automatic or not logfile.startswith("/"):
        return "journal"
    return "append:" + logfile


def escape_instance(s):
    """generator/unit.c unit_escape_instance()."""
    out = []
    for i, b in enumerate(s.encode("utf-8", "surrogateescape")):
        c = chr(b)
        if (c.isascii() and c.isalnum()) or c in ":_-" or (c == "." and i > 0):
            out.append(c)
        else:
            out.append("\\x%02x" % b)
    return "".join(out)


def unit_uid(user):
    """The uid systemd runs a unit's User= as (None: not a valid User=)."""
    if re.fullmatch(r"0|[1-9][0-9]*", user):
        return int(user)
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]*\$?", user):
        return None
    try:
        return pwd.getpwnam(user).pw_uid
    except KeyError:
        return None
