"""The app of the request corpus (test_corpus.py): reports what it saw.

The response is JSON: every str value of the environ, and the body read
from wsgi.input (as latin-1), or null on a path starting with /noread,
where the app leaves the body unread (the server must still skip it
before the next pipelined request)."""
import json


def app(environ, start_response):
    body = None
    if not environ["PATH_INFO"].startswith("/noread"):
        body = environ["wsgi.input"].read().decode("latin-1")
    report = {"environ": {k: v for k, v in environ.items() if isinstance(v, str)}, "body": body}
    data = json.dumps(report, sort_keys=True).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]
