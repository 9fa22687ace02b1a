"""The service directory: searched by care staff and partners, edited by each partner's own officers, exported."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.urls import reverse

from casemgmt.models import AuditEvent
from referrals.models import PartnerService
from tests.conftest import sign_in
from tests.referrals.factories import partner_service

pytestmark = pytest.mark.django_db


@pytest.fixture
def services(partner, other_partner):
    return {
        "testing": partner_service(organisation=partner, service_type="hiv_testing", province="KH-12",
                                   contact="Zqdesk-testing"),
        "oat": partner_service(organisation=partner, service_type="oat", province="KH-12", contact="Zqdesk-oat"),
        "legal": partner_service(organisation=other_partner, service_type="legal_aid", province="KH-2",
                                 contact="Zqdesk-legal"),
    }


def test_care_staff_search_the_directory_by_service_and_province(client, alice, services):
    sign_in(client, alice)
    page = client.get(reverse("referrals:directory"), {"service_type": "oat"}).content.decode()
    assert "Zqdesk-oat" in page and "Zqdesk-testing" not in page and "Zqdesk-legal" not in page
    page = client.get(reverse("referrals:directory"), {"province": "KH-2"}).content.decode()
    assert "Zqdesk-legal" in page and "Zqdesk-oat" not in page
    page = client.get(reverse("referrals:directory"), {"service_type": "oat", "province": "KH-2"}).content.decode()
    assert "No service matches" in page
    assert AuditEvent.objects.filter(object_type="referrals.partnerservice", action="search").exists()


def test_a_partner_edits_its_own_services_only(client, priya, services):
    sign_in(client, priya)
    page = client.get(reverse("referrals:directory")).content.decode()
    assert reverse("referrals:service_edit", args=[services["oat"].pk]) in page
    assert reverse("referrals:service_edit", args=[services["legal"].pk]) not in page
    assert client.get(reverse("referrals:service_edit", args=[services["legal"].pk])).status_code == 404
    data = {"service_type": "oat", "province": "KH-12", "hours": "Daily 07:00–11:00", "contact": "Zqdesk-oat",
            "district": "Test district", "languages": "Khmer", "eligibility": "Adults", "cost": "Free",
            "target_days": 3}
    response = client.post(reverse("referrals:service_edit", args=[services["oat"].pk]), data)
    assert response.status_code == 302
    services["oat"].refresh_from_db()
    assert services["oat"].hours == "Daily 07:00–11:00"
    assert services["oat"].accepting_referrals is False  # an unticked box
    event = AuditEvent.objects.filter(object_type="referrals.partnerservice", action="change").get()
    assert set(event.fields) == {"hours", "languages", "accepting_referrals", "target_days"}


def test_a_partner_adds_a_service_to_its_own_organisation(client, priya, partner):
    sign_in(client, priya)
    response = client.post(reverse("referrals:service_add"), {
        "service_type": "naloxone", "province": "KH-12", "target_days": 2, "accepting_referrals": "on"})
    assert response.status_code == 302
    assert PartnerService.objects.get().organisation == partner


def test_export_directory_writes_hsds_shaped_json(services, tmp_path, partner):
    out = tmp_path / "directory.json"
    call_command("export_directory", output=str(out))
    data = json.loads(out.read_text())
    by_name = {org["name"]: org for org in data}
    assert set(by_name) == {partner.name, "Other partner NGO (test)"}
    org = by_name[partner.name]
    assert {"id", "name", "services", "locations"} <= set(org)
    assert len(org["services"]) == 2 and len(org["locations"]) == 2
    service = next(s for s in org["services"] if s["id"] == str(services["oat"].pk))
    assert service["name"] == "Methadone and other opioid agonist therapy"
    assert service["organization_id"] == org["id"]
    assert service["status"] == "active"
    assert service["eligibility_description"] == "Adults" and service["fees_description"] == "Free"
    (at,) = service["service_at_locations"]
    assert at["location_id"] in {loc["id"] for loc in org["locations"]}
    assert at["schedules"][0]["description"] == "Mon–Fri 08:00–17:00"
    assert org["locations"][0]["addresses"][0]["country"] == "KH"


def test_an_administrator_edits_any_partners_service_in_the_administration(client, sam, services):
    sign_in(client, sam)
    url = reverse("admin:referrals_partnerservice_change", args=[services["legal"].pk])
    assert client.get(url).status_code == 200
    data = {"organisation": services["legal"].organisation_id, "service_type": "legal_aid", "province": "KH-2",
            "district": "Test district", "address": "", "hours": "Mon–Fri 08:00–17:00", "contact": "Zqdesk-legal",
            "languages": "Khmer, English", "eligibility": "Adults", "cost": "Free", "target_days": 14,
            "description": ""}
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    services["legal"].refresh_from_db()
    assert (services["legal"].target_days, services["legal"].accepting_referrals) == (14, False)
    event = AuditEvent.objects.filter(object_type="referrals.partnerservice", action="change").get()
    assert set(event.fields) == {"accepting_referrals", "target_days"}
    assert event.actor_id == sam.pk


def test_the_administration_has_no_referral(client, sam):
    from django.urls import NoReverseMatch

    with pytest.raises(NoReverseMatch):
        reverse("admin:referrals_referral_changelist")
