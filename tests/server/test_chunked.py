"""Request bodies: chunked transfer coding (RFC 9112 §7.1) decoded for the
app, every invalid framing refused with 4xx/501 and a closed connection,
the body limit (413), and Expect: 100-continue with both framings."""
import random
import socket

import pytest

from conftest import assert_rejected, read_response

HEAD = b"POST %s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
# a complete request pipelined after an invalid one: it must never be answered
NEXT = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"

BODY_PARTS = [b"Hello", b", ", b"chunked\nworld", b"!\n" * 40, bytes(range(256)) * 8, b"end"]
BODY = b"".join(BODY_PARTS)


def chunked(parts, last=b"0\r\n\r\n"):
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + last


def chunked_request(path="/read", parts=BODY_PARTS, extra_headers=b"", last=b"0\r\n\r\n"):
    return HEAD % path.encode() + extra_headers + b"\r\n" + chunked(parts, last)


@pytest.fixture
def body_server(start_server):
    return start_server("body:raw")


def check_echo(r, body=BODY):
    assert r.status == 200, r.body
    assert r.body == body
    assert r.header("X-Content-Length") == "None"          # CONTENT_LENGTH absent
    assert r.header("X-Input-Terminated") == "True"
    assert r.header("X-Transfer-Encoding") == "'chunked'"


def send_pieces(srv, pieces):
    with srv.connect() as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for p in pieces:
            s.sendall(p)
        return read_response(s.makefile("rb"))


@pytest.mark.parametrize("path", ["/read", "/readn/1", "/readn/7", "/readn/100000", "/readline",
                                  "/readlines", "/iter"])
def test_chunked_echo_one_send(body_server, path):
    r = send_pieces(body_server, [chunked_request(path)])
    check_echo(r)


@pytest.mark.parametrize("path", ["/readn/3", "/readline", "/iter"])
def test_chunked_echo_validated(start_server, path):
    """Through wsgiref's validator: the environ and wsgi.input as PEP 3333 says."""
    srv = start_server("body:app")
    check_echo(send_pieces(srv, [chunked_request(path)]))


def test_chunked_byte_by_byte(body_server):
    raw = chunked_request("/read", [b"abc", b"defgh", b"\r\n", b"0"])
    r = send_pieces(body_server, [raw[i:i + 1] for i in range(len(raw))])
    check_echo(r, b"abcdefgh\r\n0")


def test_chunked_random_splits(body_server):
    rng = random.Random(20240615)
    raw = chunked_request("/read")
    for _ in range(20):
        cuts = sorted(rng.sample(range(1, len(raw)), rng.randint(1, 12)))
        pieces = [raw[a:b] for a, b in zip([0] + cuts, cuts + [len(raw)])]
        check_echo(send_pieces(body_server, pieces))


def test_chunked_empty_body(body_server):
    check_echo(send_pieces(body_server, [chunked_request("/read", [])]), b"")


def test_chunked_size_forms(body_server):
    """Leading zeros and both letter cases are valid hex."""
    raw = HEAD % b"/read" + b"\r\n" + b"000a\r\n0123456789\r\nA\r\nabcdefghij\r\n0000\r\n\r\n"
    check_echo(send_pieces(body_server, [raw]), b"0123456789abcdefghij")


def test_chunked_extensions_ignored(body_server):
    # (llhttp 8.1 refuses two valid forms, answered 400: a quoted-pair in a
    # quoted value, and another extension after a token value, ";a=b;c")
    raw = (HEAD % b"/read" + b"\r\n" + b"3;flag;q=\"a b;c=d\";name=value\r\nabc\r\n"
           b"2;x=y\r\nde\r\n0;last=1\r\n\r\n")
    check_echo(send_pieces(body_server, [raw]), b"abcde")


def test_chunked_trailers_dropped(body_server):
    raw = chunked_request("/read", last=b"0\r\nX-Trailer-One: 1\r\nX-Trailer-Two: two\r\n\r\n")
    r = send_pieces(body_server, [raw])
    check_echo(r)
    assert r.header("X-Trailer-Seen") == "False"


def test_chunked_keep_alive_and_pipelining(body_server):
    with body_server.connect() as s:
        s.sendall(chunked_request("/read", [b"first"]) + chunked_request("/iter", [b"sec", b"ond"])
                  + b"POST /read HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nthird")
        f = s.makefile("rb")
        check_echo(read_response(f), b"first")
        check_echo(read_response(f), b"second")
        r = read_response(f)
        assert r.body == b"third" and r.header("X-Content-Length") == "'5'"
        assert f.read() == b""


def test_chunked_expect_100_continue(body_server):
    with body_server.connect() as s:
        s.sendall(HEAD % b"/read" + b"Expect: 100-continue\r\n\r\n")
        f = s.makefile("rb")
        assert f.readline() == b"HTTP/1.1 100 Continue\r\n"
        assert f.readline() == b"\r\n"
        s.sendall(chunked(BODY_PARTS))
        check_echo(read_response(f))


def test_chunked_expect_100_continue_body_in_pieces(body_server):
    with body_server.connect() as s:
        s.sendall(HEAD % b"/read" + b"Expect: 100-continue\r\n\r\n")
        f = s.makefile("rb")
        assert f.readline() == b"HTTP/1.1 100 Continue\r\n"
        assert f.readline() == b"\r\n"
        for part in [b"3\r\nab", b"c\r\n", b"0\r\n", b"\r\n"]:
            s.sendall(part)
        check_echo(read_response(f), b"abc")


# ---- invalid framing: each refused, the connection closed, NEXT never answered ----

BAD_CHUNKED = {
    "data-not-followed-by-crlf": b"3\r\nabcXY0\r\n\r\n",
    "data-followed-by-lf": b"3\r\nabc\n0\r\n\r\n",
    "data-followed-by-cr-x": b"3\r\nabc\rX0\r\n\r\n",
    "data-longer-than-size": b"3\r\nabcd\r\n0\r\n\r\n",
    "size-line-cr-then-x": b"3\rXabc\r\n0\r\n\r\n",
    "size-line-bare-lf": b"3\nabc\r\n0\r\n\r\n",
    "size-plus": b"+3\r\nabc\r\n0\r\n\r\n",
    "size-minus": b"-3\r\nabc\r\n0\r\n\r\n",
    "size-0x": b"0x3\r\nabc\r\n0\r\n\r\n",
    "size-underscore": b"1_0\r\n0123456789abcdef\r\n0\r\n\r\n",
    "size-leading-space": b" 3\r\nabc\r\n0\r\n\r\n",
    "size-trailing-space": b"3 \r\nabc\r\n0\r\n\r\n",
    "size-trailing-tab": b"3\t\r\nabc\r\n0\r\n\r\n",
    "size-empty": b"\r\nabc\r\n0\r\n\r\n",
    "size-not-hex": b"g\r\nabc\r\n0\r\n\r\n",
    "size-overflow": b"1" + b"0" * 16 + b"\r\nabc\r\n0\r\n\r\n",
    "ext-empty": b"3;\r\nabc\r\n0\r\n\r\n",
    "ext-no-name": b"3;=v\r\nabc\r\n0\r\n\r\n",
    "ext-space-after-semicolon": b"3; a=b\r\nabc\r\n0\r\n\r\n",
    "ext-space-before-semicolon": b"3 ;a=b\r\nabc\r\n0\r\n\r\n",
    "ext-empty-value": b"3;a=\r\nabc\r\n0\r\n\r\n",
    "ext-space-in-value": b"3;a=b c\r\nabc\r\n0\r\n\r\n",
    "ext-unterminated-quote": b"3;a=\"b\r\nabc\r\n0\r\n\r\n",
    "ext-control-in-name": b"3;a\x01=b\r\nabc\r\n0\r\n\r\n",
    "ext-control-in-quoted": b"3;a=\"\x01\"\r\nabc\r\n0\r\n\r\n",
    "ext-too-long": b"3;a=" + b"b" * 5000 + b"\r\nabc\r\n0\r\n\r\n",
    "last-chunk-bare-lf": b"3\r\nabc\r\n0\n\r\n",
    "end-bare-lf": b"3\r\nabc\r\n0\r\n\n",
    "end-cr-then-x": b"3\r\nabc\r\n0\r\n\rX",
    "trailer-bare-lf": b"0\r\nX-Trailer: 1\n\r\n",
    "trailer-obs-fold": b"0\r\nX-Trailer: 1\r\n continued\r\n\r\n",
    "trailer-space-before-colon": b"0\r\nX-Trailer : 1\r\n\r\n",
    "trailer-no-colon": b"0\r\nX-Trailer\r\n\r\n",
    "trailer-control": b"0\r\nX-Trailer: a\x00b\r\n\r\n",
}


@pytest.mark.parametrize("body", BAD_CHUNKED.values(), ids=BAD_CHUNKED.keys())
def test_bad_chunked_framing_400(server, body):
    assert_rejected(server, HEAD % b"/echo" + b"\r\n" + body + NEXT, 400)


BAD_TE = {
    # (headers, status)
    "last-not-chunked": (b"Transfer-Encoding: gzip\r\n", 400),
    "identity": (b"Transfer-Encoding: identity\r\n", 400),
    "chunked-then-gzip": (b"Transfer-Encoding: chunked, gzip\r\n", 400),
    "chunked-twice": (b"Transfer-Encoding: chunked, chunked\r\n", 400),
    "chunked-in-two-fields": (b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", 400),
    "gzip-field-then-chunked-field": (b"Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n", 501),
    "empty-element": (b"Transfer-Encoding: , chunked\r\n", 400),
    "chunked-with-parameter": (b"Transfer-Encoding: chunked;q=1\r\n", 400),
    "xchunked": (b"Transfer-Encoding: xchunked\r\n", 400),
    "empty": (b"Transfer-Encoding: \r\n", 400),
    "unknown-coding-before-chunked": (b"Transfer-Encoding: foo, chunked\r\n", 501),
    "gzip-before-chunked": (b"Transfer-Encoding: gzip, chunked\r\n", 501),
    "cl-then-te": (b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", 400),
    "te-then-cl": (b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", 400),
}


@pytest.mark.parametrize("headers,status", BAD_TE.values(), ids=BAD_TE.keys())
def test_bad_transfer_encoding(server, headers, status):
    raw = b"POST /echo HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n" + b"0\r\n\r\n" + NEXT
    assert_rejected(server, raw, status)


def test_transfer_encoding_on_http10_400(server):
    raw = b"POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n" + NEXT
    assert_rejected(server, raw, 400)


# ---- --limit-request-body ----

LIMIT = 100


@pytest.fixture
def limited(start_server):
    return start_server("body:raw", ["--limit-request-body", str(LIMIT)])


def test_body_at_limit_served(limited):
    body = b"x" * LIMIT
    with limited.connect() as s:
        s.sendall(b"POST /read HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % LIMIT + body)
        assert read_response(s.makefile("rb")).body == body
    check_echo(send_pieces(limited, [chunked_request("/read", [b"y" * 60, b"z" * 40])]),
               b"y" * 60 + b"z" * 40)


def test_content_length_over_limit_413_before_body(limited):
    # no body sent: the answer must come from the head alone
    assert_rejected(limited, b"POST /read HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % (LIMIT + 1), 413)


def test_content_length_over_limit_413_with_body_following(limited):
    """The client sends its (large) body anyway: it still reads the 413 (the
    server lingers, reading, instead of resetting the connection)."""
    body = b"b" * (1 << 20)
    assert_rejected(limited, b"POST /read HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body) + body, 413)


def test_chunked_over_limit_413(limited):
    assert_rejected(limited, chunked_request("/read", [b"a" * 60, b"b" * 41]) + NEXT, 413)


def test_chunked_over_limit_413_before_data(limited):
    # the size line alone passes the limit: refused before any data arrives
    assert_rejected(limited, HEAD % b"/read" + b"\r\n" + b"a" * 0 + b"65\r\n", 413)


def test_chunked_huge_size_413(limited):
    # (no limit by default since bodies are spooled: test_upload.py)
    assert_rejected(limited, HEAD % b"/echo" + b"\r\nffffffffffffffff\r\nabc", 413)


def test_expect_100_continue_over_limit_413(limited):
    raw = b"POST /read HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 1000\r\n\r\n"
    with limited.connect() as s:
        s.sendall(raw)
        f = s.makefile("rb")
        assert f.readline() == b"HTTP/1.1 413 Request Entity Too Large\r\n"


def test_limit_request_body_zero_means_none(start_server):
    srv = start_server("body:raw", ["--limit-request-body", "0"])
    body = b"q" * 300000
    r = send_pieces(srv, [chunked_request("/read", [body])])
    check_echo(r, body)


# ---- differential: random one-byte mutations against a strict reference ----

TCHAR = set(b"!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
HEXDIG = set(b"0123456789abcdefABCDEF")


def reference_decode(b):
    """RFC 9112 §7.1 without extensions (the mutations below cannot make a
    valid one): the body, "invalid", or "incomplete"."""
    i, body = 0, b""

    def line():
        end = b.find(b"\r\n", i)
        if end < 0:
            rest = b[i:]
            return None if b"\n" in rest or b"\r" in rest[:-1] else "incomplete"
        ln = b[i:end]
        return None if b"\r" in ln or b"\n" in ln else ln

    while True:
        ln = line()
        if ln is None:
            return "invalid"
        if ln == "incomplete":
            return "incomplete" if all(c in HEXDIG for c in b[i:].rstrip(b"\r")) else "invalid"
        if not ln or not all(c in HEXDIG for c in ln) or len(ln.lstrip(b"0")) > 16:
            return "invalid"
        size = int(ln, 16)
        i += len(ln) + 2
        if size == 0:
            break
        if len(b) < i + size + 2:
            tail = b[i + size:]
            return "invalid" if tail and tail != b"\r"[:len(tail)] else "incomplete"
        if b[i + size:i + size + 2] != b"\r\n":
            return "invalid"
        body += b[i:i + size]
        i += size + 2
    while True:            # trailer section
        ln = line()
        if ln is None:
            return "invalid"
        if ln == "incomplete":
            return "incomplete"
        i += len(ln) + 2
        if ln == b"":
            return body
        name, colon, value = ln.partition(b":")
        if not colon or not name or not all(c in TCHAR for c in name):
            return "invalid"
        if any((c < 0x20 and c != 9) or c == 0x7f for c in value):
            return "invalid"


def test_chunked_mutations_match_reference(body_server):
    rng = random.Random(7)
    valid = chunked([b"hello ", b"x" * 17, b"\r\n0;\r\n", b"world"], last=b"0\r\nX-T: v\r\n\r\n")
    assert reference_decode(valid) == b"hello " + b"x" * 17 + b"\r\n0;\r\nworld"
    head = HEAD % b"/read" + b"Connection: close\r\n\r\n"
    alphabet = b"0123456789aAfFgG;=\" \t\r\n:x\x00\x7f\x80"
    for _ in range(150):
        b = bytearray(valid)
        pos = rng.randrange(len(b))
        op = rng.choice(["replace", "insert", "delete"])
        if op == "replace":
            b[pos] = rng.choice(alphabet)
        elif op == "insert":
            b.insert(pos, rng.choice(alphabet))
        else:
            del b[pos]
        b = bytes(b)
        expected = reference_decode(b)
        with body_server.connect() as s:
            s.sendall(head + b)
            s.shutdown(socket.SHUT_WR)
            r = read_response(s.makefile("rb"))
        if expected == "incomplete":
            assert r is None, (b, r.status)
        elif expected == "invalid":
            assert r is not None and r.status == 400, (b, r and r.status)
        else:
            assert r is not None and r.status == 200 and r.body == expected, (b, r and r.status)
