"""Writes of the platform: organisations, memberships, accounts, erasure.

Separation of duties (docs/access.md): nobody changes their own membership, resets their own second factor
or deactivates themselves; a confirmed role (``roles.CONFIRMED_ROLES``) takes effect only when a second
person confirms it; every membership change is a ``MembershipChange`` row, audited at every step.
"""

from __future__ import annotations

import uuid
from typing import NoReturn

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from casemgmt import access, audit, crypto, locks, selectors
from casemgmt.models import (
    AuditAction,
    Membership,
    MembershipChange,
    MembershipChangeKind,
    MembershipChangeStatus,
    Organisation,
)
from casemgmt.roles import CONFIRMED_ROLES, Role

User = get_user_model()


def _staff_group_name(organisation_id: uuid.UUID) -> str:
    return f"org:{organisation_id}"


@transaction.atomic
def organisation_create(*, name: str, kind: str, province: str, active: bool = True, actor=None) -> Organisation:
    """A new organisation with its staff group. ``actor``: the administrator (None: the system, in a command)."""
    locks.hold(locks.ORGANISATION_NAME, name)
    organisation_id = uuid.uuid4()
    group = Group.objects.create(name=_staff_group_name(organisation_id))
    organisation = Organisation(id=organisation_id, name=name, kind=kind, province=province, active=active,
                                staff_group=group)
    organisation.full_clean()
    organisation.save(force_insert=True)
    audit.record(actor=actor, action=AuditAction.CREATE, object_type="casemgmt.organisation",
                 object_id=organisation.pk)
    return organisation


@transaction.atomic
def organisation_update(*, organisation: Organisation, changed: list[str], actor=None) -> Organisation:
    locks.hold(locks.ORGANISATION_NAME, organisation.name)
    organisation.full_clean()
    organisation.save()
    audit.record(actor=actor, action=AuditAction.CHANGE, object_type="casemgmt.organisation",
                 object_id=organisation.pk, fields=changed)
    return organisation


# What the audit trail says happened to a membership change (the event names the change and the fields).
CHANGE_TYPE = "casemgmt.membershipchange"
REASON_PROPOSED = "proposed"
REASON_APPLIED = "took effect at once"
REASON_REMOVED = "removed"
REASON_BOOTSTRAP = "set up by a management command"
REASON_CONFIRM_AGAIN = "to confirm again"
REASON_CONFIRMED = "confirmed"
REASON_REJECTED = "rejected"
REASON_CANCELLED = "cancelled"
REASON_SUPERSEDED = "cancelled: superseded"

ERROR_OWN_MEMBERSHIP = _("You cannot change your own membership, role or organisation: another administrator must.")
ERROR_OWN_SECOND_FACTOR = _("You cannot reset your own two-factor authentication: another administrator must.")
ERROR_OWN_PASSWORD = _(
    "You cannot set your own password here. Change it on the Password page, which asks for your current one."
)
ERROR_OWN_DEACTIVATION = _("You cannot deactivate your own account: another administrator must.")
ERROR_OWN_CHANGE = _("You cannot confirm, reject or cancel a change to your own account: someone else must.")
ERROR_PROPOSER = _("You proposed this change, so someone else must confirm or reject it.")
ERROR_NOT_PENDING = _("This change was already decided or cancelled, perhaps a moment ago by someone else. "
                      "Nothing was changed.")
ERROR_NEEDS_MANAGER = _("This change waits for a centre manager of %(organisation)s to confirm it.")
ERROR_NEEDS_ADMINISTRATOR = _("This change waits for a system administrator other than the one who proposed it.")
ERROR_NOTHING_TO_CHANGE = _("The account already has this role at this organisation.")


class BootstrapOnly(RuntimeError):
    """``membership_set`` was called inside a signed-in request: only management commands and tests may."""


def membership_set(*, user, organisation: Organisation, role: str, province: str = "") -> Membership:
    """The trusted bootstrap path: attach ``user`` to ``organisation`` in ``role`` at once, without confirmation.

    For management commands (``seed_demo``) and tests only; the actor is the system. Every page goes through
    ``membership_change_propose`` instead, and this refuses to run inside a signed-in request.
    """
    if audit.current_actor().user_id is not None:
        raise BootstrapOnly("membership_set runs without confirmation: pages must use membership_change_propose.")
    with transaction.atomic():
        _lock_account(user.pk)
        membership = _membership_of(user)
        _cancel_pending(user=user, actor=None, reason=REASON_SUPERSEDED)
        change = _change_create(user=user, membership=membership, organisation=organisation, role=role,
                                province=province, kind=MembershipChangeKind.BOOTSTRAP,
                                status=MembershipChangeStatus.APPLIED, actor=None, reason=REASON_BOOTSTRAP)
        return _apply(change, membership)


def membership_change_propose(*, actor, user, organisation: Organisation, role: str,
                              province: str = "") -> MembershipChange:
    """An administrator proposes that ``user`` act for ``organisation`` in ``role`` (a MoH reviewer: limited to
    ``province``'s figures, or none for the whole country).

    A confirmed role (one with client data, or the administrator's) waits for a second person and grants
    nothing until then: the account keeps its membership as it is, or has none. Other roles take effect at
    once, and so does a reviewer's province limit (reviewers see no client data: aggregate figures only); it is a
    change like the others, recorded with what it was and what it became, and never made by the account itself.
    A proposal cancels the account's earlier pending one.
    """
    refuse_own(actor=actor, user=user, what="own membership", message=ERROR_OWN_MEMBERSHIP)
    Membership(organisation=organisation, role=role, province=province).full_clean(exclude=["user"],
                                                                                   validate_unique=False)
    with transaction.atomic():
        _lock_account(user.pk)
        membership = _membership_of(user)
        if (membership is not None and not membership.suspended and membership.organisation_id == organisation.pk
                and membership.role == role and membership.province == province):
            raise ValidationError(ERROR_NOTHING_TO_CHANGE, code="nothing_to_change")
        _cancel_pending(user=user, actor=actor, reason=REASON_SUPERSEDED)
        at_once = role not in CONFIRMED_ROLES
        change = _change_create(
            user=user, membership=membership, organisation=organisation, role=role, province=province,
            kind=MembershipChangeKind.PROPOSAL,
            status=MembershipChangeStatus.APPLIED if at_once else MembershipChangeStatus.PENDING,
            actor=actor, reason=REASON_APPLIED if at_once else REASON_PROPOSED,
        )
        if at_once:
            _apply(change, membership)
    return change


def membership_change_decide(*, actor, change_id: int, confirm: bool) -> MembershipChange:
    """Confirm (and apply) or reject a pending change.

    Locked: two people deciding at once leave one decision, and the second is told. Who may decide is
    ``selectors.confirmer_role``; never the account itself, never the one who proposed it.
    """
    with transaction.atomic():
        change = _lock_change(change_id)
        if change.status != MembershipChangeStatus.PENDING:
            raise ValidationError(ERROR_NOT_PENDING, code="not_pending")
        refusal = _decision_refusal(actor=actor, change=change)
        if refusal is None:
            change.status = MembershipChangeStatus.CONFIRMED if confirm else MembershipChangeStatus.REJECTED
            _change_decided(change, actor=actor, reason=REASON_CONFIRMED if confirm else REASON_REJECTED)
            if confirm:
                _apply(change, _membership_of(change.user))
            return change
    # Outside the transaction, so that the refusal stays in the trail.
    what, message = refusal
    _refuse(actor=actor, user=change.user, what=what, message=message)


def membership_change_cancel(*, actor, change_id: int) -> MembershipChange:
    """An administrator withdraws a pending change (their own proposal or another's). It grants nothing."""
    with transaction.atomic():
        change = _lock_change(change_id)
        if change.status != MembershipChangeStatus.PENDING:
            raise ValidationError(ERROR_NOT_PENDING, code="not_pending")
        if actor is None or actor.pk != change.user_id:
            change.status = MembershipChangeStatus.CANCELLED
            _change_decided(change, actor=actor, reason=REASON_CANCELLED)
            return change
    _refuse(actor=actor, user=change.user, what="own membership change", message=ERROR_OWN_CHANGE)


def membership_remove(*, actor, membership: Membership) -> MembershipChange | None:
    """Detach the account from its organisation, at once (it grants nothing): it can no longer sign in."""
    user = membership.user
    refuse_own(actor=actor, user=user, what="own membership", message=ERROR_OWN_MEMBERSHIP)
    with transaction.atomic():
        _lock_account(user.pk)
        membership = _membership_of(user)
        if membership is None:
            return None  # removed a moment ago
        _cancel_pending(user=user, actor=actor, reason=REASON_SUPERSEDED)
        change = _change_create(user=user, membership=membership, organisation=None, role="",
                                kind=MembershipChangeKind.REMOVAL, status=MembershipChangeStatus.APPLIED,
                                actor=actor, reason=REASON_REMOVED)
        _apply(change, membership)
    return change


def user_deactivate(*, actor, user) -> None:
    refuse_own(actor=actor, user=user, what="own account deactivation", message=ERROR_OWN_DEACTIVATION)
    with transaction.atomic():
        _lock_account(user.pk)
        user.is_active = False
        user.save(update_fields=["is_active"])
        audit.record(actor=actor, action=AuditAction.CHANGE, object_type="auth.user", object_id=user.pk,
                     fields=["is_active"])
        _end_sessions(user)


@transaction.atomic
def otp_device_for_enrolment(*, user, name: str) -> TOTPDevice:
    """The user's authenticator being enrolled, made on first use: one, even from two pages opened at once."""
    locks.hold(locks.OTP_ENROLMENT, user.pk)
    device, _created = TOTPDevice.objects.get_or_create(user=user, confirmed=False, defaults={"name": name})
    return device


@transaction.atomic
def user_sessions_end(*, user) -> None:
    """The account's open sessions end at their next request (after a change made through a form)."""
    _lock_account(user.pk)
    _end_sessions(user)


def user_reset_second_factor(*, actor, user) -> int:
    """Remove the user's TOTP devices: they enrol again at their next sign-in.

    An account with a confirmed role waits for a second person to confirm it again first: otherwise the
    administrator who reset it (and set its password) could enrol their own phone and sign in as that person.
    """
    refuse_own(actor=actor, user=user, what="own second factor", message=ERROR_OWN_SECOND_FACTOR)
    with transaction.atomic():
        _lock_account(user.pk)
        count, _ = TOTPDevice.objects.filter(user=user).delete()
        audit.record(actor=actor, action=AuditAction.OTP_RESET, object_type="auth.user", object_id=user.pk)
        _credentials_reset(actor=actor, user=user, kind=MembershipChangeKind.SECOND_FACTOR_RESET)
    return count


def user_password_set(*, actor, user) -> None:
    """An administrator set ``user``'s password (the form saved it): as after a second-factor reset."""
    refuse_own(actor=actor, user=user, what="own password", message=ERROR_OWN_PASSWORD)
    with transaction.atomic():
        _lock_account(user.pk)
        audit.record(actor=actor, action=AuditAction.PASSWORD_CHANGED, object_type="auth.user", object_id=user.pk,
                     reason="set by an administrator")
        _credentials_reset(actor=actor, user=user, kind=MembershipChangeKind.PASSWORD_SET)


def refuse_own(*, actor, user, what: str, message) -> None:
    """Refuse (audited, as a ValidationError with ``message``) when ``actor`` acts on their own account."""
    if actor is not None and actor.pk == user.pk:
        _refuse(actor=actor, user=user, what=what, message=message)


def _refuse(*, actor, user, what: str, message) -> NoReturn:
    current = audit.current_actor()  # a request's: with its address
    who = current if actor is None or current.user_id == actor.pk else audit.Actor.from_user(actor)
    audit.record(action=AuditAction.ACCESS_DENIED, actor=who, object_type="auth.user", object_id=user.pk,
                 reason=f"separation of duties: {what}")
    raise ValidationError(message, code="separation_of_duties")


def _decision_refusal(*, actor, change: MembershipChange) -> tuple[str, str] | None:
    """Why ``actor`` may not decide ``change``, or None. The system (a management command) always may."""
    if actor is None:
        return None
    if actor.pk == change.user_id:
        return "own membership change", ERROR_OWN_CHANGE
    if actor.pk == change.proposed_by_id:
        return "own proposal", ERROR_PROPOSER
    role = access.role_of(actor)
    verified = getattr(actor, "is_verified", None)
    verified = verified is not None and verified()
    if selectors.confirmer_role(change) == Role.CENTRE_MANAGER:
        if (verified and role == Role.CENTRE_MANAGER
                and access.organisation_of(actor).pk == change.to_organisation_id):
            return None
        return "not a manager of the organisation", ERROR_NEEDS_MANAGER % {"organisation": change.to_organisation}
    if verified and role == Role.SYSTEM_ADMINISTRATOR:
        return None
    return "needs a second administrator", ERROR_NEEDS_ADMINISTRATOR


def _lock_account(user_id: int) -> None:
    """Every write of a membership first locks the account's row: they run one at a time per account."""
    User.objects.select_for_update().filter(pk=user_id).values_list("pk", flat=True).first()


def _lock_change(change_id: int) -> MembershipChange:
    user_id = MembershipChange.objects.filter(pk=change_id).values_list("user_id", flat=True).first()
    if user_id is None:
        raise ValidationError(ERROR_NOT_PENDING, code="not_pending")
    _lock_account(user_id)
    return MembershipChange.objects.select_for_update().get(pk=change_id)


def _membership_of(user) -> Membership | None:
    return Membership.objects.filter(user=user).select_related("organisation").first()


def _change_create(*, user, membership: Membership | None, organisation: Organisation | None, role: str, kind: str,
                   status: str, actor, reason: str, province: str = "") -> MembershipChange:
    now = timezone.now()
    change = MembershipChange(
        user=user,
        from_organisation=membership.organisation if membership else None,
        from_role=membership.role if membership else "",
        from_province=membership.province if membership else "",
        to_organisation=organisation, to_role=role, to_province=province, kind=kind, status=status,
        proposed_by=actor, proposed_at=now, decided_at=now if status == MembershipChangeStatus.APPLIED else None,
    )
    change.save(force_insert=True)
    fields = [name for name, before, after in (
        ("organisation", change.from_organisation_id, change.to_organisation_id),
        ("role", change.from_role, change.to_role),
        ("province", change.from_province, change.to_province)) if before != after]
    audit.record(actor=actor, action=AuditAction.CREATE, object_type=CHANGE_TYPE, object_id=change.pk, fields=fields,
                 reason=reason)
    return change


def _change_decided(change: MembershipChange, *, actor, reason: str) -> None:
    change.decided_by = actor
    change.decided_at = timezone.now()
    change.save(update_fields=["status", "decided_by", "decided_at"])
    audit.record(actor=actor, action=AuditAction.CHANGE, object_type=CHANGE_TYPE, object_id=change.pk,
                 fields=["status"], reason=reason)


def _cancel_pending(*, user, actor, reason: str) -> None:
    for change in MembershipChange.objects.filter(user=user, status=MembershipChangeStatus.PENDING):
        change.status = MembershipChangeStatus.CANCELLED
        _change_decided(change, actor=actor, reason=reason)


def _apply(change: MembershipChange, membership: Membership | None) -> Membership | None:
    """Make ``change`` the membership in effect: the role and staff groups follow, open sessions end."""
    user = change.user
    role_groups = Group.objects.filter(name__in=Role.values)
    if change.to_organisation is None:
        if membership is not None:
            user.groups.remove(*role_groups, membership.organisation.staff_group_id)
            membership.delete()
            user.membership = None
        return None
    organisation = change.to_organisation
    previous_group_id = membership.organisation.staff_group_id if membership else None
    if membership is None:
        membership = Membership(user=user)
    membership.organisation = organisation
    membership.role = change.to_role
    membership.province = change.to_province
    membership.suspended = False
    membership.generation += 1
    membership.full_clean()
    membership.save()
    user.groups.remove(*role_groups)
    if previous_group_id is not None and previous_group_id != organisation.staff_group_id:
        user.groups.remove(previous_group_id)
    user.groups.add(Group.objects.get(name=change.to_role), organisation.staff_group)
    user.membership = membership
    return membership


def _credentials_reset(*, actor, user, kind: str) -> None:
    """Sessions end; a confirmed role is suspended until a second person confirms it again."""
    membership = _membership_of(user)
    if membership is None:
        return
    if membership.role in CONFIRMED_ROLES:
        _cancel_pending(user=user, actor=actor, reason=REASON_SUPERSEDED)
        _change_create(user=user, membership=membership, organisation=membership.organisation,
                       role=membership.role, province=membership.province, kind=kind,
                       status=MembershipChangeStatus.PENDING, actor=actor, reason=REASON_CONFIRM_AGAIN)
        membership.suspended = True
    membership.generation += 1
    membership.save(update_fields=["suspended", "generation"])


def _end_sessions(user) -> None:
    Membership.objects.filter(user=user).update(generation=F("generation") + 1)


def subject_erase(*, subject_id: uuid.UUID, reason: str, actor=None) -> bool:
    """Crypto-shred a subject: destroy its data key, so its encrypted values are gone for good.

    Coded, unencrypted columns stay for statistics. Returns False if it was already erased.
    """
    if not reason.strip():
        raise ValueError("An erasure needs a reason.")
    from casemgmt.signals import subject_erased

    with transaction.atomic():
        destroyed = crypto.destroy_data_key(subject_id)
        _clear_blind_indexes(subject_id)
        audit.record(actor=actor, action=AuditAction.SUBJECT_ERASED, object_type="casemgmt.datakey",
                     object_id=subject_id, client_id=subject_id, reason=reason)
        subject_erased.send(sender=None, subject_id=subject_id)
    return destroyed


def _clear_blind_indexes(subject_id: uuid.UUID) -> None:
    """An erased subject's index values could still confirm a guessed name or phone: remove them."""
    from casemgmt.fields import BlindIndexField, encrypted_models

    for model, fields in encrypted_models():
        indexes = [f.attname for f in fields if isinstance(f, BlindIndexField)]
        if indexes:
            subject_attr = getattr(model, "encryption_subject", "pk")
            model._base_manager.filter(**{subject_attr: subject_id}).update(**dict.fromkeys(indexes))
