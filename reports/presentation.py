"""A published report as pages, charts and CSV rows: only its figures (``Figure.text``, ``Figure.chart_value``),
never a count that has not been through suppression."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from reports import catalogue, charts
from reports.report import Report, Table

TREND_CLIENTS = ("CL-NEW", "CL-ACT")
TREND_SERVICES = ("CO-HELD", "RF-SENT")

MONTH = _("Month")
WITHHELD = _("Not shown: its total is under %(threshold)s, so no part of it can be shown without revealing "
             "people.")
NOT_COMPUTED = _("not computed")
CSV_REPORT = _("Ministry of Health report")
CSV_SCOPE = _("Scope")
CSV_PERIOD = _("Period")
CSV_MADE = _("Made at")
CSV_NOTE = _("Note")
CSV_DEFINITION = _("Definition")
HEADLINES = _("Headline figures")
INDICATOR = _("Indicator")
VALUE = _("Value")
TREND = _("Monthly trend, last twelve months")


@dataclass
class PlainTable:
    """A table as rows of texts (the trend, the headlines): for pages and CSV alike."""

    id: str
    title: str
    header: list[str]
    rows: list[list[str]]
    indicators: list = field(default_factory=list)


def trend_table(report: Report) -> PlainTable:
    trends = report.trends
    header = [str(MONTH), *(str(trend.indicator.name) for trend in trends)]
    rows = []
    for index, label in enumerate(trends[0].labels if trends else []):
        rows.append([label, *(trend.figures[index].text for trend in trends)])
    return PlainTable(id="trend", title=str(TREND), header=header, rows=rows,
                      indicators=[trend.indicator for trend in trends])


def headline_table(report: Report) -> PlainTable:
    return PlainTable(id="headlines", title=str(HEADLINES), header=[str(INDICATOR), str(VALUE)],
                      rows=[[f"{h.indicator.code} {h.indicator.name}", h.figure.text] for h in report.headlines],
                      indicators=[h.indicator for h in report.headlines])


# Charts ---------------------------------------------------------------------------------------------------------

def trend_charts(report: Report) -> list[charts.Chart]:
    by_code = {trend.indicator.code: trend for trend in report.trends}
    found = []
    for name, codes, title, what in (
            ("trend-clients", TREND_CLIENTS, _("Clients, month by month"),
             _("Clients newly registered and clients active in each of the last twelve months.")),
            ("trend-services", TREND_SERVICES, _("Sessions and referrals, month by month"),
             _("Counselling sessions delivered and referrals sent in each of the last twelve months."))):
        series = [(str(by_code[code].indicator.name), [f.chart_value for f in by_code[code].figures])
                  for code in codes]
        found.append(charts.line(chart_id=charts.chart_id(name), title=str(title), what=str(what),
                                 labels=by_code[codes[0]].labels, series=series,
                                 indicators=[by_code[code].indicator for code in codes]))
    return found


def cascade_chart(report: Report) -> charts.Chart | None:
    table = report.table("hiv-setting")
    if table is None:
        return None
    cohort = next((h.figure for h in report.headlines if h.indicator.code == "CL-NEW"), None)
    labels = [str(catalogue.indicator("CL-NEW").name)]
    values = [cohort.chart_value if cohort is not None else None]
    for r, (_code, label) in enumerate(table.rows):
        labels.append(str(label))
        figure = table.figures[r][len(table.columns)]
        values.append(None if r in table.unavailable_rows or table.withheld else figure.chart_value)
    return charts.bars(chart_id=charts.chart_id("hiv-cascade"), title=str(_("HIV cascade")),
                       what=str(_("Of the clients registered in the period, how many reached each step.")),
                       labels=labels, series=[(str(_("Clients")), values)], horizontal=True,
                       indicators=[catalogue.indicator("CL-NEW"), *(catalogue.indicator(code)
                                                                     for code in catalogue.CASCADE_STEPS)])


def table_chart(table: Table, *, columns: list[int] | None = None) -> charts.Chart | None:
    """Horizontal bars of a table's rows (those with anything to draw), one series per column."""
    if table.withheld:
        return None
    columns = list(range(len(table.columns))) if columns is None else columns
    def drawn(figure) -> bool:
        return figure is not None and figure.shown and figure.value > 0

    rows = [r for r in range(len(table.rows)) if any(drawn(table.figures[r][c]) for c in columns)]
    if not rows:
        return None
    labels = [str(table.rows[r][1]) for r in rows]
    series = [(str(table.columns[c][1]), [table.figures[r][c].chart_value for r in rows]) for c in columns]
    return charts.bars(chart_id=charts.chart_id(table.id), title=str(table.title),
                       what=str(_("Rows with no figure to draw (nothing counted, or hidden) are left out of the "
                                  "chart.")), labels=labels,
                       series=series, horizontal=True, indicators=[table.indicator])


def services_chart(report: Report) -> charts.Chart | None:
    table = report.table("rf-service")
    return table_chart(table, columns=[0, 1, 2]) if table is not None else None


def table_charts(report: Report) -> dict[str, charts.Chart]:
    found = {}
    for table in report.tables:
        if table.id == "rf-service":
            chart = services_chart(report)
        elif table.id == "hiv-setting":
            chart = cascade_chart(report)
        elif table.chart == "hbar":
            chart = table_chart(table)
        else:
            chart = None
        if chart is not None:
            found[table.id] = chart
    return found


# CSV ------------------------------------------------------------------------------------------------------------

def table_rows(table: Table, report: Report) -> list[list[str]]:
    if table.withheld:
        return [[str(WITHHELD % {"threshold": report.threshold})]]
    rows = []
    for label, cells, _is_total in table.body():
        rows.append([label, *(str(NOT_COMPUTED) if cell is None else cell.text for cell in cells)])
    return rows


def csv_tables(report: Report) -> list[PlainTable]:
    found = [headline_table(report), trend_table(report)]
    for table in report.tables:
        found.append(PlainTable(id=table.id, title=str(table.title), header=table.header(),
                                rows=table_rows(table, report), indicators=[table.indicator]))
    return found


def csv_text(report: Report, tables: list[PlainTable]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([str(CSV_REPORT)])
    writer.writerow([str(CSV_SCOPE), report.scope.label])
    writer.writerow([str(CSV_PERIOD), report.period.label])
    writer.writerow([str(CSV_MADE), timezone.localtime(report.made_at).strftime("%Y-%m-%d %H:%M")])
    writer.writerow([str(CSV_NOTE), report.note])
    for table in tables:
        writer.writerow([])
        writer.writerow([table.title])
        for indicator in table.indicators:
            writer.writerow([str(CSV_DEFINITION), f"{indicator.code} {indicator.name}", str(indicator.definition)])
        writer.writerow(table.header)
        writer.writerows(table.rows)
    return out.getvalue()
