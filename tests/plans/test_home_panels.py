"""Reminders on the home pages: a counsellor's plan reviews due (the review date passed or within seven days), a
manager's plans waiting for approval and overdue reviews. Dates are Phnom Penh's calendar days, whatever the time in
UTC; lists show the UIC and initials, never a name; their query counts do not grow with their length."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from casemgmt import crypto
from plans import selectors
from plans.models import TreatmentPlan
from tests.clients.helpers import make_client
from tests.conftest import sign_in
from tests.plans.factories import active_plan, submitted_plan

pytestmark = pytest.mark.django_db

PHNOM_PENH = zoneinfo.ZoneInfo("Asia/Phnom_Penh")
# 17:30 UTC on 10 March is already 00:30 on 11 March in Phnom Penh (UTC+7).
NOW = datetime.datetime(2026, 3, 10, 17, 30, tzinfo=datetime.UTC)
TODAY = datetime.date(2026, 3, 11)


@pytest.fixture
def frozen(monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    assert timezone.localdate() == TODAY and NOW.date() == datetime.date(2026, 3, 10)
    return TODAY


def plan_reviewed_on(review_on, *, alice, mark, client):
    plan = active_plan(author=alice, client=client, manager=mark)
    TreatmentPlan.objects.filter(pk=plan.pk).update(review_on=review_on)  # a date the form would refuse now
    return plan


def test_due_and_overdue_follow_phnom_penhs_calendar_at_the_boundaries(frozen, alice, mark, centre_a):
    days = {-1: "yesterday", 0: "today", 7: "in seven days", 8: "in eight days"}
    plans = {}
    for n, (offset, label) in enumerate(days.items()):
        case = make_client(actor=alice, organisation=centre_a, n=60 + n)
        plans[label] = plan_reviewed_on(TODAY + datetime.timedelta(days=offset), alice=alice, mark=mark, client=case)
    due = {plan.pk for plan in selectors.reviews_due(user=alice)}
    overdue = {plan.pk for plan in selectors.overdue_reviews(user=mark)}
    assert due == {plans[k].pk for k in ("yesterday", "today", "in seven days")}
    assert overdue == {plans["yesterday"].pk}  # today's review is due, not yet overdue (in UTC it is still the 10th)


def test_a_review_on_the_utc_date_is_not_overdue_before_midnight_in_phnom_penh(monkeypatch, alice, mark, centre_a):
    # 16:59 UTC is 23:59 in Phnom Penh: the 10th there too, so a review on the 10th is due, not overdue.
    monkeypatch.setattr(timezone, "now", lambda: datetime.datetime(2026, 3, 10, 16, 59, tzinfo=datetime.UTC))
    case = make_client(actor=alice, organisation=centre_a, n=70)
    plan = plan_reviewed_on(datetime.date(2026, 3, 10), alice=alice, mark=mark, client=case)
    assert [p.pk for p in selectors.reviews_due(user=alice)] == [plan.pk]
    assert selectors.overdue_reviews(user=mark) == []
    monkeypatch.setattr(timezone, "now", lambda: datetime.datetime(2026, 3, 10, 17, 0, tzinfo=datetime.UTC))
    assert [p.pk for p in selectors.overdue_reviews(user=mark)] == [plan.pk]  # midnight in Phnom Penh


def test_only_plans_in_force_have_reviews_due(frozen, alice, mark, centre_a):
    case = make_client(actor=alice, organisation=centre_a, n=71)
    plan = submitted_plan(author=alice, client=case)
    TreatmentPlan.objects.filter(pk=plan.pk).update(review_on=TODAY - datetime.timedelta(days=3))
    assert selectors.reviews_due(user=alice) == [] and selectors.overdue_reviews(user=mark) == []


def test_the_counsellors_home_shows_reviews_due_by_uic_and_initials(client, frozen, alice, carol, mark, centre_a):
    mine = make_client(actor=alice, organisation=centre_a, n=72)
    theirs = make_client(actor=carol, organisation=centre_a, n=73)
    plan_reviewed_on(TODAY + datetime.timedelta(days=2), alice=alice, mark=mark, client=mine)
    plan_reviewed_on(TODAY, alice=carol, mark=mark, client=theirs)
    sign_in(client, alice)
    page = client.get(reverse("home")).content.decode()
    assert "Plan reviews due" in page and mine.uic in page and mine.initials in page
    assert mine.given_name not in page and mine.family_name not in page
    assert theirs.uic not in page  # a colleague's caseload


def test_the_managers_dashboard_shows_plans_waiting_and_overdue_reviews(client, frozen, alice, mark, mona, centre_a):
    waiting = make_client(actor=alice, organisation=centre_a, n=74)
    late = make_client(actor=alice, organisation=centre_a, n=75)
    submitted_plan(author=alice, client=waiting)
    plan_reviewed_on(TODAY - datetime.timedelta(days=1), alice=alice, mark=mark, client=late)
    sign_in(client, mona)
    response = client.get(reverse("home"))
    page = response.content.decode()
    assert "Plans waiting for approval" in page and "Overdue plan reviews" in page
    panel = next(p for p in response.context["panels"] if p["template"] == "plans/home_panel.html")
    assert [p.client_id for p in panel["waiting"]] == [waiting.pk]
    assert [p.client_id for p in panel["overdue"]] == [late.pk]
    assert waiting.uic in page and late.uic in page and waiting.given_name not in page


def test_another_centres_manager_sees_none_of_them(client, frozen, alice, mark, nina, centre_a):
    case = make_client(actor=alice, organisation=centre_a, n=76)
    submitted_plan(author=alice, client=case)
    plan_reviewed_on(TODAY - datetime.timedelta(days=1), alice=alice, mark=mark,
                     client=make_client(actor=alice, organisation=centre_a, n=77))
    assert selectors.waiting_for_approval(user=nina) == [] and selectors.overdue_reviews(user=nina) == []


def home_queries(client, user) -> int:
    sign_in(client, user)
    crypto.data_key_cache.clear()  # every client's key looked up again, as after the cache's minute
    with CaptureQueriesContext(connection) as captured:
        assert client.get(reverse("home")).status_code == 200
    client.logout()
    return len(captured)


def test_the_home_pages_make_as_many_queries_for_one_plan_as_for_many(client, frozen, alice, mona, mark, centre_a):
    def add(n):
        case = make_client(actor=alice, organisation=centre_a, n=80 + n)
        plan_reviewed_on(TODAY - datetime.timedelta(days=1), alice=alice, mark=mark, client=case)
        submitted_plan(author=alice, client=case)

    # More than the five recent clients of the clients' panel, whose keys the plans' lists would find cached.
    for n in range(6):
        add(n)
    six = home_queries(client, alice), home_queries(client, mona)
    for n in range(6, 12):
        add(n)
    assert (home_queries(client, alice), home_queries(client, mona)) == six
