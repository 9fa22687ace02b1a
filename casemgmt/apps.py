from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class CasemgmtConfig(AppConfig):
    default = True
    name = "casemgmt"
    verbose_name = _("Platform")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from casemgmt import signals  # noqa: F401 - registers receivers
        from casemgmt.encryption import checks  # noqa: F401 - registers the key checks
        from casemgmt.home import register_home_panel
        from casemgmt.staff import staff_panel

        register_home_panel(staff_panel)


class CaseAdminConfig(admin_apps.AdminConfig):
    default = False
    default_site = "casemgmt.admin_site.CaseAdminSite"
