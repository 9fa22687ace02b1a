"""Partner services (a small Open Referral HSDS 3.0 directory) and referrals to them.

The directory is not client data: a partner's services, hours and contacts, administered by the partner's
referral officers and by system administrators. A referral is a record of a client: its reason and the
partner's feedback are encrypted with the client's data key; its service, urgency, status and reason codes
stay in clear for statistics (DESIGN.md §3).

The outcome a partner records is part of the referral row: coded results and dates in clear (the centre's
cascade counts them in one scan of one table, through the (from_organisation, sent_at) index), the ART
facility and number encrypted with the client's key. Which outcome fields a referral takes follows its
service (``OUTCOME_FIELDS``).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from casemgmt.fields import EncryptedCharField, EncryptedManager, EncryptedTextField
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


class HivTestResult(models.TextChoices):
    NON_REACTIVE = "non_reactive", _("Non-reactive")
    REACTIVE = "reactive", _("Reactive")
    INDETERMINATE = "indeterminate", _("Indeterminate")


class ConfirmatoryResult(models.TextChoices):
    POSITIVE = "positive", _("Confirmed positive")
    NEGATIVE = "negative", _("Not confirmed (negative)")
    INDETERMINATE = "indeterminate", _("Indeterminate")


class TbResult(models.TextChoices):
    NO_TB = "no_tb", _("No sign of TB")
    PRESUMPTIVE = "presumptive", _("Presumptive TB, sent for diagnosis")
    DIAGNOSED = "diagnosed", _("TB diagnosed")


class HepatitisResult(models.TextChoices):
    NEGATIVE = "negative", _("Negative")
    HBV = "hbv", _("Hepatitis B positive")
    HCV = "hcv", _("Hepatitis C positive")
    HBV_HCV = "hbv_hcv", _("Hepatitis B and C positive")


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
    # The outcome by service (OUTCOME_FIELDS): coded, in clear, but for the ART facility and number.
    hiv_tested_on = models.DateField(_("HIV test date"), null=True, blank=True)
    hiv_result = models.CharField(_("HIV test result"), max_length=16, choices=HivTestResult.choices, blank=True)
    hiv_confirmatory_result = models.CharField(_("confirmatory test result"), max_length=16,
                                               choices=ConfirmatoryResult.choices, blank=True)
    art_initiated_on = models.DateField(_("ART initiated on"), null=True, blank=True)
    # NULL until recorded: no ciphertext of nothing on every referral, none to open again on every transition.
    art_facility = EncryptedCharField(_("ART facility"), max_length=200, blank=True, null=True,
                                      validators=[plain_text])
    art_number = EncryptedCharField(_("ART number"), max_length=40, blank=True, null=True, validators=[plain_text])
    prep_started_on = models.DateField(_("PrEP started on"), null=True, blank=True)
    oat_enrolled_on = models.DateField(_("enrolled in opioid agonist therapy on"), null=True, blank=True)
    tb_screened_on = models.DateField(_("TB screening date"), null=True, blank=True)
    tb_result = models.CharField(_("TB screening result"), max_length=16, choices=TbResult.choices, blank=True)
    tb_treatment_started_on = models.DateField(_("TB treatment started on"), null=True, blank=True)
    hepatitis_tested_on = models.DateField(_("hepatitis test date"), null=True, blank=True)
    hepatitis_result = models.CharField(_("hepatitis test result"), max_length=16, choices=HepatitisResult.choices,
                                        blank=True)
    hepatitis_treated_on = models.DateField(_("hepatitis treatment started on"), null=True, blank=True)
    # The reintegration milestone this referral serves (plans never import referrals: plans.links).
    milestone = models.ForeignKey("plans.Milestone", on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="+", verbose_name=_("reintegration milestone"))
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
        indexes = [models.Index(fields=["to_organisation", "status", "sent_at"], name="referral_inbox"),
                   # The centre's cascade counts a period's referrals from this index alone (PostgreSQL; elsewhere
                   # the columns included are left out).
                   models.Index(fields=["from_organisation", "sent_at"], name="referral_cascade",
                                include=["service", "status", "end_reason", "accepted_at", "hiv_result",
                                         "hiv_confirmatory_result", "hiv_tested_on", "art_initiated_on"])]

    def __str__(self) -> str:
        return f"referral {self.pk}"

    @property
    def consent_withdrawn(self) -> bool:
        """The consent it rests on was revoked: the partner sees that and nothing else."""
        return self.consent.revoked_on is not None


# Which outcome fields a referral of each service takes; every other service: the generic ``Outcome`` only.
HIV_TEST_FIELDS = ("hiv_tested_on", "hiv_result", "hiv_confirmatory_result")
ART_FIELDS = ("art_initiated_on", "art_facility", "art_number")
OUTCOME_FIELDS = {
    ServiceType.HIV_TESTING: (*HIV_TEST_FIELDS, *ART_FIELDS),
    ServiceType.ART: ART_FIELDS,
    ServiceType.PREP: ("prep_started_on",),
    ServiceType.OAT: ("oat_enrolled_on",),
    ServiceType.TB: ("tb_screened_on", "tb_result", "tb_treatment_started_on"),
    ServiceType.HEPATITIS: ("hepatitis_tested_on", "hepatitis_result", "hepatitis_treated_on"),
}
ALL_OUTCOME_FIELDS = tuple(dict.fromkeys(name for names in OUTCOME_FIELDS.values() for name in names))
NEGATIVE_ENDS = (ReferralStatus.DECLINED, ReferralStatus.NO_SHOW, ReferralStatus.CLOSED_UNRESOLVED,
                 ReferralStatus.CANCELLED)


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
