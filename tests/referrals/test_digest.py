"""The daily digest of overdue referrals (manage.py send_referral_digest): each partner's referral officers and each
sending counsellor hear how many of theirs are overdue, once a day, with a link and nothing about any client."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, transaction
from django.utils import timezone

from casemgmt.models import AuditAction, AuditEvent
from referrals import services
from referrals.models import Referral, ReferralDigest, ServiceType
from tests.referrals.factories import client_with_history, partner_service, referral, sharing_consent
from tests.referrals.test_notifications import BrokenBackend, assert_discreet, with_email  # noqa: F401

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


@pytest.fixture
def overdue(alice, mona, priya, percy, olga, centre_a, partner):
    """Three overdue referrals to the partner (two sent by alice, one by mona), one on time, none to olga's."""
    for user in (alice, mona, priya, percy, olga):
        with_email(user)
    client = client_with_history(counsellor=alice, organisation=centre_a, given_name="Zqgiven",
                                 family_name="Zqfamily", phone="012 345 678")
    service = partner_service(organisation=partner, service_type=ServiceType.ART, target_days=3)
    consent = sharing_consent(counsellor=alice, client=client, partner=partner)
    long_ago = timezone.now() - 10 * DAY
    made = []
    for sender in (alice, alice, mona, alice):
        sent = referral(counsellor=sender, client=client, service=service, consent=consent, reason="Zqreason")
        made.append(sent)
    Referral.objects.filter(pk__in=[r.pk for r in made[:3]]).update(sent_at=long_ago)
    return {"client": client, "service": service, "consent": consent, "referrals": made}


def digest(*args) -> str:
    out = io.StringIO()
    call_command("send_referral_digest", *args, stdout=out)
    return out.getvalue()


def by_recipient() -> dict[str, object]:
    return {message.to[0].split("@")[0]: message for message in mail.outbox}


def test_officers_and_senders_hear_how_many_of_theirs_are_overdue_with_a_link(overdue, alice):
    output = digest()
    got = by_recipient()
    assert sorted(got) == ["alice", "mona", "percy", "priya"]  # not olga: none of her partner's is overdue
    assert got["priya"].subject == got["percy"].subject == "3 overdue referrals"
    assert got["alice"].subject == "2 overdue referrals"
    assert got["mona"].subject == "1 overdue referral"
    assert "http://127.0.0.1:8000/referrals/inbox/?show=overdue" in got["priya"].body
    assert "http://127.0.0.1:8000/" in got["alice"].body and "inbox" not in got["alice"].body
    for message in mail.outbox:
        assert_discreet(message, {"client": overdue["client"]})
        assert "Zqreason" not in message.body
    assert f"Digests for {timezone.localdate().isoformat()}: 4 sent, 0 sent already, 0 not sent." in output
    assert ReferralDigest.objects.filter(day=timezone.localdate()).count() == 4


def test_a_second_run_on_the_same_day_sends_nothing(overdue):
    digest()
    assert len(mail.outbox) == 4
    output = digest()
    assert len(mail.outbox) == 4
    assert "0 sent, 4 sent already" in output


def test_the_day_is_claimed_in_the_database_before_sending(overdue, alice):
    day = timezone.localdate()
    ReferralDigest.objects.create(user=alice, day=day, overdue=2)  # as a run at the same moment would have
    digest()
    assert "alice" not in by_recipient() and len(mail.outbox) == 3
    with pytest.raises(IntegrityError), transaction.atomic():
        ReferralDigest.objects.create(user=alice, day=day, overdue=2)


def test_another_day_is_another_digest_counted_for_that_day(overdue):
    digest()
    tomorrow = timezone.localdate() + DAY
    mail.outbox.clear()
    digest("--date", tomorrow.isoformat())
    assert by_recipient()["priya"].subject == "3 overdue referrals"
    # Seven days back, none of them was overdue yet (sent ten days ago, three days to accept: from day four on).
    mail.outbox.clear()
    digest("--date", (timezone.localdate() - 7 * DAY).isoformat())
    assert mail.outbox == []


def test_a_referral_acted_on_leaves_the_digest(overdue, priya):
    services.referral_accept(actor=priya, referral=overdue["referrals"][0])  # accepted today: within its target
    digest()
    got = by_recipient()
    assert got["priya"].subject == "2 overdue referrals"
    assert got["alice"].subject == "1 overdue referral"


def test_a_dry_run_says_who_would_hear_and_sends_nothing(overdue):
    output = digest("--dry-run")
    assert mail.outbox == [] and not ReferralDigest.objects.exists()
    assert "Would send priya (Referral officer): 3 overdue." in output
    assert "Would send alice (Counsellor): 2 overdue." in output
    assert "4 digest(s)" in output


def test_the_date_must_be_a_date():
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        digest("--date", "tomorrow")


def test_each_digest_sent_is_audited_as_the_command_with_its_count(overdue, priya):
    digest()
    event = AuditEvent.objects.get(action=AuditAction.EXPORT, object_type="referrals.digest",
                                   reason__contains=f"recipient: {priya.pk};")
    claim = ReferralDigest.objects.get(user=priya)
    assert event.object_id == str(claim.pk)
    assert event.reason == f"e-mail: overdue_digest; recipient: {priya.pk}; count: 3"
    assert event.actor_username == "system: send_referral_digest"


def test_a_failing_mail_server_gives_the_claims_back_for_the_next_run(overdue, settings):
    settings.EMAIL_BACKEND = "tests.referrals.test_notifications.BrokenBackend"
    with pytest.raises(CommandError, match="4 digest"):
        digest()
    assert not ReferralDigest.objects.exists()
    assert not AuditEvent.objects.filter(object_type="referrals.digest").exists()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    digest()
    assert len(mail.outbox) == 4
