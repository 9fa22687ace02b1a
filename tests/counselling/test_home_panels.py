"""The counsellor's home (appointments today and in the next 7 days, earlier ones not recorded) and the manager's
dashboard (caseload sizes per counsellor, open risk flags, sessions delivered this month): days counted in
Phnom Penh, a constant number of queries whatever the number of sessions, UIC and initials only."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from casemgmt import crypto
from clients.models import Client
from counselling import selectors, services
from tests.clients.helpers import make_client
from tests.conftest import sign_in
from tests.counselling.factories import NOTE, ago, ahead, appointment, counselling_client, group, recorded
from tests.counselling.helpers import html_of, utc

pytestmark = pytest.mark.django_db

NOW = utc(2026, 3, 11, 16, 30)  # 23:30 on the 11th in Phnom Penh
BEFORE = utc(2026, 3, 9, 3)  # when the appointments were made


def test_today_and_the_next_7_days_are_the_centres_days(clock, alice, centre_a):
    clock(BEFORE)
    case = counselling_client(actor=alice, organisation=centre_a, n=1)
    at = {name: appointment(actor=alice, client=case, when=when, now=BEFORE) for name, when in [
        ("today, 06:30 there, the 10th in UTC", utc(2026, 3, 10, 23, 30)),
        ("tomorrow 00:30 there, still the 11th in UTC", utc(2026, 3, 11, 17, 30)),
        ("the 18th, 23:59 there", utc(2026, 3, 18, 16, 59)),
        ("the 19th, 00:00 there", utc(2026, 3, 18, 17, 0)),
        ("yesterday, never recorded", utc(2026, 3, 10, 3)),
    ]}
    clock(NOW)
    agenda = selectors.agenda(user=alice, now=NOW)
    assert [s.pk for s in agenda.today] == [at["today, 06:30 there, the 10th in UTC"].pk]
    assert [s.pk for s in agenda.next_days] == [at["tomorrow 00:30 there, still the 11th in UTC"].pk,
                                                at["the 18th, 23:59 there"].pk]
    assert [s.pk for s in agenda.unrecorded] == [at["yesterday, never recorded"].pk]


def test_the_counsellors_home_lists_the_days_appointments_with_uic_and_initials(client, clock, alice, centre_a):
    clock(utc(2026, 3, 11, 3))  # 10:00 there
    case = counselling_client(actor=alice, organisation=centre_a, n=1)
    today = appointment(actor=alice, client=case, when=ahead(hours=2))
    sign_in(client, alice)
    html = html_of(client, reverse("home"))
    panel = html[html.index('id="appointments-today"'):html.index('id="missed-appointments"')]
    assert case.uic in panel and f"<code>{case.uic}</code></a> {case.initials}" in panel
    assert reverse("counselling:session_record", args=[today.pk]) in panel
    assert case.given_name not in html and case.family_name not in html


def test_the_dashboard_counts_caseloads_and_this_months_sessions_in_local_days(client, clock, alice, carol, mona,
                                                                               centre_a):
    clock(utc(2026, 3, 11, 3))
    mine = [counselling_client(actor=alice, organisation=centre_a, n=n) for n in range(1, 5)]
    theirs = counselling_client(actor=carol, organisation=centre_a, n=5)
    counselling_client(actor=mona, organisation=centre_a, n=6)  # registered by the manager: nobody's yet
    Client.objects.filter(pk=mine[3].pk).update(status="inactive")
    recorded(actor=alice, client=mine[0], when=utc(2026, 2, 28, 17, 30))  # 1 March, 00:30 there: this month
    recorded(actor=alice, client=mine[1], when=utc(2026, 2, 28, 16, 30))  # 28 February, 23:30 there: not
    recorded(actor=carol, client=theirs, when=utc(2026, 3, 10, 3), modality="phone")
    recorded(actor=alice, client=mine[2], when=utc(2026, 3, 10, 4), attendance="no_show", note="")  # not held
    session = group(actor=alice, clients=mine[:3], held=True)
    from tests.counselling.factories import record_all

    record_all(actor=alice, session=session)

    board = selectors.dashboard(organisation=centre_a)
    rows = {(row.counsellor.username if row.counsellor else None): (row.active, row.inactive, row.held_this_month)
            for row in board.caseloads}
    assert rows == {"alice": (3, 1, 2), "carol": (1, 0, 1), None: (1, 0, 0)}
    assert board.held_this_month == 3
    assert board.by_modality == [("Individual", 1), ("Group", 1), ("Phone", 1)]

    sign_in(client, mona)
    html = html_of(client, reverse("home"))
    assert "3 sessions delivered since 2026-03-01: Individual 1, Group 1, Phone 1." in html
    assert "<td>alice</td><td>3</td><td>1</td><td>2</td>" in html.replace("\n", "")
    assert "Waiting for a counsellor" in html


def test_caseload_sizes_are_counted_from_an_index_alone(postgresql_only, alice, centre_a):
    """Whatever the size of the centre: an index-only scan, never the client rows (some 37,000 table pages for a
    centre of 50,000 clients)."""
    for n in range(3):
        counselling_client(actor=alice, organisation=centre_a, n=n)
    with connection.cursor() as cursor:
        # A table this small would be read whole anyway: leave the planner only the scans that never read a row.
        for scan in ("seqscan", "bitmapscan", "indexscan"):
            cursor.execute(f"SET LOCAL enable_{scan} = off")
    plan = selectors.caseload_counts(organisation=centre_a).explain()
    assert "Index Only Scan using counselling_caseload_sizes" in plan, plan
    assert sorted(n for _c, _s, n in selectors.caseload_counts(organisation=centre_a)) == [3]


def populate(n: int, *, counsellor, colleague, manager, organisation, start: int = 100) -> None:
    """``n`` clients of ``counsellor`` (and one of a colleague), each with five sessions: two held (some raising a
    flag), one missed (a task), an appointment today and one in the next days; group sessions with the
    colleague's client."""
    clients = [counselling_client(actor=counsellor, organisation=organisation, n=start + i) for i in range(n)]
    other = counselling_client(actor=colleague, organisation=organisation, n=start + n)
    for i, case in enumerate(clients):
        recorded(actor=counsellor, client=case, when=ago(days=2 + i), flags=[] if i % 2 else ["suicide"])
        recorded(actor=counsellor, client=case, when=ago(days=40 + i))
        recorded(actor=counsellor, client=case, when=ago(days=3), attendance="no_show", note="")
        appointment(actor=counsellor, client=case, when=ahead(hours=2))
        appointment(actor=counsellor, client=case, when=ahead(days=3))
    session = group(actor=manager, clients=[*clients[:3], other], held=True)
    services.session_record_outcome(
        actor=manager, session=session, duration_minutes=60, approach="psycho_education",
        outcomes=[services.Outcome(participant=p, attendance="attended", note=NOTE)
                  for p in session.participants.select_related("client")])
    group(actor=counsellor, clients=clients[:4])
    Client.objects.filter(pk__in=[c.pk for c in clients[: n // 2]]).update(created_at=ago(days=60))


def queries_of(client, url: str, *, cold: bool = False) -> tuple[int, str]:
    client.get(url)  # the first request of a session does some one-off bookkeeping
    if cold:
        crypto.data_key_cache.clear()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured), response.content.decode()


# Lists whose rows' data keys load in one query each when the in-process cache is cold (another app server, a
# minute later): the clients panel's recent clients, and the counselling panel's rows (all its lists at once).
KEY_LISTS = {"alice": 2, "mona": 2}


@pytest.mark.parametrize("who", ["alice", "mona"])
def test_the_home_panels_run_the_same_queries_for_5_or_50_sessions(client, clock, actors, carol, centre_a, who):
    clock(utc(2026, 3, 11, 3))  # 10:00 there: today's appointments are today's
    alice, mona = actors["alice"], actors["mona"]
    warm, cold = {}, {}
    sign_in(client, actors[who])
    # 1 client with 5 sessions, then 10 with 50 (and their group sessions, flags, tasks, appointments).
    for clients, start in ((1, 100), (9, 200)):
        populate(clients, counsellor=alice, colleague=carol, manager=mona, organisation=centre_a, start=start)
        warm[clients], html = queries_of(client, reverse("home"))
        assert "Open risk flags" in html
        cold[clients] = queries_of(client, reverse("home"), cold=True)[0]
    assert warm[1] == warm[9], warm
    assert warm[9] <= 40, warm
    assert all(warm[1] <= n <= warm[1] + KEY_LISTS[who] for n in cold.values()), (warm, cold)


def test_the_client_page_runs_the_same_queries_for_5_or_50_sessions(client, alice, mona, carol, centre_a):
    case = counselling_client(actor=alice, organisation=centre_a, n=1)
    other = counselling_client(actor=carol, organisation=centre_a, n=2)
    url = reverse("clients:detail", args=[case.pk])
    sign_in(client, alice)

    def add(k: int) -> None:
        for i in range(k):
            recorded(actor=alice, client=case, when=ago(days=1 + i, hours=i % 5), flags=["violence"] if i == 0 else [],
                     attendance="attended" if i % 4 else "no_show")
        session = group(actor=mona, clients=[case, other], held=True)
        services.session_record_outcome(actor=mona, session=session, duration_minutes=60, approach="psycho_education",
                                        outcomes=[services.Outcome(participant=p, attendance="attended", note=NOTE)
                                                  for p in session.participants.select_related("client")])
        appointment(actor=alice, client=case)

    add(4)  # 5 sessions
    few, html = queries_of(client, url)
    assert html.count("Edit the note") == 5
    cold_few = queries_of(client, url, cold=True)[0]
    add(44)  # 50 sessions
    many, html = queries_of(client, url)
    assert html.count("Edit the note") == selectors.CLIENT_PAGE_SESSIONS
    assert "All 50 sessions" in html
    assert few == many, (few, many)
    # Cold, the client's data key is read once, for the client and every note of theirs alike.
    assert cold_few == queries_of(client, url, cold=True)[0] == many + 1


def test_roles_outside_care_see_no_counselling_panel(client, actors, centre_a):
    populate(2, counsellor=actors["alice"], colleague=actors["alice"], manager=actors["mona"], organisation=centre_a)
    for who in ("priya", "rita", "otto", "sam"):
        client.logout()
        sign_in(client, actors[who])
        html = html_of(client, reverse("home"))
        assert "Appointments today" not in html and "Open risk flags" not in html and NOTE not in html


def test_a_counsellor_with_no_clients_sees_what_each_panel_will_hold(client, alice):
    sign_in(client, alice)
    html = html_of(client, reverse("home"))
    assert "No appointment today." in html
    assert "Nothing to follow up. A missed appointment appears here until its follow-up is done." in html
    assert "Every client on your caseload was seen recently." in html


def test_a_manager_without_clients_sees_empty_counts(client, mona, centre_a):
    make_client(actor=mona, organisation=centre_a, n=3)
    sign_in(client, mona)
    html = html_of(client, reverse("home"))
    assert "0 sessions delivered since" in html
    assert "No open risk flag at the centre." in html
