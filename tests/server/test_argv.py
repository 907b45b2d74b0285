"""gunicorn parity for apps that read sys.argv: under gunicorn an app's
strict argparse would see gunicorn's options and exit; under unitcorn it
sees only the app spec (sys.argv == [spec]), whatever options, config
file or --preload were given (test_wsgi.py has the lenient
parse_known_args() case)."""
import json
import subprocess

import pytest

from conftest import APPS, get, unitcorn_binary

DEFAULTS = {"workers": "app-default", "bind": "app-default", "timeout": "app-default"}


@pytest.mark.parametrize("extra", [[], ["--preload"]], ids=["import-in-worker", "preload"])
def test_strict_argparse_sees_only_the_app_spec(start_server, tmp_path, extra):
    conf = tmp_path / "gunicorn.conf.py"
    conf.write_text("workers = 2\ntimeout = 20\n")
    srv = start_server("argv_strict:app", ["-c", str(conf), "-w", "2", "--timeout", "10", "--keep-alive", "5",
                                           "--max-requests", "1000", *extra])
    seen = json.loads(get(srv).body)
    assert seen == {"argv": ["argv_strict:app"], "argparse": DEFAULTS,
                    "optparse": {"config": "app-default"}, "rest": []}
    assert "error:" not in srv.output()


def test_strict_argparse_in_check_config():
    r = subprocess.run([unitcorn_binary(), "--check-config", "--chdir", APPS, "-w", "3", "-b", "127.0.0.1:1",
                        "argv_strict:app"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
