"""Scopes and periods: who sees whose figures, and what a bad request is told.

A reviewer sees the country, or one province when their membership says so (set by an administrator through a
membership change, audited, never by the reviewer); a manager sees their own organisation. Bad periods and
unknown provinces or organisations are clear, translated form errors; a province beyond a reviewer's limit is a
refusal, an organisation beyond it "not found"."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from casemgmt import services
from casemgmt.models import ERROR_PROVINCE_NOT_REVIEWER, AuditEvent, Membership, MembershipChange
from casemgmt.roles import Province, Role
from reports import forms, scope
from tests.conftest import sign_in
from tests.reports.factories import client as person
from tests.reports.factories import local, past_month

pytestmark = pytest.mark.django_db

DASHBOARD = reverse("reports:dashboard")


def limited(reviewer, province: str = Province.BATTAMBANG):
    services.membership_set(user=reviewer, organisation=reviewer.membership.organisation, role=Role.MOH_REVIEWER,
                            province=province)
    reviewer.refresh_from_db()
    return reviewer


def errors_of(response) -> dict:
    return {name: [str(e) for e in errors] for name, errors in response.context["d"]["form"].errors.items()}


def month_query(period) -> dict:
    return {"period": "month", "year": period.start.year, "month": period.start.month}


# The province limit on the membership -------------------------------------------------------------------------

def test_an_administrator_limits_a_reviewer_to_a_province_through_a_recorded_membership_change(
        client, sam, rita, ministry):
    sign_in(client, sam)
    membership = Membership.objects.get(user=rita)

    response = client.post(reverse("admin:casemgmt_membership_change", args=[membership.pk]),
                           {"organisation": ministry.pk, "role": Role.MOH_REVIEWER, "province": Province.BATTAMBANG})

    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.province == Province.BATTAMBANG
    change = MembershipChange.objects.filter(user=rita).first()
    assert (change.from_province, change.to_province, change.status, change.proposed_by) == (
        "", Province.BATTAMBANG, "applied", sam)
    assert change.after_label().endswith("Battambang only")
    event = AuditEvent.objects.get(object_type="casemgmt.membershipchange", object_id=str(change.pk))
    assert event.fields == ["province"] and event.actor_username == "sam"
    listing = client.get(reverse("admin:casemgmt_membershipchange_changelist")).content.decode()
    assert "Battambang only" in listing
    # Her open sessions end: the next request signs her out.
    assert membership.generation > 0


def test_nobody_limits_or_widens_their_own_scope_and_only_reviewers_have_one(rita, sam, alice, ministry, centre_a):
    with pytest.raises(ValidationError) as own:
        services.membership_change_propose(actor=rita, user=rita, organisation=ministry, role=Role.MOH_REVIEWER)
    assert own.value.messages == [str(services.ERROR_OWN_MEMBERSHIP)]
    with pytest.raises(ValidationError) as counsellor:
        services.membership_change_propose(actor=sam, user=alice, organisation=centre_a, role=Role.COUNSELLOR,
                                           province=Province.KANDAL)
    assert counsellor.value.message_dict == {"province": [str(ERROR_PROVINCE_NOT_REVIEWER)]}
    assert AuditEvent.objects.filter(action="access_denied", actor_username="rita",
                                     reason="separation of duties: own membership").exists()


def test_a_reviewer_cannot_reach_the_administration_to_change_it(client, rita):
    sign_in(client, rita)
    assert client.get(reverse("admin:casemgmt_membership_changelist")).status_code == 403


# What a reviewer limited to a province sees -------------------------------------------------------------------

def test_a_limited_reviewer_sees_their_province_by_default(client, rita, alice, bob, centre_a, centre_b):
    period = past_month(1)
    limited(rita)
    for n in range(6):
        person(actor=bob, organisation=centre_b, n=n, registered_at=local(period.start, 10))
        person(actor=alice, organisation=centre_a, n=n + 10, registered_at=local(period.start, 10))
    sign_in(client, rita)

    response = client.get(DASHBOARD)

    d = response.context["d"]
    assert d["scope"] == scope.Scope(scope.PROVINCE, province=Province.BATTAMBANG)
    headlines = {h.indicator.code: h.figure.text for h in d["report"].headlines}
    assert headlines["CL-NEW"] == "6"  # Battambang's six, not Phnom Penh's
    home = client.get(reverse("home")).content.decode()
    assert "<h1>Figures of your province</h1>" in home and "Battambang" in home


def test_a_limited_reviewer_asking_for_the_country_or_another_province_is_refused_and_it_is_audited(
        client, rita, centre_a, centre_b):
    limited(rita)
    sign_in(client, rita)
    period = past_month(1)
    refusal = str(scope.ERROR_OTHER_PROVINCE % {"province": "Battambang"})

    national = client.get(DASHBOARD, {**month_query(period), "scope": "national"})
    other = client.get(DASHBOARD, {**month_query(period), "scope": "province", "province": Province.PHNOM_PENH})

    assert errors_of(national) == {"scope": [refusal]}
    assert errors_of(other) == {"province": [refusal]}
    assert "report" not in national.context["d"]
    assert refusal in national.content.decode()
    assert AuditEvent.objects.filter(action="access_denied", object_type="reports.report",
                                     actor_username="rita").count() == 2
    own = client.get(DASHBOARD, {**month_query(period), "scope": "province", "province": Province.BATTAMBANG})
    assert own.status_code == 200 and own.context["d"]["report"] is not None


def test_an_organisation_outside_a_limited_reviewers_province_is_not_found(client, rita, centre_a, centre_b):
    limited(rita)
    sign_in(client, rita)
    period = past_month(1)

    outside = client.get(DASHBOARD, {**month_query(period), "scope": "organisation", "organisation": centre_a.pk})
    missing = client.get(DASHBOARD, {**month_query(period), "scope": "organisation",
                                     "organisation": "00000000-0000-4000-8000-000000000000"})
    inside = client.get(DASHBOARD, {**month_query(period), "scope": "organisation", "organisation": centre_b.pk})

    assert (outside.status_code, missing.status_code, inside.status_code) == (404, 404, 200)
    assert inside.context["d"]["scope"].organisation == centre_b
    csv = client.get(reverse("reports:report_csv"), {**month_query(period), "scope": "organisation",
                                                     "organisation": centre_a.pk})
    assert csv.status_code == 404


# A national reviewer's bad input ------------------------------------------------------------------------------

@pytest.mark.parametrize(("query", "errors"), [
    ({"scope": "province", "province": "KH-99"}, {"province": [str(forms.ERROR_UNKNOWN_PROVINCE)]}),
    ({"scope": "province", "province": ""}, {"province": [str(forms.ERROR_UNKNOWN_PROVINCE)]}),
    ({"scope": "organisation", "organisation": "00000000-0000-4000-8000-000000000000"},
     {"organisation": [str(forms.ERROR_UNKNOWN_ORGANISATION)]}),
    ({"scope": "organisation", "organisation": "not-an-id"},
     {"organisation": [str(forms.ERROR_UNKNOWN_ORGANISATION)]}),
    ({"scope": "galaxy"}, {"scope": [str(forms.ERROR_SCOPE_KIND)]}),
])
def test_an_unknown_province_or_organisation_is_a_clear_form_error(client, rita, centre_a, query, errors):
    sign_in(client, rita)
    response = client.get(DASHBOARD, {**month_query(past_month(1)), **query})
    assert response.status_code == 200
    assert errors_of(response) == errors
    assert "report" not in response.context["d"]


def test_bad_periods_are_clear_form_errors(client, rita):
    sign_in(client, rita)
    today = timezone.localdate()
    next_month = (today.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)
    cases = [
        ({"period": "month", "year": next_month.year, "month": next_month.month}, {"month": [forms.ERROR_FUTURE]}),
        ({"period": "year", "year": today.year + 1}, {"year": [forms.ERROR_FUTURE]}),
        ({"period": "quarter", "year": today.year + 1, "quarter": 1}, {"quarter": [forms.ERROR_FUTURE]}),
        ({"period": "range", "start": (today - datetime.timedelta(days=10)).isoformat(),
          "end": (today + datetime.timedelta(days=1)).isoformat()}, {"end": [forms.ERROR_END_FUTURE]}),
        ({"period": "range", "start": "2020-03-01", "end": "2020-02-01"}, {"end": [forms.ERROR_END_BEFORE_START]}),
        ({"period": "range", "start": "2019-01-01", "end": "2024-01-01"}, {"end": [forms.ERROR_TOO_LONG]}),
        ({"period": "range", "start": "2019-01-02", "end": ""}, {"end": [forms.ERROR_NEEDS_DAYS]}),
        ({"period": "month", "year": 1999, "month": 1}, {"year": [forms.ERROR_YEAR % {"first": 2000}]}),
        ({"period": "month", "year": 2020, "month": 13}, {"month": [forms.ERROR_MONTH]}),
        ({"period": "week"}, {"period": [forms.ERROR_PERIOD_KIND]}),
    ]
    for query, expected in cases:
        response = client.get(DASHBOARD, query)
        assert errors_of(response) == {k: [str(m) for m in v] for k, v in expected.items()}, query
    # Five years less a day is a range; so is the current month, to date.
    assert client.get(DASHBOARD, {"period": "range", "start": "2019-01-02", "end": "2024-01-01"}).context["d"][
        "report"].period.end == datetime.date(2024, 1, 1)
    current = client.get(DASHBOARD, {"period": "month", "year": today.year, "month": today.month}).context["d"]
    assert current["report"].period.end == today and current["report"].period.to_date


def test_a_khmer_page_gives_the_errors_in_khmer_where_they_are_translated(client, rita):
    sign_in(client, rita)
    client.post(reverse("set_language"), {"language": "km", "next": DASHBOARD})
    response = client.get(DASHBOARD, {"period": "month", "year": 2020, "month": 13})
    assert '<html lang="km">' in response.content.decode()
    assert errors_of(response)["month"]


# A centre manager --------------------------------------------------------------------------------------------

def test_a_centre_manager_sees_their_own_centre_only_whatever_they_ask(client, mona, alice, bob, centre_a, centre_b):
    period = past_month(1)
    for n in range(5):
        person(actor=alice, organisation=centre_a, n=n, registered_at=local(period.start, 10))
    for n in range(7):
        person(actor=bob, organisation=centre_b, n=n + 10, registered_at=local(period.start, 10))
    sign_in(client, mona)

    response = client.get(DASHBOARD, {**month_query(period), "scope": "organisation", "organisation": centre_b.pk})

    d = response.context["d"]
    assert d["scope"] == scope.Scope(scope.ORGANISATION, organisation=centre_a)
    assert "scope" not in d["form"].fields
    assert {h.indicator.code: h.figure.text for h in d["report"].headlines}["CL-NEW"] == "5"
    assert "Centre B" not in response.content.decode()


def test_a_province_scope_counts_only_that_provinces_organisations(rita, alice, pete, centre_a, prison):
    from reports import indicators

    period = past_month(1)
    person(actor=alice, organisation=centre_a, n=1, registered_at=local(period.start, 10))
    person(actor=pete, organisation=prison, n=2, registered_at=local(period.start, 10))
    kandal = scope.access_scope(user=rita, kind=scope.PROVINCE, province=Province.KANDAL)

    assert indicators.new_clients(kandal, period).total == 1
    assert [o.name for o in kandal.organisations()] == ["Prison unit (test)"]
