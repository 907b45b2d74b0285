"""What the server reuses from one request to the next to go faster (the
start_response object, the str objects of addresses, Host and header
names) must never carry one request's state into another's."""
import json

from conftest import read_response, request


def get_on(sock_file, sock, path, host="localhost", extra=""):
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n{extra}\r\n".encode())
    return read_response(sock_file)


def test_kept_start_response_and_write_fail_after_their_request(start_server):
    s = start_server("reuse:app")
    with s.connect() as c:
        f = c.makefile("rb")
        assert get_on(f, c, "/keep").body == b"kept"
        r = get_on(f, c, "/use-kept")
        assert r.status == 200
        outcome = json.loads(r.body)
        assert outcome["start_response"].startswith("RuntimeError: start_response() called after the request ended")
        assert outcome["write"].startswith("RuntimeError: write() called after the request ended")
        # and the request after those is served normally
        assert json.loads(get_on(f, c, "/env").body)["PATH_INFO"] == "/env"


def test_start_response_arguments_by_keyword(start_server):
    s = start_server("reuse:app")
    r = request(s, b"GET /bad-keyword HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert r.status == 500
    assert "unexpected keyword argument 'colour'" in s.output()
    r = request(s, b"GET /exc-info-keyword HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert r.status == 500 and r.body == b"replaced"


def test_environ_values_follow_each_request(start_server):
    s = start_server("reuse:app")
    seen_ports = set()
    for host, name, port in (("a.example:81", "a.example", "81"), ("a.example:81", "a.example", "81"),
                             ("b.example", "b.example", "80"), ("[::1]:8080", "[::1]", "8080")):
        with s.connect() as c:
            f = c.makefile("rb")
            env = json.loads(get_on(f, c, "/env", host=host, extra="x-Same: 1\r\n").body)
            assert (env["SERVER_NAME"], env["SERVER_PORT"]) == (name, port)
            assert env["HTTP_X_SAME"] == "1"
            assert env["REMOTE_PORT"] == str(c.getsockname()[1])
            seen_ports.add(env["REMOTE_PORT"])
            # the same field name in another case, on the same connection
            env = json.loads(get_on(f, c, "/env", host=host, extra="X-SAME: 2\r\n").body)
            assert env["HTTP_X_SAME"] == "2" and "HTTP_X_same" not in env
    assert len(seen_ports) == 4
