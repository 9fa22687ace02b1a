"""Synthetic demo clients for `manage.py seed_demo` (never real people)."""

from __future__ import annotations

import datetime
import random

from django.utils import timezone

from clients import assist, services
from clients.models import Client

FAMILY = ["Demo-Sok", "Demo-Chan", "Demo-Keo", "Demo-Lim", "Demo-Meas", "Demo-Phan", "Demo-Srun", "Demo-Touch"]
GIVEN = ["Dara", "Sophea", "Vanna", "Rithy", "Chenda", "Bopha", "Visal", "Sreymom", "Kosal", "Nary"]
PARENTS = ["Chantha", "Sokha", "Vuthy", "Malis", "Sarin", "Kunthea", "Pisey", "Ratana"]


def seed_demo_clients(*, centre, prison, counsellor, prison_counsellor) -> int:
    if Client.objects.filter(organisation__in=[centre, prison]).exists():
        return 0
    rng = random.Random(20261121)  # noqa: S311 - the same synthetic demo every time, not a secret
    today = timezone.localdate()
    made = 0
    for index in range(14):
        at_prison = index >= 10
        actor = prison_counsellor if at_prison else counsellor
        client = services.client_register(
            actor=actor, organisation=prison if at_prison else centre,
            identity={
                "given_name": rng.choice(GIVEN), "family_name": rng.choice(FAMILY), "other_names": "",
                "date_of_birth": datetime.date(rng.randint(1975, 2005), rng.randint(1, 12), rng.randint(1, 28)),
                "phone": f"0{rng.choice([12, 15, 17, 77, 89])} {rng.randint(100, 999)} {rng.randint(100, 999)}",
                "village": "Demo village", "commune": "Demo commune", "district": "Demo district",
                "national_id": None, "mother_first_name": rng.choice(PARENTS), "father_first_name": rng.choice(PARENTS),
                "sex": rng.choice("MMMF"), "province": prison.province if at_prison else centre.province,
            },
            population_groups=rng.sample(["pwid", "pwud", "prisoner" if at_prison else "sex_worker"], 1),
        )
        services.consent_record(actor=actor, client=client, kind="treatment", method="signed",
                                given_on=today - datetime.timedelta(days=30))
        substance = rng.choice(["amphetamine", "opioids", "alcohol"])
        frequency = rng.choice(["once_twice", "monthly", "weekly", "daily"])
        answers = {s: {"q1": "no"} for s in assist.SUBSTANCES}
        answers[substance] = {"q1": "yes", "q2": frequency, "q3": frequency, "q4": "never", "q5": "never",
                              "q6": "yes_recent", "q7": "no"}
        services.screening_record(actor=actor, client=client, screened_on=today - datetime.timedelta(days=20),
                                  answers=answers, q8=rng.choice(["no", "yes_recent", "yes_past"]),
                                  intake={"hiv_status": "never_tested", "primary_substance": substance})
        if at_prison:
            services.custody_admit(actor=actor, client=client, facility=prison,
                                   admitted_on=today - datetime.timedelta(days=300),
                                   expected_release_on=today + datetime.timedelta(days=7 * (index - 8)))
        made += 1
    return made
