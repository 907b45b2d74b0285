"""What tests/fuzz found in the request path, on the wire against the built
server (each input is also in tests/fuzz/regressions/fuzz-http/)."""
from conftest import assert_rejected


def test_empty_field_name_400(server):
    # llhttp 8.1 takes ": value"; the value went to a field with no name
    # (the app saw it as HTTP_, from an empty key)
    assert_rejected(server, b"GET / HTTP/1.1\r\nHost: x\r\n: b\r\n\r\n", 400)
    assert_rejected(server, b"GET / HTTP/1.1\r\n: b\r\nHost: x\r\n\r\n", 400)
    assert_rejected(server, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n: 5\r\n\r\nab", 400)
