"""A synthetic centre's quarter of counselling for `manage.py seed_demo_counselling` (never real people).

For the demo clients: individual sessions over the last three months (some missed, with their follow-up
tasks, most of the older ones done), a weekly relapse-prevention group, risk flags (one resolved), two clients
not seen for over a month, and appointments today and in the next days. Everything goes through the services,
as a counsellor would do it, at the time they would have done it.
"""

from __future__ import annotations

import datetime
import random

from django.utils import timezone

from clients import services as client_services
from clients.models import Client, ClientStatus, ConsentKind
from counselling import dates, services
from counselling.models import Approach, Attendance, FollowUpTask, Modality, Participant, RiskFlag, Session

DAYS = 92  # about three months
NOTES = [
    "Demo note: talked about sleep and the night shifts at the garment factory; agreed to try a fixed bedtime.",
    "Demo note: cravings after meeting old friends at the market; practised the urge-surfing exercise.",
    "Demo note: family visit went well; mother wants to come to a family session.",
    "Demo note: used twice this week; worked on the triggers diary and a plan for pay day.",
    "Demo note: wants to go back to school; discussed the vocational training at the NGO partner.",
    "Demo note: HIV test result discussed; referral for ART enrolment agreed.",
    "Demo note: calm and motivated; reviewed the goals set last month.",
    "Demo note: worried about debts; talked through who could help and what to say.",
]
GROUP_NOTES = [
    "Demo group note: took part in the role play about refusing an offer.",
    "Demo group note: quiet today; stayed after to ask about the next session.",
    "Demo group note: shared the week's progress with the group.",
]
RESOLUTION = "Demo resolution: safety plan agreed with the client and their sister; seen again two days later."
TODAY_TIMES = [(9, 0), (11, 0), (14, 30)]


def _at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return dates.day_start(day) + datetime.timedelta(hours=hour, minutes=minute)


def _consent_since(*, actor, client: Client, day: datetime.date) -> None:
    """The demo clients consented a month ago; their quarter of sessions needs an earlier consent too."""
    if not client.consents.filter(kind=ConsentKind.TREATMENT, given_on__lte=day).exists():
        client_services.consent_record(actor=actor, client=client, kind=ConsentKind.TREATMENT, method="signed",
                                       given_on=day)


def seed_demo_counselling(*, centre, counsellor, manager, prison=None, prison_counsellor=None) -> int:
    """The demo centre's sessions; returns how many sessions were made (0 if they exist already)."""
    if Session.objects.filter(organisation=centre).exists():
        return 0
    made = _seed_centre(centre=centre, counsellor=counsellor, manager=manager, seed=20261201, group_size=6)
    if prison is not None and prison_counsellor is not None:
        made += _seed_centre(centre=prison, counsellor=prison_counsellor, manager=None, seed=20261202, group_size=4,
                             today_appointments=1)
    return made


def _seed_centre(*, centre, counsellor, manager, seed: int, group_size: int, today_appointments: int = 3) -> int:
    rng = random.Random(seed)  # noqa: S311 - the same synthetic demo every time, not a secret
    now = timezone.now()
    today = dates.today(now)
    first = today - datetime.timedelta(days=DAYS)
    clients = list(Client.objects.filter(organisation=centre, counsellor=counsellor, status=ClientStatus.ACTIVE)
                   .order_by("created_at", "id"))
    if not clients:
        return 0
    for client in clients:
        _consent_since(actor=counsellor, client=client, day=first - datetime.timedelta(days=3))
    made = 0
    # Two clients drop out a little over a month ago: "not seen for 30 days or more".
    dropped = set(c.pk for c in clients[-2:]) if len(clients) > 4 else set()
    flagged = {clients[0].pk: "suicide", clients[2 % len(clients)].pk: "overdose"}
    for index, client in enumerate(clients):
        day = first + datetime.timedelta(days=rng.randrange(7))
        last_day = today - datetime.timedelta(days=38 if client.pk in dropped else 1)
        count = 0
        while day <= last_day:
            made += _individual(rng=rng, counsellor=counsellor, client=client, day=day, count=count,
                                flag=flagged.get(client.pk) if count == 3 else None, now=now)
            count += 1
            day += datetime.timedelta(days=rng.choice((6, 7, 7, 8, 10, 14)))
        if index == 0:  # the first flag is resolved a week after it was raised; the other stays open
            flag = RiskFlag.objects.filter(client=client, status="open").first()
            if flag is not None:
                services.flag_resolve(actor=manager or counsellor, flag=flag, resolution_note=RESOLUTION,
                                      now=min(now, flag.raised_at + datetime.timedelta(days=7)))
    made += _weekly_group(rng=rng, counsellor=counsellor, clients=[c for c in clients if c.pk not in dropped]
                          [:group_size], first=first, today=today, now=now)
    _close_old_tasks(counsellor=counsellor, clients=clients, today=today, now=now)
    made += _appointments(rng=rng, counsellor=counsellor, clients=[c for c in clients if c.pk not in dropped],
                          today=today, now=now, today_count=today_appointments)
    return made


def _individual(*, rng, counsellor, client, day, count, flag, now) -> int:
    starts_at = _at(day, rng.choice((8, 9, 10, 11, 13, 14, 15, 16)), rng.choice((0, 30)))
    draw = rng.random()
    attendance = (Attendance.NO_SHOW if draw < 0.15 and count and not flag
                  else Attendance.CANCELLED if draw < 0.2 and count and not flag else Attendance.ATTENDED)
    attended = attendance == Attendance.ATTENDED
    modality = rng.choice([Modality.INDIVIDUAL] * 6 + [Modality.PHONE, Modality.FAMILY, Modality.OUTREACH])
    services.session_record(
        actor=counsellor, client=client, starts_at=starts_at, modality=modality, attendance=attendance,
        duration_minutes=rng.choice((30, 45, 45, 60)) if attended else None,
        approach=rng.choice(Approach.values) if attended else "",
        note=rng.choice(NOTES) if attended else ("Demo note: phoned twice, no answer." if
                                                 attendance == Attendance.NO_SHOW else ""),
        risk_flags=[flag] if flag else [], now=min(now, starts_at + datetime.timedelta(hours=2)))
    return 1


def _weekly_group(*, rng, counsellor, clients, first, today, now) -> int:
    """A relapse-prevention group every Wednesday at 15:00, recorded with each participant's own note; next
    week's is scheduled."""
    if len(clients) < 2:
        return 0
    day = first + datetime.timedelta(days=(2 - first.weekday()) % 7)
    made = 0
    while True:
        starts_at = _at(day, 15)
        if starts_at > now:
            services.group_session_create(actor=counsellor, starts_at=starts_at, clients=clients,
                                          approach=Approach.RELAPSE_PREVENTION, duration_minutes=90, now=now)
            return made + 1
        written = min(now, starts_at + datetime.timedelta(hours=2))
        session = services.group_session_create(actor=counsellor, starts_at=starts_at, clients=clients, held=True,
                                                approach=Approach.RELAPSE_PREVENTION, duration_minutes=90,
                                                now=written)
        outcomes = []
        for participant in Participant.objects.filter(session=session).select_related("client"):
            attended = rng.random() > 0.12
            outcomes.append(services.Outcome(
                participant=participant, attendance=Attendance.ATTENDED if attended else Attendance.NO_SHOW,
                note=rng.choice(GROUP_NOTES) if attended else ""))
        services.session_record_outcome(actor=counsellor, session=session, outcomes=outcomes, duration_minutes=90,
                                        approach=Approach.RELAPSE_PREVENTION, now=written)
        made += 1
        day += datetime.timedelta(days=7)


def _close_old_tasks(*, counsellor, clients, today, now) -> None:
    """Follow-ups of missed appointments more than three weeks old were done; the recent ones are waiting."""
    old = FollowUpTask.objects.filter(client__in=clients, status="open",
                                      due_on__lt=today - datetime.timedelta(days=21))
    for task in old:
        services.task_complete(actor=counsellor, task=task,
                               now=min(now, dates.day_start(task.due_on) + datetime.timedelta(hours=10)))


def _appointments(*, rng, counsellor, clients, today, now, today_count) -> int:
    """Appointments today (made yesterday) and in the next six days; one from yesterday left unrecorded."""
    made = 0
    yesterday = now - datetime.timedelta(days=1)
    for (hour, minute), client in zip(TODAY_TIMES[:today_count], clients, strict=False):
        services.appointment_schedule(actor=counsellor, client=client, starts_at=_at(today, hour, minute),
                                      modality=Modality.INDIVIDUAL, duration_minutes=45,
                                      now=yesterday - datetime.timedelta(days=1))
        made += 1
    for offset, client in enumerate(clients[today_count:today_count + 5], start=1):
        services.appointment_schedule(actor=counsellor, client=client,
                                      starts_at=_at(today + datetime.timedelta(days=offset), rng.choice((9, 10, 14))),
                                      modality=rng.choice((Modality.INDIVIDUAL, Modality.INDIVIDUAL, Modality.PHONE)),
                                      duration_minutes=45, now=now)
        made += 1
    if clients:
        services.appointment_schedule(actor=counsellor, client=clients[-1],
                                      starts_at=_at(today - datetime.timedelta(days=1), 16),
                                      modality=Modality.INDIVIDUAL, now=yesterday - datetime.timedelta(days=1))
        made += 1
    return made
