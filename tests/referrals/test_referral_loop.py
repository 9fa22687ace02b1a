"""The referral loop: consent gating, every transition by the right side only, and the partner's scope."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from casemgmt.models import AuditEvent
from casemgmt.transitions import ERROR_GONE, ERROR_STATE_CHANGED, TransitionRefused
from clients import services as client_services
from referrals import selectors, services
from referrals.models import Referral, ReferralStatus
from tests.conftest import sign_in
from tests.referrals.factories import client_with_history, partner_service, referral, sharing_consent

pytestmark = pytest.mark.django_db

S = ReferralStatus


def refusal(exc_info) -> dict:
    return exc_info.value.message_dict


# Consent gating -----------------------------------------------------------------------------------------------

@pytest.fixture
def draft_parts(alice, centre_a, partner):
    client = client_with_history(counsellor=alice, organisation=centre_a)
    return {"client": client, "service": partner_service(organisation=partner)}


def create(alice, parts, consent, categories=("identity",)):
    return services.referral_create(actor=alice, client=parts["client"], service=parts["service"], consent=consent,
                                    categories=list(categories), reason="Zqreason")


def test_a_referral_needs_a_consent(alice, draft_parts):
    with pytest.raises(ValidationError) as exc:
        create(alice, draft_parts, None)
    assert refusal(exc) == {"consent": [str(services.ERROR_CONSENT_REQUIRED)]}


def test_a_treatment_consent_is_not_a_sharing_consent(alice, draft_parts):
    treatment = draft_parts["client"].consents.get(kind="treatment")
    with pytest.raises(ValidationError) as exc:
        create(alice, draft_parts, treatment)
    assert refusal(exc) == {"consent": [str(services.ERROR_CONSENT_NOT_SHARING)]}


def test_the_consent_must_be_for_that_partner(alice, draft_parts, other_partner):
    consent = sharing_consent(counsellor=alice, client=draft_parts["client"], partner=other_partner)
    with pytest.raises(ValidationError) as exc:
        create(alice, draft_parts, consent)
    assert refusal(exc) == {"consent": [str(services.ERROR_CONSENT_OTHER_PARTNER)]}


def test_the_consent_must_be_in_force_on_the_day(alice, draft_parts, partner):
    consent = sharing_consent(counsellor=alice, client=draft_parts["client"], partner=partner)
    client_services.consent_revoke(actor=alice, consent=consent, revoked_on=datetime.date(2026, 2, 1),
                                   reason="Withdrawn (synthetic)")
    with pytest.raises(ValidationError) as exc:
        create(alice, draft_parts, consent)
    assert refusal(exc) == {"consent": [str(services.ERROR_CONSENT_NOT_ACTIVE)]}


def test_every_shared_category_must_be_covered_and_the_message_names_the_missing(alice, draft_parts, partner):
    consent = sharing_consent(counsellor=alice, client=draft_parts["client"], partner=partner,
                              categories=["identity"])
    with pytest.raises(ValidationError) as exc:
        create(alice, draft_parts, consent, categories=["identity", "hiv_status", "contact"])
    assert refusal(exc) == {"shared_categories": [
        str(services.ERROR_CONSENT_MISSING_CATEGORIES % {"categories": "Contact details, HIV status"})]}
    assert create(alice, draft_parts, consent).status == S.DRAFT


def test_sending_checks_the_consent_again(alice, draft_parts, partner):
    consent = sharing_consent(counsellor=alice, client=draft_parts["client"], partner=partner)
    draft = create(alice, draft_parts, consent)
    consent.refresh_from_db()
    consent.expires_on = datetime.date(2026, 1, 10)
    consent.save()
    with pytest.raises(ValidationError) as exc:
        services.referral_send(actor=alice, referral=draft)
    assert refusal(exc) == {"consent": [str(services.ERROR_CONSENT_NOT_ACTIVE)]}
    assert Referral.objects.get(pk=draft.pk).status == S.DRAFT


def test_the_reason_is_encrypted_and_the_audit_names_fields_only(alice, setup):
    referral = Referral.objects.get(pk=setup["referral"].pk)
    assert referral.reason == "Zqreason"
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT reason FROM referrals_referral WHERE id = %s", [referral.pk.hex if
                       connection.vendor == "sqlite" else referral.pk])
        (stored,) = cursor.fetchone()
    assert "Zqreason" not in str(stored)
    events = AuditEvent.objects.filter(object_type="referrals.referral", object_id=str(referral.pk))
    assert {tuple(e.fields) for e in events} >= {("status",)}
    assert not any("Zqreason" in (e.reason or "") for e in events)


# Transitions: the right state, the right side -------------------------------------------------------------------

def advance(referral, priya, *path):
    steps = {
        S.ACCEPTED: lambda r: services.referral_accept(actor=priya, referral=r),
        S.ATTENDED: lambda r: services.referral_attend(actor=priya, referral=r),
    }
    for step in path:
        referral = steps[step](referral)
    return referral


RECEIVER = {
    "accept": (lambda a, r: services.referral_accept(actor=a, referral=r), [S.SENT], S.ACCEPTED),
    "decline": (lambda a, r: services.referral_decline(actor=a, referral=r, reason="no_capacity"), [S.SENT],
                S.DECLINED),
    "attend": (lambda a, r: services.referral_attend(actor=a, referral=r), [S.ACCEPTED], S.ATTENDED),
    "no_show": (lambda a, r: services.referral_no_show(actor=a, referral=r, reason="could_not_contact"),
                [S.ACCEPTED], S.NO_SHOW),
    "complete": (lambda a, r: services.referral_complete(actor=a, referral=r, outcome="service_provided",
                                                         feedback="Zqfeedback"), [S.ATTENDED], S.COMPLETED),
    "close_unresolved": (lambda a, r: services.referral_close_unresolved(actor=a, referral=r, reason="other"),
                         [S.ACCEPTED, S.ATTENDED], S.CLOSED_UNRESOLVED),
}
PATH_TO = {S.SENT: (), S.ACCEPTED: (S.ACCEPTED,), S.ATTENDED: (S.ACCEPTED, S.ATTENDED)}


@pytest.mark.parametrize("action", RECEIVER)
@pytest.mark.parametrize("state", [S.SENT, S.ACCEPTED, S.ATTENDED])
def test_each_receiver_action_only_from_its_states_and_only_by_the_receiver(action, state, setup, priya, alice,
                                                                           olga):
    do, sources, target = RECEIVER[action]
    referral = advance(setup["referral"], priya, *PATH_TO[state])
    for wrong_side in (alice, olga):
        with pytest.raises(TransitionRefused) as exc:
            do(wrong_side, referral)
        assert exc.value.message in {str(services.ERROR_NOT_RECEIVER), str(ERROR_GONE)}
    if state in sources:
        done = do(priya, referral)
        assert Referral.objects.get(pk=referral.pk).status == target == done.status
    else:
        with pytest.raises(TransitionRefused) as exc:
            do(priya, referral)
        assert exc.value.message == str(ERROR_STATE_CHANGED % {"state": referral.get_status_display()})
        assert Referral.objects.get(pk=referral.pk).status == state


def test_the_sender_cancels_with_a_reason_until_it_ends(setup, alice, bob, priya):
    referral = advance(setup["referral"], priya, S.ACCEPTED)
    with pytest.raises(TransitionRefused) as exc:
        services.referral_cancel(actor=priya, referral=referral, reason="other")
    assert exc.value.message == str(services.ERROR_NOT_SENDER)
    with pytest.raises(TransitionRefused) as exc:
        services.referral_cancel(actor=bob, referral=referral, reason="other")
    assert exc.value.message == str(ERROR_GONE)
    with pytest.raises(ValidationError):
        services.referral_cancel(actor=alice, referral=referral, reason="")
    cancelled = services.referral_cancel(actor=alice, referral=referral, reason="referred_elsewhere")
    assert (cancelled.status, cancelled.end_reason) == (S.CANCELLED, "referred_elsewhere")
    with pytest.raises(TransitionRefused):
        services.referral_cancel(actor=alice, referral=referral, reason="other")


def test_a_completed_referral_cannot_be_cancelled(setup, alice, priya):
    referral = advance(setup["referral"], priya, S.ACCEPTED, S.ATTENDED)
    services.referral_complete(actor=priya, referral=referral, outcome="ongoing", feedback="Zqfeedback")
    with pytest.raises(TransitionRefused):
        services.referral_cancel(actor=alice, referral=referral, reason="other")
    assert Referral.objects.get(pk=referral.pk).feedback == "Zqfeedback"


def test_only_the_sender_sends_a_draft(setup, alice, mona, priya, bob, partner):
    draft = referral(counsellor=alice, client=setup["client"], service=setup["service"],
                     consent=setup["sharing_consent"], send=False)
    assert not selectors.referrals_visible_to(priya).filter(pk=draft.pk).exists()  # a draft stays at the centre
    for wrong in (priya, bob):
        with pytest.raises(TransitionRefused):
            services.referral_send(actor=wrong, referral=draft)
    services.referral_send(actor=mona, referral=draft)  # the centre's manager may change the client's record
    assert selectors.referrals_visible_to(priya).filter(pk=draft.pk).exists()


def test_declining_and_no_show_need_a_reason_from_the_list(setup, priya):
    with pytest.raises(ValidationError) as exc:
        services.referral_decline(actor=priya, referral=setup["referral"], reason="because")
    assert exc.value.message_dict == {"end_reason": [str(services.ERROR_NEEDS_END_REASON)]}
    with pytest.raises(ValidationError):
        services.referral_complete(actor=priya, referral=setup["referral"], outcome="")


# Scope --------------------------------------------------------------------------------------------------------

def test_the_partners_scope_is_exactly_the_grants_made_on_sending(setup, priya, percy, olga, alice, centre_a,
                                                                 partner):
    assert list(selectors.referrals_visible_to(priya)) == [setup["referral"]]
    assert list(selectors.referrals_visible_to(percy)) == [setup["referral"]]  # the organisation's group
    assert list(selectors.referrals_visible_to(olga)) == []
    # A referral row addressed to the partner without a grant is not in scope.
    Referral.objects.filter(pk=setup["referral"].pk).update(status=S.SENT)
    from referrals.models import ReferralGroupObjectPermission

    ReferralGroupObjectPermission.objects.all().delete()
    assert list(selectors.referrals_visible_to(priya)) == []


def test_another_partner_and_another_centre_get_404(client, setup, olga, bob, nina):
    for user in (olga, bob, nina):
        client.logout()
        sign_in(client, user)
        assert client.get(reverse("referrals:detail", args=[setup["referral"].pk])).status_code == 404


def test_the_partner_cannot_reach_the_clients_pages(client, setup, priya):
    sign_in(client, priya)
    assert client.get(reverse("clients:detail", args=[setup["client"].pk])).status_code == 403
    assert client.get(reverse("clients:search")).status_code == 403


def test_one_screen_actions_through_the_page(client, setup, priya):
    sign_in(client, priya)
    url = reverse("referrals:act", args=[setup["referral"].pk])
    client.post(url, {"action": "accept"})
    client.post(url, {"action": "attend"})
    client.post(url, {"action": "complete", "outcome": "service_provided", "feedback": "Zqfeedback"})
    referral = Referral.objects.get(pk=setup["referral"].pk)
    assert (referral.status, referral.outcome, referral.feedback) == (S.COMPLETED, "service_provided", "Zqfeedback")
    page = client.get(reverse("referrals:detail", args=[referral.pk])).content.decode()
    assert "This referral is closed." in page


def test_a_refused_action_says_why_on_the_page(client, setup, priya):
    sign_in(client, priya)
    url = reverse("referrals:act", args=[setup["referral"].pk])
    client.post(url, {"action": "accept"})
    page = client.post(url, {"action": "accept"}, follow=True).content.decode()
    from django.utils.html import escape

    assert escape(str(ERROR_STATE_CHANGED % {"state": "Accepted"})) in page


@pytest.mark.parametrize("end", ["declined", "no_show", "completed", "closed_unresolved", "cancelled"])
def test_nothing_moves_an_ended_referral(end, setup, alice, priya):
    referral = setup["referral"]
    if end == "declined":
        services.referral_decline(actor=priya, referral=referral, reason="not_eligible")
    elif end == "cancelled":
        services.referral_cancel(actor=alice, referral=referral, reason="other")
    else:
        referral = advance(referral, priya, S.ACCEPTED, *([S.ATTENDED] if end == "completed" else []))
        if end == "no_show":
            services.referral_no_show(actor=priya, referral=referral, reason="could_not_contact")
        elif end == "completed":
            services.referral_complete(actor=priya, referral=referral, outcome="ongoing")
        else:
            services.referral_close_unresolved(actor=priya, referral=referral, reason="other")
    assert Referral.objects.get(pk=referral.pk).status == end
    for do, _sources, _target in RECEIVER.values():
        with pytest.raises(TransitionRefused):
            do(priya, referral)
    with pytest.raises(TransitionRefused):
        services.referral_send(actor=alice, referral=referral)
    if end != "cancelled":
        with pytest.raises(TransitionRefused):
            services.referral_cancel(actor=alice, referral=referral, reason="other")
    assert Referral.objects.get(pk=referral.pk).status == end


def test_a_sent_referral_cannot_be_sent_again(setup, alice):
    with pytest.raises(TransitionRefused) as exc:
        services.referral_send(actor=alice, referral=setup["referral"])
    assert exc.value.message == str(ERROR_STATE_CHANGED % {"state": "Sent"})
