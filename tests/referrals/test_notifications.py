"""E-mail on the referral loop: a new referral to the partner's referral officers, each of the partner's decisions to
the sending counsellor; a link and no client information; only once the change commits; never a failed change
because the mail server failed."""

from __future__ import annotations

import datetime
import logging
import re
import smtplib

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.urls import reverse
from django.utils import translation

from casemgmt.models import AuditAction, AuditEvent, Membership
from casemgmt.roles import Role
from casemgmt.transitions import TransitionRefused
from referrals import services
from referrals.models import Referral, ReferralStatus, ServiceType
from tests.conftest import sign_in
from tests.factories import member
from tests.referrals.factories import client_with_history, partner_service, referral, sharing_consent

pytestmark = pytest.mark.django_db

REASON = "Zqreason for the referral"
FEEDBACK = "Zqfeedback from the partner"


def with_email(user, address=None):
    user.email = address or f"{user.username}@example.org"
    user.save(update_fields=["email"])
    return user


@pytest.fixture
def people(alice, priya, percy, olga, partner):
    """Who could hear of a referral of alice's to the partner, and who must not."""
    pablo = member("pablo", Role.REFERRAL_OFFICER, partner)  # no e-mail address
    sara = with_email(member("sara", Role.REFERRAL_OFFICER, partner))  # waiting for confirmation again
    Membership.objects.filter(user=sara).update(suspended=True)
    quentin = with_email(member("quentin", Role.REFERRAL_OFFICER, partner))  # account disabled
    quentin.is_active = False
    quentin.save(update_fields=["is_active"])
    return {"alice": with_email(alice), "priya": with_email(priya), "percy": with_email(percy),
            "olga": with_email(olga), "pablo": pablo, "sara": sara, "quentin": quentin}


@pytest.fixture
def case(alice, centre_a, partner):
    client = client_with_history(counsellor=alice, organisation=centre_a, given_name="Zqgiven",
                                 family_name="Zqfamily", phone="012 345 678")
    service = partner_service(organisation=partner, service_type=ServiceType.ART)
    consent = sharing_consent(counsellor=alice, client=client, partner=partner)
    return {"client": client, "service": service, "consent": consent}


def send(case, alice, **kwargs):
    return referral(counsellor=alice, client=case["client"], service=case["service"], consent=case["consent"],
                    reason=REASON, due_on=datetime.date.today() + datetime.timedelta(days=10), **kwargs)


def forbidden_words(case) -> list[str]:
    """What no e-mail may carry: the client's identity, the service (in English and Khmer), the reason."""
    client = case["client"]
    words = [client.uic, "Zqgiven", "Zqfamily", "012 345 678", "345 678", REASON, FEEDBACK]
    for language in ("en", "km"):
        with translation.override(language):
            words.append(str(ServiceType.ART.label))
    assert words[-1] != words[-2], "the Khmer catalogue is compiled (make messages)"
    return words


def assert_discreet(message, case) -> None:
    html = message.alternatives[0][0] if message.alternatives else ""
    for text in (message.subject, message.body, html):
        for word in forbidden_words(case):
            assert word.casefold() not in text.casefold(), word
        assert "ART" not in text and "HIV" not in text


def test_sending_mails_each_referral_officer_of_the_partner_a_link_and_nothing_else(
        case, alice, people, settings, django_capture_on_commit_callbacks):
    settings.CASEMGMT_SITE_URL = "https://cases.example.org/"
    with django_capture_on_commit_callbacks(execute=True):
        made = send(case, alice)
    assert sorted(m.to[0] for m in mail.outbox) == ["percy@example.org", "priya@example.org"]
    link = f"https://cases.example.org/referrals/{made.pk}/"
    for message in mail.outbox:
        assert message.subject == "New referral"
        assert link in message.body and f'href="{link}"' in message.alternatives[0][0]
        assert_discreet(message, case)


def test_a_draft_mails_nobody_until_it_is_sent(case, alice, people, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        draft = send(case, alice, send=False)
    assert mail.outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        services.referral_send(actor=alice, referral=draft)
    assert len(mail.outbox) == 2


def accept(referral, priya):
    return services.referral_accept(actor=priya, referral=referral)


def attend(referral, priya):
    return services.referral_attend(actor=priya, referral=accept(referral, priya))


DECISIONS = {
    "accepted": (lambda r, p: accept(r, p), ReferralStatus.ACCEPTED),
    "declined": (lambda r, p: services.referral_decline(actor=p, referral=r, reason="no_capacity"),
                 ReferralStatus.DECLINED),
    "attended": (lambda r, p: attend(r, p), ReferralStatus.ATTENDED),
    "no-show": (lambda r, p: services.referral_no_show(actor=p, referral=accept(r, p), reason="could_not_contact"),
                ReferralStatus.NO_SHOW),
    "completed": (lambda r, p: services.referral_complete(actor=p, referral=attend(r, p), outcome="service_provided",
                                                          feedback=FEEDBACK), ReferralStatus.COMPLETED),
    "closed unresolved": (lambda r, p: services.referral_close_unresolved(actor=p, referral=accept(r, p),
                                                                          reason="other"),
                          ReferralStatus.CLOSED_UNRESOLVED),
}


@pytest.mark.parametrize("decision", list(DECISIONS))
def test_each_decision_of_the_partner_mails_the_sending_counsellor_and_nobody_else(
        case, alice, priya, people, decision, django_capture_on_commit_callbacks):
    made = send(case, alice)
    act, status = DECISIONS[decision]
    with django_capture_on_commit_callbacks(execute=True):
        act(made, priya)
    assert Referral.objects.get(pk=made.pk).status == status
    steps = 2 if decision in ("attended", "no-show", "closed unresolved") else 3 if decision == "completed" else 1
    assert [m.to for m in mail.outbox] == [["alice@example.org"]] * steps  # one per step the partner took
    for message in mail.outbox:
        assert message.subject == "A referral was updated"
        assert f"http://127.0.0.1:8000/referrals/{made.pk}/" in message.body
        assert_discreet(message, case)


def test_a_counsellor_who_left_the_centre_is_not_mailed(case, alice, priya, people, centre_b,
                                                       django_capture_on_commit_callbacks):
    made = send(case, alice)
    Membership.objects.filter(user=alice).update(organisation=centre_b)
    with django_capture_on_commit_callbacks(execute=True):
        accept(made, priya)
    assert mail.outbox == []


def test_a_refused_change_mails_nobody(case, alice, priya, percy, people, django_capture_on_commit_callbacks):
    made = send(case, alice)
    accept(made, priya)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(TransitionRefused):
        services.referral_accept(actor=percy, referral=made)  # already accepted
    assert mail.outbox == []


def test_a_change_rolled_back_after_it_was_made_mails_nobody(case, alice, priya, people,
                                                             django_capture_on_commit_callbacks):
    made = send(case, alice)
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            accept(made, priya)
            raise RuntimeError("something later in the same transaction failed")
        with pytest.raises(RuntimeError), transaction.atomic():
            send(case, alice)
            raise RuntimeError("something later in the same transaction failed")
    assert mail.outbox == []
    assert Referral.objects.get(pk=made.pk).status == ReferralStatus.SENT


def test_every_email_sent_is_audited_with_its_recipient_never_its_content(case, alice, priya, people,
                                                                         django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        made = send(case, alice)
    with django_capture_on_commit_callbacks(execute=True):
        accept(made, priya)
    events = AuditEvent.objects.filter(action=AuditAction.EXPORT, object_type="referrals.notification",
                                       object_id=str(made.pk)).order_by("seq")
    assert [e.reason for e in events] == [
        f"e-mail: new_referral; recipient: {people['priya'].pk}",
        f"e-mail: new_referral; recipient: {people['percy'].pk}",
        f"e-mail: referral_updated; recipient: {alice.pk}",
    ]
    assert [e.actor_username for e in events] == ["alice", "alice", "priya"]
    assert all(e.client_id is None and e.fields == [] and "@" not in e.reason for e in events)


class BrokenBackend(BaseEmailBackend):
    """A mail server that refuses everything, with the recipient's address in its error, as SMTP servers do."""

    def send_messages(self, messages):
        raise smtplib.SMTPRecipientsRefused({m.to[0]: (550, b"no such user") for m in messages})


class UnreachableBackend(BaseEmailBackend):
    def open(self):
        raise OSError("Connection refused by mail.example.org")

    def send_messages(self, messages):
        raise AssertionError("never reached")


@pytest.mark.parametrize("backend", ["BrokenBackend", "UnreachableBackend"])
def test_a_failing_mail_server_does_not_fail_accepting_a_referral(client, case, alice, priya, people, settings,
                                                                  caplog, backend, django_capture_on_commit_callbacks):
    made = send(case, alice)
    settings.EMAIL_BACKEND = f"tests.referrals.test_notifications.{backend}"
    sign_in(client, priya)
    with caplog.at_level(logging.WARNING), django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("referrals:act", args=[made.pk]), {"action": "accept"})
    assert response.status_code == 302
    assert Referral.objects.get(pk=made.pk).status == ReferralStatus.ACCEPTED
    assert "The referral was updated." in client.get(response["Location"]).content.decode()
    logged = [r for r in caplog.records if r.name == "referrals.notifications"]
    assert logged and all("alice" not in r.getMessage() and "example.org" not in r.getMessage() for r in logged)
    assert "not sent" in logged[-1].getMessage()
    assert not AuditEvent.objects.filter(action=AuditAction.EXPORT, object_type="referrals.notification",
                                         reason__contains="referral_updated").exists()



def test_emails_are_in_the_sites_language_when_the_account_has_none(case, alice, people, settings,
                                                                    django_capture_on_commit_callbacks):
    settings.LANGUAGE_CODE = "km"
    with django_capture_on_commit_callbacks(execute=True):
        send(case, alice)
    message = mail.outbox[0]
    assert message.subject == "ការបញ្ជូនថ្មី"
    assert re.search(r"[\u1780-\u17ff]", message.body) and "New referral" not in message.body
    assert 'lang="km"' in message.alternatives[0][0]
    assert_discreet(message, case)
