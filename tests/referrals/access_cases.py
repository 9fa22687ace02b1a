"""The referral loop's rows of the access matrix (tests/access_matrix.py)."""

from __future__ import annotations

from tests.access_matrix import OTHER_CENTRE_404, Case, url


def objects(base: dict) -> dict:
    from tests.referrals.factories import referral_setup

    made = referral_setup(counsellor=base["alice"], organisation=base["centre_a"], partner=base["partner"])
    return {"referral_client": made["client"], "partner_service": made["service"], "referral": made["referral"]}


CASES = [
    Case("referrals:directory", url("referrals:directory")),
    Case("referrals:service_add", url("referrals:service_add")),
    Case("referrals:service_edit", url("referrals:service_edit", lambda o: o["partner_service"].pk)),
    Case("referrals:new", url("referrals:new", lambda o: o["referral_client"].pk), ok_for=OTHER_CENTRE_404),
    # Centre A's referral to the partner: the partner's officer and centre A's staff; another centre: 404.
    Case("referrals:detail", url("referrals:detail", lambda o: o["referral"].pk), ok_for=OTHER_CENTRE_404),
    Case("referrals:act", url("referrals:act", lambda o: o["referral"].pk), ok=405),  # POST only
    # Every centre's care staff: their own centre's figures, and the referrals of their own clients behind them.
    Case("referrals:cascade", url("referrals:cascade")),
    Case("referrals:list", url("referrals:list")),
]
