"""Viewer-scoped reads of counselling.

Every client-facing read goes through ``clients.selectors.clients_visible_to``: a counsellor sees the sessions,
notes, flags and tasks of their own caseload, a centre manager those of their centre, nobody else anything.
A session page lists only the participants the viewer may see and counts the others without naming them.
Lists run a fixed number of queries whatever the number of rows (aggregates in SQL). The list querysets leave
the data keys of their rows to the caller: a page adds ``.with_data_keys()``, the home panel loads those of all
its lists in one query.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass, field

from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery, Window
from django.http import Http404
from django.utils import timezone

from casemgmt import access
from casemgmt.roles import Role
from clients.models import Client, ClientStatus
from clients.selectors import access_client, clients_visible_to, counsellors_of
from counselling import dates
from counselling.models import (
    Attendance,
    FlagStatus,
    FollowUpTask,
    Modality,
    Participant,
    RiskFlag,
    Session,
    SessionStatus,
    TaskStatus,
)

PANEL_ROWS = 10
AGENDA_ROWS = 80
# What a list shows of a client (UIC and initials) and the version their values are bound to: a client row has a
# dozen encrypted columns, and a list that loads them all spends more time on them than on anything else.
CLIENT_IN_LISTS = ("client__id", "client__uic", "client__given_name", "client__family_name", "client__version",
                   "client__organisation_id", "client__counsellor_id", "client__status")
CLIENT_PAGE_SESSIONS = 20
CLIENT_PAGE_UPCOMING = 5


def _as_uuid(value) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise Http404 from None


# --------------------------------------------------------------------------------------------
# Sessions


def sessions_scope(user) -> QuerySet[Session]:
    """Sessions the user may open: of their centre; a manager all of them, a counsellor those they hold and those
    with a client of their caseload."""
    role = access.role_of(user)
    sessions = Session.objects.filter(organisation=access.organisation_of(user))
    if role == Role.CENTRE_MANAGER:
        return sessions
    if role == Role.COUNSELLOR:
        return sessions.filter(Q(counsellor=user) | Q(pk__in=Participant.objects.filter(
            client__in=clients_visible_to(user)).values("session_id")))
    return Session.objects.none()


def access_session(*, user, session_id) -> Session:
    """The session, if ``user`` may open it; otherwise 404 (missing and not-yours look the same)."""
    session = sessions_scope(user).select_related("counsellor").filter(pk=_as_uuid(session_id)).first()
    if session is None:
        raise Http404
    return session


def visible_participants(*, user, sessions: list[Session], write: bool = False, keys: bool = True,
                         notes: bool = True) -> list:
    """Give each session ``visible`` (its participants whose client ``user`` may see, with UIC and initials) and
    ``hidden`` (how many others it has: counted, never named). Two queries for any number of sessions (one when
    they carry ``participant_count``), and their clients' data keys in one more unless ``keys`` is false (the
    caller loads them with others'). Without ``notes``, the participants come without their notes (a list that
    shows none). Returns the visible participants."""
    if not sessions:
        return []
    ids = [s.pk for s in sessions]
    if all(hasattr(s, "participant_count") for s in sessions):
        totals = {s.pk: s.participant_count for s in sessions}
    else:
        totals = dict(Participant.objects.filter(session__in=ids).values_list("session_id")
                      .annotate(n=Count("id")).order_by())
    rows = (Participant.objects.filter(session__in=ids, client__in=clients_visible_to(user, write=write))
            .select_related("client").only("id", "session_id", "client_id", "starts_at", "attendance",
                                           *(("note", "version") if notes else ()), "recorded_at",
                                           *CLIENT_IN_LISTS)
            .order_by("starts_at", "id"))
    rows = list(rows.with_data_keys() if keys else rows)
    by_session: dict = {}
    for participant in rows:
        by_session.setdefault(participant.session_id, []).append(participant)
    for session in sessions:
        session.visible = by_session.get(session.pk, [])
        for participant in session.visible:
            participant.session = session
        session.hidden = totals.get(session.pk, 0) - len(session.visible)
    return rows


def access_participant(*, user, session: Session, participant_id, write: bool = False) -> Participant:
    """A participant of ``session`` whose client ``user`` may see (or write); otherwise 404."""
    participant = (Participant.objects.filter(session=session, pk=_as_uuid(participant_id),
                                              client__in=clients_visible_to(user, write=write))
                   .select_related("client").first())
    if participant is None:
        raise Http404
    participant.session = session
    return participant


def user_sessions(*, user) -> QuerySet[Session]:
    """The sessions list: a counsellor's own, a manager's centre's; newest first."""
    sessions = Session.objects.filter(organisation=access.organisation_of(user))
    if access.role_of(user) != Role.CENTRE_MANAGER:
        sessions = sessions.filter(counsellor=user)
    return sessions.select_related("counsellor").order_by("-starts_at", "id")


def upcoming_sessions(*, user, now: datetime.datetime | None = None) -> QuerySet[Session]:
    start = dates.day_start(dates.today(now))
    return (user_sessions(user=user).filter(status=SessionStatus.SCHEDULED, starts_at__gte=start)
            .order_by("starts_at", "id"))


@dataclass
class Agenda:
    """A counsellor's appointments: today's (recorded or not), the next days', and earlier ones never recorded."""

    today: list[Session] = field(default_factory=list)
    next_days: list[Session] = field(default_factory=list)
    unrecorded: list[Session] = field(default_factory=list)

    @property
    def sessions(self) -> list[Session]:
        return [*self.today, *self.next_days, *self.unrecorded]


def agenda(*, user, now: datetime.datetime | None = None, keys: bool = True) -> Agenda:
    """Three queries, whatever the number of sessions: the sessions of today and the next days, the earlier ones
    never recorded (each with their participant counts), and the visible participants (and, unless ``keys`` is
    false, their clients' data keys)."""
    today = dates.today(now)
    start, tomorrow = dates.day_start(today), dates.day_start(today + datetime.timedelta(days=1))
    end = dates.day_start(today + datetime.timedelta(days=dates.NEXT_DAYS + 1))
    mine = (Session.objects.filter(organisation=access.organisation_of(user), counsellor=user)
            .only("id", "organisation_id", "counsellor_id", "starts_at", "modality", "status")
            .annotate(participant_count=Count("participants")))
    coming = list(mine.filter(starts_at__gte=start, starts_at__lt=end)
                  .filter(Q(starts_at__lt=tomorrow) | Q(status=SessionStatus.SCHEDULED))  # today's: recorded or not
                  .order_by("starts_at", "id")[:AGENDA_ROWS])
    unrecorded = list(mine.filter(status=SessionStatus.SCHEDULED, starts_at__lt=start)
                      .order_by("-starts_at", "id")[:PANEL_ROWS])
    visible_participants(user=user, sessions=coming + unrecorded, keys=keys, notes=False)
    return Agenda(today=[s for s in coming if s.starts_at < tomorrow],
                  next_days=[s for s in coming if s.starts_at >= tomorrow], unrecorded=unrecorded)


# --------------------------------------------------------------------------------------------
# A client's counselling


@dataclass
class ClientCounselling:
    flags: list[RiskFlag]
    tasks: list[FollowUpTask]
    upcoming: list[Participant]
    history: list[Participant]
    sessions_count: int


def client_counselling(*, user, client: Client, limit: int = CLIENT_PAGE_SESSIONS,
                       now: datetime.datetime | None = None) -> ClientCounselling:
    """What the client page shows of ``client`` (already looked up through ``access_client``): open flags,
    open follow-up tasks, upcoming appointments and the latest sessions with this client's own note, nothing of
    any other participant. Four queries, whatever the length of the history."""
    today = dates.today(now)
    participations = Participant.objects.filter(client=client).select_related("session", "session__counsellor")
    upcoming = list(participations.filter(attendance=Attendance.SCHEDULED).order_by("starts_at", "id")
                    [:CLIENT_PAGE_UPCOMING])
    history = list(participations.exclude(attendance=Attendance.SCHEDULED)
                   .annotate(history_length=Window(Count("pk"))).order_by("-starts_at", "-id")[:limit])
    count = history[0].history_length if history else 0
    flags = list(RiskFlag.objects.filter(client=client).filter(
        Q(status=FlagStatus.OPEN) | Q(participant__in=[p.pk for p in history])).select_related("raised_by")
        .order_by("-raised_at"))
    raised: dict = {}
    for flag in flags:
        raised.setdefault(flag.participant_id, []).append(flag)
    for participant in history:
        participant.client = client
        participant.flags_raised = raised.get(participant.pk, [])
    for participant in upcoming:
        participant.client = client
        participant.overdue = participant.starts_at < dates.day_start(today)
    tasks = list(FollowUpTask.objects.filter(client=client, status=TaskStatus.OPEN).order_by("due_on"))
    _due(tasks, today)
    return ClientCounselling(flags=[f for f in flags if f.status == FlagStatus.OPEN], tasks=tasks,
                             upcoming=upcoming, history=history, sessions_count=count)


def client_history(*, client: Client) -> QuerySet[Participant]:
    """Every session of ``client`` (already looked up through ``access_client``), newest first, for paging."""
    return (Participant.objects.filter(client=client).select_related("session", "session__counsellor")
            .order_by("-starts_at", "-id"))


# --------------------------------------------------------------------------------------------
# Risk flags and follow-up tasks


def open_flags(*, user) -> QuerySet[RiskFlag]:
    """Open risk flags of the clients ``user`` may see, newest first."""
    flags = RiskFlag.objects.filter(status=FlagStatus.OPEN)
    if access.role_of(user) == Role.CENTRE_MANAGER:
        organisation = access.organisation_of(user)
        # The column is the index; the client's own centre is the rule.
        flags = flags.filter(organisation=organisation, client__organisation=organisation)
    else:
        flags = flags.filter(client__in=clients_visible_to(user))
    return (flags.exclude(client__status=ClientStatus.ERASED).select_related("client", "client__counsellor")
            .only("id", "client_id", "organisation_id", "kind", "status", "raised_at", *CLIENT_IN_LISTS,
                  "client__counsellor__username")
            .order_by("-raised_at", "id"))


def access_flag(*, user, client_id, flag_id, write: bool = True) -> RiskFlag:
    """A risk flag of a client ``user`` may reach (write, by default: the page resolves it); otherwise 404."""
    client = access_client(user=user, client_id=client_id, write=write)
    flag = RiskFlag.objects.filter(client=client, pk=_as_uuid(flag_id)).select_related("participant__session").first()
    if flag is None:
        raise Http404
    flag.client = client
    return flag


def with_flags_raised(participants: list[Participant]) -> None:
    """Give each participant ``flags_raised``, the risks raised in their session: one query."""
    raised: dict = {}
    for flag in RiskFlag.objects.filter(participant__in=[p.pk for p in participants]).order_by("raised_at"):
        raised.setdefault(flag.participant_id, []).append(flag)
    for participant in participants:
        participant.flags_raised = raised.get(participant.pk, [])


def writable_clients_by_uic(*, user, uics) -> tuple[list[Client], list[tuple[str, str]]]:
    """The clients ``user`` may write that the UICs name (exact, through the blind index), and the UICs that name
    none ("none") or several ("several"). Nothing about clients outside the user's scope."""
    writable = clients_visible_to(user, write=True).exclude(status=ClientStatus.ERASED)
    found, problems = [], []
    for uic in uics:
        matches = writable.blind_search("uic_index", uic)
        if len(matches) == 1:
            found.append(matches[0])
        else:
            problems.append((uic, "none" if not matches else "several"))
    return found, problems


def _due(tasks: list[FollowUpTask], today: datetime.date) -> list[FollowUpTask]:
    for task in tasks:
        task.overdue = task.due_on < today
        task.due_today = task.due_on == today
    return tasks


def open_tasks(*, user) -> QuerySet[FollowUpTask]:
    """Open follow-up tasks of the clients ``user`` may see (a client's current counsellor has them), by due
    date."""
    return (FollowUpTask.objects.filter(status=TaskStatus.OPEN, client__in=clients_visible_to(user))
            .exclude(client__status=ClientStatus.ERASED).select_related("client", "participant")
            .only("id", "client_id", "participant_id", "reason", "due_on", "status", "created_at", *CLIENT_IN_LISTS,
                  "participant__starts_at", "participant__version", "participant__client_id")
            .order_by("due_on", "created_at", "id"))


def tasks_with_due(tasks, *, now: datetime.datetime | None = None) -> list[FollowUpTask]:
    return _due(list(tasks), dates.today(now))


def access_task(*, user, task_id) -> FollowUpTask:
    task = FollowUpTask.objects.filter(pk=_as_uuid(task_id), client__in=clients_visible_to(user, write=True)).first()
    if task is None:
        raise Http404
    return task


# --------------------------------------------------------------------------------------------
# Clients not seen


def not_seen(*, user, now: datetime.datetime | None = None, days: int = dates.NOT_SEEN_DAYS) -> QuerySet[Client]:
    """Active clients ``user`` may see who have not attended a session for ``days`` days or more (counted in the
    site's days), or, never seen in a session, were registered that long ago. Never seen first, then the
    longest unseen; each row carries ``last_seen`` (None: never)."""
    cutoff = dates.day_start(dates.today(now) - datetime.timedelta(days=days - 1))
    last_seen = (Participant.objects.filter(client=OuterRef("pk"), attendance=Attendance.ATTENDED)
                 .order_by("-starts_at").values("starts_at")[:1])
    return (clients_visible_to(user).filter(status=ClientStatus.ACTIVE).annotate(last_seen=Subquery(last_seen))
            .filter(Q(last_seen__lt=cutoff) | Q(last_seen__isnull=True, created_at__lt=cutoff))
            .only("id", "uic", "given_name", "family_name", "created_at")
            .order_by(F("last_seen").asc(nulls_first=True), "id"))


# --------------------------------------------------------------------------------------------
# The manager's dashboard


@dataclass
class CaseloadRow:
    counsellor: object | None  # None: clients waiting for a counsellor
    active: int = 0
    inactive: int = 0
    held_this_month: int = 0


@dataclass
class Dashboard:
    caseloads: list[CaseloadRow]
    held_this_month: int
    by_modality: list[tuple[str, int]]
    month_start: datetime.date


def caseload_counts(*, organisation) -> QuerySet:
    """(counsellor id or None, status, clients) of the centre's active and inactive clients.

    COUNT(*), not of a column: the index counselling_caseload_sizes (migration 0002) answers it alone."""
    return (Client.objects.filter(organisation=organisation, status__in=[ClientStatus.ACTIVE, ClientStatus.INACTIVE])
            .values_list("counsellor_id", "status").annotate(n=Count("*")).order_by())


def dashboard(*, organisation, now: datetime.datetime | None = None) -> Dashboard:
    """Caseload sizes per counsellor and the sessions held this month, by counsellor and modality: three
    aggregate queries, whatever the size of the centre."""
    today = dates.today(now)
    counsellors = list(counsellors_of(organisation))
    rows = {c.pk: CaseloadRow(counsellor=c) for c in counsellors}
    unassigned = CaseloadRow(counsellor=None)
    for counsellor_id, status, n in caseload_counts(organisation=organisation):
        row = unassigned if counsellor_id is None else rows.get(counsellor_id)
        if row is None:  # a former counsellor of the centre, still holding clients
            continue
        setattr(row, "active" if status == ClientStatus.ACTIVE else "inactive", n)
    held = (Session.objects.filter(organisation=organisation, status=SessionStatus.HELD,
                                   starts_at__gte=dates.month_start(today))
            .values_list("counsellor_id", "modality").annotate(n=Count("id")).order_by())
    by_modality: dict[str, int] = {}
    total = 0
    for counsellor_id, modality, n in held:
        total += n
        by_modality[modality] = by_modality.get(modality, 0) + n
        if counsellor_id in rows:
            rows[counsellor_id].held_this_month += n
    caseloads = [rows[c.pk] for c in counsellors]
    if unassigned.active or unassigned.inactive:
        caseloads.append(unassigned)
    return Dashboard(caseloads=caseloads, held_this_month=total, month_start=today.replace(day=1),
                     by_modality=[(m.label, by_modality[m]) for m in Modality if by_modality.get(m)])


def now_minute() -> datetime.datetime:
    """Now, to the minute, in the site's time zone: the default of a form's date and time."""
    return timezone.localtime(timezone.now(), timezone.get_default_timezone()).replace(second=0, microsecond=0)

