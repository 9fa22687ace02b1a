"""State changes: one locked transition function that every feature uses (docs/concurrency.md).

``transition()`` locks the row (``SELECT ... FOR UPDATE``), checks its current state itself (never the state
a page was rendered with), changes the state and the given fields with ``save(update_fields=...)`` and
audits it, in one transaction. Two people acting at once are serialised by the lock: the second finds the
state already changed and gets ``TransitionRefused`` with a message that says so; nothing is half-done.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

from casemgmt import audit

ERROR_STATE_CHANGED = _(
    "This was already changed by someone else (it is now “%(state)s”), so your action was not applied. "
    "The page shows it as it is now."
)
ERROR_GONE = _("This record no longer exists.")


class TransitionRefused(Exception):
    def __init__(self, message) -> None:
        super().__init__(str(message))
        self.message = str(message)


def _label(instance: models.Model, field: str) -> str:
    display = getattr(instance, f"get_{field}_display", None)
    return str(display()) if display else str(getattr(instance, field))


@transaction.atomic
def transition(
    model: type[models.Model],
    *,
    pk,
    actor,
    source: Iterable[str],
    target: str,
    field: str = "status",
    changes: dict | None = None,
    check: Callable[[models.Model], None] | None = None,
    queryset: models.QuerySet | None = None,
    audit_action: str = audit.AuditAction.CHANGE,
    client_id_attr: str | None = "client_id",
    audit_fields: Iterable[str] | None = None,
    reason: str = "",
) -> models.Model:
    """Move the row ``pk`` of ``model`` from one of ``source`` states to ``target``, under a row lock, for
    ``actor`` (the user acting, named in the audit event).

    ``changes`` are further fields set in the same save (a decision's author and time); ``check`` may raise
    (``ValidationError``, ``TransitionRefused``) after the state was checked, with the row locked and fresh.
    ``queryset`` narrows where the row is looked for (the caller's scope); not found there: ``ERROR_GONE``.
    The audit event names ``audit_fields`` (by default the state field) as changed.
    """
    rows = (queryset if queryset is not None else model._base_manager.all()).select_for_update()
    instance = rows.filter(pk=pk).first()
    if instance is None:
        raise TransitionRefused(ERROR_GONE)
    if getattr(instance, field) not in set(source):
        raise TransitionRefused(ERROR_STATE_CHANGED % {"state": _label(instance, field)})
    if check is not None:
        check(instance)
    before = getattr(instance, field)
    setattr(instance, field, target)
    for name, value in (changes or {}).items():
        setattr(instance, name, value)
    changed = [field, *(changes or {})]
    instance.save(update_fields=changed)
    audit.record(
        actor=actor, action=audit_action, object_type=instance._meta.label_lower, object_id=instance.pk,
        client_id=getattr(instance, client_id_attr) if client_id_attr else None,
        fields=[field] if audit_fields is None else list(audit_fields),
        reason=reason or f"{field}: {before} -> {target}",
    )
    return instance
