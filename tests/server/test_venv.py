"""Virtualenvs: --virtualenv DIR and $VIRTUAL_ENV make the app see the
venv's site-packages as the venv's own python would (python.h), with a
real venv made by Debian's python3-venv (no network: --without-pip)."""
import json
import os
import subprocess
import sys

import pytest

from conftest import APPS, get, unitcorn_binary

VERSION = f"python{sys.version_info.major}.{sys.version_info.minor}"

APP = '''
import json, sys
import venv_only_module

def app(environ, start_response):
    try:
        import flask
        system_packages = True
    except ImportError:
        system_packages = False
    body = json.dumps({"value": venv_only_module.VALUE, "prefix": sys.prefix,
                       "system_packages": system_packages, "argv": sys.argv}).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]
'''


@pytest.fixture(scope="module")
def venv(tmp_path_factory):
    """A venv holding a module nothing else has, and an app dir importing it."""
    base = tmp_path_factory.mktemp("venv")
    path = base / "env"
    subprocess.run(["/usr/bin/python3", "-m", "venv", "--without-pip", str(path)], check=True, timeout=120)
    site = path / "lib" / VERSION / "site-packages"
    assert site.is_dir()
    (site / "venv_only_module.py").write_text("VALUE = 'from the venv'\n")
    app_dir = base / "app"
    app_dir.mkdir()
    (app_dir / "venvapp.py").write_text(APP)
    return path, app_dir


def run(*args, env=None):
    environ = dict(os.environ)
    environ.pop("VIRTUAL_ENV", None)
    environ.update(env or {})
    return subprocess.run([unitcorn_binary(), *args], capture_output=True, text=True, timeout=60, env=environ)


def test_app_needs_the_venv(venv):
    """Without the venv the module is not importable: the tests below prove
    something."""
    path, app_dir = venv
    r = run("--check-config", "--chdir", str(app_dir), "venvapp:app")
    assert r.returncode == 1 and "No module named 'venv_only_module'" in r.stderr


@pytest.mark.parametrize("how", ["option", "environment"])
def test_app_served_from_the_venv(start_server, venv, how):
    path, app_dir = venv
    if how == "option":
        s = start_server("venvapp:app", args=("--chdir", str(app_dir), "--virtualenv", str(path)),
                         env={"VIRTUAL_ENV": ""})
    else:
        s = start_server("venvapp:app", args=("--chdir", str(app_dir)), env={"VIRTUAL_ENV": str(path)})
    r = get(s)
    assert r.status == 200
    facts = json.loads(r.body)
    assert facts["value"] == "from the venv"
    assert facts["prefix"] == str(path)               # as the venv's own python
    assert facts["system_packages"] is False          # include-system-site-packages = false
    assert facts["argv"] == ["venvapp:app"]


def test_venv_with_a_config_file(venv, tmp_path):
    """The -c file runs in the venv's interpreter too: it can import from it."""
    path, app_dir = venv
    conf = tmp_path / "c.py"
    conf.write_text("import venv_only_module\nworkers = 2\n")
    r = run("--check-config", "-c", str(conf), "--virtualenv", str(path), "--chdir", str(app_dir), "venvapp:app")
    assert r.returncode == 0, r.stderr


def test_print_config_shows_the_venv(venv):
    path, app_dir = venv
    r = run("--print-config", "--chdir", str(app_dir), "venvapp:app", env={"VIRTUAL_ENV": str(path)})
    assert r.returncode == 0, r.stderr
    assert f"virtualenv               = {path}\n" in r.stdout


def test_not_a_venv(tmp_path):
    r = run("--check-config", "--virtualenv", str(tmp_path), "--chdir", APPS, "hello:app")
    assert r.returncode == 2
    assert f"'{tmp_path}' is not a virtualenv: it has no pyvenv.cfg" in r.stderr


def test_venv_env_not_a_venv(tmp_path):
    r = run("--check-config", "--chdir", APPS, "hello:app", env={"VIRTUAL_ENV": str(tmp_path / "gone")})
    assert r.returncode == 2 and "is not a directory" in r.stderr


def test_venv_of_another_python(tmp_path):
    (tmp_path / "pyvenv.cfg").write_text("home = /opt/python3.99/bin\nversion = 3.99.0\n")
    (tmp_path / "bin").mkdir()
    os.symlink("/usr/bin/python3", tmp_path / "bin" / "python3")
    (tmp_path / "lib" / "python3.99" / "site-packages").mkdir(parents=True)
    r = run("--check-config", "--virtualenv", str(tmp_path), "--chdir", APPS, "hello:app")
    assert r.returncode == 2
    assert "was made for another Python" in r.stderr and VERSION[len("python"):] in r.stderr
