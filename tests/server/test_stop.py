"""The fast stop (SIGINT, SIGQUIT; gunicorn's "quick shutdown"): STOPPING=1,
a worker finishes the request running in the app and exits, idle
connections are closed, the master exits 0.  The graceful stop (SIGTERM)
is in test_lifecycle.py and test_faults.py."""
import os
import signal

import pytest

from conftest import read_response

WAIT = 30


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGQUIT], ids=["SIGINT", "SIGQUIT"])
def test_fast_stop_finishes_the_running_request(start_server, tmp_path, sig):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    srv = start_server("lifecycle:app", ["--keep-alive", "30", "--timeout", "0"])
    idle = srv.connect()
    idle.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    idle_f = idle.makefile("rb")
    assert read_response(idle_f).body == b"hello"
    with srv.connect() as s:
        s.sendall(f"GET /block?{fifo} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        with open(fifo, "wb") as w:          # the request is in the app
            srv.proc.send_signal(sig)
            srv.notify.wait_for("STOPPING=1")
            w.write(b"finished")
        r = read_response(s.makefile("rb"))
        assert r.status == 200 and r.body == b"finished"
    assert idle_f.read() == b""              # closed, not served again
    idle.close()
    assert srv.proc.wait(timeout=WAIT) == 0
    name = "int" if sig == signal.SIGINT else "quit"
    assert f"Handling signal: {name}" in srv.output()


def test_fast_stop_when_idle_is_quick(start_server):
    srv = start_server("hello:app", ["-w", "2", "--graceful-timeout", "60"])
    srv.proc.send_signal(signal.SIGINT)
    # well within --graceful-timeout: nothing waits for it
    assert srv.proc.wait(timeout=10) == 0
    srv.notify.wait_for("STOPPING=1")
