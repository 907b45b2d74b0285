"""What tests/fuzz found in the request path, on the wire against the built
server (each input is also in tests/fuzz/regressions/fuzz-http/)."""
from conftest import assert_rejected, read_response


def test_empty_field_name_400(server):
    # llhttp 8.1 takes ": value"; the value went to a field with no name
    # (the app saw it as HTTP_, from an empty key)
    assert_rejected(server, b"GET / HTTP/1.1\r\nHost: x\r\n: b\r\n\r\n", 400)
    assert_rejected(server, b"GET / HTTP/1.1\r\n: b\r\nHost: x\r\n\r\n", 400)
    assert_rejected(server, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n: 5\r\n\r\nab", 400)


def test_bare_lf_after_request_line_400(server):
    # llhttp 8.1 ends the request line at a bare LF (its header lines need
    # CRLF): a front end that waits for CRLF would see another request
    assert_rejected(server, b"GET / HTTP/1.1\nHost: x\r\n\r\n", 400)
    assert_rejected(server, b"GET / HTTP/1.0\n\r\n", 400)
    # in a pipeline: the first request is answered, the second refused
    with server.connect() as s:
        s.sendall(b"GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\nHost: x\r\n\r\n")
        f = s.makefile("rb")
        assert read_response(f).status == 200
        r = read_response(f)
        assert r.status == 400 and r.header("Connection") == "close"
        assert f.read() == b""


def test_spaces_after_method_400(server):
    # llhttp 8.1 takes "GET  /": one SP only (RFC 9112 §3), as a front end
    # that splits on single spaces would read it; the spaces were not
    # counted against --limit-request-line either
    assert_rejected(server, b"GET  / HTTP/1.1\r\nHost: x\r\n\r\n", 400)
    assert_rejected(server, b"GET" + b" " * 5000 + b"/ HTTP/1.1\r\nHost: x\r\n\r\n", 400)


def test_control_bytes_in_request_line_400(server):
    # llhttp 8.1 takes a TAB in the target: a front end splitting on any
    # whitespace would read another target and version
    assert_rejected(server, b"GET /a\tb HTTP/1.1\r\nHost: x\r\n\r\n", 400)
    assert_rejected(server, b"GET /a\x7fb HTTP/1.1\r\nHost: x\r\n\r\n", 400)
    assert_rejected(server, b"GET / HTTP/1.1\rHost: x\r\n\r\n", 400)
