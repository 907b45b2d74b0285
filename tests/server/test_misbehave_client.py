"""Clients that misbehave (apps/misbehave.py serves them): one that goes
away mid-request or mid-response, one that never reads its answer, one
that trickles its request a byte at a time.  Each costs a connection, never
the worker: the worker frees what the connection held and serves others,
and every wait is bounded by --header-timeout.  Waits here are blocking
reads with a timeout or bounded polls of a condition, never a sleep."""
import json
import os
import select
import socket
import struct
import time

import pytest

from conftest import get, poll_until, read_response, small_window_client, under_wrapper

WAIT = 30
MIB = 1 << 20


def worker_pid(srv):
    return int(get(srv, "/pid").body)


def stats(srv):
    return json.loads(get(srv, "/stats").body)


def fd_links(pid):
    links = {}
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            links[int(fd)] = os.readlink(f"/proc/{pid}/fd/{fd}")
        except FileNotFoundError:
            pass            # closed meanwhile
    return links


def spool_files(pid):
    """The worker's open spool files (deleted files or memfds; fds 0-2
    are the test's log; valgrind keeps deleted files of its own)."""
    return sum(1 for fd, link in fd_links(pid).items()
               if fd > 2 and (link.endswith(" (deleted)") or link.startswith("/memfd:"))
               and "/valgrind_proc_" not in link)


def holds_connection(pid, client):
    """Whether the worker holds the server side of the connection from
    client (a socket, or its local port)."""
    peer = client if isinstance(client, int) else client.getsockname()[1]
    inodes = set()
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if int(fields[2].split(":")[1], 16) == peer:
                inodes.add(f"socket:[{fields[9]}]")
    return any(link in inodes for link in fd_links(pid).values())


def wait_log(srv, text):
    poll_until(f"{text!r} in the log", lambda: text in srv.output())


def reset_close(s):
    """Closes s with a reset, as a client that crashes or gives up does."""
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def drain(s, timeout=WAIT):
    """Reads s to its end: (bytes read, whether it ended with a reset)."""
    s.settimeout(timeout)
    n = 0
    try:
        while part := s.recv(MIB):
            n += len(part)
    except ConnectionResetError:
        return n, True
    return n, False


@pytest.fixture
def srv(start_server):
    return start_server("misbehave:app", ["--header-timeout", "2"])


# ---- gone mid-request ----

@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_client_gone_during_body_upload(srv, framing):
    """A body half sent (past the 64 KiB that stay in memory: spooled),
    then the client goes: the spool file and the connection are freed,
    the app never runs, the worker serves on."""
    pid = worker_pid(srv)
    assert spool_files(pid) == 0
    s = srv.connect()
    if framing == "chunked":
        s.sendall(b"POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        for _ in range(16):
            s.sendall(b"10000\r\n" + b"u" * 65536 + b"\r\n")
    else:
        s.sendall(b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % (64 * MIB))
        s.sendall(b"u" * MIB)
    # the upload is under way in the worker: the spool file is open
    poll_until("the spool file open", lambda: spool_files(pid) == 1)
    assert holds_connection(pid, s)
    client = s.getsockname()[1]
    reset_close(s)
    poll_until("the connection and its spool freed",
               lambda: spool_files(pid) == 0 and not holds_connection(pid, client))
    r = get(srv, "/pid")
    assert r.status == 200 and int(r.body) == pid
    assert "Error handling" not in srv.output()


# ---- gone mid-response ----

def test_client_gone_during_streamed_response(srv):
    """An endless generator body: the client reads 1 MiB and resets.  The
    push fails, the generator is stopped and closed (PEP 3333), the
    worker serves on."""
    pid = worker_pid(srv)
    before = stats(srv)
    with srv.connect() as s:
        s.sendall(b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
        got = 0
        while got < MIB:
            got += len(s.recv(65536))
        reset_close(s)
    # with --threads 1 the next request is served only once the endless
    # generator is stopped; with threads, another thread serves it at once
    poll_until("the generator closed", lambda: stats(srv)["closed"] == before["closed"] + 1)
    assert worker_pid(srv) == pid


def test_client_gone_during_large_single_body(srv):
    """One 64 MiB bytes object: the client reads 1 MiB and resets; the
    connection (and the body it held) is freed."""
    pid = worker_pid(srv)
    s = srv.connect()
    s.sendall(b"GET /big/64 HTTP/1.1\r\nHost: x\r\n\r\n")
    got = 0
    while got < MIB:
        got += len(s.recv(65536))
    client = s.getsockname()[1]
    reset_close(s)
    poll_until("the connection freed", lambda: not holds_connection(pid, client))
    assert worker_pid(srv) == pid


# ---- never reads ----

@under_wrapper      # --timeout 1: under valgrind the app's own time takes longer
@pytest.mark.parametrize("version", ["1.0", "1.1"])
def test_non_reader_of_a_streamed_body_is_cut_after_header_timeout(start_server, version):
    """A streamed body past the 256 KiB the server buffers, to a client
    that never reads: the push waits --header-timeout (2 s) without
    progress, then the response is cut (a reset: on HTTP/1.0 a FIN would
    make the close-delimited body look whole), the generator closed, and
    the worker goes on.  With --threads 1 the worker waits in the push and
    a second client is answered after the cut; the wait beats the
    heartbeat, so --timeout 1 (shorter than the wait) does not kill the
    worker: waiting for a client is not being stuck in the app."""
    srv = start_server("misbehave:app", ["--header-timeout", "2", "--timeout", "1"])
    pid = worker_pid(srv)
    before = stats(srv)
    s = small_window_client(srv.port)
    host = "Host: x\r\n" if version == "1.1" else ""
    s.sendall(f"GET /stream HTTP/{version}\r\n{host}\r\n".encode())
    r = get(srv, "/pid")
    assert r.status == 200 and int(r.body) == pid        # the same worker: not killed
    wait_log(srv, "GET /stream did not read for 2 s: response cut, closing.")
    n, reset = drain(s)
    assert reset, "a cut response must end with a reset"
    s.close()
    assert stats(srv)["closed"] == before["closed"] + 1
    assert worker_pid(srv) == pid
    assert "timed out" not in srv.output()


def test_non_reader_without_header_timeout_ends_at_timeout(start_server):
    """--header-timeout 0 lifts the bound on the push too: a synchronous
    worker then waits for the client without beating, so --timeout (2 s)
    is what ends it: stack dump, SIGKILL, a new worker serves."""
    if os.environ.get("UNITCORN_TEST_THREADS"):
        pytest.skip("with --threads a thread waits for the client, outside --timeout (server/README.md)")
    srv = start_server("misbehave:app", ["--header-timeout", "0", "--timeout", "2"])
    pid = worker_pid(srv)
    s = small_window_client(srv.port)
    s.sendall(b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
    wait_log(srv, f"Worker {pid} timed out (no heartbeat for 2 s)")
    n, reset = drain(s)         # killed: the kernel resets or closes its sockets
    s.close()
    r = get(srv, "/pid")
    assert r.status == 200 and int(r.body) != pid


def test_non_reader_of_a_large_single_body_holds_only_its_connection(srv):
    """A whole 64 MiB body queued for a client that never reads: the
    worker's loop writes it as the client reads (not at all), serving
    others meanwhile; after --header-timeout without progress the
    connection is reset, and the body freed."""
    pid = worker_pid(srv)
    s = small_window_client(srv.port)
    s.sendall(b"GET /big/64 HTTP/1.1\r\nHost: x\r\n\r\n")
    for _ in range(3):
        r = get(srv, "/pid")
        assert r.status == 200 and int(r.body) == pid
    assert holds_connection(pid, s), "the non-reader's connection went before its timeout"
    poll_until("the non-reader's connection cut", lambda: not holds_connection(pid, s))
    n, reset = drain(s)
    assert reset and n < 64 * MIB
    s.close()


# ---- slow clients (slowloris) ----

def trickle(socks, data_left):
    """One more byte on each socket that has bytes left."""
    for s in socks:
        if data_left[s]:
            s.sendall(data_left[s][:1])
            data_left[s] = data_left[s][1:]


def test_slowloris_heads_get_408_and_others_are_served(start_server):
    """Twenty clients sending their heads a byte every 50 ms: each gets a
    408 once --header-timeout (3 s) has passed since its first byte, and
    meanwhile, with one worker, an ordinary client is answered every
    round.  The clients are paced by select() on their own sockets, which
    is also how the 408s are noticed."""
    srv = start_server("misbehave:app", ["--header-timeout", "3"])
    pid = worker_pid(srv)
    head = b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-Slow: " + b"a" * 4000 + b"\r\n\r\n"
    slow = [srv.connect() for _ in range(20)]
    left = {s: head for s in slow}
    answers = {}
    served_while_all_open = 0
    deadline = time.monotonic() + WAIT
    while len(answers) < len(slow):
        assert time.monotonic() < deadline, f"only {len(answers)} of {len(slow)} slow clients answered"
        trickle([s for s in slow if s not in answers], left)
        readable, _, _ = select.select([s for s in slow if s not in answers], [], [], 0.05)
        for s in readable:
            answers[s] = s.recv(4096)
        r = get(srv, "/pid")
        assert r.status == 200 and int(r.body) == pid
        if not answers:
            served_while_all_open += 1
    assert served_while_all_open >= 3
    for s in slow:
        assert answers[s].startswith(b"HTTP/1.1 408 "), answers[s]
        assert b"\r\nConnection: close\r\n" in answers[s]
        assert left[s], "the whole head went through: the timeout did not work"
        s.close()


def test_slow_body_holds_its_connection_not_the_worker(srv):
    """A body trickled a byte at a time (each byte inside --header-timeout,
    so it is never timed out: no minimum upload rate yet, see
    server/README.md) costs its connection only: others are served
    meanwhile, and the app gets the whole body at the end."""
    pid = worker_pid(srv)
    body = b"b" * 20
    with srv.connect() as s:
        s.sendall(b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body))
        for i in range(len(body)):
            s.sendall(body[i:i + 1])
            r = get(srv, "/pid")
            assert r.status == 200 and int(r.body) == pid
        r = read_response(s.makefile("rb"))
        assert r.status == 200 and r.body == b"20"
