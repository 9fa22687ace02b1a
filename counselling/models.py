"""Counselling: sessions, each client's attendance and note in them, risk flags, follow-up tasks.

A session is held by a counsellor of a centre at a time. Each client in it has a participant row with their
attendance and their note, encrypted under **that client's** data key: an individual session has one
participant, a group session many, and no note of one client is ever bound to another's key. Coded values
(modality, approach, attendance, flag kinds, dates) stay in clear, for the home panels and the indicators
(DESIGN.md §3).
"""

from __future__ import annotations

import functools
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from casemgmt.fields import EncryptedManager, EncryptedTextField
from casemgmt.models import Organisation
from casemgmt.text import multiline_text
from casemgmt.versioning import VersionedModel
from clients.models import Client


class Modality(models.TextChoices):
    INDIVIDUAL = "individual", _("Individual")
    GROUP = "group", _("Group")
    FAMILY = "family", _("Family")
    PHONE = "phone", pgettext_lazy("counselling modality", "Phone")
    OUTREACH = "outreach", _("Outreach")


# A session with one client; a group session is made on its own page, with its participants.
ONE_CLIENT_MODALITIES = [m for m in Modality if m != Modality.GROUP]


class Approach(models.TextChoices):
    MOTIVATIONAL_INTERVIEWING = "motivational_interviewing", _("Motivational interviewing")
    COGNITIVE_BEHAVIOURAL = "cognitive_behavioural", _("Cognitive behavioural")
    RELAPSE_PREVENTION = "relapse_prevention", _("Relapse prevention")
    PSYCHO_EDUCATION = "psycho_education", _("Psycho-education")
    HARM_REDUCTION = "harm_reduction", _("Harm-reduction counselling")


class SessionStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    HELD = "held", _("Held")  # at least one participant attended
    NOT_HELD = "not_held", _("Not held")  # every participant missed it or cancelled


class Attendance(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    ATTENDED = "attended", _("Attended")
    NO_SHOW = "no_show", _("No-show")
    CANCELLED = "cancelled", _("Cancelled")


RECORDED_ATTENDANCE = [Attendance.ATTENDED, Attendance.NO_SHOW, Attendance.CANCELLED]


class RiskKind(models.TextChoices):
    SUICIDE = "suicide", _("Suicide risk")
    VIOLENCE = "violence", _("Violence")
    OVERDOSE = "overdose", _("Overdose risk")


class FlagStatus(models.TextChoices):
    OPEN = "open", _("Open")
    RESOLVED = "resolved", _("Resolved")


class TaskStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")


class TaskReason(models.TextChoices):
    MISSED_APPOINTMENT = "missed_appointment", _("Missed appointment")


@functools.lru_cache(maxsize=256)
def _label_in(choices: type[models.TextChoices], value: str, language: str | None) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value or ""


def label(choices: type[models.TextChoices], value: str) -> str:
    """A coded value's label in the active language, looked up once per process and language (lists)."""
    return _label_in(choices, value, translation.get_language())


class Session(VersionedModel):
    """A counselling session or appointment: who holds it, where, when, how. No free text: the notes are the
    participants' (each under their own client's key)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # The centre where it is held: a client transferred later takes their participation along in their file,
    # the session itself stays the old centre's.
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("centre"))
    counsellor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="counselling_sessions", verbose_name=_("counsellor"))
    starts_at = models.DateTimeField(_("date and time"))
    duration_minutes = models.PositiveSmallIntegerField(_("duration (minutes)"), null=True, blank=True)
    modality = models.CharField(_("modality"), max_length=16, choices=Modality.choices)
    approach = models.CharField(_("approach"), max_length=32, choices=Approach.choices, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=SessionStatus.choices,
                              default=SessionStatus.SCHEDULED)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_at"]
        verbose_name = _("counselling session")
        verbose_name_plural = _("counselling sessions")
        indexes = [
            # A counsellor's agenda (today, the next days) and their sessions list.
            models.Index(fields=["counsellor", "starts_at"], name="session_counsellor_time"),
            # A centre's sessions delivered this month, and its sessions list.
            models.Index(fields=["organisation", "status", "starts_at"], name="session_org_status_time"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(duration_minutes__isnull=True) | Q(duration_minutes__gt=0),
                                   name="session_duration_positive"),
            models.CheckConstraint(condition=~Q(status=SessionStatus.HELD) | Q(duration_minutes__isnull=False),
                                   name="held_session_has_duration"),
        ]

    def __str__(self) -> str:
        return f"counselling session {self.pk}"

    @property
    def is_group(self) -> bool:
        return self.modality == Modality.GROUP

    @property
    def modality_label(self) -> str:
        return label(Modality, self.modality)

    @property
    def approach_label(self) -> str:
        return label(Approach, self.approach)

    @property
    def status_label(self) -> str:
        return label(SessionStatus, self.status)


class Participant(VersionedModel):
    """One client in one session: their attendance and their note (encrypted with the client's data key)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="participants")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="counselling_participations")
    # The session's time, copied (sessions are never moved): the client's history and "last seen" read one index.
    starts_at = models.DateTimeField(editable=False)
    attendance = models.CharField(_("attendance"), max_length=16, choices=Attendance.choices,
                                  default=Attendance.SCHEDULED)
    note = EncryptedTextField(_("note"), blank=True, default="", validators=[multiline_text])
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    recorded_at = models.DateTimeField(null=True, blank=True)

    encryption_subject = "client_id"
    objects = EncryptedManager()

    class Meta:
        ordering = ["-starts_at"]
        verbose_name = _("session participant")
        verbose_name_plural = _("session participants")
        indexes = [
            # The client's sessions, newest first; "not seen for 30 days" reads the attendance along.
            models.Index(fields=["client", "-starts_at"], name="participant_client_time", include=["attendance"]),
        ]
        constraints = [
            models.UniqueConstraint(fields=["session", "client"], name="one_participation_per_client"),
            models.CheckConstraint(
                condition=Q(attendance=Attendance.SCHEDULED) | Q(recorded_at__isnull=False),
                name="recorded_attendance_has_time"),
        ]

    def __str__(self) -> str:
        return f"session participant {self.pk}"

    @property
    def attendance_label(self) -> str:
        return label(Attendance, self.attendance)


class RiskFlag(VersionedModel):
    """A risk raised in a session (suicide, violence, overdose): on the client's page and the centre's dashboard
    until someone resolves it, saying how."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="counselling_risk_flags")
    # The client's centre, kept with them when they are transferred (counselling.signals): the dashboard's index.
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("risk"), max_length=16, choices=RiskKind.choices)
    status = models.CharField(_("status"), max_length=16, choices=FlagStatus.choices, default=FlagStatus.OPEN)
    participant = models.ForeignKey(Participant, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="risk_flags")
    raised_at = models.DateTimeField(_("raised at"))
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    resolution_note = EncryptedTextField(_("how it was resolved"), blank=True, default="", validators=[multiline_text])

    encryption_subject = "client_id"
    objects = EncryptedManager()

    class Meta:
        ordering = ["-raised_at"]
        verbose_name = _("risk flag")
        verbose_name_plural = _("risk flags")
        indexes = [
            models.Index(fields=["organisation", "-raised_at"], condition=Q(status=FlagStatus.OPEN),
                         name="riskflag_open_org"),
            models.Index(fields=["client", "-raised_at"], condition=Q(status=FlagStatus.OPEN),
                         name="riskflag_open_client"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["client", "kind"], condition=Q(status=FlagStatus.OPEN),
                                    name="one_open_flag_per_kind"),
            models.CheckConstraint(
                condition=Q(status=FlagStatus.OPEN, resolved_at__isnull=True)
                | Q(status=FlagStatus.RESOLVED, resolved_at__isnull=False),
                name="resolved_flag_has_time"),
        ]

    def __str__(self) -> str:
        return f"risk flag {self.pk}"

    @property
    def kind_label(self) -> str:
        return label(RiskKind, self.kind)


class FollowUpTask(models.Model):
    """Something a counsellor must do about a client: made by a missed appointment, open until done."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="counselling_tasks")
    # One task per missed appointment: recording the no-show again cannot make a second.
    participant = models.OneToOneField(Participant, on_delete=models.CASCADE, null=True, blank=True,
                                       related_name="follow_up")
    reason = models.CharField(_("reason"), max_length=32, choices=TaskReason.choices)
    due_on = models.DateField(_("due on"))
    status = models.CharField(_("status"), max_length=16, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="+")

    # Nothing of its own is encrypted; lists of tasks show their clients' UICs, whose keys load in one query.
    encryption_subject = "client_id"
    objects = EncryptedManager()

    class Meta:
        ordering = ["due_on", "created_at"]
        verbose_name = _("follow-up task")
        verbose_name_plural = _("follow-up tasks")
        indexes = [
            models.Index(fields=["client", "due_on"], condition=Q(status=TaskStatus.OPEN), name="task_open_client"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status=TaskStatus.OPEN, done_at__isnull=True)
                | Q(status=TaskStatus.DONE, done_at__isnull=False),
                name="done_task_has_time"),
        ]

    def __str__(self) -> str:
        return f"follow-up task {self.pk}"

    @property
    def reason_label(self) -> str:
        return label(TaskReason, self.reason)
