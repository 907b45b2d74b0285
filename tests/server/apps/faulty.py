"""Apps for test_faults.py: /exit/N ends the worker with os._exit(N) in
the middle of a request; /spin loops forever two calls deep (--timeout
must dump this stack); /pid and / answer."""
import os


def spin_inner():
    n = 0
    while True:
        n += 1          # spin_inner's loop: the frame --timeout's dump must show


def spin_outer():
    spin_inner()


def app(environ, start_response):
    path = environ["PATH_INFO"]
    if path.startswith("/exit/"):
        os._exit(int(path[len("/exit/"):]))
    if path == "/spin":
        spin_outer()
    body = str(os.getpid()).encode() if path == "/pid" else b"hello"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
