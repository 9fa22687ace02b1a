from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    """The Ministry of Health reports (docs/reports.md): an app of its own, beside the feature apps it reads.

    It reads them (plain ORM aggregates on their models); none of them imports it (tests/casemgmt/test_layering.py).
    """

    name = "reports"
    verbose_name = _("Reports")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from casemgmt import features
        from casemgmt.home import register_home_panel
        from reports import audit_texts, checks  # noqa: F401 - registers the start-up check
        from reports.home import reports_panel

        features.register_urls(prefix="reports/", module="reports.urls")
        features.register_nav_links(
            features.NavLink("reports:dashboard", _("Reports")),
            features.NavLink("reports:definitions", _("Indicator definitions")),
        )
        register_home_panel(reports_panel)
        audit_texts.register()
