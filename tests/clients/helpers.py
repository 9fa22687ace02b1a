"""Shared helpers for the clients tests: form data builders and short-cuts through the real pages.

All people are obviously synthetic ("Testgiven", "Synthfamily", phone 012 345 678 ...).
"""

from __future__ import annotations

import datetime
import re
import uuid

from django.urls import resolve, reverse
from django.utils import timezone
from django.utils.html import escape

from clients import assist, services
from clients.models import Client, ClientGroupObjectPermission, ClientUserObjectPermission
from clients.uic import compute_uic

DEFAULT_IDENTITY = {
    "given_name": "Testdara",
    "family_name": "Synthsok",
    "other_names": "",
    "date_of_birth": "1990-01-02",
    "phone": "012 345 678",
    "village": "Test village",
    "commune": "Test commune",
    "district": "Test district",
    "national_id": "",
    "mother_first_name": "Srey",
    "father_first_name": "Dara",
    "sex": "M",
    "province": "KH-12",
}

NOT_USED = {"q1": "no"}
NO_CONCERN = {"q6": "no", "q7": "no"}


def identity_data(**overrides) -> dict:
    """POST data of the register (or identity) form for one synthetic person."""
    data = dict(DEFAULT_IDENTITY)
    data.update(overrides)
    return data


def person(n: int, **overrides) -> dict:
    """A distinct synthetic person (distinct names, phone, date of birth, national ID and so UIC)."""
    birth = datetime.date(1970, 1, 1) + datetime.timedelta(days=97 * n + 13)
    return identity_data(**{
        "given_name": f"Testgiven{n:03d}",
        "family_name": f"Synthfamily{n:03d}",
        "date_of_birth": birth.isoformat(),
        "phone": f"097 {n:03d} {n * 7 % 1000:03d}",
        "national_id": f"TEST-{n:05d}",
        "mother_first_name": f"Mo{chr(65 + n % 26)}mother",
        "father_first_name": f"Fa{chr(65 + n * 7 % 26)}father",
        **overrides,
    })


def uic_of(data: dict) -> str:
    """The UIC the register form will compute for ``data``."""
    return compute_uic(mother_first_name=data["mother_first_name"], father_first_name=data["father_first_name"],
                       sex=data["sex"], date_of_birth=datetime.date.fromisoformat(data["date_of_birth"]))


def register(client, *, confirm: bool = False, population_groups=(), **overrides):
    """POST the register form (``client`` is Django's test client, signed in)."""
    data = identity_data(**overrides)
    if population_groups:
        data["population_groups"] = list(population_groups)
    if confirm:
        data["confirm_distinct"] = "on"
    return client.post(reverse("clients:register"), data)


def client_from_redirect(response) -> Client:
    assert response.status_code == 302, _errors_of(response)
    match = resolve(response.url)
    assert match.view_name == "clients:detail", response.url
    return Client.objects.get(pk=match.kwargs["client_id"])


def registered(client, **overrides) -> Client:
    """Register through the page and return the new record."""
    return client_from_redirect(register(client, **overrides))


def _errors_of(response) -> object:
    context = getattr(response, "context", None)
    if context and "form" in context:
        return context["form"].errors
    return response.status_code


def make_client(*, actor, organisation, n: int = 0, population_groups=(), **overrides) -> Client:
    """Register through the service: quick setup where the page itself is not under test."""
    data = person(n, **overrides)
    identity = {name: data[name] for name in services.IDENTITY_FIELDS}
    identity["date_of_birth"] = datetime.date.fromisoformat(identity["date_of_birth"])
    identity["national_id"] = identity["national_id"] or None
    return services.client_register(actor=actor, organisation=organisation, identity=identity,
                                    population_groups=population_groups)


def give_consent(client_obj: Client, *, actor, given_on: datetime.date | None = None, **kwargs):
    """An active treatment consent (signed), through the service."""
    kwargs.setdefault("kind", "treatment")
    kwargs.setdefault("method", "signed")
    return services.consent_record(actor=actor, client=client_obj, given_on=given_on or timezone.localdate(),
                                   **kwargs)


def consent_data(**overrides) -> dict:
    """POST data of the consent form: a signed treatment consent given today, its wording read in English (the
    versions the page showed are left out: the ones in use are recorded)."""
    data = {
        "kind": "treatment", "partner": "", "purpose": "", "given_on": timezone.localdate().isoformat(),
        "expires_on": "", "method": "signed", "witness_name": "", "language": "en",
    }
    data.update(overrides)
    return data


def used(**answers: str) -> dict:
    """An ASSIST block for a substance ever used; Q6 and Q7 default to "no"."""
    return {"q1": "yes", **NO_CONCERN, **answers}


def full_screening_data(*, screened_on: datetime.date | None = None, q8: str = "no", hiv_status: str = "never_tested",
                        intake: dict | None = None, **substances: dict) -> dict:
    """POST data of the screening form: every substance answered (never used unless given), Q8, the intake."""
    data = {
        "screened_on": (screened_on or timezone.localdate()).isoformat(),
        "q8": q8,
        "primary_substance": "",
        "route": "",
        "age_first_use": "",
        "hiv_status": hiv_status,
        "hiv_tested_on": "",
        "hepatitis_b": "unknown",
        "hepatitis_c": "unknown",
        "notes": "",
    }
    for substance in assist.SUBSTANCES:
        for question, answer in substances.get(substance, NOT_USED).items():
            data[f"{substance}__{question}"] = answer
    data.update(intake or {})
    return data


def assert_field_error(response, field: str, message) -> None:
    """The page came back (200) with ``message`` under ``field``, as a user would read it."""
    assert response.status_code == 200
    form = response.context["form"]
    assert str(message) in [str(error) for error in form.errors.get(field, [])], form.errors
    assert escape(str(message)) in response.content.decode()


def detail_url(client_obj) -> str:
    return reverse("clients:detail", args=[client_obj.pk])


def title_of(html: str) -> str:
    match = re.search(r"<title>(.*?)</title>", html, re.S)
    assert match, "the page has a <title>"
    return match.group(1)


def is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def grants(case) -> set[tuple[str, str]]:
    """(user name or group name, permission codename) of every object grant on the client."""
    users = {(p.user.username, p.permission.codename)
             for p in ClientUserObjectPermission.objects.filter(content_object=case).select_related("user",
                                                                                                   "permission")}
    groups = {(p.group.name, p.permission.codename)
              for p in ClientGroupObjectPermission.objects.filter(content_object=case).select_related("group",
                                                                                                     "permission")}
    return users | groups
