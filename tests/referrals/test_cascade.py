"""The centre's cascade: counts of a known data set in a period of local (Asia/Phnom_Penh) dates, in one scan;
each count links to the referrals behind it, of the clients the viewer may see only."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from referrals import cascade, services
from tests.conftest import sign_in
from tests.referrals.factories import (
    attended,
    client_with_history,
    partner_service,
    referral,
    sent_back,
    sharing_consent,
)

pytestmark = pytest.mark.django_db

Y = timezone.localdate().year - 1  # a whole year in the past: every outcome date is then in the past too
UTC = datetime.UTC


def at(month, day, hour=3, minute=0, year=Y):
    return datetime.datetime(year, month, day, hour, minute, tzinfo=UTC)


def on(month, day, year=Y):
    return datetime.date(year, month, day)


def identity(n: int) -> dict:
    return {"given_name": f"Cascade{n}", "family_name": f"Zqfamily{n}", "date_of_birth": datetime.date(1950 + n, 1, 2)}


class Maker:
    def __init__(self, *, partner, officer):
        self.partner, self.officer = partner, officer

    def sent(self, n, *, by, organisation, service_type="hiv_testing", moment):
        client = client_with_history(counsellor=by, organisation=organisation, **identity(n))
        service = partner_service(organisation=self.partner, service_type=service_type)
        consent = sharing_consent(counsellor=by, client=client, partner=self.partner)
        return sent_back(referral(counsellor=by, client=client, service=service, consent=consent), at=moment)

    def completed(self, n, *, by, organisation, moment, service_type="hiv_testing", **results):
        made = attended(counsellor=by, organisation=organisation, partner=self.partner, officer=self.officer,
                        service_type=service_type, sent_at=moment, **identity(n))
        return services.referral_complete(actor=self.officer, referral=made, outcome="service_provided",
                                          results=results)


@pytest.fixture
def data(alice, mona, bob, centre_a, centre_b, partner, priya):
    make = Maker(partner=partner, officer=priya)
    rows = {}
    # 31 March, 23:59 in Phnom Penh (16:59 UTC): the first quarter.
    rows[1] = make.completed(1, by=alice, organisation=centre_a, moment=at(3, 31, 16, 59),
                             hiv_tested_on=on(4, 1), hiv_result="non_reactive")
    # 1 April, 00:30 in Phnom Penh (still 31 March in UTC): the second quarter.
    rows[2] = make.completed(2, by=alice, organisation=centre_a, moment=at(3, 31, 17, 30),
                             hiv_tested_on=on(4, 2), hiv_result="reactive", hiv_confirmatory_result="positive",
                             art_initiated_on=on(4, 9), art_number="ZQART-2")
    rows[3] = make.completed(3, by=alice, organisation=centre_a, moment=at(5, 10),
                             hiv_tested_on=on(5, 11), hiv_result="reactive")  # no ART since: overdue
    rows[4] = services.referral_decline(actor=priya, reason="no_capacity", referral=make.sent(
        4, by=alice, organisation=centre_a, moment=at(6, 1)))
    rows[5] = make.sent(5, by=alice, organisation=centre_a, service_type="tb", moment=at(6, 15))  # never accepted
    rows[6] = services.referral_no_show(actor=priya, reason="could_not_contact", referral=services.referral_accept(
        actor=priya, referral=make.sent(6, by=alice, organisation=centre_a, service_type="prep", moment=at(7, 1))))
    rows[7] = make.completed(7, by=bob, organisation=centre_b, moment=at(5, 1),  # another centre's
                             hiv_tested_on=on(5, 2), hiv_result="reactive")
    # The manager's client, not on alice's caseload.
    rows[8] = make.completed(8, by=mona, organisation=centre_a, moment=at(4, 10),
                             hiv_tested_on=on(4, 11), hiv_result="reactive", hiv_confirmatory_result="positive",
                             art_initiated_on=on(4, 20))
    client = client_with_history(counsellor=alice, organisation=centre_a, **identity(9))
    rows[9] = referral(counsellor=alice, client=client, service=partner_service(organisation=partner),
                       consent=sharing_consent(counsellor=alice, client=client, partner=partner), send=False)
    rows[10] = services.referral_cancel(actor=alice, reason="referred_elsewhere", referral=make.sent(
        10, by=alice, organisation=centre_a, service_type="legal_aid", moment=at(8, 1)))
    # 1 January of the next year at 00:00 in Phnom Penh (17:00 UTC on 31 December): not in the year.
    rows[11] = make.sent(11, by=alice, organisation=centre_a, moment=at(12, 31, 17, 0))
    return rows


def counts(user, **period) -> dict:
    figures = cascade.centre_cascade(user=user, period=cascade.Period(**period))
    return {f.step.key: f.count for f in (*figures.hiv, *figures.overall)} | {
        (e.status, e.reason): e.count for e in figures.ends}


def test_the_cascade_of_a_year_counts_the_known_data_set(data, alice, mona):
    expected = {
        "hiv_referred": 5, "hiv_tested": 4, "hiv_reactive": 3, "hiv_confirmed": 2, "hiv_art": 2, "hiv_art_overdue": 1,
        "sent": 8, "accepted": 5, "completed": 4, "overdue": 2,
        ("declined", "no_capacity"): 1, ("no_show", "could_not_contact"): 1, ("cancelled", "referred_elsewhere"): 1,
    }
    # The centre's figures, the same for its counsellor and its manager.
    assert counts(alice, start=on(1, 1), end=on(12, 31)) == expected == counts(mona, start=on(1, 1), end=on(12, 31))


@pytest.mark.parametrize("query, start, end, referred, sent", [
    ({"year": Y, "quarter": "1"}, on(1, 1), on(3, 31), 1, 1),
    ({"year": Y, "quarter": "2"}, on(4, 1), on(6, 30), 4, 5),
    ({"year": Y, "month": "4"}, on(4, 1), on(4, 30), 2, 2),
    ({"start": on(3, 31).isoformat(), "end": on(3, 31).isoformat()}, on(3, 31), on(3, 31), 1, 1),
    ({"start": on(4, 1).isoformat(), "end": on(4, 1).isoformat()}, on(4, 1), on(4, 1), 1, 1),
    ({"year": Y + 1, "month": "1"}, on(1, 1, Y + 1), on(1, 31, Y + 1), 1, 1),
    ({}, on(1, 1, Y + 1), timezone.localdate(), 1, 1),  # by default: this year to today
])
def test_periods_are_local_dates_from_the_form(client, data, alice, query, start, end, referred, sent):
    sign_in(client, alice)
    response = client.get(reverse("referrals:cascade"), query)
    figures = response.context["cascade"]
    assert (figures.period.start, figures.period.end) == (start, end)
    found = {f.step.key: f.count for f in (*figures.hiv, *figures.overall)}
    assert (found["hiv_referred"], found["sent"]) == (referred, sent)
    page = response.content.decode()
    assert f"Referrals sent from {start.isoformat()} to {end.isoformat()}" in page


def test_the_page_writes_each_definition_and_links_each_count(client, data, alice):
    sign_in(client, alice)
    page = client.get(reverse("referrals:cascade"), {"year": Y}).content.decode()
    assert "Referrals for HIV testing sent in the period with a test result recorded" in page
    assert "not accepted within the service&#x27;s target days" in page
    assert "more than 14 days after the test" in page
    start, end = on(1, 1).isoformat(), on(12, 31).isoformat()
    assert f'href="/referrals/list/?start={start}&amp;end={end}&amp;step=hiv_art">2</a>' in page
    assert f'href="/referrals/list/?start={start}&amp;end={end}&amp;status=declined&amp;reason=no_capacity">1</a>' \
        in page
    assert "No capacity" in page and "Did not attend" in page and "Could not contact the client" in page


def test_a_period_form_in_error_says_so_and_shows_the_default(client, data, alice):
    from referrals.forms import ERROR_PERIOD_ORDER, ERROR_QUARTER_AND_MONTH

    sign_in(client, alice)
    response = client.get(reverse("referrals:cascade"), {"year": Y, "quarter": "1", "month": "2"})
    assert str(ERROR_QUARTER_AND_MONTH) in response.content.decode()
    assert response.context["cascade"].period == cascade.Period.default()
    response = client.get(reverse("referrals:cascade"), {"start": on(5, 1).isoformat(), "end": on(4, 1).isoformat()})
    assert str(ERROR_PERIOD_ORDER) in response.content.decode()


def test_the_list_behind_a_count_shows_only_clients_the_viewer_may_see(client, data, alice, mona):
    query = {"start": on(1, 1).isoformat(), "end": on(12, 31).isoformat(), "step": "hiv_art"}
    sign_in(client, alice)
    page = client.get(reverse("referrals:list"), query).content.decode()
    mine, monas = data[2].client, data[8].client
    assert mine.uic in page and monas.uic not in page
    assert reverse("referrals:detail", args=[data[2].pk]) in page
    assert mine.initials in page  # UIC and initials, never a name
    assert "Cascade2" not in page and "Zqfamily2" not in page
    assert "Initiated on ART" in page
    client.logout()
    sign_in(client, mona)
    page = client.get(reverse("referrals:list"), query).content.decode()
    assert mine.uic in page and monas.uic in page
    assert data[7].client.uic not in page and "ZQART" not in page  # another centre's; nothing encrypted


@pytest.mark.parametrize("query, rows", [
    ({"step": "hiv_art_overdue"}, [3]),
    ({"step": "overdue"}, [3, 5]),
    ({"step": "hiv_tested"}, [1, 2, 3]),
    ({"status": "declined", "reason": "no_capacity"}, [4]),
    ({"service_type": "prep"}, [6]),
    ({"step": "sent"}, [1, 2, 3, 4, 5, 6, 10]),
])
def test_the_list_filters(client, data, alice, query, rows):
    sign_in(client, alice)
    response = client.get(reverse("referrals:list"), {"start": on(1, 1).isoformat(), "end": on(12, 31).isoformat(),
                                                      **query})
    assert sorted(r.pk for r in response.context["page"].object_list) == sorted(data[n].pk for n in rows)
    if query.get("step") == "hiv_art_overdue":
        assert "ART not started 14 days after a reactive test" in response.content.decode()


def test_the_figures_take_one_scan_and_the_pages_a_constant_number(client, data, alice, centre_a, partner, priya,
                                                                      django_assert_max_num_queries):
    with CaptureQueriesContext(connection) as captured:
        cascade.centre_cascade(user=alice, period=cascade.Period(on(1, 1), on(12, 31)))
    # The directory's codes, then one query of the referrals, without a join.
    assert len(captured.captured_queries) == 2
    counting = captured.captured_queries[1]["sql"]
    assert "referrals_referral" in counting and "JOIN" not in counting
    sign_in(client, alice)
    year = {"start": on(1, 1).isoformat(), "end": on(12, 31).isoformat()}
    with CaptureQueriesContext(connection) as page:
        client.get(reverse("referrals:cascade"), year)
    with CaptureQueriesContext(connection) as listed:
        client.get(reverse("referrals:list"), year)
    make = Maker(partner=partner, officer=priya)
    for n in range(20, 26):
        make.completed(n, by=alice, organisation=centre_a, moment=at(9, n), hiv_tested_on=on(9, n + 1),
                       hiv_result="reactive", hiv_confirmatory_result="positive")
        services.referral_decline(actor=priya, reason="other", referral=make.sent(
            n + 10, by=alice, organisation=centre_a, service_type="oat", moment=at(10, n)))
    with django_assert_max_num_queries(len(page.captured_queries)):
        response = client.get(reverse("referrals:cascade"), year)
    assert {f.step.key: f.count for f in response.context["cascade"].hiv}["hiv_confirmed"] == 8
    with django_assert_max_num_queries(len(listed.captured_queries)):
        response = client.get(reverse("referrals:list"), year)
    assert len(response.context["page"].object_list) == 19


@pytest.mark.usefixtures("postgresql_only")
def test_the_period_is_counted_from_the_cascade_index(data, alice, centre_a):
    from django.db.models import Count

    columns = [f.column for f in cascade.Referral._meta.concrete_fields]
    copied = {"id": "gen_random_uuid()", "sent_at": "r.sent_at - g * interval '1 day'"}
    with connection.cursor() as cursor:  # some volume, for the planner: copies of the rows, a day apart each
        cursor.execute(f"INSERT INTO referrals_referral ({', '.join(columns)}) SELECT "
                       f"{', '.join(copied.get(c, f'r.{c}') for c in columns)} "
                       "FROM referrals_referral r, generate_series(1, 300) g WHERE r.sent_at IS NOT NULL")
        cursor.execute("ANALYZE referrals_referral")
    sent = cascade.sent_in(cascade.Referral.objects.filter(from_organisation=centre_a),
                           cascade.Period(on(3, 1), on(3, 7)))
    plan = sent.order_by().values("status", "end_reason").annotate(n=Count("sent_at"), tested=Count(
        "sent_at", filter=~cascade.Q(hiv_result=""))).explain()
    assert "referral_cascade" in plan and "Join" not in plan, plan  # the period found through the index
    # Every column counted is in the index, so a vacuumed table is read from the index alone (Index Only Scan).
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'referral_cascade'")
        (definition,) = cursor.fetchone()
    counted = ("service_id", "status", "end_reason", "accepted_at", "hiv_result", "hiv_confirmatory_result",
               "hiv_tested_on", "art_initiated_on")
    assert "(from_organisation_id, sent_at) INCLUDE (" in definition
    assert all(column in definition.split("INCLUDE")[1] for column in counted), definition


def test_care_staff_have_the_menu_link_and_others_do_not(client, alice, pete, priya, rita):
    for user, shown in ((alice, True), (pete, True), (priya, False), (rita, False)):
        client.logout()
        sign_in(client, user)
        assert (reverse("referrals:cascade") in client.get(reverse("home")).content.decode()) is shown, user
    assert client.get(reverse("referrals:cascade")).status_code == 403
    assert client.get(reverse("referrals:list")).status_code == 403
