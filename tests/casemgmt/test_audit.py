"""The audit trail: hash chain, append-only table, verify_audit, concurrent appends, the auditor's page."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from casemgmt import audit
from casemgmt.models import AuditAction, AuditEvent
from tests.conftest import sign_in

postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger exists on PostgreSQL")


def record_some(n: int) -> list[AuditEvent]:
    return [audit.record(action=AuditAction.VIEW, object_type="test.thing", object_id=str(i)) for i in range(n)]


@pytest.mark.django_db
def test_events_are_chained_by_hmac():
    first, second = record_some(2)
    assert first.prev_hash == audit.GENESIS_HASH
    assert second.prev_hash == first.hash
    assert second.seq == first.seq + 1
    assert audit.verify_chain() == (2, None)


@pytest.mark.django_db
def test_events_name_fields_never_values(alice):
    event = audit.record(action=AuditAction.CHANGE, user=alice, object_type="clients.client",
                         object_id=uuid.uuid4(), fields=["phone", "family_name"])
    event.refresh_from_db()
    assert event.fields == ["family_name", "phone"]
    assert event.actor_username == "alice"
    assert event.role == "counsellor"
    assert event.organisation_id == alice.membership.organisation_id


@pytest.mark.django_db
def test_verify_audit_passes_on_an_intact_chain(capsys):
    record_some(3)
    call_command("verify_audit")
    assert "Audit trail verified: 3 events" in capsys.readouterr().out


@postgres_only
@pytest.mark.django_db
def test_trigger_refuses_update_and_delete():
    (event,) = record_some(1)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(reason="tampered")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    event.refresh_from_db()
    assert event.reason == ""


def _tamper(sql: str, params) -> None:
    table = AuditEvent._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER casemgmt_auditevent_append_only")
        cursor.execute(sql.format(table=table), params)
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER casemgmt_auditevent_append_only")


@pytest.mark.django_db
def test_verify_audit_names_the_first_altered_event():
    events = record_some(5)
    _tamper("UPDATE {table} SET actor_username = %s WHERE id = %s", ["someone-else", events[2].pk])
    with pytest.raises(CommandError, match=rf"event #{events[2].seq} \(id {events[2].pk}\).*altered"):
        call_command("verify_audit")


@pytest.mark.django_db
def test_verify_audit_catches_a_removed_event():
    events = record_some(4)
    _tamper("DELETE FROM {table} WHERE id = %s", [events[1].pk])
    with pytest.raises(CommandError, match=rf"event #{events[1].seq} is missing"):
        call_command("verify_audit")


@pytest.mark.django_db
def test_verify_audit_catches_a_recomputed_hash_without_the_key():
    """Someone with database access but not the audit key cannot forge a valid link."""
    import hashlib

    events = record_some(3)
    forged = hashlib.sha256(b"forged").hexdigest()
    _tamper("UPDATE {table} SET reason = %s, hash = %s WHERE id = %s", ["edited", forged, events[1].pk])
    checked, broken = audit.verify_chain()
    assert (checked, broken.seq) == (1, events[1].seq)


@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_keep_the_chain_valid():
    errors = []

    def worker(n):
        try:
            for i in range(15):
                audit.record(action=AuditAction.VIEW, object_type="test.concurrent", object_id=f"{n}-{i}")
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert AuditEvent.objects.count() == 90
    assert audit.verify_chain() == (90, None)


@pytest.mark.django_db
def test_auditor_page_lists_events_with_filters_and_pagination(client, otto, alice, bob):
    for i in range(60):
        audit.record(action=AuditAction.VIEW, user=alice, object_type="clients.client", object_id=f"obj-{i}")
    audit.record(action=AuditAction.EXPORT, user=bob, object_type="report", object_id="moh-q3", reason="quarterly")
    sign_in(client, otto)

    page1 = client.get(reverse("audit_events"))
    assert page1.status_code == 200
    assert len(page1.context["page"].object_list) == 50
    assert page1.context["page"].paginator.num_pages >= 2
    assert client.get(reverse("audit_events"), {"page": 2}).status_code == 200

    by_user = client.get(reverse("audit_events"), {"user": "bob"})
    assert [e.action for e in by_user.context["page"].object_list] == ["export"]
    by_action = client.get(reverse("audit_events"), {"action": "export"})
    assert [e.actor_username for e in by_action.context["page"].object_list] == ["bob"]
    by_object = client.get(reverse("audit_events"), {"object": "obj-7"})
    assert [e.object_id for e in by_object.context["page"].object_list] == ["obj-7"]
    today = timezone.localdate(by_object.context["page"].object_list[0].occurred_at).isoformat()
    assert client.get(reverse("audit_events"), {"since": today, "until": today}).context["page"].paginator.count > 60
    assert client.get(reverse("audit_events"), {"since": "2000-01-01", "until": "2000-01-02"}).context[
        "page"].paginator.count == 0
    assert b"No events match these filters." in client.get(
        reverse("audit_events"), {"since": "2000-01-01", "until": "2000-01-02"}).content


@pytest.mark.django_db
def test_auditor_page_rejects_a_reversed_date_range_clearly(client, otto):
    sign_in(client, otto)
    response = client.get(reverse("audit_events"), {"since": "2026-02-01", "until": "2026-01-01"})
    assert response.status_code == 200
    assert b"The end date is before the start date." in response.content


@pytest.mark.django_db
def test_viewing_the_audit_trail_is_itself_audited(client, otto):
    sign_in(client, otto)
    client.get(reverse("audit_events"), {"action": "export"})
    event = AuditEvent.objects.filter(actor_username="otto", action="view").latest("seq")
    assert event.object_type == "audit_trail"
    assert event.fields == ["action"]


@pytest.mark.django_db
def test_auditor_page_runs_a_fixed_number_of_queries(client, otto, alice, django_assert_max_num_queries):
    for i in range(50):
        audit.record(action=AuditAction.VIEW, user=alice, object_type="clients.client", object_id=f"o{i}")
    sign_in(client, otto)
    with django_assert_max_num_queries(16):  # PostgreSQL adds the advisory lock of the audit append
        client.get(reverse("audit_events"))
