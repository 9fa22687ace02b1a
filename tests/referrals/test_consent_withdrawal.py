"""Revoking a sharing consent ends the partner's view of every referral resting on it, at once."""

from __future__ import annotations

import pytest
from django.utils import timezone

from casemgmt.models import AuditEvent
from clients import services as client_services
from referrals import selectors, services
from referrals.models import Referral, ReferralStatus
from tests.referrals.factories import referral

pytestmark = pytest.mark.django_db

S = ReferralStatus


def test_open_referrals_close_with_consent_withdrawn_and_ended_ones_stay(setup, alice, priya):
    accepted = services.referral_accept(actor=priya, referral=setup["referral"])
    draft = referral(counsellor=alice, client=setup["client"], service=setup["service"],
                     consent=setup["sharing_consent"], send=False)
    declined = services.referral_decline(
        actor=priya, reason="no_capacity",
        referral=referral(counsellor=alice, client=setup["client"], service=setup["service"],
                          consent=setup["sharing_consent"]))
    client_services.consent_revoke(actor=alice, consent=setup["sharing_consent"], revoked_on=timezone.localdate(),
                                   reason="Zqwithdrawn")
    states = {r.pk: (r.status, r.end_reason) for r in Referral.objects.all()}
    assert states == {
        accepted.pk: (S.CLOSED_UNRESOLVED, "consent_withdrawn"),
        draft.pk: (S.CANCELLED, "consent_withdrawn"),
        declined.pk: (S.DECLINED, "no_capacity"),
    }
    events = AuditEvent.objects.filter(object_type="referrals.referral", reason="consent withdrawn")
    assert {e.object_id for e in events} == {str(accepted.pk), str(draft.pk)}
    assert all(set(e.fields) == {"status", "end_reason"} for e in events)
    # The partner's officer can no longer act on it, and its view is the notice only.
    with pytest.raises(services.TransitionRefused):
        services.referral_attend(actor=priya, referral=accepted)
    shown = selectors.shared_view_of(Referral.objects.select_related("consent", "service").get(pk=accepted.pk))
    assert shown.consent_withdrawn and shown.rows == [] and shown.reason == ""


def test_revoking_another_consent_changes_nothing(setup, alice, partner):
    other = setup["client"].consents.get(kind="treatment")
    client_services.consent_revoke(actor=alice, consent=other, revoked_on=timezone.localdate(), reason="Zq")
    assert Referral.objects.get(pk=setup["referral"].pk).status == S.SENT


def test_clients_does_not_import_referrals():
    import pathlib
    import re

    import clients

    for path in pathlib.Path(clients.__file__).parent.rglob("*.py"):
        assert not re.search(r"^\s*(from|import) referrals", path.read_text(), re.MULTILINE), path
