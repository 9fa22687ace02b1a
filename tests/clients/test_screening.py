"""WHO ASSIST through the screening form: coded results, the result page, field errors, change over time."""

from __future__ import annotations

import datetime
import re

import pytest
from django.urls import resolve, reverse
from django.utils import timezone

from casemgmt.models import AuditEvent
from clients import assist, services
from clients.models import Screening
from tests.clients.helpers import (
    assert_field_error,
    detail_url,
    full_screening_data,
    give_consent,
    make_client,
    used,
)
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate
# 6 + 6 + 7 + 8 + 6 + 6: the highest possible alcohol score.
DAILY_ALCOHOL = used(q2="daily", q3="daily", q4="daily", q5="daily", q6="yes_recent", q7="yes_recent")
# 3 + 3 + 0 + 0 + 0 + 0 = 6: moderate for a stimulant (from 4).
MONTHLY_ATS = used(q2="monthly", q3="once_twice", q4="never", q5="never")
# 4 + 4 + 0 + 0 + 0 + 0 = 8: low for alcohol (moderate from 11).
WEEKLY_ALCOHOL = used(q2="weekly", q3="monthly", q4="never", q5="never")
HIGH_INTERVENTION = "Brief intervention and referral to specialist assessment and more intensive treatment"


@pytest.fixture
def case(alice, centre_a):
    case = make_client(actor=alice, organisation=centre_a, n=1)
    give_consent(case, actor=alice, given_on=TODAY() - datetime.timedelta(days=90))
    return case


@pytest.fixture
def signed_in(client, alice):
    return sign_in(client, alice)


def post_screening(client, case, **kwargs):
    return client.post(reverse("clients:screening_add", args=[case.pk]), full_screening_data(**kwargs))


def screening_from_redirect(response) -> Screening:
    assert response.status_code == 302, response.context["form"].errors if response.context else response
    match = resolve(response.url)
    assert match.view_name == "clients:screening"
    return Screening.objects.get(pk=match.kwargs["screening_id"])


def row(html: str, label: str) -> list[str]:
    """The cells of the result table's row for ``label``."""
    found = re.search(rf"<tr><td>{re.escape(label)}</td>(.*?)</tr>", html)
    assert found, f"no row for {label}"
    return re.findall(r"<td>(.*?)</td>", found.group(1))


def test_a_full_screening_stores_coded_results_and_updates_the_risk_level(signed_in, case):
    response = post_screening(signed_in, case, alcohol=DAILY_ALCOHOL, amphetamine=MONTHLY_ATS, q8="yes_recent",
                              intake={"primary_substance": "amphetamine", "route": "smoking"})
    screening = screening_from_redirect(response)

    assert screening.results["substances"]["alcohol"] == {
        "used": True, "score": 39, "risk": "high", "intervention": "intensive_treatment"}
    assert screening.results["substances"]["amphetamine"] == {
        "used": True, "score": 6, "risk": "moderate", "intervention": "brief_intervention"}
    assert screening.results["substances"]["opioids"] == {
        "used": False, "score": 0, "risk": "low", "intervention": "none"}
    assert (screening.highest_risk, screening.injection_risk, screening.primary_substance) == (
        "high", "recent", "amphetamine")
    case.refresh_from_db()
    assert case.risk_level == "high"


def test_the_result_page_shows_scores_risks_and_recommended_interventions(signed_in, case):
    response = post_screening(signed_in, case, alcohol=DAILY_ALCOHOL, amphetamine=MONTHLY_ATS, q8="yes_recent")
    page = signed_in.get(response.url)
    html = page.content.decode()
    assert page.status_code == 200
    assert row(html, "Alcoholic beverages") == ["39", "High", HIGH_INTERVENTION]
    assert row(html, "Amphetamine-type stimulants") == ["6", "Moderate", "Brief intervention"]
    assert row(html, "Opioids") == ["0", "—", "—"]  # never used: no risk, no intervention
    assert "Injecting in the past 3 months" in html
    assert f"<h1>Screening of {TODAY():%Y-%m-%d}</h1>" in html


def test_a_screening_where_nothing_was_used_is_low_risk_with_no_intervention(signed_in, case):
    screening = screening_from_redirect(post_screening(signed_in, case))
    assert screening.highest_risk == ""
    assert all(not r["used"] and r["score"] == 0 for r in screening.results["substances"].values())
    html = signed_in.get(reverse("clients:screening", args=[case.pk, screening.pk])).content.decode()
    assert "No injecting-specific intervention needed." in html


# Answers the ASSIST does not allow: a field error, nothing saved --------------------------------

def assert_nothing_saved(case) -> None:
    assert Screening.objects.count() == 0
    assert AuditEvent.objects.filter(object_type="clients.screening").count() == 0
    case.refresh_from_db()
    assert case.risk_level == ""


def test_an_answer_outside_the_allowed_values_is_a_field_error(signed_in, case):
    response = post_screening(signed_in, case, alcohol=used(q2="sometimes", q3="never", q4="never", q5="never"))
    assert_field_error(response, "alcohol__q2",
                       "Select a valid choice. sometimes is not one of the available choices.")
    assert_nothing_saved(case)


def test_an_injecting_answer_outside_the_allowed_values_is_a_field_error(signed_in, case):
    response = post_screening(signed_in, case, q8="often")
    assert_field_error(response, "q8", "Select a valid choice. often is not one of the available choices.")
    assert_nothing_saved(case)


def test_question_1_is_required_for_every_substance(signed_in, case):
    data = full_screening_data(alcohol=DAILY_ALCOHOL)
    del data["cannabis__q1"]
    response = signed_in.post(reverse("clients:screening_add", args=[case.pk]), data)
    assert_field_error(response, "cannabis__q1", "This field is required.")
    assert_nothing_saved(case)


def test_a_skipped_question_that_was_answered_is_a_field_error(signed_in, case):
    # Q2 says "never in the past three months", so Q3 must be left out.
    response = post_screening(signed_in, case, alcohol=used(q2="never", q3="daily"))
    message = str(assist.SKIPPED_NOT_RECENT % {"substance": "Alcoholic beverages", "number": 3})
    assert_field_error(response, "alcohol__q3", message)
    assert_nothing_saved(case)


def test_a_question_that_must_be_asked_but_is_left_out_is_a_field_error(signed_in, case):
    response = post_screening(signed_in, case, opioids=used(q2="weekly", q3="weekly", q4="weekly"))
    message = str(assist.MISSING_ANSWER % {"substance": "Opioids", "number": 5})
    assert_field_error(response, "opioids__q5", message)
    assert_nothing_saved(case)


def test_a_negative_hiv_status_needs_the_date_of_the_test(signed_in, case):
    response = post_screening(signed_in, case, hiv_status="negative")
    assert_field_error(response, "hiv_tested_on", services.ERROR_HIV_TEST_DATE)
    assert_nothing_saved(case)


# Change over time ---------------------------------------------------------------------------------

def test_repeat_screenings_show_the_change_in_score_on_the_client_page(signed_in, case):
    first = screening_from_redirect(post_screening(signed_in, case, alcohol=WEEKLY_ALCOHOL,
                                                   screened_on=TODAY() - datetime.timedelta(days=60)))
    case.refresh_from_db()
    assert case.risk_level == "low"
    second = screening_from_redirect(post_screening(signed_in, case, alcohol=DAILY_ALCOHOL))
    case.refresh_from_db()
    assert case.risk_level == "high"

    html = signed_in.get(detail_url(case)).content.decode()
    newest = html.index(reverse("clients:screening", args=[case.pk, second.pk]))
    oldest = html.index(reverse("clients:screening", args=[case.pk, first.pk]))
    assert newest < oldest  # most recent first
    second_item = html[newest:oldest]
    assert "Alcoholic beverages 39 (+31)" in second_item
    assert "(+" not in html[oldest:oldest + 600]  # the first screening has nothing to compare with


def test_a_lower_score_shows_as_a_decrease_and_lowers_the_risk(signed_in, case):
    post_screening(signed_in, case, alcohol=DAILY_ALCOHOL, screened_on=TODAY() - datetime.timedelta(days=30))
    screening_from_redirect(post_screening(signed_in, case, alcohol=WEEKLY_ALCOHOL))
    case.refresh_from_db()
    assert case.risk_level == "low"
    assert "Alcoholic beverages 8 (-31)" in signed_in.get(detail_url(case)).content.decode()


def test_score_changes_name_substances_as_the_user_reads_them(signed_in, case):
    post_screening(signed_in, case, amphetamine=MONTHLY_ATS)
    html = signed_in.get(detail_url(case)).content.decode()
    assert "Amphetamine-type stimulants 6" in html
    assert "amphetamine 6" not in html


def test_another_centre_cannot_screen_the_client(client, bob, case):
    sign_in(client, bob)
    assert post_screening(client, case, alcohol=DAILY_ALCOHOL).status_code == 404
    assert Screening.objects.count() == 0
    case.refresh_from_db()
    assert case.risk_level == ""


def test_substances_keep_the_questionnaires_order_on_every_database(signed_in, case):
    # PostgreSQL's jsonb stores keys in its own order; the pages must not follow it.
    screening = screening_from_redirect(post_screening(signed_in, case, other=MONTHLY_ATS, tobacco=used(
        q2="daily", q3="daily", q4="weekly"), opioids=MONTHLY_ATS))
    result = signed_in.get(reverse("clients:screening", args=[case.pk, screening.pk])).content.decode()
    labels = [str(label) for _code, label in assist.SUBSTANCE_CHOICES]
    assert [label for label in labels if f"<td>{label}</td>" in result] == labels
    assert [result.index(f"<td>{label}</td>") for label in labels] == sorted(
        result.index(f"<td>{label}</td>") for label in labels)
    detail = signed_in.get(detail_url(case)).content.decode()
    assert detail.index("Tobacco products 18") < detail.index("Opioids 6") < detail.index("Other substances 6")
