"""The audit chain's tail: TRUNCATE refused, checkpoints outside the database, the id sequence."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from casemgmt import audit, audit_checkpoints, audit_verification
from casemgmt.models import AuditAction, AuditEvent

pytestmark = pytest.mark.django_db
postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="the triggers exist on PostgreSQL")
TABLE = AuditEvent._meta.db_table


def record_some(n: int) -> list[AuditEvent]:
    return [audit.record(action=AuditAction.VIEW, object_type="test.thing", object_id=str(i)) for i in range(n)]


def checkpoint_path() -> Path:
    return Path(settings.CASEMGMT_AUDIT_CHECKPOINT_FILE)


def checkpoints() -> list:
    return audit_checkpoints.read(checkpoint_path()) if checkpoint_path().exists() else []


def delete_as_superuser(where: str = "", params=()) -> None:
    """What someone with the database's superuser can do: get past the append-only triggers."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER USER")
        cursor.execute(f"DELETE FROM {TABLE} {where}", params)
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER USER")


def verify_fails() -> str:
    with pytest.raises(CommandError) as caught:
        call_command("verify_audit")
    return str(caught.value)


@postgres_only
def test_truncate_of_the_audit_table_is_refused():
    record_some(3)
    with pytest.raises(DatabaseError, match="append-only: TRUNCATE refused"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {TABLE}")
    assert AuditEvent.objects.count() == 3


def test_verify_audit_passes_on_an_intact_chain_and_extends_its_checkpoints(capsys):
    record_some(4)
    call_command("verify_audit")  # the first checkpoint, of #4; the verification itself is #5
    record_some(2)
    call_command("verify_audit")

    out = capsys.readouterr().out
    first, second = checkpoints()
    assert (first.seq, second.seq) == (4, 7)
    assert second.hash == AuditEvent.objects.get(seq=7).hash
    assert f"Audit trail verified: 7 events, chain intact.\nIt extends the checkpoint of {first.shown_at} (#4)." in out


def test_deleting_the_newest_events_is_caught_and_named():
    events = record_some(10)
    call_command("verify_audit")  # checkpoint of #10; the verification is #11
    delete_as_superuser("WHERE seq > %s", [7])
    (checkpoint,) = checkpoints()
    assert audit.verify_chain() == (7, None), "the chain alone still verifies: only the checkpoint sees the loss"

    message = verify_fails()

    assert message.startswith("Audit trail verification failed.\n")
    assert (f"The chain ends at event #7, but the checkpoint of {checkpoint.shown_at} recorded #10: "
            "the 3 newest events are missing.") in message
    assert events[6].seq == 7


def test_deleting_every_event_is_caught():
    record_some(5)
    call_command("verify_audit")
    delete_as_superuser()
    (checkpoint,) = checkpoints()

    message = verify_fails()

    assert (f"The audit trail has no events, but the checkpoint of {checkpoint.shown_at} recorded #5: "
            "all 5 events are missing.") in message


@postgres_only
def test_deleting_everything_with_the_triggers_off_for_the_session_is_caught():
    record_some(3)
    call_command("verify_audit")
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        cursor.execute(f"DELETE FROM {TABLE}")
        cursor.execute("SET session_replication_role = origin")
    assert "all 3 events are missing." in verify_fails()


def test_a_tail_rebuilt_after_a_removal_does_not_match_the_checkpoint(settings, django_capture_on_commit_callbacks):
    settings.CASEMGMT_AUDIT_CHECKPOINT_EVERY = 20
    record_some(10)
    call_command("verify_audit")  # checkpoint of #10
    delete_as_superuser("WHERE seq > %s", [6])
    with django_capture_on_commit_callbacks(execute=True):
        record_some(20)  # the application carries on from #7; #20 is checkpointed on the way, and it matches
    old, later = checkpoints()
    assert (old.seq, later.seq) == (10, 20)

    message = verify_fails()

    assert (f"Event #10 is not the one the checkpoint of {old.shown_at} recorded (another hash): the trail was "
            "rewritten from there or earlier, or the checkpoint is of another database.") in message


def test_a_tampered_checkpoint_is_reported():
    record_some(6)
    call_command("verify_audit")
    delete_as_superuser("WHERE seq > %s", [2])
    # Someone with the file but not the audit key lowers the checkpoint to match the shortened trail.
    line = json.loads(checkpoint_path().read_text())
    line["seq"], line["hash"] = 2, AuditEvent.objects.get(seq=2).hash
    checkpoint_path().write_text(json.dumps(line) + "\n")

    message = verify_fails()

    assert (f"Line 1 of {checkpoint_path()} is not a valid checkpoint: its HMAC does not verify (altered, forged, "
            "or written under another audit key).") in message


def test_a_checkpoint_is_written_after_commit_every_n_events(settings, django_capture_on_commit_callbacks, caplog):
    settings.CASEMGMT_AUDIT_CHECKPOINT_EVERY = 5
    caplog.set_level(logging.INFO, logger="casemgmt.audit.checkpoint")
    with django_capture_on_commit_callbacks(execute=True):
        events = record_some(4)
    assert not checkpoint_path().exists(), "no file write for an event that is not the N-th"
    with django_capture_on_commit_callbacks(execute=True):
        events += record_some(8)
        with pytest.raises(RuntimeError), transaction.atomic():  # #13-#15 rolled back: nothing checkpointed
            record_some(3)
            raise RuntimeError

    written = checkpoints()
    assert [(c.seq, c.hash) for c in written] == [(5, events[4].hash), (10, events[9].hash)]
    logged = [r.getMessage() for r in caplog.records if r.name == "casemgmt.audit.checkpoint"]
    assert [audit_checkpoints.parse(text).seq for text in logged] == [5, 10]
    assert checkpoint_path().read_text().splitlines() == logged


def test_checkpoints_from_a_log_sink_are_compared_too(settings, tmp_path):
    record_some(4)
    line = audit_checkpoints.checkpoint_line(seq=4, digest=AuditEvent.objects.get(seq=4).hash)
    sink = tmp_path / "sink.log"
    sink.write_text(f"2026-11-21 10:00:00,000 INFO casemgmt.audit.checkpoint {line}\n")
    settings.CASEMGMT_AUDIT_CHECKPOINT_FILE = None  # nothing on this machine
    delete_as_superuser("WHERE seq > %s", [1])

    with pytest.raises(CommandError, match=r"recorded #4: the 3 newest events are missing"):
        call_command("verify_audit", "--checkpoints", str(sink))


def test_a_gap_at_the_end_of_the_id_sequence_is_a_warning(capsys):
    events = record_some(5)
    delete_as_superuser("WHERE seq > %s", [3])  # no checkpoint yet: only the id sequence sees it

    call_command("verify_audit")

    out = capsys.readouterr().out
    assert "Audit trail verified: 3 events, chain intact." in out
    assert ("Warning: No checkpoint to compare with yet: until there is one, removing the newest events cannot be "
            "detected.") in out
    assert (f"Warning: The id sequence has handed out ids up to {events[4].pk}, but the newest event has id "
            f"{events[2].pk}: 2 ids at the end are unused. Rolled-back appends leave such gaps too; the checkpoints "
            "decide.") in out


@postgres_only
def test_an_id_sequence_set_back_fails():
    events = record_some(3)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT setval(pg_get_serial_sequence('{TABLE}', 'id'), 1)")

    message = verify_fails()

    assert (f"The audit table's id sequence stands at 1, behind the newest event's id {events[2].pk}: "
            "it was reset.") in message


def test_the_verification_is_recorded_in_the_trail():
    record_some(2)
    result = audit_verification.verify_and_record()
    event = AuditEvent.objects.latest("seq")
    assert result.ok
    assert (event.action, event.object_type, event.object_id, event.fields) == (
        "audit_verified", "audit_trail", "2", [])
    assert event.reason.startswith("Audit trail verified: 2 events, chain intact.")
    assert audit.verify_chain() == (3, None)
