from casemgmt import access, features
from casemgmt.roles import Role


def navigation(request):
    """The menu for the user's role: only links their role may follow."""
    user = getattr(request, "user", None)
    role = access.role_of(user) if user is not None else None
    if role is None:
        return {"nav_role": None}
    return {
        "nav_role": role,
        "nav_role_label": Role(role).label,
        "nav_organisation": access.organisation_of(user),
        "nav_is_auditor": role == Role.AUDITOR,
        # The feature apps' links the role may follow (casemgmt.features.register_nav_links).
        "nav_links": features.nav_links_for(user, role),
        "nav_is_admin": role == Role.SYSTEM_ADMINISTRATOR,
    }
