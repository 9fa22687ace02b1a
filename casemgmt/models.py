"""Platform models: organisations, memberships, the audit trail, data keys."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
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


ERROR_PROVINCE_NOT_REVIEWER = _("Only a MoH reviewer can be limited to one province: leave it empty for other roles.")


class Membership(models.Model):
    """The organisation a user acts for, and the role they act in. One per user.

    This is the membership in effect: a change waiting for confirmation lives in ``MembershipChange``
    until it is confirmed, and grants nothing before.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    # A MoH reviewer may be limited to the figures of one province (reports): set, like the role, only through a
    # membership change an administrator proposes (never by the account itself). Blank: the whole country.
    province = models.CharField(_("province limit"), max_length=8, choices=Province.choices, blank=True,
                                help_text=_("MoH reviewers only: the one province whose figures they see. "
                                            "Empty: the whole country."))
    # Set when an administrator reset the second factor or set the password of an account with a confirmed
    # role: the account has no role until a second person confirms it again (the administrator could
    # otherwise sign in as that person).
    suspended = models.BooleanField(_("waiting for confirmation again"), default=False)
    # Bumped whenever the role, the organisation or the sign-in credentials change: sessions signed in under
    # an older value end at their next request (casemgmt.middleware.MembershipChangedMiddleware).
    generation = models.PositiveIntegerField(default=0, editable=False)
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
        if self.province and self.role != Role.MOH_REVIEWER:
            raise ValidationError({"province": ERROR_PROVINCE_NOT_REVIEWER})


class MembershipChangeKind(models.TextChoices):
    PROPOSAL = "proposal", _("Proposed by an administrator")
    SECOND_FACTOR_RESET = "second_factor_reset", _("To confirm again after a second-factor reset")
    PASSWORD_SET = "password_set", _("To confirm again after a password set by an administrator")
    REMOVAL = "removal", _("Removed")
    BOOTSTRAP = "bootstrap", _("Set up by a management command")


class MembershipChangeStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for confirmation")
    CONFIRMED = "confirmed", _("Confirmed")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled")
    # Needed no confirmation: a role without client data, a removal, a management command.
    APPLIED = "applied", _("Took effect at once")


class MembershipChange(models.Model):
    """One change of a user's membership: what it was, what it becomes, who proposed and who decided.

    Roles and organisation ids are not personal data: they are kept here, and shown to the organisations'
    managers and to auditors; the audit trail names the change.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="membership_changes",
                             verbose_name=_("account"))
    from_organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, null=True, blank=True,
                                          related_name="+", verbose_name=_("organisation before"))
    from_role = models.CharField(_("role before"), max_length=32, choices=Role.choices, blank=True)
    # Indexed with the status below: the pending changes a centre's managers confirm.
    to_organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, null=True, blank=True,
                                        related_name="+", verbose_name=_("organisation after"), db_index=False)
    to_role = models.CharField(_("role after"), max_length=32, choices=Role.choices, blank=True)
    from_province = models.CharField(_("province limit before"), max_length=8, choices=Province.choices,
                                     blank=True)
    to_province = models.CharField(_("province limit after"), max_length=8, choices=Province.choices, blank=True)
    kind = models.CharField(_("kind"), max_length=32, choices=MembershipChangeKind.choices)
    status = models.CharField(_("status"), max_length=16, choices=MembershipChangeStatus.choices)
    # None: the system (a management command).
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name=_("proposed by"))
    proposed_at = models.DateTimeField(_("proposed at"), default=timezone.now)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("decided by"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        ordering = ["-proposed_at", "-pk"]
        verbose_name = _("membership change")
        verbose_name_plural = _("membership changes")
        constraints = [
            # A new proposal cancels the one before it: a pending change always starts from what is in effect.
            models.UniqueConstraint(fields=["user"], condition=models.Q(status="pending"),
                                    name="membershipchange_one_pending_per_user"),
        ]
        indexes = [models.Index(fields=["to_organisation", "status"], name="membershipchange_to_status")]

    def __str__(self) -> str:
        return f"{self.user} – {self.before_label()} → {self.after_label()}"

    def before_label(self) -> str:
        return _describe(self.from_role, self.from_organisation, self.from_province)

    def after_label(self) -> str:
        return _describe(self.to_role, self.to_organisation, self.to_province)


PROVINCE_ONLY = _("%(province)s only")


def _describe(role: str, organisation: Organisation | None, province: str = "") -> str:
    if not role or organisation is None:
        return str(_("no membership"))
    text = f"{Role(role).label} · {organisation}"
    if province:
        text += " · " + str(PROVINCE_ONLY % {"province": Province(province).label})
    return text


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
    """One entry of the append-only, hash-chained audit trail (docs/audit.md).

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
