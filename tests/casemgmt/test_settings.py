"""Production settings: `check --deploy` clean; nothing insecure by default."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def production_env(tmp_path, **extra) -> dict:
    key = lambda: base64.b64encode(os.urandom(32)).decode()  # noqa: E731
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CASEMGMT_", "DJANGO_", "SECURE_", "DEBUG"))}
    env.update(
        DJANGO_SETTINGS_MODULE="casemgmt.settings",
        SECRET_KEY=base64.b64encode(os.urandom(48)).decode(),
        ALLOWED_HOSTS="cases.example.org",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        CASEMGMT_VAR_DIR=str(tmp_path),
        CASEMGMT_KEKS=f"kek-1:{key()}",
        CASEMGMT_ACTIVE_KEK="kek-1",
        CASEMGMT_INDEX_KEYS=f"idx-1:{key()}",
        CASEMGMT_ACTIVE_INDEX_KEY="idx-1",
        CASEMGMT_AUDIT_KEY=key(),
    )
    env.update(extra)
    return env


def manage(env, *args):
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    result = manage(production_env(tmp_path), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr + result.stdout
    assert "System check identified no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    env = production_env(tmp_path)
    del env["SECRET_KEY"]
    result = manage(env, "check")
    assert result.returncode != 0
    assert "SECRET_KEY (or SECRET_KEY_FILE) must be set" in result.stderr


def test_secret_key_can_come_from_a_file(tmp_path):
    env = production_env(tmp_path)
    secret_file = tmp_path / "secret"
    secret_file.write_text(env.pop("SECRET_KEY"))
    env["SECRET_KEY_FILE"] = str(secret_file)
    result = manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr


def test_missing_keys_stop_the_start_with_a_clear_message(tmp_path):
    env = production_env(tmp_path)
    del env["CASEMGMT_KEKS"]
    result = manage(env, "check")
    assert result.returncode != 0
    assert "casemgmt.E001" in result.stderr
    assert "No key-encryption key is configured" in result.stderr


@pytest.mark.parametrize("value", ["maybe", "2"])
def test_a_malformed_boolean_is_refused(tmp_path, value):
    result = manage(production_env(tmp_path, DEBUG=value), "check")
    assert result.returncode != 0
    assert "DEBUG must be true or false" in result.stderr
