"""wsgi.file_wrapper for test_file_wrapper.py.  The query string says what
to return:

  path=P        a wrapper over open(P, "rb")
  offset=K      ... after seeking (or reading, buffered: read=K) to K
  cl=N          with Content-Length: N (else none from the app)
  blksize=B     file_wrapper(f, blksize=B)
  bytesio=N     a wrapper over io.BytesIO of N bytes (bytes(range(256)) repeated)
  pipe=N        a wrapper over the read end of a pipe carrying N such bytes
  noclose=1     over an object with read() only (no close())
  write=1       the app calls write(b"w") first (the head is out: iterate)
  status=S      that status
  nostart=1     returns the wrapper without calling start_response (a 500)
/closed          how many wrapped file objects were closed, of how many made
/pid             the worker's pid
"""
import io
import os
import threading
from urllib.parse import parse_qs
from wsgiref.validate import validator

made = []


def pattern(n):
    return (bytes(range(256)) * (n // 256 + 1))[:n]


class ReadOnly:
    def __init__(self, data):
        self.f = io.BytesIO(data)

    def read(self, n):
        return self.f.read(n)


def raw(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/closed":
        body = b"%d/%d" % (sum(f.closed for f in made), len(made))
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
        return [body]
    if path == "/pid":
        body = str(os.getpid()).encode()
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
        return [body]
    q = {k: v[0] for k, v in parse_qs(environ["QUERY_STRING"]).items()}
    if "path" in q:
        f = open(q["path"], "rb")
        if "offset" in q:
            f.seek(int(q["offset"]))
        if "read" in q:
            f.read(int(q["read"]))
    elif "bytesio" in q:
        f = io.BytesIO(pattern(int(q["bytesio"])))
    elif "pipe" in q:
        r, w = os.pipe()
        data = pattern(int(q["pipe"]))

        def feed():
            with os.fdopen(w, "wb") as out:
                out.write(data)
        threading.Thread(target=feed, daemon=True).start()
        f = os.fdopen(r, "rb")
    else:
        f = ReadOnly(pattern(int(q["noclose"])))
    if hasattr(f, "closed"):
        made.append(f)
    if "nostart" in q:
        return environ["wsgi.file_wrapper"](f)
    headers = [("Content-Type", "application/octet-stream")]
    if "cl" in q:
        headers.append(("Content-Length", q["cl"]))
    write = start_response(q.get("status", "200 OK"), headers)
    if "write" in q:
        write(b"w")
    wrapper = environ["wsgi.file_wrapper"]
    if "blksize" in q:
        return wrapper(f, blksize=int(q["blksize"]))
    return wrapper(f)


app = raw
validated = validator(raw)
