"""Treatment plans and reintegration plans (the issue's parts 2 and 3).

A treatment plan moves through its states (``PlanStatus``) only through ``plans.services``, each change by the
locked ``casemgmt.transitions.transition``. Its goals are edited while it is a draft or under review; each
submission freezes them into a ``PlanRevision``: an encrypted snapshot that is never changed afterwards, with who
changed, submitted and decided (approved, sent back, withdrew) that version and when. The plan's ``revision`` is
the number of the last one: a manager approves the revision they read, and a plan submitted again since then is
not approved by a stale page.

Free text (goals, interventions, responsible people, comments, notes) is encrypted under the client's data key;
states, domains and dates stay in clear for the lists and reminders. Who may see them: the client's scope
(``clients.selectors.clients_visible_to``: the counsellor's caseload, the centre's managers), nobody else.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from casemgmt.fields import EncryptedCharField, EncryptedJSONField, EncryptedManager, EncryptedTextField
from casemgmt.models import Organisation
from casemgmt.versioning import VersionedModel
from clients.models import Client


class PlanStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted for approval")
    APPROVED = "approved", _("Approved")
    ACTIVE = "active", _("Active")
    UNDER_REVIEW = "under_review", _("Under review")
    COMPLETED = "completed", _("Completed")
    DISCONTINUED = "discontinued", _("Discontinued")


# The plan in force: at most one per client (a database constraint). Under review it is still in force.
IN_FORCE = (PlanStatus.ACTIVE, PlanStatus.UNDER_REVIEW)
# Where goals and the review date can be changed.
EDITABLE = (PlanStatus.DRAFT, PlanStatus.UNDER_REVIEW)
CLOSED = (PlanStatus.COMPLETED, PlanStatus.DISCONTINUED)


class GoalDomain(models.TextChoices):
    SUBSTANCE_USE = "substance_use", _("Substance use")
    PHYSICAL_HEALTH = "physical_health", _("Physical health")
    MENTAL_HEALTH = "mental_health", _("Mental health")
    INFECTIOUS_DISEASE = "infectious_disease", _("HIV and other infectious disease")
    FAMILY = "family", _("Family")
    HOUSING = "housing", _("Housing")
    LEGAL = "legal", _("Legal")
    VOCATIONAL = "vocational", _("Vocational")


class GoalStatus(models.TextChoices):
    NOT_STARTED = "not_started", _("Not started")
    IN_PROGRESS = "in_progress", _("In progress")
    ACHIEVED = "achieved", _("Achieved")
    NOT_ACHIEVED = "not_achieved", _("Not achieved")
    DROPPED = "dropped", _("Dropped")


class TreatmentPlan(VersionedModel):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="treatment_plans")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("status"), max_length=16, choices=PlanStatus.choices, default=PlanStatus.DRAFT)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    review_on = models.DateField(_("review date"), null=True, blank=True)
    # The last submitted revision (0: never submitted), and whether goals changed since it was frozen.
    revision = models.PositiveIntegerField(default=0, editable=False)
    changed_since_revision = models.BooleanField(default=True, editable=False)
    # Everyone who wrote, changed or submitted it (user ids): none of them may approve it or send it back. And
    # who changed it since the last submission, for that revision's history.
    editor_ids = models.JSONField(default=list, editable=False)
    draft_editor_ids = models.JSONField(default=list, editable=False)
    last_changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                        related_name="+", editable=False)
    last_changed_at = models.DateTimeField(null=True, editable=False)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                     related_name="+", editable=False)
    submitted_at = models.DateTimeField(null=True, editable=False)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                    related_name="+", editable=False)
    approved_at = models.DateTimeField(null=True, editable=False)
    approved_revision = models.PositiveIntegerField(null=True, editable=False)
    # A manager's comments when sending it back, for the author (cleared when submitted again).
    sent_back_at = models.DateTimeField(null=True, editable=False)
    send_back_comments = EncryptedTextField(_("comments"), blank=True, default="")
    activated_at = models.DateTimeField(null=True, editable=False)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                  related_name="+", editable=False)
    closed_at = models.DateTimeField(null=True, editable=False)
    closing_note = EncryptedTextField(_("closing note"), blank=True, default="")

    encryption_subject = "client_id"
    objects = EncryptedManager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("treatment plan")
        verbose_name_plural = _("treatment plans")
        constraints = [
            models.UniqueConstraint(fields=["client"], condition=models.Q(status__in=IN_FORCE),
                                    name="one_treatment_plan_in_force"),
        ]
        indexes = [
            # Reviews due and overdue (home panels): plans in force of a centre by review date.
            models.Index(fields=["organisation", "review_on"], name="plan_review_due",
                         condition=models.Q(status__in=IN_FORCE)),
            models.Index(fields=["organisation", "status"], name="plan_org_status"),
        ]

    def __str__(self) -> str:
        return f"treatment plan {self.pk}"

    @property
    def editable(self) -> bool:
        return self.status in EDITABLE

    @property
    def in_force(self) -> bool:
        return self.status in IN_FORCE


class Goal(VersionedModel):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    plan = models.ForeignKey(TreatmentPlan, on_delete=models.CASCADE, related_name="goals")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+", editable=False)
    domain = models.CharField(_("domain"), max_length=24, choices=GoalDomain.choices)
    text = EncryptedTextField(_("goal"))
    interventions = EncryptedTextField(_("interventions"), blank=True, default="")
    responsible = EncryptedCharField(_("responsible person"), max_length=200, blank=True, default="")
    target_on = models.DateField(_("target date"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=GoalStatus.choices, default=GoalStatus.NOT_STARTED)
    position = models.PositiveSmallIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    encryption_subject = "client_id"
    objects = EncryptedManager()

    class Meta:
        ordering = ["position", "created_at"]
        verbose_name = _("goal")
        verbose_name_plural = _("goals")

    def __str__(self) -> str:
        return f"goal {self.pk}"

    @property
    def domain_label(self) -> str:
        return self.get_domain_display()

    @property
    def status_label(self) -> str:
        return self.get_status_display()

    def snapshot(self) -> dict:
        """What a revision keeps of it (coded values as codes, so that the revision reads in any language)."""
        return {"id": str(self.pk), "domain": self.domain, "text": self.text, "interventions": self.interventions,
                "responsible": self.responsible, "target_on": self.target_on.isoformat() if self.target_on else None,
                "status": self.status}


class RevisionDecision(models.TextChoices):
    PENDING = "", _("Waiting for a decision")
    APPROVED = "approved", _("Approved")
    SENT_BACK = "sent_back", _("Sent back")
    WITHDRAWN = "withdrawn", _("Withdrawn by the team")


class PlanRevision(VersionedModel):
    """One submitted version of a plan, frozen: its goals and review date as they were submitted (encrypted),
    who changed them, who submitted it, and the decision taken on it (once)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    plan = models.ForeignKey(TreatmentPlan, on_delete=models.CASCADE, related_name="revisions")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+", editable=False)
    number = models.PositiveIntegerField()
    snapshot = EncryptedJSONField()
    review_on = models.DateField(null=True, blank=True)
    editor_ids = models.JSONField(default=list)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    changed_at = models.DateTimeField(null=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField()
    decision = models.CharField(max_length=16, choices=RevisionDecision.choices, default=RevisionDecision.PENDING,
                                blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    decided_at = models.DateTimeField(null=True)
    comments = EncryptedTextField(blank=True, default="")

    encryption_subject = "client_id"
    objects = EncryptedManager()

    class Meta:
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["plan", "number"], name="one_revision_number_per_plan")]

    def __str__(self) -> str:
        return f"plan revision {self.pk}"


class ReintegrationStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class ReintegrationDomain(models.TextChoices):
    HOUSING = "housing", _("Housing")
    EMPLOYMENT = "employment", _("Employment and vocational training")
    EDUCATION = "education", _("Education")
    FAMILY = "family", _("Family and community")
    LEGAL = "legal", _("Legal")
    HEALTH = "health", _("Health follow-up")


class ReintegrationPlan(VersionedModel):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="reintegration_plans")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("status"), max_length=16, choices=ReintegrationStatus.choices,
                              default=ReintegrationStatus.OPEN)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, editable=False)
    summary = EncryptedTextField(_("summary"), blank=True, default="")

    encryption_subject = "client_id"
    objects = EncryptedManager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("reintegration plan")
        verbose_name_plural = _("reintegration plans")
        constraints = [
            models.UniqueConstraint(fields=["client"], condition=models.Q(status="open"),
                                    name="one_open_reintegration_plan"),
        ]

    def __str__(self) -> str:
        return f"reintegration plan {self.pk}"


class Milestone(VersionedModel):
    """A step of reintegration. A later referrals app links referrals to it through ``plans.links``."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    plan = models.ForeignKey(ReintegrationPlan, on_delete=models.CASCADE, related_name="milestones")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+", editable=False)
    domain = models.CharField(_("domain"), max_length=16, choices=ReintegrationDomain.choices)
    description = EncryptedTextField(_("milestone"))
    notes = EncryptedTextField(_("notes"), blank=True, default="")
    target_on = models.DateField(_("target date"), null=True, blank=True)
    achieved_on = models.DateField(_("achieved on"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    encryption_subject = "client_id"
    objects = EncryptedManager()

    class Meta:
        ordering = ["target_on", "created_at"]
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")

    def __str__(self) -> str:
        return f"milestone {self.pk}"
