"""The HTTP request corpus (corpus/README.md) against the built server.

Every case is sent four ways on its own connection: whole, line by line,
byte by byte and in random pieces (seeded by the case's name, so a failure
reproduces).  Each way must give the same answers:

* a valid case: every response is the app's 200 with what the file says
  the app saw; all ways give identical reports (the whole environ but
  REMOTE_PORT, and the body); then, once we end our side, the server
  closes without another byte: nothing more was parsed out of the input.
* an invalid case, followed on the wire by a valid "sentinel" request: the
  expected answers up to the error, the error status with "Connection:
  close", then the end of the connection: the sentinel was never parsed nor
  answered.  After that a new connection is served normally (one worker:
  the same worker that refused)."""
import json
import os
import random
import socket
import subprocess
import sys

import pytest

from conftest import Server, finish, get, read_response

CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
sys.path.insert(0, CORPUS)
import decode  # noqa: E402  (corpus/decode.py)

CASES = decode.all_cases()
SENTINEL = b"GET /sentinel HTTP/1.1\r\nHost: sentinel\r\n\r\n"
SERVER_ARGS = {
    "default": [],
    "untrusted": ["--forwarded-allow-ips", "192.0.2.1"],      # 127.0.0.1 (we) is not trusted
    "limited": ["--limit-request-body", "100"],
}
WAYS = ("whole", "lines", "bytes", "random")


@pytest.fixture(scope="module")
def servers():
    """servers(name) -> the module's server of that name (corpus:app, one
    worker), started on first use."""
    started = {}

    def server(name):
        if name not in started:
            started[name] = Server("corpus:app", SERVER_ARGS[name]).wait_ready()
        return started[name]
    yield server
    finish(started.values())


def pieces(raw, way, name):
    if way == "whole":
        return [raw]
    if way == "lines":
        return [line for line in raw.splitlines(keepends=True)]
    if way == "bytes":
        return [raw[i:i + 1] for i in range(len(raw))]
    rng = random.Random("corpus:" + name)
    cuts = sorted(rng.sample(range(1, len(raw)), min(len(raw) - 1, rng.randint(1, 12))))
    return [raw[a:b] for a, b in zip([0] + cuts, cuts + [len(raw)])]


def send(sock, parts):
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for p in parts:
        try:
            sock.sendall(p)
        except (BrokenPipeError, ConnectionResetError):
            return      # what the server answered is checked by the caller


def check_ok(case, i, r, want):
    assert r is not None, f"{case.name}: no response #{i + 1}"
    assert r.status == 200, f"{case.name}: response #{i + 1} is {r.status}, not the app's"
    report = json.loads(r.body)
    env = report["environ"]
    for k, v in want.env.items():
        assert env.get(k) == v, f"{case.name}: response #{i + 1}: {k} is {env.get(k)!r}, not {v!r}"
    for k in want.absent:
        assert k not in env, f"{case.name}: response #{i + 1}: {k} is in the environ"
    if want.body is not None:
        assert report["body"] is not None and report["body"].encode("latin-1") == want.body, \
            f"{case.name}: response #{i + 1}: the app read {report['body']!r}"
    env.pop("REMOTE_PORT", None)
    return report


def run(srv, case, way):
    """Sends the case one way; returns the app's reports, after checking
    every response and the end of the connection."""
    raw = case.raw if case.valid or not case.sentinel else case.raw + SENTINEL
    reports = []
    with srv.connect(timeout=10) as s:
        send(s, pieces(raw, way, case.name))
        f = s.makefile("rb")
        for i, want in enumerate(case.responses):
            r = read_response(f)
            while r is not None and r.status < 200:     # an interim 100 Continue
                r = read_response(f)
            if want.status == "ok":
                reports.append(check_ok(case, i, r, want))
                continue
            assert r is not None, f"{case.name}: closed without an answer"
            assert r.status == want.status, f"{case.name}: {r.status} {r.body!r}, not {want.status}"
            assert r.header("Connection") == "close", f"{case.name}: no Connection: close"
        if case.valid:
            s.shutdown(socket.SHUT_WR)
        rest = f.read()
        assert rest == b"", f"{case.name}: more after the expected responses: {rest[:200]!r}"
    return reports


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case(servers, case):
    srv = servers(case.server)
    results = {}
    for way in WAYS:
        results[way] = run(srv, case, way)
        if not case.valid:
            # the worker that refused serves a new connection normally
            assert get(srv).status == 200
    for way in WAYS[1:]:
        assert results[way] == results["whole"], f"{case.name}: delivered {way}, the app saw otherwise"


def test_every_class_has_several_cases():
    for cls in decode.CLASSES:
        n = sum(c.cls == cls for c in CASES)
        assert n >= 5, f"only {n} {cls}-* cases"


def test_decode_all_writes_the_raw_bytes(tmp_path):
    subprocess.run([sys.executable, os.path.join(CORPUS, "decode.py"), "--all", str(tmp_path)], check=True)
    assert sorted(os.listdir(tmp_path)) == sorted(c.name for c in CASES)
    for c in CASES:
        assert (tmp_path / c.name).read_bytes() == c.raw


def test_names_say_valid_or_not():
    for c in CASES:
        assert ("-ok-" in c.name) == c.valid, f"{c.name}: '-ok-' in the name iff every response is ok"
