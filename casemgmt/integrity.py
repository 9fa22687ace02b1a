"""Row digests: a whole row restored from an old copy is found (docs/audit.md).

Every save of a ``VersionedModel`` with encrypted fields computes a keyed digest (HMAC-SHA256 under a key
derived from the audit key, which never enters the database) of the row's identity, its version and the
ciphertexts it wrote, and the next audit event of the same transaction records it (``AuditEvent.rows``), in
the hash chain. ``verify_rows`` recomputes each row's digest and compares it with the last one recorded: a
row put back as an older copy (its older version and ciphertexts, which all still open) no longer matches.

Only what the digest covers is protected this way: the version and every encrypted column. Coded columns
(status, dates, codes) are not, and neither are rows written before row digests existed (version 0, until
their next save). A write outside any transaction records its digest at once in an event of its own, and so
does a transaction that wrote a row but recorded no audit event (a command, a seed).
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from dataclasses import dataclass, field
from hashlib import sha256

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from casemgmt import crypto

_DIGEST_INFO = b"casemgmt-row-digest-v1"
_digest_keys: dict[bytes, bytes] = {}


def _digest_key() -> bytes:
    audit_key = crypto.keyring().audit_key
    key = _digest_keys.get(audit_key)
    if key is None:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_DIGEST_INFO).derive(audit_key)
        _digest_keys.clear()
        _digest_keys[audit_key] = key
    return key


def digest(label: str, pk, version: int, stored_values) -> str:
    """The keyed digest of one row as written: model, primary key, version, then each encrypted column."""
    mac = hmac.new(_digest_key(), digestmod=sha256)
    mac.update(label.encode() + b"|" + crypto._as_uuid(pk).bytes + version.to_bytes(8, "big"))
    for value in stored_values:
        if value is None:
            mac.update(b"\x00")
        else:
            value = bytes(value)
            mac.update(b"\x01" + len(value).to_bytes(4, "big") + value)
    return mac.hexdigest()[:32]


class _PendingRow:
    """A written row waiting for the audit event that records it.

    Registered with ``transaction.on_commit`` so that Django forgets it with a rolled-back savepoint or
    transaction; ``audit.record`` takes the pending rows of its transaction. One still pending at commit
    (no event recorded it) records itself in an event of its own.
    """

    __slots__ = ("entry", "taken", "using")

    def __init__(self, entry: list, using: str) -> None:
        self.entry = entry
        self.taken = False
        self.using = using

    def __call__(self) -> None:
        if not self.taken:
            from casemgmt import audit

            self.taken = True
            audit.record(action=audit.AuditAction.RECORD_WRITTEN, object_type=self.entry[0],
                         object_id=self.entry[1], rows_written=[self.entry])


def note_write(instance, encrypted_fields, *, using: str | None = None) -> None:
    label = instance._meta.label_lower
    data = instance.__dict__
    entry = [label, str(instance.pk), instance.version,
             digest(label, instance.pk, instance.version, [data.get(f.written_key) for f in encrypted_fields])]
    using = using or instance._state.db or DEFAULT_DB_ALIAS
    transaction.on_commit(_PendingRow(entry, using), using=using, robust=True)  # logged, never a failed page


def take_pending(using: str = DEFAULT_DB_ALIAS) -> list[list]:
    """The rows written in the current transaction that no audit event recorded yet (and marks them taken)."""
    connection = connections[using]
    if not connection.in_atomic_block:
        return []
    taken = []
    for item in connection.run_on_commit:
        func = item[1]
        if func.__class__ is _PendingRow and not func.taken:
            func.taken = True
            taken.append(func.entry)
    return taken


# --------------------------------------------------------------------------------------------
# Verification


@dataclass
class RowReport:
    checked: int = 0
    unsealed: int = 0  # written before row digests existed: nothing to compare with yet
    problems: list[str] = field(default_factory=list)
    problem_count: int = 0

    def add(self, problem: str, *, limit: int = 50) -> None:
        self.problem_count += 1
        if len(self.problems) < limit:
            self.problems.append(problem)

    @property
    def ok(self) -> bool:
        return self.problem_count == 0


def versioned_models() -> Iterator:
    from django.apps import apps

    from casemgmt.versioning import VersionedModel

    for model in apps.get_models():
        if issubclass(model, VersionedModel) and model.encrypted_fields():
            yield model


def _recorded(chunk_size: int) -> dict[tuple[str, str], tuple[int, str]]:
    """The last digest the audit chain recorded for each row (by model label and primary key)."""
    from casemgmt.models import AuditEvent

    last: dict[tuple[str, str], tuple[int, str]] = {}
    events = AuditEvent.objects.exclude(rows=[]).order_by("seq").values_list("rows", flat=True)
    for rows in events.iterator(chunk_size=chunk_size):
        for label, pk, version, row_digest in rows or ():
            last[(label, pk)] = (version, row_digest)
    return last


def verify_rows(*, chunk_size: int = 2000, progress=None) -> RowReport:
    """Compare every encrypted row with the digest of its last write recorded in the audit chain."""
    recorded = _recorded(chunk_size)
    report = RowReport()
    for model in versioned_models():
        label = model._meta.label_lower
        encrypted = model.encrypted_fields()
        columns = ["pk", "version", *(f.attname for f in encrypted)]
        seen = set()
        for pk, version, *values in model._base_manager.values_list(*columns).iterator(chunk_size=chunk_size):
            key = (label, str(pk))
            seen.add(key[1])
            report.checked += 1
            stored = [None if v is None else getattr(v, "stored", v) for v in values]
            last = recorded.get(key)
            if last is None:
                if version == 0:
                    report.unsealed += 1
                else:
                    report.add(f"{label} {pk} (version {version}) has no recorded write: written around the "
                               "application, or its audit events are missing.")
                continue
            if version != last[0]:
                report.add(f"{label} {pk} is at version {version}, but its last recorded write made version "
                           f"{last[0]}: the row was restored from an older copy or altered.")
            elif not hmac.compare_digest(digest(label, pk, version, stored), last[1]):
                report.add(f"{label} {pk} (version {version}) does not match the digest of its last recorded "
                           "write: its encrypted values were replaced.")
            if progress and report.checked % 10_000 == 0:
                progress(report.checked)
        for (row_label, pk) in recorded:
            if row_label == label and pk not in seen:
                report.add(f"{label} {pk} has a recorded write but is no longer in the table: it was deleted.")
    return report
