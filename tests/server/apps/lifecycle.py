"""Apps for test_lifecycle.py: one that spins forever (--timeout), one that
blocks until the test lets it go (graceful stop), both without sleeping."""
import os


def app(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/spin":
        while True: pass    # the line --timeout's stack dump must show
    if path == "/block":
        # opening a FIFO for reading blocks until the test opens it for
        # writing: that is how the test knows the request is in the app
        with open(environ["QUERY_STRING"], "rb") as f:
            body = f.read()
    elif path == "/pid":
        body = str(os.getpid()).encode()
    else:
        body = b"hello"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
