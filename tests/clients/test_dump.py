"""A dump of the database after registering clients through the pages holds no identifier in clear."""

from __future__ import annotations

import secrets

import pytest
from django.urls import reverse

from casemgmt.normalise import id_number, phone
from clients.models import Client
from tests.clients.helpers import client_from_redirect, consent_data, full_screening_data, register, uic_of
from tests.conftest import sign_in
from tests.pgdump import dump_database, shows, stored_values_in

PEOPLE = 4


def synthetic_person(i: int) -> dict:
    """A person whose every identifier holds a random token, so that finding it in the dump means a leak."""
    token = secrets.token_hex(4)
    digits = f"{secrets.randbelow(10**6):06d}"
    return {
        "given_name": f"Zqgiven{token}", "family_name": f"Zqfamily{token}", "other_names": f"Zqalias{token}",
        "date_of_birth": f"19{71 + i}-0{3 + i}-1{7 - i}", "phone": f"097 {digits[:3]} {digits[3:]}",
        "village": f"Zqvillage{token}", "commune": f"Zqcommune{token}", "district": f"Zqdistrict{token}",
        "national_id": f"ZQN-{token}-{i}", "mother_first_name": f"Qw{token}", "father_first_name": f"Jx{token}",
        "sex": "MFX"[i % 3], "province": "KH-12",
    }


def secrets_of(data: dict) -> dict[str, str]:
    """Each identifier as typed, and in the normalised forms an index or a log might have used."""
    values = {name: data[name] for name in ("given_name", "family_name", "other_names", "date_of_birth", "phone",
                                            "village", "commune", "district", "national_id", "mother_first_name",
                                            "father_first_name")}
    values["phone_e164"] = phone(data["phone"])
    values["phone_digits"] = data["phone"].replace(" ", "")
    values["national_id_normalised"] = id_number(data["national_id"])
    values["uic"] = uic_of(data)
    return values


@pytest.mark.django_db(transaction=True)
def test_a_dump_after_registering_through_the_pages_holds_no_identifier(postgresql_only, client, alice):
    sign_in(client, alice)
    people = [synthetic_person(i) for i in range(PEOPLE)]
    clients = [client_from_redirect(register(client, population_groups=["pwid"], **data)) for data in people]
    case = clients[0]
    witness, purpose, note = (f"Zqwitness{secrets.token_hex(4)}", f"Zqpurpose{secrets.token_hex(4)}",
                              f"Zqnote{secrets.token_hex(4)}")
    assert client.post(reverse("clients:consent_add", args=[case.pk]),
                       consent_data(method="verbal", witness_name=witness, purpose=purpose)).status_code == 302
    assert client.post(reverse("clients:screening_add", args=[case.pk]),
                       full_screening_data(intake={"notes": note})).status_code == 302
    for other in clients[1:]:
        client.get(reverse("clients:detail", args=[other.pk]))  # reads are audited too

    dump = dump_database()

    # The dump is real: it holds every client row, as ciphertext.
    assert "COPY public.clients_client " in dump
    assert all(str(c.pk) in dump for c in clients)
    assert stored_values_in(dump) >= PEOPLE * 12
    assert Client.objects.count() == PEOPLE

    leaked = {f"{i}.{name}": value for i, data in enumerate(people) for name, value in secrets_of(data).items()
              if shows(dump, value)}
    assert leaked == {}
    assert [value for value in (witness, purpose, note) if shows(dump, value)] == []
