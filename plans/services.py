"""Writes to treatment and reintegration plans. Each is one transaction, validated before it saves, and audited.

Every state change of a treatment plan goes through ``casemgmt.transitions.transition`` (the row locked, its
state checked as it is now). Goal changes lock the plan row too, so a goal cannot change while the plan is being
submitted: what a manager approves is exactly what was frozen into the revision they read.

Who may act: the client's scope (``clients.selectors.access_client`` in the views) decides whose plans a person
reaches at all; approval and sending back are for a centre manager of the plan's centre who neither wrote,
changed nor submitted it (``ERROR_OWN_PLAN``).
"""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casemgmt import access, audit, transitions, versioning
from casemgmt.models import AuditAction
from casemgmt.roles import Role
from clients.models import Client
from clients.validators import not_in_future_field
from plans.models import (
    EDITABLE,
    IN_FORCE,
    Goal,
    GoalDomain,
    Milestone,
    PlanRevision,
    PlanStatus,
    ReintegrationDomain,
    ReintegrationPlan,
    ReintegrationStatus,
    RevisionDecision,
    TreatmentPlan,
)

ERROR_GOAL_DOMAIN = _("Choose the domain of this goal.")
ERROR_GOAL_TEXT = _("Write the goal.")
ERROR_NOT_EDITABLE = _(
    "The goals of this plan cannot be changed now: it is “%(state)s”. Goals change while a plan is a draft or "
    "under review."
)
ERROR_NO_GOALS = _("Add at least one goal before submitting the plan.")
ERROR_REVIEW_DATE_NEEDED = _("Set the date of the plan's next review before submitting it.")
ERROR_REVIEW_DATE_PAST = _("The review date cannot be in the past.")
ERROR_OWN_PLAN = _(
    "You wrote, changed or submitted this plan, so you cannot approve it or send it back: another centre manager "
    "of your centre decides."
)
ERROR_ONLY_MANAGERS = _("Only a centre manager of the plan's centre approves it or sends it back.")
ERROR_CHANGED_SINCE_READ = _(
    "This plan was submitted again since you read it (you read version %(seen)s, it is now version %(now)s), so "
    "nothing was decided. Read the current version, then decide."
)
ERROR_COMMENTS_NEEDED = _("Say what should change: your comments go to the plan's author.")
ERROR_ONE_IN_FORCE = _(
    "This client already has a treatment plan in force (active or under review). Complete or discontinue it "
    "before activating another one. Nothing was changed."
)
ERROR_CHANGED_IN_REVIEW = _(
    "Goals were changed during this review: submit the plan for approval again instead."
)
ERROR_REASON_NEEDED = _("Say why the plan is discontinued.")
ERROR_MILESTONE_DOMAIN = _("Choose the domain of this milestone.")
ERROR_MILESTONE_TEXT = _("Describe the milestone.")
ERROR_ONE_OPEN_REINTEGRATION = _("This client already has an open reintegration plan.")
ERROR_REINTEGRATION_CLOSED = _("This reintegration plan is closed: its milestones can no longer change.")
ERROR_ACHIEVED_BEFORE_PLAN = _("A milestone cannot be achieved before the reintegration plan was opened.")

GOAL_FIELDS = ["domain", "text", "interventions", "responsible", "target_on", "status"]
MILESTONE_FIELDS = ["domain", "description", "notes", "target_on", "achieved_on"]


def _touch(client_id) -> None:
    Client.objects.filter(pk=client_id).update(last_activity_at=timezone.now())


def _locked(plan: TreatmentPlan) -> TreatmentPlan:
    """The plan's row, locked until the transaction ends, as it is now."""
    return TreatmentPlan.objects.select_for_update().get(pk=plan.pk)


def _state_label(plan: TreatmentPlan) -> str:
    return str(PlanStatus(plan.status).label)


def _record(*, actor, action, obj, fields=(), reason: str = "") -> None:
    audit.record(actor=actor, action=action, object_type=obj._meta.label_lower, object_id=obj.pk,
                 client_id=obj.client_id, fields=list(fields), reason=reason)


# ----------------------------------------------------------------------------------------------------------
# Treatment plans: content


@transaction.atomic
def plan_create(*, actor, client: Client, review_on: datetime.date | None = None) -> TreatmentPlan:
    """A new draft plan for ``client``, written by ``actor``."""
    if review_on is not None and review_on < timezone.localdate():
        raise ValidationError({"review_on": ERROR_REVIEW_DATE_PAST})
    plan = TreatmentPlan(client=client, organisation_id=client.organisation_id, author=actor, review_on=review_on,
                         editor_ids=[actor.pk], draft_editor_ids=[actor.pk], last_changed_by=actor,
                         last_changed_at=timezone.now())
    plan.full_clean(exclude=["client", "organisation", "author", "last_changed_by"])
    plan.save(force_insert=True)
    _touch(client.pk)
    _record(actor=actor, action=AuditAction.CREATE, obj=plan, fields=["status", "review_on"])
    return plan


def _note_change(plan: TreatmentPlan, actor) -> None:
    """The plan's goals changed: who and when, for the next revision and the approval rule. Plain columns,
    written without moving the plan's version (an open review-date form stays current)."""
    now = timezone.now()
    editors = sorted({*plan.editor_ids, actor.pk})
    draft_editors = sorted({*plan.draft_editor_ids, actor.pk})
    TreatmentPlan.objects.filter(pk=plan.pk).update(
        editor_ids=editors, draft_editor_ids=draft_editors, last_changed_by=actor, last_changed_at=now,
        changed_since_revision=True)
    plan.editor_ids, plan.draft_editor_ids, plan.last_changed_by, plan.last_changed_at = editors, draft_editors, \
        actor, now
    plan.changed_since_revision = True


def _check_editable(plan: TreatmentPlan) -> None:
    if plan.status not in EDITABLE:
        raise transitions.TransitionRefused(ERROR_NOT_EDITABLE % {"state": _state_label(plan)})


def _clean_goal(values: dict) -> None:
    errors = {}
    if not values.get("domain") or values["domain"] not in GoalDomain.values:
        errors["domain"] = ERROR_GOAL_DOMAIN
    if not str(values.get("text") or "").strip():
        errors["text"] = ERROR_GOAL_TEXT
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def goal_save(*, actor, plan: TreatmentPlan, values: dict, goal: Goal | None = None,
              expected_version: int | None = None) -> Goal:
    """Add a goal (``goal`` None) or change one. ``expected_version``: the goal's version the form was filled in
    from; another person's save since is a ``Conflict`` and nothing is written."""
    _clean_goal(values)
    locked = _locked(plan)
    _check_editable(locked)
    if goal is None:
        goal = Goal(plan=locked, client_id=locked.client_id, position=locked.goals.count())
        changed = list(values)
        action = AuditAction.CREATE
    else:
        goal = Goal.objects.filter(pk=goal.pk, plan=locked).first()
        if goal is None:
            raise transitions.TransitionRefused(transitions.ERROR_GONE)
        versioning.check_version(goal, expected_version)
        changed = [name for name, value in values.items() if getattr(goal, name) != value]
        action = AuditAction.CHANGE
    for name, value in values.items():
        setattr(goal, name, value)
    goal.full_clean(exclude=["plan", "client"])
    goal.save(force_insert=goal._state.adding)
    _note_change(locked, actor)
    _touch(locked.client_id)
    _record(actor=actor, action=action, obj=goal, fields=changed)
    return goal


@transaction.atomic
def goal_remove(*, actor, plan: TreatmentPlan, goal: Goal) -> None:
    locked = _locked(plan)
    _check_editable(locked)
    deleted, _rows = Goal.objects.filter(pk=goal.pk, plan=locked).delete()
    if not deleted:
        raise transitions.TransitionRefused(transitions.ERROR_GONE)
    _note_change(locked, actor)
    _touch(locked.client_id)
    _record(actor=actor, action=AuditAction.DELETE, obj=goal)


@transaction.atomic
def plan_set_review_date(*, actor, plan: TreatmentPlan, review_on: datetime.date | None,
                         expected_version: int | None = None) -> TreatmentPlan:
    """Change the review date (the reminder's date) of a plan not yet closed."""
    locked = _locked(plan)
    versioning.check_version(locked, expected_version)
    if locked.status in (PlanStatus.COMPLETED, PlanStatus.DISCONTINUED):
        raise transitions.TransitionRefused(transitions.ERROR_STATE_CHANGED % {"state": _state_label(locked)})
    if review_on is not None and review_on < timezone.localdate():
        raise ValidationError({"review_on": ERROR_REVIEW_DATE_PAST})
    locked.review_on = review_on
    locked.save(update_fields=["review_on"])
    _touch(locked.client_id)
    _record(actor=actor, action=AuditAction.CHANGE, obj=locked, fields=["review_on"])
    return locked


# ----------------------------------------------------------------------------------------------------------
# Treatment plans: states


def _snapshot(plan: TreatmentPlan) -> dict:
    goals = list(Goal.objects.filter(plan=plan).order_by("position", "created_at"))
    return {"review_on": plan.review_on.isoformat() if plan.review_on else None,
            "goals": [goal.snapshot() for goal in goals]}


@transaction.atomic
def plan_submit(*, actor, plan: TreatmentPlan) -> TreatmentPlan:
    """Freeze the goals into a new revision and ask the centre's managers to approve it."""
    locked = _locked(plan)
    if locked.status not in EDITABLE:
        raise transitions.TransitionRefused(transitions.ERROR_STATE_CHANGED % {"state": _state_label(locked)})
    snapshot = _snapshot(locked)
    if not snapshot["goals"]:
        raise ValidationError(ERROR_NO_GOALS)
    if locked.review_on is None:
        raise ValidationError({"review_on": ERROR_REVIEW_DATE_NEEDED})
    now = timezone.now()
    number = locked.revision + 1
    PlanRevision(plan=locked, client_id=locked.client_id, number=number, snapshot=snapshot,
                 review_on=locked.review_on, editor_ids=locked.draft_editor_ids,
                 # Submitted again unchanged: nobody changed this version.
                 changed_by_id=locked.last_changed_by_id if locked.draft_editor_ids else None,
                 changed_at=locked.last_changed_at if locked.draft_editor_ids else None,
                 submitted_by=actor, submitted_at=now).save(force_insert=True)
    submitted = transitions.transition(
        TreatmentPlan, pk=locked.pk, actor=actor, source=EDITABLE, target=PlanStatus.SUBMITTED,
        changes={"revision": number, "submitted_by": actor, "submitted_at": now, "send_back_comments": "",
                 "sent_back_at": None, "changed_since_revision": False, "draft_editor_ids": [],
                 "editor_ids": sorted({*locked.editor_ids, actor.pk})},
        audit_fields=["status", "revision"], reason=f"status: {locked.status} -> submitted (version {number})")
    _touch(locked.client_id)
    return submitted


def _current_revision(plan: TreatmentPlan) -> PlanRevision:
    return PlanRevision.objects.get(plan=plan, number=plan.revision)


def _decide_revision(plan: TreatmentPlan, *, actor, decision: str, comments: str = "") -> None:
    revision = _current_revision(plan)
    revision.decision = decision
    revision.decided_by = actor
    revision.decided_at = timezone.now()
    revision.comments = comments
    revision.save(update_fields=["decision", "decided_by", "decided_at", "comments"])


def _deciding_manager(actor, seen_revision: int | None):
    """The checks of an approval or a send-back, made on the locked row as it is now."""
    def check(plan: TreatmentPlan) -> None:
        membership = getattr(actor, "membership", None)
        if access.role_of(actor) != Role.CENTRE_MANAGER or membership.organisation_id != plan.organisation_id:
            raise ValidationError(ERROR_ONLY_MANAGERS)
        if actor.pk == plan.author_id or actor.pk in plan.editor_ids or actor.pk == plan.submitted_by_id:
            raise ValidationError(ERROR_OWN_PLAN)
        if seen_revision is not None and int(seen_revision) != plan.revision:
            raise ValidationError(ERROR_CHANGED_SINCE_READ % {"seen": seen_revision, "now": plan.revision})
    return check


@transaction.atomic
def plan_approve(*, actor, plan: TreatmentPlan, seen_revision: int) -> TreatmentPlan:
    """Approve the revision the manager read (``seen_revision``): a plan submitted again since is refused."""
    now = timezone.now()
    approved = transitions.transition(
        TreatmentPlan, pk=plan.pk, actor=actor, source=[PlanStatus.SUBMITTED], target=PlanStatus.APPROVED,
        changes={"approved_by": actor, "approved_at": now, "approved_revision": seen_revision},
        check=_deciding_manager(actor, seen_revision),
        audit_fields=["status", "approved_by"], reason=f"status: submitted -> approved (version {seen_revision})")
    _decide_revision(approved, actor=actor, decision=RevisionDecision.APPROVED)
    _touch(approved.client_id)
    return approved


@transaction.atomic
def plan_send_back(*, actor, plan: TreatmentPlan, seen_revision: int, comments: str) -> TreatmentPlan:
    """Return the plan to its author as a draft, with the manager's comments."""
    if not comments.strip():
        raise ValidationError({"comments": ERROR_COMMENTS_NEEDED})
    sent_back = transitions.transition(
        TreatmentPlan, pk=plan.pk, actor=actor, source=[PlanStatus.SUBMITTED], target=PlanStatus.DRAFT,
        changes={"send_back_comments": comments, "sent_back_at": timezone.now()},
        check=_deciding_manager(actor, seen_revision),
        audit_fields=["status", "send_back_comments"],
        reason=f"status: submitted -> draft, sent back (version {seen_revision})")
    _decide_revision(sent_back, actor=actor, decision=RevisionDecision.SENT_BACK, comments=comments)
    _touch(sent_back.client_id)
    return sent_back


@transaction.atomic
def plan_withdraw(*, actor, plan: TreatmentPlan) -> TreatmentPlan:
    """Take a submitted plan back to draft (to change it before anyone decides)."""
    withdrawn = transitions.transition(
        TreatmentPlan, pk=plan.pk, actor=actor, source=[PlanStatus.SUBMITTED], target=PlanStatus.DRAFT,
        reason="status: submitted -> draft, withdrawn")
    _decide_revision(withdrawn, actor=actor, decision=RevisionDecision.WITHDRAWN)
    _touch(withdrawn.client_id)
    return withdrawn


@transaction.atomic
def plan_activate(*, actor, plan: TreatmentPlan) -> TreatmentPlan:
    """Put an approved plan in force. One per client: the constraint one_treatment_plan_in_force holds it, even
    for two activations at the same instant (the second's UPDATE waits for the first, then fails)."""
    def check(locked: TreatmentPlan) -> None:
        others = TreatmentPlan.objects.filter(client_id=locked.client_id, status__in=IN_FORCE).exclude(pk=locked.pk)
        if others.exists():
            raise ValidationError(ERROR_ONE_IN_FORCE)

    try:
        with transaction.atomic():
            active = transitions.transition(
                TreatmentPlan, pk=plan.pk, actor=actor, source=[PlanStatus.APPROVED], target=PlanStatus.ACTIVE,
                changes={"activated_at": timezone.now()}, check=check)
    except IntegrityError:
        raise ValidationError(ERROR_ONE_IN_FORCE) from None
    _touch(active.client_id)
    return active


@transaction.atomic
def plan_start_review(*, actor, plan: TreatmentPlan) -> TreatmentPlan:
    """Open the review of a plan in force: its goals can change (and then go to approval again)."""
    reviewed = transitions.transition(TreatmentPlan, pk=plan.pk, actor=actor, source=[PlanStatus.ACTIVE],
                                      target=PlanStatus.UNDER_REVIEW)
    _touch(reviewed.client_id)
    return reviewed


@transaction.atomic
def plan_continue(*, actor, plan: TreatmentPlan, review_on: datetime.date) -> TreatmentPlan:
    """Close a review that changed nothing: the plan stays in force until ``review_on``."""
    if review_on is None or review_on <= timezone.localdate():
        raise ValidationError({"review_on": ERROR_REVIEW_DATE_PAST})

    def check(locked: TreatmentPlan) -> None:
        if locked.changed_since_revision:
            raise ValidationError(ERROR_CHANGED_IN_REVIEW)

    continued = transitions.transition(
        TreatmentPlan, pk=plan.pk, actor=actor, source=[PlanStatus.UNDER_REVIEW], target=PlanStatus.ACTIVE,
        changes={"review_on": review_on}, check=check, audit_fields=["status", "review_on"])
    _touch(continued.client_id)
    return continued


@transaction.atomic
def plan_complete(*, actor, plan: TreatmentPlan, note: str = "") -> TreatmentPlan:
    completed = transitions.transition(
        TreatmentPlan, pk=plan.pk, actor=actor, source=IN_FORCE, target=PlanStatus.COMPLETED,
        changes={"closed_by": actor, "closed_at": timezone.now(), "closing_note": note},
        audit_fields=["status", "closing_note"] if note else ["status"])
    _touch(completed.client_id)
    return completed


@transaction.atomic
def plan_discontinue(*, actor, plan: TreatmentPlan, reason: str) -> TreatmentPlan:
    if not reason.strip():
        raise ValidationError({"note": ERROR_REASON_NEEDED})
    open_states = [s for s in PlanStatus.values if s not in (PlanStatus.COMPLETED, PlanStatus.DISCONTINUED)]
    discontinued = transitions.transition(
        TreatmentPlan, pk=plan.pk, actor=actor, source=open_states, target=PlanStatus.DISCONTINUED,
        changes={"closed_by": actor, "closed_at": timezone.now(), "closing_note": reason},
        audit_fields=["status", "closing_note"])
    _touch(discontinued.client_id)
    return discontinued


# ----------------------------------------------------------------------------------------------------------
# Reintegration plans


@transaction.atomic
def reintegration_open(*, actor, client: Client, summary: str = "") -> ReintegrationPlan:
    plan = ReintegrationPlan(client=client, organisation_id=client.organisation_id, created_by=actor, summary=summary)
    if ReintegrationPlan.objects.filter(client=client, status=ReintegrationStatus.OPEN).exists():
        raise ValidationError(ERROR_ONE_OPEN_REINTEGRATION)
    try:
        with transaction.atomic():
            plan.save(force_insert=True)
    except IntegrityError:  # opened by someone else at the same instant
        raise ValidationError(ERROR_ONE_OPEN_REINTEGRATION) from None
    _touch(client.pk)
    _record(actor=actor, action=AuditAction.CREATE, obj=plan, fields=["status", "summary"] if summary else ["status"])
    return plan


@transaction.atomic
def reintegration_close(*, actor, plan: ReintegrationPlan) -> ReintegrationPlan:
    closed = transitions.transition(
        ReintegrationPlan, pk=plan.pk, actor=actor, source=[ReintegrationStatus.OPEN],
        target=ReintegrationStatus.CLOSED, changes={"closed_at": timezone.now()})
    _touch(closed.client_id)
    return closed


def _clean_milestone(values: dict, plan: ReintegrationPlan) -> None:
    errors = {}
    if not values.get("domain") or values["domain"] not in ReintegrationDomain.values:
        errors["domain"] = ERROR_MILESTONE_DOMAIN
    if not str(values.get("description") or "").strip():
        errors["description"] = ERROR_MILESTONE_TEXT
    achieved = values.get("achieved_on")
    if achieved:
        try:
            not_in_future_field("achieved_on", achieved)
        except ValidationError as exc:
            errors.update(exc.error_dict)
        else:
            if achieved < timezone.localdate(plan.created_at):
                errors["achieved_on"] = ERROR_ACHIEVED_BEFORE_PLAN
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def milestone_save(*, actor, plan: ReintegrationPlan, values: dict, milestone: Milestone | None = None,
                   expected_version: int | None = None) -> Milestone:
    """Add a milestone (``milestone`` None) or change one; a stale form is a ``Conflict``."""
    locked = ReintegrationPlan.objects.select_for_update().get(pk=plan.pk)
    if locked.status != ReintegrationStatus.OPEN:
        raise transitions.TransitionRefused(ERROR_REINTEGRATION_CLOSED)
    _clean_milestone(values, locked)
    if milestone is None:
        milestone = Milestone(plan=locked, client_id=locked.client_id, created_by=actor)
        changed = list(values)
        action = AuditAction.CREATE
    else:
        milestone = Milestone.objects.filter(pk=milestone.pk, plan=locked).first()
        if milestone is None:
            raise transitions.TransitionRefused(transitions.ERROR_GONE)
        versioning.check_version(milestone, expected_version)
        changed = [name for name, value in values.items() if getattr(milestone, name) != value]
        action = AuditAction.CHANGE
    for name, value in values.items():
        setattr(milestone, name, value)
    milestone.full_clean(exclude=["plan", "client", "created_by"])
    milestone.save(force_insert=milestone._state.adding)
    _touch(locked.client_id)
    _record(actor=actor, action=action, obj=milestone, fields=changed)
    return milestone
