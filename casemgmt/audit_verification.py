"""Verifying the audit trail: its hash chain, its checkpoints outside the database, its id sequence.

One verification serves ``manage.py verify_audit`` and the auditor's page, and
is itself audited. What it proves (README.md, "Audit trail"):

- the chain: no event altered, inserted or removed between the first and the last;
- the checkpoints (the hard check on the tail): the chain reaches every checkpoint
  ever written, with the hash that checkpoint recorded, so removing the newest
  events (or all of them) fails, and so does a checkpoint that does not verify;
- the id sequence, a hint only: ids handed out past the newest event are reported
  as a warning, since a rolled-back append leaves exactly that too.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.db import DatabaseError, connection, transaction
from django.db.models import Max
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from casemgmt import audit, audit_checkpoints
from casemgmt.audit_checkpoints import BadCheckpoint, Checkpoint
from casemgmt.models import AuditAction, AuditEvent

CHAIN_BROKEN_AT = _("Audit trail broken at event #%(seq)d (id %(event_id)d): %(problem)s. "
                    "%(checked)d events before it verify.")
CHAIN_BROKEN = _("Audit trail broken at event #%(seq)d: %(problem)s. %(checked)d events before it verify.")
TAIL_MISSING = ngettext_lazy(
    "The chain ends at event #%(last)d, but the checkpoint of %(time)s recorded #%(seq)d: the newest event is "
    "missing.",
    "The chain ends at event #%(last)d, but the checkpoint of %(time)s recorded #%(seq)d: the %(missing)d newest "
    "events are missing.",
    "missing",
)
ALL_MISSING = ngettext_lazy(
    "The audit trail has no events, but the checkpoint of %(time)s recorded #%(seq)d: that event is missing.",
    "The audit trail has no events, but the checkpoint of %(time)s recorded #%(seq)d: all %(missing)d events are "
    "missing.",
    "missing",
)
CHECKPOINT_MISMATCH = _(
    "Event #%(seq)d is not the one the checkpoint of %(time)s recorded (another hash): the trail was rewritten "
    "from there or earlier, or the checkpoint is of another database."
)
BAD_CHECKPOINTS = ngettext_lazy(
    "Line %(line)d of %(source)s is not a valid checkpoint: %(why)s.",
    "%(count)d checkpoint lines are not valid; the first, line %(line)d of %(source)s: %(why)s.",
    "count",
)
CHECKPOINTS_UNREADABLE = _("The checkpoints in %(source)s cannot be read: %(error)s.")
CHECKPOINT_NOT_WRITTEN = _("This verification's checkpoint could not be written to %(source)s: %(error)s.")
SEQUENCE_BEHIND = _(
    "The audit table's id sequence stands at %(handed)d, behind the newest event's id %(last_id)d: it was reset."
)
# Warnings: reported, but the verification still passes.
NO_CHECKPOINT_FILE = _(
    "No checkpoint file is configured (CASEMGMT_AUDIT_CHECKPOINT_FILE): checkpoints go only to the "
    "casemgmt.audit.checkpoint log."
)
NO_CHECKPOINT_YET = _(
    "No checkpoint to compare with yet: until there is one, removing the newest events cannot be detected."
)
ID_GAP = ngettext_lazy(
    "The id sequence has handed out ids up to %(handed)d, but the newest event has id %(last_id)d: %(gap)d id "
    "at the end is unused. Rolled-back appends leave such gaps too; the checkpoints decide.",
    "The id sequence has handed out ids up to %(handed)d, but the newest event has id %(last_id)d: %(gap)d ids "
    "at the end are unused. Rolled-back appends leave such gaps too; the checkpoints decide.",
    "gap",
)
VERIFIED = ngettext_lazy("Audit trail verified: %(checked)d event, chain intact.",
                         "Audit trail verified: %(checked)d events, chain intact.", "checked")
EXTENDS = ngettext_lazy("It extends the checkpoint of %(time)s (#%(seq)d).",
                        "It extends every checkpoint; the latest of %(count)d is of %(time)s (#%(seq)d).", "count")
FAILED = _("Audit trail verification failed.")
CHECKED = ngettext_lazy("%(checked)d event checked.", "%(checked)d events checked.", "checked")
WARNING = _("Warning: %(warning)s")


@dataclass(frozen=True)
class Finding:
    """One problem or warning; its text is rendered in the language active when it is shown."""

    check: str  # "chain", "checkpoints", "id_sequence": the name recorded in the audit event
    template: object
    params: dict

    def __str__(self) -> str:
        return str(self.template % self.params)


@dataclass
class Verification:
    verified_at: datetime.datetime
    checked: int
    last_seq: int
    checkpoint: Checkpoint | None = None  # the latest valid checkpoint compared with
    checkpoints_compared: int = 0
    problems: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def outcome(self) -> list[str]:
        """The result as sentences: what verified, or each problem."""
        if self.ok:
            result = [str(VERIFIED % {"checked": self.checked})]
            if self.checkpoint is not None:
                result.append(str(EXTENDS % {"count": self.checkpoints_compared, "time": self.checkpoint.shown_at,
                                             "seq": self.checkpoint.seq}))
            return result
        return [str(FAILED), *(str(problem) for problem in self.problems), str(CHECKED % {"checked": self.checked})]

    def warning_lines(self) -> list[str]:
        return [str(WARNING % {"warning": warning}) for warning in self.warnings]

    def lines(self) -> list[str]:
        return self.outcome() + self.warning_lines()

    def summary(self) -> str:
        return " ".join(self.lines())


def verify(*, checkpoint_files: Iterable[Path] = (), write_checkpoint: bool = True) -> Verification:
    """Verify the chain and compare it with every checkpoint: the configured file's and ``checkpoint_files``.

    When the chain itself verifies, its head is checkpointed (``write_checkpoint``).
    """
    walk = audit.walk_chain()
    with transaction.atomic():
        audit.lock_chain()  # no append under way: the last event, its id and the id sequence agree
        last = AuditEvent.objects.aggregate(seq=Max("seq"), id=Max("id"))
        handed_out = _ids_handed_out()
    result = Verification(verified_at=timezone.now(), checked=walk.checked, last_seq=last["seq"] or 0)
    if walk.broken is not None:
        broken = walk.broken
        template = CHAIN_BROKEN_AT if broken.event_id else CHAIN_BROKEN
        result.problems.append(Finding("chain", template, {
            "seq": broken.seq, "event_id": broken.event_id, "problem": broken.problem, "checked": walk.checked}))
    _compare_with_checkpoints(result, _read_checkpoints(result, checkpoint_files))
    _compare_with_id_sequence(result, handed_out, last["id"] or 0)
    if write_checkpoint and walk.broken is None:
        error = audit_checkpoints.write(seq=walk.checked, digest=walk.head_hash)
        if error:
            result.problems.append(Finding("checkpoints", CHECKPOINT_NOT_WRITTEN, {
                "source": audit_checkpoints.checkpoint_file(), "error": error}))
    return result


def verify_and_record(*, checkpoint_files: Iterable[Path] = ()) -> Verification:
    """Verify, then audit the verification: the events checked, the checks that failed, the outcome."""
    result = verify(checkpoint_files=checkpoint_files)
    with translation.override("en"):  # one language in the trail, whoever verified
        summary = result.summary()
    audit.record(action=AuditAction.AUDIT_VERIFIED, object_type="audit_trail", object_id=str(result.checked),
                 fields=sorted({problem.check for problem in result.problems}), reason=summary)
    return result


def _read_checkpoints(result: Verification, extra: Iterable[Path]) -> list[Checkpoint]:
    sources = []
    configured = audit_checkpoints.checkpoint_file()
    if configured is None:
        result.warnings.append(Finding("checkpoints", NO_CHECKPOINT_FILE, {}))
    elif configured.exists():
        sources.append(configured)
    sources.extend(Path(path) for path in extra)
    valid: list[Checkpoint] = []
    bad: list[BadCheckpoint] = []
    for source in sources:
        try:
            for entry in audit_checkpoints.read(source):
                (valid if isinstance(entry, Checkpoint) else bad).append(entry)
        except OSError as exc:
            result.problems.append(Finding("checkpoints", CHECKPOINTS_UNREADABLE, {
                "source": source, "error": exc.strerror or exc.__class__.__name__}))
    if bad:
        first = bad[0]
        result.problems.append(Finding("checkpoints", BAD_CHECKPOINTS, {
            "count": len(bad), "line": first.line, "source": first.source, "why": first.why}))
    return valid


def _compare_with_checkpoints(result: Verification, checkpoints: list[Checkpoint]) -> None:
    if not checkpoints:
        result.warnings.append(Finding("checkpoints", NO_CHECKPOINT_YET, {}))
        return
    latest = max(checkpoints, key=lambda checkpoint: (checkpoint.seq, checkpoint.at))
    result.checkpoint, result.checkpoints_compared = latest, len(checkpoints)
    if latest.seq > result.last_seq:
        template = ALL_MISSING if result.last_seq == 0 else TAIL_MISSING
        result.problems.append(Finding("checkpoints", template, {
            "last": result.last_seq, "time": latest.shown_at, "seq": latest.seq,
            "missing": latest.seq - result.last_seq}))
    # Every checkpoint the chain reaches must find its own event there: a later checkpoint of a chain rebuilt
    # after a removal does not make an earlier one go away.
    reached = sorted((c for c in checkpoints if 0 < c.seq <= result.last_seq), key=lambda c: (c.seq, c.at))
    hashes = {}
    for start in range(0, len(reached), 1000):
        seqs = {checkpoint.seq for checkpoint in reached[start:start + 1000]}
        hashes.update(AuditEvent.objects.filter(seq__in=seqs).values_list("seq", "hash"))
    for checkpoint in reached:
        stored = hashes.get(checkpoint.seq)
        if stored is not None and stored != checkpoint.hash:  # a missing event is the chain's to report
            result.problems.append(Finding("checkpoints", CHECKPOINT_MISMATCH, {
                "seq": checkpoint.seq, "time": checkpoint.shown_at}))
            break


def _compare_with_id_sequence(result: Verification, handed_out: int | None, last_id: int) -> None:
    if handed_out is None:
        return
    if handed_out < last_id:
        result.problems.append(Finding("id_sequence", SEQUENCE_BEHIND, {"handed": handed_out, "last_id": last_id}))
    elif handed_out > last_id:
        result.warnings.append(Finding("id_sequence", ID_GAP, {
            "handed": handed_out, "last_id": last_id, "gap": handed_out - last_id}))


def _ids_handed_out() -> int | None:
    """The highest id the audit table's id sequence has given out (0 for none), or None where unknown."""
    table = AuditEvent._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
            (sequence,) = cursor.fetchone()
            if sequence is None:
                return None
            # The name comes from the catalogue, quoted as needed.
            cursor.execute(f"SELECT last_value, is_called FROM {sequence}")  # noqa: S608
            last_value, is_called = cursor.fetchone()
            return last_value if is_called else last_value - 1
        if connection.vendor == "sqlite":  # AUTOINCREMENT's counter, which rolls back with the transaction
            try:
                cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
            except DatabaseError:
                return None
            row = cursor.fetchone()
            return row[0] if row else 0
    return None
