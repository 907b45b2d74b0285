"""--max-requests (+ --max-requests-jitter) and --preload (DESIGN §4.1/§4.5).
Every wait is for an event (a response, READY=1, the process's exit)."""
import itertools
import subprocess

from conftest import APPS, get, read_response, unitcorn_binary


def pids(srv, n):
    """n sequential requests, each on a fresh connection: the serving pids."""
    out = []
    for _ in range(n):
        r = get(srv)
        assert r.status == 200, (r.status, r.body)
        out.append(int(r.body.split()[0]))
    return out


def runs(seq):
    """[(value, length of its run)] for consecutive equal values."""
    return [(k, len(list(g))) for k, g in itertools.groupby(seq)]


def test_max_requests_replaces_the_worker_every_n(start_server):
    srv = start_server("recycle:app", ["--max-requests", "3"])
    served = pids(srv, 10)
    groups = runs(served)
    assert [n for _, n in groups] == [3, 3, 3, 1], served
    assert len({p for p, _ in groups}) == 4, served     # a new process each time
    out = srv.output()
    assert out.count("exited after --max-requests") == 3, out
    assert "respawning" not in out                       # not taken for a crash


def test_max_requests_last_response_closes(start_server):
    """The last request on a keep-alive connection gets Connection: close."""
    srv = start_server("recycle:app", ["--max-requests", "2", "--keep-alive", "30"])
    with srv.connect() as s:
        f = s.makefile("rb")
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        first = read_response(f)
        assert first.header("Connection") is None
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        second = read_response(f)
        assert second.header("Connection") == "close"
        assert first.body == second.body
        assert f.read() == b""
    assert int(get(srv).body.split()[0]) != int(first.body.split()[0])


def test_max_requests_jitter_bounds(start_server):
    srv = start_server("recycle:app", ["--max-requests", "3", "--max-requests-jitter", "2"])
    served = pids(srv, 40)
    groups = runs(served)
    assert len({p for p, _ in groups}) == len(groups), served
    for _, n in groups[:-1]:                 # the last worker is still serving
        assert 3 <= n <= 5, (groups, served)
    assert groups[-1][1] <= 5, served


def test_without_preload_the_worker_imports(start_server):
    srv = start_server("recycle:app")
    pid, imported = map(int, get(srv).body.split())
    assert pid == imported
    assert pid != srv.proc.pid


def test_preload_imports_in_the_master(start_server):
    srv = start_server("recycle:app", ["--preload", "-w", "2"])
    for _ in range(4):
        pid, imported = map(int, get(srv).body.split())
        assert imported == srv.proc.pid     # bash exec'd unitcorn: same pid
        assert pid != imported


def test_preload_with_max_requests(start_server):
    srv = start_server("recycle:app", ["--preload", "--max-requests", "1"])
    seen = set()
    for _ in range(3):
        pid, imported = map(int, get(srv).body.split())
        assert imported == srv.proc.pid
        seen.add(pid)
    assert len(seen) == 3


def test_preload_broken_app_exits_before_forking():
    r = subprocess.run([unitcorn_binary(), "--preload", "--chdir", APPS, "-b", "127.0.0.1:0", "broken:app"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode != 0
    assert "Traceback" in r.stderr and "broken on purpose" in r.stderr, r.stderr
    assert "Booting worker" not in r.stderr, r.stderr
