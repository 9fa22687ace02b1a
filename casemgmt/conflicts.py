"""The conflict page: a save from a stale version shows the person's unsaved values beside the current ones.

Nothing was written (``casemgmt.versioning.Conflict``). The page shows, field by field, what the person typed
and what the record holds now, and the form again, filled with what they typed and bound to the current
version: saving it now is a deliberate choice made with both in view.
"""

from __future__ import annotations

import datetime

from django import forms
from django.shortcuts import render

from casemgmt.versioning import ERROR_CONFLICT


def _shown(field: forms.BoundField, value) -> str:
    formfield = field.field
    choices = dict(getattr(formfield, "choices", ()) or ())
    if isinstance(value, (list, tuple, set)):
        return ", ".join(str(choices.get(item, item)) for item in value) or "—"
    if choices and value in choices:
        return str(choices[value])
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "✓" if value else "—"
    if value is None or value == "":
        return "—"
    return str(value)


def comparison(form: forms.BaseForm, current: dict) -> list[dict]:
    """One row per visible field: its label, what was typed, what the record holds, and whether they differ."""
    rows = []
    typed = form.cleaned_data if hasattr(form, "cleaned_data") else {}
    for field in form.visible_fields():
        if field.name not in current:
            continue
        yours, now = _shown(field, typed.get(field.name)), _shown(field, current[field.name])
        rows.append({"label": field.label, "yours": yours, "current": now, "differs": yours != now})
    return rows


def conflict_page(request, *, form: forms.BaseForm, current: dict, version: int, template: str, context: dict):
    """Render ``template`` (a form page) as the conflict page: the comparison above the form, the form filled
    with what was typed and carrying the current ``version``."""
    data = form.data.copy()
    data[form.add_prefix("version")] = str(version)
    form.data = data
    return render(request, template, {
        **context, "form": form, "conflict": {"message": ERROR_CONFLICT, "rows": comparison(form, current)},
    }, status=409)
