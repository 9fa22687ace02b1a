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

        from django.db.models.signals import post_migrate

        post_migrate.connect(_first_wordings_and_their_administrators, sender=self,
                             dispatch_uid="clients_first_wordings_and_their_administrators")


def _first_wordings_and_their_administrators(sender, **kwargs) -> None:
    """After every migrate (and every flush, as tests do): the first consent wordings of migration 0008, where a
    kind and language has none, and the administrators' permissions on wordings (made only now, after casemgmt's
    post_migrate gave the administrators theirs), as casemgmt.roles lists them."""
    import importlib

    from django.apps import apps as global_apps
    from django.contrib.auth.models import Group, Permission

    from casemgmt.roles import SYSTEM_ADMINISTRATOR_PERMISSIONS, Role

    state = kwargs.get("apps") or global_apps
    try:
        state.get_model("clients", "ConsentWording")
    except LookupError:
        return  # migrated back to before 0008
    importlib.import_module("clients.migrations.0008_consent_wording").add_first_wordings(state)
    group = Group.objects.filter(name=Role.SYSTEM_ADMINISTRATOR).first()
    if group is None:
        return
    for app_label, model, actions in SYSTEM_ADMINISTRATOR_PERMISSIONS:
        if app_label == sender.label:
            group.permissions.add(*Permission.objects.filter(
                content_type__app_label=app_label, codename__in=[f"{action}_{model}" for action in actions]))
