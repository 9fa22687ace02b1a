"""Home panels: a counsellor's plan reviews due and drafts sent back; a manager's plans waiting for approval and
overdue reviews. Each list is two queries (rows with their clients, their data keys) whatever its length."""

from __future__ import annotations

from django.utils import timezone

from casemgmt.roles import CARE_STAFF, Role
from plans import selectors


def plans_panel(request) -> dict | None:
    if request.role not in CARE_STAFF:
        return None
    today = timezone.localdate()
    context = {"template": "plans/home_panel.html", "today": today, "due_within": selectors.DUE_WITHIN_DAYS}
    if request.role == Role.CENTRE_MANAGER:
        context["waiting"] = selectors.waiting_for_approval(user=request.user)
        context["overdue"] = selectors.overdue_reviews(user=request.user, today=today)
    else:
        context["due"] = selectors.reviews_due(user=request.user, today=today)
        context["sent_back"] = selectors.sent_back_to(user=request.user)
    return context
