"""The report's period and scope, as a reviewer or manager chooses them (GET: links keep them)."""

from __future__ import annotations

import datetime
import uuid

from django import forms
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from casemgmt.roles import Province
from reports import periods, scope
from reports.periods import Period

FIRST_YEAR = 2000

ERROR_FUTURE = _("This period has not begun yet: choose one that begins today or earlier.")
ERROR_END_FUTURE = _("The last day is in the future: choose today or an earlier day.")
ERROR_END_BEFORE_START = _("The last day is before the first day.")
ERROR_TOO_LONG = _("A range can be five years long at most: choose a later first day or an earlier last day.")
ERROR_YEAR = _("Choose a year from %(first)d to this year.")
ERROR_MONTH = _("Choose a month from the list.")
ERROR_QUARTER = _("Choose a quarter from the list.")
ERROR_DAY = _("Enter a date as YYYY-MM-DD.")
ERROR_NEEDS_DAYS = _("Give the first and the last day of the range.")
ERROR_PERIOD_KIND = _("Choose a month, a quarter, a year or a range of days.")
ERROR_SCOPE_KIND = _("Choose the whole country, one province or one organisation.")
ERROR_UNKNOWN_PROVINCE = _("Choose a province from the list.")
ERROR_UNKNOWN_ORGANISATION = _("Choose an organisation from the list.")


class ReportForm(forms.Form):
    period = forms.ChoiceField(label=_("Period"), choices=periods.KINDS, initial=periods.MONTH, required=False,
                               error_messages={"invalid_choice": ERROR_PERIOD_KIND})
    year = forms.IntegerField(label=_("Year"), required=False,
                              error_messages={"invalid": ERROR_YEAR % {"first": FIRST_YEAR}})
    month = forms.TypedChoiceField(label=_("Month"), coerce=int, required=False,
                                   error_messages={"invalid_choice": ERROR_MONTH})
    quarter = forms.TypedChoiceField(label=_("Quarter"), coerce=int, required=False,
                                     choices=[(q, str(q)) for q in range(1, 5)],
                                     error_messages={"invalid_choice": ERROR_QUARTER})
    start = forms.DateField(label=_("First day"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
                            error_messages={"invalid": ERROR_DAY})
    end = forms.DateField(label=_("Last day"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
                          error_messages={"invalid": ERROR_DAY})
    scope = forms.ChoiceField(label=_("Whose figures"), choices=scope.KINDS, required=False,
                              error_messages={"invalid_choice": ERROR_SCOPE_KIND})
    province = forms.ChoiceField(label=_("Province"), required=False,
                                 error_messages={"invalid_choice": ERROR_UNKNOWN_PROVINCE})
    organisation = forms.ChoiceField(label=_("Organisation"), required=False,
                                     error_messages={"invalid_choice": ERROR_UNKNOWN_ORGANISATION})

    def __init__(self, data=None, *, user, today: datetime.date | None = None):
        self.user = user
        self.today = today or timezone.localdate()
        self.limit = scope.limit_for(user)
        default = Period.last_full_month(self.today)
        initial = {"period": periods.MONTH, "year": default.start.year, "month": default.start.month,
                   "quarter": (default.start.month - 1) // 3 + 1, **self.limit.default().query()}
        super().__init__(data or None, initial=initial)
        self.fields["month"].choices = [(m, formats.date_format(datetime.date(2000, m, 1), "F"))
                                        for m in range(1, 13)]
        if not self.limit.chooses:
            for name in ("scope", "province", "organisation"):
                del self.fields[name]
            return
        self.fields["province"].choices = [("", _("Choose a province")), *Province.choices]
        if self.limit.province:
            # Every province is a valid answer, so that asking for another one is refused with a message that says
            # why (access_scope); the list offers only the account's own.
            self.fields["province"].widget.choices = [(self.limit.province, Province(self.limit.province).label)]
        self.fields["organisation"].choices = [("", _("Choose an organisation"))] + [
            (str(organisation.pk), f"{organisation} ({organisation.get_province_display()})")
            for organisation in scope.care_organisations(province=self.limit.province)]
        if self.limit.province:
            # An organisation outside the province answers "not found" (access_scope), not a form error.
            self.fields["organisation"] = forms.CharField(required=False, label=self.fields["organisation"].label,
                                                          widget=forms.Select(
                                                              choices=self.fields["organisation"].choices))

    # The period -------------------------------------------------------------------------------------------

    def _period(self, data) -> Period | None:
        kind = data.get("period") or periods.MONTH
        if kind == periods.RANGE:
            return self._range(data)
        year = data.get("year")
        if year is None or year < FIRST_YEAR:
            self.add_error("year", ERROR_YEAR % {"first": FIRST_YEAR})
            return None
        if kind == periods.MONTH:
            if not data.get("month"):
                self.add_error("month", ERROR_MONTH)
                return None
            start = datetime.date(year, data["month"], 1)
            field = "month"
        elif kind == periods.QUARTER:
            if not data.get("quarter"):
                self.add_error("quarter", ERROR_QUARTER)
                return None
            start = datetime.date(year, 3 * (data["quarter"] - 1) + 1, 1)
            field = "quarter"
        else:
            start = datetime.date(year, 1, 1)
            field = "year"
        if start > self.today:
            self.add_error(field, ERROR_FUTURE)
            return None
        if kind == periods.MONTH:
            return Period.month(year, data["month"], today=self.today)
        if kind == periods.QUARTER:
            return Period.quarter(year, data["quarter"], today=self.today)
        return Period.year(year, today=self.today)

    def _range(self, data) -> Period | None:
        start, end = data.get("start"), data.get("end")
        if start is None or end is None:
            if "start" not in self.errors and "end" not in self.errors:
                self.add_error("start" if start is None else "end", ERROR_NEEDS_DAYS)
            return None
        if start > self.today:
            self.add_error("start", ERROR_FUTURE)
            return None
        if end > self.today:
            self.add_error("end", ERROR_END_FUTURE)
            return None
        if end < start:
            self.add_error("end", ERROR_END_BEFORE_START)
            return None
        if end >= _years_after(start, periods.MAX_RANGE_YEARS):
            self.add_error("end", ERROR_TOO_LONG)
            return None
        return Period.range(start, end)

    # The scope --------------------------------------------------------------------------------------------

    def _scope(self, data) -> scope.Scope | None:
        if not self.limit.chooses:
            return self.limit.fixed
        kind = data.get("scope") or self.limit.default().kind
        province = data.get("province") or ""
        organisation_id = data.get("organisation") or ""
        if kind == scope.PROVINCE and not province:
            self.add_error("province", ERROR_UNKNOWN_PROVINCE)
            return None
        if kind == scope.ORGANISATION:
            if not self.limit.province and not organisation_id:
                self.add_error("organisation", ERROR_UNKNOWN_ORGANISATION)
                return None
            try:
                organisation_id = uuid.UUID(str(organisation_id))
            except ValueError:
                if self.limit.province:
                    from django.http import Http404

                    raise Http404 from None
                self.add_error("organisation", ERROR_UNKNOWN_ORGANISATION)
                return None
        try:
            return scope.access_scope(user=self.user, kind=kind, province=province, organisation_id=organisation_id)
        except scope.ScopeRefused as refused:
            self.add_error("province" if kind == scope.PROVINCE else "scope", refused.message)
            return None

    def clean(self):
        data = super().clean()
        self.report_period = self._period(data) if not self.errors else None
        self.report_scope = self._scope(data) if not self.errors else None
        return data

    def chosen(self) -> tuple[scope.Scope | None, Period | None]:
        """The scope and period asked for, or the defaults when nothing was asked; (None, None) when the form has
        errors."""
        if not self.is_bound:
            return self.limit.default(), Period.last_full_month(self.today)
        if self.is_valid():
            return self.report_scope, self.report_period
        return None, None


def _years_after(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)
