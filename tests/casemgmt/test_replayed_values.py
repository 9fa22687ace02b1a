"""Replayed and rolled-back ciphertext (security issue, finding 2): an older value of a field written back into
its row does not open, and a whole row restored from an old copy is named by ``verify_rows``."""

from __future__ import annotations

import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections, transaction

from casemgmt import crypto, fields, integrity
from casemgmt.models import AuditAction, AuditEvent
from casemgmt.versioning import Conflict
from tests.cryptotest.models import Person, Visit

pytestmark = pytest.mark.django_db


def _db_id(model, row_id):
    return model._meta.pk.get_db_prep_value(row_id, connection)


def row_of(model, row_id) -> dict:
    """Every column of the row as the database holds it, read around the ORM."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {model._meta.db_table} WHERE id = %s", [_db_id(model, row_id)])  # noqa: S608
        names = [column[0] for column in cursor.description]
        return dict(zip(names, cursor.fetchone(), strict=True))


def write_back(model, row_id, columns: dict) -> None:
    """Put columns back as someone with database access could (an old copy, a replayed value)."""
    assignments = ", ".join(f"{connection.ops.quote_name(name)} = %s" for name in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {model._meta.db_table} SET {assignments} WHERE id = %s",  # noqa: S608
                       [*columns.values(), _db_id(model, row_id)])


def person(**values) -> Person:
    row = Person(**{"given_name": "Dara", "family_name": "Sok", **values})
    row.save()
    return row


def test_an_older_value_of_the_same_field_written_back_does_not_open():
    row = person(given_name="Old name")
    old = row_of(Person, row.pk)["given_name"]
    row.given_name = "New name"
    row.save()

    write_back(Person, row.pk, {"given_name": old})

    with pytest.raises(fields.RecordDamaged):
        Person.objects.get(pk=row.pk).given_name  # noqa: B018
    event = AuditEvent.objects.filter(action=AuditAction.RECORD_DAMAGED).latest("seq")
    assert (event.object_id, event.fields) == (str(row.pk), ["given_name"])
    assert Person.objects.get(pk=row.pk).family_name == "Sok"  # the other values still open


def test_every_save_bumps_the_version_and_binds_it_into_each_value():
    row = person()
    assert row.version == 1
    stored = bytes(row_of(Person, row.pk)["family_name"])
    assert stored[:1] == crypto.FORMAT_V2
    aad = crypto.associated_data("cryptotest.person.family_name", row.pk, version=1)
    assert crypto.decrypt(row.pk, aad, stored) == b"Sok"
    with pytest.raises(crypto.DecryptionFailed):  # the same value under another version
        crypto.decrypt(row.pk, crypto.associated_data("cryptotest.person.family_name", row.pk, version=2), stored)

    row.save()
    assert Person.objects.get(pk=row.pk).version == 2


def test_a_value_from_before_row_versions_opens_only_while_its_row_was_never_saved_since():
    row = person(given_name="Before")
    # The row as the code before row versions wrote it: format 1 values, version 0.
    legacy = {field.column: crypto.encrypt(row.pk, crypto.associated_data(field.label, row.pk),
                                           field.to_bytes(getattr(row, field.attname)), fmt=crypto.FORMAT_V1)
              for field in Person.encrypted_fields() if getattr(row, field.attname) is not None}
    legacy["given_name"] = crypto.encrypt(row.pk, crypto.associated_data("cryptotest.person.given_name", row.pk),
                                          b"Legacy", fmt=crypto.FORMAT_V1)
    write_back(Person, row.pk, {**legacy, "version": 0})
    assert Person.objects.get(pk=row.pk).given_name == "Legacy"
    legacy = legacy["given_name"]

    loaded = Person.objects.get(pk=row.pk)
    loaded.save()  # now at version 1, every value rewritten in format 2
    assert bytes(row_of(Person, row.pk)["given_name"])[:1] == crypto.FORMAT_V2
    assert Person.objects.get(pk=row.pk).given_name == "Legacy"

    write_back(Person, row.pk, {"given_name": legacy})  # the format 1 value, replayed into a saved row
    with pytest.raises(fields.RecordDamaged):
        Person.objects.get(pk=row.pk).given_name  # noqa: B018


def test_each_write_is_recorded_with_its_digest_in_the_audit_chain():
    from casemgmt import audit

    with transaction.atomic():
        row = person(given_name="Digest")
        audit.record(action=AuditAction.CREATE, object_type="cryptotest.person", object_id=row.pk)

    event = AuditEvent.objects.latest("seq")
    assert len(event.rows) == 1
    label, pk, version, digest = event.rows[0]
    assert (label, pk, version) == ("cryptotest.person", str(row.pk), 1)
    assert digest == integrity.digest(label, row.pk, 1, [row_of(Person, row.pk)[f.column] for f in
                                                        Person.encrypted_fields()])
    assert not AuditEvent.objects.filter(action=AuditAction.RECORD_WRITTEN).exists()  # recorded once, not twice
    assert audit.verify_chain()[1] is None  # the digests are part of the chain


def test_a_write_no_event_recorded_records_itself():
    with transaction.atomic():
        row = person(given_name="Unaudited")
        Visit.objects.create(person=row, summary="visit")
    # In the test's own transaction nothing commits: the rows wait for an event of their transaction.
    assert integrity.take_pending() and not integrity.take_pending()


def test_verify_rows_counts_rows_never_written_since_and_names_one_put_back_to_version_0():
    from casemgmt import audit

    with transaction.atomic():
        first, second = person(given_name="One"), person(given_name="Two")
        audit.record(action=AuditAction.CREATE, object_type="cryptotest.person")
    Person.objects.bulk_create([Person(given_name="Bulk", family_name="Loaded")])  # no save(): no digest, version 0
    write_back(Person, second.pk, {"version": 0})  # pretending to be a row from before row versions

    report = integrity.verify_rows()
    assert (report.checked, report.unsealed) == (3, 1)
    assert report.problems == [f"cryptotest.person {second.pk} is at version 0, but its last recorded write made "
                               "version 1: the row was restored from an older copy or altered."]
    assert str(first.pk) not in " ".join(report.problems)


def test_a_whole_row_restored_from_an_old_copy_is_named(capsys):
    from casemgmt import audit

    with transaction.atomic():
        row = person(given_name="Original", phone="012 111 222")
        audit.record(action=AuditAction.CREATE, object_type="cryptotest.person", object_id=row.pk)
    old_copy = {name: value for name, value in row_of(Person, row.pk).items() if name != "id"}
    with transaction.atomic():
        loaded = Person.objects.get(pk=row.pk)
        loaded.given_name = "Changed"
        loaded.save()
        audit.record(action=AuditAction.CHANGE, object_type="cryptotest.person", object_id=row.pk)
    call_command("verify_rows")  # intact
    assert "each matches its last recorded write" in capsys.readouterr().out

    write_back(Person, row.pk, old_copy)  # every old value opens: they belong together
    assert Person.objects.get(pk=row.pk).given_name == "Original"

    with pytest.raises(CommandError, match="1 rows do not match their last recorded write"):
        call_command("verify_rows")
    err = capsys.readouterr().err
    assert f"cryptotest.person {row.pk} is at version 1, but its last recorded write made version 2" in err
    assert "Original" not in err and "Changed" not in err
    assert AuditEvent.objects.filter(action=AuditAction.ROWS_VERIFIED).latest("seq").reason == "1 problems"


def test_replaced_values_at_the_right_version_and_a_deleted_row_are_named():
    from casemgmt import audit

    with transaction.atomic():
        row, other = person(given_name="Kept"), person(given_name="Gone")
        audit.record(action=AuditAction.CREATE, object_type="cryptotest.person")
    with transaction.atomic():
        moved = person(given_name="Donor")
        audit.record(action=AuditAction.CREATE, object_type="cryptotest.person")
    # Values swapped between columns: found without opening anything, the digest covers every encrypted column.
    columns = row_of(Person, row.pk)
    write_back(Person, row.pk, {"given_name": columns["family_name"], "family_name": columns["given_name"]})
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM cryptotest_person WHERE id = %s", [_db_id(Person, other.pk)])

    problems = integrity.verify_rows().problems
    assert any(f"cryptotest.person {row.pk} (version 1) does not match" in p for p in problems)
    assert any(f"cryptotest.person {other.pk} has a recorded write but is no longer in the table" in p
               for p in problems)
    assert not any(str(moved.pk) in p for p in problems)


def test_a_save_from_a_stale_version_is_a_conflict_and_writes_nothing():
    row = person(given_name="First")
    mine, theirs = Person.objects.get(pk=row.pk), Person.objects.get(pk=row.pk)
    theirs.given_name = "Theirs"
    theirs.save()

    mine.given_name = "Mine"
    with pytest.raises(Conflict), transaction.atomic():
        mine.save()
    assert mine.version == 1  # still the version it was read at
    fresh = Person.objects.get(pk=row.pk)
    assert (fresh.given_name, fresh.version) == ("Theirs", 2)


def test_a_save_with_update_fields_also_writes_the_values_again():
    row = person(given_name="Kept", notes="note")
    loaded = Person.objects.get(pk=row.pk)
    loaded.sex = "F"
    loaded.save(update_fields=["sex"])

    fresh = Person.objects.get(pk=row.pk)
    assert (fresh.sex, fresh.version, fresh.given_name, fresh.notes) == ("F", 2, "Kept", "note")


def test_a_deferred_value_of_a_row_saved_meanwhile_still_opens_and_saving_is_a_conflict():
    row = person(given_name="Before", notes="note")
    partial = Person.objects.only("given_name").get(pk=row.pk)
    other = Person.objects.get(pk=row.pk)
    other.notes = "changed meanwhile"
    other.save()

    assert partial.given_name == "Before"
    assert partial.notes == "changed meanwhile"  # loaded now, as the row is now
    with pytest.raises(Conflict), transaction.atomic():
        partial.save()


@pytest.mark.django_db(transaction=True)
def test_two_connections_saving_the_same_version_leave_exactly_one_write(postgresql_only):
    row = person(given_name="Start")
    barrier = threading.Barrier(2)
    outcomes = []

    def edit(name: str) -> None:
        try:
            loaded = Person.objects.get(pk=row.pk)
            loaded.given_name = name
            barrier.wait(timeout=10)
            with transaction.atomic():
                loaded.save()
            outcomes.append(("saved", name))
        except Conflict:
            outcomes.append(("conflict", name))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=edit, args=(name,)) for name in ("One", "Two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(kind for kind, _name in outcomes) == ["conflict", "saved"]
    winner = next(name for kind, name in outcomes if kind == "saved")
    fresh = Person.objects.get(pk=row.pk)
    assert (fresh.given_name, fresh.version) == (winner, 2)
