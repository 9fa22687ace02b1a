"""Home panels: the counsellor's day (appointments today and in the next days, missed appointments to follow up,
clients not seen for 30 days or more, open risk flags) and the manager's dashboard (caseload sizes per counsellor,
open risk flags, sessions delivered this month). Each runs a fixed number of queries whatever the numbers of
clients and sessions."""

from __future__ import annotations

from django.db.models import Count, Window

from casemgmt import audit, crypto
from casemgmt.models import AuditAction
from casemgmt.roles import Role
from counselling import dates, selectors


def _first(queryset) -> tuple[list, int]:
    """The first rows of a list and its length, in one query however long it is (a window count)."""
    rows = list(queryset.annotate(list_length=Window(Count("pk")))[:selectors.PANEL_ROWS])
    return rows, rows[0].list_length if rows else 0


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
    agenda = selectors.agenda(user=user, keys=False)
    # The data keys of every client the panels show, in one query.
    crypto.load_data_keys({*(t.client_id for t in tasks), *(c.pk for c in unseen), *(f.client_id for f in flags),
                           *(p.client_id for s in agenda.sessions for p in s.visible)})
    return {
        "template": "counselling/home_counsellor.html",
        "agenda": agenda,
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
    flags, flag_count = _first(selectors.open_flags(user=request.user).with_data_keys())
    return {
        "template": "counselling/home_manager.html",
        "dashboard": selectors.dashboard(organisation=request.organisation),
        "flags": flags,
        "flag_count": flag_count,
    }
