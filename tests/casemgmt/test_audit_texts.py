"""The audit-text registry: a sentence per (action, object type), registered by the app that owns the type."""

from __future__ import annotations

import uuid

import pytest
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from casemgmt import audit_texts
from casemgmt.models import AuditAction, AuditEvent

ORG = uuid.UUID("7d4c1d2e-0000-4000-8000-0000000000aa")
OTHER = uuid.UUID("7d4c1d2e-0000-4000-8000-0000000000bb")


@pytest.fixture(autouse=True)
def _in_english():
    with translation.override("en"):  # a test client's request before this one may have left Khmer active
        yield


def described(**fields) -> AuditEvent:
    event = AuditEvent(**{"object_type": "", "fields": [], "reason": "", **fields})
    audit_texts.describe_all([event], organisation_names={ORG: "Centre A (test)"})
    return event


@pytest.fixture
def feature_type():
    """A feature app's own object type, registered as its AppConfig.ready would: casemgmt is not edited."""
    audit_texts.register_audit_text("cryptotest.person", model="cryptotest.Person", texts={
        AuditAction.CREATE: _("Person added"),
        AuditAction.CHANGE: _("Person changed: %(fields)s"),
    }, field_labels={"notes": _("notes")})
    yield "cryptotest.person"
    audit_texts._registry.pop("cryptotest.person")


def test_a_feature_app_registers_the_sentences_of_its_own_types(feature_type):
    assert described(action="create", object_type=feature_type).summary == "Person added"
    changed = described(action="change", object_type=feature_type, fields=["family_name", "notes", "not_a_field"])
    assert changed.summary == "Person changed: family name, notes, not a field"
    assert changed.field_labels == ["family name", "notes", "not a field"]
    assert changed.thing == "person"  # the model's verbose name, not its table


def test_an_action_without_a_sentence_reads_as_the_action_and_the_thing(feature_type):
    assert described(action="record_damaged", object_type=feature_type).summary == "Record damaged: person"
    assert described(action="record_damaged", object_type="clients.screening").summary == (
        "Record damaged: screening")
    assert described(action="view", object_type="cryptotest.visit").summary == "Viewed: visit"  # not registered
    assert described(action="signin").summary == "Signed in"
    assert described(action="view", object_type="something.unknown").summary == "Viewed"


def test_field_names_use_the_models_verbose_names_in_the_active_language():
    with translation.override("km"):
        event = described(action="change", object_type="clients.client", fields=["phone", "village"])
    assert event.field_labels == ["លេខទូរស័ព្ទ", "ភូមិ"]
    assert event.summary == "បានកែប្រែអត្តសញ្ញាណ៖ លេខទូរស័ព្ទ, ភូមិ"  # "Identity changed: phone, village"
    assert described(action="change", object_type="clients.client", fields=["phone", "village"]).summary == (
        "Identity changed: phone, village")


def test_organisation_uuids_in_reasons_read_as_their_names():
    event = described(action="key_rotated", object_type="kek", reason=f"moved {ORG} and {OTHER}")
    assert event.reason_text == f"moved Centre A (test) and {OTHER}"  # only organisations are looked up
    assert audit_texts.organisation_ids_in([event]) == {str(ORG), str(OTHER)}


def test_a_sentence_never_carries_a_value_from_the_reason():
    event = described(action="subject_erased", object_type="casemgmt.datakey", reason="Zqsecret request")
    assert event.summary == "Client's data erased: its key was destroyed"
    assert "Zqsecret" not in event.summary


def test_the_platforms_and_the_clients_types_are_registered():
    for object_type in ("auth.user", "audit_trail", "url", "casemgmt.organisation", "casemgmt.membership",
                        "casemgmt.datakey", "kek", "blind_index", "clients.client", "clients.consent",
                        "clients.screening", "clients.custodyepisode", "clients.transfer", "clients.caseload",
                        "clients.duplicate_check", "clients.releases_due", "clients.transfers"):
        assert object_type in audit_texts._registry, object_type
