"""Partner services (a small Open Referral HSDS 3.0 directory) and referrals to them.

The directory is not client data: a partner's services, hours and contacts, administered by the partner's
referral officers and by system administrators. A referral is a record of a client: its reason and the
partner's feedback are encrypted with the client's data key; its service, urgency, status and reason codes
stay in clear for statistics (DESIGN.md §3).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from casemgmt.fields import EncryptedManager, EncryptedTextField
from casemgmt.models import Organisation
from casemgmt.roles import OrganisationKind, Province
from casemgmt.text import multiline_text, plain_text
from casemgmt.versioning import VersionedModel
from clients.models import Client, Consent


class ServiceType(models.TextChoices):
    HIV_TESTING = "hiv_testing", _("HIV testing")
    ART = "art", _("ART initiation and continuation")
    PREP = "prep", _("PrEP")
    PEP = "pep", _("PEP")
    OAT = "oat", _("Methadone and other opioid agonist therapy")
    NSP = "nsp", _("Needle-syringe programme")
    NALOXONE = "naloxone", _("Naloxone")
    TB = "tb", _("TB screening and treatment")
    STI = "sti", _("STI care")
    HEPATITIS = "hepatitis", _("Hepatitis B and C testing and treatment")
    MENTAL_HEALTH = "mental_health", _("Mental health")
    LEGAL_AID = "legal_aid", _("Legal aid")
    HOUSING = "housing", _("Housing and shelter")
    VOCATIONAL = "vocational", _("Vocational training")
    FAMILY = "family", _("Family support")


class PartnerService(models.Model):
    """One service a partner offers at one place (HSDS: service, location, service_at_location, schedule,
    eligibility, cost, languages, contact, in one row)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="partner_services",
                                     verbose_name=_("partner organisation"),
                                     limit_choices_to={"kind": OrganisationKind.NGO_PARTNER})
    service_type = models.CharField(_("service"), max_length=24, choices=ServiceType.choices)
    description = models.TextField(_("description"), blank=True, default="", validators=[multiline_text])
    province = models.CharField(_("province"), max_length=8, choices=Province.choices)
    district = models.CharField(_("district"), max_length=100, blank=True, default="", validators=[plain_text])
    address = models.CharField(_("address"), max_length=200, blank=True, default="", validators=[plain_text])
    hours = models.CharField(_("opening hours"), max_length=200, blank=True, default="", validators=[plain_text])
    contact = models.CharField(_("contact"), max_length=200, blank=True, default="", validators=[plain_text])
    languages = models.CharField(_("languages"), max_length=200, blank=True, default="", validators=[plain_text])
    eligibility = models.TextField(_("eligibility"), blank=True, default="", validators=[multiline_text])
    cost = models.CharField(_("cost"), max_length=200, blank=True, default="", validators=[plain_text])
    accepting_referrals = models.BooleanField(_("accepting referrals now"), default=True)
    target_days = models.PositiveSmallIntegerField(_("target days to act on a referral"), default=7)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["organisation__name", "service_type"]
        verbose_name = _("partner service")
        verbose_name_plural = _("partner services")
        indexes = [models.Index(fields=["service_type", "province"], name="partner_service_search")]

    def __str__(self) -> str:
        return f"{self.get_service_type_display()} – {self.organisation}"


class Urgency(models.TextChoices):
    ROUTINE = "routine", _("Routine")
    URGENT = "urgent", _("Urgent")
    EMERGENCY = "emergency", _("Emergency")


class ReferralStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SENT = "sent", _("Sent")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    ATTENDED = "attended", _("Attended")
    NO_SHOW = "no_show", _("Did not attend")
    COMPLETED = "completed", _("Completed")
    CLOSED_UNRESOLVED = "closed_unresolved", _("Closed, unresolved")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_STATUSES = (ReferralStatus.DRAFT, ReferralStatus.SENT, ReferralStatus.ACCEPTED, ReferralStatus.ATTENDED)


class EndReason(models.TextChoices):
    COULD_NOT_CONTACT = "could_not_contact", _("Could not contact the client")
    NOT_ELIGIBLE = "not_eligible", _("Not eligible")
    NO_CAPACITY = "no_capacity", _("No capacity")
    CLIENT_DECLINED = "client_declined", _("The client declined")
    REFERRED_ELSEWHERE = "referred_elsewhere", _("Referred elsewhere")
    CONSENT_WITHDRAWN = "consent_withdrawn", _("Consent withdrawn")
    OTHER = "other", _("Other")


class Outcome(models.TextChoices):
    SERVICE_PROVIDED = "service_provided", _("Service provided")
    ONGOING = "ongoing", _("Enrolled, care ongoing")
    REFERRED_ON = "referred_on", _("Referred on to another service")


class Referral(VersionedModel):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="referrals")
    from_organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    counsellor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("counsellor"))
    to_organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="referrals_received",
                                        verbose_name=_("partner organisation"))
    service = models.ForeignKey(PartnerService, on_delete=models.PROTECT, related_name="referrals",
                                verbose_name=_("service"))
    urgency = models.CharField(_("urgency"), max_length=16, choices=Urgency.choices, default=Urgency.ROUTINE)
    reason = EncryptedTextField(_("reason for the referral"), validators=[multiline_text])
    shared_categories = models.JSONField(_("information shared"), default=list)
    consent = models.ForeignKey(Consent, on_delete=models.PROTECT, related_name="referrals",
                                verbose_name=_("consent"))
    due_on = models.DateField(_("due date"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=ReferralStatus.choices,
                              default=ReferralStatus.DRAFT)
    end_reason = models.CharField(_("reason"), max_length=24, choices=EndReason.choices, blank=True)
    outcome = models.CharField(_("outcome"), max_length=24, choices=Outcome.choices, blank=True)
    feedback = EncryptedTextField(_("feedback"), blank=True, default="", validators=[multiline_text])
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    acted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+")

    encryption_subject = "client_id"
    objects = EncryptedManager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        indexes = [models.Index(fields=["to_organisation", "status", "sent_at"], name="referral_inbox")]

    def __str__(self) -> str:
        return f"referral {self.pk}"

    @property
    def consent_withdrawn(self) -> bool:
        """The consent it rests on was revoked: the partner sees that and nothing else."""
        return self.consent.revoked_on is not None


class ReferralUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Referral, on_delete=models.CASCADE)


class ReferralGroupObjectPermission(GroupObjectPermissionBase):
    """A partner organisation's staff group holds the referrals sent to it."""

    content_object = models.ForeignKey(Referral, on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        indexes = [
            models.Index(fields=["group", "permission", "content_object"], name="referral_gperm_lookup"),
            # The partner's scope probes each candidate referral's grant (referrals.selectors._granted): from the
            # index alone.
            models.Index(fields=["content_object", "permission", "group"], name="referral_gperm_probe"),
        ]


class ReferralDigest(models.Model):
    """One day's overdue digest for one person (``manage.py send_referral_digest``). The row is claimed (inserted)
    before the e-mail goes out, so a second run on the same local day, or two runs at once, send nothing more: the
    unique constraint decides. A digest that could not be sent gives its claim back, for a later run to retry."""

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    day = models.DateField(_("day"))
    overdue = models.PositiveIntegerField(_("overdue referrals"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("referral digest")
        verbose_name_plural = _("referral digests")
        constraints = [models.UniqueConstraint(fields=["user", "day"], name="referral_digest_once_a_day")]

    def __str__(self) -> str:
        return f"referral digest {self.pk}"
