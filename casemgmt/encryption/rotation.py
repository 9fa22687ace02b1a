"""Key rotation: re-wrap data keys under the active KEK; recompute blind indexes.

Both work in batches, one transaction per batch, and pick up where they stopped:
re-wrapping selects only the data keys not yet under the active KEK, so running
it again after an interruption, or twice, does no harm. Rows are locked only for
their batch, so the site keeps serving; a data key made meanwhile is wrapped
under the active KEK already.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from casemgmt.encryption import crypto
from casemgmt.encryption.fields import BlindIndexField, encrypted_models
from casemgmt.models import DataKey


@dataclass
class Progress:
    done: int
    total: int
    elapsed: float

    @property
    def rate(self) -> float:
        return self.done / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def seconds_left(self) -> float:
        return (self.total - self.done) / self.rate if self.rate else 0.0


def data_keys_to_rotate():
    ring = crypto.keyring()
    return DataKey.objects.filter(destroyed_at__isnull=True).exclude(kek_id=ring.active_kek)


def rewrap_data_keys(*, batch_size: int = 1000, on_progress: Callable[[Progress], None] | None = None) -> int:
    ring = crypto.keyring()
    total = data_keys_to_rotate().count()
    done = 0
    started = time.monotonic()
    last = None
    while True:
        with transaction.atomic():
            pending = data_keys_to_rotate()
            if last is not None:  # keyset: never walk again over the keys already re-wrapped
                pending = pending.filter(subject_id__gt=last)
            batch = list(
                pending.select_for_update()
                .order_by("subject_id")
                .values_list("subject_id", "wrapped_key", "kek_id")[:batch_size]
            )
            if not batch:
                break
            rewrapped = [
                (subject, crypto.wrap_data_key(subject, crypto.unwrap_data_key(subject, wrapped, kek_id, ring),
                                               ring.active_kek, ring))
                for subject, wrapped, kek_id in batch
            ]
            _save_wrapped(rewrapped, ring.active_kek, timezone.now())
        done += len(batch)
        last = batch[-1][0]
        if on_progress:
            on_progress(Progress(done, max(total, done), time.monotonic() - started))
    return done


def _save_wrapped(rewrapped: list[tuple], kek_id: str, now) -> None:
    """Store a batch of (subject, wrapped key), all now under ``kek_id``: one statement on PostgreSQL."""
    table = connection.ops.quote_name(DataKey._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Two arrays rather than a VALUES row per key: a short statement, parsed once, whatever the batch.
            cursor.execute(
                f"UPDATE {table} AS d SET wrapped_key = v.w, kek_id = %s, rotated_at = %s "  # noqa: S608 - our table
                "FROM unnest(%s::uuid[], %s::bytea[]) AS v(id, w) "
                "WHERE d.subject_id = v.id AND d.destroyed_at IS NULL",
                [kek_id, now, [subject for subject, _ in rewrapped], [bytes(w) for _, w in rewrapped]],
            )
        else:
            field = DataKey._meta.get_field
            when = field("rotated_at").get_db_prep_value(now, connection)
            cursor.executemany(
                f"UPDATE {table} SET wrapped_key = %s, kek_id = %s, rotated_at = %s "  # noqa: S608 - our table
                "WHERE subject_id = %s AND destroyed_at IS NULL",
                [(bytes(w), kek_id, when, field("subject_id").get_db_prep_value(subject, connection))
                 for subject, w in rewrapped],
            )


def _pk_batches(model, batch_size: int) -> Iterator[list]:
    last = None
    while True:
        pks = model._default_manager.order_by("pk").values_list("pk", flat=True)
        if last is not None:
            pks = pks.filter(pk__gt=last)
        batch = list(pks[:batch_size])
        if not batch:
            return
        yield batch
        last = batch[-1]


def rebuild_blind_indexes(*, batch_size: int = 1000, on_progress: Callable[[Progress], None] | None = None) -> int:
    """Recompute every blind index under the active index key (after adding a new one)."""
    done = 0
    started = time.monotonic()
    targets = [(model, [f for f in fields if isinstance(f, BlindIndexField)]) for model, fields in encrypted_models()]
    targets = [(model, fields) for model, fields in targets if fields]
    total = sum(model._default_manager.count() for model, _ in targets)
    for model, fields in targets:
        for batch in _pk_batches(model, batch_size):
            with transaction.atomic():
                # Read under a row lock: an identity saved meanwhile is waited for or seen, never written
                # back with the index of its old value (which would let its national ID be taken twice).
                rows = model._default_manager.select_for_update().filter(pk__in=batch).order_by("pk")
                changed = []
                for row in rows:
                    before = [getattr(row, f.attname) for f in fields]
                    try:
                        after = [f.compute(row) if not _erased(row, f) else getattr(row, f.attname)
                                 for f in fields]
                    except crypto.DecryptionFailed:
                        continue  # a damaged row keeps its index; it is audited when read
                    if after != before:
                        for f, value in zip(fields, after, strict=True):
                            setattr(row, f.attname, value)
                        changed.append(row)
                # Plain integer columns: bulk_update is fine here (it refuses encrypted ones).
                model._default_manager.bulk_update(changed, [f.attname for f in fields])
            done += len(batch)
            if on_progress:
                on_progress(Progress(done, max(total, done), time.monotonic() - started))
    return done


def _erased(row, field: BlindIndexField) -> bool:
    from casemgmt.fields import ERASED

    return any(getattr(row, source) is ERASED for source in field.sources)
