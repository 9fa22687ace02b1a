"""The plans' section of the client's case file, on the client page and in the case summary PDF."""

from __future__ import annotations

from casemgmt import access
from casemgmt.roles import CARE_STAFF
from plans import selectors
from plans.models import IN_FORCE


def plans_section(*, user, client) -> dict | None:
    """The client's treatment plans and reintegration plans. Care staff who reached the client only (the
    client page and the case summary check that first); for the PDF, the plan in force with its goals and the
    open reintegration plan with its milestones."""
    if access.role_of(user) not in CARE_STAFF:
        return None
    plans = selectors.plans_of_client(client)
    reintegration = selectors.reintegration_plans_of_client(client)
    in_force = next((plan for plan in plans if plan.status in IN_FORCE), None)
    open_reintegration = next((plan for plan in reintegration if plan.status == "open"), None)
    return {
        "name": "plans",
        "template": "plans/section.html",
        "pdf_template": "pdf/sections/plans.html",
        "client": client,
        "plans": plans,
        "reintegration_plans": reintegration,
        "in_force": in_force,
        # Read lazily: only the PDF shows them (the client page lists the plans).
        "in_force_goals": (lambda: selectors.goals_of(in_force)) if in_force else list,
        "open_reintegration": open_reintegration,
        "open_milestones": (lambda: selectors.milestones_of(open_reintegration)) if open_reintegration else list,
    }
