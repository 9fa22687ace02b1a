"""Counselling's records for the crawl (tests/crawl.py), so that its pages show something to every actor:
sessions of the canary clients, a risk flag, a missed appointment's follow-up, an appointment, and a group session
run by the manager with a client of alice's and one waiting for a counsellor (alice must see only hers).

What the pages may show is the case file's rule (tests/clients/crawl.py): counselling adds none."""

from __future__ import annotations

import datetime

from django.utils import timezone

from counselling import services


def objects(world: dict) -> None:
    actors, canaries = world["actors"], world["canaries"]
    now = timezone.now()
    for key, actor in (("alpha", "alice"), ("charlie", "bob"), ("delta", "pete")):
        client = canaries[key].client
        services.session_record(actor=actors[actor], client=client, starts_at=now - datetime.timedelta(days=2),
                                modality="individual", attendance="attended", duration_minutes=45,
                                approach="motivational_interviewing", note="Synthetic crawl note.",
                                risk_flags=["suicide"], next_appointment=now + datetime.timedelta(days=2))
        services.session_record(actor=actors[actor], client=client, starts_at=now - datetime.timedelta(days=5),
                                modality="phone", attendance="no_show")
    group = services.group_session_create(actor=actors["mona"], starts_at=now - datetime.timedelta(hours=3),
                                          clients=[canaries["alpha"].client, canaries["bravo"].client], held=True,
                                          approach="psycho_education", duration_minutes=90)
    services.group_session_create(actor=actors["alice"], starts_at=now + datetime.timedelta(days=1),
                                  clients=[canaries["alpha"].client, canaries["echo"].client],
                                  approach="relapse_prevention", duration_minutes=90)
    assert group.participants.count() == 2
