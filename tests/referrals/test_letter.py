"""The referral letter (PDF): for a partner that prints or has no account yet. It shows what the partner's page shows
and nothing more, the consent's scope and expiry and a re-disclosure notice, under the sending centre's header; it
prints in Khmer; each print is audited with its kind; another organisation gets 404; a draft or a withdrawn consent
is not printed."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape

from casemgmt import audit_texts
from casemgmt.models import AuditAction, AuditEvent
from clients import services as client_services
from clients.models import Client
from referrals import selectors, services, views
from tests.clients.factories import screening_answers
from tests.conftest import sign_in
from tests.pdfs import parse
from tests.referrals.factories import client_with_history, partner_service, referral, sharing_consent

pytestmark = pytest.mark.django_db

# Every identifying or clinical value of the synthetic client that no category shares.
NEVER = {"family_name": "Zqfamily", "other_names": "Zqalias", "village": "Zqvillage", "commune": "Zqcommune",
         "district": "Zqdistrict", "national_id": "ZQ123456", "mother_first_name": "Zqmother",
         "father_first_name": "Zqfather"}
GIVEN_NAME, PHONE = "Zqgiven", "012 999 888"


@pytest.fixture
def rich_client(alice, centre_a):
    client = client_with_history(counsellor=alice, organisation=centre_a, given_name=GIVEN_NAME, phone=PHONE,
                                 date_of_birth=datetime.date(1987, 3, 4), **NEVER)
    screening = client.screenings.get()
    screening.notes = "Zqscreeningnote"
    screening.save()
    return Client.objects.get(pk=client.pk)


@pytest.fixture
def service(partner):
    return partner_service(organisation=partner, address="12 Synthetic Street", hours="Mon–Fri 08:00–17:00")


@pytest.fixture
def consent(alice, rich_client, partner):
    return sharing_consent(counsellor=alice, client=rich_client, partner=partner)


def letter_url(made) -> str:
    return reverse("referrals:letter", args=[made.pk])


def print_letter(browser, made, **options):
    response = browser.get(letter_url(made), options)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "no-store" and GIVEN_NAME not in response["Content-Disposition"]
    return parse(response.content)


def notice(partner) -> str:
    return str(selectors.RE_DISCLOSURE_NOTICE) % {"partner": partner}


@pytest.mark.parametrize("categories, shown, hidden", [
    (["identity"], [GIVEN_NAME], [PHONE, "Positive, on ART", "Consented to treatment"]),
    (["contact"], [PHONE], [GIVEN_NAME, "Positive, on ART", "Consented to treatment"]),
    (["hiv_status"], ["Positive, on ART"], [GIVEN_NAME, PHONE, "Consented to treatment"]),
    (["treatment"], ["Consented to treatment, active"], [GIVEN_NAME, PHONE, "Positive, on ART"]),
])
def test_the_letter_prints_only_what_was_shared_with_the_consent_and_the_notice(
        client, priya, alice, rich_client, service, consent, partner, categories, shown, hidden):
    other = referral(counsellor=alice, client=rich_client, service=service, consent=consent, reason="Zqotherreason")
    sent = referral(counsellor=alice, client=rich_client, service=service, consent=consent, categories=categories)
    sign_in(client, priya)
    document = print_letter(client, sent, language="en")

    assert document.pages == 1
    for value in shown:
        assert value in document.text
    for value in [*hidden, *NEVER.values(), "1987", "Zqscreeningnote", "Zqotherreason"]:
        assert value not in document.text
    assert (rich_client.uic in document.text) == ("identity" in categories)  # the UIC only with the identity
    assert "Zqreason" in document.text  # the referral's own reason, as the partner's page shows it
    assert "Centre A (test)" in document.text  # the sender's header
    assert "HIV testing" in document.text and "12 Synthetic Street" in document.text  # where to go
    # The consent's scope and expiry, the wording read, and the notice.
    assert "Given on 2026-01-05" in document.text and "no expiry date" in document.text
    assert "Identity, Contact details, HIV status, Treatment information" in document.text  # what it covers
    assert "wording version 1, read in English" in document.text
    assert notice(partner) in document.text
    assert other.pk != sent.pk


def test_the_counsellor_prints_the_same_letter_the_partner_does(client, priya, alice, rich_client, service, consent):
    sent = referral(counsellor=alice, client=rich_client, service=service, consent=consent, categories=["contact"],
                    due_on=timezone.localdate() + datetime.timedelta(days=3))
    sign_in(client, alice)
    by_sender = print_letter(client, sent, language="en").text
    client.logout()
    sign_in(client, priya)
    by_partner = print_letter(client, sent, language="en").text

    def body(text):  # the header's "printed <time>" aside
        return text.split("Referral letter", 2)[-1]

    assert body(by_sender) == body(by_partner)
    assert PHONE in by_sender and GIVEN_NAME not in by_sender and rich_client.uic not in by_sender


def test_an_expired_consent_is_said_so(client, priya, alice, rich_client, service, partner):
    consent = client_services.consent_record(
        actor=alice, client=rich_client, kind="sharing", partner=partner, purpose="Synthetic", categories=["contact"],
        given_on=timezone.localdate() - datetime.timedelta(days=20),
        expires_on=timezone.localdate() + datetime.timedelta(days=1), method="signed")
    sent = referral(counsellor=alice, client=rich_client, service=service, consent=consent, categories=["contact"])
    consent.expires_on = timezone.localdate() - datetime.timedelta(days=1)
    consent.save()
    sign_in(client, priya)
    text = print_letter(client, sent, language="en").text
    assert f"Expires on {consent.expires_on.isoformat()} (expired)" in text


# Words of the Khmer notice and title without a pre-base vowel or a subscript: the PDF gives those back in visual
# order (tests/plans/test_pdfs.py).
KHMER_NOTICE_WORD = "អតិថិជន"  # "the client"


def test_a_khmer_letter_prints_khmer_text_with_a_khmer_font(client, priya, alice, rich_client, service, consent,
                                                            partner):
    sent = referral(counsellor=alice, client=rich_client, service=service, consent=consent, categories=["identity"])
    sign_in(client, priya)
    document = print_letter(client, sent, language="km")
    assert any("Khmer" in font for font in document.fonts), document.fonts
    assert document.khmer_characters >= 200
    with translation.override("km"):
        khmer_notice = notice(partner)
    assert khmer_notice != notice(partner) and KHMER_NOTICE_WORD in khmer_notice  # the notice is translated
    assert "may not be disclosed further" not in document.text
    assert KHMER_NOTICE_WORD in document.text and GIVEN_NAME in document.text and rich_client.uic in document.text


def test_printing_is_audited_with_the_document_kind_and_never_a_value(client, priya, alice, setup):
    sign_in(client, priya)
    print_letter(client, setup["referral"], language="km")
    event = AuditEvent.objects.filter(action=AuditAction.PRINT).get()
    assert (event.object_type, event.object_id, event.client_id, event.actor_username) == (
        "referrals.referral", str(setup["referral"].pk), setup["client"].pk, "priya")
    assert event.reason == "document: referral_letter; language: km; copy: organisation"
    assert sorted(event.fields) == ["contact", "hiv_status", "identity", "reason", "treatment"]
    assert "Zqreason" not in str(event.fields) + event.reason
    audit_texts.describe_all([event], organisation_names={})
    assert event.summary == "Referral letter printed"  # on the client's timeline


def test_another_organisation_gets_404_and_nothing_is_printed(client, olga, bob, setup):
    for outsider in (olga, bob):  # a partner it was not sent to, another centre
        sign_in(client, outsider)
        assert client.get(letter_url(setup["referral"])).status_code == 404
        client.logout()
    assert not AuditEvent.objects.filter(action=AuditAction.PRINT).exists()


def test_a_draft_is_not_printed_nothing_was_disclosed_yet(client, alice, setup):
    draft = referral(counsellor=alice, client=setup["client"], service=setup["service"],
                     consent=setup["sharing_consent"], send=False)
    sign_in(client, alice)
    response = client.get(letter_url(draft), follow=True)
    assert response.redirect_chain == [(reverse("referrals:detail", args=[draft.pk]), 302)]
    assert escape(str(views.ERROR_LETTER_NOT_SENT)) in response.content.decode()
    assert letter_url(draft) not in response.content.decode()  # no print form on a draft
    assert not AuditEvent.objects.filter(action=AuditAction.PRINT).exists()


def test_once_the_consent_is_withdrawn_the_letter_is_refused(client, alice, priya, setup):
    sign_in(client, priya)
    assert letter_url(setup["referral"]) in client.get(reverse("referrals:detail", args=[setup["referral"].pk])
                                                       ).content.decode()
    client_services.consent_revoke(actor=alice, consent=setup["sharing_consent"], revoked_on=timezone.localdate(),
                                   reason="Zqwithdrawn")
    for actor in (priya, alice):
        client.logout()
        sign_in(client, actor)
        response = client.get(letter_url(setup["referral"]), follow=True)
        html = response.content.decode()
        assert response.status_code == 200 and escape(str(views.ERROR_LETTER_CONSENT_WITHDRAWN)) in html
        assert letter_url(setup["referral"]) not in html
    assert not AuditEvent.objects.filter(action=AuditAction.PRINT).exists()


def test_the_letter_takes_the_same_queries_whatever_the_clients_history(client, priya, alice, setup,
                                                                        django_assert_max_num_queries):
    sign_in(client, priya)
    print_letter(client, setup["referral"])  # the first request of a session does some one-off bookkeeping
    with CaptureQueriesContext(connection) as one:
        print_letter(client, setup["referral"])
    for _ in range(5):
        other = referral(counsellor=alice, client=setup["client"], service=setup["service"],
                         consent=setup["sharing_consent"])
        services.referral_accept(actor=priya, referral=other)
        client_services.screening_record(actor=alice, client=setup["client"], screened_on=timezone.localdate(),
                                         answers=screening_answers(), q8="no",
                                         intake={"hiv_status": "positive_art"})
    with django_assert_max_num_queries(len(one.captured_queries)):
        print_letter(client, setup["referral"])
