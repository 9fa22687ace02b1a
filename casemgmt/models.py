"""Platform models: organisations, memberships, the audit trail, data keys."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from casemgmt.roles import ROLE_ORGANISATION_KINDS, OrganisationKind, Province, Role


class Organisation(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(_("name"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=32, choices=OrganisationKind.choices)
    province = models.CharField(_("province"), max_length=8, choices=Province.choices)
    active = models.BooleanField(_("active"), default=True)
    # The organisation's staff group: object permissions granted to the whole organisation.
    staff_group = models.OneToOneField(Group, on_delete=models.PROTECT, related_name="organisation", editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """The organisation a user acts for, and the role they act in. One per user."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")

    def __str__(self) -> str:
        return f"{self.user} – {self.get_role_display()} – {self.organisation}"

    def clean(self) -> None:
        if self.organisation_id and self.role:
            allowed = ROLE_ORGANISATION_KINDS[self.role]
            if self.organisation.kind not in allowed:
                raise ValidationError(
                    {"role": _("A %(role)s cannot belong to a %(kind)s.")
                     % {"role": self.get_role_display(), "kind": self.organisation.get_kind_display()}}
                )


class AuditAction(models.TextChoices):
    SIGNIN = "signin", _("Signed in")
    SIGNIN_FAILED = "signin_failed", _("Sign-in failed")
    SIGNIN_REFUSED = "signin_refused", _("Sign-in refused")
    SIGNOUT = "signout", _("Signed out")
    LOCKOUT = "lockout", _("Locked out")
    SESSION_EXPIRED = "session_expired", _("Session expired")
    PASSWORD_CHANGED = "password_changed", _("Password changed")
    OTP_ENROLLED = "otp_enrolled", _("Two-factor enrolled")
    OTP_VERIFIED = "otp_verified", _("Two-factor verified")
    OTP_FAILED = "otp_failed", _("Two-factor failed")
    OTP_RESET = "otp_reset", _("Two-factor reset")
    ACCESS_DENIED = "access_denied", _("Access denied")
    CSRF_FAILURE = "csrf_failure", _("Forged or expired form")
    VIEW = "view", _("Viewed")
    CREATE = "create", _("Created")
    CHANGE = "change", _("Changed")
    DELETE = "delete", _("Deleted")
    PRINT = "print", _("Printed")
    EXPORT = "export", _("Exported")
    SEARCH = "search", _("Searched")
    BREAK_GLASS = "break_glass", _("Break-glass access")
    CONSENT_CHANGE = "consent_change", _("Consent changed")
    KEY_GENERATED = "key_generated", _("Keys generated")
    KEY_ROTATED = "key_rotated", _("Keys rotated")
    BLIND_INDEX_REBUILT = "blind_index_rebuilt", _("Blind indexes rebuilt")
    SUBJECT_ERASED = "subject_erased", _("Subject erased")
    RECORD_DAMAGED = "record_damaged", _("Record damaged")
    RECORD_WRITTEN = "record_written", _("Record written")
    ROWS_VERIFIED = "rows_verified", _("Records verified against the audit trail")
    AUDIT_VERIFIED = "audit_verified", _("Audit trail verification")


class AuditEvent(models.Model):
    """One entry of the append-only, hash-chained audit trail (DESIGN.md §5).

    Never the content of a record: field names, not values. Actor and
    organisation are copied as plain values so that deleting a user or an
    organisation never has to touch (UPDATE) the trail.
    """

    seq = models.BigIntegerField(unique=True, editable=False)
    occurred_at = models.DateTimeField(db_index=True, editable=False)
    actor_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    actor_username = models.CharField(max_length=150, blank=True)
    organisation_id = models.UUIDField(null=True, blank=True)
    role = models.CharField(max_length=32, choices=Role.choices, blank=True)
    action = models.CharField(max_length=32, choices=AuditAction.choices, db_index=True)
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=64, blank=True, db_index=True)
    client_id = models.UUIDField(null=True, blank=True, db_index=True)
    fields = models.JSONField(default=list, blank=True)
    reason = models.TextField(blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    # Rows written by the action, each [model label, primary key, version, keyed digest] (casemgmt.integrity).
    rows = models.JSONField(default=list, blank=True, editable=False)
    prev_hash = models.CharField(max_length=64, editable=False)
    hash = models.CharField(max_length=64, editable=False)

    class Meta:
        ordering = ["-seq"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")

    def __str__(self) -> str:
        return f"#{self.seq} {self.action}"


class DataKey(models.Model):
    """A subject's data-encryption key, stored only wrapped by a key-encryption key.

    Destroying it (crypto-shredding) makes every value encrypted under it unrecoverable.
    """

    subject_id = models.UUIDField(primary_key=True)
    wrapped_key = models.BinaryField(null=True, editable=False)
    kek_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    rotated_at = models.DateTimeField(null=True, blank=True)
    destroyed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("data key")
        verbose_name_plural = _("data keys")
        # Which KEKs are in use, and one key under each (the start-up checks). A plain index:
        # db_index=True would add a second, pattern-matching one on PostgreSQL that no query uses
        # and that every new data key and every rotation would also have to write.
        indexes = [models.Index(fields=["kek_id"], name="datakey_kek")]

    def __str__(self) -> str:
        return f"data key {self.subject_id}"
