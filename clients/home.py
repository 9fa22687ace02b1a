"""The care staff's home panel: recent clients, transfer requests, releases due."""

from __future__ import annotations

from casemgmt.roles import CARE_STAFF, OrganisationKind, Role
from clients import selectors

RECENT = 5


def care_staff_panel(request) -> dict | None:
    if request.role not in CARE_STAFF:
        return None
    organisation = request.organisation
    context = {
        "template": "clients/home_panel.html",
        "recent": list(selectors.caseload(user=request.user, filters=selectors.CaseloadFilters())[:RECENT]),
        "requests": [],
        "releases": [],
    }
    if request.role == Role.CENTRE_MANAGER:
        context["requests"] = list(selectors.pending_transfer_requests(organisation=organisation)
                                   .select_related("to_organisation"))
    if organisation.kind == OrganisationKind.PRISON_HEALTH_UNIT:
        context["releases"] = list(selectors.releases_due(user=request.user))
    return context
