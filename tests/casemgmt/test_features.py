"""A feature app plugs into the platform from its own AppConfig: URLs, policy rows, menu links (tests/featureapp)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from casemgmt import access, features
from tests.conftest import sign_in
from tests.featureapp.models import Notice

pytestmark = pytest.mark.django_db


def test_a_feature_app_is_mounted_with_its_policy_row_and_menu_link(client, alice, bob, centre_a, rita):
    Notice(organisation=centre_a, text="Staff meeting moved (synthetic)").save()
    assert access.rule_for("featureapp:notices") == access.CARE_STAFF_RULE

    sign_in(client, alice)
    page = client.get(reverse("featureapp:notices")).content.decode()
    assert "Staff meeting moved (synthetic)" in page
    assert f'href="{reverse("featureapp:notices")}"' in page  # its menu link, for the roles its row allows

    client.logout()
    sign_in(client, bob)  # another centre: its notices only
    assert "Staff meeting moved" not in client.get(reverse("featureapp:notices")).content.decode()

    client.logout()
    sign_in(client, rita)
    assert client.get(reverse("featureapp:notices")).status_code == 403
    assert reverse("featureapp:notices") not in client.get(reverse("home")).content.decode()


def test_menu_links_follow_the_policy_rows_and_conditions(alice, pete):
    assert "clients:releases" not in [link.url_name for link in features.nav_links_for(alice, "counsellor")]
    assert "clients:releases" in [link.url_name for link in features.nav_links_for(pete, "counsellor")]
    # A reviewer's only links are the reports' (which no care-staff app offers them).
    assert [link.url_name for link in features.nav_links_for(alice, "moh_reviewer")] == [
        "reports:dashboard", "reports:definitions"]


def test_a_feature_app_adds_a_section_to_the_client_page_for_the_roles_it_chooses(client, alice, mona, centre_a):
    from tests.clients.helpers import detail_url, make_client

    case = make_client(actor=alice, organisation=centre_a, n=3)
    sign_in(client, mona)
    assert "Notices section (test)" in client.get(detail_url(case)).content.decode()
    client.logout()
    sign_in(client, alice)
    assert "Notices section (test)" not in client.get(detail_url(case)).content.decode()
