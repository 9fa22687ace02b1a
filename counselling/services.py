"""Writes of counselling: appointments, sessions, group sessions, attendance and notes, risk flags, follow-up.

Each is one transaction, validated as a whole before anything is saved (bad input saves nothing), and audited
with field names, never values. State changes (an appointment's attendance, a session held, a flag resolved,
a task done) go through ``casemgmt.transitions.transition``: the row locked, its state checked as it is now,
so that of two people recording the same appointment the second is told, and changes nothing.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casemgmt import access, audit, transitions, versioning
from casemgmt.models import AuditAction
from casemgmt.roles import Role
from clients.models import Client
from clients.selectors import clients_visible_to, has_active_treatment_consent
from clients.services import ERROR_NO_TREATMENT_CONSENT, touch
from counselling import dates
from counselling.models import (
    ONE_CLIENT_MODALITIES,
    RECORDED_ATTENDANCE,
    Attendance,
    FlagStatus,
    FollowUpTask,
    Modality,
    Participant,
    RiskFlag,
    Session,
    SessionStatus,
    TaskReason,
    TaskStatus,
)

ERROR_APPOINTMENT_IN_PAST = _(
    "An upcoming appointment cannot be in the past. To write up a session that took place, record it as a "
    "session instead."
)
ERROR_NOT_YET = _(
    "This session has not started yet, so it cannot be recorded as attended or missed. Schedule it as an "
    "appointment instead."
)
ERROR_DURATION_REQUIRED = _("A session the client attended needs its duration, in minutes.")
ERROR_APPROACH_REQUIRED = _("Choose the approach used in the session.")
ERROR_ATTENDANCE_REQUIRED = _("Say whether the client attended, did not come, or cancelled.")
ERROR_GROUP_MODALITY = _("A group session is made on its own page, with its participants.")
ERROR_GROUP_NEEDS_PARTICIPANTS = _("Add at least one client to the group session.")
ERROR_PARTICIPANT_OTHER_CENTRE = _(
    "A group session is for clients of one centre: a client chosen is registered at another centre. Nothing "
    "was saved."
)
ERROR_PARTICIPANT_NOT_YOURS = _(
    "A client chosen is not on your caseload: add only clients whose file you may write. Nothing was saved."
)
ERROR_PARTICIPANT_NO_CONSENT = _(
    "%(uic)s has no active consent to treatment and data processing on the session's date, so their "
    "attendance cannot be recorded. Record their consent first."
)
ERROR_NEXT_ONLY_FOR_ONE_CLIENT = _("A next appointment is made for one client: schedule it from their page.")
ERROR_RESOLUTION_REQUIRED = _("Say how the risk was resolved or how it is now managed.")

SESSION_FIELDS = ["starts_at", "duration_minutes", "modality", "approach", "status"]


@dataclass(frozen=True)
class Outcome:
    """What happened to one participant of a scheduled session."""

    participant: Participant
    attendance: str
    note: str = ""
    risk_flags: tuple[str, ...] = ()


def _outcome_errors(*, starts_at: datetime.datetime, attendances: Iterable[str], duration: int | None, approach: str,
                    now: datetime.datetime) -> dict:
    errors = {}
    attendances = set(attendances)
    if not attendances or not attendances <= set(RECORDED_ATTENDANCE):
        errors["attendance"] = ERROR_ATTENDANCE_REQUIRED
    if attendances & {Attendance.ATTENDED, Attendance.NO_SHOW} and starts_at > now:
        errors["starts_at"] = ERROR_NOT_YET
    if Attendance.ATTENDED in attendances:
        if not duration:
            errors["duration_minutes"] = ERROR_DURATION_REQUIRED
        if not approach:
            errors["approach"] = ERROR_APPROACH_REQUIRED
    return errors


def _new_session(*, actor, counsellor, organisation, starts_at, modality, approach="", duration_minutes=None,
                 status=SessionStatus.SCHEDULED) -> Session:
    session = Session(organisation=organisation, counsellor=counsellor, starts_at=starts_at, modality=modality,
                      approach=approach or "", duration_minutes=duration_minutes or None, status=status,
                      created_by=actor)
    session.full_clean(exclude=["organisation", "counsellor", "created_by"])
    session.save(force_insert=True)
    audit.record(actor=actor, action=AuditAction.CREATE, object_type="counselling.session", object_id=session.pk,
                 fields=[name for name in SESSION_FIELDS if getattr(session, name)])
    return session


def _new_participant(*, actor, session: Session, client: Client, now, attendance=Attendance.SCHEDULED,
                     note: str = "") -> Participant:
    recorded = attendance != Attendance.SCHEDULED
    participant = Participant(session=session, client=client, starts_at=session.starts_at, attendance=attendance,
                              note=note, recorded_by=actor if recorded else None, recorded_at=now if recorded else None)
    participant.save(force_insert=True)
    audit.record(actor=actor, action=AuditAction.CREATE, object_type="counselling.participant",
                 object_id=participant.pk, client_id=client.pk, fields=["attendance", *(["note"] if note else [])],
                 reason=f"attendance: {attendance}")  # a coded value, as a transition's reason names states
    return participant


def _after_outcome(*, actor, participant: Participant, risk_flags: Iterable[str], now) -> None:
    """A no-show makes its follow-up task; risks named in the session are raised."""
    if participant.attendance == Attendance.NO_SHOW:
        _follow_up_missed(actor=actor, participant=participant)
    _raise_flags(actor=actor, participant=participant, kinds=risk_flags, now=now)


def _follow_up_missed(*, actor, participant: Participant) -> FollowUpTask:
    due_on = dates.local_date(participant.starts_at) + datetime.timedelta(days=dates.FOLLOW_UP_DAYS)
    task, created = FollowUpTask.objects.get_or_create(
        participant=participant,
        defaults={"client_id": participant.client_id, "reason": TaskReason.MISSED_APPOINTMENT, "due_on": due_on})
    if created:
        audit.record(actor=actor, action=AuditAction.CREATE, object_type="counselling.followuptask", object_id=task.pk,
                     client_id=participant.client_id, fields=["reason", "due_on"])
    return task


def _raise_flags(*, actor, participant: Participant, kinds: Iterable[str], now) -> list[RiskFlag]:
    """One open flag per client and kind (a constraint): a risk already open stays the one flag."""
    kinds = list(dict.fromkeys(kinds))
    if not kinds:
        return []
    client = participant.client
    open_kinds = set(RiskFlag.objects.filter(client=client, status=FlagStatus.OPEN, kind__in=kinds)
                     .values_list("kind", flat=True))
    raised = []
    for kind in kinds:
        if kind in open_kinds:
            continue
        flag = RiskFlag(client=client, organisation_id=client.organisation_id, kind=kind, participant=participant,
                        raised_at=now, raised_by=actor)
        try:
            with transaction.atomic():
                flag.save(force_insert=True)
        except IntegrityError:  # raised by someone else at this instant: theirs is the open flag
            continue
        audit.record(actor=actor, action=AuditAction.CREATE, object_type="counselling.riskflag", object_id=flag.pk,
                     client_id=client.pk, fields=["kind"])
        raised.append(flag)
    return raised


def _counsellor_for(actor, client: Client):
    """Who holds a client's appointment: the counsellor scheduling it, or for a manager the client's counsellor."""
    if access.role_of(actor) == Role.COUNSELLOR or client.counsellor_id is None:
        return actor
    return client.counsellor


@transaction.atomic
def appointment_schedule(*, actor, client: Client, starts_at: datetime.datetime, modality: str = Modality.INDIVIDUAL,
                         duration_minutes: int | None = None, now: datetime.datetime | None = None) -> Session:
    """An upcoming appointment for one client (never in the past)."""
    now = now or timezone.now()
    errors = {}
    if starts_at < now:
        errors["starts_at"] = ERROR_APPOINTMENT_IN_PAST
    if modality not in ONE_CLIENT_MODALITIES:
        errors["modality"] = ERROR_GROUP_MODALITY
    if errors:
        raise ValidationError(errors)
    session = _new_session(actor=actor, counsellor=_counsellor_for(actor, client), organisation=client.organisation,
                           starts_at=starts_at, modality=modality, duration_minutes=duration_minutes)
    _new_participant(actor=actor, session=session, client=client, now=now)
    touch(client)
    return session


@transaction.atomic
def session_record(*, actor, client: Client, starts_at: datetime.datetime, modality: str, attendance: str,
                   duration_minutes: int | None = None, approach: str = "", note: str = "", risk_flags=(),
                   next_appointment: datetime.datetime | None = None, now: datetime.datetime | None = None) -> Session:
    """A session with one client that took place (or was missed, or cancelled), written up in one go: its
    attendance and note, the risks it raised, and the next appointment."""
    now = now or timezone.now()
    errors = _outcome_errors(starts_at=starts_at, attendances=[attendance], duration=duration_minutes,
                             approach=approach, now=now)
    if modality not in ONE_CLIENT_MODALITIES:
        errors["modality"] = ERROR_GROUP_MODALITY
    if next_appointment is not None and next_appointment < now:
        errors["next_appointment"] = ERROR_APPOINTMENT_IN_PAST
    if (attendance == Attendance.ATTENDED and "starts_at" not in errors
            and not has_active_treatment_consent(client, dates.local_date(starts_at))):
        errors["attendance"] = ERROR_NO_TREATMENT_CONSENT
    if errors:
        raise ValidationError(errors)
    attended = attendance == Attendance.ATTENDED
    session = _new_session(actor=actor, counsellor=actor, organisation=client.organisation, starts_at=starts_at,
                           modality=modality, approach=approach,
                           duration_minutes=duration_minutes if attended else None,
                           status=SessionStatus.HELD if attended else SessionStatus.NOT_HELD)
    participant = _new_participant(actor=actor, session=session, client=client, now=now, attendance=attendance,
                                   note=note)
    _after_outcome(actor=actor, participant=participant, risk_flags=risk_flags, now=now)
    if next_appointment is not None:
        appointment_schedule(actor=actor, client=client, starts_at=next_appointment, modality=modality, now=now)
    touch(client)
    return session


@transaction.atomic
def group_session_create(*, actor, starts_at: datetime.datetime, clients: Iterable[Client], held: bool = False,
                         duration_minutes: int | None = None, approach: str = "",
                         now: datetime.datetime | None = None) -> Session:
    """A group session with its participants, all clients of the actor's centre that the actor may write.

    Upcoming (``held`` false), it must be in the future; one that took place (``held``) must have begun, and its
    attendance is recorded next (``session_record_outcome``).
    """
    now = now or timezone.now()
    organisation = access.organisation_of(actor)
    clients = list(dict.fromkeys(clients))
    errors = {}
    if not held and starts_at < now:
        errors["starts_at"] = ERROR_APPOINTMENT_IN_PAST
    if held and starts_at > now:
        errors["starts_at"] = ERROR_NOT_YET
    if not clients:
        errors["participants"] = ERROR_GROUP_NEEDS_PARTICIPANTS
    elif any(client.organisation_id != organisation.pk for client in clients):
        errors["participants"] = ERROR_PARTICIPANT_OTHER_CENTRE
    elif clients_visible_to(actor, write=True).filter(pk__in=[c.pk for c in clients]).count() < len(clients):
        errors["participants"] = ERROR_PARTICIPANT_NOT_YOURS
    if errors:
        raise ValidationError(errors)
    session = _new_session(actor=actor, counsellor=actor, organisation=organisation, starts_at=starts_at,
                           modality=Modality.GROUP, approach=approach, duration_minutes=duration_minutes)
    for client in clients:
        _new_participant(actor=actor, session=session, client=client, now=now)
        touch(client)
    return session


@transaction.atomic
def session_record_outcome(*, actor, session: Session, outcomes: list[Outcome], duration_minutes: int | None = None,
                           approach: str = "", next_appointment: datetime.datetime | None = None,
                           now: datetime.datetime | None = None) -> Session:
    """Attendance and notes of a scheduled session's participants (those the actor may write), then the
    session's own state: held once anyone attended, not held once everyone missed it or cancelled.

    Errors of one participant are keyed ``participant:<id>``. A participant recorded meanwhile by someone else
    refuses the whole (``TransitionRefused``): nothing is half-saved.
    """
    now = now or timezone.now()
    duration = duration_minutes or session.duration_minutes
    approach = approach or session.approach
    errors = _outcome_errors(starts_at=session.starts_at, attendances=[o.attendance for o in outcomes],
                             duration=duration, approach=approach, now=now)
    writable = set(clients_visible_to(actor, write=True).filter(
        pk__in=[o.participant.client_id for o in outcomes]).values_list("pk", flat=True))
    on = dates.local_date(session.starts_at)
    for outcome in outcomes:
        participant = outcome.participant
        if participant.session_id != session.pk or participant.client_id not in writable:
            raise PermissionDenied("Only participants the actor may write are recorded.")
        if outcome.attendance == Attendance.ATTENDED and not has_active_treatment_consent(participant.client, on):
            errors[f"participant:{participant.pk}"] = ValidationError(
                ERROR_PARTICIPANT_NO_CONSENT, params={"uic": participant.client.uic})
    if next_appointment is not None:
        if session.is_group:
            errors["next_appointment"] = ERROR_NEXT_ONLY_FOR_ONE_CLIENT
        elif next_appointment < now:
            errors["next_appointment"] = ERROR_APPOINTMENT_IN_PAST
    if errors:
        raise ValidationError(errors)
    for outcome in outcomes:
        participant = transitions.transition(
            Participant, pk=outcome.participant.pk, actor=actor, field="attendance", source=[Attendance.SCHEDULED],
            target=outcome.attendance, changes={"note": outcome.note, "recorded_by": actor, "recorded_at": now},
            queryset=Participant.objects.filter(session=session), audit_fields=["attendance", "note"])
        participant.client = outcome.participant.client
        _after_outcome(actor=actor, participant=participant, risk_flags=outcome.risk_flags, now=now)
        touch(participant.client)
    session = _settle(actor=actor, session=session, duration=duration, approach=approach)
    if next_appointment is not None:
        appointment_schedule(actor=actor, client=outcomes[0].participant.client, starts_at=next_appointment,
                             modality=session.modality, now=now)
    return session


def _settle(*, actor, session: Session, duration: int | None, approach: str) -> Session:
    attendances = set(Participant.objects.filter(session=session).values_list("attendance", flat=True))
    if Attendance.ATTENDED in attendances:
        target, changes = SessionStatus.HELD, {"duration_minutes": duration, "approach": approach}
    elif attendances and attendances <= {Attendance.NO_SHOW, Attendance.CANCELLED}:
        target, changes = SessionStatus.NOT_HELD, {"duration_minutes": None}
    else:
        return session  # some participants are still to be recorded, and nobody attended yet
    if session.status == target:
        return session
    return transitions.transition(
        Session, pk=session.pk, actor=actor, source=[SessionStatus.SCHEDULED], target=target, changes=changes,
        queryset=Session.objects.filter(organisation=session.organisation_id), client_id_attr=None,
        audit_fields=["status", *changes])


@transaction.atomic
def participant_note_update(*, actor, participant: Participant, note: str,
                            expected_version: int | None = None) -> Participant:
    """Change a session note. ``expected_version``: the version the form was filled in from; a save by someone
    else since then is a ``Conflict`` and nothing is written (the conflict page shows both texts)."""
    versioning.check_version(participant, expected_version)
    if participant.note == note:
        return participant
    participant.note = note
    participant.save(update_fields=["note"])
    audit.record(actor=actor, action=AuditAction.CHANGE, object_type="counselling.participant",
                 object_id=participant.pk, client_id=participant.client_id, fields=["note"])
    return participant


@transaction.atomic
def flag_resolve(*, actor, flag: RiskFlag, resolution_note: str,
                 now: datetime.datetime | None = None) -> RiskFlag:
    if not resolution_note.strip():
        raise ValidationError({"resolution_note": ERROR_RESOLUTION_REQUIRED})
    return transitions.transition(
        RiskFlag, pk=flag.pk, actor=actor, source=[FlagStatus.OPEN], target=FlagStatus.RESOLVED,
        changes={"resolved_at": now or timezone.now(), "resolved_by": actor, "resolution_note": resolution_note},
        queryset=RiskFlag.objects.filter(client__in=clients_visible_to(actor, write=True)),
        audit_fields=["status", "resolution_note"])


@transaction.atomic
def task_complete(*, actor, task: FollowUpTask, now: datetime.datetime | None = None) -> FollowUpTask:
    return transitions.transition(
        FollowUpTask, pk=task.pk, actor=actor, source=[TaskStatus.OPEN], target=TaskStatus.DONE,
        changes={"done_at": now or timezone.now(), "done_by": actor},
        queryset=FollowUpTask.objects.filter(client__in=clients_visible_to(actor, write=True)))


def follow_transfer(sender, *, instance: Client, created: bool = False, update_fields=None, **kwargs) -> None:
    """A client moved to another centre takes their open risk flags to its dashboard (Client post_save)."""
    if created or not update_fields or "organisation" not in update_fields:
        return
    RiskFlag.objects.filter(client=instance).exclude(organisation_id=instance.organisation_id).update(
        organisation_id=instance.organisation_id)
