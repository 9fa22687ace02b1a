"""Home pages per role, navigation, language switch, error pages, demo data."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.urls import reverse

from casemgmt.models import Organisation
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

HOME_HEADINGS = {
    "alice": "Your caseload",
    "mona": "Your centre",
    "priya": "Referrals to your organisation",
    "rita": "National figures",
    "otto": "Audit",
    "sam": "Administration",
}


@pytest.mark.parametrize("actor", HOME_HEADINGS)
def test_each_role_sees_its_own_home_page_with_empty_states(client, actors, actor):
    sign_in(client, actors[actor])
    response = client.get(reverse("home"))
    html = response.content.decode()
    assert response.status_code == 200
    assert f"<h1>{HOME_HEADINGS[actor]}</h1>" in html
    assert 'class="empty"' in html or actor == "sam"
    assert response.headers["Cache-Control"] == "no-store"


def test_navigation_only_offers_what_the_role_may_open(client, alice, otto, sam):
    sign_in(client, alice)
    html = client.get(reverse("home")).content.decode()
    assert reverse("audit_events") not in html and reverse("admin:index") not in html
    sign_in(client, otto)
    assert reverse("audit_events") in client.get(reverse("home")).content.decode()
    sign_in(client, sam)
    html = client.get(reverse("home")).content.decode()
    assert reverse("admin:index") in html and reverse("key_status") in html


def test_language_switch_to_khmer(client, rita):
    sign_in(client, rita)
    response = client.post(reverse("set_language"), {"language": "km", "next": reverse("home")})
    assert response.status_code == 302
    html = client.get(reverse("home")).content.decode()
    assert '<html lang="km">' in html
    main = html.split("<main")[1]
    assert "<h1>តួលេខថ្នាក់ជាតិ</h1>" in main  # "National figures"
    assert "National figures" not in html
    assert "English" in html  # the switch back


def test_key_status_shows_ids_and_counts_never_key_material(client, sam, settings):
    from casemgmt import crypto

    crypto.data_key("7d4c1d2e-0000-4000-8000-000000000001", create=True)
    sign_in(client, sam)
    html = client.get(reverse("key_status")).content.decode()
    assert "test-kek-1" in html
    for encoded in (settings.CASEMGMT_KEKS.split(":", 1)[1], settings.CASEMGMT_AUDIT_KEY,
                    settings.CASEMGMT_INDEX_KEYS.split(":", 1)[1]):
        assert encoded not in html


def test_error_pages_reveal_nothing(client):
    response = client.get("/administration/../../etc/passwd")
    assert response.status_code in (302, 404)
    response = client.get("/definitely-not-here/")
    assert response.status_code == 404
    assert b"Traceback" not in response.content


def test_seed_demo_is_idempotent(settings, tmp_path, capsys):
    settings.VAR_DIR = tmp_path
    call_command("seed_demo")
    first = capsys.readouterr().out
    call_command("seed_demo")
    second = capsys.readouterr().out
    assert Organisation.objects.count() == 6
    assert first == second  # same passwords and secrets the second time
    for username in ("counsellor", "manager", "partner", "reviewer", "auditor", "admin"):
        assert username in first
    assert (tmp_path / "demo-credentials.json").stat().st_mode & 0o777 == 0o600
