from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlansConfig(AppConfig):
    name = "plans"
    verbose_name = _("Plans")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from casemgmt import features
        from casemgmt.home import register_home_panel
        from clients.sections import register_case_file_section
        from plans.home import plans_panel
        from plans.sections import plans_section

        features.register_urls(prefix="plans/", module="plans.urls")
        register_home_panel(plans_panel)
        register_case_file_section(plans_section, order=50)
