"""Synthetic demo referrals for `manage.py seed_demo_referrals` (never real people)."""

from __future__ import annotations

import datetime

from django.utils import timezone

from clients import services as client_services
from clients.models import Client
from referrals import services
from referrals.models import PartnerService, Referral

DIRECTORY = {
    "Demo NGO Partner Health Access": [
        {"service_type": "hiv_testing", "hours": "Mon–Sat 08:00–17:00", "target_days": 3, "cost": "Free"},
        {"service_type": "art", "hours": "Mon–Fri 08:00–16:00", "target_days": 5, "cost": "Free"},
        {"service_type": "prep", "hours": "Mon–Fri 08:00–16:00", "target_days": 5, "cost": "Free"},
        {"service_type": "tb", "hours": "Mon–Fri 08:00–12:00", "target_days": 7, "cost": "Free"},
        {"service_type": "mental_health", "hours": "Tue, Thu 13:00–17:00", "target_days": 10, "cost": "Free",
         "accepting_referrals": False},
    ],
    "Demo NGO Partner Harm Reduction": [
        {"service_type": "nsp", "hours": "Daily 07:00–19:00", "target_days": 2, "cost": "Free"},
        {"service_type": "naloxone", "hours": "Daily 07:00–19:00", "target_days": 1, "cost": "Free"},
        {"service_type": "oat", "hours": "Daily 06:30–11:00", "target_days": 3, "cost": "Free"},
        {"service_type": "legal_aid", "hours": "Wed 09:00–12:00", "target_days": 14, "cost": "Free"},
    ],
}

ALL = ["contact", "hiv_status", "identity", "treatment"]


def _directory(partners: dict) -> dict:
    made = {}
    for name, rows in DIRECTORY.items():
        organisation = partners[name]
        for row in rows:
            service = PartnerService(organisation=organisation, province=organisation.province,
                                     district="Demo district", address="Demo street 1",
                                     contact="Demo desk 023 000 000", languages="Khmer, English",
                                     eligibility="Adults referred by a treatment centre or prison unit", **row)
            service.full_clean()
            service.save()
            made[(name, row["service_type"])] = service
    return made


def seed_demo_referrals(*, centre, prison, partners: dict, counsellor, prison_counsellor, officer) -> int:
    """Directory entries for both demo partners; referrals from the centre and the prison unit to the Health
    Access partner in every state; one consent withdrawn, with the referral it closed."""
    if PartnerService.objects.filter(organisation__in=partners.values()).exists():
        return 0
    directory = _directory(partners)
    today = timezone.localdate()
    access_partner = partners["Demo NGO Partner Health Access"]
    clients = list(Client.objects.filter(organisation=centre).order_by("created_at"))
    prisoners = list(Client.objects.filter(organisation=prison).order_by("created_at"))
    # (client, actor, service, categories, steps): steps the officer (or the sender) takes after sending.
    plan = [
        (clients[0], counsellor, "hiv_testing", ALL, []),
        (clients[1], counsellor, "art", ["hiv_status", "identity"], ["overdue"]),
        (clients[2], counsellor, "tb", ["identity", "contact"], ["accept"]),
        (clients[3], counsellor, "prep", ["identity"], ["decline"]),
        (clients[4], counsellor, "art", ALL, ["accept", "attend"]),
        (clients[5], counsellor, "hiv_testing", ["contact"], ["accept", "no_show"]),
        (clients[6], counsellor, "hiv_testing", ALL, ["accept", "attend", "complete"]),
        (clients[7], counsellor, "tb", ["identity"], ["accept", "close"]),
        (clients[8], counsellor, "prep", ["identity"], ["cancel"]),
        (clients[9], counsellor, "hiv_testing", ["identity"], ["draft"]),
        (prisoners[0], prison_counsellor, "art", ["identity", "hiv_status"], []),
        (prisoners[1], prison_counsellor, "tb", ["identity"], ["accept"]),
        (prisoners[2], prison_counsellor, "hiv_testing", ["identity", "contact"], ["withdraw"]),
    ]
    made = 0
    for client, actor, service_type, categories, steps in plan:
        consent = client_services.consent_record(
            actor=actor, client=client, kind="sharing", partner=access_partner, categories=ALL,
            purpose="Referral to partner services (demo)", given_on=today - datetime.timedelta(days=14),
            method="signed")
        referral = services.referral_create(
            actor=actor, client=client, service=directory[(access_partner.name, service_type)], consent=consent,
            categories=categories, reason="Demo referral reason: synthetic text.",
            urgency="urgent" if made % 3 == 0 else "routine", due_on=today + datetime.timedelta(days=2 + made % 5))
        made += 1
        if "draft" in steps:
            continue
        referral = services.referral_send(actor=actor, referral=referral)
        for step in steps:
            if step == "overdue":
                Referral.objects.filter(pk=referral.pk).update(sent_at=timezone.now() - datetime.timedelta(days=9))
            elif step == "accept":
                referral = services.referral_accept(actor=officer, referral=referral)
            elif step == "decline":
                referral = services.referral_decline(actor=officer, referral=referral, reason="not_eligible")
            elif step == "attend":
                referral = services.referral_attend(actor=officer, referral=referral)
            elif step == "no_show":
                referral = services.referral_no_show(actor=officer, referral=referral, reason="could_not_contact")
            elif step == "complete":
                referral = services.referral_complete(actor=officer, referral=referral, outcome="service_provided",
                                                      feedback="Demo feedback: synthetic text.")
            elif step == "close":
                referral = services.referral_close_unresolved(actor=officer, referral=referral,
                                                              reason="client_declined")
            elif step == "cancel":
                referral = services.referral_cancel(actor=actor, referral=referral, reason="referred_elsewhere")
            elif step == "withdraw":
                client_services.consent_revoke(actor=actor, consent=consent, revoked_on=today,
                                               reason="Demo: the client withdrew consent.")
    return made
