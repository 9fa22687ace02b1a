"""Start-up check of the reports' settings: a suppression threshold that would publish small counts is refused."""

from __future__ import annotations

from django.core.checks import Error, register
from django.core.exceptions import ImproperlyConfigured


@register()
def suppression_threshold(app_configs, **kwargs):
    from reports import suppression

    try:
        suppression.threshold()
    except ImproperlyConfigured as exc:
        return [Error(str(exc), id="reports.E001")]
    return []
