"""The client page's sections: the client's referrals with the button to refer, and who received the client's
information (the accounting of disclosures, with its print form)."""

from __future__ import annotations

from casemgmt.roles import CARE_STAFF
from clients.selectors import clients_visible_to
from referrals import selectors


def referrals_section(*, user, client) -> dict | None:
    from casemgmt import access

    if access.role_of(user) not in CARE_STAFF:
        return None
    referrals = selectors.referrals_of_client(user=user, client=client)
    for referral in referrals:
        # What the partner recorded (coded outcome and feedback), and why it needs following up.
        referral.outcome_shown = [] if referral.consent_withdrawn else selectors.outcome_rows(referral)
        referral.feedback_shown = "" if referral.consent_withdrawn else referral.feedback
        referral.note = selectors.overdue_note(referral)
    return {
        "template": "referrals/client_section.html",
        "referrals": referrals,
        "can_refer": clients_visible_to(user, write=True).filter(pk=client.pk).exists(),
    }


def disclosures_section(*, user, client) -> dict | None:
    from casemgmt import access

    if access.role_of(user) not in CARE_STAFF:
        return None
    return {
        "template": "referrals/disclosures_section.html",
        "disclosures": selectors.disclosures_of(user=user, client=client),
    }
