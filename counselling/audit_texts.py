"""How counselling's audit events read on the client's timeline and in the audit trail (casemgmt/audit_texts.py).

Sentences name the thing and the coded change (attendance, a flag's state), never a note.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from casemgmt.audit_texts import register_audit_text
from casemgmt.models import AuditAction
from counselling.models import Attendance, label

SESSION_CREATED = _("Counselling session made")
SESSION_SETTLED = _("Counselling session closed: %(state)s")
SESSION_OPENED = _("Counselling session opened")
APPOINTMENT_MADE = _("Added to a counselling session or appointment")
SESSION_WRITTEN = _("Counselling session recorded: %(attendance)s")
ATTENDANCE_RECORDED = _("Attendance recorded: %(attendance)s")
NOTE_CHANGED = _("Session note changed")
NOTES_OPENED = _("Session notes opened")
FLAG_RAISED = _("Risk flag raised")
FLAG_RESOLVED = _("Risk flag resolved")
FLAG_OPENED = _("Resolved risk flag opened")
TASK_MADE = _("Follow-up of a missed appointment to do")
TASK_DONE = _("Follow-up of a missed appointment done")
HOME_OPENED = _("Counselling panels of the home page opened")
SESSIONS_OPENED = _("Sessions list opened")
FLAGS_OPENED = _("Open risk flags opened")
TASKS_OPENED = _("Follow-up list opened")
NOT_SEEN_OPENED = _("Clients not seen opened")

# What the services write as the reason of a participant's events: "attendance: <code>" (created) and the
# transition's "attendance: scheduled -> <code>".
_PREFIX = "attendance: "


def _attendance(event) -> str:
    code = event.reason[len(_PREFIX):].rpartition(" -> ")[2] if event.reason.startswith(_PREFIX) else ""
    return label(Attendance, code) if code else ""


def _participant_created(event, names):
    attendance = _attendance(event)
    if not attendance or attendance == label(Attendance, Attendance.SCHEDULED):
        return APPOINTMENT_MADE
    return SESSION_WRITTEN % {"attendance": attendance}


def _participant_changed(event, names):
    if event.reason.startswith(_PREFIX):
        return ATTENDANCE_RECORDED % {"attendance": _attendance(event)}
    return NOTE_CHANGED


def _session_changed(event, names):
    from counselling.models import SessionStatus

    code = event.reason.rpartition(" -> ")[2]
    return SESSION_SETTLED % {"state": label(SessionStatus, code)}


def register() -> None:
    register_audit_text("counselling.session", model="counselling.Session", texts={
        AuditAction.CREATE: SESSION_CREATED, AuditAction.CHANGE: _session_changed, AuditAction.VIEW: SESSION_OPENED,
    }, reason=lambda event, names: "")
    register_audit_text("counselling.participant", model="counselling.Participant", texts={
        AuditAction.CREATE: _participant_created, AuditAction.CHANGE: _participant_changed,
        AuditAction.VIEW: NOTES_OPENED,
    }, reason=lambda event, names: "")
    register_audit_text("counselling.riskflag", model="counselling.RiskFlag", texts={
        AuditAction.CREATE: FLAG_RAISED, AuditAction.CHANGE: FLAG_RESOLVED, AuditAction.VIEW: FLAG_OPENED,
    }, reason=lambda event, names: "")
    register_audit_text("counselling.followuptask", model="counselling.FollowUpTask", texts={
        AuditAction.CREATE: TASK_MADE, AuditAction.CHANGE: TASK_DONE,
    }, reason=lambda event, names: "")
    for object_type, noun, text in (
        ("counselling.home", _("counselling panels"), HOME_OPENED),
        ("counselling.sessions", _("sessions list"), SESSIONS_OPENED),
        ("counselling.riskflags", _("open risk flags"), FLAGS_OPENED),
        ("counselling.followuptasks", _("follow-up list"), TASKS_OPENED),
        ("counselling.not_seen", _("clients not seen"), NOT_SEEN_OPENED),
    ):
        register_audit_text(object_type, noun=noun, texts={AuditAction.VIEW: text})
