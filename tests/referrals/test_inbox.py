"""The referral officer's home: an inbox of their organisation's referrals, UIC only, counted in constant queries."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from referrals import selectors, services
from referrals.models import Referral
from tests.conftest import sign_in
from tests.referrals.factories import client_with_history, partner_service, referral, sharing_consent

pytestmark = pytest.mark.django_db


def sent_to(partner, alice, centre_a, *, days_ago=0, due_on=None, target_days=7, categories=("identity",),
            given_name="Testdara", **identity):
    client = client_with_history(counsellor=alice, organisation=centre_a, given_name=given_name, **identity)
    service = partner_service(organisation=partner, target_days=target_days)
    consent = sharing_consent(counsellor=alice, client=client, partner=partner)
    made = referral(counsellor=alice, client=client, service=service, consent=consent, categories=list(categories),
                    due_on=due_on)
    Referral.objects.filter(pk=made.pk).update(sent_at=timezone.now() - datetime.timedelta(days=days_ago))
    return made


def test_overdue_counts_local_dates_against_the_target_days(partner, alice, centre_a):
    made = sent_to(partner, alice, centre_a, target_days=2)
    made = Referral.objects.select_related("service").get(pk=made.pk)
    sent_day = timezone.localdate(made.sent_at)
    assert not selectors.is_overdue(made, today=sent_day + datetime.timedelta(days=2))
    assert selectors.is_overdue(made, today=sent_day + datetime.timedelta(days=3))
    # Sent at 23:30 UTC is already the next day in Phnom Penh (UTC+7): the count starts from that local day.
    late = datetime.datetime(2026, 3, 1, 23, 30, tzinfo=datetime.UTC)
    made.sent_at = late
    assert selectors.is_overdue(made, today=datetime.date(2026, 3, 5))
    assert not selectors.is_overdue(made, today=datetime.date(2026, 3, 4))


def test_the_inbox_lists_new_accepted_due_soon_and_overdue_with_uic_only(client, partner, alice, centre_a, priya):
    today = timezone.localdate()
    fresh = sent_to(partner, alice, centre_a, given_name="Zqfresh")
    late = sent_to(partner, alice, centre_a, days_ago=10, target_days=3, categories=("contact",),
                   mother_first_name="Chantha", father_first_name="Vuthy")
    due = sent_to(partner, alice, centre_a, due_on=today + datetime.timedelta(days=1))
    services.referral_accept(actor=priya, referral=due)
    inbox = selectors.partner_inbox(user=priya)
    assert inbox.counts == {"new": 2, "accepted": 1, "due_soon": 1, "overdue": 1}
    assert [r.pk for r in inbox.overdue] == [late.pk]
    sign_in(client, priya)
    html = client.get(reverse("home")).content.decode()
    assert "New: 2 · Accepted: 1 · Due soon: 1 · Overdue: 1" in html
    assert fresh.client.uic != late.client.uic
    assert fresh.client.uic in html  # identity shared: its UIC
    assert late.client.uic not in html  # only contact shared: no UIC
    assert "Zqfresh" not in html  # never a name in a list
    assert '<div class="table-wrap"><table class="list">' in html


def test_the_inbox_takes_the_same_queries_for_one_or_many(client, partner, alice, centre_a, priya,
                                                         django_assert_max_num_queries):
    sent_to(partner, alice, centre_a)
    sign_in(client, priya)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        client.get(reverse("home"))
    for _ in range(4):
        sent_to(partner, alice, centre_a, days_ago=9, target_days=1)
    with django_assert_max_num_queries(len(one.captured_queries)):
        client.get(reverse("home"))


def test_the_client_page_lists_its_referrals_with_a_refer_button(client, setup, alice, bob):
    sign_in(client, alice)
    html = client.get(reverse("clients:detail", args=[setup["client"].pk])).content.decode()
    assert reverse("referrals:detail", args=[setup["referral"].pk]) in html
    assert reverse("referrals:new", args=[setup["client"].pk]) in html
    assert "Sent" in html


def test_care_staff_follow_their_open_referrals_from_home_until_the_loop_closes(client, partner, alice, bob, centre_a,
                                                                                priya):
    made = sent_to(partner, alice, centre_a, days_ago=10, target_days=7)
    sign_in(client, alice)
    home = client.get(reverse("home")).content.decode()
    assert "Referrals to follow up" in home
    assert made.client.uic in home and reverse("referrals:detail", args=[made.pk]) in home
    assert "Overdue" in home  # not accepted within the service's 7 days
    assert "Testdara" not in home  # lists name the client by UIC only

    client.logout()
    sign_in(client, bob)  # another centre sees nothing of it
    other = client.get(reverse("home")).content.decode()
    assert made.client.uic not in other and reverse("referrals:detail", args=[made.pk]) not in other

    services.referral_cancel(actor=alice, referral=made, reason="client_declined")
    client.logout()
    sign_in(client, alice)  # the loop is closed: off the list (the client stays among the recent clients)
    assert reverse("referrals:detail", args=[made.pk]) not in client.get(reverse("home")).content.decode()
