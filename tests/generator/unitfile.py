"""Reading back what unitcorn-generator wrote, the way systemd reads it.

Used by the golden-case driver and the differential tests: a unit file or
drop-in parsed into sections and (key, raw value) pairs, and the unquoting
systemd applies to ExecStart= and Environment= (systemd.service(5)
"Command lines", systemd.syntax(7)): words split on whitespace, double and
single quotes removed, C escapes decoded, "%%" -> "%" (specifiers), and in
ExecStart= "$$" -> "$" (variable expansion).  A lone "\\;" is a literal ";".
"""

import os


def _ends_in_escape(line):
    """The line ends in a backslash that is not itself escaped."""
    n = len(line) - len(line.rstrip("\\"))
    return n % 2 == 1


def parse(path):
    """[(section, key, value)] in file order; comments and blanks skipped.
    As systemd's config_parse() (systemd.syntax(7)): a line ending in a
    backslash is joined to the next, the backslash becoming a space, so a
    value that ends in one swallows the line after it."""
    out = []
    section = None
    pending = ""
    with open(path, encoding="utf-8") as f:
        for line in f.read().split("\n"):
            s = line.strip()
            if s and s[0] in "#;":
                continue
            if _ends_in_escape(line):
                pending += line[:-1] + " "
                continue
            s = (pending + line).strip()
            pending = ""
            if not s:
                continue
            if s.startswith("[") and s.endswith("]"):
                section = s[1:-1]
                continue
            key, _, value = s.partition("=")
            out.append((section, key.strip(), value.strip()))
    return out


def values(path, section, key):
    return [v for (s, k, v) in parse(path) if s == section and k == key]


_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t",
            "v": "\v", "\\": "\\", '"': '"', "'": "'", "s": " "}


def _cunescape_one(s, i):
    """Decodes the escape starting after the backslash at s[i]; returns (text, next index)."""
    c = s[i]
    if c in _ESCAPES:
        return _ESCAPES[c], i + 1
    if c == "x":
        return chr(int(s[i + 1:i + 3], 16)), i + 3
    if c in "01234567":
        return chr(int(s[i:i + 3], 8)), i + 3
    if c == "u":
        return chr(int(s[i + 1:i + 5], 16)), i + 5
    if c == "U":
        return chr(int(s[i + 1:i + 9], 16)), i + 9
    raise ValueError("bad escape \\%s in %r" % (c, s))


def split_words(value):
    """systemd's extract_first_word(EXTRACT_UNQUOTE|EXTRACT_CUNESCAPE) loop."""
    words = []
    i, n = 0, len(value)
    while True:
        while i < n and value[i] in " \t\n":
            i += 1
        if i >= n:
            return words
        word, quote, started = "", None, False
        while i < n:
            c = value[i]
            if quote:
                if c == quote:
                    quote = None
                    i += 1
                elif c == "\\":
                    t, i = _cunescape_one(value, i + 1)
                    word += t
                else:
                    word += c
                    i += 1
            elif c in "\"'":
                quote = c
                started = True
                i += 1
            elif c in " \t\n":
                break
            elif c == "\\":
                if i + 1 < n and value[i + 1] == ";":
                    word += "\\;"
                    i += 2
                else:
                    t, i = _cunescape_one(value, i + 1)
                    word += t
            else:
                word += c
                i += 1
        if quote:
            raise ValueError("unterminated quote in %r" % value)
        words.append((word, started))


def _undouble(s, ch, what, context):
    """ch+ch -> ch; a lone ch would be a systemd expansion we never write."""
    out, i = "", 0
    while i < len(s):
        if s[i] == ch:
            if s[i + 1:i + 2] != ch:
                raise ValueError("unexpected %s in %r" % (what, context))
            out += ch
            i += 2
        else:
            out += s[i]
            i += 1
    return out


def unspecifier(s):
    """'%%' -> '%'; any other specifier is an error here (we never write one)."""
    return _undouble(s, "%", "specifier", s)


def _undollar(word, value):
    """'$$' -> '$'; a lone '$' would be variable expansion, which we never write."""
    return _undouble(word, "$", "'$' (variable expansion)", value)


def exec_argv(value):
    """The argv systemd runs for an ExecStart= value."""
    argv = []
    for word, quoted in split_words(value):
        if not quoted and word == "\\;":
            argv.append(";")
            continue
        if not quoted and word == ";":
            raise ValueError("unescaped ';' separator in %r" % value)
        argv.append(_undollar(unspecifier(word), value))
    return argv


def environment(path):
    """The Environment= assignments of a drop-in, as a dict (later wins)."""
    env = {}
    for v in values(path, "Service", "Environment"):
        for word, _ in split_words(v):
            k, _, val = unspecifier(word).partition("=")
            env[k] = val
    return env


def dropin(outdir, unit):
    """The path of the generator's drop-in (or whole file) for a unit name."""
    d = os.path.join(outdir, unit + ".d", "50-supervisor.conf")
    return d if os.path.exists(d) else os.path.join(outdir, unit)
