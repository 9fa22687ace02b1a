from casemgmt import access
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
        "nav_is_care_staff": role in (Role.COUNSELLOR, Role.CENTRE_MANAGER),
        "nav_is_admin": role == Role.SYSTEM_ADMINISTRATOR,
    }
