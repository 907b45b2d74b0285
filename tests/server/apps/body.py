"""Request bodies through wsgi.input, for the chunked and body-limit tests.

The route names the way the body is read; the response is the body read,
with what the environ said about it in headers.  `app` is wrapped in
wsgiref.validate.validator (which allows read(n), readline() and iteration
but not read() without a size); `raw` is not."""
from wsgiref.validate import validator


def read_all(environ):
    stream = environ["wsgi.input"]
    path = environ["PATH_INFO"]
    if path == "/read":
        return stream.read()
    if path.startswith("/readn/"):
        n = int(path[len("/readn/"):])
        parts = []
        while True:
            part = stream.read(n)
            assert len(part) <= n
            if not part:
                return b"".join(parts)
            parts.append(part)
    if path == "/readline":
        lines = []
        while True:
            line = stream.readline()
            if not line:
                return b"".join(lines)
            lines.append(line)
    if path == "/readlines":
        return b"".join(stream.readlines())
    if path == "/iter":
        return b"".join(stream)
    return b""


def raw(environ, start_response):
    body = read_all(environ)
    headers = [("Content-Type", "application/octet-stream"),
               ("Content-Length", str(len(body))),
               ("X-Content-Length", repr(environ.get("CONTENT_LENGTH"))),
               ("X-Input-Terminated", repr(environ.get("wsgi.input_terminated"))),
               ("X-Transfer-Encoding", repr(environ.get("HTTP_TRANSFER_ENCODING"))),
               ("X-Trailer-Seen", repr(any(k.startswith("HTTP_X_TRAILER") for k in environ)))]
    start_response("200 OK", headers)
    return [body]


app = validator(raw)
