from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClientsConfig(AppConfig):
    name = "clients"
    verbose_name = _("Clients")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from casemgmt.home import register_home_panel
        from clients.home import care_staff_panel

        register_home_panel(care_staff_panel)

        from clients import audit_texts

        audit_texts.register()

        from casemgmt.signals import subject_erased
        from clients.services import mark_erased

        subject_erased.connect(mark_erased, dispatch_uid="clients_mark_erased")
