"""How the reports' audit events read in the audit trail (casemgmt/audit_texts.py): what was opened, printed or
downloaded, for which scope and period (the event's reason); never a figure."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from casemgmt.audit_texts import register_audit_text
from casemgmt.models import AuditAction

OBJECT_TYPE = "reports.report"

DASHBOARD_OPENED = _("Ministry report opened: %(reason)s")
REPORT_PRINTED = _("Ministry report printed: %(reason)s")
TABLE_DOWNLOADED = _("Ministry report table downloaded: %(reason)s")
DEFINITIONS_OPENED = _("Indicator definitions opened")


def _with_reason(text):
    return lambda event, names: str(text) % {"reason": event.reason}


def register() -> None:
    register_audit_text(OBJECT_TYPE, noun=_("Ministry report"), texts={
        AuditAction.VIEW: _with_reason(DASHBOARD_OPENED),
        AuditAction.PRINT: _with_reason(REPORT_PRINTED),
        AuditAction.EXPORT: _with_reason(TABLE_DOWNLOADED),
    })
    register_audit_text("reports.definitions", noun=_("indicator definitions"),
                        texts={AuditAction.VIEW: DEFINITIONS_OPENED})
