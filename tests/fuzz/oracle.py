"""The Python side of the generator harnesses' differential checks.

The generator reproduces Python (shlex, %-formatting, configparser) and
supervisor (datatypes.dict_of_key_value_pairs); DESIGN.md §3.1 makes them
the oracle.  The harnesses (fuzz-shlex.c, fuzz-expand.c, fuzz-ini.c) call
these functions in an embedded interpreter on the same input and compare.
Bytes in, bytes out: text is decoded as UTF-8 with surrogateescape so any
input round-trips.  A failure is returned as a str (the exception's text),
a success as bytes or a list.
"""

import configparser
import io
import shlex

from supervisor import datatypes


def _s(b):
    return b.decode("utf-8", "surrogateescape")


def _b(s):
    return s.encode("utf-8", "surrogateescape")


def split(data):
    try:
        return [_b(w) for w in shlex.split(_s(data))]
    except ValueError as e:
        return str(e)


def env_pairs(data):
    try:
        return [(_b(k), _b(v)) for k, v in datatypes.dict_of_key_value_pairs(_s(data)).items()]
    except ValueError as e:
        return str(e)


def expand(fmt, mapping):
    try:
        return _b(_s(fmt) % {_s(k): (_s(v) if isinstance(v, bytes) else v) for k, v in mapping.items()})
    except Exception as e:             # ValueError, TypeError, KeyError, OverflowError...
        return "%s: %s" % (type(e).__name__, e)


def ini(data):
    """[(section, [(key, value), ...]), ...] as supervisor's parser reads
    it ([DEFAULT] first, then each section with its own and inherited keys
    in configparser's order), or the error."""
    p = configparser.RawConfigParser(inline_comment_prefixes=(";", "#"), strict=False)
    try:
        # supervisor reads files with open(): universal newlines, so a
        # lone '\r' ends a line too (read_string() would not split there)
        p.read_file(io.StringIO(_s(data), newline=None), "fuzz")
    except configparser.Error as e:
        return "%s: %s" % (type(e).__name__, e)
    out = [(b"DEFAULT", [(_b(k), _b(v)) for k, v in p.defaults().items()])]
    for name in p.sections():
        out.append((_b(name), [(_b(k), _b(v)) for k, v in p.items(name)]))
    return out
