"""Apps for test_faults_kill.py and test_faults_memory.py.

/block?PATH   writes the worker's pid to PATH.pid, then blocks opening the
              FIFO PATH until the test opens it for writing (so the test
              knows the request is inside the app, and in which worker),
              and answers what the test wrote
/pid          the worker's pid
/huge         one allocation no machine has room for: MemoryError at once
/fill         allocates 1 MiB blocks into a local list until MemoryError
              (the test sets the worker's RLIMIT_AS first), which it lets
              propagate: the blocks go with the traceback
/hoard        the same into a module global, kept after the MemoryError:
              the worker stays at its limit
/fill-caught  as /fill, but the app catches the MemoryError and answers
              507 itself
/crumbs       small objects (4 KiB) into the global until MemoryError: no
              room left for anything, the server's own allocations included
"""
import os

hoard = []


# A guard should the test's RLIMIT_AS not bound the allocations (it does
# not bound AddressSanitizer's allocator for small blocks): the test then
# fails on this error instead of filling the machine.
CAP = 1 << 30


def fill(into, size=1 << 20):
    while True:
        if len(into) * size > CAP:
            del into[:]
            raise RuntimeError("1 GiB allocated and no MemoryError: RLIMIT_AS not in force")
        into.append(bytearray(size))


def app(environ, start_response):
    path = environ["PATH_INFO"]
    status = "200 OK"
    if path == "/block":
        fifo = environ["QUERY_STRING"]
        with open(fifo + ".pid", "w") as f:
            f.write(str(os.getpid()))
        with open(fifo, "rb") as f:
            body = f.read()
    elif path == "/huge":
        body = bytes(bytearray(1 << 62))
    elif path == "/fill":
        fill([])
    elif path == "/hoard":
        fill(hoard)
    elif path == "/crumbs":
        fill(hoard, 4096)
    elif path == "/fill-caught":
        blocks = []
        try:
            fill(blocks)
        except MemoryError:
            n = len(blocks)
            blocks = None
            status, body = "507 Insufficient Storage", b"%d MiB" % n
    else:
        body = str(os.getpid()).encode()
    start_response(status, [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
