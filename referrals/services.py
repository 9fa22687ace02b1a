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
from casemgmt.versioning import check_version
from clients.models import Client, Consent, ConsentKind, ShareCategory
from clients.selectors import clients_visible_to
from plans.models import Milestone
from referrals import notifications
from referrals.models import (
    ALL_OUTCOME_FIELDS,
    OPEN_STATUSES,
    OUTCOME_FIELDS,
    ConfirmatoryResult,
    EndReason,
    HepatitisResult,
    HivTestResult,
    Outcome,
    PartnerService,
    Referral,
    ReferralStatus,
    ServiceType,
    TbResult,
    Urgency,
)
from referrals.selectors import VIEW, is_awaiting_art, services_editable_by

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
ERROR_MILESTONE_OTHER_CLIENT = _("This milestone is not one of this client's.")
# Outcomes
ERROR_NOT_FOR_SERVICE = _("This does not apply to this service.")
ERROR_NOT_IN_LIST = _("Choose one of the values in the list.")
ERROR_DATE_IN_FUTURE = _("This date is in the future.")
ERROR_DATE_BEFORE_SENT = _("This date is before the referral was sent (%(date)s).")
ERROR_NEEDS_DATE = _("Give the date.")
ERROR_NEEDS_RESULT = _("Give the result.")
ERROR_CONFIRMATORY_NEEDS_REACTIVE = _("A confirmatory result follows a reactive test only.")
ERROR_ART_NEEDS_CONFIRMED = _("ART is initiated only after a confirmed positive HIV test.")
ERROR_BEFORE_TEST = _("This date is before the test.")
ERROR_TB_TREATMENT_NEEDS_DIAGNOSIS = _("TB treatment is recorded only for TB diagnosed.")
ERROR_HEPATITIS_TREATMENT_NEEDS_POSITIVE = _("Hepatitis treatment is recorded only after a positive test.")
ERROR_NO_LINKAGE_AWAITED = _("Only a completed HIV test with a reactive result and no ART initiation recorded takes "
                             "this.")
ERROR_NOTHING_TO_RECORD = _("Give the confirmatory result or the date ART was initiated.")
ERROR_CONSENT_WITHDRAWN = _("The client withdrew the consent this referral rested on.")
# The audit reason of a later step (the state does not change); audit_texts tells it.
REASON_LINKAGE = "linkage to ART recorded"

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
                    reason: str, urgency: str = Urgency.ROUTINE, due_on: datetime.date | None = None,
                    milestone: Milestone | None = None) -> Referral:
    """A draft referral of a client the actor may change, to a partner's service, resting on a consent; for one
    of the client's reintegration milestones when given."""
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
    if milestone is not None and milestone.client_id != client.pk:
        errors["milestone"] = ERROR_MILESTONE_OTHER_CLIENT
    if errors:
        raise ValidationError(errors)
    categories = [c for c in ShareCategory.values if c in set(categories)]
    check_consent(consent=consent, client=client, partner=service.organisation, categories=categories)
    referral = Referral(client=client, from_organisation=access.organisation_of(actor), counsellor=actor,
                        to_organisation=service.organisation, service=service, urgency=urgency, reason=reason,
                        shared_categories=categories, consent=consent, due_on=due_on, milestone=milestone)
    referral.full_clean()
    referral.save(force_insert=True)
    audit.record(actor=actor, action=AuditAction.CREATE, object_type="referrals.referral", object_id=referral.pk,
                 client_id=client.pk, fields=["service", "urgency", "reason", "shared_categories", "consent",
                                              "due_on", *(["milestone"] if milestone is not None else [])])
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
def referral_complete(*, actor, referral: Referral, outcome: str, feedback: str = "",
                      results: dict | None = None) -> Referral:
    """The outcome, in one step: the generic outcome, the feedback, and the results the referral's service takes
    (``OUTCOME_FIELDS``; ``results`` maps their names to values, "" or None where not given). The state is
    checked first (an ended referral: ``TransitionRefused``), then the results against the fresh row."""
    if outcome not in Outcome.values:
        raise ValidationError({"outcome": ERROR_NEEDS_OUTCOME})
    changes = {"acted_by": actor, "outcome": outcome, "feedback": feedback, "closed_at": timezone.now()}
    audit_fields = ["status", "outcome", "feedback"]

    def check(locked: Referral) -> None:
        # transition() applies ``changes`` and names ``audit_fields`` after this check: what it adds is saved.
        cleaned = clean_results(locked, results or {})
        changes.update(cleaned)
        audit_fields.extend(name for name, value in cleaned.items() if value not in (None, ""))

    completed = transitions.transition(
        Referral, pk=referral.pk, actor=actor, source=[ReferralStatus.ATTENDED], target=ReferralStatus.COMPLETED,
        changes=changes, check=check, queryset=_receiver_scope(actor), audit_fields=audit_fields)
    notifications.referral_updated(referral=completed, actor=actor)
    return completed


@transaction.atomic
def referral_record_linkage(*, actor, referral: Referral, expected_version: int | None,
                            hiv_confirmatory_result: str = "", art_initiated_on: datetime.date | None = None,
                            art_facility: str = "", art_number: str = "") -> Referral:
    """A later step of a completed HIV test whose result was reactive: the confirmatory result (if none was
    recorded) and the ART initiation, days after the test. Version-checked (``Conflict`` when the referral changed
    since the form was shown), audited with the field names."""
    locked = _receiver_scope(actor).select_related("service", "consent").select_for_update(of=("self",)).filter(
        pk=referral.pk).first()
    if locked is None:
        raise TransitionRefused(transitions.ERROR_GONE)
    if locked.consent_withdrawn:
        raise TransitionRefused(ERROR_CONSENT_WITHDRAWN)
    if not is_awaiting_art(locked):
        raise TransitionRefused(ERROR_NO_LINKAGE_AWAITED)
    check_version(locked, expected_version)
    given = {"art_initiated_on": art_initiated_on, "art_facility": art_facility, "art_number": art_number}
    if not locked.hiv_confirmatory_result:
        given["hiv_confirmatory_result"] = hiv_confirmatory_result
    if not given.get("hiv_confirmatory_result") and art_initiated_on is None:
        raise ValidationError({"art_initiated_on": ERROR_NEEDS_DATE if locked.hiv_confirmatory_result
                               else ERROR_NOTHING_TO_RECORD})
    recorded = {name: getattr(locked, name) for name in OUTCOME_FIELDS[ServiceType.HIV_TESTING]}
    cleaned = clean_results(locked, {**recorded, **given})
    changed = [name for name in given if cleaned[name] not in (None, "")]
    for name in changed:
        setattr(locked, name, cleaned[name])
    locked.full_clean()
    locked.save(update_fields=changed)
    audit.record(actor=actor, action=AuditAction.CHANGE, object_type="referrals.referral", object_id=locked.pk,
                 client_id=locked.client_id, fields=changed, reason=REASON_LINKAGE)
    notifications.referral_updated(referral=locked, actor=actor)
    return locked


@transaction.atomic
def referral_close_unresolved(*, actor, referral: Referral, reason: str) -> Referral:
    _require_reason(reason)
    return _receive(actor=actor, referral=referral, source=[ReferralStatus.ACCEPTED, ReferralStatus.ATTENDED],
                    target=ReferralStatus.CLOSED_UNRESOLVED,
                    changes={"end_reason": reason, "closed_at": timezone.now()}, audit_fields=["status", "end_reason"])


# The outcome's rules ------------------------------------------------------------------------------------------

RESULT_CHOICES = {"hiv_result": HivTestResult, "hiv_confirmatory_result": ConfirmatoryResult,
                  "tb_result": TbResult, "hepatitis_result": HepatitisResult}
TEXT_FIELDS = ("art_facility", "art_number")


def clean_results(referral: Referral, results: dict, *, today: datetime.date | None = None) -> dict:
    """The results of ``referral``'s service, checked (``ValidationError`` by field, every problem at once) and
    completed with blanks: every outcome field of the service, "" or None where not given."""
    today = today or timezone.localdate()
    applies = OUTCOME_FIELDS.get(referral.service.service_type, ())
    errors: dict = {}
    for name, value in results.items():
        if name not in ALL_OUTCOME_FIELDS:
            raise ValueError(f"{name} is not an outcome field")  # a programming error, never the user's
        if name not in applies and value not in (None, ""):
            errors[name] = ERROR_NOT_FOR_SERVICE
    values = {name: results.get(name) or ("" if name in RESULT_CHOICES else None) for name in applies}
    for name in TEXT_FIELDS:
        if name in values:
            values[name] = (values[name] or "").strip() or None
            try:
                if values[name] is not None:
                    Referral._meta.get_field(name).run_validators(values[name])  # plain text, its length
            except ValidationError as exc:
                errors[name] = exc.messages[0]
    for name, choices in RESULT_CHOICES.items():
        if values.get(name) and values[name] not in choices.values:
            errors[name] = ERROR_NOT_IN_LIST
    sent_on = timezone.localdate(referral.sent_at) if referral.sent_at else None
    for name, value in values.items():
        if isinstance(value, datetime.date):
            if value > today:
                errors[name] = ERROR_DATE_IN_FUTURE
            elif sent_on is not None and value < sent_on:
                errors[name] = ERROR_DATE_BEFORE_SENT % {"date": sent_on.isoformat()}
    _check_pairs(values, errors)
    _check_sequence(referral.service.service_type, values, errors)
    if errors:
        raise ValidationError(errors)
    return values


# (date, result): each needs the other.
PAIRS = [("hiv_tested_on", "hiv_result"), ("tb_screened_on", "tb_result"),
         ("hepatitis_tested_on", "hepatitis_result")]


def _check_pairs(values: dict, errors: dict) -> None:
    for date_name, result_name in PAIRS:
        if date_name not in values:
            continue
        if values[result_name] and values[date_name] is None:
            errors.setdefault(date_name, ERROR_NEEDS_DATE)
        elif values[date_name] is not None and not values[result_name]:
            errors.setdefault(result_name, ERROR_NEEDS_RESULT)
    if (values.get("art_facility") or values.get("art_number")) and values.get("art_initiated_on") is None:
        errors.setdefault("art_initiated_on", ERROR_NEEDS_DATE)


def _check_sequence(service_type: str, values: dict, errors: dict) -> None:
    """A confirmatory result only after a reactive test; ART only after a confirmed positive one (an ART referral
    is its own proof); treatment only for a diagnosis; nothing dated before the test it follows."""
    if service_type == ServiceType.HIV_TESTING:
        if values["hiv_confirmatory_result"] and values["hiv_result"] != HivTestResult.REACTIVE:
            errors.setdefault("hiv_confirmatory_result", ERROR_CONFIRMATORY_NEEDS_REACTIVE)
        art = values["art_initiated_on"] or values["art_facility"] or values["art_number"]
        if art and values["hiv_confirmatory_result"] != ConfirmatoryResult.POSITIVE:
            errors.setdefault("art_initiated_on", ERROR_ART_NEEDS_CONFIRMED)
        _not_before(values, "art_initiated_on", "hiv_tested_on", errors)
    elif service_type == ServiceType.TB:
        if values["tb_treatment_started_on"] is not None and values["tb_result"] != TbResult.DIAGNOSED:
            errors.setdefault("tb_treatment_started_on", ERROR_TB_TREATMENT_NEEDS_DIAGNOSIS)
        _not_before(values, "tb_treatment_started_on", "tb_screened_on", errors)
    elif service_type == ServiceType.HEPATITIS:
        if values["hepatitis_treated_on"] is not None and values["hepatitis_result"] in ("", HepatitisResult.NEGATIVE):
            errors.setdefault("hepatitis_treated_on", ERROR_HEPATITIS_TREATMENT_NEEDS_POSITIVE)
        _not_before(values, "hepatitis_treated_on", "hepatitis_tested_on", errors)


def _not_before(values: dict, later: str, earlier: str, errors: dict) -> None:
    if values[later] is not None and values[earlier] is not None and values[later] < values[earlier]:
        errors.setdefault(later, ERROR_BEFORE_TEST)


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
