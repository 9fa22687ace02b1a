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


# The inbox at scale: counted in SQL, lists limited, UICs decrypted for the rows shown, constant queries ------------

def many(partner, alice, centre_a, priya, *, each: int) -> dict[str, list]:
    """``each`` referrals of every kind of the inbox, of one client, made with the services (sending grants them)."""
    client = client_with_history(counsellor=alice, organisation=centre_a)
    consent = sharing_consent(counsellor=alice, client=client, partner=partner)
    service = partner_service(organisation=partner, target_days=3)
    today = timezone.localdate()
    made = {"new": [], "overdue": [], "due_soon": [], "accepted": []}

    def one(**kwargs):
        return referral(counsellor=alice, client=client, service=service, consent=consent,
                        categories=["identity"], **kwargs)

    for _ in range(each):
        made["new"].append(one())
        late = one()
        Referral.objects.filter(pk=late.pk).update(sent_at=timezone.now() - datetime.timedelta(days=9))
        made["overdue"].append(late)
        made["due_soon"].append(one(due_on=today + datetime.timedelta(days=2)))
        made["accepted"].append(services.referral_accept(actor=priya, referral=one()))
    return made


def test_the_inbox_counts_everything_and_lists_the_most_urgent_of_each_kind(client, partner, alice, centre_a, priya,
                                                                             monkeypatch):
    monkeypatch.setattr(selectors, "INBOX_LIST_SIZE", 2)
    made = many(partner, alice, centre_a, priya, each=3)
    inbox = selectors.partner_inbox(user=priya)
    # new: the 3 new, the 3 overdue and the 3 due soon are all still waiting to be accepted
    assert inbox.counts == {"new": 9, "accepted": 3, "due_soon": 3, "overdue": 3}
    assert {kind: len(getattr(inbox, kind)) for kind in selectors.INBOX_KINDS} == dict.fromkeys(
        selectors.INBOX_KINDS, 2)
    assert [r.pk for r in inbox.new] == [r.pk for r in made["overdue"][:2]]  # the oldest first
    assert all(r.overdue for r in inbox.overdue) and not any(r.overdue for r in inbox.accepted)
    sign_in(client, priya)
    html = client.get(reverse("home")).content.decode()
    assert "New: 9 · Accepted: 3 · Due soon: 3 · Overdue: 3" in html
    assert "The 2 most urgent of 9." in html and "The 2 most urgent of 3." in html
    for kind in selectors.INBOX_KINDS:
        assert f'href="{reverse("referrals:inbox")}?show={kind}"' in html


def test_only_the_uics_of_the_rows_shown_are_decrypted(partner, alice, centre_a, priya, monkeypatch):
    from casemgmt.encryption import crypto

    monkeypatch.setattr(selectors, "INBOX_LIST_SIZE", 1)
    for n in range(5):  # five clients, each with one new referral sharing their identity
        sent_to(partner, alice, centre_a, days_ago=n, given_name=f"Testdara{n}")
    opened = []
    real = crypto.decrypt
    monkeypatch.setattr(crypto, "decrypt", lambda *args, **kwargs: opened.append(args[0]) or real(*args, **kwargs))
    inbox = selectors.partner_inbox(user=priya)
    assert inbox.counts["new"] == 5 and len(inbox.new) == 1
    assert inbox.new[0].client_uic
    assert len(opened) == 1  # one UIC: the one row shown


def queries_of_home(client, django_assert_num_queries, expected=None):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if expected is None:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("home")).status_code == 200
        return len(captured.captured_queries)
    with django_assert_num_queries(expected):
        assert client.get(reverse("home")).status_code == 200
    return expected


def test_the_inbox_takes_the_same_number_of_queries_at_two_sizes(client, partner, alice, centre_a, priya,
                                                                django_assert_num_queries, monkeypatch):
    monkeypatch.setattr(selectors, "INBOX_LIST_SIZE", 3)
    from casemgmt import crypto

    many(partner, alice, centre_a, priya, each=1)
    sign_in(client, priya)
    crypto.reset_keyring()  # data keys not in memory yet, as in a fresh process
    with django_assert_num_queries(7):  # counts, four lists, the UICs and their data keys
        selectors.partner_inbox(user=priya)
    client.get(reverse("home"))  # the session's first request records its activity
    crypto.reset_keyring()
    small = queries_of_home(client, django_assert_num_queries)
    many(partner, alice, centre_a, priya, each=5)  # every list now longer than it shows
    crypto.reset_keyring()
    with django_assert_num_queries(7):
        inbox = selectors.partner_inbox(user=priya)
    assert inbox.counts["overdue"] == 6 and len(inbox.overdue) == 3
    crypto.reset_keyring()
    queries_of_home(client, django_assert_num_queries, expected=small)


def test_see_all_lists_every_referral_of_a_kind_by_pages(client, partner, alice, centre_a, priya, olga,
                                                        django_assert_num_queries, monkeypatch):
    from casemgmt.models import AuditAction, AuditEvent
    from referrals import views

    monkeypatch.setattr(views, "INBOX_PAGE_SIZE", 2)
    made = many(partner, alice, centre_a, priya, each=3)
    sign_in(client, priya)
    url = reverse("referrals:inbox")
    first = client.get(url, {"show": "overdue"}).content.decode()
    assert "<h1>Overdue</h1>" in first and "Page 1 of 2" in first and "?show=overdue&amp;page=2" in first
    assert "Overdue (3)" in first and 'href="?show=new"' in first and "New referrals (9)" in first
    second = client.get(url, {"show": "overdue", "page": 2}).content.decode()
    shown = [r.pk for r in made["overdue"] if reverse("referrals:detail", args=[r.pk]) in first + second]
    assert shown == [r.pk for r in made["overdue"]]
    assert all(reverse("referrals:detail", args=[r.pk]) not in first + second for r in made["accepted"])
    assert made["overdue"][0].client.uic in first  # identity shared: the UIC
    assert "<strong>Overdue</strong>" in first
    assert AuditEvent.objects.filter(action=AuditAction.VIEW, object_type="referrals.inbox",
                                     fields=["overdue"]).count() == 2
    assert client.get(url).status_code == 200  # new, by default
    assert client.get(url, {"show": "everything"}).status_code == 404

    from casemgmt import crypto

    _queries(client, url)
    crypto.reset_keyring()
    before = _queries(client, url)
    many(partner, alice, centre_a, priya, each=4)  # seven overdue now: page 2 is full
    crypto.reset_keyring()
    with django_assert_num_queries(before):
        client.get(url, {"show": "overdue", "page": 2})

    client.logout()
    sign_in(client, olga)  # another partner's officer: none of these
    other = client.get(url, {"show": "overdue"}).content.decode()
    assert "Overdue (0)" in other and made["overdue"][0].client.uic not in other


def _queries(client, url) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        client.get(url, {"show": "overdue", "page": 2})
    return len(captured.captured_queries)
