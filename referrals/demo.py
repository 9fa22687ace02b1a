"""Synthetic demo referrals for `manage.py seed_demo_referrals` (never real people): every state, and outcomes of
every kind, so that the centre's cascade has figures."""

from __future__ import annotations

import datetime

from django.utils import timezone

from clients import assist
from clients import services as client_services
from clients.models import Client, CustodyEpisode
from clients.selectors import clients_visible_to
from plans.models import Milestone, ReintegrationStatus
from referrals import services
from referrals.models import PartnerService, Referral, ServiceType

DIRECTORY = {
    "Demo NGO Partner Health Access": [
        {"service_type": "hiv_testing", "hours": "Mon–Sat 08:00–17:00", "target_days": 3, "cost": "Free"},
        {"service_type": "art", "hours": "Mon–Fri 08:00–16:00", "target_days": 5, "cost": "Free"},
        {"service_type": "prep", "hours": "Mon–Fri 08:00–16:00", "target_days": 5, "cost": "Free"},
        {"service_type": "tb", "hours": "Mon–Fri 08:00–12:00", "target_days": 7, "cost": "Free"},
        {"service_type": "hepatitis", "hours": "Mon–Fri 08:00–12:00", "target_days": 7, "cost": "Free"},
        {"service_type": "oat", "hours": "Daily 06:30–10:00", "target_days": 3, "cost": "Free"},
        {"service_type": "family", "hours": "Sat 09:00–12:00", "target_days": 14, "cost": "Free"},
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
HEALTH, HARM_REDUCTION = "Demo NGO Partner Health Access", "Demo NGO Partner Harm Reduction"

# Outcomes recorded on completion: the generic outcome and the service's results (dates as days before today).
OUTCOMES = {
    "non_reactive": ("service_provided", {"hiv_tested_on": 1, "hiv_result": "non_reactive"}),
    "reactive_art": ("service_provided", {"hiv_tested_on": 16, "hiv_result": "reactive",
                                          "hiv_confirmatory_result": "positive", "art_initiated_on": 12,
                                          "art_facility": "Demo ART clinic", "art_number": "DEMO-ART-0001"}),
    "reactive_confirmed": ("service_provided", {"hiv_tested_on": 12, "hiv_result": "reactive",
                                                "hiv_confirmatory_result": "positive"}),
    # Reactive, no confirmation nor ART recorded since: overdue for linkage to ART.
    "reactive_no_art": ("service_provided", {"hiv_tested_on": 20, "hiv_result": "reactive"}),
    "prep": ("ongoing", {"prep_started_on": 3}),
    "oat": ("ongoing", {"oat_enrolled_on": 4}),
    "tb": ("ongoing", {"tb_screened_on": 6, "tb_result": "diagnosed", "tb_treatment_started_on": 4}),
    "hepatitis": ("ongoing", {"hepatitis_tested_on": 7, "hepatitis_result": "hcv", "hepatitis_treated_on": 2}),
    "generic": ("service_provided", {}),
}


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


def _milestone_to_refer_for(*, counsellor, centre) -> Milestone | None:
    """A milestone of the demo plans not achieved yet, of a client the demo counsellor may refer (the new ID card
    first: legal aid)."""
    milestones = Milestone.objects.filter(
        client__in=clients_visible_to(counsellor, write=True).filter(organisation=centre).values("pk"),
        plan__status=ReintegrationStatus.OPEN, achieved_on__isnull=True).select_related("client")
    return milestones.filter(domain="legal").first() or milestones.order_by("target_on").first()


def seed_demo_referrals(*, centre, prison, partners: dict, counsellor, prison_counsellor, officer) -> int:
    """Directory entries for both demo partners; referrals from the centre and the prison unit to them in every
    state, with outcomes of every kind (HIV tests non-reactive and reactive, one reactive without ART for three
    weeks, ART started at the test and later, PrEP, OAT, TB, hepatitis, a generic one); one consent withdrawn,
    with the referral it closed; one referral for a reintegration milestone, where the demo plans have one."""
    if PartnerService.objects.filter(organisation__in=partners.values()).exists():
        return 0
    directory = _directory(partners)
    today = timezone.localdate()
    clients = list(Client.objects.filter(organisation=centre).order_by("created_at"))
    prisoners = list(Client.objects.filter(organisation=prison).order_by("created_at"))
    done = ["accept", "attend"]
    # (client, actor, service, categories, steps): steps the officer (or the sender) takes after sending; "back N"
    # dates the sending N days back, so that the outcome's dates can follow it.
    plan = [
        (clients[0], counsellor, "hiv_testing", ALL, []),
        (clients[1], counsellor, "art", ["hiv_status", "identity"], ["overdue"]),
        (clients[2], counsellor, "tb", ["identity", "contact"], ["accept"]),
        (clients[3], counsellor, "prep", ["identity"], ["decline"]),
        (clients[4], counsellor, "art", ALL, ["accept", "attend"]),
        (clients[5], counsellor, "hiv_testing", ["contact"], ["accept", "no_show"]),
        (clients[6], counsellor, "hiv_testing", ALL, ["back 3", *done, "complete non_reactive"]),
        (clients[7], counsellor, "tb", ["identity"], ["accept", "close"]),
        (clients[8], counsellor, "prep", ["identity"], ["cancel"]),
        (clients[9], counsellor, "hiv_testing", ["identity"], ["draft"]),
        (prisoners[0], prison_counsellor, "art", ["identity", "hiv_status"], []),
        (prisoners[1], prison_counsellor, "tb", ["identity"], ["accept"]),
        (prisoners[2], prison_counsellor, "hiv_testing", ["identity", "contact"], ["withdraw"]),
        (clients[0], counsellor, "hiv_testing", ALL, ["back 18", *done, "complete reactive_art"]),
        (clients[2], counsellor, "hiv_testing", ALL, ["back 14", *done, "complete reactive_confirmed", "linkage"]),
        (clients[3], counsellor, "hiv_testing", ALL, ["back 22", *done, "complete reactive_no_art"]),
        (clients[4], counsellor, "prep", ALL, ["back 5", *done, "complete prep"]),
        (clients[5], counsellor, "oat", ALL, ["back 6", *done, "complete oat"]),
        (clients[7], counsellor, "tb", ALL, ["back 8", *done, "complete tb"]),
        (clients[8], counsellor, "hepatitis", ALL, ["back 9", *done, "complete hepatitis"]),
        (clients[9], counsellor, "family", ALL, ["back 10", *done, "complete generic"]),
    ]
    milestone = _milestone_to_refer_for(counsellor=counsellor, centre=centre)
    if milestone is not None:
        # To the other partner, whose officer is not a demo account: it stays sent.
        plan.append((milestone.client, counsellor, "legal_aid", ["identity"], [f"milestone {milestone.pk}"]))
    made = 0
    for client, actor, service_type, categories, steps in plan:
        partner = partners[HEALTH if (HEALTH, service_type) in directory else HARM_REDUCTION]
        consent = client_services.consent_record(
            actor=actor, client=client, kind="sharing", partner=partner, categories=ALL,
            purpose="Referral to partner services (demo)", given_on=today - datetime.timedelta(days=30),
            method="signed")
        referral = services.referral_create(
            actor=actor, client=client, service=directory[(partner.name, service_type)], consent=consent,
            categories=categories, reason="Demo referral reason: synthetic text.",
            urgency="urgent" if made % 3 == 0 else "routine", due_on=today + datetime.timedelta(days=2 + made % 5),
            milestone=milestone if f"milestone {getattr(milestone, 'pk', '')}" in steps else None)
        made += 1
        if "draft" in steps:
            continue
        referral = services.referral_send(actor=actor, referral=referral)
        for step in steps:
            if step.startswith("back "):
                sent_at = timezone.now() - datetime.timedelta(days=int(step.split()[1]))
                Referral.objects.filter(pk=referral.pk).update(sent_at=sent_at)
                referral.refresh_from_db()
            elif step.startswith("complete "):
                outcome, results = OUTCOMES[step.split()[1]]
                referral = services.referral_complete(
                    actor=officer, referral=referral, outcome=outcome, feedback="Demo feedback: synthetic text.",
                    results={name: today - datetime.timedelta(days=value) if name.endswith("_on") else value
                             for name, value in results.items()})
            elif step == "linkage":
                referral = services.referral_record_linkage(
                    actor=officer, referral=referral, expected_version=referral.version,
                    art_initiated_on=today - datetime.timedelta(days=2), art_facility="Demo ART clinic",
                    art_number="DEMO-ART-0002")
            elif step == "overdue":
                Referral.objects.filter(pk=referral.pk).update(sent_at=timezone.now() - datetime.timedelta(days=9))
            elif step == "accept":
                referral = services.referral_accept(actor=officer, referral=referral)
            elif step == "decline":
                referral = services.referral_decline(actor=officer, referral=referral, reason="not_eligible")
            elif step == "attend":
                referral = services.referral_attend(actor=officer, referral=referral)
            elif step == "no_show":
                referral = services.referral_no_show(actor=officer, referral=referral, reason="could_not_contact")
            elif step == "close":
                referral = services.referral_close_unresolved(actor=officer, referral=referral,
                                                              reason="client_declined")
            elif step == "cancel":
                referral = services.referral_cancel(actor=actor, referral=referral, reason="referred_elsewhere")
            elif step == "withdraw":
                client_services.consent_revoke(actor=actor, consent=consent, revoked_on=today,
                                               reason="Demo: the client withdrew consent.")
    return made


def seed_demo_continuity(*, centre_counsellor, prison, partners: dict, prison_counsellor, officer) -> int:
    """The pre-release checklist's demo, on the prison unit's releases due in the next 30 days (the demo prisoners
    released in 2, 3 and 4 weeks): the first living with HIV, on ART, with a referral for ART (the one the demo
    referrals sent, else a new one) and one for opioid agonist therapy sent (all done); the second living with
    HIV, not on treatment, asked for by the Phnom Penh centre (a transfer request) but with no ART referral yet;
    the third with nothing yet. Runs after ``seed_demo_referrals``; does nothing once the prison unit has sent a
    referral for opioid agonist therapy."""
    if Referral.objects.filter(from_organisation=prison, service__service_type=ServiceType.OAT).exists():
        return 0
    today = timezone.localdate()
    due = (CustodyEpisode.objects.filter(facility=prison, released_on__isnull=True, expected_release_on__gte=today,
                                         expected_release_on__lte=today + datetime.timedelta(days=30),
                                         client__organisation=prison)
           .select_related("client").order_by("expected_release_on"))
    prisoners = [episode.client for episode in due]
    if len(prisoners) < 3:
        return 0
    health, harm_reduction = partners["Demo NGO Partner Health Access"], partners["Demo NGO Partner Harm Reduction"]
    services_of = {(s.organisation_id, s.service_type): s for s in PartnerService.objects.filter(
        organisation__in=[health, harm_reduction], service_type__in=[ServiceType.ART, ServiceType.OAT])}
    answers = {substance: {"q1": "no"} for substance in assist.SUBSTANCES}
    answers["opioids"] = {"q1": "yes", "q2": "daily", "q3": "daily", "q4": "weekly", "q5": "monthly",
                          "q6": "yes_recent", "q7": "yes_recent"}
    made = 0
    for client, hiv_status in ((prisoners[0], "positive_art"), (prisoners[1], "positive_no_art")):
        client_services.screening_record(actor=prison_counsellor, client=client, screened_on=today, answers=answers,
                                         q8="yes_recent", intake={"hiv_status": hiv_status,
                                                                  "primary_substance": "opioids"})
    first = prisoners[0]
    if not Referral.objects.filter(client=first, service__service_type=ServiceType.ART,
                                   status__in=["sent", "accepted", "attended", "completed"]).exists():
        referral = _demo_referral(first, services_of[(health.pk, ServiceType.ART)], partner=health,
                                  actor=prison_counsellor)
        services.referral_accept(actor=officer, referral=referral)
        made += 1
    _demo_referral(first, services_of[(harm_reduction.pk, ServiceType.OAT)], partner=harm_reduction,
                   actor=prison_counsellor)
    made += 1
    client_services.transfer_request_create(actor=centre_counsellor, client=prisoners[1])
    return made


def _demo_referral(client, service, *, partner, actor) -> Referral:
    consent = client_services.consent_record(
        actor=actor, client=client, kind="sharing", partner=partner, categories=ALL,
        purpose="Continuity of care after release (demo)", given_on=timezone.localdate(), method="signed")
    referral = services.referral_create(actor=actor, client=client, service=service, consent=consent,
                                        categories=["identity", "contact", "hiv_status"],
                                        reason="Demo referral before release: synthetic text.",
                                        due_on=timezone.localdate() + datetime.timedelta(days=14))
    return services.referral_send(actor=actor, referral=referral)


def _milestone_to_refer_for(*, counsellor, centre) -> Milestone | None:
    """A milestone of the demo plans not achieved yet, of a client the demo counsellor may refer (the new ID card
    first: legal aid)."""
    milestones = Milestone.objects.filter(
        client__in=clients_visible_to(counsellor, write=True).filter(organisation=centre).values("pk"),
        plan__status=ReintegrationStatus.OPEN, achieved_on__isnull=True).select_related("client")
    return milestones.filter(domain="legal").first() or milestones.order_by("target_on").first()
