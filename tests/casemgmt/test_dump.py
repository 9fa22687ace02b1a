"""A database dump is a pseudonymised data set (DESIGN.md §3): no identifier or note in clear."""

from __future__ import annotations

import datetime
import os
import secrets
import shutil
import subprocess
from pathlib import Path

import pytest
from django.db import connection
from faker import Faker

from casemgmt.models import DataKey
from tests.cryptotest.models import Person, Visit

VALUES = 200


def pg_dump_binary() -> str | None:
    bindir = os.environ.get("CASEMGMT_PG_BINDIR")
    if bindir and Path(bindir, "pg_dump").exists():
        return str(Path(bindir, "pg_dump"))
    return shutil.which("pg_dump")


def dump_database() -> str:
    """The whole database as pg_dump writes it (plain SQL, data included)."""
    settings = connection.settings_dict
    command = [pg_dump_binary(), "--no-password", "--dbname", settings["NAME"], "--username", settings["USER"]]
    if settings["HOST"]:
        command += ["--host", settings["HOST"]]
    if settings["PORT"]:
        command += ["--port", str(settings["PORT"])]
    env = dict(os.environ, PGPASSWORD=settings["PASSWORD"] or "")
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    if result.returncode != 0 and os.geteuid() == 0 and shutil.which("runuser"):
        # As root, the socket directory of a throwaway cluster may belong to the postgres user.
        result = subprocess.run(["runuser", "-u", "postgres", "--", *command], capture_output=True, text=True,
                                env=env, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.fixture
def postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("pg_dump needs PostgreSQL; this run uses SQLite (set DATABASE_URL or use scripts/with_postgres.py)")
    if not pg_dump_binary():
        pytest.skip("pg_dump is not installed (set CASEMGMT_PG_BINDIR)")


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
    assert dump.count("cm1:") >= VALUES
    assert DataKey.objects.count() == len(people)

    leaked = [marker for marker in markers if marker in dump]
    assert leaked == []
    plain = [
        value for row in people
        for value in (row.given_name, row.family_name, row.notes, row.phone, row.national_id,
                      row.date_of_birth.isoformat())
        if value in dump
    ]
    assert plain == []
