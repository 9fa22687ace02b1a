"""The roles (docs/access.md). Each is a Django group of the same name."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    COUNSELLOR = "counsellor", _("Counsellor")
    CENTRE_MANAGER = "centre_manager", _("Centre manager")
    REFERRAL_OFFICER = "referral_officer", _("Referral officer")
    MOH_REVIEWER = "moh_reviewer", _("MoH reviewer")
    AUDITOR = "auditor", _("Auditor")
    SYSTEM_ADMINISTRATOR = "system_administrator", _("System administrator")


class OrganisationKind(models.TextChoices):
    TREATMENT_CENTRE = "treatment_centre", _("Treatment centre")
    PRISON_HEALTH_UNIT = "prison_health_unit", _("Prison health unit")
    NGO_PARTNER = "ngo_partner", _("NGO partner")
    MINISTRY = "ministry", _("Ministry")


CARE_KINDS = frozenset({OrganisationKind.TREATMENT_CENTRE, OrganisationKind.PRISON_HEALTH_UNIT})

# The roles that work on client case files (see clients.selectors for which clients).
CARE_STAFF = frozenset({Role.COUNSELLOR, Role.CENTRE_MANAGER})

# Which organisation kinds a role may belong to.
ROLE_ORGANISATION_KINDS: dict[str, frozenset[str]] = {
    Role.COUNSELLOR: CARE_KINDS,
    Role.CENTRE_MANAGER: CARE_KINDS,
    Role.REFERRAL_OFFICER: frozenset({OrganisationKind.NGO_PARTNER}),
    Role.MOH_REVIEWER: frozenset({OrganisationKind.MINISTRY}),
    Role.AUDITOR: frozenset({OrganisationKind.MINISTRY}),
    Role.SYSTEM_ADMINISTRATOR: frozenset(OrganisationKind.values),
}

# Accounts that can see identities (or manage accounts) must use TOTP.
TWO_FACTOR_ROLES = frozenset(
    {Role.COUNSELLOR, Role.CENTRE_MANAGER, Role.REFERRAL_OFFICER, Role.SYSTEM_ADMINISTRATOR}
)

# Separation of duties (docs/access.md): giving an account one of these roles takes effect only when a second
# person confirms it. They are the roles that see client identities (a referral officer sees what clients
# share with their organisation), and the administrator's own, since one administrator could otherwise make
# a second administrator to confirm for them. The other roles see no client data and take effect at once.
CONFIRMED_ROLES = frozenset(
    {Role.COUNSELLOR, Role.CENTRE_MANAGER, Role.REFERRAL_OFFICER, Role.SYSTEM_ADMINISTRATOR}
)
# Confirmed by a centre manager of the organisation, when it has one besides the account itself; the other
# confirmed roles, and an organisation's first manager, by a second system administrator.
MANAGER_CONFIRMED_ROLES = frozenset({Role.COUNSELLOR, Role.CENTRE_MANAGER})


class Province(models.TextChoices):
    """Cambodia's 24 provinces and its capital, by ISO 3166-2:KH code."""

    BANTEAY_MEANCHEY = "KH-1", _("Banteay Meanchey")
    BATTAMBANG = "KH-2", _("Battambang")
    KAMPONG_CHAM = "KH-3", _("Kampong Cham")
    KAMPONG_CHHNANG = "KH-4", _("Kampong Chhnang")
    KAMPONG_SPEU = "KH-5", _("Kampong Speu")
    KAMPONG_THOM = "KH-6", _("Kampong Thom")
    KAMPOT = "KH-7", _("Kampot")
    KANDAL = "KH-8", _("Kandal")
    KOH_KONG = "KH-9", _("Koh Kong")
    KRATIE = "KH-10", _("Kratié")
    MONDULKIRI = "KH-11", _("Mondulkiri")
    PHNOM_PENH = "KH-12", _("Phnom Penh")
    PREAH_VIHEAR = "KH-13", _("Preah Vihear")
    PREY_VENG = "KH-14", _("Prey Veng")
    PURSAT = "KH-15", _("Pursat")
    RATANAKIRI = "KH-16", _("Ratanakiri")
    SIEM_REAP = "KH-17", _("Siem Reap")
    PREAH_SIHANOUK = "KH-18", _("Preah Sihanouk")
    STUNG_TRENG = "KH-19", _("Stung Treng")
    SVAY_RIENG = "KH-20", _("Svay Rieng")
    TAKEO = "KH-21", _("Takéo")
    ODDAR_MEANCHEY = "KH-22", _("Oddar Meanchey")
    KEP = "KH-23", _("Kep")
    PAILIN = "KH-24", _("Pailin")
    TBOUNG_KHMUM = "KH-25", _("Tboung Khmum")

# Model permissions of the system administrator's group: accounts, organisations, memberships,
# membership changes, two-factor devices (seen, never edited: a reset goes through the account's action),
# lockouts, the partner service directory and the consent wordings (neither is client data). Never a client or
# referral model.
SYSTEM_ADMINISTRATOR_PERMISSIONS = [
    ("auth", "user", ["add", "change", "view"]),
    ("casemgmt", "organisation", ["add", "change", "view"]),
    ("casemgmt", "membership", ["add", "change", "delete", "view"]),
    ("casemgmt", "membershipchange", ["view"]),
    ("otp_totp", "totpdevice", ["view"]),
    ("axes", "accessattempt", ["view", "delete"]),
    ("referrals", "partnerservice", ["add", "change", "view"]),
    ("clients", "consentwording", ["add", "change", "view"]),
]
