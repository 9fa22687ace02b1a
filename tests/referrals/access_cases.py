"""The referral loop's rows of the access matrix (tests/access_matrix.py)."""

from __future__ import annotations

from tests.access_matrix import OTHER_CENTRE_404, Case, url


def objects(base: dict) -> dict:
    from tests.referrals.factories import referral_setup

    made = referral_setup(counsellor=base["alice"], organisation=base["centre_a"], partner=base["partner"])
    return {"referral_client": made["client"], "partner_service": made["service"], "referral": made["referral"]}


CASES = [
    Case("referrals:directory", url("referrals:directory")),
    Case("referrals:inbox", url("referrals:inbox")),  # the officer's own organisation's referrals only
    Case("referrals:service_add", url("referrals:service_add")),
    Case("referrals:service_edit", url("referrals:service_edit", lambda o: o["partner_service"].pk)),
    Case("referrals:new", url("referrals:new", lambda o: o["referral_client"].pk), ok_for=OTHER_CENTRE_404),
    # Centre A's referral to the partner: the partner's officer and centre A's staff; another centre: 404.
    Case("referrals:detail", url("referrals:detail", lambda o: o["referral"].pk), ok_for=OTHER_CENTRE_404),
    Case("referrals:act", url("referrals:act", lambda o: o["referral"].pk), ok=405),  # POST only
    # Its FHIR file: the same people as the referral page.
    Case("referrals:fhir", url("referrals:fhir", lambda o: o["referral"].pk), ok_for=OTHER_CENTRE_404),
    # The letter (a PDF): the sending centre's staff and the partner's officer print it; another centre: 404.
    Case("referrals:letter", url("referrals:letter", lambda o: o["referral"].pk), ok_for=OTHER_CENTRE_404),
    # Who received the client's information (a PDF): care staff who may see the client; partners are refused.
    Case("referrals:disclosures_pdf", url("referrals:disclosures_pdf", lambda o: o["referral_client"].pk),
         ok_for=OTHER_CENTRE_404),
    # Every centre's care staff: their own centre's figures, and the referrals of their own clients behind them.
    Case("referrals:cascade", url("referrals:cascade")),
    Case("referrals:list", url("referrals:list")),
]
