"""Each indicator against a small hand-built data set whose answer is worked out here, with the period's and the age
bands' edges in Asia/Phnom_Penh time (a local midnight is 17:00 UTC the day before).

The counts are read from ``reports.indicators`` (before suppression: the data sets are small) and, for one of them,
through the published report with a threshold low enough to show them."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from casemgmt.roles import Province
from reports import indicators, report
from reports.periods import Period
from reports.scope import NATIONAL, ORGANISATION, PROVINCE, Scope
from tests.reports.factories import client, custody, local, past_month, referral, screening, session

pytestmark = pytest.mark.django_db

NATION = Scope(NATIONAL)


@pytest.fixture
def period():
    return past_month(2)


def day(period: Period, offset: int) -> datetime.date:
    return period.start + datetime.timedelta(days=offset)


def test_new_clients_by_sex_age_band_province_setting_and_group(alice, pete, centre_a, prison, period):
    year = period.nominal_end.year
    last = period.end
    # In the period: its first minute and its last minute, local time.
    client(actor=alice, organisation=centre_a, n=1, sex="F", born=year - 15, registered_at=local(period.start, 0, 5),
           groups=["pwid"])
    client(actor=alice, organisation=centre_a, n=3, sex="M", born=year - 50, registered_at=local(last, 23, 59),
           groups=["pwud", "sex_worker"])
    client(actor=pete, organisation=prison, n=5, sex="X", born=year - 24, registered_at=local(day(period, 10), 9))
    # Outside: 23:55 local the day before (16:55 UTC), and 00:01 local after the last day (17:01 UTC on the last
    # day: a count in UTC days would take it).
    client(actor=alice, organisation=centre_a, n=2, sex="M", born=year - 14,
           registered_at=local(period.start - datetime.timedelta(days=1), 23, 55))
    client(actor=alice, organisation=centre_a, n=4, sex="F", born=year - 30,
           registered_at=local(last + datetime.timedelta(days=1), 0, 1))

    profile = indicators.new_clients(NATION, period)

    assert profile.total == 3
    assert profile.by(0) == {("F",): 1, ("M",): 1, ("X",): 1}
    assert profile.by(1) == {("15_19",): 1, ("50plus",): 1, ("20_24",): 1}
    assert profile.by(2, 3) == {(Province.PHNOM_PENH, "community"): 2, (Province.KANDAL, "prison"): 1}
    assert profile.by_group() == {"pwid": 1, "pwud": 1, "sex_worker": 1}
    assert indicators.new_clients(Scope(PROVINCE, province=Province.KANDAL), period).total == 1
    assert indicators.new_clients(Scope(ORGANISATION, organisation=centre_a), period).total == 2


@pytest.mark.parametrize(("age", "band"), [(14, "lt15"), (15, "15_19"), (19, "15_19"), (20, "20_24"), (24, "20_24"),
                                           (25, "25_49"), (49, "25_49"), (50, "50plus"), (81, "50plus")])
def test_the_age_band_is_the_age_reached_in_the_year_the_period_ends(alice, centre_a, age, band):
    # A year's age is counted in that year: for December 2026 a client born in 2011 is 15, whatever the month.
    today = timezone.localdate()
    period = Period.year(today.year - 1, today=today)
    client(actor=alice, organisation=centre_a, n=age, born=period.nominal_end.year - age,
           registered_at=local(period.start, 12))

    assert indicators.new_clients(NATION, period).by(1) == {(band,): 1}


def test_active_clients_count_each_kind_of_contact_once(alice, bob, centre_a, centre_b, partner, priya, period):
    from tests.referrals.factories import partner_service

    long_ago = local(period.start - datetime.timedelta(days=400), 10)
    registered = client(actor=alice, organisation=centre_a, n=1, registered_at=local(day(period, 3), 10))
    seen = client(actor=bob, organisation=centre_b, n=2, registered_at=long_ago)
    missed = client(actor=alice, organisation=centre_a, n=3, registered_at=long_ago)
    screened = client(actor=alice, organisation=centre_a, n=4, registered_at=long_ago)
    referred = client(actor=alice, organisation=centre_a, n=5, registered_at=long_ago)
    seen_before = client(actor=alice, organisation=centre_a, n=6, registered_at=long_ago)
    session(actor=bob, client=seen, when=local(period.end, 23, 30))  # the last half hour of the period
    session(actor=bob, client=seen, when=local(day(period, 4), 9))  # twice: counted once
    session(actor=alice, client=registered, when=local(day(period, 5), 9))  # registered and seen: once
    session(actor=alice, client=missed, when=local(day(period, 6), 9), attendance="no_show")  # not a contact
    session(actor=alice, client=seen_before, when=local(period.start - datetime.timedelta(days=1), 23, 50))
    screening(actor=alice, client=screened, on=day(period, 7))
    referral(actor=alice, client=referred, service=partner_service(organisation=partner), partner=partner,
             sent_at=local(day(period, 8), 11))

    profile = indicators.active_clients(NATION, period)

    assert profile.total == 4  # registered (and seen: once), seen twice (once), screened, referred
    assert profile.by(2) == {(Province.PHNOM_PENH,): 3, (Province.BATTAMBANG,): 1}
    assert indicators.active_clients(Scope(ORGANISATION, organisation=centre_b), period).total == 1
    assert missed.pk and seen_before.pk  # made, and not counted


def test_screening_substances_risk_levels_and_injecting(alice, pete, centre_a, prison, period):
    long_ago = local(period.start - datetime.timedelta(days=400), 10)
    weekly = {"q1": "yes", "q2": "weekly", "q3": "weekly", "q4": "weekly", "q5": "weekly", "q6": "yes_recent",
              "q7": "yes_recent"}  # 6+5+6+7+6+3 = 33: high for any substance
    once = {"q1": "yes", "q2": "once_twice", "q3": "never", "q4": "never", "q5": "never", "q6": "no",
            "q7": "no"}  # 2: low
    a = client(actor=alice, organisation=centre_a, n=1, registered_at=long_ago)
    b = client(actor=alice, organisation=centre_a, n=2, registered_at=long_ago)
    c = client(actor=pete, organisation=prison, n=3, registered_at=long_ago)
    screening(actor=alice, client=a, on=day(period, 1), amphetamine=weekly, alcohol=once, q8="yes_recent")
    screening(actor=alice, client=a, on=day(period, 20), amphetamine=weekly)  # a second screening of the same client
    screening(actor=alice, client=b, on=day(period, 2), opioids=once, route="injecting")
    screening(actor=pete, client=c, on=day(period, 3), amphetamine=once, q8="yes_past")  # injected, not recently
    screening(actor=pete, client=c, on=period.end + datetime.timedelta(days=1), amphetamine=weekly)  # after

    assert indicators.screened(NATION, period) == {"community": (2, 2), "prison": (1, 0)}
    risks = indicators.risk_levels(NATION, period)
    assert risks["amphetamine"] == {"low": 1, "moderate": 0, "high": 2}  # a screening counts for each use
    assert risks["alcohol"] == {"low": 1, "moderate": 0, "high": 0}
    assert risks["opioids"] == {"low": 1, "moderate": 0, "high": 0}
    assert risks["cannabis"] == {"low": 0, "moderate": 0, "high": 0}  # never used: not counted as low


def test_sessions_delivered_and_attended(alice, bob, centre_a, centre_b, period):
    from counselling import services
    from counselling.models import Participant

    long_ago = local(period.start - datetime.timedelta(days=400), 10)
    one = client(actor=alice, organisation=centre_a, n=1, registered_at=long_ago)
    two = client(actor=alice, organisation=centre_a, n=2, registered_at=long_ago)
    three = client(actor=alice, organisation=centre_a, n=3, registered_at=long_ago)
    other = client(actor=bob, organisation=centre_b, n=4, registered_at=long_ago)
    group = services.group_session_create(actor=alice, starts_at=local(day(period, 2), 15), clients=[one, two, three],
                                          held=True, approach="psycho_education", duration_minutes=90)
    participants = {p.client_id: p for p in Participant.objects.filter(session=group)}
    services.session_record_outcome(actor=alice, session=group, outcomes=[
        services.Outcome(participant=participants[one.pk], attendance="attended"),
        services.Outcome(participant=participants[two.pk], attendance="attended"),
        services.Outcome(participant=participants[three.pk], attendance="no_show")],
        duration_minutes=90, approach="psycho_education")
    session(actor=bob, client=other, when=local(day(period, 3), 9), modality="phone")
    session(actor=bob, client=other, when=local(day(period, 4), 9), attendance="cancelled")  # not held
    session(actor=bob, client=other, when=local(period.end + datetime.timedelta(days=1), 0, 30))  # after

    assert indicators.sessions_held(NATION, period) == {("group", "community"): 1, ("phone", "community"): 1}
    assert indicators.attendances(NATION, period) == {
        ("group", "attended"): 2, ("group", "no_show"): 1, ("phone", "attended"): 1, ("individual", "cancelled"): 1}


def test_retention_in_the_third_and_sixth_month_after_intake(alice, pete, centre_a, prison, period):
    start, end = period.bounds()
    hour = datetime.timedelta(hours=1)
    # Third month: the cohort registered in [start - 90 days, end - 90 days); retained: attended on days 61-90.
    kept = client(actor=alice, organisation=centre_a, n=1, registered_at=start - datetime.timedelta(days=90) + hour)
    early = client(actor=alice, organisation=centre_a, n=2, registered_at=start - datetime.timedelta(days=90) + hour)
    at_day_60 = client(actor=pete, organisation=prison, n=3, registered_at=end - datetime.timedelta(days=90) - hour)
    client(actor=alice, organisation=centre_a, n=4, registered_at=end - datetime.timedelta(days=90) + hour)  # later
    session(actor=alice, client=kept, when=kept.created_at + datetime.timedelta(days=70))
    session(actor=alice, client=early, when=early.created_at + datetime.timedelta(days=50))  # the second month
    session(actor=pete, client=at_day_60, when=at_day_60.created_at + datetime.timedelta(days=60, minutes=1))
    # Sixth month: registered 180 days before the period; retained: attended on days 151-180.
    six = client(actor=alice, organisation=centre_a, n=5, registered_at=start - datetime.timedelta(days=180) + hour)
    missed = client(actor=alice, organisation=centre_a, n=6, registered_at=start - datetime.timedelta(days=180) + hour)
    session(actor=alice, client=six, when=six.created_at + datetime.timedelta(days=179))
    session(actor=alice, client=missed, when=missed.created_at + datetime.timedelta(days=160), attendance="no_show")

    found = indicators.retention(NATION, period)

    assert found["m3"] == {"community": (2, 1), "prison": (1, 1)}
    assert found["m6"] == {"community": (2, 1)}


def test_treatment_plans_active_completed_discontinued_and_milestones(alice, mona, centre_a, period):
    from plans import services
    from plans.models import ReintegrationPlan, TreatmentPlan
    from tests.plans.factories import active_plan, draft_plan

    start, end = period.bounds()
    long_ago = local(period.start - datetime.timedelta(days=400), 10)
    people = [client(actor=alice, organisation=centre_a, n=n, registered_at=long_ago) for n in range(1, 8)]
    before, during = start - datetime.timedelta(days=30), start + datetime.timedelta(days=5)
    in_force = active_plan(author=alice, client=people[0], manager=mona)
    closed_later = services.plan_complete(actor=alice, plan=active_plan(author=alice, client=people[1], manager=mona))
    completed = services.plan_complete(actor=alice, plan=active_plan(author=alice, client=people[2], manager=mona))
    stopped = services.plan_discontinue(actor=alice, plan=active_plan(author=alice, client=people[3], manager=mona),
                                        reason="Synthetic: moved away")
    started_after = active_plan(author=alice, client=people[4], manager=mona)
    draft_plan(author=alice, client=people[5])
    for plan, activated, closed in ((in_force, before, None), (closed_later, before, end + datetime.timedelta(days=1)),
                                    (completed, before, during), (stopped, before, during),
                                    (started_after, end + datetime.timedelta(hours=1), None)):
        TreatmentPlan.objects.filter(pk=plan.pk).update(activated_at=activated, closed_at=closed)
    reintegration = services.reintegration_open(actor=alice, client=people[6], summary="Synthetic summary")
    ReintegrationPlan.objects.filter(pk=reintegration.pk).update(created_at=long_ago)  # opened long ago
    reintegration.refresh_from_db(fields=["created_at"])
    for domain, achieved in (("housing", day(period, 0)), ("employment", period.end), ("family", day(period, -1)),
                             ("legal", None)):
        services.milestone_save(actor=alice, plan=reintegration, values={
            "domain": domain, "description": "Synthetic milestone", "notes": "", "target_on": None,
            "achieved_on": achieved})

    assert indicators.plans(NATION, period) == {"community": (2, 1, 1)}
    assert indicators.milestones(NATION, period) == {("housing", "community"): 1, ("employment", "community"): 1}


def test_referrals_sent_accepted_completed_overdue_and_days_to_acceptance(alice, centre_a, partner, priya, period):
    from tests.referrals.factories import partner_service

    testing = partner_service(organisation=partner, service_type="hiv_testing", target_days=3)
    tb = partner_service(organisation=partner, service_type="tb", target_days=7)
    long_ago = local(period.start - datetime.timedelta(days=400), 10)
    people = [client(actor=alice, organisation=centre_a, n=n, registered_at=long_ago) for n in range(1, 7)]
    # Sent at 23:30 and accepted at 00:30 the next local day: one day, though an hour apart.
    referral(actor=alice, client=people[0], service=testing, partner=partner, officer=priya,
             steps=("accept", "attend", "complete"), sent_at=local(day(period, 2), 23, 30),
             accepted_at=local(day(period, 3), 0, 30))
    referral(actor=alice, client=people[1], service=testing, partner=partner, officer=priya, steps=("accept",),
             sent_at=local(day(period, 4), 8), accepted_at=local(day(period, 4), 20))
    referral(actor=alice, client=people[2], service=testing, partner=partner, sent_at=local(day(period, 5), 9))
    referral(actor=alice, client=people[3], service=testing, partner=partner,
             sent_at=local(day(period, -3), 9))  # before the period: overdue today all the same
    referral(actor=alice, client=people[4], service=tb, partner=partner, officer=priya, steps=("decline",),
             sent_at=local(day(period, 6), 9))
    referral(actor=alice, client=people[5], service=tb, partner=partner, sent_at=None)  # a draft
    referral(actor=alice, client=people[5], service=tb, partner=partner,
             sent_at=timezone.now() - datetime.timedelta(days=1))  # sent yesterday: not overdue yet, not in period

    found = indicators.referrals(NATION, period)

    assert (found["hiv_testing"].sent, found["hiv_testing"].accepted, found["hiv_testing"].completed,
            found["hiv_testing"].overdue) == (3, 2, 1, 2)
    assert (found["tb"].sent, found["tb"].accepted, found["tb"].completed, found["tb"].overdue) == (1, 0, 0, 0)
    assert found["hiv_testing"].days == {1: 1, 0: 1}
    assert indicators.median(found["hiv_testing"].days) == 0.5
    assert indicators.median({2: 3, 9: 1}) == 2
    assert indicators.median({}) is None


def test_releases_continuity_of_care_and_linkage(alice, pete, mona, centre_a, prison, partner, priya, period):
    from clients import services
    from tests.referrals.factories import partner_service

    service = partner_service(organisation=partner, service_type="oat")
    long_ago = local(period.start - datetime.timedelta(days=400), 10)
    admitted = period.start - datetime.timedelta(days=100)
    linked = client(actor=pete, organisation=prison, n=1, registered_at=long_ago)
    plain = client(actor=pete, organisation=prison, n=2, registered_at=long_ago)
    late = client(actor=pete, organisation=prison, n=3, registered_at=long_ago)
    attended = client(actor=pete, organisation=prison, n=4, registered_at=long_ago)
    after = client(actor=pete, organisation=prison, n=5, registered_at=long_ago)
    release = day(period, 5)
    custody(actor=pete, client=linked, facility=prison, admitted_on=admitted, released_on=release)
    referral(actor=pete, client=linked, service=service, partner=partner,
             sent_at=local(release - datetime.timedelta(days=3), 10))
    services.client_transfer(actor=pete, client=linked, to_organisation=centre_a, counsellor=alice)
    session(actor=alice, client=linked, when=local(release + datetime.timedelta(days=30), 16))  # day 30: in time
    custody(actor=pete, client=plain, facility=prison, admitted_on=admitted, released_on=release)
    custody(actor=pete, client=late, facility=prison, admitted_on=admitted, released_on=release)
    referral(actor=pete, client=late, service=service, partner=partner,
             sent_at=local(release + datetime.timedelta(days=31), 10))  # day 31: too late
    custody(actor=pete, client=attended, facility=prison, admitted_on=admitted, released_on=period.end)
    referral(actor=pete, client=attended, service=service, partner=partner, officer=priya, steps=("accept", "attend"),
             sent_at=local(period.end - datetime.timedelta(days=10), 10))
    custody(actor=pete, client=after, facility=prison, admitted_on=admitted,
            released_on=period.end + datetime.timedelta(days=1))

    assert indicators.releases(NATION, period) == {Province.KANDAL: (4, 2, 2)}
    assert indicators.releases(Scope(ORGANISATION, organisation=centre_a), period) == {}


def test_hiv_cascade_known_status_at_intake_and_referred_for_testing(alice, pete, centre_a, prison, partner, period):
    from tests.referrals.factories import partner_service

    testing = partner_service(organisation=partner, service_type="hiv_testing")
    tb = partner_service(organisation=partner, service_type="tb")
    intake = local(day(period, 1), 10)
    positive = client(actor=alice, organisation=centre_a, n=1, registered_at=intake, groups=["pwid"])
    tested_recently = client(actor=alice, organisation=centre_a, n=2, registered_at=intake, groups=["pwid", "msm"])
    tested_long_ago = client(actor=alice, organisation=centre_a, n=3, registered_at=intake)
    unscreened = client(actor=pete, organisation=prison, n=4, registered_at=intake, groups=["prisoner"])
    tb_only = client(actor=alice, organisation=centre_a, n=5, registered_at=intake)
    earlier = client(actor=alice, organisation=centre_a, n=6,
                     registered_at=local(period.start - datetime.timedelta(days=40), 10))  # not in the cohort
    first = day(period, 2)
    screening(actor=alice, client=positive, on=first, hiv_status="positive_art")
    screening(actor=alice, client=tested_recently, on=first, hiv_status="negative",
              tested_on=first - datetime.timedelta(days=100))
    screening(actor=alice, client=tested_long_ago, on=first, hiv_status="negative",
              tested_on=first - datetime.timedelta(days=400))
    screening(actor=alice, client=tested_long_ago, on=day(period, 9), hiv_status="positive_no_art")  # not the first
    screening(actor=alice, client=earlier, on=first, hiv_status="positive_art")
    referral(actor=alice, client=positive, service=testing, partner=partner, sent_at=local(day(period, 3), 9))
    referral(actor=pete, client=unscreened, service=testing, partner=partner, sent_at=local(day(period, 40), 9))
    referral(actor=alice, client=tb_only, service=tb, partner=partner, sent_at=local(day(period, 3), 9))
    referral(actor=alice, client=earlier, service=testing, partner=partner, sent_at=local(day(period, 3), 9))

    found = indicators.cascade(NATION, period)

    assert found.by_setting("CL-NEW") == {"community": 4, "prison": 1}
    assert found.by_setting("HIV-KNOWN") == {"community": 2, "prison": 0}
    assert found.by_setting("HIV-REF") == {"community": 1, "prison": 1}
    assert +found.by_group("HIV-KNOWN") == {"pwid": 2, "msm": 1}
    assert +found.by_group("HIV-REF") == {"pwid": 1, "prisoner": 1}
    assert found.by_setting("HIV-TEST") == {"community": 0, "prison": 0}  # no result recorded yet


def test_hiv_cascade_counts_tested_reactive_confirmed_and_on_art_from_the_referral_outcomes(alice, centre_a, partner,
                                                                                          period):
    from referrals.models import Referral
    from tests.referrals.factories import partner_service

    testing = partner_service(organisation=partner, service_type="hiv_testing")
    art = partner_service(organisation=partner, service_type="art")
    intake = local(day(period, 1), 10)
    people = [client(actor=alice, organisation=centre_a, n=n, registered_at=intake, groups=["pwid"])
              for n in range(1, 7)]
    outcomes = [  # (result, confirmatory result, ART initiated on the testing referral)
        ("non_reactive", "", None), ("indeterminate", "", None), ("reactive", "", None),
        ("reactive", "negative", None), ("reactive", "positive", None), ("reactive", "positive", day(period, 20))]
    for person, (result, confirmation, started) in zip(people, outcomes, strict=True):
        made = referral(actor=alice, client=person, service=testing, partner=partner, sent_at=local(day(period, 3), 9))
        Referral.objects.filter(pk=made.pk).update(hiv_tested_on=day(period, 5), hiv_result=result,
                                                   hiv_confirmatory_result=confirmation, art_initiated_on=started)
    # The fifth client, confirmed positive, starts ART later through a referral for ART.
    later = referral(actor=alice, client=people[4], service=art, partner=partner, sent_at=local(day(period, 8), 9))
    Referral.objects.filter(pk=later.pk).update(art_initiated_on=day(period, 25))
    # A referral for ART alone, without a confirmed test, does not count in the cascade's last step.
    untested = client(actor=alice, organisation=centre_a, n=7, registered_at=intake)
    alone = referral(actor=alice, client=untested, service=art, partner=partner, sent_at=local(day(period, 8), 9))
    Referral.objects.filter(pk=alone.pk).update(art_initiated_on=day(period, 25))

    found = indicators.cascade(NATION, period)

    assert found.by_setting("CL-NEW")["community"] == 7
    assert found.by_setting("HIV-REF")["community"] == 6
    assert found.by_setting("HIV-TEST")["community"] == 6
    assert found.by_setting("HIV-REACT")["community"] == 4
    assert found.by_setting("HIV-CONF")["community"] == 2
    assert found.by_setting("HIV-ART")["community"] == 2
    assert +found.by_group("HIV-CONF") == {"pwid": 2}


def test_monthly_trend_counts_each_month_and_active_clients_once_a_month(alice, centre_a, period):
    months = period.trend_months()
    one = client(actor=alice, organisation=centre_a, n=1, registered_at=local(months[0], 10))
    two = client(actor=alice, organisation=centre_a, n=2, registered_at=local(months[5], 10))
    client(actor=alice, organisation=centre_a, n=3, registered_at=local(months[5], 12))
    client(actor=alice, organisation=centre_a, n=4, registered_at=local(months[0] - datetime.timedelta(days=1), 10))
    session(actor=alice, client=one, when=local(months[5], 15))
    session(actor=alice, client=one, when=local(months[5] + datetime.timedelta(days=2), 15))
    session(actor=alice, client=two, when=local(months[11], 15))

    found = indicators.trend_counts(NATION, period)

    assert dict(found["CL-NEW"]) == {months[0]: 1, months[5]: 2}
    assert dict(found["CO-HELD"]) == {months[5]: 2, months[11]: 1}
    assert dict(found["CL-ACT"]) == {months[0]: 1, months[5]: 3, months[11]: 1}
    assert dict(found["RF-SENT"]) == {}


def test_the_published_report_shows_the_counts_computed(alice, centre_a, period, settings):
    settings.REPORTS_SUPPRESSION_THRESHOLD = 3
    for n in range(7):
        client(actor=alice, organisation=centre_a, n=n, sex="F" if n < 4 else "M",
               registered_at=local(day(period, n), 9))

    built = report.build(scope=NATION, period=period, parts=report.FULL)

    headline = {h.indicator.code: h.figure for h in built.headlines}
    assert (headline["CL-NEW"].text, headline["CL-ACT"].text) == ("7", "7")
    table = built.table("cl-new-age-sex")
    assert table.header()[1:] == ["Male", "Female", "Other or not stated", "Total"]
    assert [cell.text for cell in table.figures[len(table.rows)]] == ["3", "4", "0", "7"]
