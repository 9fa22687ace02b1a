"""How the referral loop's audit events read on the client's timeline and in the audit trail (never a value)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from casemgmt.audit_texts import register_audit_text
from casemgmt.models import AuditAction

REFERRAL_CREATED = _("Referral to a partner drafted")
REFERRAL_OPENED = _("Referral opened")
REFERRAL_CHANGED = _("Referral status changed")
REFERRAL_CLOSED_BY_WITHDRAWAL = _("Referral closed: consent withdrawn")
PREVIEW_OPENED = _("Referral previewed as the partner will see it")
FORM_OPENED = _("Referral form opened")
DIRECTORY_SEARCHED = _("Service directory searched")
SERVICE_ADDED = _("Partner service added to the directory")
SERVICE_CHANGED = _("Partner service changed in the directory")
SERVICE_OPENED = _("Partner service opened for changing")
DIRECTORY_EXPORTED = _("Service directory exported")
REFERRAL_EXPORTED = _("Referral exported as FHIR for a partner's system")
INBOX_OPENED = _("Referral inbox opened: %(fields)s")
NOTIFICATION_SENT = _("Referral e-mail sent (a link, no client information)")
DIGEST_SENT = _("Overdue referrals digest e-mailed (a count and a link)")
LETTER_PRINTED = _("Referral letter printed")
DISCLOSURES_PRINTED = _("List of who received the client's information printed")
LINKAGE_RECORDED = _("Referral: linkage to ART recorded")
CASCADE_OPENED = _("Referral cascade of the centre opened")
LIST_OPENED = _("List of the centre's referrals opened")


def _change_text(event, names):
    from referrals.services import REASON_LINKAGE

    if event.reason == "consent withdrawn":
        return REFERRAL_CLOSED_BY_WITHDRAWAL
    if event.reason == REASON_LINKAGE:
        return LINKAGE_RECORDED
    return REFERRAL_CHANGED


def register() -> None:
    register_audit_text("referrals.referral", noun=_("referral"), model="referrals.Referral", texts={
        AuditAction.CREATE: REFERRAL_CREATED,
        AuditAction.VIEW: REFERRAL_OPENED,
        AuditAction.EXPORT: REFERRAL_EXPORTED,
        AuditAction.PRINT: LETTER_PRINTED,
        AuditAction.CHANGE: _change_text,
    }, reason=lambda event, names: event.reason if "->" in (event.reason or "") else "")
    register_audit_text("referrals.cascade", noun=_("referral cascade"), texts={AuditAction.VIEW: CASCADE_OPENED})
    register_audit_text("referrals.referral_list", noun=_("referral list"), texts={AuditAction.VIEW: LIST_OPENED})
    register_audit_text("referrals.referral_form", noun=_("referral form"), texts={AuditAction.VIEW: FORM_OPENED})
    register_audit_text("referrals.disclosures", noun=_("list of who received the client's information"),
                        texts={AuditAction.PRINT: DISCLOSURES_PRINTED})
    register_audit_text("referrals.preview", noun=_("referral preview"), texts={AuditAction.VIEW: PREVIEW_OPENED})
    register_audit_text("referrals.inbox", noun=_("referral inbox"), texts={AuditAction.VIEW: INBOX_OPENED},
                        field_labels={"new": _("New referrals"), "accepted": _("Accepted"), "due_soon": _("Due soon"),
                                      "overdue": _("Overdue")})
    register_audit_text("referrals.notification", noun=_("referral e-mail"),
                        texts={AuditAction.EXPORT: NOTIFICATION_SENT})
    register_audit_text("referrals.digest", noun=_("overdue referrals digest"), model="referrals.ReferralDigest",
                        texts={AuditAction.EXPORT: DIGEST_SENT})
    register_audit_text("referrals.partnerservice", noun=_("partner service"), model="referrals.PartnerService",
                        texts={AuditAction.SEARCH: DIRECTORY_SEARCHED, AuditAction.CREATE: SERVICE_ADDED,
                               AuditAction.CHANGE: SERVICE_CHANGED, AuditAction.VIEW: SERVICE_OPENED,
                               AuditAction.EXPORT: DIRECTORY_EXPORTED})
