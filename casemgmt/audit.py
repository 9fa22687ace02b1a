"""The audit trail: append-only, hash-chained (docs/audit.md).

``record()`` is the one helper every feature calls. Each event's hash is
HMAC-SHA256, under the audit key (kept outside the database), of the previous
event's hash and the event's own canonical content, so an altered, inserted or
removed event breaks the chain at that point. Appends are serialised: a
PostgreSQL advisory lock, SQLite's immediate transactions, and a unique
sequence number as the last line of defence.

The chain's head is also checkpointed outside the database
(``casemgmt.audit_checkpoints``) every ``CASEMGMT_AUDIT_CHECKPOINT_EVERY``
events, so that removing the newest events is caught too.
"""

from __future__ import annotations

import contextvars
import datetime
import hmac
import json
import threading
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from hashlib import sha256

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from casemgmt import audit_checkpoints, crypto
from casemgmt.models import AuditAction, AuditEvent

__all__ = ["AuditAction", "record", "verify_chain", "Actor", "actor_context", "current_actor"]

GENESIS_HASH = "0" * 64
_ADVISORY_LOCK_ID = 0x6361_7365_6175_6474  # "caseaudt"
_local_lock = threading.Lock()

PROBLEM_MISSING = _("event #{seq} is missing")
PROBLEM_LINK = _("its link to the previous event does not match")
PROBLEM_ALTERED = _("its content does not match its hash (altered)")


@dataclass(frozen=True)
class Actor:
    """Who acts, copied into each event as plain values."""

    user_id: int | None = None
    username: str = ""
    organisation_id: uuid.UUID | None = None
    role: str = ""
    ip_address: str | None = None

    @classmethod
    def system(cls, name: str) -> Actor:
        """The system itself acting: a management command, a job. Named, never blank."""
        return cls(username=f"system: {name}"[:150])

    @classmethod
    def from_user(cls, user, ip_address: str | None = None) -> Actor:
        if user is None or not getattr(user, "is_authenticated", False):
            return cls(ip_address=ip_address)
        membership = getattr(user, "membership", None)
        return cls(
            user_id=user.pk,
            username=user.get_username(),
            organisation_id=membership.organisation_id if membership else None,
            role=membership.role if membership else "",
            ip_address=ip_address,
        )


_NOBODY = Actor()
_current_actor: contextvars.ContextVar[Actor] = contextvars.ContextVar("casemgmt_audit_actor", default=_NOBODY)  # noqa: B039 - frozen


def current_actor() -> Actor:
    """Who acts: set by the request (middleware) or a command; outside both, the system, by its command name."""
    actor = _current_actor.get()
    return actor if actor is not _NOBODY else Actor.system(_process_name())


def _process_name() -> str:
    import os
    import sys

    argv = sys.argv or [""]
    program = os.path.basename(argv[0])
    if program == "__main__.py":  # python -m <package>
        program = os.path.basename(os.path.dirname(argv[0]))
    if program in ("manage.py", "django-admin") and len(argv) > 1:
        return argv[1]
    return program or "python"


def _as_actor(actor) -> Actor:
    """An ``Actor``, from a user too: services pass the user they act for (the request's address kept)."""
    if isinstance(actor, Actor):
        return actor
    context = _current_actor.get()
    return Actor.from_user(actor, context.ip_address if context.user_id == getattr(actor, "pk", None) else None)


class actor_context:  # noqa: N801 - used as a context manager, like transaction.atomic
    """Sets who acts for events recorded inside (requests set it in middleware)."""

    def __init__(self, actor: Actor) -> None:
        self.actor = actor

    def __enter__(self) -> Actor:
        self._token = _current_actor.set(self.actor)
        return self.actor

    def __exit__(self, *exc) -> None:
        _current_actor.reset(self._token)


def _canonical(event: AuditEvent) -> bytes:
    content = {
        "seq": event.seq,
        "occurred_at": event.occurred_at.astimezone(datetime.UTC).isoformat(timespec="microseconds"),
        "actor_id": event.actor_id,
        "actor_username": event.actor_username,
        "organisation_id": str(event.organisation_id) if event.organisation_id else None,
        "role": event.role,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "client_id": str(event.client_id) if event.client_id else None,
        "fields": list(event.fields or []),
        "reason": event.reason,
        "ip_address": event.ip_address,
        "prev_hash": event.prev_hash,
    }
    if event.rows:  # events from before row digests hash as they always did
        content["rows"] = [list(row) for row in event.rows]
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def compute_hash(event: AuditEvent, key: bytes | None = None) -> str:
    key = key or crypto.keyring().audit_key
    return hmac.new(key, _canonical(event), sha256).hexdigest()


def lock_chain() -> None:
    """Wait for appends under way, and hold off new ones, until this transaction ends (SQLite: its immediate
    transactions already do)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_ADVISORY_LOCK_ID])


def record(
    *,
    action: str,
    actor=None,
    user=None,
    object_type: str = "",
    object_id: str | uuid.UUID | int | None = "",
    client_id: uuid.UUID | str | None = None,
    fields: Iterable[str] = (),
    reason: str = "",
    ip_address: str | None = None,
    rows_written: list | None = None,
) -> AuditEvent:
    """Append one event. Field names, never field values.

    ``actor`` is who acts: an ``Actor`` or a user (services pass theirs); without one, the request's user, or
    outside a request the system by its command name ("system: seed_demo").

    The event also records the digests of the rows its transaction wrote so far (``casemgmt.integrity``).
    """
    from casemgmt import integrity

    if actor is None:
        actor = Actor.from_user(user, ip_address) if user is not None else current_actor()
    else:
        actor = _as_actor(actor)
    key = crypto.keyring().audit_key
    rows = rows_written if rows_written is not None else integrity.take_pending()
    with _local_lock, transaction.atomic():
        lock_chain()
        last = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()
        seq, prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS_HASH)
        event = AuditEvent(
            seq=seq,
            occurred_at=timezone.now(),
            actor_id=actor.user_id,
            actor_username=actor.username,
            organisation_id=actor.organisation_id,
            role=actor.role,
            action=str(action),
            object_type=object_type,
            object_id=str(object_id or ""),
            client_id=client_id,
            fields=sorted(set(fields)),
            reason=reason,
            ip_address=ip_address or actor.ip_address,
            rows=rows,
            prev_hash=prev_hash,
        )
        event.hash = compute_hash(event, key)
        event.save(force_insert=True)
        if seq % settings.CASEMGMT_AUDIT_CHECKPOINT_EVERY == 0:  # the only per-event cost of checkpoints
            audit_checkpoints.write_after_commit(seq=seq, digest=event.hash)
    return event


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    event_id: int | None
    problem: str  # translatable: rendered in the language active when shown


@dataclass(frozen=True)
class ChainWalk:
    checked: int
    broken: ChainBreak | None
    head_hash: str  # of the last event that verified (GENESIS_HASH for none)


def verify_chain(*, chunk_size: int = 2000) -> tuple[int, ChainBreak | None]:
    """Recompute the chain. Returns (events checked, the first break or None)."""
    walk = walk_chain(chunk_size=chunk_size)
    return walk.checked, walk.broken


def walk_chain(*, chunk_size: int = 2000) -> ChainWalk:
    """Recompute the chain from the first event up to the first break, or to the last event."""
    key = crypto.keyring().audit_key
    expected_prev = GENESIS_HASH
    expected_seq = 1
    checked = 0
    for event in _in_order(chunk_size):
        if event.seq != expected_seq:
            return ChainWalk(checked, ChainBreak(expected_seq, None, format_lazy(PROBLEM_MISSING, seq=expected_seq)),
                             expected_prev)
        if event.prev_hash != expected_prev:
            return ChainWalk(checked, ChainBreak(event.seq, event.pk, PROBLEM_LINK), expected_prev)
        if not hmac.compare_digest(event.hash, compute_hash(event, key)):
            return ChainWalk(checked, ChainBreak(event.seq, event.pk, PROBLEM_ALTERED), expected_prev)
        expected_prev = event.hash
        expected_seq += 1
        checked += 1
    return ChainWalk(checked, None, expected_prev)


def _in_order(chunk_size: int) -> Iterator[AuditEvent]:
    return AuditEvent.objects.order_by("seq").iterator(chunk_size=chunk_size)
