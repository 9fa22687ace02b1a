"""E-mail about the referral loop: a new referral to the partner's referral officers, the partner's decisions to the
sending counsellor, and each day's digest of overdue referrals (``manage.py send_referral_digest``).

An e-mail is seen by others (a shared mailbox, a phone's lock screen, the mail servers on the way): its subject and
body carry a link and counts, never a client's identity, the service (which can itself disclose an HIV status), the
reason or the outcome (DESIGN.md §1). Each kind is rendered from ``templates/referrals/email/<kind>_subject.txt``,
``_body.txt`` and ``_body.html`` in the recipient's language. The e-mails of a change go out only once its
transaction has committed (a refused or rolled-back change sends nothing), and a failing mail server never fails the
change: the failure is logged with the kind of e-mail and the exception's class, never an address or a value, and
counted. Every e-mail sent is audited: an EXPORT of ``referrals.notification`` (the referral) or
``referrals.digest`` (the digest), whose reason names the kind, the recipient's user id and the count.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from casemgmt import audit
from casemgmt.models import AuditAction
from casemgmt.roles import CARE_STAFF, Role

logger = logging.getLogger("referrals.notifications")

NEW_REFERRAL = "new_referral"
REFERRAL_UPDATED = "referral_updated"
OVERDUE_DIGEST = "overdue_digest"


@dataclass
class Delivery:
    sent: int = 0
    failed: int = 0
    skipped: int = 0  # not claimed: sent already


@dataclass
class Email:
    """One e-mail to one user; ``claim`` (if any) is asked first, and the e-mail goes only if it answers True;
    ``on_sent`` records it once sent, ``on_failed`` undoes the claim if it could not be sent."""

    user: object
    kind: str
    context: dict
    on_sent: Callable[[], None]
    claim: Callable[[], bool] | None = None
    on_failed: Callable[[], None] | None = None


def language_of(user) -> str:
    """The recipient's language. Accounts store none (the language menu sets a cookie of the browser), so e-mails
    are in the site's default language."""
    return settings.LANGUAGE_CODE


def site_url(path: str) -> str:
    """An absolute link to ``path`` on this site (``CASEMGMT_SITE_URL``)."""
    return settings.CASEMGMT_SITE_URL.rstrip("/") + path


def render(email: Email, *, connection=None) -> EmailMultiAlternatives:
    with translation.override(language_of(email.user)):
        subject = " ".join(render_to_string(f"referrals/email/{email.kind}_subject.txt", email.context).split())
        text = render_to_string(f"referrals/email/{email.kind}_body.txt", email.context)
        html = render_to_string(f"referrals/email/{email.kind}_body.html", email.context)
    message = EmailMultiAlternatives(subject=subject, body=text, to=[email.user.email], connection=connection)
    message.attach_alternative(html, "text/html")
    return message


def deliver(emails: list[Email]) -> Delivery:
    """Send each e-mail on one connection; one that fails is logged (no value) and counted, the others still go."""
    delivery = Delivery()
    if not emails:
        return delivery
    connection = get_connection()
    try:
        connection.open()
    except Exception as exc:  # noqa: BLE001 - whatever the mail server does, the change stands
        delivery.failed = len(emails)
        logger.warning("Referral e-mails not sent (%d): the mail server refused the connection (%s)", len(emails),
                       exc.__class__.__name__)
        return delivery
    try:
        for email in emails:
            if email.claim is not None and not email.claim():
                delivery.skipped += 1
                continue
            try:
                render(email, connection=connection).send()
            except Exception as exc:  # noqa: BLE001
                delivery.failed += 1
                logger.warning("A referral e-mail (%s) was not sent (%s)", email.kind, exc.__class__.__name__)
                if email.on_failed is not None:
                    email.on_failed()
                continue
            delivery.sent += 1
            email.on_sent()
    finally:
        try:
            connection.close()
        except Exception as exc:  # noqa: BLE001
            logger.warning("The mail server connection did not close cleanly (%s)", exc.__class__.__name__)
    if delivery.failed:
        logger.warning("Referral e-mails: %d sent, %d not sent", delivery.sent, delivery.failed)
    return delivery


# Recipients ---------------------------------------------------------------------------------------------------

def _reachable():
    """Active accounts with an active membership (not waiting for confirmation) and an e-mail address."""
    return (get_user_model().objects.filter(is_active=True, membership__suspended=False,
                                            membership__organisation__active=True)
            .exclude(email="").select_related("membership").order_by("pk"))


def referral_officers(*, organisation_id):
    return _reachable().filter(membership__organisation_id=organisation_id, membership__role=Role.REFERRAL_OFFICER)


def sending_counsellor(referral):
    """The referral's counsellor, while they still act as care staff for the organisation that sent it."""
    return _reachable().filter(pk=referral.counsellor_id, membership__organisation_id=referral.from_organisation_id,
                               membership__role__in=CARE_STAFF).first()


# A referral's e-mails, after the change commits ----------------------------------------------------------------

def _audited(*, actor, kind: str, object_type: str, object_id, user, count: int | None = None):
    """What records an e-mail once sent (``object_id`` may be a function: a digest's id exists once claimed)."""
    reason = f"e-mail: {kind}; recipient: {user.pk}" + (f"; count: {count}" if count is not None else "")
    return lambda: audit.record(actor=actor, action=AuditAction.EXPORT, object_type=object_type,
                                object_id=object_id() if callable(object_id) else object_id, reason=reason)


def _referral_emails(*, kind: str, referral, actor, users) -> list[Email]:
    link = site_url(reverse("referrals:detail", args=[referral.pk]))
    return [Email(user=user, kind=kind, context={"link": link, "count": 1},
                  on_sent=_audited(actor=actor, kind=kind, object_type="referrals.notification",
                                   object_id=referral.pk, user=user))
            for user in users]


def referral_sent(*, referral, actor) -> None:
    """When the transaction commits: the partner's referral officers hear that a referral came in."""

    def send() -> None:
        deliver(_referral_emails(kind=NEW_REFERRAL, referral=referral, actor=actor,
                                 users=referral_officers(organisation_id=referral.to_organisation_id)))

    transaction.on_commit(send, robust=True)


def referral_updated(*, referral, actor) -> None:
    """When the transaction commits: the sending counsellor hears that the partner acted on their referral."""

    def send() -> None:
        counsellor = sending_counsellor(referral)
        deliver(_referral_emails(kind=REFERRAL_UPDATED, referral=referral, actor=actor,
                                 users=[counsellor] if counsellor is not None else []))

    transaction.on_commit(send, robust=True)


# The daily digest ---------------------------------------------------------------------------------------------

@dataclass
class DigestRun:
    day: datetime.date
    planned: list[tuple[object, int]] = field(default_factory=list)  # (user, overdue referrals)
    already: int = 0  # recipients whose digest of the day was claimed by an earlier run
    sent: int = 0
    failed: int = 0


def digest_recipients(*, day: datetime.date) -> list[tuple[object, int]]:
    """Who gets a digest for ``day``, with how many overdue referrals: each partner's referral officers (the
    overdue referrals of their organisation they may see) and each sending counsellor (the overdue referrals they
    sent, as far as they still may see them). Nobody with none."""
    from referrals.models import Referral
    from referrals.selectors import overdue_q, referrals_visible_to

    overdue = Referral.objects.filter(overdue_q(today=day))
    officers = _reachable().filter(membership__role=Role.REFERRAL_OFFICER,
                                   membership__organisation_id__in=overdue.values("to_organisation_id"))
    senders = _reachable().filter(membership__role__in=CARE_STAFF, pk__in=overdue.values("counsellor_id"))
    found = []
    for user in officers:
        found.append((user, referrals_visible_to(user).filter(overdue_q(today=day)).count()))
    for user in senders:
        found.append((user, referrals_visible_to(user).filter(overdue_q(today=day), counsellor=user).count()))
    return [(user, count) for user, count in found if count]


def send_overdue_digests(*, day: datetime.date, dry_run: bool = False) -> DigestRun:
    """Each recipient's digest for ``day``, at most once: its ``ReferralDigest`` row is claimed just before its
    e-mail goes out (a second run, or one running at the same time, finds it and sends nothing), and given back if
    the e-mail could not be sent, for a later run of the day to retry."""
    from referrals.models import ReferralDigest

    run = DigestRun(day=day, planned=digest_recipients(day=day))
    if dry_run:
        claimed = set(ReferralDigest.objects.filter(day=day, user__in=[user for user, _count in run.planned])
                      .values_list("user_id", flat=True))
        run.already = sum(1 for user, _count in run.planned if user.pk in claimed)
        return run
    inbox = site_url(reverse("referrals:inbox") + "?show=overdue")
    home = site_url(reverse("home"))
    emails = []
    for user, count in run.planned:
        digest = ReferralDigest(user=user, day=day, overdue=count)
        emails.append(Email(
            user=user, kind=OVERDUE_DIGEST,
            context={"count": count, "link": inbox if user.membership.role == Role.REFERRAL_OFFICER else home},
            claim=_claim(digest), on_failed=_give_back(digest),
            on_sent=_audited(actor=None, kind=OVERDUE_DIGEST, object_type="referrals.digest",
                             object_id=lambda digest=digest: digest.pk,
                             user=user, count=count)))
    delivery = deliver(emails)
    run.sent, run.failed, run.already = delivery.sent, delivery.failed, delivery.skipped
    return run


def _claim(digest) -> Callable[[], bool]:
    def claim() -> bool:
        try:
            with transaction.atomic():
                digest.save(force_insert=True)
        except IntegrityError:
            return False
        return True

    return claim


def _give_back(digest) -> Callable[[], None]:
    return lambda: type(digest).objects.filter(pk=digest.pk).delete()
