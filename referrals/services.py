"""Writes of the directory and of the referral loop. Each is one transaction, validated, and audited.

Every state change of a referral goes through ``casemgmt.transitions.transition`` (row locked, state checked
there), by the side it belongs to: the sender (care staff of the referring organisation who may change the
client's record) or the receiver (a referral officer of the organisation it was sent to).
"""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casemgmt import access, audit, transitions
from casemgmt.models import AuditAction
from casemgmt.roles import CARE_STAFF, OrganisationKind, Role
from casemgmt.transitions import TransitionRefused
from clients.models import Client, Consent, ConsentKind, ShareCategory
from clients.selectors import clients_visible_to
from referrals import notifications
from referrals.models import OPEN_STATUSES, EndReason, Outcome, PartnerService, Referral, ReferralStatus, Urgency
from referrals.selectors import VIEW, services_editable_by

ERROR_CONSENT_REQUIRED = _("A referral needs the client's consent to share information with the partner.")
ERROR_CONSENT_NOT_SHARING = _("This consent is not a consent to share information with a partner.")
ERROR_CONSENT_NOT_ACTIVE = _("This consent is not in force today (not yet given, expired or revoked).")
ERROR_CONSENT_OTHER_PARTNER = _("This consent is for another partner organisation than the one referred to.")
ERROR_CONSENT_MISSING_CATEGORIES = _("The consent does not cover: %(categories)s.")
ERROR_NO_CATEGORIES = _("Choose at least one category of information to share.")
ERROR_NOT_ACCEPTING = _("This service is not accepting referrals now.")
ERROR_NEEDS_REASON = _("Give the reason for the referral.")
ERROR_NEEDS_END_REASON = _("Choose a reason.")
ERROR_NEEDS_OUTCOME = _("Choose an outcome.")
ERROR_NOT_SENDER = _("Only care staff of the referring organisation, who may change the client's record, can do "
                     "this.")
ERROR_NOT_RECEIVER = _("Only a referral officer of the partner organisation can do this.")
ERROR_NOT_ADMINISTRATOR = _("Only a system administrator can do this.")
ERROR_NOT_A_PARTNER = _("Services belong to an NGO partner organisation.")
ERROR_DUE_IN_PAST = _("The due date cannot be in the past.")

DIRECTORY_FIELDS = ["service_type", "description", "province", "district", "address", "hours", "contact",
                    "languages", "eligibility", "cost", "accepting_referrals", "target_days"]


# The directory -----------------------------------------------------------------------------------------------

@transaction.atomic
def partner_service_save(*, actor, values: dict, service: PartnerService | None = None) -> PartnerService:
    """Create or change one of the actor's own organisation's services."""
    if service is None:
        service = PartnerService(organisation=access.organisation_of(actor))
        changed = list(values)
    else:
        service = services_editable_by(actor).select_for_update().get(pk=service.pk)
        changed = [name for name, value in values.items() if getattr(service, name) != value]
    if service.organisation.kind != OrganisationKind.NGO_PARTNER or access.role_of(actor) != Role.REFERRAL_OFFICER:
        raise ValidationError(ERROR_NOT_RECEIVER)
    for name, value in values.items():
        setattr(service, name, value)
    service.full_clean()
    created = service._state.adding
    service.save()
    audit.record(actor=actor, action=AuditAction.CREATE if created else AuditAction.CHANGE,
                 object_type="referrals.partnerservice", object_id=service.pk, fields=changed)
    return service


@transaction.atomic
def partner_service_save_by_administrator(*, actor, service: PartnerService, changed: list[str]) -> PartnerService:
    """A system administrator's change through the administration site: any partner's service."""
    if access.role_of(actor) != Role.SYSTEM_ADMINISTRATOR:
        raise ValidationError(ERROR_NOT_ADMINISTRATOR)
    if service.organisation.kind != OrganisationKind.NGO_PARTNER:
        raise ValidationError({"organisation": ERROR_NOT_A_PARTNER})
    created = service._state.adding
    service.full_clean()
    service.save()
    audit.record(actor=actor, action=AuditAction.CREATE if created else AuditAction.CHANGE,
                 object_type="referrals.partnerservice", object_id=service.pk, fields=changed)
    return service


# Consent gating ----------------------------------------------------------------------------------------------

def check_consent(*, consent: Consent | None, client: Client, partner, categories,
                  on: datetime.date | None = None) -> None:
    """Refuse (``ValidationError`` on ``consent``) unless the consent is a sharing consent of this client, in
    force on the day, for this partner, covering every category shared."""
    on = on or timezone.localdate()
    if consent is None or consent.client_id != client.pk:
        raise ValidationError({"consent": ERROR_CONSENT_REQUIRED})
    if consent.kind != ConsentKind.SHARING:
        raise ValidationError({"consent": ERROR_CONSENT_NOT_SHARING})
    if not consent.is_active(on):
        raise ValidationError({"consent": ERROR_CONSENT_NOT_ACTIVE})
    if consent.partner_id != partner.pk:
        raise ValidationError({"consent": ERROR_CONSENT_OTHER_PARTNER})
    if not categories:
        raise ValidationError({"shared_categories": ERROR_NO_CATEGORIES})
    missing = [c for c in ShareCategory.values if c in set(categories) and c not in set(consent.categories)]
    if missing:
        labels = ", ".join(str(ShareCategory(c).label) for c in missing)
        raise ValidationError({"shared_categories": ERROR_CONSENT_MISSING_CATEGORIES % {"categories": labels}})


# The sender's side -------------------------------------------------------------------------------------------

def _sender_scope(actor):
    if access.role_of(actor) not in CARE_STAFF:
        raise TransitionRefused(ERROR_NOT_SENDER)
    return Referral.objects.filter(from_organisation=access.organisation_of(actor),
                                   client__in=clients_visible_to(actor, write=True).values("pk"))


def _receiver_scope(actor):
    from referrals.selectors import referrals_visible_to

    if access.role_of(actor) != Role.REFERRAL_OFFICER:
        raise TransitionRefused(ERROR_NOT_RECEIVER)
    return referrals_visible_to(actor)


@transaction.atomic
def referral_create(*, actor, client: Client, service: PartnerService, consent: Consent | None, categories,
                    reason: str, urgency: str = Urgency.ROUTINE, due_on: datetime.date | None = None) -> Referral:
    """A draft referral of a client the actor may change, to a partner's service, resting on a consent."""
    if access.role_of(actor) not in CARE_STAFF or not clients_visible_to(actor, write=True).filter(
            pk=client.pk).exists():
        raise ValidationError(ERROR_NOT_SENDER)
    errors = {}
    if not service.accepting_referrals:
        errors["service"] = ERROR_NOT_ACCEPTING
    if not reason.strip():
        errors["reason"] = ERROR_NEEDS_REASON
    if due_on is not None and due_on < timezone.localdate():
        errors["due_on"] = ERROR_DUE_IN_PAST
    if errors:
        raise ValidationError(errors)
    categories = [c for c in ShareCategory.values if c in set(categories)]
    check_consent(consent=consent, client=client, partner=service.organisation, categories=categories)
    referral = Referral(client=client, from_organisation=access.organisation_of(actor), counsellor=actor,
                        to_organisation=service.organisation, service=service, urgency=urgency, reason=reason,
                        shared_categories=categories, consent=consent, due_on=due_on)
    referral.full_clean()
    referral.save(force_insert=True)
    audit.record(actor=actor, action=AuditAction.CREATE, object_type="referrals.referral", object_id=referral.pk,
                 client_id=client.pk, fields=["service", "urgency", "reason", "shared_categories", "consent",
                                              "due_on"])
    return referral


@transaction.atomic
def referral_send(*, actor, referral: Referral) -> Referral:
    """Send a draft: the consent is checked again on the day, and the partner's staff group may then see it."""

    def check(locked: Referral) -> None:
        locked.consent = Consent.objects.get(pk=locked.consent_id)
        check_consent(consent=locked.consent, client=locked.client, partner=locked.to_organisation,
                      categories=locked.shared_categories)

    locked = transitions.transition(
        Referral, pk=referral.pk, actor=actor, source=[ReferralStatus.DRAFT], target=ReferralStatus.SENT,
        changes={"sent_at": timezone.now()}, check=check, queryset=_sender_scope(actor))
    access.grant_all([VIEW], locked, groups=[locked.to_organisation.staff_group_id])
    notifications.referral_sent(referral=locked, actor=actor)
    return locked


@transaction.atomic
def referral_cancel(*, actor, referral: Referral, reason: str) -> Referral:
    _require_reason(reason)
    return transitions.transition(
        Referral, pk=referral.pk, actor=actor,
        source=[ReferralStatus.DRAFT, ReferralStatus.SENT, ReferralStatus.ACCEPTED, ReferralStatus.ATTENDED],
        target=ReferralStatus.CANCELLED, changes={"end_reason": reason, "closed_at": timezone.now()},
        queryset=_sender_scope(actor), audit_fields=["status", "end_reason"])


# The receiver's side -----------------------------------------------------------------------------------------

def _require_reason(reason: str) -> None:
    if reason not in EndReason.values:
        raise ValidationError({"end_reason": ERROR_NEEDS_END_REASON})


def _receive(*, actor, referral: Referral, source, target, changes=None, audit_fields=None) -> Referral:
    """The partner's decision, and (once it commits) an e-mail to the sending counsellor."""
    changes = {"acted_by": actor, **(changes or {})}
    changed = transitions.transition(Referral, pk=referral.pk, actor=actor, source=source, target=target,
                                     changes=changes, queryset=_receiver_scope(actor),
                                     audit_fields=audit_fields or ["status"])
    notifications.referral_updated(referral=changed, actor=actor)
    return changed


@transaction.atomic
def referral_accept(*, actor, referral: Referral) -> Referral:
    return _receive(actor=actor, referral=referral, source=[ReferralStatus.SENT], target=ReferralStatus.ACCEPTED,
                    changes={"accepted_at": timezone.now()})


@transaction.atomic
def referral_decline(*, actor, referral: Referral, reason: str) -> Referral:
    _require_reason(reason)
    return _receive(actor=actor, referral=referral, source=[ReferralStatus.SENT], target=ReferralStatus.DECLINED,
                    changes={"end_reason": reason, "closed_at": timezone.now()}, audit_fields=["status", "end_reason"])


@transaction.atomic
def referral_attend(*, actor, referral: Referral) -> Referral:
    return _receive(actor=actor, referral=referral, source=[ReferralStatus.ACCEPTED], target=ReferralStatus.ATTENDED)


@transaction.atomic
def referral_no_show(*, actor, referral: Referral, reason: str) -> Referral:
    _require_reason(reason)
    return _receive(actor=actor, referral=referral, source=[ReferralStatus.ACCEPTED], target=ReferralStatus.NO_SHOW,
                    changes={"end_reason": reason, "closed_at": timezone.now()}, audit_fields=["status", "end_reason"])


@transaction.atomic
def referral_complete(*, actor, referral: Referral, outcome: str, feedback: str = "") -> Referral:
    if outcome not in Outcome.values:
        raise ValidationError({"outcome": ERROR_NEEDS_OUTCOME})
    return _receive(actor=actor, referral=referral, source=[ReferralStatus.ATTENDED], target=ReferralStatus.COMPLETED,
                    changes={"outcome": outcome, "feedback": feedback, "closed_at": timezone.now()},
                    audit_fields=["status", "outcome", "feedback"])


@transaction.atomic
def referral_close_unresolved(*, actor, referral: Referral, reason: str) -> Referral:
    _require_reason(reason)
    return _receive(actor=actor, referral=referral, source=[ReferralStatus.ACCEPTED, ReferralStatus.ATTENDED],
                    target=ReferralStatus.CLOSED_UNRESOLVED,
                    changes={"end_reason": reason, "closed_at": timezone.now()}, audit_fields=["status", "end_reason"])


# Consent withdrawal ------------------------------------------------------------------------------------------

@transaction.atomic
def referrals_close_for_revoked_consent(*, actor, consent: Consent) -> int:
    """Every open referral resting on ``consent`` ends with reason "consent withdrawn", at once (drafts are
    cancelled, the others closed unresolved); the partner's page then shows that and nothing else."""
    closed = 0
    now = timezone.now()
    open_ones = Referral.objects.filter(consent=consent, status__in=OPEN_STATUSES).only("pk", "status", "client_id")
    for referral in open_ones.order_by("pk"):
        target = ReferralStatus.CANCELLED if referral.status == ReferralStatus.DRAFT else \
            ReferralStatus.CLOSED_UNRESOLVED
        transitions.transition(
            Referral, pk=referral.pk, actor=actor, source=[referral.status], target=target,
            changes={"end_reason": EndReason.CONSENT_WITHDRAWN, "closed_at": now},
            audit_fields=["status", "end_reason"], reason="consent withdrawn")
        closed += 1
    return closed


def on_consent_revoked(sender, *, consent: Consent, actor, **kwargs) -> None:
    referrals_close_for_revoked_consent(actor=actor, consent=consent)
