"""An app that logs, for the logging tests (tests/server/test_logging.py,
tests/integration/test_server_journal.py).

/            200 "hello", with X-Out: out-value
/pid         the worker's pid
/raise       raises (a 500 and a traceback)
/log         Python logging records at each level, one with a traceback
/errors      print() to wsgi.errors: one message over several write() calls
/print       print() to stdout
/basic       logging.basicConfig(level=INFO), then an info record"""
import logging
import os
import sys

log = logging.getLogger("logapp")


def app(environ, start_response):
    path = environ["PATH_INFO"]
    body = b"hello"
    if path == "/pid":
        body = str(os.getpid()).encode()
    elif path == "/raise":
        raise ValueError("logapp failed on purpose")
    elif path == "/log":
        log.debug("logapp debug record")
        log.info("logapp info record")
        log.warning("logapp warning record %d", 4)
        log.error("logapp error record")
        log.critical("logapp critical record")
        try:
            1 / 0
        except ZeroDivisionError:
            log.exception("logapp caught an exception")
    elif path == "/errors":
        print("logapp to wsgi.errors", "in three words", file=environ["wsgi.errors"])
        environ["wsgi.errors"].write("logapp two\nlines\n")
    elif path == "/print":
        print("logapp print to stdout")
        sys.stdout.flush()
    elif path == "/basic":
        logging.basicConfig(level=logging.INFO)
        log.info("logapp info after basicConfig")
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body))),
                              ("X-Out", "out-value")])
    return [body]
