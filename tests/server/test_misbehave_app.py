"""Apps that break PEP 3333 (apps/misbehave.py): every fault has one
defined outcome, and the worker serves the next request.

* Nothing of the response on the wire yet (a bad status or header, an
  error before the first chunk, or after chunks that are still buffered):
  a clean 500 with Connection: close, nothing of the app's head or body.
* Part of the response on the wire already (past the 256 KiB the server
  buffers): the framing is never completed (no final chunk, fewer bytes
  than the Content-Length) and the connection is reset, so no client can
  take the truncated body for a whole one, not even a close-delimited
  HTTP/1.0 one.
* Either way the traceback (or the reason) is logged with the request."""
import json
import sys

import pytest

from conftest import APPS, Server, finish, get, read_response

sys.path.insert(0, APPS)        # the fault tables, shared with the app
from misbehave import BAD_HEADER, BAD_STATUS, SECRET  # noqa: E402

WAIT = 30


@pytest.fixture(scope="module")
def srv():
    """One server for the module: each case checks the worker serves on."""
    s = Server("misbehave:app", ["--header-timeout", "5"]).wait_ready()
    s.worker = int(get(s, "/pid").body)
    yield s
    finish([s])


def exchange(srv, path, version="1.1", extra=""):
    """GET path; everything the server sends until it closes, and whether
    it ended with a reset."""
    with srv.connect(timeout=WAIT) as s:
        host = "Host: x\r\n" if version == "1.1" else ""
        s.sendall(f"GET {path} HTTP/{version}\r\n{host}{extra}\r\n".encode())
        wire, reset = b"", False
        try:
            while part := s.recv(1 << 20):
                wire += part
        except ConnectionResetError:
            reset = True
    return wire, reset


def parse_head(wire):
    head, sep, body = wire.partition(b"\r\n\r\n")
    assert sep, f"no complete head: {wire[:300]!r}"
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {k.lower(): v.strip() for k, v in (h.split(":", 1) for h in lines[1:])}
    return status, headers, body


def assert_clean_500(srv, path, version="1.1", why=None):
    wire, reset = exchange(srv, path, version)
    assert not reset, "reset instead of a 500"
    status, headers, body = parse_head(wire)
    assert status == 500, wire[:300]
    assert headers.get("connection") == "close"
    assert int(headers["content-length"]) == len(body), "more than one response on the wire"
    assert SECRET not in wire and b"X-Injected" not in wire and b"X-Test" not in wire
    assert_serves_on(srv)
    out = srv.output()
    assert f"Error handling request GET {path}" in out
    if why:
        assert why in out, out


def assert_serves_on(srv):
    """The same worker (it survived) answers the next request."""
    assert int(get(srv, "/pid").body) == srv.worker
    r = get(srv, "/stats")
    assert r.status == 200
    return json.loads(r.body)


def chunked_terminated(body):
    """Whether body is a whole chunked body, final chunk included."""
    while True:
        line, sep, rest = body.partition(b"\r\n")
        if not sep:
            return False
        size = int(line.split(b";")[0], 16)
        if size == 0:
            return rest.startswith(b"\r\n")
        if len(rest) < size + 2:
            return False
        body = rest[size + 2:]


def assert_cut(srv, path, version="1.1"):
    """Part of the response went out, then the connection was reset, the
    framing not completed."""
    wire, reset = exchange(srv, path, version)
    assert reset, "the connection was closed cleanly: a truncated body could pass for a whole one"
    if wire:        # a reset may also destroy what was in flight
        status, headers, body = parse_head(wire)
        assert status == 200
        assert SECRET not in wire
        if "content-length" in headers:
            assert len(body) < int(headers["content-length"])
        elif headers.get("transfer-encoding") == "chunked":
            assert not chunked_terminated(body)
    assert_serves_on(srv)
    assert f"Error handling request GET {path}" in srv.output()


@pytest.mark.parametrize("key", sorted(BAD_STATUS))
def test_bad_status_500(srv, key):
    assert_clean_500(srv, f"/status/{key}", why="status")


@pytest.mark.parametrize("key", sorted(BAD_HEADER))
def test_bad_header_500(srv, key):
    assert_clean_500(srv, f"/header/{key}")


def test_headers_not_a_list_500(srv):
    assert_clean_500(srv, "/headers-dict", why="headers must be a list")


@pytest.mark.parametrize("version", ["1.0", "1.1"])
@pytest.mark.parametrize("route, why", [
    ("raise-before-start", "the app failed on purpose before start_response"),
    ("raise-after-start", "the app failed on purpose after start_response"),
    ("raise-in-iter", "__iter__ failed on purpose"),
    ("raise-first-chunk", "the body failed on purpose after 0 chunks"),
    # chunks were produced, but are still in the server's buffer
    ("raise-after-chunk/small", "the body failed on purpose after 1 chunks"),
    ("raise-after-chunk/cl", "the body failed on purpose after 1 chunks"),
    ("raise-in-close/chunked", "close() failed on purpose"),
    ("raise-in-close/list", "close() failed on purpose"),
    ("raise-in-close-empty", "close() failed on purpose"),
    ("return-none", "NoneType"),
    ("return-int", "int"),
    ("return-str", "yielded str, not bytes"),
    ("return-bytes", "yielded int, not bytes"),
    ("yield-str", "yielded str, not bytes"),
    ("yield-none", "yielded NoneType, not bytes"),
    ("no-start-response", "before calling start_response()"),
    ("no-start-response-empty", "without calling start_response()"),
    ("start-twice", "start_response() called twice without exc_info"),
    ("exc-info-after-head", "raised after the head went out"),
    ("exc-info-bad", "exc_info"),
    ("write-before-start", "write() called before start_response()"),
    ("write-str", "write() argument must be bytes, not str"),
    ("write-then-raise", "the app failed on purpose after write()"),
    ("write-after-bad-start", "write()"),
])
def test_app_fault_before_anything_sent_500(srv, route, why, version):
    assert_clean_500(srv, f"/{route}", version, why)


def test_close_called_after_every_fault(srv):
    """PEP 3333: close() is called however the request ended."""
    before = assert_serves_on(srv)["closed"]
    for route in ("raise-first-chunk", "raise-after-chunk/small", "raise-in-close/chunked",
                  "raise-in-iter", "yield-none", "raise-after-chunk/big", "return-str"):
        exchange(srv, "/" + route)
    assert assert_serves_on(srv)["closed"] == before + 6     # a str has no close()


@pytest.mark.parametrize("version", ["1.0", "1.1"])
@pytest.mark.parametrize("route", [
    "raise-after-chunk/big",          # chunked on 1.1, close-delimited on 1.0
    "exc-info-after-head/big",
    "write-big-then-raise",
])
def test_app_fault_after_bytes_on_the_wire_reset(srv, route, version):
    assert_cut(srv, f"/{route}", version)


def test_start_response_twice_caught_by_the_app(srv):
    r = get(srv, "/start-twice-caught")
    assert r.status == 200 and r.body == b"refused: start_response() called twice without exc_info"


def test_exc_info_before_head_replaces_status_and_headers(srv):
    r = get(srv, "/exc-info-before-head")
    assert r.status == 503 and r.body == b"replaced" and r.header("X-Secret") is None


def test_refused_start_response_then_a_good_one(srv):
    """start_response raises while the app runs (PEP 3333), so that the app
    can answer otherwise: a correct second call is taken."""
    r = get(srv, "/bad-then-good")
    assert r.status == 200 and r.body == b"second call taken"
    assert r.header("X-Test") is None


def test_write_of_an_earlier_request_refused(srv):
    assert get(srv, "/write-keep").body == b"kept"
    r = get(srv, "/write-stale")
    assert r.status == 200
    assert r.body == b"RuntimeError: write() called after the request ended"


def test_keep_alive_connection_after_a_500_is_closed(srv):
    """A 500 for a misbehaving app ends the connection: what the app did
    to its state is unknown, and a pipelined request behind it is not
    answered on it."""
    with srv.connect(timeout=WAIT) as s:
        s.sendall(b"GET /return-none HTTP/1.1\r\nHost: x\r\n\r\nGET /stats HTTP/1.1\r\nHost: x\r\n\r\n")
        f = s.makefile("rb")
        r = read_response(f)
        assert r.status == 500 and r.header("Connection") == "close"
        try:
            assert f.read() == b""
        except ConnectionResetError:
            pass        # the unread pipelined request makes close() a reset
    assert_serves_on(srv)
