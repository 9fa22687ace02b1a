from casemgmt import access
from casemgmt.roles import Role


def notices_section(*, user, client):
    if access.role_of(user) != Role.CENTRE_MANAGER:
        return None
    return {"template": "featureapp/section.html", "title": "Notices section (test)"}
