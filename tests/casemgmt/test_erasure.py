"""Erasure by crypto-shredding (docs/encryption.md): destroy the subject's data key, keep the coded statistics."""

from __future__ import annotations

import datetime
import io
import uuid

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from casemgmt import crypto, fields, services
from casemgmt.models import AuditAction, AuditEvent, DataKey
from tests.cryptotest.models import Person, Visit

pytestmark = pytest.mark.django_db

REASON = "Erasure request from the client, form E-12 (test)"
ENCRYPTED = ["given_name", "family_name", "date_of_birth", "phone", "national_id", "notes", "extra"]


def person(**values) -> Person:
    row = Person(**values)
    row.save()
    return row


@pytest.fixture
def dara():
    row = person(given_name="Dara", family_name="Sok", date_of_birth=datetime.date(1990, 5, 17), phone="012 345 678",
                 national_id="AB123456", notes="counselling note", extra={"goal": "work"}, sex="F")
    Visit.objects.create(person=row, summary="first visit")
    Visit.objects.create(person=row, summary="second visit")
    return row


@pytest.fixture
def vanna():
    row = person(given_name="Vanna", family_name="Sok", date_of_birth=datetime.date(1990, 5, 17), phone="097 765 4321",
                 notes="another note", extra={"goal": "school"})
    Visit.objects.create(person=row, summary="vanna's visit")
    return row


def fresh(row):
    return type(row).objects.get(pk=row.pk)


def erase(subject_id, *args: str) -> str:
    out = io.StringIO()
    call_command("erase_subject", str(subject_id), *args, stdout=out)
    return out.getvalue()


def assert_erased(row: Person) -> None:
    loaded = fresh(row)
    for name in ENCRYPTED:
        assert getattr(loaded, name) is fields.ERASED, name
        assert str(getattr(loaded, name)) == "[erased]"
    for visit in Visit.objects.filter(person_id=row.pk):
        assert visit.summary is fields.ERASED
        assert f"{visit.summary}" == "[erased]"


def test_subject_erase_destroys_the_data_key(dara):
    assert services.subject_erase(subject_id=dara.pk, reason=REASON) is True

    key = DataKey.objects.get(subject_id=dara.pk)
    assert key.wrapped_key is None
    assert key.kek_id == ""
    assert key.destroyed_at is not None
    assert_erased(dara)


def test_erased_values_read_as_a_marker_without_an_error(dara):
    services.subject_erase(subject_id=dara.pk, reason=REASON)

    loaded = fresh(dara)

    assert loaded.given_name is fields.ERASED
    assert str(loaded.given_name) == "[erased]"
    assert repr(loaded.given_name) == "ERASED"
    assert not loaded.date_of_birth
    assert f"{loaded.family_name}, {loaded.given_name}" == "[erased], [erased]"
    assert not AuditEvent.objects.filter(action=AuditAction.RECORD_DAMAGED).exists()


def test_erased_values_stay_erased_with_every_key_still_configured(dara):
    loaded_before = fresh(dara)  # loaded, not yet opened, while the data key was cached
    services.subject_erase(subject_id=dara.pk, reason=REASON)
    assert loaded_before.notes is fields.ERASED

    crypto.reset_keyring()

    assert crypto.keyring().active_kek == "test-kek-1"
    assert_erased(dara)
    with pytest.raises(crypto.SubjectErased):
        crypto.data_key(dara.pk)


def test_none_stays_none_after_erasure():
    row = person(given_name="No phone", family_name="Meas", phone=None, extra=None)
    services.subject_erase(subject_id=row.pk, reason=REASON)

    loaded = fresh(row)
    assert loaded.phone is None and loaded.extra is None
    assert loaded.given_name is fields.ERASED


def test_unrelated_subjects_are_untouched(dara, vanna):
    before = DataKey.objects.get(subject_id=vanna.pk)

    services.subject_erase(subject_id=dara.pk, reason=REASON)
    crypto.reset_keyring()

    after = DataKey.objects.get(subject_id=vanna.pk)
    assert (after.kek_id, bytes(after.wrapped_key), after.destroyed_at) == (before.kek_id, bytes(before.wrapped_key),
                                                                            None)
    loaded = fresh(vanna)
    assert (loaded.given_name, loaded.notes, loaded.extra) == ("Vanna", "another note", {"goal": "school"})
    assert [v.summary for v in Visit.objects.filter(person=vanna)] == ["vanna's visit"]


def test_coded_fields_remain_for_statistics(dara):
    services.subject_erase(subject_id=dara.pk, reason=REASON)

    assert Person.objects.filter(sex="F").count() == 1
    assert Visit.objects.filter(person_id=dara.pk).count() == 2


def test_an_erased_subject_is_no_longer_found_by_a_blind_index(dara, vanna):
    assert len(Person.objects.blind_search("family_dob_index", "Sok", datetime.date(1990, 5, 17))) == 2

    services.subject_erase(subject_id=dara.pk, reason=REASON)

    assert [row.pk for row in Person.objects.blind_search("family_dob_index", "Sok", datetime.date(1990, 5, 17))] \
        == [vanna.pk]
    assert Person.objects.blind_search("phone_index", "012 345 678") == []


def test_the_erasure_is_audited_with_its_reason(dara):
    services.subject_erase(subject_id=dara.pk, reason=REASON)

    event = AuditEvent.objects.get(action=AuditAction.SUBJECT_ERASED)
    assert event.reason == REASON
    assert event.client_id == dara.pk
    assert event.object_id == str(dara.pk)


def test_writing_a_new_value_for_an_erased_subject_is_refused(dara):
    services.subject_erase(subject_id=dara.pk, reason=REASON)
    loaded = fresh(dara)
    loaded.notes = "written after the erasure"

    with pytest.raises(crypto.SubjectErased), transaction.atomic():
        loaded.save()
    with pytest.raises(crypto.SubjectErased), transaction.atomic():
        Visit.objects.create(person_id=dara.pk, summary="a visit after the erasure")
    with pytest.raises(crypto.SubjectErased), transaction.atomic():
        person(id=dara.pk, given_name="Dara again")

    assert Visit.objects.filter(person_id=dara.pk).count() == 2
    assert fresh(dara).notes is fields.ERASED


def test_an_erased_record_can_still_have_its_coded_fields_changed(dara):
    services.subject_erase(subject_id=dara.pk, reason=REASON)
    loaded = fresh(dara)
    assert loaded.given_name is fields.ERASED and loaded.family_name is fields.ERASED

    loaded.sex = "M"
    loaded.save()

    again = fresh(dara)
    assert again.sex == "M"
    assert again.given_name is fields.ERASED


def test_erasing_twice_says_so(dara):
    assert services.subject_erase(subject_id=dara.pk, reason=REASON) is True
    assert services.subject_erase(subject_id=dara.pk, reason=REASON) is False
    assert_erased(dara)


def test_a_subject_without_a_data_key_yet_can_be_erased():
    subject = uuid.uuid4()

    assert services.subject_erase(subject_id=subject, reason=REASON) is True

    with pytest.raises(crypto.SubjectErased), transaction.atomic():
        person(id=subject, given_name="Later", family_name="Record")
    assert not Person.objects.filter(pk=subject).exists()


def test_an_erasure_needs_a_reason(dara):
    with pytest.raises(ValueError, match="reason"):
        services.subject_erase(subject_id=dara.pk, reason="   ")

    assert fresh(dara).given_name == "Dara"


# --------------------------------------------------------------------------------------------
# The command


def test_erase_subject_command(dara, vanna):
    output = erase(dara.pk, "--reason", REASON)

    assert f"Subject {dara.pk} erased" in output
    assert_erased(dara)
    assert fresh(vanna).given_name == "Vanna"
    assert AuditEvent.objects.get(action=AuditAction.SUBJECT_ERASED).reason == REASON

    assert "already erased" in erase(dara.pk, "--reason", REASON)


def test_erase_subject_dry_run_changes_nothing(dara):
    before = DataKey.objects.get(subject_id=dara.pk)

    output = erase(dara.pk, "--reason", REASON, "--dry-run")

    assert "Would destroy" in output
    after = DataKey.objects.get(subject_id=dara.pk)
    assert (after.destroyed_at, bytes(after.wrapped_key)) == (None, bytes(before.wrapped_key))
    assert not AuditEvent.objects.filter(action=AuditAction.SUBJECT_ERASED).exists()
    crypto.reset_keyring()
    assert fresh(dara).notes == "counselling note"


@pytest.mark.parametrize("args", [[], ["--reason", ""], ["--reason", "   "]])
def test_erase_subject_without_a_reason_is_refused(dara, args):
    with pytest.raises(CommandError, match="reason"):
        erase(dara.pk, *args)

    assert DataKey.objects.get(subject_id=dara.pk).destroyed_at is None
    assert not AuditEvent.objects.filter(action=AuditAction.SUBJECT_ERASED).exists()
    assert fresh(dara).given_name == "Dara"


def test_erase_subject_refuses_what_is_not_a_uuid(dara):
    with pytest.raises(CommandError, match="UUID"):
        call_command("erase_subject", "Dara Sok", "--reason", REASON, stdout=io.StringIO())
    assert DataKey.objects.get(subject_id=dara.pk).destroyed_at is None


@pytest.mark.django_db
def test_erasure_removes_blind_index_values_so_guesses_cannot_be_confirmed():
    from tests.cryptotest.models import Person

    person = Person.objects.create(given_name="Guessme", family_name="Synthetic", phone="012 999 888",
                                   date_of_birth=datetime.date(1991, 3, 4))
    assert Person.objects.blind_search("phone_index", "+85512999888") == [person]
    services.subject_erase(subject_id=person.pk, reason="erasure request (test)")
    row = Person.objects.values("phone_index", "family_dob_index", "family_name_index").get(pk=person.pk)
    assert set(row.values()) == {None}
    assert Person.objects.blind_search("phone_index", "+85512999888") == []


@pytest.mark.django_db
def test_values_without_any_data_key_row_are_damage_not_erasure():
    from casemgmt.fields import RecordDamaged
    from casemgmt.models import AuditEvent, DataKey
    from tests.cryptotest.models import Person

    person = Person.objects.create(given_name="Lost", family_name="Keyrow")
    DataKey.objects.filter(subject_id=person.pk).delete()
    crypto.reset_keyring()
    with pytest.raises(RecordDamaged):
        _ = Person.objects.get(pk=person.pk).given_name
    assert AuditEvent.objects.filter(action="record_damaged", object_id=str(person.pk)).exists()
