"""Key rotation (docs/encryption.md): re-wrap every data key under the new KEK, then retire the old one."""

from __future__ import annotations

import contextlib
import datetime
import io
import threading
import time
import uuid
from types import SimpleNamespace
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from casemgmt import crypto, rotation
from casemgmt.models import AuditAction, AuditEvent, DataKey
from tests.cryptotest.models import Person, Visit

OLD, NEW = "test-kek-1", "test-kek-2"


def person(n: int) -> Person:
    row = Person(given_name=f"Given {n}", family_name=f"ត្រកូល {n}", date_of_birth=datetime.date(1980, 1, 1 + n % 28),
                 phone="012 345 678", notes=f"note {n} 🙂", extra={"n": n})
    row.save()
    return row


def expected(row_or_n) -> tuple:
    n = row_or_n if isinstance(row_or_n, int) else int(row_or_n.given_name.split()[1])
    return f"Given {n}", f"ត្រកូល {n}", datetime.date(1980, 1, 1 + n % 28), f"note {n} 🙂", {"n": n}


def read(row: Person) -> tuple:
    return row.given_name, row.family_name, row.date_of_birth, row.notes, row.extra


def add_new_kek(settings) -> str:
    """A second KEK, made active; the first stays configured."""
    new_key = crypto.new_key()
    settings.CASEMGMT_KEKS = f"{settings.CASEMGMT_KEKS},{NEW}:{new_key}"
    settings.CASEMGMT_ACTIVE_KEK = NEW
    crypto.reset_keyring()
    return new_key


def retire_old_kek(settings, new_key: str) -> None:
    settings.CASEMGMT_KEKS = f"{NEW}:{new_key}"
    settings.CASEMGMT_ACTIVE_KEK = NEW
    crypto.reset_keyring()


def rotate(*args: str) -> str:
    out = io.StringIO()
    call_command("rotate_keys", *args, stdout=out)
    return out.getvalue()


def wrapped_keys() -> dict:
    return {row.subject_id: (row.kek_id, bytes(row.wrapped_key) if row.wrapped_key is not None else None)
            for row in DataKey.objects.all()}


@pytest.fixture
def subjects(db):
    people = [person(n) for n in range(7)]
    for row in people[:3]:
        Visit.objects.create(person=row, summary=f"visit of {row.given_name}")
    return people


@pytest.mark.django_db
def test_rotate_keys_rewraps_every_data_key_under_the_new_kek(settings, subjects):
    before = wrapped_keys()
    assert {kek for kek, _ in before.values()} == {OLD}
    new_key = add_new_kek(settings)

    output = rotate("--batch-size", "3")

    after = wrapped_keys()
    assert set(after) == set(before)
    assert {kek for kek, _ in after.values()} == {NEW}
    assert all(after[s][1] != before[s][1] for s in before)
    assert DataKey.objects.filter(rotated_at__isnull=True).count() == 0
    assert "Re-wrapped 7 data keys" in output
    assert "can now be retired" in output
    event = AuditEvent.objects.get(action=AuditAction.KEY_ROTATED)
    assert event.object_id == NEW
    assert new_key not in repr(event.__dict__) and new_key not in output

    retire_old_kek(settings, new_key)
    for row in Person.objects.all():
        assert read(row) == expected(row)
    assert sorted(v.summary for v in Visit.objects.all()) == [f"visit of Given {n}" for n in range(3)]


@pytest.mark.django_db
def test_without_rotation_retiring_the_old_kek_loses_access(settings, subjects):
    new_key = add_new_kek(settings)
    retire_old_kek(settings, new_key)

    with pytest.raises(crypto.KeyConfigurationError, match="not configured"):
        _ = Person.objects.get(pk=subjects[0].pk).given_name


@pytest.mark.django_db
def test_new_data_keys_are_made_under_the_active_kek(settings, subjects):
    add_new_kek(settings)

    row = person(100)

    assert DataKey.objects.get(subject_id=row.pk).kek_id == NEW


@pytest.mark.django_db
def test_rotating_twice_is_idempotent(settings, subjects):
    new_key = add_new_kek(settings)
    rotate()
    first = wrapped_keys()

    output = rotate()

    assert wrapped_keys() == first
    assert "Re-wrapped 0 data keys. 0 remain" in output
    retire_old_kek(settings, new_key)
    assert [read(row) for row in Person.objects.all()] == [expected(row) for row in Person.objects.all()]


@pytest.mark.django_db
def test_rotating_with_nothing_to_do_changes_nothing(subjects):
    before = wrapped_keys()

    output = rotate()

    assert wrapped_keys() == before
    assert "Re-wrapped 0 data keys" in output


@pytest.mark.django_db
def test_dry_run_changes_nothing(settings, subjects):
    add_new_kek(settings)
    before = wrapped_keys()
    events = AuditEvent.objects.count()

    output = rotate("--dry-run")

    assert wrapped_keys() == before
    assert AuditEvent.objects.count() == events
    assert f"7 data keys would be re-wrapped under {NEW}" in output


@pytest.mark.django_db
def test_an_interrupted_rotation_keeps_its_finished_batches_and_resumes(settings, subjects):
    new_key = add_new_kek(settings)
    real_wrap = crypto.wrap_data_key
    calls = []

    def crash_in_second_batch(*args, **kwargs):
        calls.append(1)
        if len(calls) == 4:  # batch size 3: the first wrap of the second batch
            raise RuntimeError("power cut")
        return real_wrap(*args, **kwargs)

    with mock.patch.object(crypto, "wrap_data_key", side_effect=crash_in_second_batch), \
            pytest.raises(RuntimeError, match="power cut"):
        rotate("--batch-size", "3")

    keks = [kek for kek, _ in wrapped_keys().values()]
    assert keks.count(NEW) == 3
    assert keks.count(OLD) == 4
    assert [read(row) for row in Person.objects.all()] == [expected(row) for row in Person.objects.all()]

    output = rotate("--batch-size", "3")

    assert "Re-wrapped 4 data keys" in output
    assert {kek for kek, _ in wrapped_keys().values()} == {NEW}
    retire_old_kek(settings, new_key)
    assert [read(row) for row in Person.objects.all()] == [expected(row) for row in Person.objects.all()]


@pytest.mark.django_db
def test_progress_is_shown(settings, subjects):
    add_new_kek(settings)

    output = rotate("--batch-size", "2")

    assert "Re-wrapping 7 data keys" in output
    assert output.count("/s") == 4  # one line per batch: 2 + 2 + 2 + 1
    assert "7/7" in output


@pytest.mark.django_db
def test_erased_subjects_stay_erased(settings, subjects):
    crypto.destroy_data_key(subjects[0].pk)
    new_key = add_new_kek(settings)

    rotate()

    erased = DataKey.objects.get(subject_id=subjects[0].pk)
    assert erased.wrapped_key is None and erased.destroyed_at is not None
    retire_old_kek(settings, new_key)
    assert str(Person.objects.get(pk=subjects[0].pk).given_name) == "[erased]"
    assert Person.objects.get(pk=subjects[1].pk).given_name == "Given 1"


@pytest.mark.django_db
def test_a_data_key_under_an_unknown_kek_stops_the_rotation_with_a_clear_error(settings, subjects):
    DataKey.objects.filter(subject_id=subjects[0].pk).update(kek_id="lost-kek")
    add_new_kek(settings)

    with pytest.raises(crypto.KeyConfigurationError, match="'lost-kek', which is not configured"):
        rotate()


# --------------------------------------------------------------------------------------------
# At scale, while the site keeps writing


SEEDED = 10_000


def seed_data_keys(count: int) -> list[uuid.UUID]:
    ring = crypto.keyring()
    rows = []
    for _ in range(count):
        subject = uuid.uuid4()
        dek = crypto.AESGCM.generate_key(bit_length=256)
        rows.append(DataKey(subject_id=subject, wrapped_key=crypto.wrap_data_key(subject, dek, ring.active_kek, ring),
                            kek_id=ring.active_kek))
    DataKey.objects.bulk_create(rows, batch_size=2000)
    return [row.subject_id for row in rows]


@contextlib.contextmanager
def writers_take_turns(turn: threading.Semaphore, done: threading.Semaphore):
    """SQLite's in-memory test database has one writer at a time and no busy timeout (shared cache):
    there, one registration goes in between two batches of the rotation instead of alongside them."""
    real_atomic = transaction.atomic

    @contextlib.contextmanager
    def atomic_then_let_a_writer_in(*args, **kwargs):
        with real_atomic(*args, **kwargs):
            yield
        turn.release()
        assert done.acquire(timeout=10), "the writer thread did not take its turn"

    with mock.patch.object(rotation, "transaction", SimpleNamespace(atomic=atomic_then_let_a_writer_in)):
        yield


@pytest.mark.django_db(transaction=True)
def test_rotating_ten_thousand_keys_while_people_are_registered_loses_nothing(settings):
    seeded = seed_data_keys(SEEDED)
    existing = [person(n) for n in range(25)]
    new_key = add_new_kek(settings)

    take_turns = connection.vendor == "sqlite"
    turn, done = threading.Semaphore(0), threading.Semaphore(0)
    created: list[uuid.UUID] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def register_people() -> None:
        n = 1000
        try:
            while not stop.is_set():
                if take_turns and not turn.acquire(timeout=0.05):
                    continue
                created.append(person(n).pk)
                n += 1
                done.release()
        except BaseException as exc:  # noqa: BLE001 - reported by the test thread
            errors.append(exc)
            done.release()
        finally:
            connection.close()

    writer = threading.Thread(target=register_people, name="registrations")
    writer.start()
    try:
        turn.release()
        assert done.acquire(timeout=10), "the writer thread did not start"
        started = time.monotonic()
        with writers_take_turns(turn, done) if take_turns else contextlib.nullcontext():
            output = rotate("--batch-size", "500")
        elapsed = time.monotonic() - started
        during = len(created) - 1
        time.sleep(0.1)  # and a little after
    finally:
        stop.set()
        writer.join(30)

    assert not writer.is_alive()
    assert errors == []
    assert during > 0, "no registration happened while the rotation ran"
    assert f"Re-wrapped {SEEDED + len(existing):,}" in output, output[-500:]
    assert elapsed < 30

    retire_old_kek(settings, new_key)
    assert DataKey.objects.count() == SEEDED + len(existing) + len(created)
    assert set(DataKey.objects.values_list("kek_id", flat=True).distinct()) == {NEW}
    assert not rotation.data_keys_to_rotate().exists()
    people = list(Person.objects.all())
    assert len(people) == len(existing) + len(created)
    for row in people:
        assert read(row) == expected(row)
    ring = crypto.keyring()
    for key in DataKey.objects.filter(subject_id__in=seeded).iterator(chunk_size=2000):
        assert len(crypto.unwrap_data_key(key.subject_id, key.wrapped_key, key.kek_id, ring)) == crypto.KEY_BYTES
