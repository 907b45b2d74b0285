"""Large request bodies (spooled to a file by the server) for test_upload.py.

Routes:
  /pid                 the worker's pid, to read its /proc/PID/status
  /hash/N              reads wsgi.input with read(N) until b"": sha256 and length
  /lines/N             readline(N) (N < 0: readline()) until b"": the lengths of the lines, in JSON
  /spool               the body's length, and where the worker's open files
                       that are not ordinary paths point (O_TMPFILE: "DIR/#ino
                       (deleted)", memfd: "/memfd:unitcorn-body (deleted)")
  /fds                 how many descriptors the worker has open
  /keep                keeps wsgi.input (read 10 bytes of it) for /kept
  /kept                the rest of the kept wsgi.input: its sha256 and length
"""
import hashlib
import json
import os


def spool_links():
    links = []
    for fd in os.listdir("/proc/self/fd"):
        if int(fd) <= 2:
            continue        # the tests' log file is an unlinked temporary file too
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if "(deleted)" in target or "memfd:" in target:
            links.append(target)
    return links


kept = []


def app(environ, start_response):
    path = environ["PATH_INFO"]
    stream = environ["wsgi.input"]
    if path == "/keep":
        kept.append(stream)
        body = stream.read(10)
    elif path == "/kept":
        rest = kept.pop().read()
        body = json.dumps({"sha256": hashlib.sha256(rest).hexdigest(), "length": len(rest)}).encode()
    elif path == "/pid":
        body = str(os.getpid()).encode()
    elif path == "/fds":
        body = str(len(os.listdir("/proc/self/fd"))).encode()
    elif path.startswith("/hash/"):
        n = int(path[len("/hash/"):])
        h = hashlib.sha256()
        total = 0
        while True:
            part = stream.read(n)
            assert len(part) <= n
            if not part:
                break
            h.update(part)
            total += len(part)
        body = json.dumps({"sha256": h.hexdigest(), "length": total}).encode()
    elif path.startswith("/lines/"):
        n = int(path[len("/lines/"):])
        lengths = []
        h = hashlib.sha256()
        while True:
            line = stream.readline(n) if n >= 0 else stream.readline()
            if not line:
                break
            assert n < 0 or len(line) <= n
            assert b"\n" not in line[:-1]
            h.update(line)
            lengths.append(len(line))
        body = json.dumps({"lengths": lengths, "sha256": h.hexdigest()}).encode()
    elif path == "/spool":
        links = spool_links()
        length = len(stream.read())
        body = json.dumps({"links": links, "length": length}).encode()
    else:
        start_response("404 Not Found", [("Content-Length", "0")])
        return []
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
