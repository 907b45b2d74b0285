"""An app for test_recycle.py: answers "<pid of this process> <pid that
imported this module>", so a test sees which worker served a request and
whether the import happened there (no --preload) or in the master."""
import os

IMPORT_PID = os.getpid()


def app(environ, start_response):
    body = f"{os.getpid()} {IMPORT_PID}".encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
