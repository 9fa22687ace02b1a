"""Cells of the audit trail's table."""

from __future__ import annotations

import uuid

from django import template

register = template.Library()


@register.filter
def short_id(value) -> str:
    """A UUID's first eight digits, so that a row fits the screen; anything else as it is. The cell links
    the full value (a filter on it) and shows it as a tooltip."""
    text = str(value)
    try:
        uuid.UUID(text)
    except ValueError:
        return text
    return f"{text[:8]}…"
