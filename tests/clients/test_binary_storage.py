"""Encrypted values are stored in binary columns; the migration that moved them there from their
text form (cm1: + base64) keeps every value readable, both ways, without decrypting anything."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from casemgmt import crypto
from clients.models import Client, Consent
from tests.clients.helpers import give_consent, make_client

TEXT_FORM = [("clients", "0004_caseload_count_index")]
BINARY = [("clients", "0005_binary_encrypted_storage")]


def raw(table: str, column: str, row_id):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s",
                       [row_id.hex if connection.vendor == "sqlite" else row_id])
        value = cursor.fetchone()[0]
    return bytes(value) if isinstance(value, memoryview) else value


def migrate(target):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target)


def migrate_to_latest():
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


def readable(case: Client, consent: Consent) -> tuple:
    fresh = Client.objects.get(pk=case.pk)
    fresh_consent = Consent.objects.get(pk=consent.pk)
    return (fresh.given_name, fresh.family_name, fresh.date_of_birth, fresh.phone, fresh.national_id, fresh.uic,
            fresh_consent.witness_name, fresh_consent.purpose)


@pytest.fixture
def back_to_latest():
    yield
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_values_are_stored_as_bytes_a_quarter_smaller_than_their_text_form(alice, centre_a):
    case = make_client(actor=alice, organisation=centre_a, given_name="សុខា")

    stored = raw("clients_client", "given_name", case.pk)
    assert isinstance(stored, bytes) and stored.startswith(crypto.FORMAT_V2)
    assert len(stored) < 0.8 * len(crypto.to_text(stored))
    assert Client.objects.get(pk=case.pk).given_name == "សុខា"


@pytest.mark.django_db(transaction=True)
def test_the_migration_moves_values_to_their_text_form_and_back_unchanged(alice, centre_a, back_to_latest):
    case = make_client(actor=alice, organisation=centre_a, given_name="ដារ៉ា", national_id="N0099887")
    consent = give_consent(case, actor=alice, method="verbal", witness_name="Synthetic Witness",
                           purpose="Methadone intake")
    before = readable(case, consent)
    migrate(BINARY)  # before row versions: their migration, undone, wrote every value in format 1
    stored = raw("clients_client", "given_name", case.pk)
    assert stored.startswith(crypto.FORMAT_V1)

    migrate(TEXT_FORM)
    text = raw("clients_client", "given_name", case.pk)
    assert text == crypto.to_text(stored)  # the same bytes, nothing re-encrypted
    assert raw("clients_consent", "witness_name", consent.pk).startswith(crypto.TOKEN_PREFIX)

    migrate(BINARY)
    assert raw("clients_client", "given_name", case.pk) == stored
    migrate_to_latest()
    assert readable(case, consent) == before


@pytest.mark.django_db(transaction=True)
def test_a_column_holding_something_else_stops_the_migration_and_nothing_changes(alice, centre_a, back_to_latest):
    good, bad = (make_client(actor=alice, organisation=centre_a, n=n) for n in (1, 2))
    migrate(TEXT_FORM)
    good_text = raw("clients_client", "family_name", good.pk)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE clients_client SET family_name = %s WHERE id = %s",
                       ["written around the field", bad.pk.hex if connection.vendor == "sqlite" else bad.pk])

    with pytest.raises(ValueError, match="not encrypted values in the form expected") as caught:
        migrate(BINARY)

    assert "written around" not in str(caught.value)  # the message names the column, never a value
    assert raw("clients_client", "family_name", good.pk) == good_text
    assert raw("clients_client", "family_name", bad.pk) == "written around the field"
    with connection.cursor() as cursor:  # put it right, so that the database can move on
        cursor.execute("UPDATE clients_client SET family_name = %s WHERE id = %s",
                       [good_text, bad.pk.hex if connection.vendor == "sqlite" else bad.pk])


@pytest.mark.django_db(transaction=True)
def test_a_client_written_in_the_text_form_reads_the_same_once_migrated(alice, centre_a, back_to_latest):
    # What an installation holds before the change: written by the field as it was (storage="text").
    migrate(TEXT_FORM)
    old_apps = MigrationExecutor(connection).loader.project_state(TEXT_FORM).apps
    old_client = old_apps.get_model("clients", "Client")
    then = old_apps.get_model("casemgmt", "Organisation").objects.get(pk=centre_a.pk)
    written = old_client.objects.create(
        organisation=then, registered_by_organisation=then, sex="F", birth_year=1991, province="KH-12",
        given_name="ស្រីនាង", family_name="Synthfamily", date_of_birth=datetime.date(1991, 4, 5),
        mother_first_name="Srey", father_first_name="Dara", uic="SRDAF050491")
    assert raw("clients_client", "given_name", written.pk).startswith(crypto.TOKEN_PREFIX)
    assert old_client.objects.get(pk=written.pk).given_name == "ស្រីនាង"

    migrate(BINARY)
    migrate_to_latest()

    now = Client.objects.get(pk=written.pk)
    assert (now.given_name, now.family_name, now.date_of_birth, now.uic) == (
        "ស្រីនាង", "Synthfamily", datetime.date(1991, 4, 5), "SRDAF050491")
    assert isinstance(raw("clients_client", "given_name", written.pk), bytes)


def test_the_storage_option_is_binary_or_text():
    from casemgmt.fields import EncryptedCharField

    assert EncryptedCharField(max_length=10).get_internal_type() == "BinaryField"
    assert EncryptedCharField(max_length=10, storage="text").deconstruct()[3]["storage"] == "text"
    assert "storage" not in EncryptedCharField(max_length=10).deconstruct()[3]
    with pytest.raises(ValueError, match="binary, text"):
        EncryptedCharField(max_length=10, storage="base64")


@pytest.mark.django_db(transaction=True)
def test_going_back_to_text_refuses_a_value_of_another_format_and_changes_nothing(alice, centre_a, back_to_latest):
    case = make_client(actor=alice, organisation=centre_a)
    original = raw("clients_client", "family_name", case.pk)
    other_format = b"\x07" + bytes(40)  # a format this code does not know: it must not be relabelled as version 1
    with connection.cursor() as cursor:
        cursor.execute("UPDATE clients_client SET family_name = %s WHERE id = %s",
                       [other_format, case.pk.hex if connection.vendor == "sqlite" else case.pk])

    with pytest.raises(ValueError, match="format version 1"):
        migrate(TEXT_FORM)

    assert raw("clients_client", "family_name", case.pk) == other_format
    assert raw("clients_client", "given_name", case.pk).startswith(crypto.FORMAT_V1)  # still binary: all undone
    with connection.cursor() as cursor:
        cursor.execute("UPDATE clients_client SET family_name = %s WHERE id = %s",
                       [original, case.pk.hex if connection.vendor == "sqlite" else case.pk])
