import base64
import json
import os
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from casemgmt import services
from casemgmt.management.base import AuditedCommand
from casemgmt.models import Organisation
from casemgmt.roles import TWO_FACTOR_ROLES, OrganisationKind, Province, Role

ORGANISATIONS = [
    ("Demo Treatment Centre Phnom Penh", OrganisationKind.TREATMENT_CENTRE, Province.PHNOM_PENH),
    ("Demo Treatment Centre Battambang", OrganisationKind.TREATMENT_CENTRE, Province.BATTAMBANG),
    ("Demo Prison Health Unit Kandal", OrganisationKind.PRISON_HEALTH_UNIT, Province.KANDAL),
    ("Demo NGO Partner Health Access", OrganisationKind.NGO_PARTNER, Province.PHNOM_PENH),
    ("Demo NGO Partner Harm Reduction", OrganisationKind.NGO_PARTNER, Province.BATTAMBANG),
    ("Demo Ministry of Health", OrganisationKind.MINISTRY, Province.PHNOM_PENH),
]

# Every treatment centre and prison unit has a manager: someone must assign its clients and decide
# the transfer requests addressed to it.
# Proposed by the demo administrator as a counsellor in Phnom Penh, waiting for the demo manager's confirmation.
PENDING_NEWCOMER = "newcomer.counsellor"

ACCOUNTS = [
    ("counsellor", Role.COUNSELLOR, "Demo Treatment Centre Phnom Penh"),
    ("manager", Role.CENTRE_MANAGER, "Demo Treatment Centre Phnom Penh"),
    ("counsellor.battambang", Role.COUNSELLOR, "Demo Treatment Centre Battambang"),
    ("manager.battambang", Role.CENTRE_MANAGER, "Demo Treatment Centre Battambang"),
    ("prison.counsellor", Role.COUNSELLOR, "Demo Prison Health Unit Kandal"),
    ("prison.manager", Role.CENTRE_MANAGER, "Demo Prison Health Unit Kandal"),
    ("partner", Role.REFERRAL_OFFICER, "Demo NGO Partner Health Access"),
    ("reviewer", Role.MOH_REVIEWER, "Demo Ministry of Health"),
    ("reviewer.battambang", Role.MOH_REVIEWER, "Demo Ministry of Health"),
    ("auditor", Role.AUDITOR, "Demo Ministry of Health"),
    ("admin", Role.SYSTEM_ADMINISTRATOR, "Demo Ministry of Health"),
]

# A person's name for each account (synthetic), family name "Demo": never the role, which the
# administration's account list shows in a column of its own.
GIVEN_NAMES = {
    "counsellor": "Sophea", "manager": "Dara", "counsellor.battambang": "Vanna", "manager.battambang": "Rithy",
    "prison.counsellor": "Chanthou", "prison.manager": "Sokha", "partner": "Bopha", "reviewer": "Veasna",
    "reviewer.battambang": "Chenda", "auditor": "Kosal", "admin": "Sambath",
}
# A reviewer limited to the figures of one province (the Ministry reports): set on the membership.
PROVINCE_LIMITS = {"reviewer.battambang": Province.BATTAMBANG}
DEMO_FAMILY_NAME = "Demo"


def credentials_path():
    return settings.VAR_DIR / "demo-credentials.json"


class Command(AuditedCommand):
    help = (
        "Create demo organisations and one account per role (idempotent: running it again changes nothing "
        "but restores the demo passwords). Development only: passwords and TOTP secrets are kept in "
        "var/demo-credentials.json and printed."
    )

    def handle(self, *args, **options):
        if not settings.DEVELOPMENT:
            raise CommandError("seed_demo runs only with CASEMGMT_DEVELOPMENT=1: it prints passwords.")
        path = credentials_path()
        saved = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        with transaction.atomic():
            organisations = {}
            for name, kind, province in ORGANISATIONS:
                organisation = Organisation.objects.filter(name=name).first()
                if organisation is None:
                    organisation = services.organisation_create(name=name, kind=kind, province=province)
                organisations[name] = organisation
            for username, role, organisation_name in ACCOUNTS:
                saved[username] = self._account(username, role, organisations[organisation_name], saved.get(username))
            self._pending_staff_change(organisations["Demo Treatment Centre Phnom Penh"])
        settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(saved, handle, indent=2)
        self._print(saved)

    def _account(self, username, role, organisation, saved):
        saved = saved or {"password": secrets.token_urlsafe(9)}
        user, _created = get_user_model().objects.get_or_create(username=username)
        user.first_name, user.last_name = GIVEN_NAMES[username], DEMO_FAMILY_NAME
        # A reserved domain (RFC 2606): in development the e-mails it gets are printed on the console.
        user.email = f"{username}@demo.example.org"
        user.set_password(saved["password"])
        user.is_active = True
        user.save()
        membership = getattr(user, "membership", None)
        province = PROVINCE_LIMITS.get(username, "")
        if (membership is None or membership.organisation_id != organisation.pk or membership.role != role
                or membership.suspended or membership.province != province):
            services.membership_set(user=user, organisation=organisation, role=role, province=province)
        saved["role"] = role
        saved["organisation"] = organisation.name
        saved["province"] = province
        if role in TWO_FACTOR_ROLES:
            if "totp_key" not in saved:
                saved["totp_key"] = secrets.token_hex(20)
            TOTPDevice.objects.filter(user=user).exclude(key=saved["totp_key"]).delete()
            TOTPDevice.objects.get_or_create(
                user=user, key=saved["totp_key"], defaults={"name": "Demo authenticator", "confirmed": True}
            )
        return saved

    def _pending_staff_change(self, centre) -> None:
        """A newcomer the administrator proposed as a counsellor, waiting for the centre manager's confirmation
        (separation of duties: the demo manager sees it on the home page, under Staff changes)."""
        from casemgmt.models import MembershipChange, MembershipChangeStatus

        user, _created = get_user_model().objects.get_or_create(
            username=PENDING_NEWCOMER, defaults={"first_name": "Malis", "last_name": DEMO_FAMILY_NAME})
        if hasattr(user, "membership") or MembershipChange.objects.filter(
                user=user, status__in=[MembershipChangeStatus.PENDING, MembershipChangeStatus.CONFIRMED]).exists():
            return
        user.set_unusable_password()  # the manager confirms; the administrator then sets a first password
        user.save()
        services.membership_change_propose(actor=get_user_model().objects.get(username="admin"), user=user,
                                           organisation=centre, role=Role.COUNSELLOR)

    def _print(self, saved):
        self.stdout.write("")
        self.stdout.write("Demo accounts (synthetic, for this machine only):")
        self.stdout.write(f"  {'user':<24}{'password':<16}{'role':<22}TOTP secret (base32)")
        for username, _, _ in ACCOUNTS:
            entry = saved[username]
            secret = (
                base64.b32encode(bytes.fromhex(entry["totp_key"])).decode().rstrip("=") if "totp_key" in entry else "-"
            )
            self.stdout.write(f"  {username:<24}{entry['password']:<16}{entry['role']:<22}{secret}")
        for username, province in PROVINCE_LIMITS.items():
            self.stdout.write(f"{username} sees the figures of {Province(province).label} only.")
        self.stdout.write(
            "Current 6-digit codes: `make code ACCOUNT=counsellor`, or add the secret to an authenticator app."
        )
        self.stdout.write("E-mails to the demo accounts (<user>@demo.example.org) are printed on the server's console.")
        self.stdout.write("")
