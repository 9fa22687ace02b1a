"""A damaged record: an error status with the clear page, an audit event and an error log line, never a value."""

from __future__ import annotations

import logging

import pytest
from django.db import connection
from django.test import RequestFactory

from casemgmt import crypto
from casemgmt.middleware import RecordDamagedMiddleware
from casemgmt.models import AuditAction, AuditEvent
from clients.models import Client
from tests.clients.helpers import detail_url, make_client, person
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db
DAMAGED_PAGE = "Part of this record failed its integrity check and cannot be shown."




def id_param(case: Client):
    return case.pk.hex if connection.vendor == "sqlite" else case.pk


def test_a_damaged_record_answers_500_with_the_clear_page_an_audit_event_and_an_error_log(
        client, alice, centre_a, caplog):
    case = make_client(actor=alice, organisation=centre_a, n=1)
    with connection.cursor() as cursor:
        table = Client._meta.db_table
        cursor.execute(f"SELECT given_name FROM {table} WHERE id = %s", [id_param(case)])
        (token,) = cursor.fetchone()
        cursor.execute(f"UPDATE {table} SET family_name = %s WHERE id = %s", [token, id_param(case)])
    sign_in(client, alice)
    caplog.set_level(logging.INFO)

    response = client.get(detail_url(case))

    html = response.content.decode()
    assert response.status_code == 500
    assert "<h1>Record damaged</h1>" in html and DAMAGED_PAGE in html
    event = AuditEvent.objects.get(action=AuditAction.RECORD_DAMAGED)
    assert (event.object_type, event.object_id, event.client_id, event.fields, event.actor_username) == (
        "clients.client", str(case.pk), case.pk, ["family_name"], "alice")
    (line,) = [record for record in caplog.records if record.name == "casemgmt.fields"]
    assert line.levelno == logging.ERROR
    assert line.getMessage() == f"Record damaged: clients.client {case.pk}, field family_name, failed authentication"
    logged = "\n".join(record.getMessage() for record in caplog.records)
    data = person(1)
    for value in (data["family_name"], data["given_name"], crypto.to_text(bytes(token)), bytes(token).hex()[:24]):
        assert value not in logged
        assert value not in html


def test_a_decryption_failure_outside_a_field_is_audited_and_logged_naming_the_page(alice, caplog):
    request = RequestFactory().get("/clients/some/page/")
    request.user = alice
    caplog.set_level(logging.ERROR, logger="casemgmt.middleware")

    response = RecordDamagedMiddleware(lambda r: None).process_exception(request, crypto.DecryptionFailed("x"))

    assert response.status_code == 500
    assert DAMAGED_PAGE in response.content.decode()
    event = AuditEvent.objects.get(action=AuditAction.RECORD_DAMAGED)
    assert (event.object_type, event.object_id) == ("url", "/clients/some/page/")
    assert [r.getMessage() for r in caplog.records] == [
        "Record damaged: a stored value failed authentication while serving /clients/some/page/"]
