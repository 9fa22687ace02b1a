from django.urls import path

from casemgmt.access import only
from casemgmt.roles import Role
from reports import views

app_name = "reports"

# Aggregate, suppressed figures only: MoH reviewers (the whole country, or the province of their membership) and
# centre managers (their own organisation). Counsellors, partners, auditors and administrators: refused.
REPORT_READERS = only(Role.MOH_REVIEWER, Role.CENTRE_MANAGER)
access_policy = {
    "dashboard": REPORT_READERS,
    "report": REPORT_READERS,
    "definitions": REPORT_READERS,
    "report_csv": REPORT_READERS,
    "table_csv": REPORT_READERS,
    "report_pdf": REPORT_READERS,
}

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("report/", views.full_report, name="report"),
    path("definitions/", views.definitions, name="definitions"),
    path("report.csv", views.report_csv, name="report_csv"),
    path("tables/<slug:table_id>.csv", views.report_csv, name="table_csv"),
    path("report.pdf", views.report_pdf, name="report_pdf"),
]
