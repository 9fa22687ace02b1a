"""Rows of the client lists (caseload, search results, home panel).

Built in Python with ``format_html``, as the admin's change list builds its cells: a page of fifty
rows through template nodes (a variable, a filter or a ``{% url %}`` per cell) cost about half the
caseload page's CPU time, this about a tenth of that (``make bench``, clients suite).
"""

from __future__ import annotations

import uuid

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html_join

register = template.Library()

NONE = "—"


# Reversed once a list, then the row's id put in place of this one: a UUID's text is hex digits and
# hyphens, so it can only match where the argument went.
_ANY_ID = uuid.UUID(int=0)


def _row(client, detail_url: str) -> tuple:
    counsellor = client.counsellor
    return (
        detail_url.replace(str(_ANY_ID), str(client.pk)),
        client.uic,
        client.initials,
        client.status_label,
        client.risk_level_label or NONE,
        ", ".join(client.population_group_labels),
        counsellor.username if counsellor is not None else NONE,
        timezone.localdate(client.last_activity_at).isoformat() if client.last_activity_at else "",
    )


@register.simple_tag
def client_rows(clients):
    """One ``<tr>`` per client: UIC (linking to the client's page), initials, status, risk, groups,
    counsellor, last activity. Never a name: lists are seen by others."""
    detail_url = reverse("clients:detail", args=[_ANY_ID])
    return format_html_join(
        "\n",
        "<tr>\n      <td><a href=\"{}\"><code>{}</code></a></td>\n      <td>{}</td>\n      <td>{}</td>\n"
        "      <td>{}</td>\n      <td>{}</td>\n      <td>{}</td>\n      <td>{}</td>\n    </tr>",
        (_row(client, detail_url) for client in clients),
    )
