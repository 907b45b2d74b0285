#!/usr/bin/python3
"""The HTTP request corpus's file format (README.md): decode one case.

    decode.py FILE            the raw request bytes of FILE on stdout
    decode.py --all OUTDIR    every *.http here as OUTDIR/<name> (a seed
                              corpus for a fuzzer)
    decode.py --check         parse every case, print one line each

Also imported by tests/server/test_corpus.py: load(path) -> Case."""
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# What a file name may start with (the class before the first '-').
CLASSES = ("reqline", "header", "cl", "te", "chunked", "pipeline", "forwarded")
# The servers test_corpus.py starts (the `server:` key).
SERVERS = ("default", "untrusted", "limited")
# Keys of one expected response (after its `expect:`), and where the app's
# report has them.
ENV_KEYS = {"method": "REQUEST_METHOD", "path": "PATH_INFO", "query": "QUERY_STRING"}

_ESCAPE = re.compile(rb"\\(?:x([0-9a-fA-F]{2})|([rnt\\])|\{([0-9]+)\*([^}]*)\})|\\")
_SIMPLE = {b"r": b"\r", b"n": b"\n", b"t": b"\t", b"\\": b"\\"}


class CaseError(ValueError):
    pass


def unescape(text):
    """Bytes from the escaped form: \\r \\n \\t \\\\ \\xHH, and \\{N*TEXT}
    (TEXT, itself escaped but without '}', repeated N times)."""
    def one(m):
        if m.group(1):
            return bytes([int(m.group(1), 16)])
        if m.group(2):
            return _SIMPLE[m.group(2)]
        if m.group(3):
            return unescape(m.group(4)) * int(m.group(3))
        raise CaseError(f"bad escape at {m.string[m.start():m.start() + 6]!r}")
    return _ESCAPE.sub(one, text if isinstance(text, bytes) else text.encode("ascii"))


class Response:
    """One expected response: status "ok" (the app's 200 with its report)
    or an error status; for "ok", what the app must have seen."""

    def __init__(self, status):
        self.status = status
        self.env = {}                    # environ key -> str (latin-1 of the bytes)
        self.absent = []                 # environ keys that must be missing
        self.body = None                 # bytes the app read, or None: not checked


class Case:
    def __init__(self, path):
        self.path = path
        self.name = os.path.basename(path)[:-len(".http")]
        self.cls = self.name.split("-", 1)[0]
        self.server = "default"
        self.sentinel = True
        self.responses = []
        self.raw = b""

    @property
    def valid(self):
        return all(r.status == "ok" for r in self.responses)


def load(path):
    case = Case(path)
    if case.cls not in CLASSES:
        raise CaseError(f"{path}: the name must start with one of {', '.join(CLASSES)}")
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    try:
        sep = lines.index("---")
    except ValueError:
        raise CaseError(f"{path}: no '---' line before the request") from None
    for no, line in enumerate(lines[:sep], 1):
        if not line.strip() or line.startswith("#"):
            continue
        key, colon, value = line.partition(":")
        value = value.strip()
        if not value.isascii():
            raise CaseError(f"{path}:{no}: a byte over 0x7f; write \\xHH")
        if not colon:
            raise CaseError(f"{path}:{no}: not 'key: value'")
        cur = case.responses[-1] if case.responses else None
        if key == "expect":
            if value != "ok" and not re.fullmatch(r"[1-5][0-9][0-9]", value):
                raise CaseError(f"{path}:{no}: expect: ok or a status")
            if cur and cur.status != "ok":
                raise CaseError(f"{path}:{no}: nothing can follow an error response")
            case.responses.append(Response(value if value == "ok" else int(value)))
        elif key == "server":
            if value not in SERVERS:
                raise CaseError(f"{path}:{no}: server: one of {', '.join(SERVERS)}")
            case.server = value
        elif key == "sentinel":
            if value not in ("yes", "no"):
                raise CaseError(f"{path}:{no}: sentinel: yes or no")
            case.sentinel = value == "yes"
        elif cur is None or cur.status != "ok":
            raise CaseError(f"{path}:{no}: {key}: only after 'expect: ok'")
        elif key in ENV_KEYS:
            cur.env[ENV_KEYS[key]] = unescape(value).decode("latin-1")
        elif key == "env":
            k, eq, v = value.partition("=")
            if not eq:
                raise CaseError(f"{path}:{no}: env: KEY=VALUE")
            cur.env[k] = unescape(v).decode("latin-1")
        elif key == "absent":
            cur.absent += value.split()
        elif key == "body":
            cur.body = unescape(value)
        else:
            raise CaseError(f"{path}:{no}: unknown key {key!r}")
    if not case.responses:
        raise CaseError(f"{path}: no 'expect:' line")
    for no, line in enumerate(lines[sep + 1:], sep + 2):
        if not line.isascii():
            raise CaseError(f"{path}:{no}: a byte over 0x7f; write \\xHH")
        if line != line.rstrip(" \t") or "\t" in line:
            # an editor would silently strip or convert them: spell them out
            raise CaseError(f"{path}:{no}: a literal tab or trailing space; write \\t or \\x20")
        case.raw += unescape(line)
    if not case.raw:
        raise CaseError(f"{path}: empty request")
    return case


def all_cases(directory=HERE):
    return [load(os.path.join(directory, n)) for n in sorted(os.listdir(directory)) if n.endswith(".http")]


def main(argv):
    if len(argv) == 2 and argv[1] == "--check":
        for c in all_cases():
            print(c.name, " ".join(str(r.status) for r in c.responses), len(c.raw))
    elif len(argv) == 3 and argv[1] == "--all":
        os.makedirs(argv[2], exist_ok=True)
        for c in all_cases():
            with open(os.path.join(argv[2], c.name), "wb") as f:
                f.write(c.raw)
    elif len(argv) == 2 and not argv[1].startswith("-"):
        sys.stdout.buffer.write(load(argv[1]).raw)
    else:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except (CaseError, OSError) as e:
        print(f"decode.py: {e}", file=sys.stderr)
        sys.exit(1)
