"""What an audit event means, in a sentence a counsellor understands (client timeline, audit trail).

An event names its object by type (``clients.screening``) and the fields it touched by name. This
registry turns (action, object type) into a translatable sentence that names the thing, not its table,
and never a value: "Screening added", "Identity changed: phone, village", "Consent revoked".

Feature apps register their own object types from their ``AppConfig.ready`` (casemgmt never imports a
feature app), as they register home panels::

    register_audit_text("clients.consent", noun=_("consent"), model="clients.Consent", texts={
        AuditAction.CONSENT_CHANGE: lambda event, names: REVOKED if event.reason == "revoked" else RECORDED,
    })

A text is a translatable string, or a function of the event and the organisation names (by UUID text)
that returns one. ``%(fields)s`` in it becomes the event's fields, each shown as its model field's
translated verbose name (or a label given in ``field_labels``). An action without a text reads as the
action and the thing ("Record damaged: client record"); an unknown object type as its model's
verbose name, or the action alone. In reasons, organisation UUIDs are shown as organisation names.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from casemgmt.models import AuditAction

Text = str | Promise | Callable[..., "str | Promise"]

FIELDS = "%(fields)s"
ACTION_ON_THING = _("%(action)s: %(thing)s")
FIELD_SEPARATOR = ", "
_UUID = re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")


@dataclass(frozen=True)
class ObjectText:
    noun: str | Promise | None = None
    model: str | None = None  # "app_label.ModelName": field names are shown as its fields' verbose names
    texts: Mapping[str, Text] = field(default_factory=dict)
    field_labels: Mapping[str, str | Promise] = field(default_factory=dict)
    reason: Callable[..., str | Promise] | None = None  # (event, organisation names) -> the reason as shown


_registry: dict[str, ObjectText] = {}


def register_audit_text(object_type: str, *, noun: str | Promise | None = None, model: str | None = None,
                        texts: Mapping[str, Text] | None = None,
                        field_labels: Mapping[str, str | Promise] | None = None,
                        reason: Callable[..., str | Promise] | None = None) -> None:
    """Sentences for the events of ``object_type``: ``texts`` maps an action to its text. Registering the
    same type again replaces it (an app's ``ready`` may run more than once in tests)."""
    _registry[object_type] = ObjectText(noun=noun, model=model, texts=dict(texts or {}),
                                        field_labels=dict(field_labels or {}), reason=reason)


def organisation_ids_in(events: Iterable) -> set[str]:
    """The UUIDs named in the events' reasons: look them up once for a whole page."""
    return {match.lower() for event in events for match in _UUID.findall(event.reason or "")}


def describe_all(events: Iterable, *, organisation_names: Mapping) -> None:
    """Give each event ``summary`` (its sentence), ``thing`` (what it is about), ``field_labels`` and
    ``reason_text``, in the active language."""
    names = {str(key).lower(): str(value) for key, value in organisation_names.items()}
    for event in events:
        entry = _registry.get(event.object_type)
        labels = [field_label(entry, name) for name in event.fields or ()]
        event.thing = thing(event.object_type)
        event.field_labels = labels
        event.summary = _summary(event, entry, labels, names)
        event.reason_text = str(entry.reason(event, names)) if entry and entry.reason else with_names(
            event.reason or "", names)


def _summary(event, entry: ObjectText | None, labels: list[str], names: Mapping[str, str]) -> str:
    text = entry.texts.get(event.action) if entry else None
    if callable(text):
        text = text(event, names)
    if text is None:
        action = AuditAction(event.action).label if event.action in AuditAction.values else event.action
        what = thing(event.object_type)
        return str(ACTION_ON_THING) % {"action": action, "thing": what} if what else str(action)
    # Replaced, not %-formatted: an organisation name in a function's sentence may hold a "%".
    return str(text).replace(FIELDS, FIELD_SEPARATOR.join(labels))


def thing(object_type: str) -> str:
    """What an object type is, in words: its registered noun, else its model's verbose name."""
    entry = _registry.get(object_type)
    if entry and entry.noun:
        return str(entry.noun)
    model = _model(entry.model if entry and entry.model else object_type)
    return str(model._meta.verbose_name) if model is not None else ""


def field_label(entry: ObjectText | None, name: str) -> str:
    if entry is not None:
        if name in entry.field_labels:
            return str(entry.field_labels[name])
        model = _model(entry.model) if entry.model else None
        if model is not None:
            try:
                return str(model._meta.get_field(name).verbose_name)
            except FieldDoesNotExist:
                pass
    return name.replace("_", " ")


def with_names(text: str, names: Mapping[str, str]) -> str:
    """``text`` with each organisation UUID shown as the organisation's name (other UUIDs as they are)."""
    return _UUID.sub(lambda match: names.get(match.group(0).lower(), match.group(0)), text)


def _model(label: str | None):
    if not label or label.count(".") != 1:
        return None
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


# The platform's own events. Events without an object (signing in and out, lockouts) read as their action.
def _register_platform() -> None:
    from casemgmt.forms import AuditFilterForm

    register_audit_text("auth.user", noun=_("account"), model="auth.User", texts={
        AuditAction.CREATE: _("Account created"),
        AuditAction.CHANGE: _("Account changed: %(fields)s"),
        AuditAction.PASSWORD_CHANGED: _("Password changed"),
        AuditAction.OTP_ENROLLED: _("Authenticator app set up"),
        AuditAction.OTP_VERIFIED: _("Authenticator code accepted"),
        AuditAction.OTP_FAILED: _("Wrong authenticator code"),
        AuditAction.OTP_RESET: _("Authenticator app reset by the administrator"),
    })
    register_audit_text("audit_trail", noun=_("audit trail"), texts={
        AuditAction.VIEW: lambda event, names: (_("Audit trail searched by %(fields)s") if event.fields
                                                else _("Audit trail opened")),
    }, field_labels={name: form_field.label for name, form_field in AuditFilterForm.base_fields.items()})
    register_audit_text("url", noun=_("page"), texts={
        AuditAction.ACCESS_DENIED: _("Page refused: the role may not open it"),
        AuditAction.CSRF_FAILURE: _("Form refused: it was forged or had expired"),
    })
    register_audit_text("casemgmt.organisation", model="casemgmt.Organisation", texts={
        AuditAction.CREATE: _("Organisation created"),
        AuditAction.CHANGE: _("Organisation changed: %(fields)s"),
    })
    register_audit_text("casemgmt.membership", model="casemgmt.Membership", texts={
        AuditAction.CHANGE: _("Membership set: %(fields)s"),
        AuditAction.DELETE: _("Membership removed"),
    })
    register_audit_text("casemgmt.datakey", noun=_("client's data key"), texts={
        AuditAction.SUBJECT_ERASED: _("Client's data erased: its key was destroyed"),
    })
    register_audit_text("kek", noun=_("key-encryption key"), texts={
        AuditAction.KEY_ROTATED: _("Data keys re-wrapped under the active key-encryption key"),
    })
    register_audit_text("blind_index", noun=_("search index key"), texts={
        AuditAction.BLIND_INDEX_REBUILT: _("Search indexes recomputed under the active key"),
    })


_register_platform()
