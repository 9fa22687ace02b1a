from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from casemgmt import access
from casemgmt.roles import Role


class CaseAdminSite(admin.AdminSite):
    """Reachable by verified system administrators only (the access policy says so too)."""

    site_header = _("Case management administration")
    site_title = _("Administration")
    index_title = _("Accounts and organisations")

    def has_permission(self, request) -> bool:
        user = request.user
        return access.role_of(user) == Role.SYSTEM_ADMINISTRATOR and user.is_verified()
