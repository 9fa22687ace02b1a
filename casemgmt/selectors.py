"""Viewer-scoped reads of the platform."""

from __future__ import annotations

import datetime

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from casemgmt.models import AuditAction, AuditEvent, DataKey, Organisation


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
