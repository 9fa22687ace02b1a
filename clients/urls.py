from django.urls import path

from casemgmt.access import CARE_STAFF_RULE, only
from casemgmt.roles import Role
from clients import views

app_name = "clients"

# The case file: care staff only; which clients, the clients.selectors scope decides (docs/access.md).
access_policy = {
    "caseload": CARE_STAFF_RULE,
    "search": CARE_STAFF_RULE,
    "register": CARE_STAFF_RULE,
    "releases": CARE_STAFF_RULE,
    "transfers": CARE_STAFF_RULE,
    "transfer_request": CARE_STAFF_RULE,
    "transfer_decide": only(Role.CENTRE_MANAGER),
    "detail": CARE_STAFF_RULE,
    "case_summary_pdf": CARE_STAFF_RULE,
    "edit_identity": CARE_STAFF_RULE,
    "consent_add": CARE_STAFF_RULE,
    "consent_revoke": CARE_STAFF_RULE,
    "screening_add": CARE_STAFF_RULE,
    "screening": CARE_STAFF_RULE,
    "custody_add": CARE_STAFF_RULE,
    "custody_release": CARE_STAFF_RULE,
    "assign": only(Role.CENTRE_MANAGER),
    "transfer": only(Role.CENTRE_MANAGER),
}

urlpatterns = [
    path("", views.caseload, name="caseload"),
    path("search/", views.search, name="search"),
    path("register/", views.register, name="register"),
    path("releases/", views.releases, name="releases"),
    path("transfers/", views.transfers, name="transfers"),
    path("transfers/request/", views.transfer_request, name="transfer_request"),
    path("transfers/<uuid:transfer_id>/decide/", views.transfer_decide, name="transfer_decide"),
    path("<uuid:client_id>/", views.detail, name="detail"),
    path("<uuid:client_id>/case-summary.pdf", views.case_summary_pdf, name="case_summary_pdf"),
    path("<uuid:client_id>/identity/", views.edit_identity, name="edit_identity"),
    path("<uuid:client_id>/consents/new/", views.consent_add, name="consent_add"),
    path("<uuid:client_id>/consents/<uuid:consent_id>/revoke/", views.consent_revoke, name="consent_revoke"),
    path("<uuid:client_id>/screenings/new/", views.screening_add, name="screening_add"),
    path("<uuid:client_id>/screenings/<uuid:screening_id>/", views.screening_detail, name="screening"),
    path("<uuid:client_id>/custody/new/", views.custody_add, name="custody_add"),
    path("<uuid:client_id>/custody/<uuid:episode_id>/release/", views.custody_release, name="custody_release"),
    path("<uuid:client_id>/assign/", views.assign, name="assign"),
    path("<uuid:client_id>/transfer/", views.transfer, name="transfer"),
]
