"""A report: the tables, headline figures and trends of one scope and period, published once.

``build(scope=, period=, parts=)`` computes the counts (``reports.indicators``), lays them out as tables
(``Table``: rows, columns, totals, rates, the indicator it belongs to) and sends every count through
``reports.suppression.publish`` in one publication. Pages, charts, the PDF and the CSV files render a ``Report``
and nothing else, so they all show the same figures and never a count that has not been through suppression.

``parts``: DASHBOARD (the headline figures, the twelve-month trend, the HIV cascade, referrals by service) or
FULL (those and every other table). A table is protected by its own sums, and a figure shown in several tables
(an indicator's total) is never hidden as a complement, so a table reads the same in either.
"""

from __future__ import annotations

import contextlib
import datetime
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from casemgmt.roles import OrganisationKind, Province
from clients import assist
from clients.models import PopulationGroup, RiskLevel, Sex
from counselling.models import Attendance, Modality
from plans.models import ReintegrationDomain
from referrals.models import ServiceType
from reports import catalogue, indicators, suppression
from reports.catalogue import AGE_BANDS, CASCADE_STEPS, SETTINGS, Indicator
from reports.periods import Period, month_label
from reports.scope import Scope

DASHBOARD = "dashboard"
FULL = "full"

TOTAL = _("Total")
ALL_CLIENTS = _("All clients")
NOTE_OVERLAPPING = _("A client may be in more than one group, or in none: the groups do not add up to the total.")
NOTE_SUBSTANCES = _("A screening counts once for each substance used: the substances do not add up.")
NOTE_STEPS = _("Each step counts the clients of the cohort who reached it; the steps do not add up.")
NOTE_TREND_PEOPLE = _("A client active in several months is counted in each of them.")
NOTE_UNAVAILABLE = catalogue.UNAVAILABLE

HEADLINES_DASHBOARD = ("CL-NEW", "CL-ACT", "CO-HELD", "RF-SENT", "RF-CLR", "PR-REL", "PR-LNK")
TREND_SERIES = ("CL-NEW", "CL-ACT", "CO-HELD", "RF-SENT")
# Event counts add up over months; counts of people (active clients) only cover the period.
ADDITIVE_TREND = {"CL-NEW": True, "CL-ACT": False, "CO-HELD": True, "RF-SENT": True}


@dataclass
class Rate:
    """A rate column: ``numerator`` and ``denominator`` are column indexes of the table (``TOTAL_COLUMN``: the
    row's total); ``kind`` "rate" (a percentage) or "median" (``medians`` gives each row's value)."""

    label: str | Promise
    indicator: str
    numerator: int = 0
    denominator: int = 0
    kind: str = "rate"
    medians: list[float | None] = field(default_factory=list)  # per row, then the totals row


TOTAL_COLUMN = -1


@dataclass
class Table:
    id: str
    indicator: Indicator
    title: str | Promise
    row_heading: str | Promise
    rows: list[tuple[str, str]]
    columns: list[tuple[str, str]]
    grid: suppression.Grid
    rates: list[Rate] = field(default_factory=list)
    notes: list[str | Promise] = field(default_factory=list)
    chart: str = ""  # "bar", "hbar", "line", "cascade": drawn above the table
    unavailable_rows: set[int] = field(default_factory=set)  # rows whose figures this version does not compute
    # After publication:
    figures: list[list[suppression.Figure | None]] = field(default_factory=list)
    rate_figures: list[list[suppression.Figure]] = field(default_factory=list)  # per row (and totals row), per rate
    withheld: bool = False

    @property
    def has_row_totals(self) -> bool:
        return self.grid.row_totals

    @property
    def has_col_totals(self) -> bool:
        return self.grid.col_totals

    def header(self) -> list[str]:
        labels = [str(self.row_heading), *(str(label) for _code, label in self.columns)]
        if self.has_row_totals:
            labels.append(str(TOTAL))
        return labels + [str(rate.label) for rate in self.rates]

    def body(self) -> list[tuple[str, list[suppression.Figure | None], bool]]:
        """(row label, figures: the cells, the row's total, the rates; whether it is the totals row)."""
        found = []
        count = len(self.rows) + (1 if self.has_col_totals else 0)
        for r in range(count):
            is_total = r == len(self.rows)
            label = str(TOTAL) if is_total else str(self.rows[r][1])
            if r in self.unavailable_rows:
                cells = [None] * (len(self.columns) + (1 if self.has_row_totals else 0) + len(self.rates))
            else:
                cells = list(self.figures[r][:len(self.columns)])
                if self.has_row_totals:
                    cells.append(self.figures[r][len(self.columns)])
                cells += self.rate_figures[r] if r < len(self.rate_figures) else [None] * len(self.rates)
            found.append((label, cells, is_total))
        return found

    def cell(self, row: int, column: int) -> suppression.Figure | None:
        return self.figures[row][column]


@dataclass
class Headline:
    indicator: Indicator
    figure: suppression.Figure
    denominator: suppression.Figure | None = None  # for a rate: the count it divides by


@dataclass
class Trend:
    indicator: Indicator
    months: list[datetime.date]
    figures: list[suppression.Figure]
    in_period: list[bool]

    @property
    def labels(self) -> list[str]:
        return [month_label(month) for month in self.months]


@dataclass
class Report:
    scope: Scope
    period: Period
    parts: str
    made_at: datetime.datetime
    threshold: int
    headlines: list[Headline] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    trends: list[Trend] = field(default_factory=list)
    sections: list[tuple[str, list[Table]]] = field(default_factory=list)

    def table(self, table_id: str) -> Table | None:
        return next((table for table in self.tables if table.id == table_id), None)

    @property
    def note(self) -> str:
        return suppression.note()

    @property
    def empty(self) -> bool:
        return all(not headline.figure.shown or headline.figure.value == 0 for headline in self.headlines
                   if headline.indicator.kind == "count")


# Labels -------------------------------------------------------------------------------------------------------

def _choices(choices) -> list[tuple[str, str]]:
    return [(code, label) for code, label in choices]


SEXES = _choices(Sex.choices)
BANDS = [(code, label) for code, label, _low, _high in AGE_BANDS]
GROUPS = _choices(PopulationGroup.choices)
MODALITIES = _choices(Modality.choices)
DOMAINS = _choices(ReintegrationDomain.choices)
SERVICES = _choices(ServiceType.choices)
RISKS = _choices(RiskLevel.choices)
ATTENDANCE_COLUMNS = [(Attendance.ATTENDED, Attendance.ATTENDED.label), (Attendance.NO_SHOW, Attendance.NO_SHOW.label),
                      (Attendance.CANCELLED, Attendance.CANCELLED.label)]


def _provinces(scope: Scope, *, kind: str = "", counted=()) -> list[tuple[str, str]]:
    """The provinces of the scope's care organisations (of ``kind``), and any where records were counted."""
    organisations = scope.organisations()
    if kind:
        organisations = organisations.filter(kind=kind)
    codes = set(organisations.values_list("province", flat=True)) | set(counted)
    return [(code, label) for code, label in Province.choices if code in codes]


def _grid(table_id: str, rows, columns, value: Callable[[str, str], int], *, row_totals: bool, col_totals: bool,
          keys: dict | None = None) -> suppression.Grid:
    cells = [[value(row, column) for column, _label in columns] for row, _label in rows]
    return suppression.Grid(id=table_id, cells=cells, row_totals=row_totals, col_totals=col_totals,
                            keys=keys or {}, width=len(columns))


def _grand(table_rows: int, table_cols: int, key) -> dict:
    return {(table_rows, table_cols): key}


def _total_key(code: str) -> tuple:
    return ("total", code)


def _month_key(code: str, month: datetime.date) -> tuple:
    return ("month", code, month)


# Building ------------------------------------------------------------------------------------------------------

class _Builder:
    def __init__(self, scope: Scope, period: Period, parts: str, today: datetime.date):
        self.scope, self.period, self.parts, self.today = scope, period, parts, today
        self.tables: list[Table] = []
        self.singles: dict = {}
        self.covers: list[suppression.Cover] = []
        self.extra_grids: list[suppression.Grid] = []
        self.headline_codes: list[tuple[str, object, object]] = []  # (code, key, denominator key)
        self.rates_headline: dict[str, tuple] = {}
        self.trend_keys: dict[str, list] = {}
        self.sections: list[tuple[str, list[str]]] = []

    def add(self, table: Table, section) -> Table:
        self.tables.append(table)
        self.sections.append((section, table.id))
        return table

    def single(self, key, value: int) -> None:
        self.singles[key] = value

    # Clients

    def client_totals(self, code: str, total: int) -> None:
        self.single(_total_key(code), total)

    def client_tables(self, code: str, profile: indicators.ClientProfile, section) -> None:
        indicator = catalogue.indicator(code)
        total = _total_key(code)
        self.single(total, profile.total)
        by_age_sex = profile.by(1, 0)
        self.add(Table(
            id=f"{code.lower()}-age-sex", indicator=indicator,
            title=_("%(indicator)s, by age band and sex") % {"indicator": indicator.name},
            row_heading=_("Age band"), rows=BANDS, columns=SEXES,
            grid=_grid(f"{code}-age-sex", BANDS, SEXES, lambda r, c: by_age_sex[(r, c)], row_totals=True,
                       col_totals=True, keys=_grand(len(BANDS), len(SEXES), total))), section)
        by_place = profile.by(2, 3)
        provinces = _provinces(self.scope, counted=[province for province, _setting in by_place])
        self.add(Table(
            id=f"{code.lower()}-province-setting", indicator=indicator,
            title=_("%(indicator)s, by province and setting") % {"indicator": indicator.name},
            row_heading=_("Province"), rows=provinces, columns=SETTINGS,
            grid=_grid(f"{code}-province-setting", provinces, SETTINGS, lambda r, c: by_place[(r, c)],
                       row_totals=True, col_totals=True, keys=_grand(len(provinces), len(SETTINGS), total))), section)
        by_group = profile.by_group()
        self.add(Table(
            id=f"{code.lower()}-group", indicator=indicator,
            title=_("%(indicator)s, by population group") % {"indicator": indicator.name},
            row_heading=_("Population group"), rows=GROUPS, columns=[("n", indicator.name)],
            grid=_grid(f"{code}-group", GROUPS, [("n", "")], lambda r, c: by_group[r], row_totals=False,
                       col_totals=False), notes=[NOTE_OVERLAPPING]), section)

    # Screening

    def screening_tables(self, section) -> None:
        by_setting = indicators.screened(self.scope, self.period)
        screened_total = sum(n for n, _inject in by_setting.values())
        inject_total = sum(inject for _n, inject in by_setting.values())
        self.single(_total_key("AS-SCR"), screened_total)
        self.single(_total_key("AS-INJ"), inject_total)
        if self.parts != FULL:
            return
        columns = [("screened", catalogue.indicator("AS-SCR").name), ("inject", catalogue.indicator("AS-INJ").name)]
        self.add(Table(
            id="as-inj-setting", indicator=catalogue.indicator("AS-INJ"),
            title=_("Clients screened and clients who inject, by setting"), row_heading=_("Setting"),
            rows=SETTINGS, columns=columns,
            grid=_grid("AS-INJ-setting", SETTINGS, columns,
                       lambda r, c: by_setting.get(r, (0, 0))[0 if c == "screened" else 1],
                       row_totals=False, col_totals=True,
                       keys={(len(SETTINGS), 0): _total_key("AS-SCR"), (len(SETTINGS), 1): _total_key("AS-INJ")}),
            rates=[Rate(_("Share who inject (%)"), "AS-INJ", numerator=1, denominator=0)]), section)
        risks = indicators.risk_levels(self.scope, self.period)
        substances = [(code, label) for code, label in assist.SUBSTANCE_CHOICES]
        self.add(Table(
            id="as-risk", indicator=catalogue.indicator("AS-RISK"),
            title=catalogue.indicator("AS-RISK").name, row_heading=_("Substance"), rows=substances, columns=RISKS,
            grid=_grid("AS-RISK", substances, RISKS, lambda r, c: risks[r][c], row_totals=True, col_totals=False),
            notes=[NOTE_SUBSTANCES], chart="hbar"), section)

    # Counselling and retention

    def counselling_tables(self, section) -> None:
        held = indicators.sessions_held(self.scope, self.period)
        self.single(_total_key("CO-HELD"), sum(held.values()))
        if self.parts != FULL:
            return
        attended = indicators.attendances(self.scope, self.period)
        self.single(_total_key("CO-ATT"), sum(n for (_m, a), n in attended.items() if a == Attendance.ATTENDED))
        indicator = catalogue.indicator("CO-HELD")
        self.add(Table(
            id="co-held", indicator=indicator,
            title=_("%(indicator)s, by modality and setting") % {"indicator": indicator.name},
            row_heading=_("Modality"), rows=MODALITIES, columns=SETTINGS,
            grid=_grid("CO-HELD", MODALITIES, SETTINGS, lambda r, c: held[(r, c)], row_totals=True,
                       col_totals=True, keys=_grand(len(MODALITIES), len(SETTINGS), _total_key("CO-HELD")))),
            section)
        indicator = catalogue.indicator("CO-ATT")
        self.add(Table(
            id="co-att", indicator=indicator,
            title=_("Recorded attendance, by modality"), row_heading=_("Modality"), rows=MODALITIES,
            columns=ATTENDANCE_COLUMNS,
            grid=_grid("CO-ATT", MODALITIES, ATTENDANCE_COLUMNS, lambda r, c: attended[(r, c)], row_totals=True,
                       col_totals=True, keys={(len(MODALITIES), 0): _total_key("CO-ATT")}),
            rates=[Rate(_("Attendance rate (%)"), "CO-ATT", numerator=0, denominator=TOTAL_COLUMN)]), section)
        kept = indicators.retention(self.scope, self.period)
        columns = [("m3_cohort", _("Third month: clients")), ("m3_kept", _("Third month: retained")),
                   ("m6_cohort", _("Sixth month: clients")), ("m6_kept", _("Sixth month: retained"))]

        def retained(row, column):
            window, what = column.split("_")
            cohort, kept_n = kept[window].get(row, (0, 0))
            return cohort if what == "cohort" else kept_n

        self.add(Table(
            id="rt", indicator=catalogue.indicator("RT-M3"), title=_("Retention in the third and sixth months"),
            row_heading=_("Setting"), rows=SETTINGS, columns=columns,
            grid=_grid("RT", SETTINGS, columns, retained, row_totals=False, col_totals=True),
            rates=[Rate(_("Retained, third month (%)"), "RT-M3", numerator=1, denominator=0),
                   Rate(_("Retained, sixth month (%)"), "RT-M6", numerator=3, denominator=2)]), section)

    # Plans

    def plan_tables(self, section) -> None:
        counts = indicators.plans(self.scope, self.period)
        for position, code in enumerate(("TP-ACT", "TP-CMP", "TP-DIS")):
            self.single(_total_key(code), sum(row[position] for row in counts.values()))
        achieved = indicators.milestones(self.scope, self.period)
        self.single(_total_key("RM-ACH"), sum(achieved.values()))
        if self.parts != FULL:
            return
        columns = [(code, catalogue.indicator(code).name) for code in ("TP-ACT", "TP-CMP", "TP-DIS")]
        self.add(Table(
            id="tp", indicator=catalogue.indicator("TP-ACT"), title=_("Treatment plans, by setting"),
            row_heading=_("Setting"), rows=SETTINGS, columns=columns,
            grid=_grid("TP", SETTINGS, columns,
                       lambda r, c: counts.get(r, (0, 0, 0))[("TP-ACT", "TP-CMP", "TP-DIS").index(c)],
                       row_totals=False, col_totals=True,
                       keys={(len(SETTINGS), i): _total_key(code)
                             for i, code in enumerate(("TP-ACT", "TP-CMP", "TP-DIS"))})), section)
        indicator = catalogue.indicator("RM-ACH")
        self.add(Table(
            id="rm-ach", indicator=indicator,
            title=_("%(indicator)s, by domain and setting") % {"indicator": indicator.name},
            row_heading=_("Domain"), rows=DOMAINS, columns=SETTINGS,
            grid=_grid("RM-ACH", DOMAINS, SETTINGS, lambda r, c: achieved[(r, c)], row_totals=True,
                       col_totals=True, keys=_grand(len(DOMAINS), len(SETTINGS), _total_key("RM-ACH")))),
            section)

    # Referrals

    def referral_tables(self, section) -> None:
        counts = indicators.referrals(self.scope, self.period, today=self.today)
        empty = indicators.ServiceCounts()
        columns = [("sent", _("Sent")), ("accepted", _("Accepted")), ("completed", _("Completed")),
                   ("overdue", _("Overdue today"))]
        codes = {"sent": "RF-SENT", "accepted": "RF-ACC", "completed": "RF-CMP", "overdue": "RF-OVD"}
        for column, code in codes.items():
            self.single(_total_key(code), sum(getattr(c, column) for c in counts.values()))
        services = [(code, label) for code, label in SERVICES]
        all_days: Counter = Counter()
        for c in counts.values():
            all_days.update(c.days)
        medians = [indicators.median(counts.get(code, empty).days) for code, _label in services]
        medians.append(indicators.median(all_days))
        self.rates_headline["RF-MED"] = (indicators.median(all_days), _total_key("RF-ACC"))
        self.add(Table(
            id="rf-service", indicator=catalogue.indicator("RF-SENT"), title=_("Referrals by service"),
            row_heading=_("Service"), rows=services, columns=columns,
            grid=_grid("RF-service", services, columns, lambda r, c: getattr(counts.get(r, empty), c),
                       row_totals=False, col_totals=True,
                       keys={(len(services), i): _total_key(codes[code]) for i, (code, _l) in enumerate(columns)}),
            rates=[Rate(_("Closed-loop rate (%)"), "RF-CLR", numerator=2, denominator=0),
                   Rate(_("Median days to acceptance"), "RF-MED", numerator=1, denominator=1, kind="median",
                        medians=medians)],
            chart="hbar"), section)

    # Prison

    def prison_tables(self, section) -> None:
        counts = indicators.releases(self.scope, self.period)
        for position, code in enumerate(("PR-REL", "PR-COC", "PR-LNK")):
            self.single(_total_key(code), sum(row[position] for row in counts.values()))
        if self.parts != FULL:
            return
        provinces = _provinces(self.scope, kind=OrganisationKind.PRISON_HEALTH_UNIT, counted=counts)
        columns = [(code, catalogue.indicator(code).name) for code in ("PR-REL", "PR-COC", "PR-LNK")]
        self.add(Table(
            id="pr", indicator=catalogue.indicator("PR-REL"), title=_("Prison releases and continuity of care"),
            row_heading=_("Province"), rows=provinces, columns=columns,
            grid=_grid("PR", provinces, columns,
                       lambda r, c: counts.get(r, (0, 0, 0))[("PR-REL", "PR-COC", "PR-LNK").index(c)],
                       row_totals=False, col_totals=True,
                       keys={(len(provinces), i): _total_key(code)
                             for i, code in enumerate(("PR-REL", "PR-COC", "PR-LNK"))}),
            rates=[Rate(_("With a referral (%)"), "PR-COC", numerator=1, denominator=0),
                   Rate(_("Linked within 30 days (%)"), "PR-LNK", numerator=2, denominator=0)]), section)

    # The HIV cascade

    def cascade_tables(self, section) -> None:
        counts = indicators.cascade(self.scope, self.period)
        steps = [(code, catalogue.indicator(code).name) for code in CASCADE_STEPS]
        unavailable = {i for i, code in enumerate(CASCADE_STEPS) if not catalogue.indicator(code).available}
        by_setting = {code: counts.by_setting(code) for code in CASCADE_STEPS}
        self.add(Table(
            id="hiv-setting", indicator=catalogue.indicator("HIV-KNOWN"),
            title=_("HIV cascade of the clients registered in the period, by setting"), row_heading=_("Step"),
            rows=steps, columns=SETTINGS,
            grid=_grid("HIV-setting", steps, SETTINGS, lambda r, c: by_setting[r][c], row_totals=True,
                       col_totals=False, keys={(i, len(SETTINGS)): _total_key(code)
                                               for i, code in enumerate(CASCADE_STEPS)}),
            notes=[NOTE_STEPS, *([NOTE_UNAVAILABLE] if unavailable else [])], chart="cascade",
            unavailable_rows=unavailable), section)
        if self.parts != FULL:
            return
        by_group = {code: counts.by_group(code) for code in CASCADE_STEPS}
        self.add(Table(
            id="hiv-group", indicator=catalogue.indicator("HIV-KNOWN"),
            title=_("HIV cascade of the clients registered in the period, by population group"),
            row_heading=_("Step"), rows=steps, columns=GROUPS,
            grid=_grid("HIV-group", steps, GROUPS, lambda r, c: by_group[r][c], row_totals=False, col_totals=False),
            notes=[NOTE_STEPS, NOTE_OVERLAPPING, *([NOTE_UNAVAILABLE] if unavailable else [])],
            unavailable_rows=unavailable), section)

    # Trends

    def trends(self) -> None:
        counts = indicators.trend_counts(self.scope, self.period)
        months = self.period.trend_months()
        in_period = set(self.period.whole_months())
        for code in TREND_SERIES:
            series = counts[code]
            keys = []
            period_months = [m for m in months if m in in_period]
            single_month = len(period_months) == 1 and len(in_period) == 1
            for month in months:
                key = _total_key(code) if single_month and month in in_period else _month_key(code, month)
                keys.append(key)
                if key != _total_key(code):
                    self.single(key, series[month])
            if len(period_months) > 1 and len(period_months) == len(in_period):
                members = [(_month_key(code, m), series[m]) for m in period_months]
                if ADDITIVE_TREND[code]:
                    cells = [[series[m]] for m in period_months]
                    self.extra_grids.append(suppression.Grid(
                        id=f"trend-{code}", cells=cells, col_totals=True,
                        keys={**{(i, 0): key for i, (key, _v) in enumerate(members)},
                              (len(period_months), 0): _total_key(code)}))
                else:
                    self.covers.append(suppression.Cover(id=f"trend-{code}", total=_total_key(code),
                                                         members=members))
            self.trend_keys[code] = keys


def build(*, scope: Scope, period: Period, parts: str = DASHBOARD, today: datetime.date | None = None) -> Report:
    today = today or timezone.localdate()
    with transaction.atomic(), _without_jit():
        return _build(scope=scope, period=period, parts=parts, today=today)


@contextlib.contextmanager
def _without_jit():
    """PostgreSQL compiles long queries to machine code (JIT): for the reports' queries, each a range of an index
    and a GROUP BY, the compiling took longer than the query (EXPLAIN: 330 ms of 4.7 s). Off for this
    transaction only."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")
    yield


def _build(*, scope: Scope, period: Period, parts: str, today: datetime.date) -> Report:
    builder = _Builder(scope, period, parts, today)
    sections = {codes[0]: title for title, codes in catalogue.SECTIONS}
    if parts == FULL:
        builder.client_tables("CL-NEW", indicators.new_clients(scope, period), sections["CL-NEW"])
        builder.client_tables("CL-ACT", indicators.active_clients(scope, period), sections["CL-NEW"])
    else:
        builder.client_totals("CL-NEW", indicators.new_clients_total(scope, period))
        builder.client_totals("CL-ACT", indicators.active_clients_total(scope, period))
    if parts == FULL:
        builder.screening_tables(sections["AS-SCR"])
    builder.counselling_tables(sections["CO-HELD"])
    if parts == FULL:
        builder.plan_tables(sections["TP-ACT"])
    builder.referral_tables(sections["RF-SENT"])
    builder.prison_tables(sections["PR-REL"])
    builder.cascade_tables(sections["HIV-KNOWN"])
    builder.trends()
    publication = suppression.publish(grids=[t.grid for t in builder.tables] + builder.extra_grids,
                                      covers=builder.covers, singles=builder.singles,
                                      pinned=[key for key in builder.singles if key[0] == "total"])
    report = Report(scope=scope, period=period, parts=parts, made_at=timezone.now(), threshold=publication.threshold)
    for table in builder.tables:
        _fill(table, publication)
    report.tables = builder.tables
    order = []
    for section, table_id in builder.sections:
        if not order or order[-1][0] != section:
            order.append((section, []))
        order[-1][1].append(report.table(table_id))
    report.sections = order
    codes = HEADLINES_DASHBOARD if parts == DASHBOARD else tuple(
        code for code in (indicator.code for indicator in catalogue.INDICATORS)
        if catalogue.indicator(code).available and code != "AS-RISK")
    for code in codes:
        report.headlines.append(_headline(code, publication, builder))
    for code in TREND_SERIES:
        keys = builder.trend_keys[code]
        in_period = set(period.whole_months())
        report.trends.append(Trend(indicator=catalogue.indicator(code), months=period.trend_months(),
                                   figures=[publication.figure(key) for key in keys],
                                   in_period=[month in in_period for month in period.trend_months()]))
    return report


def _headline(code: str, publication: suppression.Publication, builder: _Builder) -> Headline:
    indicator = catalogue.indicator(code)
    if code == "RF-CLR":
        return Headline(indicator, publication.rate(publication.figure(_total_key("RF-CMP")),
                                                    publication.figure(_total_key("RF-SENT"))),
                        denominator=publication.figure(_total_key("RF-SENT")))
    if code == "RF-MED":
        value, count_key = builder.rates_headline["RF-MED"]
        count = publication.figure(count_key)
        return Headline(indicator, suppression.summary(value, count, threshold=publication.threshold),
                        denominator=count)
    if code in ("RT-M3", "RT-M6"):
        table = next(t for t in builder.tables if t.id == "rt")
        rate_index = 0 if code == "RT-M3" else 1
        return Headline(indicator, table.rate_figures[-1][rate_index],
                        denominator=table.figures[len(table.rows)][2 * rate_index])
    return Headline(indicator, publication.figure(_total_key(code)))


def _fill(table: Table, publication: suppression.Publication) -> None:
    table.withheld = table.grid.id in publication.withheld
    table.figures = publication.grid(table.grid)
    table.rate_figures = []
    count = len(table.rows) + (1 if table.has_col_totals else 0)
    for r in range(count):
        row = []
        for rate in table.rates:
            row.append(_rate_figure(table, rate, r, publication))
        table.rate_figures.append(row)


def _rate_figure(table: Table, rate: Rate, r: int, publication: suppression.Publication) -> suppression.Figure:
    def at(column):
        return table.figures[r][len(table.columns) if column == TOTAL_COLUMN else column]

    if table.withheld:
        return suppression.Figure(suppression.WITHHELD, threshold=publication.threshold)
    if rate.kind == "median":
        return suppression.summary(rate.medians[r] if r < len(rate.medians) else None, at(rate.denominator),
                                   threshold=publication.threshold)
    return publication.rate(at(rate.numerator), at(rate.denominator))
