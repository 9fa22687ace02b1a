"""The accounting of disclosures: every referral sent disclosed the client's information to a partner. The client's
page lists them (recipient, categories, consent, date, who sent it), and a counsellor prints the list for the
client; drafts never sent are not disclosures; the values shared never appear, only their categories."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from casemgmt import audit_texts
from casemgmt.models import AuditAction, AuditEvent
from clients import services as client_services
from referrals import selectors, services
from tests.conftest import sign_in
from tests.pdfs import parse
from tests.referrals.factories import client_with_history, partner_service, referral, sharing_consent

pytestmark = pytest.mark.django_db

GIVEN_NAME, FAMILY_NAME, PHONE = "Zqgiven", "Zqfamily", "012 999 888"
SECTION = "Who received this client's information"


@pytest.fixture
def history(alice, priya, olga, centre_a, partner, other_partner):
    """Sent and accepted; sent then cancelled; a draft never sent; sent to another partner and ended by the
    withdrawal of its consent."""
    client = client_with_history(counsellor=alice, organisation=centre_a, given_name=GIVEN_NAME,
                                 family_name=FAMILY_NAME, phone=PHONE)
    testing = partner_service(organisation=partner)
    legal = partner_service(organisation=other_partner, service_type="legal_aid")
    consent = sharing_consent(counsellor=alice, client=client, partner=partner)
    other_consent = sharing_consent(counsellor=alice, client=client, partner=other_partner, categories=["contact"])
    accepted = services.referral_accept(actor=priya, referral=referral(
        counsellor=alice, client=client, service=testing, consent=consent, categories=["identity", "hiv_status"]))
    cancelled = services.referral_cancel(actor=alice, reason="other", referral=referral(
        counsellor=alice, client=client, service=testing, consent=consent, categories=["contact"]))
    draft = referral(counsellor=alice, client=client, service=testing, consent=consent, send=False)
    withdrawn = referral(counsellor=alice, client=client, service=legal, consent=other_consent, categories=["contact"])
    client_services.consent_revoke(actor=alice, consent=other_consent, revoked_on=timezone.localdate(),
                                   reason="Zqwithdrawn")
    return {"client": client, "accepted": accepted, "cancelled": cancelled, "draft": draft, "withdrawn": withdrawn}


def test_every_referral_sent_is_a_disclosure_whatever_became_of_it_and_a_draft_is_not(alice, history, partner,
                                                                                   other_partner):
    found = selectors.disclosures_of(user=alice, client=history["client"])
    assert [d.referral_id for d in found] == [history[k].pk for k in ("withdrawn", "cancelled", "accepted")]
    latest, cancelled, first = found
    assert (latest.recipient, latest.service, latest.categories, latest.status) == (
        "Other partner NGO (test)", "Legal aid", ["Contact details"], "Closed, unresolved")
    assert (cancelled.recipient, cancelled.status) == ("Partner NGO (test)", "Cancelled")
    assert first.categories == ["Identity", "HIV status"]
    assert first.sent_on == timezone.localdate() and first.sent_by == alice.get_full_name()
    assert (first.consent.given_on, first.consent.expires_on, first.consent.wording_version,
            first.consent.wording_language) == (datetime.date(2026, 1, 5), None, 1, "English")


def test_the_client_page_lists_who_received_the_information_never_the_values(client, alice, history):
    sign_in(client, alice)
    html = client.get(reverse("clients:detail", args=[history["client"].pk])).content.decode()
    section = html[html.index(SECTION):]
    section = section[:section.index("</section>")]
    assert "Other partner NGO (test)" in section and "Partner NGO (test)" in section
    assert "Identity, HIV status" in section and "Contact details" in section
    assert "given on 2026-01-05, no expiry date; wording version 1, read in English" in section
    assert alice.get_full_name() in section and "Closed, unresolved" in section and "Cancelled" in section
    assert reverse("referrals:detail", args=[history["accepted"].pk]) in section
    assert reverse("referrals:detail", args=[history["draft"].pk]) not in section  # not a disclosure
    assert PHONE not in section and "Positive, on ART" not in section and "Zqreason" not in section
    assert reverse("referrals:disclosures_pdf", args=[history["client"].pk]) in section  # its print form


def print_list(browser, client_obj, **options):
    response = browser.get(reverse("referrals:disclosures_pdf", args=[client_obj.pk]), options)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert GIVEN_NAME not in response["Content-Disposition"]
    return parse(response.content)


def test_the_printed_list_names_the_client_by_uic_unless_it_is_the_clients_copy(client, alice, history):
    sign_in(client, alice)
    case = history["client"]
    document = print_list(client, case, language="en")
    assert document.pages == 1
    assert case.uic in document.text and GIVEN_NAME not in document.text and FAMILY_NAME not in document.text
    assert "Other partner NGO (test)" in document.text and "Partner NGO (test)" in document.text
    assert "Information shared: Identity, HIV status" in document.text
    assert "Consent: given on 2026-01-05, no expiry date; wording version 1, read in English" in document.text
    assert f"Sent by: {alice.get_full_name()} (Centre A (test))" in document.text
    assert "Legal aid" not in document.text and "HIV testing" not in document.text  # the services: client's copy
    assert PHONE not in document.text and "Positive, on ART" not in document.text  # categories, never values
    assert document.text.count("Information shared:") == 3  # the draft is not there

    copy = print_list(client, case, language="en", client_copy="on")
    assert GIVEN_NAME in copy.text and FAMILY_NAME in copy.text and "Client's copy" in copy.text
    assert "Legal aid" in copy.text and "HIV testing" in copy.text


def test_printing_the_list_is_audited_with_its_kind(client, alice, history):
    sign_in(client, alice)
    print_list(client, history["client"], language="km", client_copy="on")
    event = AuditEvent.objects.filter(action=AuditAction.PRINT).get()
    assert (event.object_type, event.object_id, event.client_id, event.actor_username, event.fields) == (
        "referrals.disclosures", str(history["client"].pk), history["client"].pk, "alice", ["disclosures"])
    assert event.reason == "document: disclosures; language: km; copy: client"
    audit_texts.describe_all([event], organisation_names={})
    assert event.summary == "List of who received the client's information printed"  # on the client's timeline


def test_a_khmer_list_prints_khmer_text(client, alice, history):
    sign_in(client, alice)
    document = print_list(client, history["client"], language="km")
    assert any("Khmer" in font for font in document.fonts), document.fonts
    assert document.khmer_characters >= 100
    assert "Information shared" not in document.text and history["client"].uic in document.text


def test_partners_and_other_centres_cannot_print_it(client, priya, bob, history):
    url = reverse("referrals:disclosures_pdf", args=[history["client"].pk])
    sign_in(client, priya)
    assert client.get(url).status_code == 403  # a partner's officer: not care staff
    client.logout()
    sign_in(client, bob)
    assert client.get(url).status_code == 404  # another centre: not found
    assert not AuditEvent.objects.filter(action=AuditAction.PRINT).exists()


def test_after_a_transfer_the_new_centre_sees_what_the_old_one_disclosed(client, alice, mona, nina, centre_b,
                                                                       history):
    client_services.client_transfer(actor=mona, client=history["client"], to_organisation=centre_b)
    assert selectors.disclosures_of(user=alice, client=history["client"]) == []  # no longer alice's client
    found = selectors.disclosures_of(user=nina, client=history["client"])
    assert len(found) == 3 and not any(d.can_open for d in found)  # the referrals' pages stay centre A's
    assert found[0].from_organisation == "Centre A (test)"


def test_the_list_takes_the_same_queries_for_one_disclosure_or_many(client, alice, priya, centre_a, partner,
                                                                  django_assert_max_num_queries):
    case = client_with_history(counsellor=alice, organisation=centre_a)
    service = partner_service(organisation=partner)
    consent = sharing_consent(counsellor=alice, client=case, partner=partner)
    referral(counsellor=alice, client=case, service=service, consent=consent)
    sign_in(client, alice)
    page = reverse("clients:detail", args=[case.pk])
    client.get(page)  # the first request of a session does some one-off bookkeeping
    with CaptureQueriesContext(connection) as on_page:
        client.get(page)
    with CaptureQueriesContext(connection) as printed:
        print_list(client, case)
    for _ in range(6):
        services.referral_accept(actor=priya, referral=referral(counsellor=alice, client=case, service=service,
                                                                 consent=consent))
    with django_assert_max_num_queries(len(on_page.captured_queries)):
        html = client.get(page).content.decode()
    assert html.count("wording version 1, read in English") == 7 + 2  # the disclosures, and the two consents
    with django_assert_max_num_queries(len(printed.captured_queries)):
        assert print_list(client, case).text.count("Information shared:") == 7

