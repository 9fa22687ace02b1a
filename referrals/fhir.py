"""A referral as a FHIR R4 Bundle, for partners whose systems speak FHIR.

The Bundle is of type ``collection``: a set of resources handed over as one file, for the partner's system to
read and file as it sees fit. It is not a ``transaction`` (that asks a FHIR server to write each entry, and
needs a request per entry) nor a ``document`` (that needs a Composition and is signed and immutable).

It holds a ServiceRequest (the referral), a Task (where the partner is with it), a Patient, the two
Organizations, the Consent the referral rests on and, where those categories are shared, an Observation of the
HIV status and one of the treatment consent. Everything about the client comes from ``shared_view_of(referral)``,
the same values as the partner's page: the Patient has the UIC and given name only when identity is shared, the
phone only when contact is; nothing else of the client's file (no family name, date of birth, sex, address,
screening or note) is ever in it. The reason for the referral, which the partner's page shows, is a note on
the ServiceRequest. A withdrawn consent exports nothing (``ExportRefused``).

Ids: the ServiceRequest has the referral's UUID and the Organizations theirs. The Patient, Task, Consent and
Observations have UUIDs derived from the referral's (uuid5), so two exports of one referral agree, and two
referrals of one client cannot be linked through them (the partner's page does not link them either). Every
``fullUrl`` is ``urn:uuid:<id>``. Texts are in English, whatever the page's language.
"""

from __future__ import annotations

import datetime
import json
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone, translation

from clients.models import HivStatus, ShareCategory
from referrals.models import EndReason, Outcome, Referral, ReferralStatus, ServiceType, Urgency
from referrals.selectors import SharedView, shared_view_of

CONTENT_TYPE = "application/fhir+json; charset=utf-8"

# Our code systems and identifier systems. An installation that publishes its own sets CASEMGMT_FHIR_SYSTEM.
BASE = getattr(settings, "CASEMGMT_FHIR_SYSTEM", "https://casemgmt.example.org/fhir")
SYSTEM_SERVICE_TYPE = f"{BASE}/CodeSystem/service-type"
SYSTEM_REFERRAL_STATUS = f"{BASE}/CodeSystem/referral-status"
SYSTEM_END_REASON = f"{BASE}/CodeSystem/end-reason"
SYSTEM_OUTCOME = f"{BASE}/CodeSystem/outcome"
SYSTEM_SHARE_CATEGORY = f"{BASE}/CodeSystem/share-category"
SYSTEM_HIV_STATUS = f"{BASE}/CodeSystem/hiv-status"
SYSTEM_TREATMENT_CONSENT = f"{BASE}/CodeSystem/treatment-consent"
SYSTEM_TASK_OUTPUT = f"{BASE}/CodeSystem/task-output"
IDENTIFIER_UIC = f"{BASE}/sid/uic"
IDENTIFIER_REFERRAL = f"{BASE}/sid/referral"
IDENTIFIER_ORGANISATION = f"{BASE}/sid/organisation"
IDENTIFIER_EXPORT = f"{BASE}/sid/referral-export"

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
V3_ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
V3_CONFIDENTIALITY = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
V3_PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
TASK_CODE = "http://hl7.org/fhir/CodeSystem/task-code"
DATA_ABSENT = "http://terminology.hl7.org/CodeSystem/data-absent-reason"

# The one mapping of our states to FHIR Task.status (README, "Referrals and the service directory", States).
TASK_STATUS = {
    ReferralStatus.DRAFT: "draft",
    ReferralStatus.SENT: "requested",
    ReferralStatus.ACCEPTED: "accepted",
    ReferralStatus.DECLINED: "rejected",
    ReferralStatus.ATTENDED: "in-progress",
    ReferralStatus.NO_SHOW: "failed",
    ReferralStatus.COMPLETED: "completed",
    ReferralStatus.CLOSED_UNRESOLVED: "failed",
    ReferralStatus.CANCELLED: "cancelled",
}
# ServiceRequest.status: the request is in force while the referral is open; ended without the service, revoked.
SERVICE_REQUEST_STATUS = {
    ReferralStatus.DRAFT: "draft",
    ReferralStatus.SENT: "active",
    ReferralStatus.ACCEPTED: "active",
    ReferralStatus.ATTENDED: "active",
    ReferralStatus.COMPLETED: "completed",
    ReferralStatus.DECLINED: "revoked",
    ReferralStatus.NO_SHOW: "revoked",
    ReferralStatus.CLOSED_UNRESOLVED: "revoked",
    ReferralStatus.CANCELLED: "revoked",
}
PRIORITY = {Urgency.ROUTINE: "routine", Urgency.URGENT: "urgent", Urgency.EMERGENCY: "stat"}
# SNOMED CT codes only where one plainly is the service (a child of 3457005 |Patient referral|); else ours alone.
SNOMED_SERVICE = {ServiceType.VOCATIONAL: ("18781004", "Patient referral for vocational rehabilitation")}
REFERRAL_CATEGORY = {"system": SNOMED, "code": "3457005", "display": "Patient referral"}


class ExportRefused(Exception):
    """The consent the referral rests on was withdrawn: nothing about the client may leave."""


@dataclass(frozen=True)
class Export:
    content: bytes
    fields: list[str]  # what it carries, by name (for the audit trail)


def export(referral: Referral, *, now: datetime.datetime | None = None) -> Export:
    bundle, shared = referral_bundle(referral, now=now)
    content = json.dumps(bundle, ensure_ascii=False, indent=2).encode()
    return Export(content=content, fields=["reason", *shared.categories])


def referral_bundle(referral: Referral, *, now: datetime.datetime | None = None) -> tuple[dict, SharedView]:
    """The Bundle (as JSON-ready data) and the partner's view it was built from. ``ExportRefused`` after a
    consent withdrawal."""
    with translation.override("en"):
        shared = shared_view_of(referral)
        if shared.consent_withdrawn:
            raise ExportRefused
        return _Builder(referral, shared).bundle(now or timezone.now()), shared


def _derived(referral: Referral, name: str) -> str:
    return str(uuid.uuid5(referral.pk, name))


def _url(resource_id: str) -> str:
    return f"urn:uuid:{resource_id}"


def _coding(system: str, code: str, display: str = "") -> dict:
    return {"system": system, "code": code, **({"display": display} if display else {})}


def _concept(system: str, code: str, display: str) -> dict:
    return {"coding": [_coding(system, code, display)], "text": display}


def _moment(value: datetime.datetime) -> str:
    return timezone.localtime(value).replace(microsecond=0).isoformat()


class _Builder:
    def __init__(self, referral: Referral, shared: SharedView) -> None:
        self.referral = referral
        self.shared = shared
        self.patient_id = _derived(referral, "patient")
        self.task_id = _derived(referral, "task")
        self.consent_id = _derived(referral, "consent")
        self.request_id = str(referral.pk)
        self.sender_id = str(referral.from_organisation_id)
        self.partner_id = str(referral.to_organisation_id)

    def ref(self, resource_id: str, display: str = "") -> dict:
        return {"reference": _url(resource_id), **({"display": display} if display else {})}

    def bundle(self, now: datetime.datetime) -> dict:
        observations = self.observations()
        resources = [self.service_request(observations), self.task(), self.patient(),
                     self.organisation(self.sender_id, self.shared.from_organisation),
                     self.organisation(self.partner_id, self.referral.to_organisation.name), self.consent(),
                     *observations]
        bundle_id = str(uuid.uuid4())
        return {
            "resourceType": "Bundle",
            "id": bundle_id,
            "meta": {"security": [_coding(V3_CONFIDENTIALITY, "R", "restricted")]},
            "identifier": {"system": IDENTIFIER_EXPORT, "value": bundle_id},
            "type": "collection",
            "timestamp": _moment(now),
            "entry": [{"fullUrl": _url(resource["id"]), "resource": resource} for resource in resources],
        }

    def authored(self) -> str:
        return _moment(self.referral.sent_at or self.referral.created_at)

    def service_request(self, observations: list[dict]) -> dict:
        referral, shared = self.referral, self.shared
        service_type = referral.service.service_type
        codings = [_coding(SYSTEM_SERVICE_TYPE, service_type, shared.service)]
        if service_type in SNOMED_SERVICE:
            codings.append(_coding(SNOMED, *SNOMED_SERVICE[service_type]))
        request = {
            "resourceType": "ServiceRequest",
            "id": self.request_id,
            "identifier": [{"system": IDENTIFIER_REFERRAL, "value": self.request_id}],
            "status": SERVICE_REQUEST_STATUS[referral.status],
            "intent": "order",
            "category": [{"coding": [REFERRAL_CATEGORY]}],
            "priority": PRIORITY[referral.urgency],
            "code": {"coding": codings, "text": shared.service},
            "subject": self.ref(self.patient_id),
            "authoredOn": self.authored(),
            "requester": self.ref(self.sender_id, shared.from_organisation),
            "performer": [self.ref(self.partner_id, referral.to_organisation.name)],
            "supportingInfo": [self.ref(self.consent_id, "Consent to share information with the partner"),
                               *(self.ref(o["id"], o["code"]["text"]) for o in observations)],
        }
        if shared.due_on:
            request["occurrencePeriod"] = {"end": shared.due_on.isoformat()}
        if shared.reason:
            request["note"] = [{"text": shared.reason}]
        return request

    def task(self) -> dict:
        referral = self.referral
        status = ReferralStatus(referral.status)
        task = {
            "resourceType": "Task",
            "id": self.task_id,
            "status": TASK_STATUS[status],
            "businessStatus": _concept(SYSTEM_REFERRAL_STATUS, status.value, str(status.label)),
            "intent": "order",
            "priority": PRIORITY[referral.urgency],
            "code": {"coding": [_coding(TASK_CODE, "fulfill", "Fulfill the focal request")]},
            "focus": self.ref(self.request_id),
            "for": self.ref(self.patient_id),
            "authoredOn": self.authored(),
            "lastModified": _moment(max(moment for moment in (referral.created_at, referral.sent_at,
                                                               referral.accepted_at, referral.closed_at) if moment)),
            "requester": self.ref(self.sender_id, self.shared.from_organisation),
            "owner": self.ref(self.partner_id, referral.to_organisation.name),
        }
        if referral.end_reason:
            reason = EndReason(referral.end_reason)
            task["statusReason"] = _concept(SYSTEM_END_REASON, reason.value, str(reason.label))
        if self.shared.due_on:
            task["restriction"] = {"period": {"end": self.shared.due_on.isoformat()}}
        if referral.outcome:
            outcome = Outcome(referral.outcome)
            task["output"] = [{"type": _concept(SYSTEM_TASK_OUTPUT, "outcome", "Outcome"),
                               "valueCodeableConcept": _concept(SYSTEM_OUTCOME, outcome.value, str(outcome.label))}]
        return task

    def patient(self) -> dict:
        """Only the categories shared: identity (the UIC, the given name), contact (the phone). Nothing else."""
        shared = self.shared
        patient = {"resourceType": "Patient", "id": self.patient_id}
        if ShareCategory.IDENTITY in shared.categories:
            patient["identifier"] = [{"system": IDENTIFIER_UIC, "value": shared.uic}]
            patient["name"] = [{"given": [shared.given_name]}]
        if ShareCategory.CONTACT in shared.categories and shared.phone:
            patient["telecom"] = [{"system": "phone", "value": shared.phone}]
        return patient

    def organisation(self, organisation_id: str, name: str) -> dict:
        return {"resourceType": "Organization", "id": organisation_id,
                "identifier": [{"system": IDENTIFIER_ORGANISATION, "value": organisation_id}], "name": name}

    def consent(self) -> dict:
        """The sharing consent the referral rests on: when it was given, for how long, to whom, for what
        categories of this referral. No free text (its purpose and any witness stay in the case file)."""
        consent = self.referral.consent
        period = {"start": consent.given_on.isoformat()}
        if consent.expires_on:
            period["end"] = consent.expires_on.isoformat()
        return {
            "resourceType": "Consent",
            "id": self.consent_id,
            "status": "active" if consent.is_active(timezone.localdate()) else "inactive",
            "scope": {"coding": [_coding(CONSENT_SCOPE, "patient-privacy", "Privacy Consent")]},
            "category": [{"coding": [_coding(LOINC, "59284-0", "Patient Consent")]}],
            "patient": self.ref(self.patient_id),
            "dateTime": consent.given_on.isoformat(),
            "organization": [self.ref(self.sender_id, self.shared.from_organisation)],
            "policyRule": {"coding": [_coding(V3_ACT_CODE, "OPTIN", "opt-in")]},
            "provision": {
                "type": "permit",
                "period": period,
                "actor": [{"role": {"coding": [_coding(V3_PARTICIPATION, "IRCP", "information recipient")]},
                           "reference": self.ref(self.partner_id, self.referral.to_organisation.name)}],
                "class": [_coding(SYSTEM_SHARE_CATEGORY, category, str(ShareCategory(category).label))
                          for category in self.shared.categories],
            },
        }

    def observations(self) -> list[dict]:
        """The HIV status and the treatment consent, each only where its category is shared."""
        shared, found = self.shared, []
        if ShareCategory.HIV_STATUS in shared.categories:
            observation = {
                "resourceType": "Observation",
                "id": _derived(self.referral, "hiv_status"),
                "meta": {"security": [_coding(V3_ACT_CODE, "HIV", "HIV/AIDS information sensitivity")]},
                "status": "final",
                "code": _concept(SYSTEM_SHARE_CATEGORY, ShareCategory.HIV_STATUS.value, "HIV status"),
                "subject": self.ref(self.patient_id),
            }
            if shared.hiv_status_code:
                observation["valueCodeableConcept"] = _concept(SYSTEM_HIV_STATUS, shared.hiv_status_code,
                                                               str(HivStatus(shared.hiv_status_code).label))
            else:
                observation["dataAbsentReason"] = _concept(DATA_ABSENT, "unknown", "Unknown")
            found.append(observation)
        if ShareCategory.TREATMENT in shared.categories:
            found.append({
                "resourceType": "Observation",
                "id": _derived(self.referral, "treatment"),
                "status": "final",
                "code": _concept(SYSTEM_SHARE_CATEGORY, ShareCategory.TREATMENT.value, "Treatment information"),
                "subject": self.ref(self.patient_id),
                "valueCodeableConcept": _concept(SYSTEM_TREATMENT_CONSENT,
                                                 "active" if shared.treatment_active else "none", shared.treatment),
            })
        return found
