"""Follow-up: a no-show makes a task that stays until done; due and overdue, and "not seen for 30 days", are
counted in the centre's days (Asia/Phnom_Penh, UTC+7), not in UTC."""

from __future__ import annotations

import datetime

import pytest
from django.conf import settings
from django.urls import reverse

from casemgmt.transitions import TransitionRefused
from clients import services as client_services
from clients.models import Client
from counselling import selectors, services
from counselling.models import FollowUpTask, TaskStatus
from tests.conftest import sign_in
from tests.counselling.factories import counselling_client, recorded
from tests.counselling.helpers import html_of, utc

pytestmark = pytest.mark.django_db

# 23:30 UTC on the 10th is 06:30 on the 11th in Phnom Penh.
MISSED_AT = utc(2026, 3, 10, 23, 30)


def test_the_site_counts_days_in_phnom_penh():
    assert settings.TIME_ZONE == "Asia/Phnom_Penh"


@pytest.fixture
def missed(clock, alice, centre_a):
    """A client of alice's who missed an appointment at 06:30 (Phnom Penh) on 11 March."""
    clock(MISSED_AT + datetime.timedelta(hours=1))
    case = counselling_client(actor=alice, organisation=centre_a, n=1)
    recorded(actor=alice, client=case, when=MISSED_AT, attendance="no_show", note="")
    return case


def home_tasks(client) -> str:
    html = html_of(client, reverse("home"))
    return html[html.index('id="missed-appointments"'):html.index("</section>", html.index('id="missed-appointments"'))]


def test_a_no_show_makes_a_task_due_two_local_days_later(missed):
    task = FollowUpTask.objects.get()
    assert (task.client_id, task.reason, task.status) == (missed.pk, "missed_appointment", TaskStatus.OPEN)
    assert task.due_on == datetime.date(2026, 3, 13)  # from the 11th, the local day; UTC would give the 12th


@pytest.mark.parametrize(("now", "due_today", "overdue"), [
    (utc(2026, 3, 12, 16, 59), False, False),  # 23:59 on the 12th
    (utc(2026, 3, 12, 17, 0), True, False),  # 00:00 on the 13th: due today
    (utc(2026, 3, 13, 16, 59), True, False),  # 23:59 on the 13th
    (utc(2026, 3, 13, 17, 0), False, True),  # 00:00 on the 14th, still the 13th in UTC: overdue
])
def test_due_and_overdue_turn_at_local_midnight(missed, alice, now, due_today, overdue):
    (task,) = selectors.tasks_with_due(selectors.open_tasks(user=alice), now=now)
    assert (task.due_today, task.overdue) == (due_today, overdue)


def test_the_home_page_says_overdue_from_local_midnight(client, clock, alice, missed):
    clock(utc(2026, 3, 13, 16, 59))
    sign_in(client, alice)
    panel = home_tasks(client)
    assert missed.uic in panel and "due today" in panel and "overdue" not in panel
    clock(utc(2026, 3, 13, 17, 0))
    sign_in(client, alice)
    panel = home_tasks(client)
    assert "overdue" in panel and "due today" not in panel


def test_the_task_stays_until_it_is_done(client, clock, alice, missed):
    clock(utc(2026, 4, 30, 3))  # weeks later: still there
    sign_in(client, alice)
    assert missed.uic in home_tasks(client)
    task = FollowUpTask.objects.get()
    response = client.post(reverse("counselling:task_done", args=[task.pk]), {"next": reverse("home")})
    assert response.status_code == 302 and response.url == reverse("home")
    task.refresh_from_db()
    assert (task.status, task.done_by, task.done_at) == (TaskStatus.DONE, alice, utc(2026, 4, 30, 3))
    assert missed.uic not in home_tasks(client)
    with pytest.raises(TransitionRefused):
        services.task_complete(actor=alice, task=task)


def test_an_outside_next_address_is_not_followed(client, alice, missed):
    sign_in(client, alice)
    task = FollowUpTask.objects.get()
    response = client.post(reverse("counselling:task_done", args=[task.pk]), {"next": "https://example.com/"})
    assert response.url == reverse("counselling:tasks")


def test_the_task_goes_with_the_client_to_their_new_counsellor(client, mona, alice, carol, missed):
    client_services.client_assign(actor=mona, client=Client.objects.get(pk=missed.pk), counsellor=carol)
    sign_in(client, alice)
    assert missed.uic not in home_tasks(client)
    assert client.post(reverse("counselling:task_done", args=[FollowUpTask.objects.get().pk])).status_code == 404
    client.logout()
    sign_in(client, carol)
    assert missed.uic in home_tasks(client)


def test_recording_attendance_again_makes_no_second_task(alice, missed):
    from counselling.models import Participant

    services._follow_up_missed(actor=alice, participant=Participant.objects.get())
    assert FollowUpTask.objects.count() == 1


# --------------------------------------------------------------------------------------------
# Clients not seen for 30 days or more

NOW = utc(2026, 3, 11, 3)  # 10:00 on the 11th in Phnom Penh


def test_not_seen_counts_local_days(clock, alice, centre_a):
    clock(NOW)
    seen_29, seen_30, missed_only, never, fresh = (counselling_client(actor=alice, organisation=centre_a, n=n)
                                                   for n in range(1, 6))
    recorded(actor=alice, client=seen_29, when=utc(2026, 2, 9, 17, 30))  # 00:30 on 10 Feb there: 29 days ago
    recorded(actor=alice, client=seen_30, when=utc(2026, 2, 9, 16, 30))  # 23:30 on 9 Feb there: 30 days ago
    recorded(actor=alice, client=missed_only, when=utc(2026, 3, 9, 3), attendance="no_show", note="")
    Client.objects.filter(pk__in=[missed_only.pk, never.pk, seen_29.pk, seen_30.pk]).update(
        created_at=utc(2025, 12, 1))

    rows = list(selectors.not_seen(user=alice))

    assert [row.pk for row in rows] == sorted([missed_only.pk, never.pk], key=str) + [seen_30.pk]
    assert rows[-1].last_seen == utc(2026, 2, 9, 16, 30) and rows[0].last_seen is None
    assert fresh.pk not in [row.pk for row in rows]  # registered today, not "unseen" yet


def test_the_panel_shows_never_seen_clients_with_their_registration_date(client, clock, alice, centre_a):
    clock(NOW)
    never = counselling_client(actor=alice, organisation=centre_a, n=1)
    Client.objects.filter(pk=never.pk).update(created_at=utc(2026, 1, 5, 2))
    sign_in(client, alice)
    html = html_of(client, reverse("home"))
    panel = html[html.index('id="not-seen"'):]
    assert never.uic in panel and "never (registered 2026-01-05)" in panel
    assert never.uic in html_of(client, reverse("counselling:not_seen"))


def test_inactive_clients_and_other_caseloads_are_not_listed(clock, alice, carol, centre_a):
    clock(NOW)
    mine, theirs = (counselling_client(actor=who, organisation=centre_a, n=n) for who, n in ((alice, 1), (carol, 2)))
    Client.objects.filter(pk__in=[mine.pk, theirs.pk]).update(created_at=utc(2025, 12, 1))
    assert [c.pk for c in selectors.not_seen(user=alice)] == [mine.pk]
    Client.objects.filter(pk=mine.pk).update(status="inactive")
    assert list(selectors.not_seen(user=alice)) == []
