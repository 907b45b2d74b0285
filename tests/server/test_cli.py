"""The command line: gunicorn's options, --check-config, errors."""
import subprocess

import pytest

from conftest import APPS, unitcorn_binary


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
                "--keep-alive", "--header-timeout", "--limit-request-body"):
        assert opt in r.stdout
