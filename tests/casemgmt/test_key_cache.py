"""The in-process cache of unwrapped data keys (docs/encryption.md): bounded, short-lived, and erasure-safe."""

from __future__ import annotations

import uuid

import pytest
from django.test import override_settings
from django.utils import timezone

from casemgmt import crypto, fields
from casemgmt.models import DataKey
from tests.cryptotest.models import Person

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock(monkeypatch):
    """The cache's clock, moved by hand."""
    now = [1_000.0]
    monkeypatch.setattr(crypto, "_monotonic", lambda: now[0])
    return now


def cipher():
    return crypto.AESGCM(crypto.AESGCM.generate_key(bit_length=256))


def test_a_hit_gives_the_cached_cipher_by_uuid_or_text():
    subject, key = uuid.uuid4(), cipher()
    crypto.data_key_cache.put(subject, key)

    assert crypto.data_key_cache.get(subject) is key
    assert crypto.data_key_cache.get(uuid.UUID(str(subject))) is key  # an equal UUID, not the same object
    assert crypto.data_key_cache.get(str(subject)) is key


@override_settings(CASEMGMT_DATA_KEY_CACHE_SECONDS=60)
def test_an_entry_expires_even_while_it_is_being_hit(clock):
    subject = uuid.uuid4()
    crypto.data_key_cache.put(subject, cipher())

    for _ in range(59):
        clock[0] += 1
        assert crypto.data_key_cache.get(subject) is not None
    clock[0] += 1

    assert crypto.data_key_cache.get(subject) is None


@override_settings(CASEMGMT_DATA_KEY_CACHE_SIZE=3)
def test_the_cache_stays_within_its_size():
    for _ in range(50):
        crypto.data_key_cache.put(uuid.uuid4(), cipher())

    assert len(crypto.data_key_cache) == 3


@override_settings(CASEMGMT_DATA_KEY_CACHE_SIZE=3)
def test_a_recently_used_key_outlives_an_unused_older_one():
    first, second, third, fourth = (uuid.uuid4() for _ in range(4))
    for subject in (first, second, third):
        crypto.data_key_cache.put(subject, cipher())
    assert crypto.data_key_cache.get(first) is not None  # used: gets a second chance

    crypto.data_key_cache.put(fourth, cipher())

    assert crypto.data_key_cache.get(second) is None
    assert all(crypto.data_key_cache.get(s) is not None for s in (first, third, fourth))


@override_settings(CASEMGMT_DATA_KEY_CACHE_SIZE=2, CASEMGMT_DATA_KEY_CACHE_SECONDS=60)
def test_an_expired_key_gets_no_second_chance(clock):
    old, recent, new = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    crypto.data_key_cache.put(old, cipher())
    clock[0] += 30
    crypto.data_key_cache.put(recent, cipher())
    crypto.data_key_cache.get(old)
    clock[0] += 31

    crypto.data_key_cache.put(new, cipher())

    assert crypto.data_key_cache.get(old) is None
    assert crypto.data_key_cache.get(recent) is not None


def test_a_discarded_key_is_gone():
    subject = uuid.uuid4()
    crypto.data_key_cache.put(subject, cipher())

    crypto.data_key_cache.discard(subject)

    assert crypto.data_key_cache.get(subject) is None


def test_an_instance_partly_read_before_the_erasure_reads_the_rest_as_erased():
    # No cipher is kept on the instance: each value opened goes to the process's cache,
    # which the erasure emptied for this subject.
    row = Person.objects.create(given_name="Dara", family_name="Sok", notes="note")
    loaded = Person.objects.get(pk=row.pk)
    assert loaded.given_name == "Dara"

    crypto.destroy_data_key(row.pk)

    assert loaded.given_name == "Dara"  # opened before: kept as read
    assert loaded.family_name is fields.ERASED
    assert loaded.notes is fields.ERASED


@override_settings(CASEMGMT_DATA_KEY_CACHE_SECONDS=60)
def test_a_key_destroyed_by_another_process_stops_working_here_when_its_entry_expires(clock):
    row = Person.objects.create(given_name="Dara", family_name="Sok")
    assert Person.objects.get(pk=row.pk).given_name == "Dara"  # the key is now cached here
    DataKey.objects.filter(subject_id=row.pk).update(wrapped_key=None, kek_id="", destroyed_at=timezone.now())

    assert Person.objects.get(pk=row.pk).given_name == "Dara"  # within the time limit
    clock[0] += 61

    assert Person.objects.get(pk=row.pk).given_name is fields.ERASED
