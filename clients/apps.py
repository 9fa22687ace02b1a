from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClientsConfig(AppConfig):
    name = "clients"
    verbose_name = _("Clients")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from casemgmt import features
        from casemgmt.home import register_home_panel
        from casemgmt.roles import OrganisationKind
        from clients.home import care_staff_panel

        features.register_urls(prefix="clients/", module="clients.urls")
        features.register_nav_links(
            features.NavLink("clients:caseload", _("Clients")),
            features.NavLink("clients:search", _("Search")),
            features.NavLink("clients:register", _("Register")),
            features.NavLink("clients:releases", _("Releases"),
                             condition=lambda organisation: organisation.kind == OrganisationKind.PRISON_HEALTH_UNIT),
            features.NavLink("clients:transfers", _("Transfers")),
        )
        register_home_panel(care_staff_panel)

        from clients import audit_texts

        audit_texts.register()

        from casemgmt.signals import subject_erased
        from clients.services import mark_erased

        subject_erased.connect(mark_erased, dispatch_uid="clients_mark_erased")
