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
from django.utils import timezone
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from counselling.models import Approach, Attendance, FlagStatus, Modality, RiskKind, SessionStatus

register = template.Library()

NONE = "—"
_ANY_ID = uuid.UUID(int=0)  # reversed once a list, then the row's id put in its place (hex digits only)


_OTHER_ID = uuid.UUID(int=1)


class _Urls:
    def __init__(self, name: str, *, two: bool = False) -> None:
        self.pattern = reverse(name, args=[_ANY_ID, _OTHER_ID] if two else [_ANY_ID])

    def __call__(self, pk, other=None) -> str:
        url = self.pattern.replace(str(_ANY_ID), str(pk))
        return url if other is None else url.replace(str(_OTHER_ID), str(other))


def _local(moment):
    return timezone.localtime(moment, timezone.get_default_timezone())


DAY, MINUTE = "%Y-%m-%d", "%Y-%m-%d %H:%M"


def _time(moment, fmt: str = MINUTE, weekday: bool = False):
    """A ``<time>`` in the site's time zone (strftime: numbers only; the weekday's name translated)."""
    local = _local(moment)
    shown = local.strftime(fmt)
    if weekday:
        shown = f"{WEEKDAYS_ABBR[local.weekday()]} {shown}"
    return format_html('<time datetime="{}">{}</time>', local.isoformat(), shown)


def _labels(choices) -> dict:
    """A coded field's labels in the active language, looked up once per list."""
    return {value: str(text) for value, text in choices.choices}


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
    label, modality, status = _("Record"), _labels(Modality), _labels(SessionStatus)
    return format_html_join("\n", '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td></tr>', (
        (page(s.pk), _time(s.starts_at, MINUTE, weekday=True) if with_date else _time(s.starts_at, "%H:%M"),
         _who(s, detail), modality.get(s.modality, s.modality),
         format_html('<a href="{}">{}</a>', record(s.pk), label) if s.status == SessionStatus.SCHEDULED
         else status.get(s.status, s.status))
        for s in sessions))


@register.simple_tag
def session_rows(sessions, with_counsellor: bool = False):
    detail, page = _Urls("clients:detail"), _Urls("counselling:session")
    modality, status = _labels(Modality), _labels(SessionStatus)
    if with_counsellor:
        template_ = '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>'
        rows = ((page(s.pk), _time(s.starts_at), _who(s, detail), modality.get(s.modality, s.modality),
                 s.counsellor.username, status.get(s.status, s.status)) for s in sessions)
    else:
        template_ = '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td></tr>'
        rows = ((page(s.pk), _time(s.starts_at), _who(s, detail), modality.get(s.modality, s.modality),
                 status.get(s.status, s.status)) for s in sessions)
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
    detail, kinds = _Urls("clients:detail"), _labels(RiskKind)

    def row(flag):
        cells = [format_html('<a href="{}"><code>{}</code></a>', detail(flag.client.pk), flag.client.uic),
                 flag.client.initials, format_html("<strong>{}</strong>", kinds.get(flag.kind, flag.kind)),
                 _time(flag.raised_at, DAY)]
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
            return _time(client.last_seen, DAY)
        return _("never (registered %(date)s)") % {"date": _local(client.created_at).date().isoformat()}

    return format_html_join("\n", '<tr><td><a href="{}"><code>{}</code></a></td><td>{}</td><td>{}</td></tr>', (
        (detail(c.pk), c.uic, c.initials, last_seen(c)) for c in clients))


@register.simple_tag
def history_entries(participations, organisation_id, with_edit: bool = True):
    """A client's sessions on their own page, one entry each: date (the session's page, when it was held at the
    viewer's centre), modality, approach, attendance, minutes, then this client's own note and the risks it
    raised. Nothing of any other participant. Entries rather than table rows: a note is text to read, not a
    cell of a list."""
    from django.template.defaultfilters import linebreaksbr

    page, edit = _Urls("counselling:session"), _Urls("counselling:note_edit", two=True)
    modality, approach, attendance = _labels(Modality), _labels(Approach), _labels(Attendance)
    kinds, raised_label, resolved, edit_label = _labels(RiskKind), _("Risks raised:"), _("resolved"), _("Edit the note")

    def risks(participant) -> str:
        flags = getattr(participant, "flags_raised", ())
        if not flags:
            return ""
        names = ", ".join(f"{kinds.get(f.kind, f.kind)} ({resolved})" if f.status == FlagStatus.RESOLVED
                          else kinds.get(f.kind, f.kind) for f in flags)
        return format_html('<p class="help">{} {}</p>', raised_label, names)

    def entry(participant) -> str:
        session = participant.session
        here = session.organisation_id == organisation_id
        when = _time(session.starts_at)
        facts = [modality.get(session.modality, session.modality)]
        if session.approach:
            facts.append(approach.get(session.approach, session.approach))
        facts.append(attendance.get(participant.attendance, participant.attendance))
        if session.duration_minutes:
            facts.append(ngettext("%(minutes)s minute", "%(minutes)s minutes", session.duration_minutes)
                         % {"minutes": session.duration_minutes})
        note = participant.note
        return format_html(
            "<li><p><strong>{}</strong> · {}{}</p>{}{}</li>",
            format_html('<a href="{}">{}</a>', page(session.pk), when) if here else when, " · ".join(facts),
            format_html(' · <a href="{}">{}</a>', edit(session.pk, participant.pk), edit_label)
            if here and with_edit else "",
            format_html("<p>{}</p>", linebreaksbr(note)) if note else "", risks(participant))

    return mark_safe("\n".join(entry(p) for p in participations))  # noqa: S308 - built with format_html
