from django.urls import path

from casemgmt.access import CARE_STAFF_RULE, only
from casemgmt.roles import Role
from plans import views

app_name = "plans"

# Plans are part of the case file: care staff only; which plans, the client's scope decides (plans.selectors):
# the client's counsellor and the centre's managers. Approval is a manager's.
access_policy = {
    "treatment_new": CARE_STAFF_RULE,
    "treatment_detail": CARE_STAFF_RULE,
    "treatment_edit": CARE_STAFF_RULE,
    "goal_add": CARE_STAFF_RULE,
    "goal_edit": CARE_STAFF_RULE,
    "goal_remove": CARE_STAFF_RULE,
    "treatment_submit": CARE_STAFF_RULE,
    "treatment_withdraw": CARE_STAFF_RULE,
    "treatment_decide": only(Role.CENTRE_MANAGER),
    "treatment_activate": CARE_STAFF_RULE,
    "treatment_start_review": CARE_STAFF_RULE,
    "treatment_continue": CARE_STAFF_RULE,
    "treatment_close": CARE_STAFF_RULE,
    "revision_detail": CARE_STAFF_RULE,
    "treatment_pdf": CARE_STAFF_RULE,
    "reintegration_new": CARE_STAFF_RULE,
    "reintegration_detail": CARE_STAFF_RULE,
    "reintegration_close": CARE_STAFF_RULE,
    "milestone_add": CARE_STAFF_RULE,
    "milestone_edit": CARE_STAFF_RULE,
    "reintegration_pdf": CARE_STAFF_RULE,
}

urlpatterns = [
    path("client/<uuid:client_id>/treatment/new/", views.treatment_new, name="treatment_new"),
    path("treatment/<uuid:plan_id>/", views.treatment_detail, name="treatment_detail"),
    path("treatment/<uuid:plan_id>/edit/", views.treatment_edit, name="treatment_edit"),
    path("treatment/<uuid:plan_id>/goals/new/", views.goal_add, name="goal_add"),
    path("treatment/<uuid:plan_id>/goals/<uuid:goal_id>/", views.goal_edit, name="goal_edit"),
    path("treatment/<uuid:plan_id>/goals/<uuid:goal_id>/remove/", views.goal_remove, name="goal_remove"),
    path("treatment/<uuid:plan_id>/submit/", views.treatment_submit, name="treatment_submit"),
    path("treatment/<uuid:plan_id>/withdraw/", views.treatment_withdraw, name="treatment_withdraw"),
    path("treatment/<uuid:plan_id>/decide/", views.treatment_decide, name="treatment_decide"),
    path("treatment/<uuid:plan_id>/activate/", views.treatment_activate, name="treatment_activate"),
    path("treatment/<uuid:plan_id>/review/", views.treatment_start_review, name="treatment_start_review"),
    path("treatment/<uuid:plan_id>/review/keep/", views.treatment_continue, name="treatment_continue"),
    path("treatment/<uuid:plan_id>/close/", views.treatment_close, name="treatment_close"),
    path("treatment/<uuid:plan_id>/versions/<int:number>/", views.revision_detail, name="revision_detail"),
    path("treatment/<uuid:plan_id>/pdf/", views.treatment_pdf, name="treatment_pdf"),
    path("client/<uuid:client_id>/reintegration/new/", views.reintegration_new, name="reintegration_new"),
    path("reintegration/<uuid:plan_id>/", views.reintegration_detail, name="reintegration_detail"),
    path("reintegration/<uuid:plan_id>/close/", views.reintegration_close, name="reintegration_close"),
    path("reintegration/<uuid:plan_id>/milestones/new/", views.milestone_add, name="milestone_add"),
    path("reintegration/<uuid:plan_id>/milestones/<uuid:milestone_id>/", views.milestone_edit,
         name="milestone_edit"),
    path("reintegration/<uuid:plan_id>/pdf/", views.reintegration_pdf, name="reintegration_pdf"),
]
