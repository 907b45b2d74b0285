"""An app whose import blocks until the test lets it go: each importing
process reads one byte from the FIFO named by $UNITCORN_TEST_GATE (the
test holds it open and writes one byte per import it releases)."""
import os

fd = os.open(os.environ["UNITCORN_TEST_GATE"], os.O_RDONLY)
os.read(fd, 1)
os.close(fd)


def app(environ, start_response):
    body = str(os.getpid()).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
