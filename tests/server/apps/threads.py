"""Apps for test_threads.py (--threads).  Every wait is on a
synchronisation object with a timeout, never a sleep: a Barrier only
passes when its parties run at the same time, an Event set by another
request proves that request was served while this one blocked."""
import os
import threading

WAIT = 20
N = int(os.environ.get("BARRIER_PARTIES", "4"))
# the timeout only bounds how long a barrier that cannot pass takes to break
barrier = threading.Barrier(N, timeout=float(os.environ.get("BARRIER_TIMEOUT", WAIT)))
released = threading.Event()
calls = []
BIG = 32 * 1024 * 1024      # more than the socket buffers hold
MEDIUM = 200 * 1024
calls_lock = threading.Lock()


def respond(start_response, body, status="200 OK"):
    start_response(status, [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


def app(environ, start_response):
    path = environ["PATH_INFO"]
    with calls_lock:
        calls.append(path)
    if path == "/barrier":
        # raises BrokenBarrierError (a 500) unless N requests are in the app at once
        barrier.wait()
        return respond(start_response, b"passed")
    if path == "/wait":
        ok = released.wait(WAIT)
        released.clear()
        return respond(start_response, b"released" if ok else b"timed out")
    if path == "/release":
        released.set()
        return respond(start_response, b"set")
    if path == "/multithread":
        return respond(start_response, repr(environ["wsgi.multithread"]).encode())
    if path == "/fifo":
        # blocks until the test opens the FIFO for writing: the request is
        # in the app then
        with open(environ["QUERY_STRING"], "rb") as f:
            return respond(start_response, f.read())
    if path == "/spin":
        while True: pass    # the line --timeout's stack dump must show
    if path == "/pid":
        return respond(start_response, str(os.getpid()).encode())
    if path == "/stream":
        # a body larger than the output high-water mark, streamed
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return (bytes([i]) * 65536 for i in range(16))
    if path == "/big":
        return respond(start_response, b"x" * BIG)
    if path == "/medium":
        # below the output high-water mark: queued whole, written after the app
        return respond(start_response, b"x" * MEDIUM)
    if path == "/calls":
        with calls_lock:
            return respond(start_response, " ".join(calls).encode())
    return respond(start_response, path.encode())
