"""wsgi.file_wrapper (PEP 3333 "Optional Platform-Specific File Handling"):
a regular file goes out with sendfile(2), with or without the app's
Content-Length, from the file's position; a file shorter than the declared
length closes the connection; other file-likes are iterated in blksize
pieces; HEAD sends no body; keep-alive and pipelining go on after a file;
a slow reader does not hold up the worker; close() is always called.
Every body is compared byte for byte with the file."""
import os

import pytest

from conftest import read_response, small_window_client

MiB = 1 << 20


def pattern(n):
    return (bytes(range(256)) * (n // 256 + 1))[:n]


@pytest.fixture
def srv(start_server):
    return start_server("filewrap:app")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("files")
    out = {}
    for name, size in (("empty", 0), ("small", 1000), ("big", 5 * MiB + 3)):
        data = os.urandom(size)
        (d / name).write_bytes(data)
        out[name] = (str(d / name), data)
    return out


def req(path, method="GET", close=True):
    return (f"{method} {path} HTTP/1.1\r\nHost: x\r\n" + ("Connection: close\r\n" if close else "") + "\r\n").encode()


def fetch(srv, path, method="GET"):
    with srv.connect() as s:
        s.sendall(req(path, method))
        f = s.makefile("rb")
        r = read_response(f, head=method == "HEAD")
        r.rest = f.read()       # the server closes: nothing after the response
    return r


def closed(srv):
    with srv.connect() as s:
        s.sendall(req("/closed"))
        return read_response(s.makefile("rb")).body.decode()


@pytest.mark.parametrize("name", ["empty", "small", "big"])
def test_file_without_content_length(srv, files, name):
    """The server sets Content-Length from the file's size."""
    path, data = files[name]
    r = fetch(srv, f"/?path={path}")
    assert r.status == 200
    assert r.header("Content-Length") == str(len(data))
    assert r.header("Transfer-Encoding") is None
    assert r.body == data
    assert r.rest == b""
    assert closed(srv) == "1/1"


def test_file_with_content_length(srv, files):
    path, data = files["big"]
    r = fetch(srv, f"/?path={path}&cl={len(data)}")
    assert r.header("Content-Length") == str(len(data))
    assert r.body == data and r.rest == b""


def test_content_length_shorter_than_file(srv, files):
    """Exactly the app's Content-Length, and the connection goes on (the
    next response on it would be garbled otherwise)."""
    path, data = files["big"]
    with srv.connect() as s:
        s.sendall(req(f"/?path={path}&cl=100000", close=False) + req(f"/?path={path}&offset=7&cl=10"))
        f = s.makefile("rb")
        r1, r2 = read_response(f), read_response(f)
        assert r1.body == data[:100000]
        assert r2.body == data[7:17]
        assert f.read() == b""


def test_file_shorter_than_content_length_closes(srv, files):
    path, data = files["small"]
    with srv.connect() as s:
        s.sendall(req(f"/?path={path}&cl=5000", close=False))
        f = s.makefile("rb")
        head = read_response(f, head=True)
        assert head.header("Content-Length") == "5000"
        assert head.header("Connection") == "close"
        assert f.read() == data      # all the file had, then the end of the connection
    assert "is shorter than its Content-Length (1000 < 5000), closing" in srv.output()
    assert closed(srv) == "1/1"


@pytest.mark.parametrize("how", ["offset", "read"])
def test_from_the_file_position(srv, files, how):
    """From where the app left the file object: seek(), or a buffered read()
    (the descriptor's offset is then past the object's position)."""
    path, data = files["big"]
    r = fetch(srv, f"/?path={path}&{how}=12345")
    assert r.header("Content-Length") == str(len(data) - 12345)
    assert r.body == data[12345:]


def test_position_past_the_end(srv, files):
    path, data = files["small"]
    r = fetch(srv, f"/?path={path}&offset=5000")
    assert r.header("Content-Length") == "0"
    assert r.body == b"" and r.rest == b""


def test_head(srv, files):
    path, data = files["big"]
    with srv.connect() as s:
        s.sendall(req(f"/?path={path}", "HEAD", close=False) + req(f"/?path={path}&cl=10", "HEAD", close=False)
                  + req("/?bytesio=10"))
        f = s.makefile("rb")
        h1 = read_response(f, head=True)
        h2 = read_response(f, head=True)
        assert h1.header("Content-Length") == str(len(data))
        assert h2.header("Content-Length") == "10"
        # no body bytes before the next response
        assert read_response(f).body == pattern(10)
    assert closed(srv) == "3/3"


def test_keep_alive_after_sendfile(srv, files):
    big, data = files["big"]
    small, sdata = files["small"]
    with srv.connect() as s:
        f = s.makefile("rb")
        for path, expected in ((big, data), (small, sdata), (big, data)):
            s.sendall(req(f"/?path={path}", close=False))
            r = read_response(f)
            assert r.status == 200 and r.body == expected
            assert r.header("Connection") is None
        # pipelined: files and an iterated body, in order
        s.sendall(req(f"/?path={small}", close=False) + req("/?bytesio=70000", close=False) +
                  req(f"/?path={big}"))
        assert read_response(f).body == sdata
        assert read_response(f).body == pattern(70000)
        assert read_response(f).body == data
        assert f.read() == b""


def test_http10(srv, files):
    path, data = files["small"]
    with srv.connect() as s:
        s.sendall(f"GET /?path={path} HTTP/1.0\r\n\r\n".encode())
        f = s.makefile("rb")
        r = read_response(f)
        assert r.header("Content-Length") == str(len(data))
        assert r.body == data and f.read() == b""


def chunk_sizes(srv, path):
    """The chunk sizes of a chunked response, read raw."""
    with srv.connect() as s:
        s.sendall(req(path))
        f = s.makefile("rb")
        r = read_response(f, head=True)
        assert r.header("Transfer-Encoding") == "chunked"
        sizes, body = [], b""
        while (n := int(f.readline(), 16)):
            body += f.read(n)
            assert f.read(2) == b"\r\n"
            sizes.append(n)
        return sizes, body


def test_bytesio_iterated_in_blksize_pieces(srv):
    """Not a file: iterated, read(blksize) at a time, chunked (no length)."""
    sizes, body = chunk_sizes(srv, "/?bytesio=100000&blksize=30000")
    assert sizes == [30000, 30000, 30000, 10000]
    assert body == pattern(100000)
    sizes, body = chunk_sizes(srv, "/?bytesio=20000")
    assert sizes == [8192, 8192, 3616]         # the default blksize
    assert closed(srv) == "2/2"


def test_bytesio_with_content_length(srv):
    r = fetch(srv, "/?bytesio=5000&cl=5000")
    assert r.header("Content-Length") == "5000" and r.body == pattern(5000)


def test_pipe_iterated(srv):
    """A descriptor that is not a regular file: iterated."""
    sizes, body = chunk_sizes(srv, "/?pipe=50000&blksize=65536")
    assert body == pattern(50000)
    assert closed(srv) == "1/1"


def test_filelike_without_close(srv):
    sizes, body = chunk_sizes(srv, "/?noclose=300&blksize=100")
    assert sizes == [100, 100, 100] and body == pattern(300)


def test_after_write_iterated(srv, files):
    """write() sent the head already (chunked): the file follows as chunks."""
    path, data = files["small"]
    sizes, body = chunk_sizes(srv, f"/?path={path}&write=1&blksize=400")
    assert sizes == [1, 400, 400, 200]
    assert body == b"w" + data


def test_status_without_body(srv, files):
    path, data = files["small"]
    r = fetch(srv, f"/?path={path}&status=304%20Not%20Modified")
    assert r.status == 304 and r.rest == b""
    assert closed(srv) == "1/1"


def test_validator(start_server, files):
    """Through wsgiref's validator (which wraps the iterable: iterated)."""
    srv = start_server("filewrap:validated")
    path, data = files["big"]
    r = fetch(srv, f"/?path={path}&cl={len(data)}")
    assert r.body == data
    assert closed(srv) == "1/1"


def test_closed_after_an_error(srv, files):
    path, data = files["small"]
    r = fetch(srv, f"/?path={path}&nostart=1")
    assert r.status == 500
    assert "the application yielded data before calling start_response()" in srv.output()
    assert closed(srv) == "1/1"


def test_file_truncated_while_sent(srv, tmp_path):
    """A file that shrinks while a slow client reads it: the connection
    ends early (the framing is broken), and the log says so."""
    path = tmp_path / "shrinks"
    size = 64 * MiB
    with open(path, "wb") as f:
        f.truncate(size)
    slow = small_window_client(srv.port)
    with slow:
        slow.sendall(req(f"/?path={path}"))
        got = slow.recv(1000)
        assert got.startswith(b"HTTP/1.1 200 OK\r\n")
        assert b"Content-Length: %d\r\n" % size in got
        os.truncate(path, 1000)
        try:
            while chunk := slow.recv(65536):
                got += chunk
        except ConnectionResetError:
            pass            # a response cut short ends with a reset
    assert len(got.partition(b"\r\n\r\n")[2]) < size
    assert "A file sent as a response body ended" in srv.output()
    # and the worker goes on
    assert fetch(srv, "/?bytesio=10").body == pattern(10)


def test_bad_blksize(srv):
    r = fetch(srv, "/?bytesio=10&blksize=0")
    assert r.status == 500
    assert "file_wrapper() blksize must be positive, not 0" in srv.output()


def test_slow_reader_does_not_hold_the_worker(srv, files):
    """A client that reads a large file slowly (a tiny receive buffer, read
    a little at a time) holds its connection, not the worker: another
    client is served meanwhile, and the slow one gets every byte."""
    path, data = files["big"]
    slow = small_window_client(srv.port)
    with slow:
        slow.sendall(req(f"/?path={path}"))
        got = slow.recv(1000)
        assert got.startswith(b"HTTP/1.1 200 OK\r\n")
        # the file cannot all be in flight: the worker must be waiting on us
        for _ in range(3):
            with srv.connect() as s:
                s.sendall(req("/pid"))
                assert read_response(s.makefile("rb")).status == 200
        while chunk := slow.recv(4096):
            got += chunk
    head, _, body = got.partition(b"\r\n\r\n")
    assert body == data
