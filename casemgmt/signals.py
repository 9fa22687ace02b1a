"""Authentication events into the audit trail."""

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_migrate
from django.dispatch import Signal, receiver

from casemgmt import access, audit
from casemgmt.middleware import MembershipChangedMiddleware, client_ip
from casemgmt.models import AuditAction, Membership

# Sent inside the erasure's transaction, with ``subject_id``: feature apps mark their records erased.
subject_erased = Signal()


def _ip(request):
    return client_ip(request) if request is not None else None


@receiver(user_logged_in)
def signed_in(sender, request, user, **kwargs):
    # Read afresh: the object that signs in may hold an older copy of its membership. The session remembers
    # the one it signed in under, and ends when that changes.
    user.membership = Membership.objects.filter(user=user).select_related("organisation").first()
    audit.record(action=AuditAction.SIGNIN, user=user, ip_address=_ip(request))
    if request is not None and hasattr(request, "session"):
        request.session[MembershipChangedMiddleware.SESSION_KEY] = access.membership_stamp(user)


@receiver(user_logged_out)
def signed_out(sender, request, user, **kwargs):
    if user is not None:
        audit.record(action=AuditAction.SIGNOUT, user=user, ip_address=_ip(request))


@receiver(user_login_failed)
def signin_failed(sender, credentials, request=None, **kwargs):
    username = str(credentials.get("username", ""))[:150]
    audit.record(action=AuditAction.SIGNIN_FAILED, actor=audit.Actor(username=username), ip_address=_ip(request))


@receiver(user_locked_out)
def locked_out(sender, request, username, ip_address, **kwargs):
    audit.record(action=AuditAction.LOCKOUT, actor=audit.Actor(username=str(username or "")[:150]),
                 ip_address=ip_address)


@receiver(post_migrate)
def ensure_role_groups(sender, **kwargs):
    """Keep the role groups (made by migration 0002) present after a flush, as tests do."""
    if sender.name != "casemgmt":
        return
    from django.contrib.auth.models import Group, Permission

    from casemgmt.roles import SYSTEM_ADMINISTRATOR_PERMISSIONS, Role

    for role in Role.values:
        Group.objects.get_or_create(name=role)
    admin_group = Group.objects.get(name=Role.SYSTEM_ADMINISTRATOR)
    for app_label, model, actions in SYSTEM_ADMINISTRATOR_PERMISSIONS:
        codenames = [f"{action}_{model}" for action in actions]
        admin_group.permissions.add(
            *Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)
        )
