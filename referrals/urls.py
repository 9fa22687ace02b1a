from django.urls import path

from casemgmt.access import CARE_STAFF_RULE, Rule, only
from casemgmt.roles import CARE_STAFF, Role
from referrals import views

app_name = "referrals"

CARE_STAFF_AND_PARTNERS = Rule(roles=frozenset({*CARE_STAFF, Role.REFERRAL_OFFICER}))

# Which referrals, the referrals.selectors scope decides: a partner's officers see only those sent to them.
access_policy = {
    "directory": CARE_STAFF_AND_PARTNERS,
    "inbox": only(Role.REFERRAL_OFFICER),
    "service_add": only(Role.REFERRAL_OFFICER),
    "service_edit": only(Role.REFERRAL_OFFICER),
    "new": CARE_STAFF_RULE,
    "detail": CARE_STAFF_AND_PARTNERS,
    "act": CARE_STAFF_AND_PARTNERS,
    "fhir": CARE_STAFF_AND_PARTNERS,
    "letter": CARE_STAFF_AND_PARTNERS,
    "disclosures_pdf": CARE_STAFF_RULE,
    # The centre's figures; the list behind a figure shows only the clients the viewer may see.
    "cascade": CARE_STAFF_RULE,
    "list": CARE_STAFF_RULE,
}

urlpatterns = [
    path("directory/", views.directory, name="directory"),
    path("inbox/", views.inbox, name="inbox"),
    path("directory/new/", views.service_add, name="service_add"),
    path("directory/<uuid:service_id>/", views.service_edit, name="service_edit"),
    path("new/<uuid:client_id>/", views.referral_new, name="new"),
    path("cascade/", views.cascade_page, name="cascade"),
    path("list/", views.referral_list, name="list"),
    path("<uuid:referral_id>/", views.detail, name="detail"),
    path("<uuid:referral_id>/act/", views.act, name="act"),
    path("<uuid:referral_id>/fhir/", views.fhir_export, name="fhir"),
    path("<uuid:referral_id>/letter/", views.letter, name="letter"),
    path("client/<uuid:client_id>/disclosures/", views.disclosures_pdf, name="disclosures_pdf"),
]
