"""HTTP/1.1 on the wire: framing, keep-alive, pipelining, limits and
malformed input (RFC 9112), against the validator-wrapped raw app."""
import socket

from conftest import assert_rejected, get, read_response, request


def test_hello_world(server):
    r = get(server)
    assert r.status == 200 and r.reason == "OK" and r.version == "HTTP/1.1"
    assert r.body == b"Hello, World!\n"
    assert r.header("Content-Type") == "text/plain"
    assert r.header("Content-Length") == "14"
    assert r.header("Server") == "unitcorn"
    assert r.header("Date").endswith(" GMT")
    assert r.header("Connection") == "close"


def test_keep_alive(server):
    with server.connect() as s:
        f = s.makefile("rb")
        for _ in range(3):
            s.sendall(b"GET /pid HTTP/1.1\r\nHost: x\r\n\r\n")
            r = read_response(f)
            assert r.status == 200 and r.header("Connection") is None
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert read_response(f).body == b"Hello, World!\n"
        assert f.read() == b""          # and the server closed


def test_pipelining_in_order(server):
    with server.connect() as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
                  b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\nsecond"
                  b"GET /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        f = s.makefile("rb")
        assert read_response(f).body == b"Hello, World!\n"
        assert read_response(f).body == b"second"
        r = read_response(f)
        assert r.status == 200 and r.body == b""
        assert f.read() == b""


def test_post_echo_content_length(server):
    body = bytes(range(256)) * 1000
    r = request(server, b"POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                        b"Content-Length: %d\r\n\r\n" % len(body) + body)
    assert r.status == 200 and r.body == body


def test_post_body_in_pieces(server):
    with server.connect() as s:
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n")
        s.sendall(b"01234")
        s.sendall(b"56789")
        r = read_response(s.makefile("rb"))
        assert r.body == b"0123456789"


def test_input_iteration(start_server):
    srv = start_server("hello:raw")
    r = request(srv, b"POST /lines HTTP/1.1\r\nHost: x\r\nContent-Length: 8\r\n\r\na\nbb\ncc\n")
    assert r.body == b'["a\\n", "bb\\n", "cc\\n"]'


def test_expect_100_continue(server):
    with server.connect() as s:
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")
        f = s.makefile("rb")
        assert f.readline() == b"HTTP/1.1 100 Continue\r\n"
        assert f.readline() == b"\r\n"
        s.sendall(b"data")
        assert read_response(f).body == b"data"


def test_expect_100_continue_ignored_on_http10(server):
    """RFC 9110 §10.1.1: an HTTP/1.0 client gets no 100 Continue.  The head
    comes, then our FIN: the server answers the head (with a 100 on 1.1)
    before it reads the EOF, and drops the unfinished request."""
    for version, interim in ((b"1.1", b"HTTP/1.1 100 Continue\r\n\r\n"), (b"1.0", b"")):
        with server.connect() as s:
            s.sendall(b"POST /echo HTTP/%s\r\nHost: x\r\nExpect: 100-continue\r\n"
                      b"Content-Length: 4\r\n\r\n" % version)
            s.shutdown(socket.SHUT_WR)
            assert s.makefile("rb").read() == interim, version


def test_head_has_no_body(server):
    with server.connect() as s:
        s.sendall(b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        f = s.makefile("rb")
        r = read_response(f, head=True)
        assert r.status == 200 and r.header("Content-Length") == "14"
        # the next bytes are the second response, not a body
        assert read_response(f).body == b"Hello, World!\n"


def test_streamed_body_is_chunked(start_server):
    srv = start_server("hello:raw")
    r = get(srv, "/stream")
    assert r.header("Transfer-Encoding") == "chunked" and r.header("Content-Length") is None
    assert r.body == b"one two three"


def test_http10_streamed_body_is_close_delimited(start_server):
    srv = start_server("hello:raw")
    r = request(srv, b"GET /stream HTTP/1.0\r\n\r\n")
    assert r.version == "HTTP/1.0" and r.header("Transfer-Encoding") is None
    assert r.header("Connection") == "close" and r.body == b"one two three"


def test_http10_keep_alive(server):
    with server.connect() as s:
        f = s.makefile("rb")
        s.sendall(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        r = read_response(f)
        assert r.header("Connection") == "keep-alive" and r.body == b"Hello, World!\n"
        s.sendall(b"GET / HTTP/1.0\r\n\r\n")
        assert read_response(f).body == b"Hello, World!\n"
        assert f.read() == b""


def test_write_callable(start_server):
    srv = start_server("hello:raw")
    assert get(srv, "/write").body == b"written returned"


def test_malformed_request_400(server):
    assert_rejected(server, b"GARBAGE\r\n\r\n", 400)


def test_bare_lf_400(server):
    assert_rejected(server, b"GET / HTTP/1.1\nHost: x\n\n", 400)


def test_space_before_colon_400(server):
    assert_rejected(server, b"GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400)


def test_obs_fold_400(server):
    assert_rejected(server, b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n", 400)


def test_missing_host_on_11_400(server):
    assert_rejected(server, b"GET / HTTP/1.1\r\n\r\n", 400)


def test_duplicate_host_400(server):
    assert_rejected(server, b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400)


def test_cl_and_te_400(server):
    assert_rejected(server, b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                            b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400)


def test_request_line_too_long_414(server):
    assert_rejected(server, b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414)


def test_request_line_at_limit_served(server):
    # gunicorn's limit_request_line 4094 counts the whole line without CRLF
    path = b"/" + b"a" * (4094 - len(b"GET  HTTP/1.1") - 1)
    r = request(server, b"GET " + path + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert r.status == 200


def test_too_many_headers_431(server):
    headers = b"".join(b"X-H%d: v\r\n" % i for i in range(101))
    assert_rejected(server, b"GET / HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n", 431)


def test_header_field_too_large_431(server):
    assert_rejected(server, b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"v" * 9000 + b"\r\n\r\n", 431)


def test_limits_from_options(start_server):
    srv = start_server("hello:app", ["--limit-request-fields", "3"])
    assert_rejected(srv, b"GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", 431)


def test_upgrade_answered_then_closed(server):
    with server.connect() as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
        f = s.makefile("rb")
        r = read_response(f)
        assert r.status == 200 and r.header("Connection") == "close"
        assert f.read() == b""
