"""PDF documents: a template of ``templates/pdf/`` rendered with WeasyPrint, in the language the user chose.

Every document extends ``pdf/base.html``: the organisation's header, "Page X of Y" (CSS page counters), a
confidentiality footer on every page, a font that shapes Khmer (Khmer OS from Debian's ``fonts-khmeros``, through
fontconfig; DejaVu for Latin). The client is named by the UIC unless the document is the client's own copy.

Nothing is fetched while rendering: the URL fetcher refuses every URL but inline ``data:`` ones, so a template
(or a value in it) cannot make the server reach the network or read a local file. Each print is audited, with
the document's kind (``pdf_response``).
"""

from __future__ import annotations

import re

from django import forms
from django.conf import settings
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from casemgmt import audit
from casemgmt.models import AuditAction

# What a page number reads like; "%(page)s" and "%(pages)s" become the CSS counters.
PAGE_OF = _("Page %(page)s of %(pages)s")
CONFIDENTIAL = _(
    "Confidential health information. Keep it locked away; do not copy, photograph or pass it on. Whoever finds "
    "it: return it to the organisation named above."
)
CLIENTS_COPY = _("Client's copy")
ORGANISATION_COPY = _("Organisation's copy: the client is named by the UIC only")


class PrintForm(forms.Form):
    """A document's print options: its language, and whether it is the client's own copy (with the name)."""

    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES, required=False)
    client_copy = forms.BooleanField(
        label=_("Client's copy (shows the client's name; otherwise the UIC only)"), required=False)

    def options(self) -> tuple[str, bool]:
        data = self.cleaned_data if self.is_valid() else {}
        language = data.get("language") or translation.get_language() or settings.LANGUAGE_CODE
        return language, bool(data.get("client_copy"))


def _fetcher():
    from weasyprint.urls import URLFetcher

    # Only inline data: URLs. Anything else (http, https, file, ftp) is refused and left out of the document.
    return URLFetcher(allowed_protocols=("data",), allow_redirects=False, timeout=1)


def css_string(text: str) -> str:
    """``text`` as a quoted CSS string that nothing in it can end (quotes, backslashes, ``</style>``)."""
    escaped = text.replace("\\", "\\5c ").replace('"', "\\22 ").replace("<", "\\3c ").replace(">", "\\3e ")
    return '"' + escaped.replace("\n", " ").replace("\r", " ").replace("\t", " ") + '"'


def page_counter_css() -> str:
    """The CSS ``content`` of the page number in the active language: "Page " counter(page) " of " counter(pages)."""
    parts = []
    for piece in re.split(r"(%\(pages?\)s)", str(PAGE_OF)):
        if piece == "%(page)s":
            parts.append("counter(page)")
        elif piece == "%(pages)s":
            parts.append("counter(pages)")
        elif piece:
            parts.append(css_string(piece))
    return " ".join(parts)


def render_pdf(template: str, context: dict, *, language: str, organisation=None, client_copy: bool = False) -> bytes:
    """``template`` (under templates/pdf/) rendered in ``language`` to PDF bytes."""
    from weasyprint import HTML

    with translation.override(language):
        html = render_to_string(template, {
            **context,
            "organisation": organisation,
            "organisation_province": organisation.get_province_display() if organisation is not None else "",
            "client_copy": client_copy,
            "language": language,
            "printed_at": timezone.localtime(),
            "page_counter_css": page_counter_css(),
            "confidential_text": str(CONFIDENTIAL),
            "copy_label": str(CLIENTS_COPY if client_copy else ORGANISATION_COPY),
        })
        return HTML(string=html, url_fetcher=_fetcher(), base_url=None).write_pdf()


def pdf_response(pdf: bytes, *, actor, kind: str, filename: str, object_type: str, object_id, client_id,
                 language: str, client_copy: bool, fields=()) -> HttpResponse:
    """The PDF as a download, audited as a print of ``kind`` (the document: case_summary, treatment_plan, ...).

    The file name says what the document is, never whom it is about."""
    audit.record(actor=actor, action=AuditAction.PRINT, object_type=object_type, object_id=object_id,
                 client_id=client_id, fields=list(fields),
                 reason=f"document: {kind}; language: {language}; copy: {'client' if client_copy else 'organisation'}")
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
