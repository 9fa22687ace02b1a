from django.urls import path

from casemgmt.access import CARE_STAFF_RULE
from counselling import views

app_name = "counselling"

# Care staff only; which sessions, notes, flags and tasks, the clients.selectors scope decides (a counsellor's
# caseload, a manager's centre). Partners, reviewers, auditors and administrators reach none of them.
access_policy = {
    "sessions": CARE_STAFF_RULE,
    "group_new": CARE_STAFF_RULE,
    "session": CARE_STAFF_RULE,
    "session_record": CARE_STAFF_RULE,
    "note_edit": CARE_STAFF_RULE,
    "session_add": CARE_STAFF_RULE,
    "appointment_add": CARE_STAFF_RULE,
    "client_sessions": CARE_STAFF_RULE,
    "flag_resolve": CARE_STAFF_RULE,
    "flags": CARE_STAFF_RULE,
    "tasks": CARE_STAFF_RULE,
    "task_done": CARE_STAFF_RULE,
    "not_seen": CARE_STAFF_RULE,
}

urlpatterns = [
    path("", views.sessions, name="sessions"),
    path("group/new/", views.group_new, name="group_new"),
    path("sessions/<uuid:session_id>/", views.session_detail, name="session"),
    path("sessions/<uuid:session_id>/record/", views.session_record, name="session_record"),
    path("sessions/<uuid:session_id>/notes/<uuid:participant_id>/", views.note_edit, name="note_edit"),
    path("clients/<uuid:client_id>/sessions/new/", views.session_add, name="session_add"),
    path("clients/<uuid:client_id>/appointments/new/", views.appointment_add, name="appointment_add"),
    path("clients/<uuid:client_id>/sessions/", views.client_sessions, name="client_sessions"),
    path("clients/<uuid:client_id>/flags/<uuid:flag_id>/resolve/", views.flag_resolve, name="flag_resolve"),
    path("flags/", views.flags, name="flags"),
    path("follow-up/", views.tasks, name="tasks"),
    path("follow-up/<uuid:task_id>/done/", views.task_done, name="task_done"),
    path("not-seen/", views.not_seen, name="not_seen"),
]
