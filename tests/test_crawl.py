"""Every page every actor can reach by following links works, and shows no client they may not see.

Each named actor signs in and follows every same-site link from their home page and their menu (GET only,
bounded; tests/crawl.py). The world is demo-like, made with the services: canary clients with distinctive
synthetic identities at both centres and the prison, with consents (one shared with the partner), screenings,
custody and a transfer request. A new feature's pages are crawled without a line here: they are reached through
its menu links and the links other pages show; what its pages may legitimately show, and the records they need,
it declares in ``tests/<app>/crawl.py``.
"""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from casemgmt import normalise
from clients import services
from tests.access_matrix import ROLE_OF_ACTOR
from tests.clients.factories import client_identity, screening_answers
from tests.conftest import sign_in
from tests.crawl import Canary, allowed_fields, app_modules, crawl, leaks, start_urls

# key: (organisation, counsellor or None: waiting for one, registered by the centre manager or the counsellor)
CANARIES = {
    "alpha": ("centre_a", "alice"),
    "bravo": ("centre_a", None),  # waiting for a counsellor: mona's, never alice's
    "charlie": ("centre_b", "bob"),
    "delta": ("prison", "pete"),
    "echo": ("centre_a", "alice"),  # in custody at the prison: still never pete's
}
REGISTRAR = {"centre_a": "mona", "centre_b": "nina", "prison": "pete"}


def canary_identity(key: str, n: int) -> dict:
    """Values found nowhere else on any page: names, phone, national ID, parents' names and so the UIC."""
    return client_identity(
        given_name=f"Canary{key}", family_name=f"Crawl{key}", other_names=f"Alias{key}",
        date_of_birth=datetime.date(1980 + n, n, 10 + n), phone=f"096 48{n} 73{n}{n}",
        national_id=f"CANARY-ID-{key.upper()}", mother_first_name=f"Zq{key}", father_first_name=f"Xj{key}",
        village=f"Village{key}",
    )


def marks_of(client, identity: dict) -> dict[str, tuple[str, ...]]:
    phone = normalise.phone(identity["phone"])
    marks = {name: (identity[name],) for name in ("given_name", "family_name", "other_names", "village",
                                                    "mother_first_name", "father_first_name")}
    marks["phone"] = (identity["phone"], phone, phone.removeprefix("+855"))
    marks["national_id"] = (identity["national_id"], normalise.id_number(identity["national_id"]))
    marks["uic"] = (client.uic,)
    return marks


@pytest.fixture
def world(actors, centre_a, centre_b, prison, partner, ministry):
    organisations = {"centre_a": centre_a, "centre_b": centre_b, "prison": prison, "partner": partner,
                     "ministry": ministry}
    today = timezone.localdate()
    canaries = {}
    for n, (key, (where, counsellor)) in enumerate(CANARIES.items(), 1):
        identity = canary_identity(key, n)
        actor = actors[counsellor or REGISTRAR[where]]
        client = services.client_register(actor=actor, organisation=organisations[where], identity=identity,
                                          population_groups=["pwid"])
        services.consent_record(actor=actor, client=client, kind="treatment", method="signed",
                                given_on=today - datetime.timedelta(days=40))
        canaries[key] = Canary(key=key, client=client, marks=marks_of(client, identity))
    alice, bob, pete = actors["alice"], actors["bob"], actors["pete"]
    services.consent_record(actor=alice, client=canaries["alpha"].client, kind="sharing", partner=partner,
                            purpose="HIV testing", categories=["identity", "contact"], method="signed",
                            given_on=today - datetime.timedelta(days=30))
    for key, actor in (("alpha", alice), ("charlie", bob), ("delta", pete)):
        services.screening_record(
            actor=actor, client=canaries[key].client, screened_on=today - datetime.timedelta(days=20),
            answers=screening_answers(amphetamine={"q1": "yes", "q2": "weekly", "q3": "weekly", "q4": "monthly",
                                                   "q5": "never", "q6": "yes_recent", "q7": "no"}),
            q8="yes_recent", intake={"hiv_status": "never_tested", "primary_substance": "amphetamine"})
    for key, actor, days in (("delta", pete, 10), ("echo", alice, 5)):
        services.custody_admit(actor=actor, client=canaries[key].client, facility=prison,
                               admitted_on=today - datetime.timedelta(days=200),
                               expected_release_on=today + datetime.timedelta(days=days))
    services.transfer_request_create(actor=bob, client=canaries["bravo"].client)
    world = {"actors": actors, "organisations": organisations, "canaries": canaries}
    for module in app_modules():
        if hasattr(module, "objects"):
            module.objects(world)
    return world


def crawl_as(client, world: dict, name: str):
    user = world["actors"][name]
    sign_in(client, user)
    return crawl(client, start=start_urls(user))


def allowed_for(world: dict, name: str):
    user = world["actors"][name]
    return lambda canary: allowed_fields(actor=name, user=user, canary=canary, world=world)


@pytest.mark.parametrize("name", list(ROLE_OF_ACTOR))
def test_every_page_an_actor_reaches_works_and_shows_no_client_they_may_not_see(client, world, name):
    result = crawl_as(client, world, name)

    failed = [f"{v.status} {v.url} (linked from {v.found_on}) {v.error}" for v in result.visits if v.status >= 500]
    dead = [f"{v.status} {v.url} (linked from {v.found_on})" for v in result.visits if 400 <= v.status < 500]
    shown = leaks(result, canaries=world["canaries"].values(), allowed=allowed_for(world, name))
    assert (failed, dead, shown) == ([], [], [])


def test_the_crawl_reaches_the_case_file_and_every_registered_menu_link(client, world):
    alpha = world["canaries"]["alpha"].client
    result = crawl_as(client, world, "alice")

    assert {reverse("clients:detail", args=[alpha.pk]), reverse("clients:screening_add", args=[alpha.pk]),
            reverse("clients:search"),
            reverse("featureapp:notices")} <= result.urls
    assert [v for v in result.visits if v.url == reverse("clients:detail", args=[alpha.pk])][0].status == 200


def test_a_page_showing_a_client_to_someone_who_may_not_see_it_is_reported(client, world):
    result = crawl_as(client, world, "alice")

    found = leaks(result, canaries=[world["canaries"]["alpha"]], allowed=lambda canary: set())

    detail = reverse("clients:detail", args=[world["canaries"]["alpha"].client.pk])
    assert any(line.startswith(f"{detail} ") and "given_name, family_name, other_names, phone, national_id, uic"
               in line for line in found)
