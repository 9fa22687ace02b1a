"""Home panels: the counsellor's day (appointments today and in the next days, missed appointments to follow up,
clients not seen for 30 days or more, open risk flags) and the manager's dashboard (caseload sizes per counsellor,
open risk flags, sessions delivered this month). Each runs a fixed number of queries whatever the numbers of
clients and sessions."""

from __future__ import annotations

from casemgmt import audit
from casemgmt.models import AuditAction
from casemgmt.roles import Role
from counselling import dates, selectors


def _flags(user) -> tuple[list, int]:
    flags = selectors.open_flags(user=user)
    shown = list(flags[:selectors.PANEL_ROWS])
    return shown, len(shown) if len(shown) < selectors.PANEL_ROWS else flags.count()


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
    tasks = selectors.open_tasks(user=user)
    shown_tasks = selectors.tasks_with_due(tasks[:selectors.PANEL_ROWS])
    unseen = selectors.not_seen(user=user)
    shown_unseen = list(unseen[:selectors.PANEL_ROWS])
    flags, flag_count = _flags(user)
    return {
        "template": "counselling/home_counsellor.html",
        "agenda": selectors.agenda(user=user),
        "tasks": shown_tasks,
        "task_count": len(shown_tasks) if len(shown_tasks) < selectors.PANEL_ROWS else tasks.count(),
        "unseen": shown_unseen,
        "unseen_count": len(shown_unseen) if len(shown_unseen) < selectors.PANEL_ROWS else unseen.count(),
        "flags": flags,
        "flag_count": flag_count,
        "days": dates.NOT_SEEN_DAYS,
        "next_days": dates.NEXT_DAYS,
    }


def _manager(request) -> dict:
    flags, flag_count = _flags(request.user)
    return {
        "template": "counselling/home_manager.html",
        "dashboard": selectors.dashboard(organisation=request.organisation),
        "flags": flags,
        "flag_count": flag_count,
    }
