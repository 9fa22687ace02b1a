"""The client's case file: identity, consent, screening, custody, caseload grants.

Identifiers and free text use the encrypted fields (docs/encryption.md): a dump of
these tables shows only UUIDs, codes and ciphertext. Coded values needed for
statistics (sex, birth year, province, population groups, substance and HIV
codes, dates of custody) stay in clear, linked only to the client's UUID.
"""

from __future__ import annotations

import functools
import uuid

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone, translation
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from casemgmt.fields import (
    BlindIndexField,
    EncryptedCharField,
    EncryptedDateField,
    EncryptedJSONField,
    EncryptedManager,
    EncryptedTextField,
)
from casemgmt.models import Organisation
from casemgmt.roles import Province
from casemgmt.text import multiline_text, plain_text
from casemgmt.versioning import VersionedModel
from clients.validators import not_in_future, valid_phone


class Sex(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")
    OTHER = "X", _("Other or not stated")


class ClientStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    INACTIVE = "inactive", _("Inactive")
    TRANSFERRED = "transferred", _("Transferred")
    DECEASED = "deceased", _("Deceased")
    ERASED = "erased", _("Erased")


class PopulationGroup(models.TextChoices):
    PWID = "pwid", _("People who inject drugs")
    PWUD = "pwud", _("People who use drugs without injecting")
    PRISONER = "prisoner", _("Prisoner or detainee")
    SEX_WORKER = "sex_worker", _("Sex worker")
    MSM = "msm", _("Men who have sex with men")
    TRANSGENDER = "transgender", _("Transgender person")
    OTHER = "other", _("Other")


# One bit per group, fixed for good: stored values depend on it. Add new groups with new bits; never renumber.
POPULATION_GROUP_BITS = {
    PopulationGroup.PWID: 1 << 0,
    PopulationGroup.PWUD: 1 << 1,
    PopulationGroup.PRISONER: 1 << 2,
    PopulationGroup.SEX_WORKER: 1 << 3,
    PopulationGroup.MSM: 1 << 4,
    PopulationGroup.TRANSGENDER: 1 << 5,
    PopulationGroup.OTHER: 1 << 6,
}


class PopulationGroupsField(models.Field):
    """A client's population groups: a tuple of ``PopulationGroup`` codes, stored as one small integer.

    A bit per group keeps the caseload filter a test on a column of the client row, which the caseload
    index carries (``population_groups__has="pwid"``), instead of a join that must count every row of a
    centre. Coded, in clear, for statistics (docs/encryption.md).
    """

    empty_strings_allowed = False

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("default", ())
        super().__init__(*args, **kwargs)

    def get_internal_type(self) -> str:
        return "PositiveSmallIntegerField"

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if kwargs.get("default") == ():
            del kwargs["default"]
        return name, path, args, kwargs

    @staticmethod
    def to_codes(bits: int) -> tuple[str, ...]:
        return tuple(code for code, bit in POPULATION_GROUP_BITS.items() if bits & bit)

    @staticmethod
    def to_bits(codes) -> int:
        if isinstance(codes, int):
            return codes
        if isinstance(codes, str):  # as value_to_string() writes it: "pwid,prisoner"
            codes = [code for code in codes.split(",") if code]
        bits = 0
        for code in codes or ():
            if code not in POPULATION_GROUP_BITS:
                raise ValidationError(_("%(value)s is not a population group."), params={"value": code},
                                      code="invalid_choice")
            bits |= POPULATION_GROUP_BITS[code]
        return bits

    def from_db_value(self, value, expression, connection):
        return None if value is None else self.to_codes(value)

    def to_python(self, value):
        if value is None:
            return value
        return self.to_codes(self.to_bits(value))

    def get_prep_value(self, value):
        if value is None:
            return None
        return self.to_bits(value)

    def value_to_string(self, obj):
        return ",".join(self.value_from_object(obj) or ())

    def formfield(self, **kwargs):
        return forms.MultipleChoiceField(choices=PopulationGroup.choices, required=not self.blank,
                                         label=capfirst(self.verbose_name), **kwargs)


@PopulationGroupsField.register_lookup
class HasPopulationGroup(models.Lookup):
    """``population_groups__has="pwid"``: clients in that group."""

    lookup_name = "has"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        if self.rhs not in POPULATION_GROUP_BITS:
            raise ValueError(f"Unknown population group {self.rhs!r}.")
        lhs, params = compiler.compile(self.lhs)
        return f"({lhs} & %s) <> 0", [*params, POPULATION_GROUP_BITS[self.rhs]]


class RiskLevel(models.TextChoices):
    LOW = "low", _("Low")
    MODERATE = "moderate", _("Moderate")
    HIGH = "high", _("High")


@functools.lru_cache(maxsize=1024)
def _label_in(choices: type[models.TextChoices], value: str, language: str | None) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value or ""


def _choice_label(choices: type[models.TextChoices], value: str) -> str:
    """A coded value's label in the active language, translated once per process and language."""
    return _label_in(choices, value, translation.get_language())


class Client(VersionedModel):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Encrypted identity
    given_name = EncryptedCharField(_("given name"), max_length=100, validators=[plain_text])
    family_name = EncryptedCharField(_("family name"), max_length=100, validators=[plain_text])
    other_names = EncryptedCharField(_("other names or aliases"), max_length=200, blank=True, default="",
                                     validators=[plain_text])
    date_of_birth = EncryptedDateField(_("date of birth"), validators=[not_in_future])
    phone = EncryptedCharField(_("phone"), max_length=32, blank=True, null=True, validators=[plain_text, valid_phone])
    village = EncryptedCharField(_("village"), max_length=100, blank=True, default="", validators=[plain_text])
    commune = EncryptedCharField(_("commune"), max_length=100, blank=True, default="", validators=[plain_text])
    district = EncryptedCharField(_("district"), max_length=100, blank=True, default="", validators=[plain_text])
    national_id = EncryptedCharField(_("national ID"), max_length=32, blank=True, null=True, validators=[plain_text])
    mother_first_name = EncryptedCharField(_("mother's first name"), max_length=100, validators=[plain_text])
    father_first_name = EncryptedCharField(_("father's first name"), max_length=100, validators=[plain_text])
    uic = EncryptedCharField(_("UIC"), max_length=32, editable=False)
    # In clear, for statistics and scoping
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    birth_year = models.PositiveSmallIntegerField(_("birth year"), editable=False)
    province = models.CharField(_("province"), max_length=8, choices=Province.choices)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="clients",
                                     verbose_name=_("organisation"))
    registered_by_organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+",
                                                   editable=False)
    status = models.CharField(_("status"), max_length=16, choices=ClientStatus.choices, default=ClientStatus.ACTIVE)
    counsellor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="caseload", verbose_name=_("counsellor"))
    risk_level = models.CharField(_("risk level"), max_length=16, choices=RiskLevel.choices, blank=True)
    population_groups = PopulationGroupsField(_("population groups"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_activity_at = models.DateTimeField(default=timezone.now, db_index=True)
    # Blind indexes: identity resolution only
    uic_index = BlindIndexField(sources=["uic"], normalisers=["id_number"])
    name_index = BlindIndexField(sources=["family_name", "given_name"], normalisers=["name", "name"])
    family_dob_index = BlindIndexField(sources=["family_name", "date_of_birth"], normalisers=["name", "date"])
    phone_index = BlindIndexField(sources=["phone"], normalisers=["phone"])
    national_id_index = BlindIndexField(sources=["national_id"], normalisers=["id_number"])

    objects = EncryptedManager()

    class Meta:
        verbose_name = _("client")
        verbose_name_plural = _("clients")
        indexes = [
            # A centre's caseload in order of activity; on PostgreSQL the filter columns ride along, so that
            # counting a filtered caseload of a large centre reads the index only.
            models.Index(fields=["organisation", "-last_activity_at"], name="client_org_activity",
                         include=["status", "risk_level", "population_groups"]),
            # Counting it (the page count, with or without filters): keys repeat, so PostgreSQL stores each
            # once with its rows, and a centre of 50,000 clients takes a few pages (a third of the time of
            # counting on the index above). Erased and transferred records are not part of a caseload.
            models.Index(fields=["organisation", "status", "risk_level", "population_groups"],
                         name="client_org_counts",
                         condition=~models.Q(status__in=[ClientStatus.ERASED, ClientStatus.TRANSFERRED])),
            models.Index(fields=["counsellor", "-last_activity_at"], name="client_counsellor_activity"),
        ]

    def __str__(self) -> str:
        return f"client {self.pk}"  # never a name: str() ends up in logs and admin messages

    # Labels for lists: one lookup each, where get_FOO_display() rebuilds a dict of every choice per call.
    @property
    def status_label(self) -> str:
        return _choice_label(ClientStatus, self.status)

    @property
    def risk_level_label(self) -> str:
        return _choice_label(RiskLevel, self.risk_level)

    @property
    def population_group_labels(self) -> list[str]:
        return [_choice_label(PopulationGroup, code) for code in self.population_groups or ()]

    @property
    def initials(self) -> str:
        from casemgmt.fields import ERASED

        if self.given_name is ERASED:
            return "–"
        return "".join(part[:1].upper() for part in (self.family_name, self.given_name) if part)


class ClientUserObjectPermission(UserObjectPermissionBase):
    """A counsellor's caseload: direct foreign key, so the grant lookup uses the index."""

    content_object = models.ForeignKey(Client, on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        indexes = [models.Index(fields=["user", "permission", "content_object"], name="client_uperm_lookup")]


class ClientGroupObjectPermission(GroupObjectPermissionBase):
    """A centre's staff group holds the centre's clients."""

    content_object = models.ForeignKey(Client, on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        indexes = [models.Index(fields=["group", "permission", "content_object"], name="client_gperm_lookup")]


class ConsentKind(models.TextChoices):
    TREATMENT = "treatment", _("Treatment and data processing")
    SHARING = "sharing", _("Sharing with a partner organisation")


class ConsentMethod(models.TextChoices):
    SIGNED = "signed", _("Signed")
    VERBAL = "verbal", _("Verbal, with a witness")
    THUMBPRINT = "thumbprint", _("Thumbprint")


class ShareCategory(models.TextChoices):
    IDENTITY = "identity", _("Identity")
    CONTACT = "contact", _("Contact details")
    HIV_STATUS = "hiv_status", _("HIV status")
    TREATMENT = "treatment", _("Treatment information")


class ConsentWording(models.Model):
    """The exact text read to a client before they give a consent: one per kind and language, in numbered versions.

    Not client data (every client hears the same text), so system administrators publish it in the administration
    site. A version that a consent records is never edited again (clients.services refuses it, and so does the
    administration site): a change of wording is a new version. The sharing text names no partner and no category:
    the consent itself holds them, and the text says so."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("kind"), max_length=16, choices=ConsentKind.choices)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    version = models.PositiveSmallIntegerField(_("version"), editable=False)
    text = models.TextField(_("text"), validators=[multiline_text])
    published_on = models.DateField(_("in use from"), default=timezone.localdate)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "language", "-version"]
        verbose_name = _("consent wording")
        verbose_name_plural = _("consent wordings")
        constraints = [models.UniqueConstraint(fields=["kind", "language", "version"],
                                               name="consent_wording_one_text_per_version")]

    def __str__(self) -> str:
        return f"{self.kind} {self.language} v{self.version}"


class Consent(VersionedModel):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="consents")
    kind = models.CharField(_("kind"), max_length=16, choices=ConsentKind.choices)
    partner = models.ForeignKey(Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                verbose_name=_("partner organisation"))
    purpose = EncryptedTextField(_("purpose"), blank=True, default="", validators=[multiline_text])
    categories = models.JSONField(_("categories of information"), default=list, blank=True)
    given_on = models.DateField(_("given on"), validators=[not_in_future])
    expires_on = models.DateField(_("expires on"), null=True, blank=True)
    method = models.CharField(_("how it was given"), max_length=16, choices=ConsentMethod.choices)
    witness_name = EncryptedCharField(_("witness"), max_length=200, blank=True, default="", validators=[plain_text])
    # The text read to the client and the language it was read in. Consents recorded before wordings existed
    # (migration 0008) have neither; every consent recorded since has both (clients.services.consent_record).
    wording = models.ForeignKey(ConsentWording, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="consents", verbose_name=_("wording read"))
    language = models.CharField(_("read in"), max_length=8, choices=settings.LANGUAGES, blank=True, default="")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)
    revoked_on = models.DateField(_("revoked on"), null=True, blank=True, validators=[not_in_future])
    revoke_reason = EncryptedTextField(_("reason for revoking"), blank=True, default="", validators=[multiline_text])

    encryption_subject = "client_id"
    objects = EncryptedManager()

    class Meta:
        ordering = ["-given_on", "-recorded_at"]
        verbose_name = _("consent")
        verbose_name_plural = _("consents")

    def __str__(self) -> str:
        return f"consent {self.pk}"

    def is_active(self, on) -> bool:
        return self.given_on <= on and self.revoked_on is None and (self.expires_on is None or self.expires_on >= on)


class HivStatus(models.TextChoices):
    NEVER_TESTED = "never_tested", _("Never tested")
    NEGATIVE = "negative", _("Negative")
    POSITIVE_NOT_ON_ART = "positive_no_art", _("Positive, not on treatment")
    POSITIVE_ON_ART = "positive_art", _("Positive, on ART")


class InfectionStatus(models.TextChoices):
    UNKNOWN = "unknown", _("Not known")
    NEGATIVE = "negative", _("Negative")
    POSITIVE = "positive", _("Positive")
    ON_TREATMENT = "on_treatment", _("Positive, on treatment")


class Route(models.TextChoices):
    INJECTING = "injecting", _("Injecting")
    SMOKING = "smoking", _("Smoking")
    INHALING = "inhaling", _("Inhaling or sniffing")
    ORAL = "oral", _("Swallowing")
    OTHER = "other", _("Other")


class MentalHealthFlag(models.TextChoices):
    DEPRESSION = "depression", _("Signs of depression")
    ANXIETY = "anxiety", _("Signs of anxiety")
    PSYCHOSIS = "psychosis", _("Signs of psychosis")
    SUICIDE_RISK = "suicide_risk", _("Thoughts of self-harm or suicide")


class Screening(VersionedModel):
    """A WHO ASSIST v3.0 screening with the intake questions.

    The answers are encrypted; the scores and risk levels derived from them are
    coded values, kept in clear for the caseload filters and the indicators.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="screenings")
    screened_on = models.DateField(_("screened on"), validators=[not_in_future])
    screened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    answers = EncryptedJSONField()
    results = models.JSONField(default=dict)  # coded: per-substance score, risk level, intervention
    highest_risk = models.CharField(max_length=16, choices=RiskLevel.choices, blank=True)
    injection_risk = models.CharField(max_length=16, blank=True)
    primary_substance = models.CharField(_("primary substance"), max_length=16, blank=True)
    route = models.CharField(_("route"), max_length=16, choices=Route.choices, blank=True)
    age_first_use = models.PositiveSmallIntegerField(_("age at first use"), null=True, blank=True)
    shares_equipment = models.BooleanField(_("shares injecting equipment"), default=False)
    hiv_status = models.CharField(_("HIV status"), max_length=16, choices=HivStatus.choices)
    hiv_tested_on = models.DateField(_("date of the negative test"), null=True, blank=True)
    tb_cough = models.BooleanField(_("cough for two weeks or more"), default=False)
    tb_fever = models.BooleanField(_("fever"), default=False)
    tb_night_sweats = models.BooleanField(_("night sweats"), default=False)
    tb_weight_loss = models.BooleanField(_("weight loss"), default=False)
    hepatitis_b = models.CharField(_("hepatitis B"), max_length=16, choices=InfectionStatus.choices,
                                   default=InfectionStatus.UNKNOWN)
    hepatitis_c = models.CharField(_("hepatitis C"), max_length=16, choices=InfectionStatus.choices,
                                   default=InfectionStatus.UNKNOWN)
    mental_health_flags = models.JSONField(_("mental health"), default=list, blank=True)
    notes = EncryptedTextField(_("notes"), blank=True, default="", validators=[multiline_text])
    created_at = models.DateTimeField(auto_now_add=True)

    encryption_subject = "client_id"
    objects = EncryptedManager()

    class Meta:
        ordering = ["-screened_on", "-created_at"]
        verbose_name = _("screening")
        verbose_name_plural = _("screenings")

    def __str__(self) -> str:
        return f"screening {self.pk}"

    @property
    def tb_symptoms(self) -> bool:
        return self.tb_cough or self.tb_fever or self.tb_night_sweats or self.tb_weight_loss


class CustodyEpisode(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="custody_episodes")
    facility = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="custody_episodes",
                                 verbose_name=_("facility"))
    admitted_on = models.DateField(_("admitted on"), validators=[not_in_future])
    expected_release_on = models.DateField(_("expected release"), null=True, blank=True)
    released_on = models.DateField(_("released on"), null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-admitted_on"]
        verbose_name = _("custody episode")
        verbose_name_plural = _("custody episodes")
        indexes = [models.Index(fields=["facility", "released_on", "expected_release_on"], name="custody_release")]

    def __str__(self) -> str:
        return f"custody episode {self.pk}"


class TransferStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested, waiting for a decision")
    COMPLETED = "completed", _("Completed")
    DECLINED = "declined", _("Declined")


class Transfer(models.Model):
    """A client's record moving from one organisation to another: asked for, or done by the holder.

    Both organisations see it in their transfer list; the old one loses access when it completes.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="transfers")
    from_organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    to_organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=16, choices=TransferStatus.choices, default=TransferStatus.REQUESTED)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(fields=["client", "to_organisation"], condition=models.Q(status="requested"),
                                    name="one_open_transfer_request"),
        ]

    def __str__(self) -> str:
        return f"transfer {self.pk}"
