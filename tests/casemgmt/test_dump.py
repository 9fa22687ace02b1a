"""A database dump is a pseudonymised data set (docs/encryption.md): no identifier or note in clear."""

from __future__ import annotations

import datetime
import secrets

import pytest
from django.db import connection
from faker import Faker

from casemgmt.models import DataKey
from tests.cryptotest.models import Person, Visit
from tests.pgdump import dump_database, shows, stored_values_in

VALUES = 200


@pytest.mark.django_db(transaction=True)
def test_a_dump_holds_no_plaintext(postgresql_only):
    fake = Faker("en_US")
    fake.seed_instance(secrets.randbits(32))
    khmer_names = ["សុខ", "ចាន់", "ដារ៉ា", "សុភា", "វណ្ណា", "កែវ"]
    markers: list[str] = []

    def marked(text: str) -> str:
        # A token that cannot occur by chance: if it is in the dump, the value leaked.
        token = f"zq{secrets.token_hex(6)}"
        markers.append(token)
        return f"{text} {token}"

    people = []
    for _ in range(VALUES // 5):
        row = Person(
            given_name=marked(f"{fake.first_name()} {fake.random_element(khmer_names)}"),
            family_name=marked(fake.last_name()),
            phone=f"0{10_000_000 + secrets.randbelow(90_000_000)}",
            national_id=marked("N"),
            notes=marked(fake.sentence()),
            date_of_birth=fake.date_between(datetime.date(1950, 1, 1), datetime.date(2005, 12, 31)),
            extra={"note": "synthetic"},
        )
        row.save()
        people.append(row)
        Visit.objects.create(person=row, summary=marked(fake.paragraph()))
    markers_per_row = len(markers) // len(people)
    assert len(markers) == VALUES and markers_per_row == 5

    dump = dump_database()

    # The dump is real: it holds every row, as ciphertext.
    assert "COPY public.cryptotest_person" in dump
    for row in people[:5]:
        assert str(row.pk) in dump
    assert stored_values_in(dump) >= VALUES
    assert DataKey.objects.count() == len(people)

    leaked = [marker for marker in markers if shows(dump, marker)]
    assert leaked == []
    plain = [
        value for row in people
        for value in (row.given_name, row.family_name, row.notes, row.phone, row.national_id,
                      row.date_of_birth.isoformat())
        if shows(dump, value)
    ]
    assert plain == []


@pytest.mark.django_db(transaction=True)
def test_the_dump_check_sees_plaintext_written_into_a_binary_column(postgresql_only):
    # The test above can fail: a value stored unencrypted in a binary column shows in the dump (as hex).
    row = Person(given_name="Dara", family_name="Sok")
    row.save()
    marker = f"zq{secrets.token_hex(6)} ដារ៉ា"
    with connection.cursor() as cursor:
        cursor.execute("UPDATE cryptotest_person SET notes = %s WHERE id = %s", [marker.encode(), row.pk])

    dump = dump_database()

    assert shows(dump, marker)
    assert stored_values_in(dump) >= 2  # the two names, encrypted
