from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReferralsConfig(AppConfig):
    name = "referrals"
    verbose_name = _("Referrals")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from casemgmt import features
        from casemgmt.home import register_home_panel
        from clients.releases import register_release_check
        from clients.sections import register_case_file_section
        from clients.signals import consent_revoked
        from referrals.home import care_staff_referrals_panel, partner_inbox_panel
        from referrals.releases import continuity_checks
        from referrals.sections import disclosures_section, referrals_section
        from referrals.services import on_consent_revoked

        features.register_urls(prefix="referrals/", module="referrals.urls")
        features.register_nav_links(features.NavLink("referrals:directory", _("Directory")),
                                    features.NavLink("referrals:cascade", _("Referrals")))
        register_home_panel(partner_inbox_panel)
        register_home_panel(care_staff_referrals_panel)
        register_case_file_section(referrals_section, order=50)
        register_release_check(continuity_checks)
        register_case_file_section(disclosures_section, order=55)
        from plans.links import register_milestone_link_provider
        from referrals.milestones import milestone_links

        register_milestone_link_provider(milestone_links)
        from referrals import audit_texts

        audit_texts.register()
        from django.db.models.signals import post_migrate

        post_migrate.connect(_administrators_edit_the_directory, sender=self,
                             dispatch_uid="referrals_administrators_edit_the_directory")
        consent_revoked.connect(on_consent_revoked, dispatch_uid="referrals_close_on_consent_revoked")


def _administrators_edit_the_directory(sender, **kwargs) -> None:
    """The directory's permissions exist only once this app's own permissions are made (after casemgmt's
    post_migrate has given the administrators theirs): give them here too, as casemgmt.roles lists them."""
    from django.contrib.auth.models import Group, Permission

    from casemgmt.roles import SYSTEM_ADMINISTRATOR_PERMISSIONS, Role

    group = Group.objects.filter(name=Role.SYSTEM_ADMINISTRATOR).first()
    if group is None:
        return
    for app_label, model, actions in SYSTEM_ADMINISTRATOR_PERMISSIONS:
        if app_label == sender.label:
            group.permissions.add(*Permission.objects.filter(
                content_type__app_label=app_label, codename__in=[f"{action}_{model}" for action in actions]))
