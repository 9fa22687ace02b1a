"""Home panels: the counsellor's day (appointments today and in the next days, missed appointments to follow up,
clients not seen for 30 days or more, open risk flags) and the manager's dashboard (caseload sizes per counsellor,
open risk flags, sessions delivered this month). Each runs a fixed number of queries whatever the numbers of
clients and sessions."""

from __future__ import annotations

from casemgmt import audit
from casemgmt.models import AuditAction
from casemgmt.roles import Role
from counselling import dates, selectors


def _first(queryset) -> tuple[list, int]:
    """The first rows of a list and its length: two queries, however long it is."""
    return list(queryset[:selectors.PANEL_ROWS]), queryset.count()


def counselling_panel(request) -> dict | None:
    if request.role == Role.COUNSELLOR:
        context = _counsellor(request)
    elif request.role == Role.CENTRE_MANAGER:
        context = _manager(request)
    else:
        return None
    audit.record(action=AuditAction.VIEW, object_type="counselling.home")
    return context


def _counsellor(request) -> dict:
    user = request.user
    tasks, task_count = _first(selectors.open_tasks(user=user))
    unseen, unseen_count = _first(selectors.not_seen(user=user))
    flags, flag_count = _first(selectors.open_flags(user=user))
    return {
        "template": "counselling/home_counsellor.html",
        "agenda": selectors.agenda(user=user),
        "tasks": selectors.tasks_with_due(tasks),
        "task_count": task_count,
        "unseen": unseen,
        "unseen_count": unseen_count,
        "flags": flags,
        "flag_count": flag_count,
        "days": dates.NOT_SEEN_DAYS,
        "next_days": dates.NEXT_DAYS,
    }


def _manager(request) -> dict:
    flags, flag_count = _first(selectors.open_flags(user=request.user))
    return {
        "template": "counselling/home_manager.html",
        "dashboard": selectors.dashboard(organisation=request.organisation),
        "flags": flags,
        "flag_count": flag_count,
    }
