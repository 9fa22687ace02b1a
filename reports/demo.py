"""A year of synthetic history for the Ministry reports (``manage.py seed_demo_history``; never real people).

Clients registered month by month over the last twelve months at the three demo organisations (the Phnom Penh and
Battambang centres, the Kandal prison unit: three provinces, both settings), more each month, so that the trends
rise; each with an intake screening, counselling sessions for a while after intake (fewer as the months pass: the
retention figures), referrals to the partners (accepted, completed, declined, or left waiting), prison releases
(some followed by a referral, a transfer to a centre and a session there), treatment plans (active, completed,
discontinued) and reintegration milestones. Everything goes through the services, as staff would have recorded
it, then each record's moment is placed where it happened (the services stamp the present; the demo seeds do the
same). Small counts are many (the prison unit, the youngest age band): the dashboard shows "<5" and "x".
"""

from __future__ import annotations

import datetime
import random

from django.utils import timezone

from clients import assist
from clients import services as client_services
from clients.models import Client
from counselling import dates
from counselling import services as counselling_services
from plans import services as plan_services
from plans.models import ReintegrationPlan, TreatmentPlan
from referrals import services as referral_services
from referrals.models import PartnerService, Referral
from reports.periods import add_months, month_start

MARKER_ID = "DEMO-HIST-0001"  # the national ID of the first history client: present, the history exists
MONTHS = 12
FAMILY = ["Demo-Heng", "Demo-Kim", "Demo-Long", "Demo-Mao", "Demo-Nhem", "Demo-Ouk", "Demo-Pich", "Demo-Ros",
          "Demo-Sam", "Demo-Tep", "Demo-Uy", "Demo-Vong"]
GIVEN = ["Bora", "Chan", "Dalin", "Kanha", "Leakena", "Mealea", "Narith", "Piseth", "Rachana", "Sokun", "Theary",
         "Vicheka", "Kolab", "Sambo", "Virak", "Sreyleak"]
PARENTS = ["Chanthy", "Samnang", "Sophal", "Thida", "Vibol", "Sokhom", "Channa", "Rotha"]
NOTES = [
    "Demo note: talked about work and sleep; agreed on a small step for the week.",
    "Demo note: cravings at the weekend; practised the urge-surfing exercise.",
    "Demo note: family visit planned; reviewed the goals.",
    "Demo note: used once this week; worked on the triggers diary.",
]
ALL_CATEGORIES = ["contact", "hiv_status", "identity", "treatment"]

# (organisation name, the counsellor's and the manager's user names, clients registered twelve months ago and
# last month: the numbers grow in between)
SITES = [
    ("Demo Treatment Centre Phnom Penh", "counsellor", "manager", 4, 10),
    ("Demo Treatment Centre Battambang", "counsellor.battambang", "manager.battambang", 2, 6),
    ("Demo Prison Health Unit Kandal", "prison.counsellor", "prison.manager", 1, 4),
]


def seed_demo_history(*, organisations: dict, users: dict, today: datetime.date | None = None) -> int:
    """The year's history; the number of clients it registered (0: it exists already)."""
    if Client.objects.blind_search("national_id_index", MARKER_ID):
        return 0
    today = today or timezone.localdate()
    rng = random.Random(20261202)  # noqa: S311 - the same synthetic history every time, not a secret
    services = _services()
    this_month = month_start(today)
    made = 0
    people: list[tuple[Client, dict]] = []
    for site_index, (name, counsellor_name, manager_name, first, last) in enumerate(SITES):
        organisation = organisations[name]
        counsellor, manager = users[counsellor_name], users[manager_name]
        prison = organisation.kind == "prison_health_unit"
        for offset in range(MONTHS):
            month = add_months(this_month, offset - MONTHS)
            count = first + round((last - first) * offset / (MONTHS - 1))
            for _ in range(count):
                day = month + datetime.timedelta(days=rng.randrange(_days_in(month)))
                made += 1
                client = _register(rng=rng, n=made, actor=counsellor, organisation=organisation, day=day,
                                   prison=prison)
                people.append((client, {"day": day, "counsellor": counsellor, "manager": manager,
                                        "organisation": organisation, "site": site_index, "prison": prison}))
    centres = [organisations[SITES[0][0]], organisations[SITES[1][0]]]
    centre_staff = {organisations[SITES[0][0]].pk: users["counsellor"],
                    organisations[SITES[1][0]].pk: users["counsellor.battambang"]}
    for index, (client, facts) in enumerate(people):
        _intake(rng=rng, client=client, facts=facts, today=today)
        if facts["prison"]:
            _custody(rng=rng, client=client, facts=facts, today=today, services=services, centres=centres,
                     centre_staff=centre_staff, officer=users["partner"])
        else:
            _sessions(rng=rng, client=client, actor=facts["counsellor"], since=facts["day"], today=today)
            _referrals(rng=rng, client=client, facts=facts, today=today, services=services, officer=users["partner"])
        if not facts["prison"] and index % 6 == 0:
            _plan(rng=rng, client=client, facts=facts, today=today)
    return made


def _services() -> dict:
    found = {}
    for service in PartnerService.objects.filter(organisation__name__startswith="Demo NGO Partner"):
        found.setdefault(service.service_type, service)
    return found


def _days_in(month: datetime.date) -> int:
    return (add_months(month, 1) - month).days


def _at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return dates.day_start(day) + datetime.timedelta(hours=hour, minutes=minute)


def _register(*, rng, n: int, actor, organisation, day: datetime.date, prison: bool) -> Client:
    age = rng.choice([14, 17, 19, 21, 23, 24, 26, 28, 31, 34, 38, 42, 47, 52, 58])
    groups = rng.sample(["pwid", "pwud", "prisoner"] if prison else ["pwid", "pwud", "sex_worker", "msm"], 1)
    if rng.random() < 0.25:
        groups.append("pwid" if "pwid" not in groups else "pwud")
    client = client_services.client_register(
        actor=actor, organisation=organisation,
        identity={
            "given_name": rng.choice(GIVEN), "family_name": rng.choice(FAMILY), "other_names": "",
            "date_of_birth": datetime.date(day.year - age, rng.randint(1, 12), rng.randint(1, 28)),
            "phone": f"0{rng.choice([11, 16, 70, 85, 92])} {rng.randint(100, 999)} {rng.randint(100, 999)}",
            "village": "Demo village", "commune": "Demo commune", "district": "Demo district",
            "national_id": MARKER_ID if n == 1 else f"DEMO-HIST-{n:04d}",
            "mother_first_name": rng.choice(PARENTS), "father_first_name": rng.choice(PARENTS),
            "sex": rng.choice("MMMMFFX" if not prison else "MMMMMMF"), "province": organisation.province,
        },
        population_groups=sorted(set(groups)),
    )
    Client.objects.filter(pk=client.pk).update(created_at=_at(day, rng.randint(8, 16), rng.choice((0, 30))))
    client.refresh_from_db(fields=["created_at"])
    return client


def _intake(*, rng, client: Client, facts: dict, today: datetime.date) -> None:
    actor, day = facts["counsellor"], facts["day"]
    client_services.consent_record(actor=actor, client=client, kind="treatment", method="signed", given_on=day)
    substance = rng.choice(["amphetamine", "amphetamine", "opioids", "alcohol", "cannabis"])
    frequency = rng.choice(["once_twice", "monthly", "weekly", "daily"])
    answers = {s: {"q1": "no"} for s in assist.SUBSTANCES}
    answers[substance] = {"q1": "yes", "q2": frequency, "q3": frequency, "q4": rng.choice(["never", frequency]),
                          "q5": "never", "q6": rng.choice(["no", "yes_recent"]), "q7": "no"}
    if rng.random() < 0.3:
        answers["tobacco"] = {"q1": "yes", "q2": "daily", "q3": "weekly", "q4": "never",
                              "q6": "no", "q7": "no"}
    injects = "pwid" in (client.population_groups or ())
    draw = rng.random()
    intake = {"primary_substance": substance, "route": "injecting" if injects else rng.choice(["smoking", "oral"])}
    if draw < 0.45:
        intake["hiv_status"] = "never_tested"
    elif draw < 0.75:
        intake.update(hiv_status="negative", hiv_tested_on=day - datetime.timedelta(days=rng.randint(20, 500)))
    elif draw < 0.88:
        intake["hiv_status"] = "positive_art"
    else:
        intake["hiv_status"] = "positive_no_art"
    client_services.screening_record(actor=actor, client=client, screened_on=min(day, today), answers=answers,
                                     q8="yes_recent" if injects and rng.random() < 0.7 else "no", intake=intake)


def _sessions(*, rng, client: Client, actor, since: datetime.date, today: datetime.date,
              until: datetime.date | None = None) -> None:
    """Sessions every one to three weeks after ``since``, for a while: a quarter of clients stop after the first
    month, half after three, most after six."""
    weeks = rng.choice([3, 4, 6, 10, 12, 14, 20, 26, 30])
    last = min(today - datetime.timedelta(days=1), until or today, since + datetime.timedelta(weeks=weeks))
    day = since + datetime.timedelta(days=rng.randint(2, 9))
    count = 0
    while day <= last:
        draw = rng.random()
        attendance = "attended" if draw < 0.8 or count == 0 else "no_show" if draw < 0.95 else "cancelled"
        starts_at = _at(day, rng.choice((8, 9, 10, 13, 14, 15)))
        counselling_services.session_record(
            actor=actor, client=client, starts_at=starts_at,
            modality=rng.choice(["individual"] * 6 + ["phone", "family", "outreach"]), attendance=attendance,
            duration_minutes=45 if attendance == "attended" else None,
            approach=rng.choice(["motivational_interviewing", "cognitive_behavioural", "relapse_prevention"])
            if attendance == "attended" else "",
            note=rng.choice(NOTES) if attendance == "attended" else "",
            now=starts_at + datetime.timedelta(hours=2))
        count += 1
        day += datetime.timedelta(days=rng.choice((7, 10, 14, 14, 21)))


def _sharing_consent(*, actor, client: Client, partner, day: datetime.date):
    return client_services.consent_record(
        actor=actor, client=client, kind="sharing", partner=partner, categories=ALL_CATEGORIES,
        purpose="Referral to partner services (demo)", given_on=day, method="signed")


def _refer(*, rng, client: Client, actor, service, day: datetime.date, today: datetime.date, officer,
           outcome: str = "") -> Referral | None:
    if service is None or day >= today:
        return None
    consent = _sharing_consent(actor=actor, client=client, partner=service.organisation, day=day)
    referral = referral_services.referral_create(
        actor=actor, client=client, service=service, consent=consent, categories=ALL_CATEGORIES,
        reason="Demo referral reason: synthetic text.", urgency=rng.choice(["routine", "routine", "urgent"]))
    referral = referral_services.referral_send(actor=actor, referral=referral)
    sent_at = _at(day, rng.randint(9, 16))
    stamps = {"sent_at": sent_at}
    accepts = service.organisation.memberships.filter(user=officer).exists()
    outcome = outcome or rng.choice(["accept", "accept", "complete", "complete", "complete", "decline", "wait"])
    if accepts and outcome in ("accept", "complete", "attend"):
        referral = referral_services.referral_accept(actor=officer, referral=referral)
        accepted_at = sent_at + datetime.timedelta(days=rng.choice((0, 1, 1, 2, 3, 5, 8)), hours=rng.randint(0, 5))
        stamps["accepted_at"] = min(accepted_at, timezone.now())
        if outcome in ("complete", "attend"):
            referral = referral_services.referral_attend(actor=officer, referral=referral)
        if outcome == "complete":
            referral = referral_services.referral_complete(actor=officer, referral=referral,
                                                           outcome="service_provided",
                                                           feedback="Demo feedback: synthetic text.")
            stamps["closed_at"] = min(stamps["accepted_at"] + datetime.timedelta(days=rng.randint(1, 10)),
                                      timezone.now())
    elif accepts and outcome == "decline":
        referral = referral_services.referral_decline(actor=officer, referral=referral,
                                                      reason=rng.choice(["not_eligible", "no_capacity"]))
        stamps["closed_at"] = sent_at + datetime.timedelta(days=1)
    Referral.objects.filter(pk=referral.pk).update(**stamps)
    return referral


def _referrals(*, rng, client: Client, facts: dict, today: datetime.date, services: dict, officer) -> None:
    actor, day = facts["counsellor"], facts["day"]
    screening = client.screenings.order_by("screened_on").first()
    unknown = screening is not None and screening.hiv_status in ("never_tested", "negative")
    if unknown and rng.random() < 0.65:
        _refer(rng=rng, client=client, actor=actor, service=services.get("hiv_testing"),
               day=day + datetime.timedelta(days=rng.randint(1, 14)), today=today, officer=officer)
    if rng.random() < 0.35:
        service = services.get(rng.choice(["tb", "prep", "art", "nsp", "oat", "tb", "legal_aid"]))
        _refer(rng=rng, client=client, actor=actor, service=service,
               day=day + datetime.timedelta(days=rng.randint(5, 40)), today=today, officer=officer)


def _custody(*, rng, client: Client, facts: dict, today: datetime.date, services: dict, centres: list,
             centre_staff: dict, officer) -> None:
    """Admitted at registration; most are released after two to eight months, some referred before, and some of
    those transferred to a centre and seen there."""
    actor, day = facts["counsellor"], facts["day"]
    release = day + datetime.timedelta(days=rng.randint(45, 240))
    episode = client_services.custody_admit(actor=actor, client=client, facility=facts["organisation"],
                                            admitted_on=day, expected_release_on=release)
    _sessions(rng=rng, client=client, actor=actor, since=day, today=today, until=release)
    if release >= today or rng.random() < 0.15:
        return
    referred = rng.random() < 0.6
    if referred:
        _refer(rng=rng, client=client, actor=actor, service=services.get(rng.choice(["oat", "hiv_testing", "art"])),
               day=max(day, release - datetime.timedelta(days=rng.randint(2, 20))), today=today, officer=officer,
               outcome=rng.choice(["attend", "accept", "wait"]))
    client_services.custody_release(actor=actor, episode=episode, released_on=release)
    if referred and rng.random() < 0.7:
        centre = rng.choice(centres)
        client_services.client_transfer(actor=facts["manager"], client=client, to_organisation=centre,
                                        counsellor=centre_staff[centre.pk])
        client.refresh_from_db()
        _sessions(rng=rng, client=client, actor=centre_staff[centre.pk],
                  since=release + datetime.timedelta(days=rng.randint(1, 20)), today=today)


def _plan(*, rng, client: Client, facts: dict, today: datetime.date) -> None:
    """A treatment plan made active a few days after intake; later completed, discontinued, or still in force;
    and a reintegration plan with milestones achieved along the way."""
    counsellor, manager, day = facts["counsellor"], facts["manager"], facts["day"]
    plan = plan_services.plan_create(actor=counsellor, client=client, review_on=today + datetime.timedelta(days=60))
    plan_services.goal_save(actor=counsellor, plan=plan, values={
        "domain": "substance_use", "text": "Demo: fewer days of use each week",
        "interventions": "Demo: weekly counselling", "responsible": "Demo counsellor",
        "target_on": today + datetime.timedelta(days=90), "status": "in_progress"})
    plan = plan_services.plan_submit(actor=counsellor, plan=plan)
    plan = plan_services.plan_approve(actor=manager, plan=plan, seen_revision=plan.revision)
    plan = plan_services.plan_activate(actor=counsellor, plan=plan)
    activated = _at(min(day + datetime.timedelta(days=rng.randint(3, 12)), today), 11)
    stamps = {"activated_at": activated, "created_at": activated - datetime.timedelta(days=2)}
    ending = rng.random()
    closed_on = day + datetime.timedelta(days=rng.randint(60, 200))
    if ending < 0.35 and closed_on < today:
        plan_services.plan_complete(actor=counsellor, plan=plan, note="Demo: goals reached.")
        stamps["closed_at"] = _at(closed_on, 15)
    elif ending < 0.55 and closed_on < today:
        plan_services.plan_discontinue(actor=counsellor, plan=plan, reason="Demo: the client moved away.")
        stamps["closed_at"] = _at(closed_on, 15)
    TreatmentPlan.objects.filter(pk=plan.pk).update(**stamps)
    reintegration = plan_services.reintegration_open(actor=counsellor, client=client,
                                                     summary="Demo: back to work and to the family.")
    ReintegrationPlan.objects.filter(pk=reintegration.pk).update(created_at=_at(day, 12))
    reintegration.refresh_from_db(fields=["created_at"])
    for step, domain in enumerate(rng.sample(["housing", "employment", "family", "health", "legal"], 3)):
        achieved = day + datetime.timedelta(days=30 * (step + 1) + rng.randint(0, 20))
        plan_services.milestone_save(actor=counsellor, plan=reintegration, values={
            "domain": domain, "description": "Demo milestone", "notes": "",
            "target_on": achieved, "achieved_on": achieved if achieved < today else None})
