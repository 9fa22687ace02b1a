"""The Ministry reports' pages: the dashboard, the whole report, the definitions, the PDF and the CSV files.

Thin: the form (period and scope, checked against what the user may see: reports.scope), the report
(reports.report.build: counts, tables, one suppression), the presentation, the audit event. Every page, PDF and
CSV file is audited with the scope and the period as its reason, never with a figure.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from casemgmt import audit, pdf
from casemgmt.models import AuditAction
from reports import catalogue, presentation, report, suppression
from reports.audit_texts import OBJECT_TYPE
from reports.forms import ReportForm

DASHBOARD_TITLE = _("Ministry reports")
REPORT_TITLE = _("Full report")


def _asked(request):
    form = ReportForm(request.GET, user=request.user)
    scope, period = form.chosen()
    return form, scope, period


def record_report(*, action: str, page: str, scope, period, language: str = "") -> None:
    """The audit event of a report page, PDF or CSV file: the page, the scope and the period, never a figure."""
    reason = f"{page}; scope: {scope.slug}; period: {period.slug}" + (f"; language: {language}" if language else "")
    audit.record(action=action, object_type=OBJECT_TYPE, object_id=scope.slug, reason=reason)


def dashboard_context(request, *, form: ReportForm, scope, period) -> dict:
    """The dashboard's figures and charts (for this page and the reviewer's home)."""
    context = {"form": form, "scope": scope, "period": period, "limit": form.limit}
    if scope is None:
        return context
    built = report.build(scope=scope, period=period, parts=report.DASHBOARD)
    context.update({
        "report": built,
        "trend_charts": presentation.trend_charts(built),
        "trend_table": presentation.trend_table(built),
        "cascade_chart": presentation.cascade_chart(built),
        "cascade_table": built.table("hiv-setting"),
        "services_chart": presentation.services_chart(built),
        "services_table": built.table("rf-service"),
        **_query(scope, period, form),
    })
    return context


def _query(scope, period, form) -> dict:
    """The period and scope as query parameters, for the links (``query``) and the PDF form (``pdf_params``)."""
    values = dict(period.query())
    if form.limit.chooses:
        values.update(scope.query())
    return {"query": urlencode(values), "pdf_params": list(values.items())}


@require_GET
def dashboard(request):
    form, scope, period = _asked(request)
    context = dashboard_context(request, form=form, scope=scope, period=period)
    if scope is not None:
        record_report(action=AuditAction.VIEW, page="dashboard", scope=scope, period=period)
    return render(request, "reports/dashboard.html", {"d": context})


@require_GET
def full_report(request):
    form, scope, period = _asked(request)
    context = {"form": form, "scope": scope, "period": period, "limit": form.limit}
    if scope is not None:
        built = report.build(scope=scope, period=period, parts=report.FULL)
        context.update({"report": built, "charts": presentation.table_charts(built),
                        "trend_charts": presentation.trend_charts(built),
                        "trend_table": presentation.trend_table(built), **_query(scope, period, form)})
        record_report(action=AuditAction.VIEW, page="report", scope=scope, period=period)
    return render(request, "reports/report.html", context)


@require_GET
def definitions(request):
    """Every indicator's definition, in the language of the page and in the other one."""
    language = translation.get_language() or "en"
    other = "km" if language != "km" else "en"
    with translation.override(other):
        translated = {i.code: {"name": str(i.name), "definition": str(i.definition)} for i in catalogue.INDICATORS}
    sections = [(title, [(catalogue.indicator(code), translated[code]) for code in codes])
                for title, codes in catalogue.SECTIONS]
    audit.record(action=AuditAction.VIEW, object_type="reports.definitions")
    return render(request, "reports/definitions.html", {
        "sections": sections, "other_language": other, "note": suppression.note(),
        "unavailable": catalogue.UNAVAILABLE})


def _csv_response(text: str, filename: str) -> HttpResponse:
    response = HttpResponse("\ufeff" + text, content_type="text/csv; charset=utf-8")  # a BOM: spreadsheets read UTF-8
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def report_csv(request, table_id: str = ""):
    form, scope, period = _asked(request)
    if scope is None:
        raise Http404
    built = report.build(scope=scope, period=period, parts=report.FULL)
    tables = presentation.csv_tables(built)
    if table_id:
        tables = [table for table in tables if table.id == table_id]
        if not tables:
            raise Http404
    record_report(action=AuditAction.EXPORT, page=f"csv {table_id or 'all tables'}", scope=scope, period=period)
    name = f"moh-report-{table_id or 'all'}-{scope.slug}-{period.slug}.csv"
    return _csv_response(presentation.csv_text(built, tables), name)


@require_GET
def report_pdf(request):
    form, scope, period = _asked(request)
    if scope is None:
        raise Http404
    options = pdf.PrintForm(request.GET)
    language, _copy = options.options()
    with translation.override(language):
        built = report.build(scope=scope, period=period, parts=report.FULL)
        context = {"report": built, "charts": presentation.table_charts(built),
                   "trend_charts": presentation.trend_charts(built), "trend_table": presentation.trend_table(built),
                   "sections": [(title, [catalogue.indicator(code) for code in codes])
                                for title, codes in catalogue.SECTIONS],
                   "unavailable": catalogue.UNAVAILABLE}
        document = pdf.render_pdf("pdf/moh_report.html", context, language=language,
                                  organisation=request.organisation)
    return pdf.pdf_response(document, actor=request.user, kind=f"moh_report; scope: {scope.slug}; period: "
                            f"{period.slug}", filename=f"moh-report-{scope.slug}-{period.slug}.pdf",
                            object_type=OBJECT_TYPE, object_id=scope.slug, client_id=None, language=language,
                            client_copy=False)
