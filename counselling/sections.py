"""The client page's counselling section (and its part of the case summary PDF): open risk flags first, then
missed appointments to follow up, upcoming appointments, and the latest sessions with this client's own note.
Never another participant of a group session: neither their identity nor their note."""

from __future__ import annotations

from casemgmt import access
from casemgmt.roles import CARE_STAFF
from counselling import selectors


def counselling_section(*, user, client) -> dict | None:
    if access.role_of(user) not in CARE_STAFF:
        return None
    return {
        "template": "counselling/section.html",
        "pdf_template": "pdf/sections/counselling.html",
        "counselling": selectors.client_counselling(user=user, client=client),
        "organisation_id": access.organisation_of(user).pk,
    }
