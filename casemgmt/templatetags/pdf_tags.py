"""Template filters of the PDF documents (casemgmt.pdf)."""

from __future__ import annotations

from django import template
from django.utils.safestring import mark_safe

from casemgmt.pdf import css_string

register = template.Library()


@register.filter(name="css_string")
def css_string_filter(value) -> str:
    """``value`` as a quoted CSS string, for the page's margin boxes (header, footer)."""
    return mark_safe(css_string(str(value)))  # noqa: S308 - every character that could end the string is escaped
