"""Writes of the platform: organisations, memberships, accounts, erasure."""

from __future__ import annotations

import uuid

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from casemgmt import audit, crypto, locks
from casemgmt.models import AuditAction, Membership, Organisation
from casemgmt.roles import Role

User = get_user_model()


def _staff_group_name(organisation_id: uuid.UUID) -> str:
    return f"org:{organisation_id}"


@transaction.atomic
def organisation_create(*, name: str, kind: str, province: str, active: bool = True) -> Organisation:
    locks.hold(locks.ORGANISATION_NAME, name)
    organisation_id = uuid.uuid4()
    group = Group.objects.create(name=_staff_group_name(organisation_id))
    organisation = Organisation(id=organisation_id, name=name, kind=kind, province=province, active=active,
                                staff_group=group)
    organisation.full_clean()
    organisation.save(force_insert=True)
    audit.record(action=AuditAction.CREATE, object_type="casemgmt.organisation", object_id=organisation.pk)
    return organisation


@transaction.atomic
def organisation_update(*, organisation: Organisation, changed: list[str]) -> Organisation:
    locks.hold(locks.ORGANISATION_NAME, organisation.name)
    organisation.full_clean()
    organisation.save()
    audit.record(action=AuditAction.CHANGE, object_type="casemgmt.organisation", object_id=organisation.pk,
                 fields=changed)
    return organisation


@transaction.atomic
def membership_set(*, user, organisation: Organisation, role: str) -> Membership:
    """Attach ``user`` to ``organisation`` in ``role``: their role group and the organisation's staff group."""
    locks.hold(locks.MEMBERSHIP_USER, user.pk)  # a second one at once waits, then changes this one
    membership = Membership.objects.filter(user=user).select_related("organisation").first()
    previous_group = membership.organisation.staff_group if membership else None
    if membership is None:
        membership = Membership(user=user)
    membership.organisation = organisation
    membership.role = role
    membership.full_clean()
    membership.save()
    user.groups.remove(*Group.objects.filter(name__in=Role.values))
    if previous_group is not None and previous_group != organisation.staff_group:
        user.groups.remove(previous_group)
    user.groups.add(Group.objects.get(name=role), organisation.staff_group)
    audit.record(action=AuditAction.CHANGE, object_type="casemgmt.membership", object_id=membership.pk,
                 fields=["organisation", "role"])
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership) -> None:
    user = membership.user
    user.groups.remove(*Group.objects.filter(name__in=Role.values), membership.organisation.staff_group)
    audit.record(action=AuditAction.DELETE, object_type="casemgmt.membership", object_id=membership.pk)
    membership.delete()


@transaction.atomic
def user_deactivate(*, user) -> None:
    user.is_active = False
    user.save(update_fields=["is_active"])
    audit.record(action=AuditAction.CHANGE, object_type="auth.user", object_id=user.pk, fields=["is_active"])


@transaction.atomic
def otp_device_for_enrolment(*, user, name: str) -> TOTPDevice:
    """The user's authenticator being enrolled, made on first use: one, even from two pages opened at once."""
    locks.hold(locks.OTP_ENROLMENT, user.pk)
    device, _created = TOTPDevice.objects.get_or_create(user=user, confirmed=False, defaults={"name": name})
    return device


@transaction.atomic
def user_reset_second_factor(*, user) -> int:
    """Remove the user's TOTP devices: they enrol again at their next sign-in."""
    count, _ = TOTPDevice.objects.filter(user=user).delete()
    audit.record(action=AuditAction.OTP_RESET, object_type="auth.user", object_id=user.pk)
    return count


def subject_erase(*, subject_id: uuid.UUID, reason: str) -> bool:
    """Crypto-shred a subject: destroy its data key, so its encrypted values are gone for good.

    Coded, unencrypted columns stay for statistics. Returns False if it was already erased.
    """
    if not reason.strip():
        raise ValueError("An erasure needs a reason.")
    from casemgmt.signals import subject_erased

    with transaction.atomic():
        destroyed = crypto.destroy_data_key(subject_id)
        _clear_blind_indexes(subject_id)
        audit.record(action=AuditAction.SUBJECT_ERASED, object_type="casemgmt.datakey", object_id=subject_id,
                     client_id=subject_id, reason=reason)
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
