"""Field-level encryption (docs/encryption.md): the cost of the field path next to bare AES-GCM,
data-key unwrapping with and without the cache, blind indexes, and key rotation at scale.

Targets
    field encrypt / decrypt      median within 2x of a bare AES-GCM call on the same bytes,
                                 for a name (27 bytes of Khmer UTF-8)
    key rotation                 ≥ 5,000 data keys per second on PostgreSQL

The 2 KB note rows are information, with no target: at that size the UTF-8 codec a text
field needs costs about as much as AES-GCM itself (with AES-NI).

Every ratio row carries a breakdown, measured in a run of its own (the field path and each
part timed in turn): UTF-8, AES-GCM, and the rest, which is the Python around them (for
decrypt: the field's converter making the ``Sealed`` value, the descriptor, the data-key
cache, the associated data, what is kept to save the value unchanged).

For a name, decrypt misses the 2x target on CPython. The row "least lazy attribute" measures
why: an attribute that only looks the key up, builds the associated data, splits the stored
value, calls AES-GCM and decodes the text, with none of the field's safety checks, already
takes 1.7-1.9x of the bare call (Python 3.11, a 2-CPU x86-64 VM): each of those steps is a
fixed interpreter cost of the order of the cipher's on 27 bytes. The field stays between
2.3x and 2.5x: its converter and ``Sealed`` value (~0.4 µs), the key cache's time limit, the
format version and row checks, and what it keeps for re-saving. Stored as text (cm1: +
base64, before migration clients 0005) it was 3.0x.
"""

from __future__ import annotations

import datetime
import gc
import io
import os
import statistics
import time
import uuid

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from bench.common import Context, Result, latency, peak_rss_mib, time_each, time_pair
from casemgmt import crypto
from casemgmt.models import DataKey
from tests.cryptotest.models import Person

SUITE = "crypto"
RATIO_TARGET = 2.0
ROTATION_TARGET = 5_000  # data keys per second
ROTATION_KEYS = 100_000
SHORT = "សុខ ដារ៉ា"  # a Khmer name: 27 bytes of UTF-8
LONG = ("Counselling note: " + "ការប្រឹក្សាយោបល់ 🙂 follow-up in two weeks. " * 40)[:2000]


def _ratio(suite_name: str, field_samples: list[float], bare_samples: list[float], *, targeted: bool,
           breakdown: str) -> Result:
    """Information, no verdict: the per-value target (2x bare AES-GCM) was retired by the counselling issue in
    favour of what a user feels, encryption's share of each page's time (at most 10%, judged by the page
    suites). ``targeted`` rows say what the old target was."""
    ratio = statistics.median(field_samples) / statistics.median(bare_samples)
    was = f"retired target ≤ {RATIO_TARGET:g}x (now: ≤ 10% of each page's time); " if targeted else ""
    return Result(SUITE, suite_name, "x", value=ratio, note=f"{was}{breakdown}")


def _breakdown(field_path, parts: dict, *, runs: int) -> str:
    """Where the field path's time goes: it and each part timed in turn, in one run of their own."""
    names = ["field", *parts]
    fns = [field_path, *parts.values()]
    for _ in range(200):
        for fn in fns:
            fn()
    clock = time.perf_counter_ns
    samples: list[list[float]] = [[] for _ in fns]
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(runs):
            for fn, taken in zip(fns, samples, strict=True):
                started = clock()
                fn()
                taken.append((clock() - started) / 1000)
    finally:
        if was_enabled:
            gc.enable()
    medians = dict(zip(names, map(statistics.median, samples), strict=True))
    field = medians.pop("field")
    shown = [f"{name} {us:.2f}" for name, us in medians.items()]
    return f"field path {field:.2f} µs = {' + '.join(shown)} + rest {field - sum(medians.values()):.2f}"


class _LeastLazyAttribute:
    """The least an attribute that decrypts on first access can do, for comparison: not a design.

    It looks up the subject's key, builds the associated data, splits the stored value, calls
    AES-GCM, decodes the UTF-8 and keeps the result. It leaves out what the field adds for
    safety: the ``Sealed`` type telling a stored value from one assigned, the data-key cache's
    time limit, the format version check, the check that the row is still the one the value
    was bound to, and what is kept so that an unchanged value is saved without re-encrypting.
    """

    __slots__ = ("keys", "aad_prefix")

    def __init__(self, keys: dict, aad_prefix: bytes) -> None:
        self.keys = keys
        self.aad_prefix = aad_prefix

    def __get__(self, instance, owner):
        data = instance.__dict__
        value = data["value"]
        if value.__class__ is not bytes:
            return value
        row_id, binding = data["row"]
        cipher = self.keys[row_id.int]
        opened = data["value"] = cipher.decrypt(value[1:13], value[13:], self.aad_prefix + binding).decode()
        return opened

    def __set__(self, instance, value) -> None:  # a data descriptor, as a model field's must be
        instance.__dict__["value"] = value


def _field_paths(runs: int) -> list[Result]:
    results = []
    subject = Person(given_name="-", family_name="-")
    subject.save()  # makes, wraps and caches the subject's data key
    cipher = crypto.data_key(subject.pk)
    for label, text, field_name, targeted in (("name, 27 B", SHORT, "given_name", True),
                                              ("note, 2 KB", LONG, "notes", False)):
        field = Person._meta.get_field(field_name)
        instance = Person.objects.get(pk=subject.pk)
        instance.__dict__[field.attname] = text
        plaintext = text.encode("utf-8")
        aad = crypto.associated_data(field.label, instance.pk, version=instance.version)

        encrypt_field, encrypt_bare = time_pair(
            lambda f=field, i=instance: f.pre_save(i, True),
            lambda p=plaintext, a=aad: cipher.encrypt(os.urandom(crypto.NONCE_BYTES), p, a),
            runs=runs,
        )
        stored = bytes(field.pre_save(instance, True))  # as the database gives it back
        nonce, body = stored[1:crypto.NONCE_BYTES + 1], stored[crypto.NONCE_BYTES + 1:]
        # The notes: what the field path does besides AES-GCM that any field storing text must do.
        # (Before the value is opened below: saving an opened, unchanged value encrypts nothing.)
        encrypt_parts = _breakdown(lambda f=field, i=instance: f.pre_save(i, True), {
            "UTF-8": lambda t=text: t.encode("utf-8"),
            "AES-GCM": lambda p=plaintext, a=aad: cipher.encrypt(os.urandom(crypto.NONCE_BYTES), p, a),
        }, runs=runs)

        def open_through_descriptor(i=instance, f=field, s=stored, load=field.from_db_value):
            # The whole read: the database value through the field's converter, then the attribute.
            i.__dict__[f.attname] = load(s, None, connection)
            return getattr(i, f.attname)

        assert open_through_descriptor() == text
        decrypt_field, decrypt_bare = time_pair(
            open_through_descriptor, lambda n=nonce, b=body, a=aad: cipher.decrypt(n, b, a), runs=runs
        )
        decrypt_parts = _breakdown(open_through_descriptor, {
            "UTF-8": lambda p=plaintext: p.decode("utf-8"),
            "AES-GCM": lambda n=nonce, b=body, a=aad: cipher.decrypt(n, b, a),
        }, runs=runs)
        least = type("Least", (), {"value": _LeastLazyAttribute({instance.pk.int: cipher}, field.aad_prefix)})()
        least.__dict__["row"] = (instance.pk, crypto.row_binding(instance.pk, instance.version))

        def open_least(o=least, s=stored):
            o.__dict__["value"] = s
            return o.value

        assert open_least() == text
        least_field, least_bare = time_pair(
            open_least, lambda n=nonce, b=body, a=aad: cipher.decrypt(n, b, a), runs=runs
        )

        results += [
            latency(SUITE, f"encrypt, field path ({label})", encrypt_field, note="pre_save: AAD, cached DEK"),
            latency(SUITE, f"encrypt, bare AES-GCM ({label})", encrypt_bare, note="incl. a 96-bit random nonce"),
            _ratio(f"encrypt ratio field/bare ({label})", encrypt_field, encrypt_bare, targeted=targeted,
                   breakdown=encrypt_parts),
            latency(SUITE, f"decrypt, field path ({label})", decrypt_field,
                    note="from_db_value + descriptor: stored bytes -> value"),
            latency(SUITE, f"decrypt, bare AES-GCM ({label})", decrypt_bare),
            _ratio(f"decrypt ratio field/bare ({label})", decrypt_field, decrypt_bare, targeted=targeted,
                   breakdown=decrypt_parts),
            Result(SUITE, f"decrypt ratio, least lazy attribute/bare ({label})", "x",
                   value=statistics.median(least_field) / statistics.median(least_bare),
                   note="information: the least an attribute decrypting on access can do (bench/crypto.py)"),
        ]
    return results


def _data_keys(runs: int) -> list[Result]:
    subject = Person(given_name="-", family_name="-")
    subject.save()
    row = DataKey.objects.get(subject_id=subject.pk)
    ring = crypto.keyring()
    cached = time_each(lambda: crypto.data_key(subject.pk), runs=runs)

    def uncached():
        crypto.data_key_cache.discard(subject.pk)
        return crypto.data_key(subject.pk)

    missed = time_each(uncached, runs=max(200, runs // 20), warmup=50)
    unwrap_only = time_each(
        lambda: crypto.unwrap_data_key(subject.pk, row.wrapped_key, row.kek_id, ring), runs=runs
    )
    return [
        latency(SUITE, "data key, cache hit", cached),
        latency(SUITE, "data key, cache miss", missed, note=f"one SELECT on {connection.vendor} + unwrap"),
        latency(SUITE, "data key, unwrap only", unwrap_only, note="AES-GCM under the KEK, no database"),
    ]


def _blind_indexes(runs: int) -> list[Result]:
    instance = Person(given_name="Dara", family_name="  Sok  Chan ", date_of_birth=datetime.date(1990, 5, 17),
                      phone="(012) 345-678")
    family_dob = Person._meta.get_field("family_dob_index")
    phone = Person._meta.get_field("phone_index")
    bits = family_dob.bits
    return [
        latency(SUITE, "blind index, name + date of birth", time_each(lambda: family_dob.compute(instance), runs=runs),
                note=f"normalise + HMAC-SHA256, {bits} bits"),
        latency(SUITE, "blind index, phone", time_each(lambda: phone.compute(instance), runs=runs),
                note="E.164 + HMAC-SHA256"),
        latency(SUITE, "blind index, HMAC only", time_each(
            lambda: crypto.blind_index(family_dob.index_name, "sok chan\x1f1990-05-17", bits=bits), runs=runs)),
    ]


def _seed_data_keys(count: int, *, chunk: int = 10_000) -> None:
    ring = crypto.keyring()
    for start in range(0, count, chunk):
        rows = []
        for _ in range(min(chunk, count - start)):
            subject = uuid.uuid4()
            dek = AESGCM.generate_key(bit_length=256)
            wrapped = crypto.wrap_data_key(subject, dek, ring.active_kek, ring)
            rows.append(DataKey(subject_id=subject, wrapped_key=wrapped, kek_id=ring.active_kek))
        DataKey.objects.bulk_create(rows, batch_size=5_000)
    if connection.vendor == "postgresql":
        # A production table has planner statistics; a freshly bulk-loaded one does not yet.
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(DataKey._meta.db_table)}")


def _rotation(keys: int) -> list[Result]:
    from django.conf import settings

    DataKey.objects.all().delete()
    started = time.perf_counter()
    _seed_data_keys(keys)
    seeded_in = time.perf_counter() - started
    new_kek = f"bench-kek-{os.urandom(3).hex()}"
    with override_settings(CASEMGMT_KEKS=f"{settings.CASEMGMT_KEKS},{new_kek}:{crypto.new_key()}",
                           CASEMGMT_ACTIVE_KEK=new_kek):
        crypto.reset_keyring()
        rss_before = peak_rss_mib()
        started = time.perf_counter()
        call_command("rotate_keys", "--batch-size", "1000", stdout=io.StringIO())
        elapsed = time.perf_counter() - started
        left = DataKey.objects.exclude(kek_id=new_kek).count()
    crypto.reset_keyring()
    rate = keys / elapsed
    on_postgresql = connection.vendor == "postgresql"
    return [
        Result(SUITE, f"rotation, {keys:,} data keys", "keys/s", value=rate, target=f"≥ {ROTATION_TARGET:,}/s",
               met=(rate >= ROTATION_TARGET and left == 0) if on_postgresql else None,
               note=(f"{elapsed:.1f} s on {connection.vendor}, seeded in {seeded_in:.1f} s; {left} left over; "
                     f"peak RSS {rss_before:.0f} -> {peak_rss_mib():.0f} MiB")
               + ("" if on_postgresql else "; the target is for PostgreSQL")),
    ]


def run(context: Context) -> list[Result]:
    runs = 2_000 if context.quick else 20_000
    keys = int(context.options.get("rotation_keys") or (10_000 if context.quick else ROTATION_KEYS))
    crypto.reset_keyring()
    results = _field_paths(runs) + _data_keys(runs) + _blind_indexes(runs) + _rotation(keys)
    results.append(Result(SUITE, "peak memory (RSS) after the suite", "MiB", value=peak_rss_mib()))
    return results
