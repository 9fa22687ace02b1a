"""Reporting periods: a month, a quarter, a year or a range of days, in local (Asia/Phnom_Penh) dates.

A period is its first and last day, both included. One that has not ended yet runs to today (the report says
"to date"); one that has not begun is refused by the form. Records with a moment (sessions, referrals,
registrations) are placed by the local day of that moment: ``bounds()`` gives the local midnights that begin the
first day and end the last, so that the comparison runs on the stored column and its index.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

MONTH = "month"
QUARTER = "quarter"
YEAR = "year"
RANGE = "range"
KINDS = [(MONTH, _("Month")), (QUARTER, _("Quarter")), (YEAR, _("Year")), (RANGE, _("Range of days"))]

MAX_RANGE_YEARS = 5
TREND_MONTHS = 12

LABEL_QUARTER = _("%(year)d, quarter %(quarter)d")
LABEL_RANGE = _("%(start)s to %(end)s")
LABEL_TO_DATE = _("%(period)s, to %(today)s")


def local_midnight(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min), timezone.get_default_timezone())


def month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The first day of the month ``months`` after ``day``'s month."""
    index = day.year * 12 + day.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def month_end(day: datetime.date) -> datetime.date:
    return add_months(day, 1) - datetime.timedelta(days=1)


@dataclass(frozen=True)
class Period:
    kind: str
    start: datetime.date
    end: datetime.date  # the last day counted: the period's own last day, or today while it runs
    nominal_end: datetime.date  # the period's own last day

    @classmethod
    def month(cls, year: int, month: int, *, today: datetime.date | None = None) -> Period:
        start = datetime.date(year, month, 1)
        return cls._clipped(MONTH, start, month_end(start), today)

    @classmethod
    def quarter(cls, year: int, quarter: int, *, today: datetime.date | None = None) -> Period:
        start = datetime.date(year, 3 * (quarter - 1) + 1, 1)
        return cls._clipped(QUARTER, start, month_end(add_months(start, 2)), today)

    @classmethod
    def year(cls, year: int, *, today: datetime.date | None = None) -> Period:
        return cls._clipped(YEAR, datetime.date(year, 1, 1), datetime.date(year, 12, 31), today)

    @classmethod
    def range(cls, start: datetime.date, end: datetime.date) -> Period:
        return cls(RANGE, start, end, end)

    @classmethod
    def last_full_month(cls, today: datetime.date | None = None) -> Period:
        today = today or timezone.localdate()
        previous = add_months(month_start(today), -1)
        return cls.month(previous.year, previous.month, today=today)

    @classmethod
    def _clipped(cls, kind, start, end, today) -> Period:
        today = today or timezone.localdate()
        return cls(kind, start, min(end, today), end)

    @property
    def to_date(self) -> bool:
        return self.end < self.nominal_end

    def bounds(self) -> tuple[datetime.datetime, datetime.datetime]:
        """The moment the first day begins and the moment after the last day ends (local midnights)."""
        return local_midnight(self.start), local_midnight(self.end + datetime.timedelta(days=1))

    @property
    def report_year(self) -> int:
        """The year ages are counted in: the year of the period's (nominal) last day."""
        return self.nominal_end.year

    def whole_months(self) -> list[datetime.date]:
        """The first days of the calendar months the period is made of, when it is made of whole months (a
        month, a quarter, a year; a range from a first to a last day of months), else []. A month still running
        counts as whole: its figure and the trend's last point are the same count."""
        if self.start.day != 1 or (self.kind == RANGE and self.end != month_end(self.end)):
            return []
        months, day = [], self.start
        while day <= self.end:
            months.append(day)
            day = add_months(day, 1)
        return months

    def trend_months(self) -> list[datetime.date]:
        """The twelve calendar months ending with the period's last month (first days)."""
        last = month_start(self.end)
        return [add_months(last, offset) for offset in range(1 - TREND_MONTHS, 1)]

    @property
    def label(self) -> str:
        if self.kind == MONTH:
            text = formats.date_format(self.start, "F Y")
        elif self.kind == QUARTER:
            text = str(LABEL_QUARTER) % {"year": self.start.year, "quarter": (self.start.month - 1) // 3 + 1}
        elif self.kind == YEAR:
            text = str(self.start.year)
        else:
            text = str(LABEL_RANGE) % {"start": self.start.isoformat(), "end": self.end.isoformat()}
        if self.to_date:
            text = str(LABEL_TO_DATE) % {"period": text, "today": self.end.isoformat()}
        return text

    @property
    def slug(self) -> str:
        """For file names and audit reasons: 2026-11, 2026-Q4, 2026, 2026-01-05_2026-03-31."""
        if self.kind == MONTH:
            return f"{self.start:%Y-%m}"
        if self.kind == QUARTER:
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        if self.kind == YEAR:
            return str(self.start.year)
        return f"{self.start.isoformat()}_{self.end.isoformat()}"

    def query(self) -> dict[str, str]:
        """The form's parameters for this period (links keep it)."""
        if self.kind == MONTH:
            return {"period": MONTH, "year": str(self.start.year), "month": str(self.start.month)}
        if self.kind == QUARTER:
            return {"period": QUARTER, "year": str(self.start.year), "quarter": str((self.start.month - 1) // 3 + 1)}
        if self.kind == YEAR:
            return {"period": YEAR, "year": str(self.start.year)}
        return {"period": RANGE, "start": self.start.isoformat(), "end": self.end.isoformat()}


def month_label(day: datetime.date) -> str:
    return formats.date_format(day, "M Y")
