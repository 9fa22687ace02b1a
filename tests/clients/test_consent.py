"""Consent gating: no active treatment consent, no clinical record; and a consent is recorded whole or not at all."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from casemgmt.models import AuditEvent
from clients import services
from clients.models import Consent, Screening
from tests.clients.helpers import (
    assert_field_error,
    consent_data,
    detail_url,
    full_screening_data,
    give_consent,
    make_client,
    used,
)
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate
NO_CONSENT_ON_DETAIL = "No active consent to treatment and data processing"
RISKY_ALCOHOL = used(q2="daily", q3="daily", q4="daily", q5="daily", q6="yes_recent", q7="yes_recent")


@pytest.fixture
def case(alice, centre_a):
    return make_client(actor=alice, organisation=centre_a, n=1)


@pytest.fixture
def signed_in(client, alice):
    return sign_in(client, alice)


def screening_url(case) -> str:
    return reverse("clients:screening_add", args=[case.pk])


def assert_screening_refused(client, case) -> None:
    """The screening page explains why, and a screening POSTed anyway is not saved."""
    page = client.get(screening_url(case))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Consent needed first" in html
    assert str(services.ERROR_NO_TREATMENT_CONSENT) in html
    assert f'href="{reverse("clients:consent_add", args=[case.pk])}"' in html
    assert 'name="q8"' not in html  # no screening form to fill in

    response = client.post(screening_url(case), full_screening_data(alcohol=RISKY_ALCOHOL))
    assert response.status_code == 200
    assert str(services.ERROR_NO_TREATMENT_CONSENT) in response.content.decode()
    assert Screening.objects.filter(client=case).count() == 0
    case.refresh_from_db()
    assert case.risk_level == ""


def test_without_any_consent_the_screening_page_says_why_and_saves_nothing(signed_in, case):
    assert_screening_refused(signed_in, case)
    detail = signed_in.get(detail_url(case)).content.decode()
    assert NO_CONSENT_ON_DETAIL in detail
    assert screening_url(case) not in detail  # no "New screening" button


def test_an_expired_consent_does_not_count(signed_in, case, alice):
    give_consent(case, actor=alice, given_on=TODAY() - datetime.timedelta(days=365),
                 expires_on=TODAY() - datetime.timedelta(days=1))
    assert_screening_refused(signed_in, case)
    assert NO_CONSENT_ON_DETAIL in signed_in.get(detail_url(case)).content.decode()


def test_a_revoked_consent_does_not_count(signed_in, case):
    assert signed_in.post(reverse("clients:consent_add", args=[case.pk]), consent_data()).status_code == 302
    consent = Consent.objects.get(client=case)
    assert 'name="q8"' in signed_in.get(screening_url(case)).content.decode()  # it counted while active

    response = signed_in.post(reverse("clients:consent_revoke", args=[case.pk, consent.pk]),
                              {"revoked_on": TODAY().isoformat(), "reason": "Synthetic: the client changed their mind"})
    assert response.status_code == 302

    assert_screening_refused(signed_in, case)
    detail = signed_in.get(detail_url(case)).content.decode()
    assert f"revoked {TODAY():%Y-%m-%d}" in detail and "<del>Treatment and data processing</del>" in detail


def test_a_sharing_consent_is_not_a_treatment_consent(signed_in, case, alice, partner):
    give_consent(case, actor=alice, kind="sharing", partner=partner, categories=["identity"],
                 purpose="Synthetic: HIV testing referral")
    assert_screening_refused(signed_in, case)


def test_a_consent_given_after_the_screening_date_does_not_cover_it(signed_in, case, alice):
    give_consent(case, actor=alice, given_on=TODAY())
    last_month = TODAY() - datetime.timedelta(days=30)
    response = signed_in.post(screening_url(case), full_screening_data(screened_on=last_month))
    assert response.status_code == 200
    assert str(services.ERROR_NO_TREATMENT_CONSENT) in response.content.decode()
    assert Screening.objects.count() == 0


def test_a_consent_recorded_through_the_form_opens_the_screening(signed_in, case):
    response = signed_in.post(reverse("clients:consent_add", args=[case.pk]), consent_data())
    assert response.status_code == 302 and response.url == detail_url(case)
    detail = signed_in.get(detail_url(case)).content.decode()
    assert NO_CONSENT_ON_DETAIL not in detail
    assert f'href="{screening_url(case)}"' in detail
    page = signed_in.get(screening_url(case)).content.decode()
    assert "Consent needed first" not in page and 'name="q8"' in page


def test_a_sharing_consent_with_partner_categories_and_purpose_is_recorded(signed_in, case, partner):
    data = consent_data(kind="sharing", partner=str(partner.pk), categories=["identity", "hiv_status"],
                        purpose="Synthetic: HIV testing referral", method="verbal", witness_name="Synthetic Witness")
    assert signed_in.post(reverse("clients:consent_add", args=[case.pk]), data).status_code == 302
    consent = Consent.objects.get(client=case)
    assert (consent.kind, consent.partner, consent.categories) == ("sharing", partner, ["hiv_status", "identity"])
    detail = signed_in.get(detail_url(case)).content.decode()
    assert partner.name in detail and "hiv_status, identity" in detail


# Incomplete or contradictory consents: a clear field error and nothing saved -----------------------

INVALID = {
    "expires before given": (
        {"given_on": "2026-03-10", "expires_on": "2026-03-09"},
        "expires_on", services.ERROR_CONSENT_EXPIRES_BEFORE_GIVEN,
    ),
    "sharing without partner": (
        {"kind": "sharing", "categories": ["identity"], "purpose": "Synthetic purpose"},
        "partner", services.ERROR_SHARING_NEEDS_PARTNER,
    ),
    "sharing without categories": (
        {"kind": "sharing", "partner": "PARTNER", "purpose": "Synthetic purpose"},
        "categories", services.ERROR_SHARING_NEEDS_CATEGORIES,
    ),
    "sharing without purpose": (
        {"kind": "sharing", "partner": "PARTNER", "categories": ["contact"], "purpose": "   "},
        "purpose", services.ERROR_SHARING_NEEDS_PURPOSE,
    ),
    "verbal without witness": (
        {"method": "verbal", "witness_name": ""},
        "witness_name", services.ERROR_VERBAL_NEEDS_WITNESS,
    ),
}


@pytest.mark.parametrize("case_name", INVALID)
def test_an_invalid_consent_is_a_field_error_and_nothing_is_saved(signed_in, case, partner, case_name):
    overrides, field, message = INVALID[case_name]
    overrides = {k: str(partner.pk) if v == "PARTNER" else v for k, v in overrides.items()}
    events_before = AuditEvent.objects.filter(action="consent_change").count()

    response = signed_in.post(reverse("clients:consent_add", args=[case.pk]), consent_data(**overrides))

    assert_field_error(response, field, message)
    assert Consent.objects.count() == 0
    assert AuditEvent.objects.filter(action="consent_change").count() == events_before
    assert 'name="q8"' not in signed_in.get(screening_url(case)).content.decode()


def test_sharing_with_a_treatment_centre_is_refused(signed_in, case, centre_b):
    data = consent_data(kind="sharing", partner=str(centre_b.pk), categories=["identity"], purpose="Synthetic")
    response = signed_in.post(reverse("clients:consent_add", args=[case.pk]), data)
    assert response.status_code == 200 and response.context["form"].errors["partner"]
    assert Consent.objects.count() == 0


def test_a_revocation_before_the_consent_was_given_is_a_field_error(signed_in, case, alice):
    consent = give_consent(case, actor=alice, given_on=TODAY())
    response = signed_in.post(reverse("clients:consent_revoke", args=[case.pk, consent.pk]),
                              {"revoked_on": (TODAY() - datetime.timedelta(days=3)).isoformat(), "reason": "x"})
    assert response.status_code == 200
    assert escape(str(services.ERROR_REVOKED_BEFORE_GIVEN)) in response.content.decode()
    consent.refresh_from_db()
    assert consent.revoked_on is None
    assert 'name="q8"' in signed_in.get(screening_url(case)).content.decode()


def test_another_centre_cannot_record_a_consent(client, bob, case):
    sign_in(client, bob)
    assert client.post(reverse("clients:consent_add", args=[case.pk]), consent_data()).status_code == 404
    assert Consent.objects.count() == 0


def test_a_consent_dated_in_the_future_is_refused_and_nothing_saved(signed_in, case):
    from clients.validators import ERROR_FUTURE_DATE

    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    response = signed_in.post(reverse("clients:consent_add", args=[case.pk]), consent_data(given_on=tomorrow))
    assert_field_error(response, "given_on", ERROR_FUTURE_DATE)
    assert not Consent.objects.filter(client=case).exists()
