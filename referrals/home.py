"""The referral officer's home panel: the inbox of referrals to their organisation."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from casemgmt.roles import CARE_STAFF, Role
from referrals import selectors

# The inbox's lists, as the home page and the inbox page name them.
INBOX_TITLES = {"overdue": _("Overdue"), "new": _("New referrals"), "due_soon": _("Due soon"),
                "accepted": _("Accepted")}


def partner_inbox_panel(request) -> dict | None:
    if request.role != Role.REFERRAL_OFFICER:
        return None
    inbox = selectors.partner_inbox(user=request.user)
    return {
        "template": "referrals/home_panel.html",
        "inbox": inbox,
        "lists": [(INBOX_TITLES[kind], kind, rows, count) for kind, rows, count in inbox.lists()],
    }


def care_staff_referrals_panel(request) -> dict | None:
    """The counsellor's and manager's open referrals, until each loop is closed."""
    if request.role not in CARE_STAFF:
        return None
    referrals = selectors.referrals_to_follow_up(user=request.user)
    for referral in referrals:
        referral.overdue = selectors.is_overdue(referral)
        referral.note = selectors.overdue_note(referral)
    return {"template": "referrals/care_staff_panel.html", "referrals": referrals}
