"""A referral as a FHIR R4 Bundle: valid (read back with fhir.resources), exactly what the partner's page shows and
nothing more, its states mapped by the one table the README gives, resting on its consent, for the partner and the
sender only, audited; nothing after a consent withdrawal."""

from __future__ import annotations

import datetime
import itertools
import json
import re

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle

from casemgmt.models import AuditEvent
from clients import services as client_services
from clients.models import Client
from referrals import fhir, services
from referrals.models import Referral, ReferralStatus
from tests.conftest import sign_in
from tests.referrals.factories import partner_service, referral, sharing_consent

pytestmark = pytest.mark.django_db

CATEGORIES = ["identity", "contact", "hiv_status", "treatment"]
COMBINATIONS = [list(c) for n in range(1, 5) for c in itertools.combinations(CATEGORIES, n)]
# What each category lets the file carry, as it would appear in it.
SHARED_VALUES = {"identity": ["Zqgiven"], "contact": ["012 999 888"],
                 "hiv_status": ["positive_art", "Positive, on ART"], "treatment": ["Consented to treatment, active"]}
NEVER = ["Zqfamily", "Zqalias", "Zqvillage", "Zqcommune", "Zqdistrict", "ZQ123456", "Zqmother", "Zqfather",
         "1987-03-04", "1987", "Zqscreeningnote", "Zqotherreason", "Referral for testing (synthetic)", "Zqwitness"]

# The FHIR R4 value sets the mapped codes must come from (hl7.org/fhir/R4: task-status, request-status, ...).
TASK_STATUSES = {"draft", "requested", "received", "accepted", "rejected", "ready", "cancelled", "in-progress",
                 "on-hold", "failed", "completed", "entered-in-error"}
REQUEST_STATUSES = {"draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown"}
REQUEST_PRIORITIES = {"routine", "urgent", "asap", "stat"}
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
CONSENT_STATUSES = {"draft", "proposed", "active", "rejected", "inactive", "entered-in-error"}

# ReferralStatus -> (Task.status, ServiceRequest.status): the README's table, and the request in force or not.
EXPECTED_STATUS = {
    "draft": ("draft", "draft"),
    "sent": ("requested", "active"),
    "accepted": ("accepted", "active"),
    "declined": ("rejected", "revoked"),
    "attended": ("in-progress", "active"),
    "no_show": ("failed", "revoked"),
    "completed": ("completed", "completed"),
    "closed_unresolved": ("failed", "revoked"),
    "cancelled": ("cancelled", "revoked"),
}


@pytest.fixture
def rich_client(alice, centre_a):
    from tests.referrals.factories import client_with_history

    client = client_with_history(
        counsellor=alice, organisation=centre_a, given_name="Zqgiven", phone="012 999 888",
        date_of_birth=datetime.date(1987, 3, 4), family_name="Zqfamily", other_names="Zqalias", village="Zqvillage",
        commune="Zqcommune", district="Zqdistrict", national_id="ZQ123456", mother_first_name="Zqmother",
        father_first_name="Zqfather")
    screening = client.screenings.get()
    screening.notes = "Zqscreeningnote"
    screening.save()
    return Client.objects.get(pk=client.pk)


@pytest.fixture
def service(partner):
    return partner_service(organisation=partner)


@pytest.fixture
def consent(alice, rich_client, partner):
    return sharing_consent(counsellor=alice, client=rich_client, partner=partner)


def url(made) -> str:
    return reverse("referrals:fhir", args=[made.pk])


def download(client, user, made):
    client.logout()
    sign_in(client, user)
    return client.get(url(made))


def read(response) -> tuple[dict, Bundle]:
    """The file as JSON and as fhir.resources' R4 model (which refuses unknown elements and missing required ones)."""
    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+json; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment; filename=")
    text = response.content.decode()
    return json.loads(text), Bundle.model_validate_json(text)


def resources(data: dict) -> dict:
    """Resource type -> list of resources."""
    found: dict = {}
    for entry in data["entry"]:
        found.setdefault(entry["resource"]["resourceType"], []).append(entry["resource"])
    return found


def one(data: dict, resource_type: str) -> dict:
    (resource,) = resources(data)[resource_type]
    return resource


def test_the_file_is_a_valid_fhir_collection_whose_references_all_resolve(client, alice, priya, rich_client,
                                                                          service, consent, partner, centre_a):
    made = referral(counsellor=alice, client=rich_client, service=service, consent=consent)
    data, bundle = read(download(client, priya, made))

    assert bundle.type == "collection" and data["meta"]["security"][0]["code"] == "R"
    kinds = sorted(entry.resource.get_resource_type() for entry in bundle.entry)
    assert kinds == ["Consent", "Observation", "Observation", "Organization", "Organization", "Patient",
                     "ServiceRequest", "Task"]
    urls = [entry["fullUrl"] for entry in data["entry"]]
    assert all(u == f"urn:uuid:{entry['resource']['id']}" for u, entry in zip(urls, data["entry"], strict=True))
    assert len(set(urls)) == len(urls)
    references = set(re.findall(r'"reference": "([^"]+)"', response_text := json.dumps(data)))
    assert references and references <= set(urls), "every reference points into the file"
    request = one(data, "ServiceRequest")
    assert request["id"] == str(made.pk) and request["intent"] == "order"
    assert request["category"][0]["coding"][0] == {"system": "http://snomed.info/sct", "code": "3457005",
                                                   "display": "Patient referral"}
    assert request["code"]["coding"][0]["code"] == "hiv_testing" and request["code"]["text"] == "HIV testing"
    assert request["note"] == [{"text": "Zqreason"}]  # the reason, as the partner's page shows it
    assert request["requester"]["reference"] == f"urn:uuid:{centre_a.pk}"
    assert request["performer"][0]["reference"] == f"urn:uuid:{partner.pk}"
    organisations = {o["id"]: o["name"] for o in resources(data)["Organization"]}
    assert organisations == {str(centre_a.pk): "Centre A (test)", str(partner.pk): "Partner NGO (test)"}
    task = one(data, "Task")
    assert task["focus"]["reference"] == f"urn:uuid:{made.pk}"
    assert task["owner"]["reference"] == f"urn:uuid:{partner.pk}"
    assert task["requester"]["reference"] == f"urn:uuid:{centre_a.pk}"
    assert task["for"]["reference"] == request["subject"]["reference"] == f"urn:uuid:{one(data, 'Patient')['id']}"
    assert str(rich_client.pk) not in response_text and str(consent.pk) not in response_text


@pytest.mark.parametrize("categories", COMBINATIONS, ids=["+".join(c) for c in COMBINATIONS])
def test_the_file_carries_exactly_the_shared_categories(client, alice, priya, rich_client, service, consent,
                                                        categories):
    made = referral(counsellor=alice, client=rich_client, service=service, consent=consent, categories=categories)
    response = download(client, priya, made)
    data, _bundle = read(response)
    text = response.content.decode()

    for category, values in SHARED_VALUES.items():
        for value in values:
            assert (value in text) is (category in categories), (category, value)
    assert (rich_client.uic in text) is ("identity" in categories)
    # Ids are random: a birth year may appear inside one by chance, never as a value of its own.
    without_ids = UUID.sub("<id>", text)
    for value in NEVER:
        assert value not in without_ids, value
    patient = one(data, "Patient")
    assert set(patient) - {"resourceType", "id"} == ({"identifier", "name"} if "identity" in categories else set()) | (
        {"telecom"} if "contact" in categories else set())
    if "identity" in categories:
        assert patient["identifier"] == [{"system": fhir.IDENTIFIER_UIC, "value": rich_client.uic}]
        assert patient["name"] == [{"given": ["Zqgiven"]}]
    if "contact" in categories:
        assert patient["telecom"] == [{"system": "phone", "value": "012 999 888"}]
    observations = {o["code"]["coding"][0]["code"]: o for o in resources(data).get("Observation", [])}
    assert set(observations) == {c for c in ("hiv_status", "treatment") if c in categories}
    supporting = {ref["reference"] for ref in one(data, "ServiceRequest")["supportingInfo"]}
    assert {f"urn:uuid:{o['id']}" for o in observations.values()} <= supporting
    assert one(data, "Consent")["provision"]["class"] == [
        {"system": fhir.SYSTEM_SHARE_CATEGORY, "code": c, "display": label}
        for c, label in (("identity", "Identity"), ("contact", "Contact details"), ("hiv_status", "HIV status"),
                         ("treatment", "Treatment information")) if c in categories]


def test_the_hiv_status_is_coded_and_marked_sensitive(client, alice, priya, rich_client, service, consent):
    made = referral(counsellor=alice, client=rich_client, service=service, consent=consent, categories=["hiv_status"])
    data, _bundle = read(download(client, priya, made))
    (observation,) = resources(data)["Observation"]
    assert observation["valueCodeableConcept"] == {
        "coding": [{"system": fhir.SYSTEM_HIV_STATUS, "code": "positive_art", "display": "Positive, on ART"}],
        "text": "Positive, on ART"}
    assert observation["meta"]["security"][0]["code"] == "HIV"


def walk_to(made, status, *, alice, priya):
    steps = {
        "draft": [], "sent": [], "accepted": ["accept"], "declined": ["decline"], "attended": ["accept", "attend"],
        "no_show": ["accept", "no_show"], "completed": ["accept", "attend", "complete"],
        "closed_unresolved": ["accept", "close_unresolved"], "cancelled": ["cancel"],
    }[status]
    for step in steps:
        if step == "cancel":
            made = services.referral_cancel(actor=alice, referral=made, reason="referred_elsewhere")
        elif step == "complete":
            made = services.referral_complete(actor=priya, referral=made, outcome="ongoing", feedback="Zqfeedback")
        elif step in ("decline", "no_show", "close_unresolved"):
            made = getattr(services, f"referral_{step}")(actor=priya, referral=made, reason="no_capacity")
        else:
            made = getattr(services, f"referral_{step}")(actor=priya, referral=made)
    return made


@pytest.mark.parametrize("status", ReferralStatus.values)
def test_every_state_maps_to_a_task_and_request_status(client, alice, priya, rich_client, service, consent, status):
    made = referral(counsellor=alice, client=rich_client, service=service, consent=consent, send=status != "draft")
    made = walk_to(made, status, alice=alice, priya=priya)
    assert made.status == status
    data, _bundle = read(download(client, alice, made))  # the sender: drafts too
    task, request = one(data, "Task"), one(data, "ServiceRequest")

    assert (task["status"], request["status"]) == EXPECTED_STATUS[status]
    assert task["status"] in TASK_STATUSES and request["status"] in REQUEST_STATUSES
    assert task["businessStatus"]["coding"][0] == {"system": fhir.SYSTEM_REFERRAL_STATUS, "code": status,
                                                   "display": ReferralStatus(status).label}
    if status in ("declined", "no_show", "closed_unresolved"):
        assert task["statusReason"] == {"coding": [{"system": fhir.SYSTEM_END_REASON, "code": "no_capacity",
                                                    "display": "No capacity"}], "text": "No capacity"}
    elif status == "cancelled":
        assert task["statusReason"]["coding"][0]["code"] == "referred_elsewhere"
    else:
        assert "statusReason" not in task
    if status == "completed":
        assert task["output"][0]["valueCodeableConcept"]["coding"][0]["code"] == "ongoing"
    assert "Zqfeedback" not in json.dumps(data)


def test_the_readme_table_and_the_code_map_states_alike():
    readme = (settings.BASE_DIR / "README.md").read_text(encoding="utf-8")
    table = readme.split("### States", 1)[1].split("\n\n", 2)[1]
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in table.splitlines()[2:]]
    documented = {row[0].split(" ")[0]: row[-1] for row in rows}
    assert documented == {status: task for status, (task, _request) in EXPECTED_STATUS.items()}
    assert {str(status): task for status, task in fhir.TASK_STATUS.items()} == documented
    assert set(fhir.TASK_STATUS) == set(ReferralStatus.values) == set(fhir.SERVICE_REQUEST_STATUS)


@pytest.mark.parametrize("urgency, priority", [("routine", "routine"), ("urgent", "urgent"), ("emergency", "stat")])
def test_urgency_is_the_priority_and_the_due_date_the_period(client, alice, priya, rich_client, service, consent,
                                                            urgency, priority):
    due = timezone.localdate() + datetime.timedelta(days=4)
    made = referral(counsellor=alice, client=rich_client, service=service, consent=consent, urgency=urgency,
                    due_on=due)
    data, _bundle = read(download(client, priya, made))
    request, task = one(data, "ServiceRequest"), one(data, "Task")
    assert request["priority"] == task["priority"] == priority and priority in REQUEST_PRIORITIES
    assert request["occurrencePeriod"] == task["restriction"]["period"] == {"end": due.isoformat()}


def test_the_consent_it_rests_on_is_in_the_file_without_its_free_text(client, alice, priya, rich_client, service,
                                                                      partner, centre_a):
    given = datetime.date(2026, 1, 5)
    expires = timezone.localdate() + datetime.timedelta(days=200)
    consent = client_services.consent_record(
        actor=alice, client=rich_client, kind="sharing", partner=partner, purpose="Zqpurpose", categories=CATEGORIES,
        given_on=given, expires_on=expires, method="verbal", witness_name="Zqwitness")
    made = referral(counsellor=alice, client=rich_client, service=service, consent=consent, categories=["contact"])
    data, _bundle = read(download(client, priya, made))
    record = one(data, "Consent")

    assert f"urn:uuid:{record['id']}" in {ref["reference"] for ref in one(data, "ServiceRequest")["supportingInfo"]}
    assert record["status"] == "active" and record["status"] in CONSENT_STATUSES
    assert record["dateTime"] == given.isoformat()
    assert record["scope"]["coding"][0]["code"] == "patient-privacy"
    assert record["patient"]["reference"] == f"urn:uuid:{one(data, 'Patient')['id']}"
    assert record["organization"][0]["reference"] == f"urn:uuid:{centre_a.pk}"
    assert record["provision"]["type"] == "permit"
    assert record["provision"]["period"] == {"start": given.isoformat(), "end": expires.isoformat()}
    (actor,) = record["provision"]["actor"]
    assert actor["reference"]["reference"] == f"urn:uuid:{partner.pk}" and actor["role"]["coding"][0]["code"] == "IRCP"
    text = json.dumps(data)
    assert "Zqpurpose" not in text and "Zqwitness" not in text and str(consent.pk) not in text


def test_ids_are_the_same_for_one_referral_and_unlinkable_across_referrals(client, alice, priya, rich_client,
                                                                           service, consent):
    first = referral(counsellor=alice, client=rich_client, service=service, consent=consent, categories=["contact"])
    second = referral(counsellor=alice, client=rich_client, service=service, consent=consent, categories=["contact"])
    again, _ = read(download(client, priya, first))
    once, _ = read(download(client, priya, first))
    other, _ = read(download(client, priya, second))
    for kind in ("Patient", "Task", "Consent"):
        assert one(again, kind)["id"] == one(once, kind)["id"]
        assert one(again, kind)["id"] != one(other, kind)["id"]


def test_texts_are_in_english_whatever_the_page_language(client, alice, priya, rich_client, service, consent):
    made = referral(counsellor=alice, client=rich_client, service=service, consent=consent)
    sign_in(client, priya)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "km"
    assert "lang=\"km\"" in client.get(reverse("referrals:detail", args=[made.pk])).content.decode()
    data, _bundle = read(client.get(url(made)))
    assert one(data, "ServiceRequest")["code"]["text"] == "HIV testing"


def test_only_the_partner_and_the_senders_may_download_it(client, actors, olga, rich_client, service, consent):
    made = referral(counsellor=actors["alice"], client=rich_client, service=service, consent=consent)
    draft = referral(counsellor=actors["alice"], client=rich_client, service=service, consent=consent, send=False)
    expected = {"alice": 200, "mona": 200, "priya": 200, "bob": 404, "nina": 404, "pete": 404, "rita": 403,
                "otto": 403, "sam": 403}
    got = {name: download(client, actors[name], made).status_code for name in expected}
    assert got == expected
    assert download(client, olga, made).status_code == 404  # another partner: as if it did not exist
    assert download(client, actors["priya"], draft).status_code == 404  # never sent: not the partner's
    client.logout()
    assert client.get(url(made)).status_code == 302


def test_each_download_is_audited_with_names_only_and_shows_on_the_timeline(client, alice, priya, rich_client,
                                                                            service, consent):
    made = referral(counsellor=alice, client=rich_client, service=service, consent=consent,
                    categories=["identity", "hiv_status"])
    read(download(client, priya, made))
    event = AuditEvent.objects.get(action="export", object_type="referrals.referral")
    assert (event.actor_username, event.object_id, event.client_id) == ("priya", str(made.pk), rich_client.pk)
    assert sorted(event.fields) == ["hiv_status", "identity", "reason"]
    assert "Zq" not in (event.reason or "") and rich_client.uic not in (event.reason or "")
    page = download(client, alice, made)
    assert page.status_code == 200
    timeline = client.get(reverse("clients:detail", args=[rich_client.pk])).content.decode()
    assert "Referral exported as FHIR for a partner&#x27;s system" in timeline


def test_the_referral_page_links_the_download_for_both_sides(client, alice, priya, rich_client, service, consent):
    made = referral(counsellor=alice, client=rich_client, service=service, consent=consent)
    for user in (priya, alice):
        client.logout()
        sign_in(client, user)
        assert f'href="{url(made)}"' in client.get(reverse("referrals:detail", args=[made.pk])).content.decode()


def test_after_a_withdrawal_nothing_is_exported(client, alice, priya, rich_client, service, consent):
    made = referral(counsellor=alice, client=rich_client, service=service, consent=consent)
    client_services.consent_revoke(actor=alice, consent=consent, revoked_on=timezone.localdate(),
                                   reason="Zqwithdrawn")
    for user in (priya, alice):
        response = download(client, user, made)
        assert response.status_code == 403
        assert response["Content-Type"].startswith("text/html")
        html = response.content.decode()
        assert "The client withdrew the consent this referral rested on, so nothing about them can be exported." \
            in html
        for value in ["Zqreason", "Zqgiven", "012 999 888", "Positive, on ART", rich_client.uic]:
            assert value not in html
        assert f'href="{url(made)}"' not in client.get(reverse("referrals:detail", args=[made.pk])).content.decode()
    assert not AuditEvent.objects.filter(action="export").exists()
    assert AuditEvent.objects.filter(action="access_denied", object_id=str(made.pk)).count() == 2
    with pytest.raises(fhir.ExportRefused):
        fhir.referral_bundle(Referral.objects.get(pk=made.pk))
