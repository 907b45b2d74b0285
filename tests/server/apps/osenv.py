"""Answers with the worker's os.environ and sys facts as JSON (-e, virtualenvs)."""
import json
import os
import sys


def app(environ, start_response):
    body = json.dumps({"environ": dict(os.environ), "prefix": sys.prefix, "argv": sys.argv}).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]
