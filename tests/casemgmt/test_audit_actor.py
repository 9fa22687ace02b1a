"""The audit trail names the actor of every service call, in a request or not (pattern issue, item 2)."""

from __future__ import annotations

import datetime

import pytest
from django.core.management import call_command

from casemgmt import audit
from casemgmt.models import AuditEvent
from clients import services
from tests.clients.factories import client_identity

pytestmark = pytest.mark.django_db


def test_a_service_called_outside_a_request_names_its_actor(alice, centre_a):
    client = services.client_register(actor=alice, organisation=centre_a, identity=client_identity())
    services.consent_record(actor=alice, client=client, kind="treatment", given_on=datetime.date(2026, 1, 5),
                            method="signed")
    events = AuditEvent.objects.filter(client_id=client.pk)
    assert {(e.actor_username, e.role, e.organisation_id) for e in events} == {("alice", "counsellor", centre_a.pk)}


def test_an_event_of_a_management_command_names_the_command_as_the_system(alice, centre_a):
    client = services.client_register(actor=alice, organisation=centre_a, identity=client_identity())
    call_command("erase_subject", str(client.pk), reason="Client asked to be erased (synthetic)", stdout=None)
    event = AuditEvent.objects.filter(action="subject_erased").get()
    assert (event.actor_username, event.actor_id, event.role) == ("system: erase_subject", None, "")


def test_the_demo_seed_is_recorded_as_the_system(db):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    creators = set(AuditEvent.objects.filter(action="create", object_type="casemgmt.organisation")
                   .values_list("actor_username", flat=True))
    assert creators == {"system: seed_demo"}


def test_an_event_with_neither_request_nor_actor_names_the_system_never_blank():
    event = audit.record(action=audit.AuditAction.KEY_ROTATED, object_type="casemgmt.datakey")
    assert event.actor_username.startswith("system: ") and len(event.actor_username) > len("system: ")
