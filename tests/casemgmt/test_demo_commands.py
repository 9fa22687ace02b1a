"""The demo accounts of ``make run`` (manage.py seed_demo) and their codes (``make code``, manage.py demo_code)."""

from __future__ import annotations

import base64
import io
import json
import logging

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client as Browser
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from casemgmt.models import AuditEvent, Membership, Organisation

pytestmark = pytest.mark.django_db

# The table of README.md's "Demo accounts": user, role, organisation; and whether a code is asked after the password.
DEMO_ACCOUNTS = [
    ("counsellor", "counsellor", "Demo Treatment Centre Phnom Penh", True),
    ("manager", "centre_manager", "Demo Treatment Centre Phnom Penh", True),
    ("counsellor.battambang", "counsellor", "Demo Treatment Centre Battambang", True),
    ("prison.counsellor", "counsellor", "Demo Prison Health Unit Kandal", True),
    ("partner", "referral_officer", "Demo NGO Partner Health Access", True),
    ("reviewer", "moh_reviewer", "Demo Ministry of Health", False),
    ("reviewer.battambang", "moh_reviewer", "Demo Ministry of Health", False),  # Battambang's figures only
    ("auditor", "auditor", "Demo Ministry of Health", False),
    ("admin", "system_administrator", "Demo Ministry of Health", True),
]


@pytest.fixture
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path  # each test (and each pytest -n worker) keeps its own credentials file
    return tmp_path


def seed_demo() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def printed_accounts(output: str) -> dict[str, dict]:
    """The rows of the printed table: user, password, role, TOTP secret ("-" without one)."""
    rows = {}
    lines = output.splitlines()
    start = next(n for n, line in enumerate(lines) if line.split()[:2] == ["user", "password"]) + 1
    for line in lines[start:]:
        fields = line.split()
        if len(fields) != 4:
            break
        username, password, role, secret = fields
        rows[username] = {"password": password, "role": role, "secret": None if secret == "-" else secret}
    return rows


def code_from_secret(secret: str) -> str:
    """What an authenticator app shows for a base32 secret typed into it."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    return f"{TOTP(key).token():06d}"


def demo_code(username: str) -> str:
    out = io.StringIO()
    call_command("demo_code", username, stdout=out)
    return out.getvalue()


def test_seed_demo_prints_one_account_per_role_that_signs_in(var_dir):
    accounts = printed_accounts(seed_demo())

    assert [(u, accounts[u]["role"]) for u, *_ in DEMO_ACCOUNTS] == [(u, role) for u, role, *_ in DEMO_ACCOUNTS]
    for username, role, organisation, two_factor in DEMO_ACCOUNTS:
        browser = Browser()
        response = browser.post(reverse("signin"), {"username": username, "password": accounts[username]["password"]})
        assert response.status_code == 302, username
        if two_factor:
            assert browser.get(reverse("home")).url.startswith(reverse("otp_verify"))
            response = browser.post(reverse("otp_verify"),
                                    {"token": code_from_secret(accounts[username]["secret"]), "next": "/"})
            assert response.status_code == 302, username
        else:
            assert accounts[username]["secret"] is None
        home = browser.get(reverse("home"))
        assert home.status_code == 200, username
        assert f"{username} · {Membership.objects.get(user__username=username).get_role_display()} · {organisation}" \
            in home.content.decode()
        assert Membership.objects.filter(user__username=username, role=role,
                                         organisation__name=organisation).exists()


def test_seed_demo_run_again_changes_nothing_and_restores_a_changed_password(var_dir):
    first = seed_demo()
    counts = [model.objects.count() for model in (get_user_model(), Membership, Organisation, TOTPDevice)]
    counsellor = get_user_model().objects.get(username="counsellor")
    counsellor.set_password("someone changed it")
    counsellor.save()

    second = seed_demo()

    assert second == first
    assert [model.objects.count() for model in (get_user_model(), Membership, Organisation, TOTPDevice)] == counts
    password = printed_accounts(first)["counsellor"]["password"]
    assert Browser().post(reverse("signin"), {"username": "counsellor", "password": password}).status_code == 302


def test_seed_demo_keeps_the_credentials_in_a_private_file_and_nowhere_else(var_dir, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    output = seed_demo()
    accounts = printed_accounts(output)
    secrets_printed = [a["password"] for a in accounts.values()] + [a["secret"] for a in accounts.values()
                                                                     if a["secret"]]

    path = var_dir / "demo-credentials.json"
    assert path.stat().st_mode & 0o777 == 0o600
    saved = json.loads(path.read_text())
    assert {username: entry["password"] for username, entry in saved.items()} == {
        username: account["password"] for username, account in accounts.items()}
    trail = json.dumps(list(AuditEvent.objects.values()), default=str)
    stored_passwords = " ".join(get_user_model().objects.values_list("password", flat=True))
    captured = capsys.readouterr()
    for secret in secrets_printed:
        assert secret not in caplog.text
        assert secret not in trail
        assert secret not in stored_passwords  # hashed
        assert secret not in captured.err
    assert AuditEvent.objects.filter(actor_username="system: seed_demo").exists()


def test_seed_demo_refuses_to_run_outside_development(settings, var_dir):
    settings.DEVELOPMENT = False

    with pytest.raises(CommandError, match="only with CASEMGMT_DEVELOPMENT=1"):
        seed_demo()

    assert not get_user_model().objects.filter(username="counsellor").exists()
    assert list(var_dir.iterdir()) == []


@pytest.mark.parametrize("username", ["counsellor", "partner", "admin"])
def test_demo_code_prints_the_code_the_sign_in_accepts(var_dir, username):
    password = printed_accounts(seed_demo())[username]["password"]
    browser = Browser()
    browser.post(reverse("signin"), {"username": username, "password": password})

    code = demo_code(username).strip()

    assert len(code) == 6 and code.isdigit()
    response = browser.post(reverse("otp_verify"), {"token": code, "next": "/"})
    assert response.status_code == 302 and response.url == "/"
    assert browser.get(reverse("home")).status_code == 200


@pytest.mark.parametrize("username", ["reviewer", "auditor", "nobody"])
def test_demo_code_refuses_an_account_without_a_second_factor(var_dir, username):
    seed_demo()

    with pytest.raises(CommandError) as refused:
        demo_code(username)

    assert str(refused.value) == f"{username} is not a demo account with two-factor authentication."


def test_demo_code_before_seed_demo_says_there_is_no_such_account(var_dir):
    with pytest.raises(CommandError, match="counsellor is not a demo account"):
        demo_code("counsellor")


def test_demo_code_refuses_to_run_outside_development(settings, var_dir):
    seed_demo()
    settings.DEVELOPMENT = False

    with pytest.raises(CommandError, match="only with CASEMGMT_DEVELOPMENT=1"):
        demo_code("counsellor")
