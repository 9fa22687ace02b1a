"""Factories of counselling: obviously synthetic clients, sessions, notes ("Synthetic note ..."), through the
services."""

from __future__ import annotations

import datetime

from django.utils import timezone

from counselling import services
from counselling.models import Attendance, Modality, Participant, Session
from tests.clients.helpers import give_consent, make_client

NOTE = "Synthetic note: talked about work and sleep (test)."


def counselling_client(*, actor, organisation, n: int = 0, consent_days: int = 200, **overrides):
    """A client on ``actor``'s caseload (when a counsellor) with a treatment consent given ``consent_days`` ago."""
    client = make_client(actor=actor, organisation=organisation, n=n, **overrides)
    give_consent(client, actor=actor, given_on=timezone.localdate() - datetime.timedelta(days=consent_days))
    return client


def ago(*, days: int = 0, hours: int = 0, now: datetime.datetime | None = None) -> datetime.datetime:
    return (now or timezone.now()) - datetime.timedelta(days=days, hours=hours)


def ahead(*, days: int = 0, hours: int = 0, now: datetime.datetime | None = None) -> datetime.datetime:
    return (now or timezone.now()) + datetime.timedelta(days=days, hours=hours)


def recorded(*, actor, client, when: datetime.datetime | None = None, attendance: str = Attendance.ATTENDED,
             note: str = NOTE, flags=(), modality: str = Modality.INDIVIDUAL, duration: int = 45,
             approach: str = "motivational_interviewing", now=None) -> Session:
    """A session with one client that took place (by default an hour ago), written up through the service."""
    return services.session_record(
        actor=actor, client=client, starts_at=when or ago(hours=1, now=now), modality=modality,
        attendance=attendance, duration_minutes=duration if attendance == Attendance.ATTENDED else None,
        approach=approach, note=note, risk_flags=flags, now=now)


def appointment(*, actor, client, when: datetime.datetime | None = None, now=None) -> Session:
    return services.appointment_schedule(actor=actor, client=client, starts_at=when or ahead(days=1, now=now),
                                         now=now)


def group(*, actor, clients, when: datetime.datetime | None = None, held: bool = False, now=None) -> Session:
    starts_at = when or (ago(hours=1, now=now) if held else ahead(days=1, now=now))
    return services.group_session_create(actor=actor, starts_at=starts_at, clients=clients, held=held,
                                         approach="psycho_education", duration_minutes=90, now=now)


def participant(session: Session, client) -> Participant:
    return Participant.objects.get(session=session, client=client)


def record_all(*, actor, session: Session, notes: dict | None = None, attendance: str = Attendance.ATTENDED,
               flags: dict | None = None, now=None) -> Session:
    """Record every participant of ``session`` (``notes`` by client: their own note)."""
    notes, flags = notes or {}, flags or {}
    outcomes = [services.Outcome(participant=p, attendance=attendance, note=notes.get(p.client_id, ""),
                                 risk_flags=tuple(flags.get(p.client_id, ())))
                for p in Participant.objects.filter(session=session).select_related("client")]
    return services.session_record_outcome(actor=actor, session=session, outcomes=outcomes, duration_minutes=60,
                                           approach="relapse_prevention", now=now)


def counselling_records(*, counsellor, organisation) -> dict:
    """For the access matrix: a client of ``counsellor`` with a session (note, open flag), a missed appointment
    (its follow-up task) and an upcoming group session."""
    from counselling.models import FollowUpTask, RiskFlag

    client = counselling_client(actor=counsellor, organisation=organisation, n=71)
    other = counselling_client(actor=counsellor, organisation=organisation, n=72)
    session = recorded(actor=counsellor, client=client, flags=["suicide"])
    recorded(actor=counsellor, client=client, attendance=Attendance.NO_SHOW, when=ago(days=3), note="")
    upcoming = group(actor=counsellor, clients=[client, other])
    return {
        "counselling_client": client,
        "counselling_session": session,
        "counselling_participant": participant(session, client),
        "counselling_flag": RiskFlag.objects.get(client=client),
        "counselling_task": FollowUpTask.objects.get(client=client),
        "counselling_group": upcoming,
    }
