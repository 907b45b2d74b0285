"""Request bodies above the spool threshold (64 KiB, server/http.c) go to
a file, not the heap: every way of reading wsgi.input on both sides of the
threshold, by Content-Length and chunked, byte by byte, lines across the
pieces the server reads the spool in, where the spool file lives, no
descriptor left behind, and a worker whose memory stays flat through a
large upload (1 GiB by Content-Length, 256 MiB chunked).
There is no body limit by default."""
import hashlib
import json
import os
import random
import socket
import threading

import pytest

from conftest import read_response, under_wrapper

THRESHOLD = 64 * 1024
PIECE = 64 * 1024          # input.c's INPUT_READ_PIECE
MiB = 1 << 20


def post(srv, path, body, chunk_sizes=None, headers=b"", sock=None):
    """POSTs body by Content-Length, or chunked in pieces of chunk_sizes
    (cycled) when given, on a new connection or on sock; returns the
    response."""
    if chunk_sizes is None:
        raw = (b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n%s\r\n" % (path.encode(), len(body), headers)
               + body)
    else:
        parts, i, k = [], 0, 0
        while i < len(body):
            piece = body[i:i + chunk_sizes[k % len(chunk_sizes)]]
            parts.append(b"%x\r\n%s\r\n" % (len(piece), piece))
            i += len(piece)
            k += 1
        raw = (b"POST %s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n%s\r\n" % (path.encode(), headers)
               + b"".join(parts) + b"0\r\n\r\n")
    if sock:
        sock.sendall(raw)
        return read_response(sock.makefile("rb"))
    with srv.connect() as s:
        s.sendall(raw)
        return read_response(s.makefile("rb"))


def get_json(srv, path):
    with srv.connect() as s:
        s.sendall(b"GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % path.encode())
        r = read_response(s.makefile("rb"))
    assert r.status == 200, r.body
    return json.loads(r.body)


def lines_body(size, seed=1):
    """size bytes of lines of assorted lengths: empty, short, and some
    longer than the spool's read piece."""
    rnd = random.Random(seed)
    out, n = [], 0
    while n < size:
        k = rnd.choice([0, 1, 2, 50, 1000, PIECE - 1, PIECE, PIECE + 1, 3 * PIECE + 7])
        line = bytes((i * 7 + n) % 251 + 1 for i in range(k)).replace(b"\n", b"x") + b"\n"
        out.append(line)
        n += len(line)
    return b"".join(out)[:size]


@pytest.fixture
def body_server(start_server):
    return start_server("body:raw")


@pytest.fixture
def upload_server(start_server):
    return start_server("upload:app")


# ---- every reading method, both sides of the threshold, both framings ----

SIZES = [THRESHOLD - 1, THRESHOLD, THRESHOLD + 1, 3 * MiB + 12345]


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("path", ["/read", "/readn/1000", "/readn/100000", "/readline", "/readlines", "/iter"])
@pytest.mark.parametrize("framing", ["length", "chunked"])
def test_echo(body_server, size, path, framing):
    body = lines_body(size)
    r = post(body_server, path, body, None if framing == "length" else [1000, 70000, 5])
    assert r.status == 200, r.body
    assert len(r.body) == len(body)
    assert r.body == body


@pytest.mark.parametrize("path", ["/readn/3", "/readline", "/iter"])
def test_validated(start_server, path):
    """Through wsgiref's validator: a spooled wsgi.input as PEP 3333 says."""
    srv = start_server("body:app")
    body = lines_body(2 * MiB, seed=7)
    assert post(srv, path, body).body == body
    assert post(srv, path, body, [40000]).body == body


@pytest.mark.parametrize("limit", [-1, 1, 100, PIECE - 1, PIECE, PIECE + 1, 200000])
def test_readline_across_pieces(upload_server, limit):
    """readline(), and readline(N), over lines that start and end anywhere
    relative to the 64 KiB pieces the spool is read in."""
    size = 2 * MiB if limit < 0 or limit >= PIECE - 1 else 300000     # 1-byte lines are slow to list
    body = lines_body(size, seed=3) + b"no newline at the end" * 5000
    expected = []
    lines = [l + b"\n" for l in body.split(b"\n")]
    lines[-1] = lines[-1][:-1]
    for line in lines:
        while limit >= 0 and len(line) > limit:
            expected.append(limit)
            line = line[limit:]
        if line:
            expected.append(len(line))
    for framing in (None, [65536, 1, 99999]):
        r = post(upload_server, f"/lines/{limit}", body, framing)
        assert r.status == 200, r.body
        got = json.loads(r.body)
        assert got["sha256"] == hashlib.sha256(body).hexdigest()
        assert got["lengths"] == expected


def test_byte_by_byte_chunked_across_threshold(body_server):
    """A chunked body whose framing and data arrive one byte per send, as it
    crosses the spool threshold."""
    head = b"POST /readn/777 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    first = bytes(range(256)) * ((THRESHOLD - 10) // 256)
    tail = b"".join(b"1\r\n%c\r\n" % (65 + i % 26) for i in range(40)) + b"3;ext=1\r\nxyz\r\n0\r\nX-T: 1\r\n\r\n"
    expected = first + bytes(65 + i % 26 for i in range(40)) + b"xyz"
    with body_server.connect() as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.sendall(head + b"%x\r\n" % len(first) + first + b"\r\n")
        for i in range(len(tail)):
            s.sendall(tail[i:i + 1])
        r = read_response(s.makefile("rb"))
    assert r.status == 200
    assert r.body == expected


def test_byte_by_byte_content_length(body_server):
    body = os.urandom(THRESHOLD + 300)
    head = b"POST /read HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body)
    with body_server.connect() as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.sendall(head + body[:THRESHOLD - 100])
        for i in range(THRESHOLD - 100, len(body)):
            s.sendall(body[i:i + 1])
        r = read_response(s.makefile("rb"))
    assert r.body == body


def test_keep_alive_and_pipelining_with_spooled_bodies(body_server):
    """Two large bodies and a small one pipelined on one connection: each
    request gets its own body, none of the previous one's spool."""
    bodies = [os.urandom(300000), b"small", os.urandom(THRESHOLD + 1)]
    raw = b"".join(b"POST /read HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(b) + b for b in bodies)
    with body_server.connect() as s:
        s.sendall(raw)
        f = s.makefile("rb")
        for b in bodies:
            r = read_response(f)
            assert r.status == 200
            assert r.body == b


def test_expect_100_continue(body_server):
    body = os.urandom(THRESHOLD * 3)
    with body_server.connect() as s:
        s.sendall(b"POST /readn/5000 HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                  b"Content-Length: %d\r\n\r\n" % len(body))
        f = s.makefile("rb")
        assert f.readline() == b"HTTP/1.1 100 Continue\r\n"
        assert f.readline() == b"\r\n"
        s.sendall(body)
        assert read_response(f).body == body


def test_input_kept_past_its_request(upload_server):
    """An app that keeps wsgi.input reads its own body later, even after
    the server closed its spool and the connection moved on."""
    body = os.urandom(500000)
    with upload_server.connect() as s:
        f = s.makefile("rb")
        s.sendall(b"POST /keep HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        assert read_response(f).body == body[:10]
        other = os.urandom(300000)
        s.sendall(b"POST /hash/7 HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(other) + other)
        assert json.loads(read_response(f).body)["length"] == len(other)
        s.sendall(b"GET /kept HTTP/1.1\r\nHost: x\r\n\r\n")
        got = json.loads(read_response(f).body)
    assert got == {"sha256": hashlib.sha256(body[10:]).hexdigest(), "length": len(body) - 10}


# ---- the spool file ----

@under_wrapper      # valgrind keeps deleted files of its own (valgrind_proc_*) open in $TMPDIR
def test_spool_in_tmpdir(start_server, tmp_path):
    srv = start_server("upload:app", env={"TMPDIR": str(tmp_path)})
    small = post(srv, "/spool", b"s" * THRESHOLD)
    assert json.loads(small.body) == {"links": [], "length": THRESHOLD}
    big = json.loads(post(srv, "/spool", b"b" * (THRESHOLD + 1)).body)
    assert big["length"] == THRESHOLD + 1
    assert big["links"], big
    # the server's descriptor and wsgi.input's dup of it: an unnamed file in $TMPDIR
    for link in big["links"]:
        assert link.startswith(str(tmp_path) + "/#") and link.endswith(" (deleted)"), big
    assert os.listdir(tmp_path) == []
    assert "memfd" not in srv.output()


@under_wrapper      # valgrind keeps deleted files of its own (valgrind_proc_*) open in $TMPDIR
def test_spool_default_dir_is_var_tmp(start_server):
    env = {"TMPDIR": ""}
    srv = start_server("upload:app", env=env)
    big = json.loads(post(srv, "/spool", b"b" * 100000, [30000]).body)
    assert big["links"], big
    if all(l.startswith("/memfd:") for l in big["links"]):
        # a /var/tmp without O_TMPFILE (overlayfs before Linux 6.6): the fallback, said
        assert "Failed to create a file for a request body in '/var/tmp'" in srv.output()
    else:
        assert all(l.startswith("/var/tmp/#") for l in big["links"]), big


@under_wrapper      # valgrind keeps deleted files of its own (valgrind_proc_*) open in $TMPDIR
def test_spool_falls_back_to_memfd(start_server, tmp_path):
    missing = tmp_path / "missing"
    srv = start_server("upload:app", env={"TMPDIR": str(missing)})
    for _ in range(2):
        big = json.loads(post(srv, "/spool", b"b" * 200000).body)
        assert big["length"] == 200000
        assert big["links"] and all(l.startswith("/memfd:unitcorn-body") for l in big["links"]), big
    out = srv.output()
    assert out.count(f"Failed to create a file for a request body in '{missing}'") == 1, out
    assert "memory-backed files (memfd)" in out


def test_no_descriptor_left_behind(upload_server):
    # One keep-alive connection throughout: the same connection count, and
    # each request is taken only after the one before it was done with
    # (also with --threads, where a thread answers and the loop then
    # closes the spool).
    with upload_server.connect() as s:
        f = s.makefile("rb")

        def fds():
            s.sendall(b"GET /fds HTTP/1.1\r\nHost: x\r\n\r\n")
            r = read_response(f)
            assert r.status == 200, r.body
            return int(json.loads(r.body))

        before = fds()
        for framing in (None, [100000]):
            r = post(upload_server, "/hash/65536", os.urandom(MiB), framing, sock=s)
            assert r.status == 200
        # nothing of the spools left
        assert fds() == before


def test_no_default_body_limit(upload_server):
    """No --limit-request-body by default, as gunicorn: a body over the old
    100 MiB default goes through (test_large_upload_memory_flat too)."""
    with upload_server.connect() as s:
        s.sendall(b"POST /hash/1048576 HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % (101 * MiB))
        zeros = bytes(MiB)
        for _ in range(101):
            s.sendall(zeros)
        r = read_response(s.makefile("rb"))
    assert r.status == 200
    got = json.loads(r.body)
    assert got["length"] == 101 * MiB


def test_limit_still_applies_to_spooled_bodies(start_server):
    srv = start_server("upload:app", ["--limit-request-body", str(MiB)])
    assert post(srv, "/hash/4096", b"x" * MiB).status == 200
    assert post(srv, "/hash/4096", b"x" * MiB, [100000]).status == 200
    assert post(srv, "/hash/4096", b"x" * (MiB + 1), [100000]).status == 413
    assert post(srv, "/hash/4096", b"x" * (MiB + 1)).status == 413


# ---- memory stays flat ----

def vm(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise AssertionError(f"no {field} in /proc/{pid}/status")


def sparse_file(path, size):
    """size bytes, mostly holes (cheap to make and to send with sendfile),
    with a marker every MiB so that the hash sees order and completeness."""
    with open(path, "wb") as f:
        f.truncate(size)
        for off in range(0, size, MiB):
            f.seek(off + 4096 if off + 4096 + 16 <= size else off)
            f.write(b"%016x" % off)
    return path


# the 1 GiB by Content-Length (about 7 s here), 256 MiB chunked;
# UNITCORN_TEST_UPLOAD_MIB=N sets both
UPLOAD_SIZES = {"length": 1 << 30, "chunked": 256 * MiB}
if os.environ.get("UNITCORN_TEST_UPLOAD_MIB"):
    UPLOAD_SIZES = dict.fromkeys(UPLOAD_SIZES, int(os.environ["UNITCORN_TEST_UPLOAD_MIB"]) * MiB)
# what the worker may grow by, at its peak, while the body passes through
RSS_BOUND = 16 * MiB


@under_wrapper      # RSS under valgrind is valgrind's; 1 GiB through memcheck takes most of an hour
@pytest.mark.parametrize("framing", ["length", "chunked"])
def test_large_upload_memory_flat(start_server, tmp_path, framing):
    """A large upload (sendfile from a sparse file, in a thread): the app
    reads and hashes every byte, and the worker's peak RSS (VmHWM) grows by
    less than RSS_BOUND."""
    # In the sanitizer build, ASan keeps freed memory in a quarantine of
    # 256 MiB by default (the app's 1 MiB reads fill it): a small one, so
    # that what is measured is the server's.
    asan = os.environ.get("ASAN_OPTIONS", "")
    upload_server = start_server("upload:app", env={"ASAN_OPTIONS": asan + ":quarantine_size_mb=4"})
    pid = int(get_json(upload_server, "/pid"))
    # warm up: the spool and hashing paths once, so that their one-time
    # allocations are not counted
    assert post(upload_server, "/hash/1048576", b"w" * (3 * MiB)).status == 200
    peak_before = vm(pid, "VmHWM")
    UPLOAD_SIZE = UPLOAD_SIZES[framing]
    path = sparse_file(tmp_path / "body", UPLOAD_SIZE)
    expected = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(4 * MiB):
            expected.update(block)

    with upload_server.connect(timeout=120) as s:
        if framing == "length":
            s.sendall(b"POST /hash/1048576 HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % UPLOAD_SIZE)
        else:
            s.sendall(b"POST /hash/1048576 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        errors = []

        def send():
            try:
                with open(path, "rb") as f:
                    if framing == "length":
                        s.sendfile(f)
                    else:
                        chunk = 4 * MiB
                        for off in range(0, UPLOAD_SIZE, chunk):
                            n = min(chunk, UPLOAD_SIZE - off)
                            s.sendall(b"%x\r\n" % n)
                            s.sendfile(f, off, n)
                            s.sendall(b"\r\n")
                        s.sendall(b"0\r\n\r\n")
            except OSError as e:
                errors.append(e)

        sender = threading.Thread(target=send)
        sender.start()
        r = read_response(s.makefile("rb"))
        sender.join()
    assert not errors, errors
    assert r.status == 200, r.body
    got = json.loads(r.body)
    assert got == {"sha256": expected.hexdigest(), "length": UPLOAD_SIZE}
    growth = vm(pid, "VmHWM") - peak_before
    assert growth < RSS_BOUND, f"worker peak RSS grew by {growth / MiB:.1f} MiB for a {UPLOAD_SIZE // MiB} MiB body"
