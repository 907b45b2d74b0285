"""A small HTTP load generator, run inside the box (its own network
namespace) by test_e2e_gunicorn.py: several threads, each sending GET /
on a keep-alive connection, until stdin closes.

Usage: python3 -c "$(cat loadclient.py)" PORT THREADS

stdout, one line each, flushed:
  ready                    every thread has had one answer
  seen VERSION PID         the first answer of the app at VERSION from worker PID
  {json}                   at the end: the counts below

A request sent on a reused keep-alive connection that the server closed
without answering (RemoteDisconnected, a reset or a broken pipe on a
connection that had already served a request) is sent again on a new
connection, as HTTP clients do for idempotent requests (RFC 9112 9.3.1):
counted in "retried", not as a failure.  Everything else that is not a
200 with the app's body is a failure: a refused connection (counted in
"refused" too), a reset or close of a new connection, a timeout, another
status.
"""

import http.client
import json
import sys
import threading
import time

port, nthreads = int(sys.argv[1]), int(sys.argv[2])
stop = threading.Event()
lock = threading.Lock()
ready = threading.Barrier(nthreads + 1)
stats = {"ok": 0, "retried": 0, "refused": 0, "failed": [], "max_ms": 0}
seen = set()


def say(line):
    with lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def answered(body, ms):
    words = body.split()
    key = (words[2], words[5]) if len(words) == 6 and words[:2] == ["e2e", "app"] else None
    with lock:
        stats["ok"] += 1
        stats["max_ms"] = max(stats["max_ms"], ms)
        new = key is not None and key not in seen
        seen.add(key)
    if key is None:
        fail("unexpected body %r" % body)
    elif new:
        say("seen %s %s" % key)


def fail(what):
    with lock:
        stats["failed"].append(what)


def run():
    conn, served, first = None, 0, True
    while not stop.is_set():
        if conn is None:
            conn, served = http.client.HTTPConnection("127.0.0.1", port, timeout=60), 0
        t0 = time.monotonic()
        try:
            conn.request("GET", "/", headers={"User-Agent": "e2e-load/1"})
            r = conn.getresponse()
            body = r.read().decode()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as e:
            conn.close()
            conn = None
            if served:
                with lock:
                    stats["retried"] += 1
            else:
                fail("%s on a new connection: %s" % (type(e).__name__, e))
            continue
        except Exception as e:
            conn.close()
            conn = None
            if isinstance(e, ConnectionRefusedError):
                with lock:
                    stats["refused"] += 1
            fail("%s: %s" % (type(e).__name__, e))
            continue
        served += 1
        if r.status != 200:
            fail("status %d" % r.status)
        else:
            answered(body, int((time.monotonic() - t0) * 1000))
        if r.will_close:
            conn.close()
            conn = None
        if first:
            first = False
            ready.wait()
    if conn is not None:
        conn.close()


threads = [threading.Thread(target=run) for _ in range(nthreads)]
for t in threads:
    t.start()
ready.wait()
say("ready")
sys.stdin.read()
stop.set()
for t in threads:
    t.join()
say(json.dumps(stats))
