"""A raw WSGI app that breaks PEP 3333 on purpose, one route per fault
(tests/server/test_misbehave*.py).  Not wrapped in wsgiref.validate: the
validator would catch these before the server could.

/status/<key>, /header/<key>: start_response with a bad status or header
from the tables below.  Every body a bad route would send contains SECRET,
which must never reach the wire.  /stats says what the other routes did
(close() calls, chunks produced), so a test can check the server stopped a
generator and closed it."""
import json
import os
import sys

SECRET = b"must-not-be-sent"
CHUNK = b"x" * 65536

BAD_STATUS = {
    "bare-code": "200",
    "no-space": "200OK",
    "two-digits": "20 OK",
    "four-digits": "2000 OK",
    "letters": "2OO OK",
    "leading-space": " 200 OK",
    "tab-separator": "200\tOK",
    "cr": "200 OK\rX-Injected: 1",
    "lf": "200 OK\nX-Injected: 1",
    "crlf": "200 OK\r\nX-Injected: 1",
    "nul": "200 OK\0",
    "del": "200 O\x7fK",
    "non-latin1": "200 \u2713",
    "bytes": b"200 OK",
    "none": None,
}

BAD_HEADER = {
    "value-cr": ("X-Test", "a\rX-Injected: 1"),
    "value-lf": ("X-Test", "a\nX-Injected: 1"),
    "value-crlf": ("X-Test", "a\r\nX-Injected: 1"),
    "value-nul": ("X-Test", "a\0b"),
    "value-del": ("X-Test", "a\x7fb"),
    "value-vt": ("X-Test", "a\x0bb"),
    "value-non-latin1": ("X-Test", "\u2713"),
    "name-cr": ("X-Test\r", "a"),
    "name-lf": ("X-Injected: 1\nX-Test", "a"),
    "name-nul": ("X-Te\0st", "a"),
    "name-space": ("X Test", "a"),
    "name-colon": ("X-Test:", "a"),
    "name-empty": ("", "a"),
    "name-latin1": ("X-T\u00e9st", "a"),
    "name-bytes": (b"X-Test", "a"),
    "value-bytes": ("X-Test", b"a"),
    "value-int": ("X-Test", 1),
    "not-a-tuple": ["X-Test", "a"],
    "three-items": ("X-Test", "a", "b"),
    "content-length-letters": ("Content-Length", "1x"),
    "content-length-negative": ("Content-Length", "-1"),
}

stats = {"closed": 0, "produced": 0}
kept_write = []


class Closing:
    """An iterable whose close() is counted, and raises when asked."""

    def __init__(self, chunks, raise_in_close=False):
        self.chunks, self.raise_in_close = chunks, raise_in_close

    def __iter__(self):
        return iter(self.chunks)

    def close(self):
        stats["closed"] += 1
        if self.raise_in_close:
            raise RuntimeError("close() failed on purpose")


class RaisingIter:
    """__iter__ itself raises."""

    def __iter__(self):
        raise RuntimeError("__iter__ failed on purpose")

    def close(self):
        stats["closed"] += 1


def stream(start_response, chunks, fail_after=None, headers=(), item=CHUNK):
    """A generator body: `chunks` chunks (None: endless), raising after
    `fail_after` of them; counts what it produced and its close()."""
    start_response("200 OK", [("Content-Type", "application/octet-stream"), *headers])

    def body():
        try:
            n = 0
            while chunks is None or n < chunks:
                if n == fail_after:
                    raise RuntimeError("the body failed on purpose after %d chunks" % n)
                stats["produced"] += 1
                n += 1
                yield item
        finally:
            stats["closed"] += 1
    return body()


def app(environ, start_response):
    path = environ["PATH_INFO"]
    parts = path.strip("/").split("/")
    route, arg = parts[0], (parts[1] if len(parts) > 1 else "")
    ctype = [("Content-Type", "text/plain")]

    if route == "status":
        start_response(BAD_STATUS[arg], ctype)
        return [SECRET]
    if route == "header":
        start_response("200 OK", ctype + [BAD_HEADER[arg], ("X-Secret", SECRET.decode())])
        return [SECRET]
    if route == "headers-dict":
        start_response("200 OK", {"Content-Type": "text/plain"})
        return [SECRET]

    # raising, at every point of the response's life
    if route == "raise-before-start":
        raise RuntimeError("the app failed on purpose before start_response")
    if route == "raise-after-start":
        start_response("200 OK", ctype)
        raise RuntimeError("the app failed on purpose after start_response")
    if route == "raise-in-iter":
        start_response("200 OK", ctype)
        return RaisingIter()
    if route == "raise-first-chunk":
        # a generator that raises before its first chunk
        return stream(start_response, 1, fail_after=0)
    if route == "raise-after-chunk":
        # arg: "cl" with a Content-Length larger than what comes, "small"
        # (one 64 KiB chunk, still buffered), else 8 MiB (on the wire)
        headers = [("Content-Length", str(100 * len(CHUNK)))] if arg == "cl" else []
        return stream(start_response, None, fail_after=1 if arg in ("cl", "small") else 128, headers=headers)
    if route == "raise-in-close":
        # arg: "chunked" (no length: a generator-like body) or "list"
        start_response("200 OK", ctype)
        if arg == "list":
            return Closing([b"complete body"], raise_in_close=True)
        return Closing(iter([b"complete ", b"body"]), raise_in_close=True)
    if route == "raise-in-close-empty":
        start_response("204 No Content", [])
        return Closing([], raise_in_close=True)

    # wrong types
    if route == "return-none":
        start_response("200 OK", ctype)
        return None
    if route == "return-int":
        start_response("200 OK", ctype)
        return 42
    if route == "return-str":
        start_response("200 OK", ctype)
        return SECRET.decode()
    if route == "return-bytes":
        # bytes is iterable: it yields ints
        start_response("200 OK", ctype)
        return SECRET
    if route == "yield-str":
        start_response("200 OK", ctype)
        return [SECRET, SECRET.decode()]
    if route == "yield-none":
        start_response("200 OK", ctype)
        return Closing([SECRET, None])
    if route == "no-start-response":
        return [SECRET]
    if route == "no-start-response-empty":
        return []

    # start_response and exc_info (PEP 3333 "The start_response() Callable")
    if route == "start-twice":
        start_response("200 OK", ctype)
        start_response("201 Created", ctype)
        return [SECRET]
    if route == "start-twice-caught":
        start_response("200 OK", ctype)
        try:
            start_response("201 Created", ctype)
        except RuntimeError as e:
            return [("refused: %s" % e).encode()]
        return [SECRET]
    if route == "exc-info-before-head":
        start_response("200 OK", ctype + [("X-Secret", SECRET.decode())])
        try:
            raise ValueError("caught before the head went out")
        except ValueError:
            start_response("503 Service Unavailable", ctype, sys.exc_info())
        return [b"replaced"]
    if route == "exc-info-after-head":
        # arg "big": the head and 8 MiB are on the wire before the error
        chunks = 128 if arg == "big" else 1
        start_response("200 OK", ctype)

        def body():
            yield from [CHUNK] * chunks
            try:
                raise ValueError("raised after the head went out")
            except ValueError:
                # PEP 3333: start_response re-raises exc_info once the
                # head is sent; the app must not catch that
                start_response("500 Internal Server Error", ctype, sys.exc_info())
            yield SECRET
        return body()
    if route == "exc-info-bad":
        start_response("200 OK", ctype)

        def body():
            yield CHUNK
            start_response("500 Internal Server Error", ctype, "not a tuple")
            yield SECRET
        return body()
    if route == "bad-then-good":
        # a refused start_response the app catches, then a good one
        try:
            start_response("200 OK", ctype + [("X-Test", "a\r\nb")])
        except ValueError:
            pass
        start_response("200 OK", ctype)
        return [b"second call taken"]

    # the write() callable
    if route == "write-before-start":
        # unitcorn's start_response has write() as an attribute too
        start_response.write(SECRET)
        return []
    if route == "write-str":
        write = start_response("200 OK", ctype)
        write(SECRET.decode())
        return []
    if route == "write-then-raise":
        write = start_response("200 OK", ctype)
        write(b"partial")
        raise RuntimeError("the app failed on purpose after write()")
    if route == "write-big-then-raise":
        write = start_response("200 OK", ctype)
        for _ in range(128):
            write(CHUNK)
        raise RuntimeError("the app failed on purpose after 8 MiB of write()")
    if route == "write-keep":
        write = start_response("200 OK", ctype)
        kept_write[:] = [write]
        return [b"kept"]
    if route == "write-stale":
        # the write() of an earlier request
        try:
            kept_write[0](SECRET)
        except Exception as e:
            body = ("%s: %s" % (type(e).__name__, e)).encode()
        else:
            body = b"stale write accepted"
        start_response("200 OK", ctype)
        return [body]
    if route == "write-after-bad-start":
        try:
            start_response("200 OK", [("X-Test", "a\nb")])
        except ValueError:
            pass
        start_response.write(SECRET)
        return []

    # large responses, for the client tests
    if route == "stream":
        # arg: number of 64 KiB chunks, or endless
        return stream(start_response, int(arg) if arg else None)
    if route == "big":
        # one body of arg MiB
        body = b"y" * (int(arg) << 20)
        start_response("200 OK", [("Content-Type", "application/octet-stream"),
                                  ("Content-Length", str(len(body)))])
        return [body]
    if route == "upload":
        # reads the body in 64 KiB steps
        inp = environ["wsgi.input"]
        n = 0
        while data := inp.read(65536):
            n += len(data)
        start_response("200 OK", ctype)
        return [str(n).encode()]

    if route == "stats":
        body = json.dumps(stats).encode()
    elif route == "pid":
        body = str(os.getpid()).encode()
    else:
        body = b"ok"
    start_response("200 OK", ctype + [("Content-Length", str(len(body)))])
    return [body]
