"""--keep-alive and --header-timeout: idle and slow clients lose their
connection.  Every wait here is a blocking recv() with a socket timeout:
the test waits for the server's close (or answer), never for a clock."""
import socket
import time

import pytest

from conftest import get, poll_until, read_response

WAIT = 10        # how long a test waits for an event that must come


def recv_all(s, timeout=WAIT):
    """Everything until the server closes; fails if it does not within timeout."""
    s.settimeout(timeout)
    data = b""
    try:
        while True:
            part = s.recv(65536)
            if not part:
                return data
            data += part
    except socket.timeout:
        raise AssertionError(f"the server did not close the connection within {timeout}s (got {data!r})")


@pytest.fixture
def quick(start_server):
    return start_server("hello:app", ["--keep-alive", "1", "--header-timeout", "1"])


def test_keep_alive_idle_connection_closed(quick):
    with quick.connect() as s:
        f = s.makefile("rb")
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        r = read_response(f)
        assert r.status == 200 and r.header("Connection") is None
        start = time.monotonic()
        assert recv_all(s) == b""                   # closed silently: no 408
        assert time.monotonic() - start >= 0.5      # after the keep-alive time, not at once
    assert get(quick).status == 200


def test_keep_alive_connection_reused_within_time(quick):
    with quick.connect() as s:
        f = s.makefile("rb")
        for _ in range(3):
            s.sendall(b"GET /pid HTTP/1.1\r\nHost: x\r\n\r\n")
            assert read_response(f).status == 200
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert read_response(f).status == 200


def test_keep_alive_zero_closes_after_each_response(start_server):
    srv = start_server("hello:app", ["--keep-alive", "0"])
    with srv.connect() as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        f = s.makefile("rb")
        r = read_response(f)
        assert r.status == 200 and r.header("Connection") == "close"
        assert f.read() == b""


def test_header_timeout_half_request_line_408(quick):
    with quick.connect() as s:
        s.sendall(b"GET /slow HT")
        data = recv_all(s)
        assert data.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
        assert b"\r\nConnection: close\r\n" in data
    assert get(quick).status == 200


def test_header_timeout_counts_from_the_first_byte(quick):
    """A client trickling its head a byte at a time is cut off all the same:
    the deadline is for the whole head, not for each byte."""
    with quick.connect() as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        s.settimeout(0.2)
        start = time.monotonic()
        data = b""
        while time.monotonic() - start < WAIT:
            try:
                part = s.recv(65536)
            except socket.timeout:
                s.sendall(b"a")      # nothing yet: one more byte
                continue
            if not part:
                break
            data += part
        assert data.startswith(b"HTTP/1.1 408 "), data


def test_header_timeout_body_stalled_408(quick):
    with quick.connect() as s:
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n01234")
        assert recv_all(s).startswith(b"HTTP/1.1 408 ")


def test_header_timeout_chunked_body_stalled_408(quick):
    with quick.connect() as s:
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab")
        assert recv_all(s).startswith(b"HTTP/1.1 408 ")


def test_new_connection_without_request_closed_silently(quick):
    with quick.connect() as s:
        assert recv_all(s) == b""
    assert get(quick).status == 200


def test_idle_after_pipelined_responses_closed_silently(quick):
    with quick.connect() as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /pid HTTP/1.1\r\nHost: x\r\n\r\n")
        data = recv_all(s)
        assert data.count(b"HTTP/1.1 200 OK\r\n") == 2 and b"HTTP/1.1 408" not in data


def test_timeouts_off_with_zero(start_server):
    """--header-timeout 0: no deadline; the connection stays open (checked
    by a recv that times out on our side while the server keeps it)."""
    srv = start_server("hello:app", ["--header-timeout", "0"])
    with srv.connect() as s:
        s.sendall(b"GET / HT")
        s.settimeout(1.5)
        with pytest.raises(socket.timeout):
            s.recv(1)
        s.sendall(b"TP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        s.settimeout(WAIT)
        assert read_response(s.makefile("rb")).status == 200


def unread_by_server(srv, sock):
    """The bytes of sock's connection the server has not read yet: the
    receive queue of its end, from /proc/net/tcp."""
    ours = "%04X" % sock.getsockname()[1]
    theirs = "%04X" % srv.port
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if fields[1].endswith(":" + theirs) and fields[2].endswith(":" + ours):
                return int(fields[4].split(":")[1], 16)
    raise AssertionError("the server's end of the connection is not in /proc/net/tcp")


def test_head_completed_while_the_worker_was_busy_is_served(start_server):
    """A head whose rest arrived while a sync worker was in the app, past
    its deadline, is read and served, not answered 408: the worker, not the
    client, was late (the soak's one unexpected answer).  The deadline
    stays the head's from its first byte otherwise (the tests above)."""
    srv = start_server("hello:app", ["--header-timeout", "1", "--threads", "1"])
    with srv.connect() as a, srv.connect() as b:
        a.sendall(b"GET /pid HTTP/1.1\r\n")
        poll_until("the worker read the head's start", lambda: unread_by_server(srv, a) == 0, srv=srv)
        b.sendall(b"GET /hold?2 HTTP/1.1\r\nHost: x\r\n\r\n")
        poll_until("the worker read the slow request", lambda: unread_by_server(srv, b) == 0, srv=srv)
        a.sendall(b"Host: x\r\n\r\n")         # while the worker holds /hold, 2 s > the head's 1 s
        r = read_response(b.makefile("rb"))
        assert r.status == 200 and r.body == b"held"
        assert read_response(a.makefile("rb")).status == 200
