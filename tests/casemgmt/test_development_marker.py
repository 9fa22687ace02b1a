"""A development checkout, marked by `make` in var/, runs manage.py by hand; production still refuses."""

from __future__ import annotations

from tests.casemgmt.test_settings import manage, production_env

SECRET_KEY_REFUSED = "SECRET_KEY (or SECRET_KEY_FILE) must be set outside development."
SHOW_MODE = (
    "from django.conf import settings as s; print(f'development={s.DEVELOPMENT} https={s.SECURE_SSL_REDIRECT} "
    "hsts={s.SECURE_HSTS_SECONDS} secure_cookies={s.SESSION_COOKIE_SECURE}')"
)


def checkout_env(tmp_path, **extra) -> dict:
    """A shell in a checkout, as a developer has it: nothing of production set; var/ is ``tmp_path``."""
    env = {k: v for k, v in production_env(tmp_path).items()
           if k not in {"SECRET_KEY", "ALLOWED_HOSTS"} and not k.startswith("CASEMGMT_")}
    return {**env, "CASEMGMT_VAR_DIR": str(tmp_path), **extra}


def mark(tmp_path) -> None:
    (tmp_path / "DEVELOPMENT").write_text("This checkout is for development.\n")


def test_without_the_marker_manage_py_refuses_to_start_without_a_secret_key(tmp_path):
    result = manage(checkout_env(tmp_path), "check")
    assert result.returncode != 0
    assert SECRET_KEY_REFUSED in result.stderr
    assert "run `make run` or `make test` once" in result.stderr  # and says what to do in a checkout
    assert not (tmp_path / "dev-secret-key").exists()


def test_a_marked_checkout_runs_manage_py_as_development(tmp_path):
    mark(tmp_path)
    env = checkout_env(tmp_path)
    result = manage(env, "generate_keys", "--output", str(tmp_path / "dev-keys.json"), "--if-missing")
    assert result.returncode == 0, result.stderr
    result = manage(env, "check")
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout
    assert (tmp_path / "dev-secret-key").exists()  # the development secret key, generated in var/


def test_an_explicit_production_setting_wins_over_the_marker(tmp_path):
    mark(tmp_path)
    result = manage(checkout_env(tmp_path, CASEMGMT_DEVELOPMENT="0"), "check")
    assert result.returncode != 0
    assert SECRET_KEY_REFUSED in result.stderr


def test_with_a_production_secret_key_the_marker_changes_nothing(tmp_path):
    mark(tmp_path)
    env = production_env(tmp_path)  # as a production has it: keys and secret key from the environment
    del env["ALLOWED_HOSTS"]
    result = manage(env, "shell", "-v", "0", "-c", SHOW_MODE)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["development=False", "https=True", "hsts=31536000", "secure_cookies=True"]
    result = manage({**env, "ALLOWED_HOSTS": "cases.example.org"}, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "dev-secret-key").exists()


def test_with_a_production_host_name_the_marker_changes_nothing(tmp_path):
    mark(tmp_path)
    result = manage(checkout_env(tmp_path, ALLOWED_HOSTS="cases.example.org"), "check")
    assert result.returncode != 0
    assert SECRET_KEY_REFUSED in result.stderr
