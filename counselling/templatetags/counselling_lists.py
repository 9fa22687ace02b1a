"""Rows of the counselling lists (home panels, sessions, follow-up, flags, clients not seen).

Built in Python with ``format_html``, as ``clients.templatetags.client_lists`` builds the caseload's rows: the
counsellor's home shows some eighty rows, and through template nodes (an include, a ``{% url %}``, a date
filter per cell) they took most of the page's time (``make bench``, counselling suite). Lists show the UIC and
initials, never a name.
"""

from __future__ import annotations

import uuid

from django import template
from django.middleware.csrf import get_token
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from counselling.models import SessionStatus

register = template.Library()

NONE = "—"
_ANY_ID = uuid.UUID(int=0)  # reversed once a list, then the row's id put in its place (hex digits only)


class _Urls:
    def __init__(self, name: str) -> None:
        self.pattern = reverse(name, args=[_ANY_ID])

    def __call__(self, pk) -> str:
        return self.pattern.replace(str(_ANY_ID), str(pk))


def _local(moment):
    return timezone.localtime(moment, timezone.get_default_timezone())


def _time(moment, fmt: str = "Y-m-d H:i"):
    local = _local(moment)
    return format_html('<time datetime="{}">{}</time>', local.isoformat(), dateformat.format(local, fmt))


def _client(client, detail) -> str:
    return format_html('<a href="{}"><code>{}</code></a> {}', detail(client.pk), client.uic, client.initials)


def _who(session, detail) -> str:
    shown = [_client(p.client, detail) for p in session.visible]
    if session.hidden:
        shown.append(ngettext("+%(count)d other", "+%(count)d others", session.hidden) % {"count": session.hidden})
    return mark_safe(", ".join(shown))  # noqa: S308 - each part is escaped above


@register.simple_tag
def agenda_rows(sessions, with_date: bool = False):
    """Time (the session's page), clients, modality, and "Record" while it is still to be recorded."""
    detail, page, record = _Urls("clients:detail"), _Urls("counselling:session"), _Urls("counselling:session_record")
    label = _("Record")
    return format_html_join("\n", '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td></tr>', (
        (page(s.pk), _time(s.starts_at, "D Y-m-d H:i" if with_date else "H:i"), _who(s, detail), s.modality_label,
         format_html('<a href="{}">{}</a>', record(s.pk), label) if s.status == SessionStatus.SCHEDULED
         else s.status_label)
        for s in sessions))


@register.simple_tag
def session_rows(sessions, with_counsellor: bool = False):
    detail, page = _Urls("clients:detail"), _Urls("counselling:session")
    if with_counsellor:
        template_ = '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>'
        rows = ((page(s.pk), _time(s.starts_at), _who(s, detail), s.modality_label, s.counsellor.username,
                 s.status_label) for s in sessions)
    else:
        template_ = '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td></tr>'
        rows = ((page(s.pk), _time(s.starts_at), _who(s, detail), s.modality_label, s.status_label)
                for s in sessions)
    return format_html_join("\n", template_, rows)


@register.simple_tag(takes_context=True)
def task_rows(context, tasks):
    """UIC, initials, when the appointment was missed, when its follow-up is due (overdue, due today), and a
    "Done" button that comes back to this page."""
    request = context["request"]
    detail, done = _Urls("clients:detail"), _Urls("counselling:task_done")
    token, here = get_token(request), request.get_full_path()
    overdue, due_today, label = _("overdue"), _("due today"), _("Done")

    def due(task):
        mark = overdue if task.overdue else due_today if task.due_today else ""
        day = format_html('<time datetime="{0}">{0}</time>', task.due_on.isoformat())
        return format_html("{} <strong>{}</strong>", day, mark) if mark else day

    return format_html_join("\n", (
        '<tr><td><a href="{}"><code>{}</code></a></td><td>{}</td><td>{}</td><td>{}</td><td><form method="post" '
        'action="{}" class="inline"><input type="hidden" name="csrfmiddlewaretoken" value="{}"><input type="hidden" '
        'name="next" value="{}"><button type="submit">{}</button></form></td></tr>'), (
        (detail(t.client.pk), t.client.uic, t.client.initials,
         _time(t.participant.starts_at) if t.participant_id else NONE, due(t), done(t.pk), token, here, label)
        for t in tasks))


@register.simple_tag
def flag_rows(flags, with_counsellor: bool = False):
    detail = _Urls("clients:detail")

    def row(flag):
        cells = [format_html('<a href="{}"><code>{}</code></a>', detail(flag.client.pk), flag.client.uic),
                 flag.client.initials, format_html("<strong>{}</strong>", flag.kind_label),
                 _time(flag.raised_at, "Y-m-d")]
        if with_counsellor:
            counsellor = flag.client.counsellor
            cells.append(counsellor.username if counsellor is not None else NONE)
        return format_html("<tr>{}</tr>", format_html_join("", "<td>{}</td>", ((cell,) for cell in cells)))

    return mark_safe("\n".join(row(flag) for flag in flags))  # noqa: S308 - built with format_html


@register.simple_tag
def unseen_rows(clients):
    detail = _Urls("clients:detail")

    def last_seen(client):
        if client.last_seen:
            return _time(client.last_seen, "Y-m-d")
        return _("never (registered %(date)s)") % {"date": _local(client.created_at).date().isoformat()}

    return format_html_join("\n", '<tr><td><a href="{}"><code>{}</code></a></td><td>{}</td><td>{}</td></tr>', (
        (detail(c.pk), c.uic, c.initials, last_seen(c)) for c in clients))
