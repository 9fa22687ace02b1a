"""Records for the reports' tests, made through the feature apps' services, then placed in time: the services
stamp a registration, a sending or an acceptance with the present moment, so these helpers move the stamp to the
moment the test needs (as the demo seeds do). Obviously synthetic people only."""

from __future__ import annotations

import datetime

from django.utils import timezone

from clients import services as client_services
from clients.models import Client
from reports.periods import Period, add_months, month_start
from tests.clients.factories import screening_answers
from tests.clients.helpers import give_consent, make_client

CONSENT_SINCE = datetime.date(2015, 1, 1)


def local(day: datetime.date, hour: int = 0, minute: int = 0) -> datetime.datetime:
    """A moment in Phnom Penh's local time."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)),
                               timezone.get_default_timezone())


def past_month(months_ago: int = 2, today: datetime.date | None = None) -> Period:
    """A whole month in the past (two months ago by default): nothing in it is clipped to today."""
    today = today or timezone.localdate()
    first = add_months(month_start(today), -months_ago)
    return Period.month(first.year, first.month, today=today)


def client(*, actor, organisation, n: int, sex: str = "M", born: int = 1990, registered_at=None, groups=()) -> Client:
    """A client (a distinct synthetic person ``n``) with a treatment consent since 2015, registered at
    ``registered_at`` (default: now)."""
    made = make_client(actor=actor, organisation=organisation, n=n, sex=sex, date_of_birth=f"{born}-06-15",
                       population_groups=groups)
    give_consent(made, actor=actor, given_on=CONSENT_SINCE)
    if registered_at is not None:
        Client.objects.filter(pk=made.pk).update(created_at=registered_at)
        made.refresh_from_db(fields=["created_at"])
    return made


def session(*, actor, client: Client, when: datetime.datetime, attendance: str = "attended",
            modality: str = "individual"):
    from counselling import services

    attended = attendance == "attended"
    return services.session_record(actor=actor, client=client, starts_at=when, modality=modality,
                                   attendance=attendance, duration_minutes=45 if attended else None,
                                   approach="motivational_interviewing" if attended else "", note="")


def screening(*, actor, client: Client, on: datetime.date, hiv_status: str = "never_tested",
              tested_on: datetime.date | None = None, q8: str = "no", route: str = "", **substances):
    intake = {"hiv_status": hiv_status, "route": route}
    if tested_on is not None:
        intake["hiv_tested_on"] = tested_on
    return client_services.screening_record(actor=actor, client=client, screened_on=on,
                                            answers=screening_answers(**substances), q8=q8, intake=intake)


def referral(*, actor, client: Client, service, partner, sent_at: datetime.datetime | None = None,
             accepted_at: datetime.datetime | None = None, officer=None, steps=()):
    """A referral of ``client`` to ``service`` (a sharing consent made for it), sent at ``sent_at`` (None: left a
    draft); ``steps`` the partner's officer takes after it ("accept", "attend", "complete", "decline")."""
    from referrals import services
    from referrals.models import Referral
    from tests.referrals.factories import referral as make_referral
    from tests.referrals.factories import sharing_consent

    consent = sharing_consent(counsellor=actor, client=client, partner=partner, given_on=CONSENT_SINCE)
    made = make_referral(counsellor=actor, client=client, service=service, consent=consent, send=sent_at is not None)
    for step in steps:
        if step == "accept":
            made = services.referral_accept(actor=officer, referral=made)
        elif step == "attend":
            made = services.referral_attend(actor=officer, referral=made)
        elif step == "complete":
            made = services.referral_complete(actor=officer, referral=made, outcome="service_provided")
        elif step == "decline":
            made = services.referral_decline(actor=officer, referral=made, reason="not_eligible")
    stamps = {}
    if sent_at is not None:
        stamps["sent_at"] = sent_at
    if accepted_at is not None:
        stamps["accepted_at"] = accepted_at
    if stamps:
        Referral.objects.filter(pk=made.pk).update(**stamps)
    return made


def custody(*, actor, client: Client, facility, admitted_on: datetime.date, released_on: datetime.date | None = None):
    episode = client_services.custody_admit(actor=actor, client=client, facility=facility, admitted_on=admitted_on)
    if released_on is not None:
        episode = client_services.custody_release(actor=actor, episode=episode, released_on=released_on)
    return episode
