from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CounsellingConfig(AppConfig):
    name = "counselling"
    verbose_name = _("Counselling")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from casemgmt import features
        from casemgmt.home import register_home_panel
        from clients.models import Client
        from clients.sections import register_case_file_section
        from counselling.home import counselling_panel
        from counselling.sections import counselling_section
        from counselling.services import follow_transfer

        features.register_urls(prefix="counselling/", module="counselling.urls")
        features.register_nav_links(features.NavLink("counselling:sessions", _("Sessions")))
        register_home_panel(counselling_panel)
        register_case_file_section(counselling_section, order=40)
        post_save.connect(follow_transfer, sender=Client, dispatch_uid="counselling_follow_transfer")

        from counselling import audit_texts

        audit_texts.register()
