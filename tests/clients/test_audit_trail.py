"""Every read and write of a case file is audited: the client's UUID and field names, never a value."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from casemgmt import audit
from casemgmt.models import AuditEvent
from casemgmt.normalise import id_number, phone
from clients.models import Consent, CustodyEpisode, Screening
from tests.clients.helpers import (
    client_from_redirect,
    consent_data,
    detail_url,
    full_screening_data,
    identity_data,
    person,
    register,
    uic_of,
    used,
)
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate
DATA = person(7, other_names="Zqalias Seven", village="Zqvillage", commune="Zqcommune", district="Zqdistrict")
NEW_PHONE = "+855 97 888 777"
WITNESS = "Zqwitness Synthetic"
PURPOSE = "Zqpurpose synthetic referral"
REVOKE_REASON = "Zqreason synthetic"
NOTES = "Zqnote synthetic screening"


def plaintext_values() -> list[str]:
    values = [DATA[name] for name in ("given_name", "family_name", "other_names", "phone", "village", "commune",
                                      "district", "national_id", "mother_first_name", "father_first_name",
                                      "date_of_birth")]
    values += [phone(DATA["phone"]), phone(NEW_PHONE), NEW_PHONE, id_number(DATA["national_id"]), uic_of(DATA),
               WITNESS, PURPOSE, REVOKE_REASON, NOTES]
    return values


def events_since(seq: int, **filters) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(seq__gt=seq, **filters).order_by("seq"))


def last_seq() -> int:
    return AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0


class Trail:
    """Runs one step and returns the events it recorded."""

    def __init__(self, client) -> None:
        self.client = client

    def step(self, method: str, url: str, data=None, *, expect: int = 302) -> list[AuditEvent]:
        before = last_seq()
        response = getattr(self.client, method)(url, data or {})
        assert response.status_code == expect, getattr(response, "context", None) and response.context.get("form")
        self.response = response
        return events_since(before)


def one(events: list[AuditEvent], **expected) -> AuditEvent:
    matching = [e for e in events if all(getattr(e, k) == v for k, v in expected.items())]
    assert len(matching) == 1, [(e.action, e.object_type, e.client_id, e.fields) for e in events]
    return matching[0]


@pytest.fixture
def walk(client, alice, mona, carol, centre_b, prison, partner):
    """A case file's life through the pages, each step's audit events kept by name."""
    trail = Trail(sign_in(client, alice))
    steps = {}
    steps["register"] = trail.step("post", reverse("clients:register"), {**DATA, "population_groups": ["pwid"]})
    case = client_from_redirect(trail.response)
    steps["view"] = trail.step("get", detail_url(case), expect=200)
    steps["identity_change"] = trail.step("post", reverse("clients:edit_identity", args=[case.pk]),
                                          {**DATA, "phone": NEW_PHONE, "population_groups": ["pwid"]})
    steps["consent"] = trail.step("post", reverse("clients:consent_add", args=[case.pk]), consent_data(
        given_on=(TODAY() - datetime.timedelta(days=5)).isoformat(), method="verbal", witness_name=WITNESS,
        purpose=PURPOSE))
    steps["sharing_consent"] = trail.step("post", reverse("clients:consent_add", args=[case.pk]), consent_data(
        kind="sharing", partner=str(partner.pk), categories=["identity"], purpose=PURPOSE))
    steps["screening"] = trail.step("post", reverse("clients:screening_add", args=[case.pk]), full_screening_data(
        alcohol=used(q2="weekly", q3="weekly", q4="never", q5="never"), intake={"notes": NOTES}))
    steps["custody"] = trail.step("post", reverse("clients:custody_add", args=[case.pk]), {
        "facility": str(prison.pk), "admitted_on": (TODAY() - datetime.timedelta(days=3)).isoformat()})
    episode = CustodyEpisode.objects.get(client=case)
    steps["release"] = trail.step("post", reverse("clients:custody_release", args=[case.pk, episode.pk]),
                                  {"released_on": TODAY().isoformat()})
    sharing = Consent.objects.get(client=case, kind="sharing")
    steps["revoke"] = trail.step("post", reverse("clients:consent_revoke", args=[case.pk, sharing.pk]),
                                 {"revoked_on": TODAY().isoformat(), "reason": REVOKE_REASON})
    client.logout()
    sign_in(client, mona)
    steps["assign"] = trail.step("post", reverse("clients:assign", args=[case.pk]), {"counsellor": str(carol.pk)})
    steps["transfer"] = trail.step("post", reverse("clients:transfer", args=[case.pk]),
                                   {"to_organisation": str(centre_b.pk), "confirm": "on"})
    return case, steps


EXPECTED = {
    "register": ("create", "clients.client"),
    "view": ("view", "clients.client"),
    "identity_change": ("change", "clients.client"),
    "consent": ("consent_change", "clients.consent"),
    "sharing_consent": ("consent_change", "clients.consent"),
    "screening": ("create", "clients.screening"),
    "custody": ("create", "clients.custodyepisode"),
    "release": ("change", "clients.custodyepisode"),
    "revoke": ("consent_change", "clients.consent"),
    "assign": ("change", "clients.client"),
    "transfer": ("change", "clients.client"),
}


@pytest.mark.parametrize("step", EXPECTED)
def test_each_read_and_write_leaves_an_event_naming_the_client(walk, step):
    case, steps = walk
    action, object_type = EXPECTED[step]
    event = one(steps[step], action=action, object_type=object_type)
    assert event.client_id == case.pk
    assert event.actor_username in {"alice", "mona"}
    assert event.role in {"counsellor", "centre_manager"}


def test_events_name_the_fields_never_their_values(walk):
    case, steps = walk
    register = one(steps["register"], action="create", object_type="clients.client")
    assert {"given_name", "family_name", "phone", "national_id", "date_of_birth"} <= set(register.fields)
    assert one(steps["identity_change"], action="change").fields == ["phone"]
    assert one(steps["assign"], action="change").fields == ["counsellor"]
    assert one(steps["transfer"], action="change").fields == ["counsellor", "organisation"]
    assert one(steps["release"], action="change").fields == ["released_on"]
    assert one(steps["revoke"], action="consent_change").fields == ["revoke_reason", "revoked_on"]
    object_ids = {e.object_id for name in ("consent", "screening", "custody") for e in steps[name]}
    assert object_ids <= {str(pk) for pk in (*Consent.objects.values_list("pk", flat=True),
                                             *Screening.objects.values_list("pk", flat=True),
                                             *CustodyEpisode.objects.values_list("pk", flat=True))}


def test_no_plaintext_value_in_any_audit_column(walk):
    case, _steps = walk
    rows = list(AuditEvent.objects.values())
    assert any(row["client_id"] == case.pk for row in rows)
    columns = [f"{row['seq']}.{name}={value}" for row in rows for name, value in row.items()]
    leaked = {value: [c for c in columns if value in c][:3] for value in plaintext_values()
              if any(value in c for c in columns)}
    assert leaked == {}


def test_the_audit_chain_still_verifies(walk):
    checked, broken = audit.verify_chain()
    assert broken is None and checked == AuditEvent.objects.count()


def test_opening_a_screening_is_audited(client, alice, centre_a):
    sign_in(client, alice)
    case = client_from_redirect(register(client, **DATA))
    client.post(reverse("clients:consent_add", args=[case.pk]), consent_data())
    client.post(reverse("clients:screening_add", args=[case.pk]), full_screening_data(intake={"notes": NOTES}))
    screening = Screening.objects.get(client=case)
    before = last_seq()
    response = client.get(reverse("clients:screening", args=[case.pk, screening.pk]))
    assert response.status_code == 200 and NOTES in response.content.decode()
    (event,) = events_since(before, action="view")
    assert (event.object_type, event.object_id, event.client_id) == ("clients.screening", str(screening.pk), case.pk)
    assert NOTES not in str(AuditEvent.objects.values_list())


def test_a_search_is_audited_by_kind_never_by_value(client, alice, centre_a):
    sign_in(client, alice)
    before = last_seq()
    client.get(reverse("clients:search"), {"kind": "phone", "value": "097 123 456"})
    client.get(reverse("clients:search"), {"kind": "name", "family_name": "Zqfamily", "given_name": "Zqgiven"})
    events = events_since(before, action="search")
    assert [e.fields for e in events] == [["phone"], ["name"]]
    assert not [row for row in AuditEvent.objects.values_list("reason", "object_id", "fields")
                if "123 456" in str(row) or "+85597123456" in str(row) or "Zq" in str(row)]


def test_a_duplicate_check_is_audited_by_what_matched_never_by_value(client, alice, bob):
    sign_in(client, alice)
    client_from_redirect(register(client, **DATA))
    client.logout()
    sign_in(client, bob)
    before = last_seq()
    register(client, **identity_data(**{**DATA, "given_name": "Other", "family_name": "Person",
                                        "national_id": "", "phone": ""}))
    (event,) = events_since(before, action="search")
    assert event.object_type == "clients.duplicate_check" and event.fields == ["uic"]
    assert event.client_id is None and event.object_id == ""  # not even which record matched


def test_opening_the_identity_form_is_audited_as_a_read(client, alice):
    sign_in(client, alice)
    case = client_from_redirect(register(client, **DATA))
    before = last_seq()
    html = client.get(reverse("clients:edit_identity", args=[case.pk])).content.decode()
    assert DATA["national_id"] in html and DATA["mother_first_name"] in html
    (event,) = events_since(before, client_id=case.pk, action="view")
    assert event.object_type == "clients.client" and "national_id" in event.fields
