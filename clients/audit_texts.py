"""How the case file's audit events read on the client's timeline and in the audit trail.

Registered from ``ClientsConfig.ready`` (see casemgmt/audit_texts.py). Sentences name the thing, never
its table, and never a value; field names are shown as the models' translated verbose names.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from casemgmt.audit_texts import register_audit_text, with_names
from casemgmt.models import AuditAction

CLIENT_REGISTERED = _("Client registered")
CLIENT_OPENED = _("Client record opened")
IDENTITY_FORM_OPENED = _("Identity details opened for changing")
IDENTITY_CHANGED = _("Identity changed: %(fields)s")
IDENTITY_SAVED_UNCHANGED = _("Identity details saved without a change")
COUNSELLOR_CHANGED = _("Counsellor changed")
TRANSFERRED = _("Client transferred to another centre")
TRANSFERRED_BETWEEN = _("Client transferred from %(from)s to %(to)s")
TRANSFERRED_REASON = _("from %(from)s to %(to)s")
CLIENTS_SEARCHED = _("Clients searched by %(fields)s")
DUPLICATES_CHECKED = _("Registration checked for the same person, matching: %(fields)s")
CASELOAD_VIEWED = _("Caseload opened")
CASELOAD_FILTERED = _("Caseload filtered by %(fields)s")
RELEASES_VIEWED = _("Releases due opened")
TRANSFERS_VIEWED = _("Transfers list opened")
SCREENING_ADDED = _("Screening added")
SCREENING_OPENED = _("Screening opened")
CONSENT_RECORDED = _("Consent recorded")
CONSENT_REVOKED = _("Consent revoked")
CUSTODY_ADMITTED = _("Admission to custody recorded")
CUSTODY_RELEASED = _("Release from custody recorded")
TRANSFER_REQUESTED = _("Transfer of the record requested by another centre")
TRANSFER_DECLINED = _("Transfer request declined")
WORDING_PUBLISHED = _("Consent wording published")
WORDING_CORRECTED = _("Consent wording corrected before use: %(fields)s")

# What ``client_transfer`` writes as the reason: "transfer <from organisation> -> <to organisation>".
TRANSFER_REASON_PREFIX = "transfer "


def _transfer_ends(event, names) -> tuple[str, str] | None:
    """The two organisations' names of a transfer's reason, if both are known."""
    ends = event.reason[len(TRANSFER_REASON_PREFIX):].split(" -> ")
    if len(ends) != 2 or any(end.lower() not in names for end in ends):
        return None
    return names[ends[0].lower()], names[ends[1].lower()]


def _client_changed(event, names):
    if event.reason.startswith(TRANSFER_REASON_PREFIX):
        ends = _transfer_ends(event, names)
        return TRANSFERRED if ends is None else TRANSFERRED_BETWEEN % {"from": ends[0], "to": ends[1]}
    if event.fields == ["counsellor"]:
        return COUNSELLOR_CHANGED
    return IDENTITY_CHANGED if event.fields else IDENTITY_SAVED_UNCHANGED


def _client_reason(event, names):
    if event.reason.startswith(TRANSFER_REASON_PREFIX) and (ends := _transfer_ends(event, names)):
        return TRANSFERRED_REASON % {"from": ends[0], "to": ends[1]}
    return with_names(event.reason, names)


def register() -> None:
    register_audit_text("clients.client", noun=_("client record"), model="clients.Client", texts={
        AuditAction.CREATE: CLIENT_REGISTERED,
        AuditAction.VIEW: lambda event, names: IDENTITY_FORM_OPENED if event.fields else CLIENT_OPENED,
        AuditAction.CHANGE: _client_changed,
        AuditAction.SEARCH: CLIENTS_SEARCHED,
    }, field_labels={"name": _("name")}, reason=_client_reason)
    register_audit_text("clients.duplicate_check", noun=_("check for the same person"), model="clients.Client",
                        texts={AuditAction.SEARCH: DUPLICATES_CHECKED},
                        field_labels={"family_name_date_of_birth": _("family name and date of birth")})
    register_audit_text("clients.caseload", noun=_("caseload"), model="clients.Client", texts={
        AuditAction.VIEW: lambda event, names: CASELOAD_FILTERED if event.fields else CASELOAD_VIEWED,
    }, field_labels={"population_group": _("population group")})
    register_audit_text("clients.releases_due", noun=_("releases due"), texts={AuditAction.VIEW: RELEASES_VIEWED})
    register_audit_text("clients.transfers", noun=_("transfers list"), texts={AuditAction.VIEW: TRANSFERS_VIEWED})
    register_audit_text("clients.screening", model="clients.Screening", texts={
        AuditAction.CREATE: SCREENING_ADDED,
        AuditAction.VIEW: SCREENING_OPENED,
    }, field_labels={"answers": _("answers to the questionnaire")})
    register_audit_text("clients.consent", model="clients.Consent", texts={
        AuditAction.CONSENT_CHANGE: lambda event, names: CONSENT_REVOKED if event.reason == "revoked"
        else CONSENT_RECORDED,
    }, reason=lambda event, names: "" if event.reason == "revoked" else with_names(event.reason, names))
    register_audit_text("clients.custodyepisode", model="clients.CustodyEpisode", texts={
        AuditAction.CREATE: CUSTODY_ADMITTED,
        AuditAction.CHANGE: CUSTODY_RELEASED,
    })
    register_audit_text("clients.transfer", noun=_("transfer request"), model="clients.Transfer", texts={
        AuditAction.CREATE: TRANSFER_REQUESTED,
        AuditAction.CHANGE: TRANSFER_DECLINED,
    })
    register_audit_text("clients.consentwording", model="clients.ConsentWording", texts={
        AuditAction.CREATE: WORDING_PUBLISHED,
        AuditAction.CHANGE: WORDING_CORRECTED,
    })
