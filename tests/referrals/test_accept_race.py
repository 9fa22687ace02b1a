"""Two officers of the partner accepting one referral at the same instant: one wins, the other is told."""

from __future__ import annotations

import pytest

from casemgmt.transitions import ERROR_STATE_CHANGED, TransitionRefused
from referrals import services
from referrals.models import Referral, ReferralStatus
from tests.races import race
from tests.referrals.factories import referral_setup

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgresql_only")]


def test_two_officers_accepting_at_once_leave_one_winner(alice, centre_a, partner, priya, percy):
    made = referral_setup(counsellor=alice, organisation=centre_a, partner=partner)["referral"]
    outcomes = race(lambda: services.referral_accept(actor=priya, referral=made),
                    lambda: services.referral_accept(actor=percy, referral=made))
    winners = [o for o in outcomes if o.error is None]
    losers = [o for o in outcomes if o.error is not None]
    assert len(winners) == 1 and len(losers) == 1
    assert isinstance(losers[0].error, TransitionRefused)
    assert losers[0].error.message == str(ERROR_STATE_CHANGED % {"state": "Accepted"})
    stored = Referral.objects.get(pk=made.pk)
    assert stored.status == ReferralStatus.ACCEPTED
    assert stored.acted_by == winners[0].value.acted_by
