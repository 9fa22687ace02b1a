"""Viewer-scoped reads of plans. Every read starts from the client's scope (``clients_visible_to``): the
client's counsellor and the centre's managers; anyone else finds nothing (404), exactly as for a missing plan.

Dates are the centre's (``TIME_ZONE``, Asia/Phnom_Penh): a review is due from seven days before its date and
overdue from the day after it, by the local calendar, whatever the server's clock zone.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.text import capfirst

from casemgmt import access
from casemgmt.roles import Role
from clients.selectors import clients_visible_to
from plans.models import (
    IN_FORCE,
    Goal,
    GoalDomain,
    GoalStatus,
    Milestone,
    PlanRevision,
    PlanStatus,
    ReintegrationPlan,
    TreatmentPlan,
)

DUE_WITHIN_DAYS = 7
PANEL_LIMIT = 20


def _uuid(value) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise Http404 from None


def treatment_plans_visible_to(user, *, write: bool = False) -> QuerySet[TreatmentPlan]:
    return TreatmentPlan.objects.filter(client__in=clients_visible_to(user, write=write))


def access_treatment_plan(*, user, plan_id, write: bool = False) -> TreatmentPlan:
    """The plan, if ``user`` may see (or, with ``write``, change) its client; otherwise 404."""
    plan = (treatment_plans_visible_to(user, write=write)
            .select_related("client", "client__organisation", "client__counsellor", "author")
            .filter(pk=_uuid(plan_id)).first())
    if plan is None:
        raise Http404
    return plan


def access_goal(*, plan: TreatmentPlan, goal_id) -> Goal:
    goal = Goal.objects.filter(plan=plan, pk=_uuid(goal_id)).first()
    if goal is None:
        raise Http404
    return goal


def reintegration_plans_visible_to(user, *, write: bool = False) -> QuerySet[ReintegrationPlan]:
    return ReintegrationPlan.objects.filter(client__in=clients_visible_to(user, write=write))


def access_reintegration_plan(*, user, plan_id, write: bool = False) -> ReintegrationPlan:
    plan = (reintegration_plans_visible_to(user, write=write)
            .select_related("client", "client__organisation", "client__counsellor", "created_by")
            .filter(pk=_uuid(plan_id)).first())
    if plan is None:
        raise Http404
    return plan


def access_milestone(*, plan: ReintegrationPlan, milestone_id) -> Milestone:
    milestone = Milestone.objects.filter(plan=plan, pk=_uuid(milestone_id)).first()
    if milestone is None:
        raise Http404
    return milestone


def goals_of(plan: TreatmentPlan) -> list[Goal]:
    return list(Goal.objects.filter(plan=plan).order_by("position", "created_at"))


def milestones_of(plan: ReintegrationPlan) -> list[Milestone]:
    return list(Milestone.objects.filter(plan=plan).order_by("target_on", "created_at"))


def plans_of_client(client) -> list[TreatmentPlan]:
    """The client's treatment plans, newest first (the caller has already reached the client)."""
    return list(TreatmentPlan.objects.filter(client=client).select_related("author").annotate(
        goal_count=Count("goals")).order_by("-created_at"))


def reintegration_plans_of_client(client) -> list[ReintegrationPlan]:
    today = timezone.localdate()
    return list(ReintegrationPlan.objects.filter(client=client).annotate(
        milestone_count=Count("milestones"),
        achieved_count=Count("milestones", filter=Q(milestones__achieved_on__isnull=False)),
        overdue_count=Count("milestones", filter=Q(milestones__achieved_on__isnull=True,
                                                   milestones__target_on__lt=today)),
    ).order_by("-created_at"))


# ----------------------------------------------------------------------------------------------------------
# History: every revision, readable, with who changed, submitted and decided what and when


@dataclass
class GoalChange:
    kind: str  # "added", "changed", "removed"
    domain_label: str
    text: str
    fields: list[str]


@dataclass
class RevisionView:
    revision: PlanRevision
    goals: list[dict]
    editors: list[str]
    changes: list[GoalChange]


SNAPSHOT_FIELDS = ("domain", "text", "interventions", "responsible", "target_on", "status")


def _goal_rows(snapshot: dict) -> list[dict]:
    rows = []
    for goal in snapshot.get("goals", []):
        rows.append({**goal, "domain_label": _label(GoalDomain, goal.get("domain")),
                     "status_label": _label(GoalStatus, goal.get("status"))})
    return rows


def _label(choices, value) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value or ""


def _changes(before: dict | None, after: dict) -> list[GoalChange]:
    old = {goal["id"]: goal for goal in (before or {}).get("goals", [])}
    new = {goal["id"]: goal for goal in after.get("goals", [])}
    changes = []
    for goal_id, goal in new.items():
        if goal_id not in old:
            changes.append(GoalChange("added", _label(GoalDomain, goal["domain"]), goal["text"], []))
        else:
            fields = [capfirst(Goal._meta.get_field(name).verbose_name) for name in SNAPSHOT_FIELDS
                      if old[goal_id].get(name) != goal.get(name)]
            if fields:
                changes.append(GoalChange("changed", _label(GoalDomain, goal["domain"]), goal["text"], fields))
    for goal_id, goal in old.items():
        if goal_id not in new:
            changes.append(GoalChange("removed", _label(GoalDomain, goal["domain"]), goal["text"], []))
    return changes


def usernames(ids) -> dict[int, str]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return dict(get_user_model().objects.filter(pk__in=ids).values_list("pk", "username"))


def history(plan: TreatmentPlan) -> list[RevisionView]:
    """Every revision of the plan, newest first, each with its goals and what changed since the one before.

    Two queries whatever the number of revisions: the revisions (with their people), the names of editors."""
    revisions = list(PlanRevision.objects.filter(plan=plan).select_related("submitted_by", "decided_by",
                                                                          "changed_by").order_by("number")
                     .with_data_keys())
    names = usernames(i for revision in revisions for i in revision.editor_ids)
    views, previous = [], None
    for revision in revisions:
        snapshot = revision.snapshot
        views.append(RevisionView(revision=revision, goals=_goal_rows(snapshot),
                                  editors=[names.get(i, "?") for i in revision.editor_ids],
                                  changes=_changes(previous, snapshot)))
        previous = snapshot
    return list(reversed(views))


def revision_of(plan: TreatmentPlan, number: int) -> RevisionView:
    for view in history(plan):
        if view.revision.number == number:
            return view
    raise Http404


# ----------------------------------------------------------------------------------------------------------
# Reminders: reviews due and overdue, plans waiting for approval (home panels)


def _in_force_of(user) -> QuerySet[TreatmentPlan]:
    return treatment_plans_visible_to(user).filter(status__in=IN_FORCE, review_on__isnull=False)


def _for_list(plans: QuerySet[TreatmentPlan]) -> QuerySet[TreatmentPlan]:
    # What the rows show: the client's UIC and initials, the author; one query for the rows, one for their keys.
    return plans.select_related("client", "author").only(
        "id", "client_id", "status", "review_on", "revision", "submitted_at", "author__username", "version",
        "client__id", "client__version", "client__uic", "client__given_name", "client__family_name",
    ).with_data_keys()


def reviews_due(*, user, today: datetime.date | None = None, days: int = DUE_WITHIN_DAYS) -> list[TreatmentPlan]:
    """Plans in force whose review date has passed or comes within ``days`` (local dates), soonest first."""
    today = today or timezone.localdate()
    plans = _in_force_of(user).filter(review_on__lte=today + datetime.timedelta(days=days))
    return list(_for_list(plans).order_by("review_on", "id")[:PANEL_LIMIT])


def overdue_reviews(*, user, today: datetime.date | None = None) -> list[TreatmentPlan]:
    """Plans in force whose review date is before today (local date)."""
    today = today or timezone.localdate()
    return list(_for_list(_in_force_of(user).filter(review_on__lt=today)).order_by("review_on", "id")[:PANEL_LIMIT])


def waiting_for_approval(*, user) -> list[TreatmentPlan]:
    """Submitted plans of the manager's centre, oldest submission first."""
    if access.role_of(user) != Role.CENTRE_MANAGER:
        return []
    plans = treatment_plans_visible_to(user).filter(status=PlanStatus.SUBMITTED)
    return list(_for_list(plans).order_by("submitted_at", "id")[:PANEL_LIMIT])


def sent_back_to(*, user) -> list[TreatmentPlan]:
    """Drafts sent back with comments, on the counsellor's caseload."""
    plans = treatment_plans_visible_to(user).filter(status=PlanStatus.DRAFT, sent_back_at__isnull=False,
                                                      author=user)
    return list(_for_list(plans).order_by("id")[:PANEL_LIMIT])


def is_overdue(plan: TreatmentPlan, today: datetime.date | None = None) -> bool:
    today = today or timezone.localdate()
    return plan.status in IN_FORCE and plan.review_on is not None and plan.review_on < today
