"""The three-site contract of test_apps.py as a plain WSGI app, wrapped in
wsgiref.validate.validator so that every request also checks the environ,
wsgi.input, start_response, write() and the iterable against PEP 3333.

Routes (the same in site_flask.py and site_django.py): / (text), /json
(the query as JSON), /stream?n=N (a generator, no Content-Length),
/write (the write() callable), /upload (echoes the body), /form (an
urlencoded form as JSON), /error (raises), anything else 404."""
import json
from urllib.parse import parse_qs
from wsgiref.validate import validator

NAME = "wsgi"


def read_body(environ):
    stream = environ["wsgi.input"]
    parts = []
    while True:              # the validator allows read(n) only, never read()
        part = stream.read(65536)
        if not part:
            return b"".join(parts)
        parts.append(part)


def query(environ):
    return {k: v[0] for k, v in parse_qs(environ["QUERY_STRING"]).items()}


def text(start_response, status, body, ctype="text/plain; charset=utf-8"):
    start_response(status, [("Content-Type", ctype), ("Content-Length", str(len(body)))])
    return [body]


def site(environ, start_response):
    path = environ["PATH_INFO"]
    method = environ["REQUEST_METHOD"]
    if path == "/":
        return text(start_response, "200 OK", f"hello from {NAME}".encode())
    if path == "/json":
        body = json.dumps({"app": NAME, "args": query(environ)}).encode()
        return text(start_response, "200 OK", body, "application/json")
    if path == "/stream":
        n = int(query(environ).get("n", "3"))
        start_response("200 OK", [("Content-Type", "text/plain")])
        return (f"{i} of {n}\n".encode() for i in range(n))
    if path == "/write":
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"written, ")
        return [b"then returned"]
    if path == "/upload" and method == "POST":
        return text(start_response, "200 OK", read_body(environ), "application/octet-stream")
    if path == "/form" and method == "POST":
        form = {k: v[0] for k, v in parse_qs(read_body(environ).decode()).items()}
        return text(start_response, "200 OK", json.dumps(form).encode(), "application/json")
    if path == "/error":
        raise RuntimeError(f"{NAME} site failed on purpose")
    return text(start_response, "404 Not Found", b"not found")


app = validator(site)
