"""The command line: gunicorn's options, --check-config, --print-config,
-e, -n, -p, errors."""
import json
import os
import socket
import subprocess

import pytest

from conftest import APPS, get, read_response, request, under_wrapper, unitcorn_binary


def run(*args):
    return subprocess.run([unitcorn_binary(), *args], capture_output=True, text=True, timeout=60)


def test_check_config_ok():
    r = run("--check-config", "--chdir", APPS, "hello:app")
    assert r.returncode == 0, r.stderr


def test_check_config_broken_module():
    r = run("--check-config", "--chdir", APPS, "broken:app")
    assert r.returncode == 1
    assert "broken on purpose" in r.stderr and "Traceback" in r.stderr


def test_check_config_missing_attribute():
    r = run("--check-config", "--chdir", APPS, "hello:nope")
    assert r.returncode == 1 and "Failed to find attribute 'nope'" in r.stderr


def test_check_config_pythonpath():
    r = run("--check-config", "--pythonpath", APPS, "flaskapp:app")
    assert r.returncode == 0, r.stderr


def test_unknown_option_is_named():
    r = run("--bogus-option", "hello:app")
    assert r.returncode != 0 and "--bogus-option" in r.stderr


def test_unknown_short_option_is_named():
    r = run("-Z", "hello:app")
    assert r.returncode != 0 and "-Z" in r.stderr


def test_bad_workers_value():
    r = run("-w", "zero", "hello:app")
    assert r.returncode != 0 and "workers" in r.stderr


@pytest.mark.parametrize("opt,value", [("--limit-request-body", "-1"), ("--limit-request-body", " 5"),
                                       ("--limit-request-body", "1e9"), ("--keep-alive", "two"),
                                       ("--header-timeout", "-3")])
def test_bad_timeout_and_limit_values(opt, value):
    r = run(opt, value, "hello:app")
    assert r.returncode != 0 and opt in r.stderr and "invalid value" in r.stderr


def test_no_app():
    r = run("-w", "2")
    assert r.returncode != 0 and "No application module specified" in r.stderr


def test_version():
    r = run("--version")
    assert r.returncode == 0 and r.stdout.startswith("unitcorn (version ")


def test_help_lists_options():
    r = run("--help")
    assert r.returncode == 0
    for opt in ("--bind", "--workers", "--chdir", "--pythonpath", "--timeout", "--check-config",
                "--keep-alive", "--header-timeout", "--limit-request-body", "--env", "--name", "--pid",
                "--forwarded-allow-ips", "--virtualenv", "--print-config"):
        assert opt in r.stdout


def print_config(*args, **kwargs):
    r = subprocess.run([unitcorn_binary(), "--print-config", *args], capture_output=True, text=True,
                       timeout=60, **kwargs)
    settings = {}
    for line in r.stdout.splitlines():
        k, sep, v = line.partition(" = ")
        assert sep, line
        settings[k.rstrip()] = v
    return r, settings


def test_print_config_format():
    """gunicorn's Config.__str__: every setting, sorted, names padded to the
    longest, then ' = ' and str() of the value; hooks as <qualname()>."""
    r, settings = print_config("--chdir", APPS, "-w", "3", "-b", "127.0.0.1:9999", "-b", "unix:/tmp/x.sock",
                               "hello:app")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    keys = [line.split(" ")[0] for line in lines]
    assert keys == sorted(keys)
    assert len({line.index(" = ") for line in lines}) == 1
    assert max(len(k) for k in keys) == lines[0].index(" = ")
    assert settings["workers"] == "3"
    assert settings["bind"] == "['127.0.0.1:9999', 'unix:/tmp/x.sock']"
    assert settings["on_starting"] == "<OnStarting.on_starting()>"
    assert settings["pre_fork"] == "<Prefork.pre_fork()>"
    assert settings["timeout"] == "30" and settings["keepalive"] == "2" and settings["preload_app"] == "False"
    assert settings["forwarded_allow_ips"] == "['127.0.0.1', '::1']"
    assert settings["chdir"] == APPS and settings["default_proc_name"] == "hello:app"
    assert settings["pidfile"] == "None" and settings["proc_name"] == "None" and settings["raw_env"] == "[]"
    assert settings["loglevel"] == "info" and settings["errorlog"] == "-" and settings["accesslog"] == "None"
    assert settings["access_log_format"] == '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"'


def test_print_config_all_sources(tmp_path):
    """Command line over config file over environment."""
    conf = tmp_path / "c.py"
    conf.write_text("workers = 2\ntimeout = 99\nraw_env = ['A=1']\n"
                    "def when_ready(server):\n    pass\n")
    env = dict(os.environ, WEB_CONCURRENCY="5", FORWARDED_ALLOW_IPS="10.0.0.1, 10.1.0.0/16")
    r, settings = print_config("-c", str(conf), "--chdir", APPS, "-t", "7", "-n", "nm", "-p", "/run/x.pid",
                               "hello:app", env=env)
    assert r.returncode == 0, r.stderr
    assert settings["workers"] == "2" and settings["timeout"] == "7"
    assert settings["raw_env"] == "['A=1']" and settings["proc_name"] == "nm"
    assert settings["pidfile"] == "/run/x.pid" and settings["config"] == str(conf)
    assert settings["when_ready"] == "<when_ready()>"
    assert settings["forwarded_allow_ips"] == "['10.0.0.1', '10.1.0.0/16']"


def test_print_config_logging_settings(tmp_path):
    conf = tmp_path / "c.py"
    conf.write_text("loglevel = 'DEBUG'\naccesslog = '-'\n")
    r, settings = print_config("-c", str(conf), "--chdir", APPS, "--access-logformat", "%(s)s", "--error-logfile",
                               str(tmp_path / "e.log"), "hello:app")
    assert r.returncode == 0, r.stderr
    assert settings["loglevel"] == "debug" and settings["accesslog"] == "-"
    assert settings["access_log_format"] == "%(s)s" and settings["errorlog"] == str(tmp_path / "e.log")


def test_print_config_checks_the_app():
    """As gunicorn: printed, then the app is imported; 1 if it fails."""
    r, settings = print_config("--chdir", APPS, "broken:app")
    assert r.returncode == 1 and "broken on purpose" in r.stderr
    assert settings["wsgi_app"] == "broken:app"


def test_env_option_reaches_the_app(start_server):
    s = start_server("osenv:app", args=("-e", "UNITCORN_T1=one", "--env", "UNITCORN_T2=a=b", "-e", "UNITCORN_T3="))
    env = json.loads(get(s).body)["environ"]
    assert env["UNITCORN_T1"] == "one" and env["UNITCORN_T2"] == "a=b" and env["UNITCORN_T3"] == ""


def test_env_on_command_line_replaces_the_files(start_server, tmp_path):
    conf = tmp_path / "c.py"
    conf.write_text("raw_env = ['UNITCORN_FILE=1', 'UNITCORN_BOTH=file']\n")
    s = start_server("osenv:app", args=("-c", str(conf), "-e", "UNITCORN_BOTH=cmdline"))
    env = json.loads(get(s).body)["environ"]
    assert env["UNITCORN_BOTH"] == "cmdline" and "UNITCORN_FILE" not in env


def test_env_without_equals_is_an_error(tmp_path):
    r = run("-e", "JUSTANAME", "--chdir", APPS, "hello:app")
    assert r.returncode == 2 and "'JUSTANAME' is not KEY=VALUE" in r.stderr
    conf = tmp_path / "c.py"
    conf.write_text("raw_env = ['NOPE']\n")
    r = run("-c", str(conf), "--chdir", APPS, "hello:app")
    assert r.returncode == 2 and "setting 'raw_env': 'NOPE' is not KEY=VALUE" in r.stderr


def cmdline(pid):
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        return f.read().rstrip(b"\0").decode()


def comm(pid):
    with open(f"/proc/{pid}/comm") as f:
        return f.read().rstrip("\n")


def worker_pids(pid):
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return [int(p) for p in f.read().split()]


@under_wrapper      # /proc/PID/cmdline: valgrind's process has its own
@pytest.mark.parametrize("args,name", [((), "hello:app"), (("-n", "shop"), "shop"), (("--name", "x y"), "x y")])
def test_process_titles(start_server, args, name):
    s = start_server("hello:app", args=args)
    master = s.proc.pid
    assert cmdline(master) == f"unitcorn: master [{name}]"
    assert comm(master) == "unitcorn: maste"          # the title's first 15 bytes, as setproctitle
    worker = int(get(s, "/pid").body)
    assert worker in worker_pids(master)
    assert cmdline(worker) == f"unitcorn: worker [{name}]"


def test_pidfile_written_and_removed(start_server, tmp_path):
    pidfile = tmp_path / "run" / "app.pid"
    pidfile.parent.mkdir()
    pidfile.write_text("999999999\n")           # stale: no such process, replaced
    s = start_server("hello:app", args=("-p", str(pidfile)))
    assert pidfile.read_text() == f"{s.proc.pid}\n"
    assert oct(pidfile.stat().st_mode & 0o777) == "0o644"
    assert s.stop() == 0
    assert not pidfile.exists()
    assert os.listdir(pidfile.parent) == []    # no temporary file left


def test_pidfile_relative_to_chdir(start_server, tmp_path):
    s = start_server("hello:app", args=("--chdir", str(tmp_path), "--pythonpath", APPS, "--pid", "rel.pid"))
    assert (tmp_path / "rel.pid").read_text() == f"{s.proc.pid}\n"


def test_pidfile_of_a_running_process_is_refused(tmp_path):
    pidfile = tmp_path / "app.pid"
    pidfile.write_text(f"{os.getpid()}\n")     # this test runner: alive
    r = run("-p", str(pidfile), "-b", "127.0.0.1:0", "--chdir", APPS, "hello:app")
    assert r.returncode == 1
    assert f"Already running on PID {os.getpid()}" in r.stderr
    assert pidfile.read_text() == f"{os.getpid()}\n"


def test_pidfile_in_missing_directory(tmp_path):
    r = run("-p", str(tmp_path / "nodir" / "app.pid"), "-b", "127.0.0.1:0", "--chdir", APPS, "hello:app")
    assert r.returncode == 1 and "Failed to create pid file" in r.stderr


def scheme_environ(s, headers, host="localhost"):
    r = request(s, f"GET /environ HTTP/1.1\r\nHost: {host}\r\n{headers}Connection: close\r\n\r\n".encode())
    assert r.status == 200, r.status
    return json.loads(r.body)


def test_forwarded_proto_from_a_trusted_peer(start_server):
    """127.0.0.1 is trusted by default: gunicorn's secure_scheme_headers
    set the scheme (and the default port); REMOTE_ADDR stays the peer."""
    s = start_server("hello:app")
    e = scheme_environ(s, "X-Forwarded-Proto: https\r\nX-Forwarded-For: 203.0.113.9\r\n")
    assert e["wsgi.url_scheme"] == "https" and e["SERVER_PORT"] == "443"
    assert e["REMOTE_ADDR"] == "127.0.0.1"
    assert scheme_environ(s, "X-Forwarded-Ssl: on\r\n")["wsgi.url_scheme"] == "https"
    assert scheme_environ(s, "X-Forwarded-Protocol: ssl\r\n")["wsgi.url_scheme"] == "https"
    assert scheme_environ(s, "X-Forwarded-Proto: http\r\n")["wsgi.url_scheme"] == "http"
    e = scheme_environ(s, "")
    assert e["wsgi.url_scheme"] == "http" and e["SERVER_PORT"] == "80"


def test_contradictory_scheme_headers_are_a_400(start_server):
    s = start_server("hello:app")
    r = request(s, b"GET / HTTP/1.1\r\nHost: x\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Ssl: off\r\n\r\n")
    assert r.status == 400


@pytest.mark.parametrize("args,env,scheme", [
    (("--forwarded-allow-ips", "10.0.0.1"), {}, "http"),
    (("--forwarded-allow-ips", "10.0.0.1, 127.0.0.0/8"), {}, "https"),
    (("--forwarded-allow-ips", "*"), {}, "https"),
    (("--forwarded-allow-ips", "::1"), {}, "http"),
    ((), {"FORWARDED_ALLOW_IPS": "192.0.2.1"}, "http"),
    ((), {"FORWARDED_ALLOW_IPS": "127.0.0.1"}, "https"),
    (("--forwarded-allow-ips", "127.0.0.1"), {"FORWARDED_ALLOW_IPS": "192.0.2.1"}, "https"),
])
def test_forwarded_allow_ips(start_server, args, env, scheme):
    s = start_server("hello:app", args=args, env=env)
    e = scheme_environ(s, "X-Forwarded-Proto: https\r\n")
    assert e["wsgi.url_scheme"] == scheme
    assert e["REMOTE_ADDR"] == "127.0.0.1"


def test_forwarded_allow_ips_from_config_file(start_server, tmp_path):
    conf = tmp_path / "c.py"
    conf.write_text("forwarded_allow_ips = '192.0.2.7'\n")
    s = start_server("hello:app", args=("-c", str(conf)))
    assert scheme_environ(s, "X-Forwarded-Proto: https\r\n")["wsgi.url_scheme"] == "http"


def test_unix_socket_peer_is_trusted(start_server, tmp_path):
    """As gunicorn: a peer that is not an IP address (a local front end on
    a UNIX socket) may set the scheme whatever the list says."""
    path = str(tmp_path / "s.sock")
    start_server("hello:app", args=("-b", f"unix:{path}", "--forwarded-allow-ips", "192.0.2.1"),
                 activate=False)
    with socket.socket(socket.AF_UNIX) as c:
        c.connect(path)
        c.sendall(b"GET /environ HTTP/1.1\r\nHost: x\r\nX-Forwarded-Proto: https\r\nConnection: close\r\n\r\n")
        r = read_response(c.makefile("rb"))
    assert json.loads(r.body)["wsgi.url_scheme"] == "https"


@pytest.mark.parametrize("value", ["localhost", "10.0.0.1/33", "10.0.0.300", "::1/129", "1.2.3.4/"])
def test_bad_forwarded_allow_ips(value):
    r = run("--forwarded-allow-ips", value, "--chdir", APPS, "hello:app")
    assert r.returncode == 2
    assert "--forwarded-allow-ips:" in r.stderr and "is not an IP address or network" in r.stderr
