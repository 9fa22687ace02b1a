"""Overdue, for both sides: not accepted within the service's target days (or by the due date), or accepted and not
closed by the due date (without one, within the target days from acceptance), counted in Phnom Penh dates. The SQL
form and the Python form agree, and each page shows the flag."""

from __future__ import annotations

import datetime
import itertools

import pytest
from django.urls import reverse
from django.utils import timezone

from referrals import selectors, services
from referrals.models import Referral, ReferralStatus
from tests.conftest import sign_in
from tests.referrals.factories import client_with_history, partner_service, referral, sharing_consent

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
DAY = datetime.timedelta(days=1)


@pytest.fixture
def made(alice, centre_a, partner):
    """A factory of sent referrals of one client to a service with the given target, then set as asked."""
    client = client_with_history(counsellor=alice, organisation=centre_a)
    consent = sharing_consent(counsellor=alice, client=client, partner=partner)
    services_by_target = {}

    def make(*, target_days=7, send=True, **fields) -> Referral:
        if target_days not in services_by_target:
            services_by_target[target_days] = partner_service(organisation=partner, target_days=target_days)
        sent = referral(counsellor=alice, client=client, service=services_by_target[target_days], consent=consent,
                        send=send)
        Referral.objects.filter(pk=sent.pk).update(**fields)
        return Referral.objects.select_related("service").get(pk=sent.pk)

    return make


def both_forms(referral: Referral, day: datetime.date) -> tuple[bool, bool]:
    """(the Python form, the SQL form) on ``day``."""
    return (selectors.is_overdue(referral, today=day),
            Referral.objects.filter(selectors.overdue_q(today=day), pk=referral.pk).exists())


def test_not_accepted_is_overdue_the_day_after_the_target_counted_from_the_local_day_it_was_sent(made):
    # 23:30 UTC on 1 March is 06:30 on 2 March in Phnom Penh: the seven days count from the 2nd.
    late_evening = made(target_days=7, sent_at=datetime.datetime(2026, 3, 1, 23, 30, tzinfo=UTC))
    assert both_forms(late_evening, datetime.date(2026, 3, 9)) == (False, False)
    assert both_forms(late_evening, datetime.date(2026, 3, 10)) == (True, True)
    # 16:59 UTC on 1 March is still the 1st in Phnom Penh (23:59): a day earlier.
    before_midnight = made(target_days=7, sent_at=datetime.datetime(2026, 3, 1, 16, 59, tzinfo=UTC))
    assert both_forms(before_midnight, datetime.date(2026, 3, 8)) == (False, False)
    assert both_forms(before_midnight, datetime.date(2026, 3, 9)) == (True, True)


def test_not_accepted_is_overdue_after_its_due_date_when_that_comes_before_the_target(made):
    urgent = made(target_days=14, sent_at=datetime.datetime(2026, 3, 2, 3, 0, tzinfo=UTC),
                  due_on=datetime.date(2026, 3, 4))
    assert both_forms(urgent, datetime.date(2026, 3, 4)) == (False, False)  # due today: not yet
    assert both_forms(urgent, datetime.date(2026, 3, 5)) == (True, True)


@pytest.mark.parametrize("status", [ReferralStatus.ACCEPTED, ReferralStatus.ATTENDED])
def test_accepted_or_attended_is_overdue_after_its_due_date_whatever_the_target(made, status):
    taken = made(target_days=1, status=status, sent_at=datetime.datetime(2026, 3, 2, 3, 0, tzinfo=UTC),
                 accepted_at=datetime.datetime(2026, 3, 2, 4, 0, tzinfo=UTC), due_on=datetime.date(2026, 3, 20))
    assert both_forms(taken, datetime.date(2026, 3, 20)) == (False, False)
    assert both_forms(taken, datetime.date(2026, 3, 21)) == (True, True)


@pytest.mark.parametrize("status", [ReferralStatus.ACCEPTED, ReferralStatus.ATTENDED])
def test_without_a_due_date_the_target_counts_from_the_local_day_it_was_accepted(made, status):
    sent = datetime.datetime(2026, 2, 1, 3, 0, tzinfo=UTC)  # long ago: the sending no longer counts
    at_midnight = made(target_days=7, status=status, sent_at=sent,
                       accepted_at=datetime.datetime(2026, 3, 1, 17, 0, tzinfo=UTC))  # 00:00 on 2 March, local
    assert both_forms(at_midnight, datetime.date(2026, 3, 9)) == (False, False)
    assert both_forms(at_midnight, datetime.date(2026, 3, 10)) == (True, True)
    a_second_before = made(target_days=7, status=status, sent_at=sent,
                           accepted_at=datetime.datetime(2026, 3, 1, 16, 59, 59, tzinfo=UTC))  # 23:59:59, 1 March
    assert both_forms(a_second_before, datetime.date(2026, 3, 8)) == (False, False)
    assert both_forms(a_second_before, datetime.date(2026, 3, 9)) == (True, True)


@pytest.mark.parametrize("status", [ReferralStatus.DRAFT, ReferralStatus.DECLINED, ReferralStatus.NO_SHOW,
                                    ReferralStatus.COMPLETED, ReferralStatus.CLOSED_UNRESOLVED,
                                    ReferralStatus.CANCELLED])
def test_drafts_and_closed_referrals_are_never_overdue(made, status):
    old = made(target_days=1, status=status, sent_at=datetime.datetime(2025, 1, 1, 3, 0, tzinfo=UTC),
               accepted_at=datetime.datetime(2025, 1, 2, 3, 0, tzinfo=UTC), due_on=datetime.date(2025, 1, 3))
    assert both_forms(old, datetime.date(2026, 3, 1)) == (False, False)


def test_the_sql_and_python_forms_agree_on_every_combination_and_day(made):
    start = datetime.datetime(2026, 3, 1, 16, 30, tzinfo=UTC)  # 23:30 local: a moment next to a day's edge
    rows = []
    for status, target, accepted_hours, due in itertools.product(
            [ReferralStatus.SENT, ReferralStatus.ACCEPTED, ReferralStatus.ATTENDED, ReferralStatus.COMPLETED],
            [1, 3], [None, 1, 30], [None, datetime.date(2026, 3, 3)]):
        if (status == ReferralStatus.SENT) != (accepted_hours is None):
            continue
        rows.append(made(target_days=target, status=status, sent_at=start, send=False, due_on=due,
                         accepted_at=None if accepted_hours is None else start + datetime.timedelta(
                             hours=accepted_hours)))
    ids = [r.pk for r in rows]
    flagged_somewhere = set()
    for day in (datetime.date(2026, 3, 1) + n * DAY for n in range(8)):
        python = {r.pk for r in rows if selectors.is_overdue(r, today=day)}
        sql = set(Referral.objects.filter(selectors.overdue_q(today=day), pk__in=ids).values_list("pk", flat=True))
        assert python == sql, day
        flagged_somewhere |= python
    assert flagged_somewhere and flagged_somewhere != set(ids)  # the days tried cross the boundaries


def test_both_sides_see_the_flag_on_an_accepted_referral_past_its_due_date(client, made, alice, priya):
    today = timezone.localdate()
    late = made(target_days=7, due_on=today + 2 * DAY)
    services.referral_accept(actor=priya, referral=late)
    on_time = made(target_days=7, due_on=today + 2 * DAY)
    services.referral_accept(actor=priya, referral=on_time)
    Referral.objects.filter(pk=late.pk).update(due_on=today - DAY)
    detail = reverse("referrals:detail", args=[late.pk])

    sign_in(client, priya)
    home = client.get(reverse("home")).content.decode()
    overdue_list = home[home.index("<h2>Overdue</h2>"):home.index("<h2>New referrals</h2>")]
    assert detail in overdue_list
    assert reverse("referrals:detail", args=[on_time.pk]) not in overdue_list
    assert "Overdue: 1" in home
    assert "<strong>Overdue</strong>" in client.get(detail).content.decode()
    assert "<strong>Overdue</strong>" not in client.get(
        reverse("referrals:detail", args=[on_time.pk])).content.decode()
    page = client.get(reverse("referrals:inbox"), {"show": "overdue"}).content.decode()
    assert detail in page and reverse("referrals:detail", args=[on_time.pk]) not in page

    client.logout()
    sign_in(client, alice)
    panel = client.get(reverse("home")).content.decode()
    row = panel[panel.index(detail):]
    assert "<strong>Overdue</strong>" in row[:row.index("</tr>")]
    assert "<strong>Overdue</strong>" in client.get(detail).content.decode()
    case_file = client.get(reverse("clients:detail", args=[late.client_id])).content.decode()
    section = case_file[case_file.index("<h2>Referrals</h2>"):]
    late_row = section[section.index(detail):]
    assert "<strong>Overdue</strong>" in late_row[:late_row.index("</tr>")]
    on_time_row = section[section.index(reverse("referrals:detail", args=[on_time.pk])):]
    assert "<strong>Overdue</strong>" not in on_time_row[:on_time_row.index("</tr>")]
