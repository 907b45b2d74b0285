"""WSGI (PEP 3333): the environ, start_response's checks, exc_info,
close(), errors in the app, and a Flask app."""
import json

from conftest import get, read_response, request


def environ_of(server, raw):
    r = request(server, raw)
    assert r.status == 200
    return json.loads(r.body)


def test_environ_cgi_keys(server):
    env = environ_of(server, b"POST /environ?a=1&b=%20 HTTP/1.1\r\nHost: example.org:8080\r\n"
                             b"Content-Type: text/x\r\nContent-Length: 2\r\nX-Custom: one\r\n"
                             b"X-Custom: two\r\nConnection: close\r\n\r\nhi")
    assert env["REQUEST_METHOD"] == "POST"
    assert env["SCRIPT_NAME"] == ""
    assert env["PATH_INFO"] == "/environ"
    assert env["QUERY_STRING"] == "a=1&b=%20"
    assert env["CONTENT_TYPE"] == "text/x" and env["CONTENT_LENGTH"] == "2"
    assert "HTTP_CONTENT_TYPE" not in env and "HTTP_CONTENT_LENGTH" not in env
    assert env["SERVER_NAME"] == "example.org" and env["SERVER_PORT"] == "8080"
    assert env["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert env["REMOTE_ADDR"] == "127.0.0.1" and int(env["REMOTE_PORT"]) > 0
    assert env["HTTP_X_CUSTOM"] == "one,two"
    assert env["HTTP_HOST"] == "example.org:8080"
    assert env["wsgi.url_scheme"] == "http"


def test_path_info_is_decoded_latin1(server):
    env = environ_of(server, b"GET /caf%C3%A9/%2F%zz?dump HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    # PEP 3333: the %-decoded bytes, each as one latin-1 character
    assert env["PATH_INFO"] == "/caf\u00c3\u00a9//%zz"
    assert env["RAW_URI"] == "/caf%C3%A9/%2F%zz?dump"


def test_absolute_form_target(server):
    env = environ_of(server, b"GET http://example.org/p?dump#frag HTTP/1.1\r\nHost: example.org\r\nConnection: close\r\n\r\n")
    assert env["PATH_INFO"] == "/p" and env["QUERY_STRING"] == "dump"


def test_underscore_headers_dropped(server):
    env = environ_of(server, b"GET /environ HTTP/1.1\r\nHost: x\r\nX_Forwarded_For: 6.6.6.6\r\n"
                             b"X-Forwarded-For: 1.2.3.4\r\nConnection: close\r\n\r\n")
    assert env["HTTP_X_FORWARDED_FOR"] == "1.2.3.4"


def test_host_missing_on_http10_uses_socket(server):
    env = environ_of(server, b"GET /environ HTTP/1.0\r\n\r\n")
    assert env["SERVER_NAME"] == "127.0.0.1" and env["SERVER_PORT"] == str(server.port)
    assert env["SERVER_PROTOCOL"] == "HTTP/1.0"


def test_app_exception_500_and_worker_serves_on(server):
    r = get(server, "/raise")
    assert r.status == 500 and r.header("Connection") == "close"
    assert get(server).status == 200
    out = server.output()
    assert "Traceback" in out and "the app failed on purpose" in out


def test_crlf_in_app_header_500_nothing_on_wire(start_server):
    srv = start_server("hello:raw")
    with srv.connect() as s:
        s.sendall(b"GET /badheader HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        wire = b""
        while chunk := s.recv(65536):
            wire += chunk
    assert wire.startswith(b"HTTP/1.1 500 ")
    assert b"evil" not in wire and b"X-Injected" not in wire and b"should never" not in wire
    assert get(srv).status == 200


def test_headers_changed_after_start_response_not_sent(start_server):
    srv = start_server("hello:raw")
    r = get(srv, "/mutate")
    assert r.status == 200 and r.body == b"checked headers only"
    assert r.header("X-Late") is None and r.header("Set-Cookie") is None


def test_non_token_header_name_500(start_server):
    srv = start_server("hello:raw")
    r = get(srv, "/badname")
    assert r.status == 500 and b"should never" not in r.body


def test_exc_info_before_headers_replaces_response(start_server):
    srv = start_server("hello:raw")
    r = get(srv, "/excinfo")
    assert r.status == 500 and r.body == b"handled"


def test_close_always_called(start_server):
    srv = start_server("hello:raw")
    with srv.connect() as s:
        f = s.makefile("rb")
        s.sendall(b"GET /closing HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_response(f).body == b"0"
        s.sendall(b"GET /closed HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert read_response(f).body == b"1"


def test_flask_app(start_server):
    srv = start_server("flaskapp:app")
    r = get(srv, "/")
    assert r.status == 200 and r.body == b"Hello from Flask!"
    r = get(srv, "/hello/world?x=1")
    assert json.loads(r.body) == {"greeting": "Hello, world!", "args": {"x": "1"}}
    body = b'{"a": [1, 2]}'
    r = request(srv, b"POST /json HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
    assert json.loads(r.body) == {"received": {"a": [1, 2]}}
    assert get(srv, "/nope").status == 404


def test_app_sees_only_its_spec_in_argv(start_server):
    srv = start_server("argv:app", ["-w", "1", "--timeout", "10"])
    assert json.loads(get(srv).body) == ["argv:app"]
