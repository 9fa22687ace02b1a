"""What a partner sees: only the categories shared; the counsellor's preview is the same page."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from clients import services as client_services
from clients.models import Client
from tests.conftest import sign_in
from tests.referrals.factories import partner_service, referral, sharing_consent

pytestmark = pytest.mark.django_db

# Every identifying or clinical value of the synthetic client, and where each may appear.
SECRET_IDENTITY = {"family_name": "Zqfamily", "other_names": "Zqalias", "village": "Zqvillage",
                   "commune": "Zqcommune", "district": "Zqdistrict", "national_id": "ZQ123456",
                   "mother_first_name": "Zqmother", "father_first_name": "Zqfather"}


@pytest.fixture
def rich_client(alice, centre_a, partner):
    from tests.referrals.factories import client_with_history

    client = client_with_history(counsellor=alice, organisation=centre_a, given_name="Zqgiven", phone="012 999 888",
                                 date_of_birth=datetime.date(1987, 3, 4), **SECRET_IDENTITY)
    screening = client.screenings.get()
    screening.notes = "Zqscreeningnote"
    screening.save()
    return Client.objects.get(pk=client.pk)


def partner_page(client, priya, rich_client, alice, partner, categories):
    service = partner_service(organisation=partner)
    consent = sharing_consent(counsellor=alice, client=rich_client, partner=partner)
    other = referral(counsellor=alice, client=rich_client, service=service, consent=consent, reason="Zqotherreason")
    sent = referral(counsellor=alice, client=rich_client, service=service, consent=consent, categories=categories)
    sign_in(client, priya)
    html = client.get(reverse("referrals:detail", args=[sent.pk])).content.decode()
    assert "Zqreason" in html  # the referral's own reason
    assert "Zqotherreason" not in html  # never another referral
    for value in [*SECRET_IDENTITY.values(), "1987-03-04", "1987", "Zqscreeningnote", "Synthsok"]:
        assert value not in html
    return html, other


@pytest.mark.parametrize("categories, shown, hidden", [
    (["identity"], ["Zqgiven", "UIC"], ["012 999 888", "Positive, on ART", "Consented to treatment"]),
    (["contact"], ["012 999 888"], ["Zqgiven", "Positive, on ART", "Consented to treatment"]),
    (["hiv_status"], ["Positive, on ART"], ["Zqgiven", "012 999 888", "Consented to treatment"]),
    (["treatment"], ["Consented to treatment, active"], ["Zqgiven", "012 999 888", "Positive, on ART"]),
])
def test_the_partner_sees_only_what_was_shared(client, priya, rich_client, alice, partner, categories, shown,
                                               hidden):
    html, _other = partner_page(client, priya, rich_client, alice, partner, categories)
    for value in shown:
        assert value in html
    for value in hidden:
        assert value not in html
    if "identity" not in categories:
        assert rich_client.uic not in html


def test_the_preview_is_the_partners_page_and_follows_the_categories(client, alice, priya, rich_client, partner):
    service = partner_service(organisation=partner)
    consent = sharing_consent(counsellor=alice, client=rich_client, partner=partner,
                              categories=["contact", "identity"])
    sign_in(client, alice)
    url = reverse("referrals:new", args=[rich_client.pk])
    data = {"service": service.pk, "consent": consent.pk, "shared_categories": ["contact"], "reason": "Zqreason",
            "urgency": "urgent", "step": "preview"}
    html = client.post(url, data).content.decode()
    preview = html.split("exactly what the partner will see")[1]
    assert "012 999 888" in preview and "Zqgiven" not in preview and "Urgent" in preview
    html = client.post(url, {**data, "shared_categories": ["identity"]}).content.decode()
    preview = html.split("exactly what the partner will see")[1]
    assert "Zqgiven" in preview and "012 999 888" not in preview
    # A category the consent does not cover: refused, naming it; no preview.
    html = client.post(url, {**data, "shared_categories": ["identity", "hiv_status"]}).content.decode()
    assert "The consent does not cover: HIV status." in html and "exactly what the partner will see" not in html
    response = client.post(url, {**data, "shared_categories": ["identity"], "step": "send"})
    from referrals.models import Referral

    sent = Referral.objects.get()
    assert response.url == reverse("referrals:detail", args=[sent.pk])
    assert (sent.status, sent.shared_categories, sent.urgency) == ("sent", ["identity"], "urgent")
    client.logout()
    sign_in(client, priya)
    partner_html = client.get(response.url).content.decode()
    block = preview.split("</section>")[0]
    assert block.split('<section class="panel partner-view">')[1] in partner_html



def test_a_withdrawn_consent_leaves_only_that_notice(client, priya, rich_client, alice, partner):
    service = partner_service(organisation=partner)
    consent = sharing_consent(counsellor=alice, client=rich_client, partner=partner)
    sent = referral(counsellor=alice, client=rich_client, service=service, consent=consent)
    client_services.consent_revoke(actor=alice, consent=consent, revoked_on=timezone.localdate(),
                                   reason="Zqwithdrawn")
    sign_in(client, priya)
    html = client.get(reverse("referrals:detail", args=[sent.pk])).content.decode()
    assert "Consent withdrawn" in html
    for value in ["Zqreason", "Zqgiven", "012 999 888", "Positive, on ART", rich_client.uic, "Accept", "HIV testing",
                  "Closed, unresolved", "Centre A"]:
        assert value not in html


def test_opening_and_previewing_a_referral_are_audited_with_field_names_only(client, alice, rich_client, partner):
    from casemgmt.models import AuditEvent

    service = partner_service(organisation=partner)
    consent = sharing_consent(counsellor=alice, client=rich_client, partner=partner)
    sign_in(client, alice)
    url = reverse("referrals:new", args=[rich_client.pk])
    client.get(url)
    client.post(url, {"service": service.pk, "consent": consent.pk, "shared_categories": ["contact"],
                      "reason": "Zqreason", "urgency": "routine", "step": "preview"})
    opened = AuditEvent.objects.get(object_type="referrals.referral_form")
    previewed = AuditEvent.objects.get(object_type="referrals.preview")
    assert opened.client_id == previewed.client_id == rich_client.pk
    assert previewed.fields == ["contact"]
    assert "Zqreason" not in (previewed.reason or "")
