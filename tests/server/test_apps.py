"""Real apps on the wire: the same contract (apps/site_*.py) served from a
plain WSGI app checked by wsgiref.validate.validator, from Flask and from
a single-file Django project.  Routes, JSON, 404, an app error (500, and
the worker serves on), streamed responses, write(), uploads by
Content-Length and chunked (byte by byte too), 100-continue, forms,
keep-alive with pipelining, HEAD."""
import json
import os
import socket

import pytest

from conftest import get, read_response, request

SITES = {
    "wsgi": "site_wsgi:app",
    "flask": "site_flask:app",
    "django": "site_django:application",
}


@pytest.fixture(params=list(SITES))
def site(request, start_server):
    name = request.param
    srv = start_server(SITES[name], ["--keep-alive", "30"])
    srv.name = name
    yield srv
    out = srv.output()
    # the validator warns (WSGIWarning) or raises in __del__ (an iterable
    # never closed: "Exception ignored in") instead of failing the request
    assert "WSGIWarning" not in out and "Exception ignored" not in out, out


def post(path, body, ctype="application/octet-stream", extra=""):
    return (f"POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: {ctype}\r\n"
            f"Content-Length: {len(body)}\r\n{extra}\r\n").encode() + body


def chunked(body, size):
    out = b""
    for i in range(0, len(body), size):
        part = body[i:i + size]
        out += b"%x\r\n" % len(part) + part + b"\r\n"
    return out + b"0\r\n\r\n"


def test_routes_json_and_404(site):
    r = get(site, "/")
    assert r.status == 200 and r.body == f"hello from {site.name}".encode()
    assert r.header("Content-Type").startswith("text/plain")
    r = get(site, "/json?x=1&y=caf%C3%A9")
    assert r.status == 200 and r.header("Content-Type") == "application/json"
    assert json.loads(r.body) == {"app": site.name, "args": {"x": "1", "y": "café"}}
    assert get(site, "/no/such/page").status == 404
    assert get(site).status == 200


def test_app_error_is_500_and_the_worker_serves_on(site):
    pid_before = site.output().count("Booting worker")
    r = get(site, "/error")
    assert r.status == 500
    assert get(site).status == 200
    out = site.output()
    assert out.count("Booting worker") == pid_before       # handled, not a crash
    if site.name != "django":        # Django logs to the console only with DEBUG=True
        assert "Traceback" in out and f"{site.name} site failed on purpose" in out, out


def test_streamed_response(site):
    r = get(site, "/stream?n=5")
    assert r.status == 200
    assert r.header("Content-Length") is None and r.header("Transfer-Encoding") == "chunked"
    assert r.body == b"".join(b"%d of 5\n" % i for i in range(5))
    # HTTP/1.0: no chunked coding, the end of the body is the close
    r = request(site, b"GET /stream?n=2 HTTP/1.0\r\n\r\n")
    assert r.header("Transfer-Encoding") is None and r.header("Connection") == "close"
    assert r.body == b"0 of 2\n1 of 2\n"


def test_write_callable(site):
    r = get(site, "/write")
    assert r.status == 200 and r.body == b"written, then returned"


def test_upload_content_length(site):
    body = os.urandom(1 << 20)
    r = request(site, post("/upload", body, extra="Connection: close\r\n"))
    assert r.status == 200 and r.body == body


def test_upload_chunked(site):
    if site.name == "django":
        pytest.skip("Django reads a body by CONTENT_LENGTH only (an empty body without it, as under gunicorn)")
    body = os.urandom(300 * 1024)
    r = request(site, b"POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                      b"Connection: close\r\n\r\n" + chunked(body, 7000))
    assert r.status == 200 and r.body == body


def test_upload_byte_by_byte(site):
    """Every byte of the request in its own segment (TCP_NODELAY): the head,
    and a Content-Length body, then a chunked one (not for Django)."""
    body = b"one byte at a time\x00\xff"
    raws = [post("/upload", body)]
    if site.name != "django":
        raws.append(b"POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked(body, 5))
    with site.connect() as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        f = s.makefile("rb")
        for raw in raws:
            for i in range(len(raw)):
                s.sendall(raw[i:i + 1])
            r = read_response(f)
            assert r.status == 200 and r.body == body


def test_upload_expect_100_continue(site):
    body = b"sent after 100 Continue"
    with site.connect() as s:
        s.sendall(post("/upload", b"", extra="Expect: 100-continue\r\n")
                  .replace(b"Content-Length: 0", b"Content-Length: %d" % len(body)))
        f = s.makefile("rb")
        assert f.readline() == b"HTTP/1.1 100 Continue\r\n" and f.readline() == b"\r\n"
        s.sendall(body)
        r = read_response(f)
        assert r.status == 200 and r.body == body


def test_form(site):
    form = "name=J%C3%BCrgen&sum=1+2&empty="
    r = request(site, post("/form", form.encode(), "application/x-www-form-urlencoded",
                           "Connection: close\r\n"))
    assert r.status == 200
    got = json.loads(r.body)
    assert got["name"] == "Jürgen" and got["sum"] == "1 2"


def test_keep_alive_pipelining_and_head(site):
    """Five requests written at once on one connection, answered in order;
    HEAD gets GET's headers and no body."""
    upload = b"pipelined body"
    length = len(get(site, "/").body)
    with site.connect() as s:
        s.sendall(b"GET /json?n=1 HTTP/1.1\r\nHost: x\r\n\r\n"
                  b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n"
                  + post("/upload", upload) +
                  b"GET /stream?n=2 HTTP/1.1\r\nHost: x\r\n\r\n"
                  b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        f = s.makefile("rb")
        r = read_response(f)
        assert json.loads(r.body)["args"] == {"n": "1"} and r.header("Connection") is None
        r = read_response(f, head=True)
        assert r.status == 200 and r.header("Content-Length") == str(length)
        r = read_response(f)
        assert r.body == upload
        r = read_response(f)
        assert r.body == b"0 of 2\n1 of 2\n"
        r = read_response(f)
        assert r.body == f"hello from {site.name}".encode() and r.header("Connection") == "close"
        assert f.read() == b""
