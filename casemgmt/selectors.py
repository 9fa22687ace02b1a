"""Viewer-scoped reads of the platform."""

from __future__ import annotations

import datetime

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from casemgmt import access
from casemgmt.models import (
    AuditAction,
    AuditEvent,
    DataKey,
    Membership,
    MembershipChange,
    MembershipChangeStatus,
    Organisation,
)
from casemgmt.roles import MANAGER_CONFIRMED_ROLES, Role


def audit_events_filtered(
    *, username: str = "", action: str = "", since: datetime.date | None = None,
    until: datetime.date | None = None, obj: str = "",
) -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.order_by("-seq")
    if username:
        events = events.filter(actor_username__iexact=username)
    if action:
        events = events.filter(action=action)
    tz = timezone.get_current_timezone()
    if since:
        events = events.filter(occurred_at__gte=datetime.datetime.combine(since, datetime.time.min, tz))
    if until:
        events = events.filter(occurred_at__lt=datetime.datetime.combine(until + datetime.timedelta(days=1),
                                                                          datetime.time.min, tz))
    if obj:
        matches = Q(object_type__iexact=obj) | Q(object_id__iexact=obj)
        if _is_uuid(obj):
            matches |= Q(client_id=obj)
        events = events.filter(matches)
    return events


def last_audit_verification() -> AuditEvent | None:
    """The latest verification of the trail (from the page or ``verify_audit``): its event holds the outcome."""
    return AuditEvent.objects.filter(action=AuditAction.AUDIT_VERIFIED).order_by("-seq").first()


def _is_uuid(value: str) -> bool:
    import uuid

    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def confirmed_device(*, user):
    """The user's enrolled authenticator, or None."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def organisation_names(ids) -> dict:
    return dict(Organisation.objects.filter(pk__in={i for i in ids if i}).values_list("pk", "name"))


def data_key_status() -> list[dict]:
    """Data keys per key-encryption key, for the key status page: counts, no key material."""
    return list(
        DataKey.objects.values("kek_id")
        .annotate(live=Count("pk", filter=Q(destroyed_at__isnull=True)),
                  destroyed=Count("pk", filter=Q(destroyed_at__isnull=False)))
        .order_by("kek_id")
    )


def membership_changes(*, organisation: Organisation | None = None) -> QuerySet[MembershipChange]:
    """Every membership change, newest first; with ``organisation``, those into or out of it."""
    changes = MembershipChange.objects.select_related(
        "user", "from_organisation", "to_organisation", "proposed_by", "decided_by")
    if organisation is not None:
        changes = changes.filter(Q(from_organisation=organisation) | Q(to_organisation=organisation))
    return changes.order_by("-proposed_at", "-pk")


def membership_changes_to_decide(*, user) -> QuerySet[MembershipChange]:
    """The pending changes a centre manager may confirm or reject: staff roles at their organisation, not
    their own account's."""
    if access.role_of(user) != Role.CENTRE_MANAGER:
        return MembershipChange.objects.none()
    return (
        membership_changes()
        .filter(status=MembershipChangeStatus.PENDING, to_organisation=access.organisation_of(user),
                to_role__in=MANAGER_CONFIRMED_ROLES)
        .exclude(user=user)
        .exclude(proposed_by=user)
    )


def access_membership_change(*, user, change_id) -> MembershipChange:
    """A change into the manager's organisation, or 404 (another organisation's look the same as none)."""
    organisation = access.organisation_of(user)
    change = None
    if organisation is not None:
        change = membership_changes().filter(pk=change_id, to_organisation=organisation).first()
    if change is None:
        raise Http404
    return change


def confirmer_role(change: MembershipChange) -> str:
    """Who confirms ``change``: a centre manager of the organisation for its staff roles, when it has one
    besides the account and the proposer; otherwise (first manager, referral officer, administrator) a
    system administrator other than the proposer."""
    if change.to_role in MANAGER_CONFIRMED_ROLES and other_managers_exist(
        organisation_id=change.to_organisation_id, excluding=(change.user_id, change.proposed_by_id),
    ):
        return Role.CENTRE_MANAGER
    return Role.SYSTEM_ADMINISTRATOR


def other_managers_exist(*, organisation_id, excluding=()) -> bool:
    return (
        Membership.objects.filter(organisation_id=organisation_id, organisation__active=True,
                                  role=Role.CENTRE_MANAGER, suspended=False, user__is_active=True)
        .exclude(user_id__in=[pk for pk in excluding if pk is not None])
        .exists()
    )


def awaiting_confirmation(user) -> bool:
    """The account has no role until a second person confirms one (new, or suspended after a reset)."""
    return (
        Membership.objects.filter(user=user, suspended=True).exists()
        or MembershipChange.objects.filter(user=user, status=MembershipChangeStatus.PENDING).exists()
    )
