"""Signing in and out, two-factor authentication, lockout, idle sessions, refused accounts."""

from __future__ import annotations

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from casemgmt.middleware import IdleTimeoutMiddleware
from casemgmt.models import AuditEvent
from tests.conftest import PASSWORD, sign_in

pytestmark = pytest.mark.django_db


def code_for(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():06d}"


def actions(username: str) -> list[str]:
    return list(AuditEvent.objects.filter(actor_username=username).order_by("seq").values_list("action", flat=True))


def post_signin(client, username, password=PASSWORD, next_url=""):
    return client.post(reverse("signin"), {"username": username, "password": password, "next": next_url})


def test_signin_page_is_served_to_anonymous_users(client):
    response = client.get(reverse("signin"))
    assert response.status_code == 200
    assert b'name="username"' in response.content
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")


def test_counsellor_signs_in_with_password_then_totp(client, alice):
    response = post_signin(client, "alice")
    assert response.status_code == 302
    # The password alone does not open any page: the second factor is asked for.
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("otp_verify"))

    device = TOTPDevice.objects.get(user=alice)
    response = client.post(reverse("otp_verify"), {"token": "000000", "next": "/"})
    assert response.status_code == 200
    assert b"That code is not right" in response.content

    device.refresh_from_db()
    device.throttling_failure_count = 0
    device.throttling_failure_timestamp = None
    device.save()
    response = client.post(reverse("otp_verify"), {"token": code_for(device), "next": "/"})
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 200
    trail = actions("alice")
    assert trail.index("signin") < trail.index("otp_failed") < trail.index("otp_verified")


def test_first_signin_enrols_an_authenticator_with_a_qr_code(client, mona):
    TOTPDevice.objects.filter(user=mona).delete()
    post_signin(client, "mona")
    response = client.get(reverse("otp_verify"))
    assert response.status_code == 302 and response.url.startswith(reverse("otp_setup"))
    response = client.get(reverse("otp_setup"))
    assert response.status_code == 200
    assert b"data:image/svg+xml;base64," in response.content
    device = TOTPDevice.objects.get(user=mona, confirmed=False)
    response = client.post(reverse("otp_setup"), {"token": code_for(device)})
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    assert client.get(reverse("home")).status_code == 200
    assert "otp_enrolled" in actions("mona")


def test_reviewer_needs_no_second_factor(client, rita):
    post_signin(client, "rita")
    assert client.get(reverse("home")).status_code == 200


def test_wrong_password_is_refused_with_a_clear_message_and_audited(client, alice):
    response = post_signin(client, "alice", "not the password")
    assert response.status_code == 200
    assert b"The user name or password is not right" in response.content
    event = AuditEvent.objects.filter(action="signin_failed").latest("seq")
    assert event.actor_username == "alice"
    assert "not the password" not in str(AuditEvent.objects.values_list())


def test_five_failures_lock_the_account_even_with_the_right_password(client, alice):
    for _attempt in range(5):
        post_signin(client, "alice", "wrong password")
    response = post_signin(client, "alice")
    assert response.status_code == 429
    assert b"This account is locked" in response.content
    assert client.get(reverse("home")).status_code == 302  # not signed in
    assert AuditEvent.objects.filter(action="lockout", actor_username="alice").exists()


def test_lockout_of_one_account_leaves_others_alone(client, alice, bob):
    for _attempt in range(5):
        post_signin(client, "alice", "wrong password")
    response = post_signin(client, "bob")
    assert response.status_code == 302


def test_user_without_membership_cannot_sign_in(client, alice):
    alice.membership.delete()
    response = post_signin(client, "alice")
    assert response.status_code == 200
    assert b"not attached to an active organisation" in response.content
    assert "signin_refused" in actions("alice")


def test_deactivated_organisation_cannot_sign_in_and_open_sessions_end(client, alice, centre_a):
    sign_in(client, alice)
    centre_a.active = False
    centre_a.save()
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response.url == reverse("signin")
    assert client.get(reverse("home")).url.startswith(reverse("signin"))
    response = post_signin(client, "alice")
    assert b"not attached to an active organisation" in response.content


def test_deactivated_account_cannot_sign_in(client, alice):
    alice.is_active = False
    alice.save()
    response = post_signin(client, "alice")
    assert response.status_code == 200
    assert client.get(reverse("home")).status_code == 302


def test_session_ends_after_the_idle_timeout(client, alice, settings):
    settings.SESSION_IDLE_TIMEOUT_MINUTES = 30
    sign_in(client, alice)
    assert client.get(reverse("home")).status_code == 200
    session = client.session
    session[IdleTimeoutMiddleware.SESSION_KEY] = time.time() - 31 * 60
    session.save()
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("signin"))
    response = client.get(response.url)
    assert b"Your session ended after 30 minutes without activity" in response.content
    assert "session_expired" in actions("alice")
    assert client.get(reverse("home")).status_code == 302


def test_activity_within_the_timeout_keeps_the_session(client, alice):
    sign_in(client, alice)
    session = client.session
    session[IdleTimeoutMiddleware.SESSION_KEY] = time.time() - 29 * 60
    session.save()
    assert client.get(reverse("home")).status_code == 200


def test_browsing_records_activity_at_most_once_a_minute(client, alice, settings):
    settings.SESSION_ACTIVITY_RESOLUTION_SECONDS = 60
    sign_in(client, alice)
    client.get(reverse("home"))
    recorded = client.session[IdleTimeoutMiddleware.SESSION_KEY]
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("home")).status_code == 200
    assert not [q for q in queries if "django_session" in q["sql"] and not q["sql"].startswith("SELECT")]
    assert client.session[IdleTimeoutMiddleware.SESSION_KEY] == recorded

    session = client.session
    session[IdleTimeoutMiddleware.SESSION_KEY] = time.time() - 61
    session.save()
    client.get(reverse("home"))
    assert time.time() - client.session[IdleTimeoutMiddleware.SESSION_KEY] < 5


def test_signout_is_a_post_and_is_audited(client, alice):
    sign_in(client, alice)
    assert client.get(reverse("signout")).status_code == 405
    response = client.post(reverse("signout"))
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 302
    assert actions("alice")[-1] == "signout"


def test_forged_csrf_token_changes_nothing_and_is_audited(alice):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("signin"), {"username": "alice", "password": PASSWORD,
                                               "csrfmiddlewaretoken": "forged"})
    assert response.status_code == 403
    assert b"This form has expired or did not come from this site" in response.content
    assert client.get(reverse("home")).status_code == 302
    assert AuditEvent.objects.filter(action="csrf_failure").exists()


def test_password_change_is_audited(client, alice):
    sign_in(client, alice)
    new = "a much longer synthetic passphrase 42"
    response = client.post(reverse("password_change"),
                           {"old_password": PASSWORD, "new_password1": new, "new_password2": new})
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password(new)
    assert "password_changed" in actions("alice")


def test_open_redirect_after_signin_is_refused(client, rita):
    response = post_signin(client, "rita", next_url="https://evil.example/")
    assert response.status_code == 302
    assert response.url == reverse("home")
