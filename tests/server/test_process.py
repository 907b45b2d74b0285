"""Processes and systemd: socket activation (every other test uses it too),
-b binding, sd_notify, SIGTERM, respawning a crashed worker."""
import os
import signal
import socket
import tempfile

from conftest import get, read_response


def test_ready_after_import(start_server, tmp_path):
    marker = tmp_path / "imported"
    srv = start_server("slowimport:app", env={"UNITCORN_TEST_MARKER": str(marker)})
    # READY=1 came (start_server waited for it): the module was imported
    assert marker.exists()
    assert any("STATUS=" in m for m in srv.notify.messages)
    assert get(srv).status == 200


def test_sigterm_exits_0_with_stopping(start_server):
    srv = start_server()
    assert get(srv).status == 200
    srv.proc.send_signal(signal.SIGTERM)
    assert srv.proc.wait(timeout=60) == 0
    srv.notify.wait_for("STOPPING=1")


def test_crashed_worker_is_respawned(start_server):
    srv = start_server()
    pid = int(get(srv, "/pid").body)
    os.kill(pid, signal.SIGKILL)
    # the listening socket stays open in the master: this connection waits
    # in the backlog until the new worker accepts it
    r = get(srv, "/pid")
    assert r.status == 200 and int(r.body) != pid
    assert "respawning" in srv.output()


def test_several_workers(start_server):
    srv = start_server("hello:app", ["-w", "2"])
    pids = set()
    for _ in range(2):
        pids.add(int(get(srv, "/pid").body))
    assert pids                      # served; which worker is up to the kernel
    assert srv.output().count("Booting worker") == 2


def test_web_concurrency(start_server):
    srv = start_server("hello:app", env={"WEB_CONCURRENCY": "2"})
    assert srv.output().count("Booting worker") == 2


def test_bind_unix_socket(start_server):
    d = tempfile.mkdtemp(prefix="uc")
    path = os.path.join(d, "s")
    srv = start_server("hello:app", ["-b", f"unix:{path}"], activate=False)
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(path)
        s.sendall(b"GET /environ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        r = read_response(s.makefile("rb"))
    assert r.status == 200
    assert srv.stop() == 0
    assert not os.path.exists(path)      # removed at exit
    os.rmdir(d)


def test_bind_tcp(start_server):
    with socket.socket() as probe:       # a port that was free a moment ago
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    srv = start_server("hello:app", ["-b", f"127.0.0.1:{port}", "-b", "[::1]:0"], activate=False)
    srv.port = port
    assert get(srv).status == 200
    assert "Listening at: [::1]:0" in srv.output()


def test_app_load_failure_stops_the_master(start_server):
    srv = start_server("broken:app", wait=False)
    assert srv.proc.wait(timeout=60) != 0
    assert "broken on purpose" in srv.output()
