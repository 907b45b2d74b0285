"""Raw WSGI apps for the server tests.

`app` is wrapped in wsgiref.validate.validator, so every request the tests
make through it also checks the environ, start_response and the iterable
protocol against PEP 3333.  `raw` is the same app unwrapped, for the
routes that deliberately break the rules (the validator would catch them
before the server could)."""
import json
import os
import sys
import time
from wsgiref.validate import validator


class Closing:
    """An iterable with close(), recording that close() was called."""
    closed = 0

    def __init__(self, chunks):
        self.chunks = chunks

    def __iter__(self):
        return iter(self.chunks)

    def close(self):
        Closing.closed += 1


def raw(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/pid":
        body = str(os.getpid()).encode()
    elif path == "/echo":
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length)
    elif path == "/lines":
        body = json.dumps([line.decode() for line in environ["wsgi.input"]]).encode()
    elif path == "/environ" or environ["QUERY_STRING"] == "dump":
        keys = {k: v for k, v in environ.items() if isinstance(v, str)}
        body = json.dumps(keys).encode()
    elif path == "/hold":
        # a slow request: a sync worker's loop waits for it
        time.sleep(float(environ["QUERY_STRING"]))
        body = b"held"
    elif path == "/raise":
        raise RuntimeError("the app failed on purpose")
    elif path == "/badheader":
        start_response("200 OK", [("Content-Type", "text/plain"),
                                  ("X-Injected", "a\r\nSet-Cookie: evil=1")])
        return [b"should never be sent"]
    elif path == "/badname":
        start_response("200 OK", [("Bad Name", "x")])
        return [b"should never be sent"]
    elif path == "/mutate":
        headers = [("Content-Type", "text/plain")]
        start_response("200 OK", headers)
        headers.append(("X-Late", "a\r\nSet-Cookie: evil=1"))
        return [b"checked headers only"]
    elif path == "/stream":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return (part for part in [b"one ", b"", b"two ", b"three"])
    elif path == "/write":
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"written ")
        return [b"returned"]
    elif path == "/closing":
        start_response("200 OK", [("Content-Type", "text/plain"),
                                  ("Content-Length", "1")])
        return Closing([str(Closing.closed).encode()])
    elif path == "/closed":
        body = str(Closing.closed).encode()
    elif path == "/excinfo":
        try:
            raise ValueError("caught")
        except ValueError:
            start_response("500 Internal Server Error", [("Content-Type", "text/plain")],
                           sys.exc_info())
        return [b"handled"]
    else:
        body = b"Hello, World!\n"
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(body)))])
    return [body]


app = validator(raw)
