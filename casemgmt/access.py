"""Who may reach what (docs/access.md).

``POLICY`` maps every named URL of the platform to the rule that guards it;
each feature app declares the rows of its own URLs next to them (``access_policy``
in its ``urls`` module) and registers them (``casemgmt.features.register_urls``).
The ``AccessPolicyMiddleware`` applies them to every request before the view runs:
a URL with no entry is reachable by nobody (deny by default), and a test walks
the resolver so that a new URL without an entry fails the build.

Object-level scope is the job of the ``access_*`` functions of each app, which
answer 404 for "not yours" exactly as for "does not exist".
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from django.db.models import Model, Q, QuerySet
from django.db.models.signals import post_migrate
from django.dispatch import receiver

from casemgmt.roles import CARE_STAFF, TWO_FACTOR_ROLES, Role


@dataclass(frozen=True)
class Rule:
    roles: frozenset[str] = frozenset()
    public: bool = False
    # Reachable when signed in but before the second factor (sign-out, 2FA pages).
    before_second_factor: bool = False

    def allows(self, role: str | None) -> bool:
        return self.public or (role is not None and role in self.roles)


ALL_ROLES = frozenset(Role.values)

PUBLIC = Rule(public=True)
CARE_STAFF_RULE = Rule(roles=CARE_STAFF)
SIGNED_IN = Rule(roles=ALL_ROLES)
SIGNING_IN = Rule(roles=ALL_ROLES, before_second_factor=True)


def only(*roles: str) -> Rule:
    return Rule(roles=frozenset(roles))


# Every named URL, and the roles that may reach it. Keys are "namespace:name";
# "namespace:*" covers a whole namespace (Django's admin site).
POLICY: dict[str, Rule] = {
    # Signing in and out
    "signin": PUBLIC,
    "set_language": PUBLIC,
    "favicon": PUBLIC,  # browsers ask for /favicon.ico on pages without an icon link (the administration's)
    "signout": SIGNING_IN,
    "otp_setup": SIGNING_IN,
    "otp_verify": SIGNING_IN,
    "password_change": SIGNED_IN,
    "password_change_done": SIGNED_IN,
    # Pages
    "home": SIGNED_IN,
    # Staff membership changes: a centre manager confirms those into their organisation; auditors see all.
    "staff_changes": only(Role.CENTRE_MANAGER),
    "staff_change_decide": only(Role.CENTRE_MANAGER),
    # Audit trail
    "audit_events": only(Role.AUDITOR),
    "audit_verify": only(Role.AUDITOR),
    "membership_changes": only(Role.AUDITOR),
    # Administration: accounts, organisations, keys; never client data.
    "admin:*": only(Role.SYSTEM_ADMINISTRATOR),
    "key_status": only(Role.SYSTEM_ADMINISTRATOR),
}


def register_policy(namespace: str, rules: dict[str, Rule]) -> None:
    """Add a feature app's rows, ``namespace:name`` each. A name that already has a row is refused: every URL
    has exactly one (registering the same rows again, as a reloaded app does, changes nothing)."""
    for name, rule in rules.items():
        key = f"{namespace}:{name}"
        if POLICY.get(key, rule) != rule:
            raise ValueError(f"{key} already has an access policy row.")
        if not isinstance(rule, Rule):
            raise TypeError(f"The access policy row of {key} must be an access.Rule.")
        POLICY[key] = rule


def rule_for(view_name: str | None) -> Rule | None:
    """The rule for a resolved view name, or None: nobody may reach it."""
    if not view_name:
        return None
    if view_name in POLICY:
        return POLICY[view_name]
    namespace, _, _name = view_name.rpartition(":")
    if namespace:
        return POLICY.get(f"{namespace}:*")
    return None


def role_of(user) -> str | None:
    """The user's role through their membership, or None (no membership, inactive organisation, or a role
    waiting to be confirmed again after a reset)."""
    if user is None or isinstance(user, AnonymousUser) or not user.is_authenticated or not user.is_active:
        return None
    membership = getattr(user, "membership", None)
    if membership is None or membership.suspended or not membership.organisation.active:
        return None
    return membership.role


def membership_stamp(user) -> str:
    """What a session remembers of the membership it signed in under: it ends when this changes."""
    membership = getattr(user, "membership", None)
    return f"{membership.pk}:{membership.generation}" if membership is not None else ""


def organisation_of(user):
    membership = getattr(user, "membership", None) if user is not None and user.is_authenticated else None
    return membership.organisation if membership else None


def needs_second_factor(user) -> bool:
    """Roles that see identities must use TOTP; anyone who enrolled of their own accord too."""
    from django_otp import user_has_device

    return role_of(user) in TWO_FACTOR_ROLES or user_has_device(user, confirmed=True)


def scope_for(user, perm: str, queryset: QuerySet, *, use_groups: bool = True) -> QuerySet:
    """Objects of ``queryset`` on which ``user`` holds ``perm`` directly or through a group.

    Through django-guardian's direct foreign-key permission models only: no
    superuser bypass, no global permission, so a grant is the only way in. The
    same rows guardian's ``get_objects_for_user`` would find, asked directly: one
    semi-join on the grant table's (holder, permission, object) index, with the
    permission's id known in advance.
    """
    if user is None or not user.is_authenticated or not user.is_active:
        return queryset.none()
    model = queryset.model
    user_model, group_model = _direct_models(model)
    (permission_id,) = _permission_ids([perm], model)
    held = Q(pk__in=user_model.objects.filter(user=user, permission_id=permission_id).values("content_object_id"))
    if use_groups:
        held |= Q(pk__in=group_model.objects.filter(group__user=user, permission_id=permission_id)
                  .values("content_object_id"))
    return queryset.filter(held)


def scope_by_probe(user, perm: str, queryset: QuerySet) -> QuerySet:
    """The rows ``scope_for`` finds, asked row by row: for each candidate row of ``queryset``, one probe of the
    grant tables' (holder, permission, object) index, direct or through one of the user's groups.

    For a holder with many grants whose pages filter down to few candidate rows first (a partner's inbox: its
    open referrals among 50,000 it ever received), ``pk IN (grants)`` makes PostgreSQL hash every grant before it
    looks at one row (20–40 ms a query); a correlated subquery is never hashed. Same answer, other plan."""
    if user is None or not user.is_authenticated or not user.is_active:
        return queryset.none()
    from django.contrib.auth import get_user_model
    from django.db.models import OuterRef, Subquery

    model = queryset.model
    user_model, group_model = _direct_models(model)
    (permission_id,) = _permission_ids([perm], model)
    groups = get_user_model().groups.through.objects.filter(user_id=user.pk).values("group_id")
    direct = user_model.objects.filter(user_id=user.pk, permission_id=permission_id, content_object_id=OuterRef("pk"))
    through_group = group_model.objects.filter(group_id__in=groups, permission_id=permission_id,
                                               content_object_id=OuterRef("pk"))
    return queryset.alias(
        held_directly=Subquery(direct.values("content_object_id")[:1]),
        held_by_group=Subquery(through_group.values("content_object_id")[:1]),
    ).filter(Q(held_directly__isnull=False) | Q(held_by_group__isnull=False))


_permissions: dict[tuple[type[Model], str], int] = {}


@receiver(post_migrate)
def _forget_permissions(**kwargs) -> None:
    _permissions.clear()  # a flush or a migration may recreate the rows under new ids


def _permission_ids(perms, model: type[Model]) -> list[int]:
    """Ids of ``app_label.codename`` permissions on ``model``, looked up once per process."""
    missing = [perm for perm in perms if (model, perm) not in _permissions]
    if missing:
        from django.contrib.auth.models import Permission
        from django.contrib.contenttypes.models import ContentType

        found = dict(Permission.objects.filter(
            content_type=ContentType.objects.get_for_model(model), codename__in=[p.partition(".")[2] for p in missing],
        ).values_list("codename", "pk"))
        for perm in missing:
            app_label, _, codename = perm.partition(".")
            if app_label != model._meta.app_label or codename not in found:
                raise ValueError(f"{perm} is not a permission of {model._meta.label}.")
            _permissions[(model, perm)] = found[codename]
    return [_permissions[(model, perm)] for perm in perms]


def _direct_models(obj: Model | type[Model]) -> tuple[type[Model], type[Model]]:
    from guardian.utils import get_group_obj_perms_model, get_user_obj_perms_model

    models = get_user_obj_perms_model(obj), get_group_obj_perms_model(obj)
    if any(model.objects.is_generic() for model in models):
        raise TypeError(f"{obj._meta.label} needs direct foreign-key object permission models.")
    return models


def grant_all(perms, obj: Model, *, users=(), groups=()) -> None:
    """Each of ``perms`` on ``obj`` to each of ``users`` and ``groups`` (instances or ids), in one INSERT per
    kind of holder.

    Grants already held are kept as they are, as ``assign_perm`` does, which costs a few queries per grant.
    """
    grant_each(perms, obj.__class__, [(obj, users, groups)])


def grant_each(perms, model: type[Model], grants) -> None:
    """``grant_all`` for many objects of ``model`` at once: ``grants`` holds ``(obj, users, groups)``, each an
    instance or an id, and all their rows go in one INSERT per kind of holder (bulk loads: the benchmark's
    seeding, imports)."""
    user_model, group_model = _direct_models(model)
    ids = _permission_ids(perms, model)
    user_rows, group_rows = [], []
    for obj, users, groups in grants:
        pk = _pk(obj)
        user_rows += [user_model(user_id=_pk(user), permission_id=pid, content_object_id=pk)
                      for user in users for pid in ids]
        group_rows += [group_model(group_id=_pk(group), permission_id=pid, content_object_id=pk)
                       for group in groups for pid in ids]
    for holder_model, rows in ((user_model, user_rows), (group_model, group_rows)):
        if rows:
            holder_model.objects.bulk_create(rows, ignore_conflicts=True)


def _pk(value):
    return value.pk if isinstance(value, Model) else value


def revoke_all(perms, obj: Model, *, users=(), groups=()) -> None:
    """Withdraw each of ``perms`` on ``obj`` from ``users`` and ``groups``: one DELETE per kind of holder."""
    user_model, group_model = _direct_models(obj)
    ids = _permission_ids(perms, obj.__class__)
    for model, holder, holders in ((user_model, "user", users), (group_model, "group", groups)):
        if holders:
            model.objects.filter(**{f"{holder}__in": list(holders)}, permission_id__in=ids, content_object=obj).delete()
