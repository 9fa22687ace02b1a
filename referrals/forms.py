"""Forms of the directory and the referral loop: input only; the rules are in services.py."""

from __future__ import annotations

import datetime

from django import forms
from django.utils import timezone
from django.utils.dates import MONTHS as MONTH_NAMES
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from casemgmt.roles import Province
from casemgmt.text import PlainTextField
from clients.models import ShareCategory
from referrals.models import (
    OUTCOME_FIELDS,
    EndReason,
    Outcome,
    PartnerService,
    Referral,
    ReferralStatus,
    ServiceType,
    Urgency,
)
from referrals.services import DIRECTORY_FIELDS, ERROR_NOT_IN_LIST, RESULT_CHOICES

ERROR_QUARTER_AND_MONTH = _("Choose a quarter or a month, not both.")
ERROR_PERIOD_ORDER = _("The start of the period is after its end.")
ERROR_PERIOD_NEEDS_YEAR = _("Choose the year of this quarter or month.")


class DirectorySearchForm(forms.Form):
    service_type = forms.ChoiceField(label=_("Service"), required=False,
                                     choices=[("", _("Any service")), *ServiceType.choices])
    province = forms.ChoiceField(label=_("Province"), required=False,
                                 choices=[("", _("Any province")), *Province.choices])


class PartnerServiceForm(forms.ModelForm):
    class Meta:
        model = PartnerService
        fields = DIRECTORY_FIELDS


class ReferralForm(forms.Form):
    service = forms.ModelChoiceField(label=_("Partner service"), queryset=PartnerService.objects.none())
    consent = forms.ChoiceField(label=_("Consent to share"), choices=())
    shared_categories = forms.MultipleChoiceField(label=_("Information to share"), choices=ShareCategory.choices,
                                                  widget=forms.CheckboxSelectMultiple)
    reason = forms.CharField(label=_("Reason for the referral"), widget=forms.Textarea(attrs={"rows": 3}))
    urgency = forms.ChoiceField(label=_("Urgency"), choices=Urgency.choices)
    due_on = forms.DateField(label=_("Due date"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    milestone = forms.ChoiceField(label=_("For the reintegration milestone"), required=False, choices=())

    def __init__(self, *args, services, consents, milestones=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.milestones = {str(m.pk): m for m in milestones}
        self.fields["milestone"].choices = [("", _("None")), *(
            (str(m.pk), f"{m.get_domain_display()}: {m.description}"
                        + (f" ({m.target_on.isoformat()})" if m.target_on else "")) for m in milestones)]
        if not milestones:
            self.fields["milestone"].widget = forms.HiddenInput()
        self.fields["service"].queryset = services
        self.fields["service"].label_from_instance = lambda s: (
            f"{s.get_service_type_display()} – {s.organisation} ({s.get_province_display()})")
        self.consents = {str(c.pk): c for c in consents}
        self.fields["consent"].choices = [
            (str(c.pk), _("%(partner)s, given on %(date)s: %(categories)s") % {
                "partner": c.partner, "date": c.given_on.isoformat(), "categories": ", ".join(
                    str(ShareCategory(k).label) for k in c.categories if k in ShareCategory.values)})
            for c in consents]

    def clean_consent(self):
        return self.consents.get(self.cleaned_data["consent"])

    def clean_milestone(self):
        return self.milestones.get(self.cleaned_data["milestone"])


class ActionForm(forms.Form):
    """The form of one of the referral page's one-screen actions, made for the referral it acts on."""

    @classmethod
    def for_referral(cls, data, referral: Referral):
        return cls(data)

    def action_kwargs(self) -> dict:
        """The service's keyword arguments."""
        return dict(self.cleaned_data)


class ReasonForm(ActionForm):
    # "Consent withdrawn" is set by the withdrawal itself, never chosen.
    reason = forms.ChoiceField(label=_("Reason"), choices=[(value, label) for value, label in EndReason.choices
                                                          if value != EndReason.CONSENT_WITHDRAWN])


def outcome_field(name: str) -> forms.Field:
    """The form field of one outcome field of ``Referral`` (results from their fixed list, dates as dates)."""
    model_field = Referral._meta.get_field(name)
    label = capfirst(model_field.verbose_name)
    if name in RESULT_CHOICES:
        return forms.ChoiceField(label=label, required=False, choices=[("", "—"), *RESULT_CHOICES[name].choices],
                                 error_messages={"invalid_choice": ERROR_NOT_IN_LIST})
    if model_field.get_internal_type() == "DateField":
        return forms.DateField(label=label, required=False, widget=forms.DateInput(attrs={"type": "date"}))
    return PlainTextField(label=label, required=False, max_length=model_field.max_length)


class OutcomeForm(ActionForm):
    """The outcome in one screen: the generic outcome and the feedback, then the fields of the service."""

    outcome = forms.ChoiceField(label=_("Outcome"), choices=Outcome.choices)
    feedback = forms.CharField(label=_("Feedback to the referring counsellor"), required=False,
                               widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, service_type: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.result_names = OUTCOME_FIELDS.get(service_type, ())
        for name in self.result_names:
            self.fields[name] = outcome_field(name)
        if service_type == ServiceType.HIV_TESTING:
            self.fields["art_initiated_on"].help_text = _("Only after a confirmed positive result. ART started "
                                                          "later is recorded on this page once the outcome is in.")

    @classmethod
    def for_referral(cls, data, referral: Referral):
        return cls(data, service_type=referral.service.service_type)

    def action_kwargs(self) -> dict:
        data = self.cleaned_data
        return {"outcome": data["outcome"], "feedback": data["feedback"],
                "results": {name: data.get(name) for name in self.result_names}}


class LinkageForm(ActionForm):
    """After a reactive test: the confirmatory result, if none was recorded, and the ART initiation."""

    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, referral: Referral, **kwargs):
        super().__init__(*args, **kwargs)
        names = ["art_initiated_on", "art_facility", "art_number"]
        if not referral.hiv_confirmatory_result:
            names.insert(0, "hiv_confirmatory_result")
        for name in names:
            self.fields[name] = outcome_field(name)
        self.initial.setdefault("version", referral.version)

    @classmethod
    def for_referral(cls, data, referral: Referral):
        return cls(data, referral=referral)

    def action_kwargs(self) -> dict:
        data = dict(self.cleaned_data)
        return {"expected_version": data.pop("version"), **data}


# The cascade and its lists -------------------------------------------------------------------------------------

QUARTERS = [("", _("Whole year")), ("1", _("January to March")), ("2", _("April to June")),
            ("3", _("July to September")), ("4", _("October to December"))]
MONTHS = [("", _("Whole year")), *((str(n), name) for n, name in MONTH_NAMES.items())]


class PeriodForm(forms.Form):
    """A year, a quarter or a month of it, or from one date to another (local dates); by default the current year
    to today."""

    year = forms.IntegerField(label=_("Year"), required=False, min_value=2000, max_value=2100)
    quarter = forms.ChoiceField(label=_("Quarter"), required=False, choices=QUARTERS)
    month = forms.ChoiceField(label=_("Month"), required=False, choices=MONTHS)
    start = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        today = timezone.localdate()
        year, quarter, month = data.get("year"), data.get("quarter"), data.get("month")
        start, end = data.get("start"), data.get("end")
        if start or end:
            start = start or datetime.date((end or today).year, 1, 1)
            end = end or today
        elif quarter and month:
            raise forms.ValidationError(ERROR_QUARTER_AND_MONTH)
        elif (quarter or month) and not year:
            raise forms.ValidationError(ERROR_PERIOD_NEEDS_YEAR)
        elif year and quarter:
            first = 3 * (int(quarter) - 1) + 1
            start, end = datetime.date(year, first, 1), _month_end(year, first + 2)
        elif year and month:
            start, end = datetime.date(year, int(month), 1), _month_end(year, int(month))
        elif year:
            start, end = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
        else:
            start, end = datetime.date(today.year, 1, 1), today
        if start > end:
            raise forms.ValidationError(ERROR_PERIOD_ORDER)
        data["period"] = (start, end)
        return data


def _month_end(year: int, month: int) -> datetime.date:
    following = datetime.date(year + month // 12, month % 12 + 1, 1)
    return following - datetime.timedelta(days=1)


class ReferralListForm(PeriodForm):
    service_type = forms.ChoiceField(label=_("Service"), required=False,
                                     choices=[("", _("Any service")), *ServiceType.choices])
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[("", _("Any status")), *((v, label) for v, label in ReferralStatus.choices
                                                                 if v != ReferralStatus.DRAFT)])
    reason = forms.ChoiceField(label=_("Reason"), required=False, choices=[("", _("Any reason")), *EndReason.choices])
    step = forms.ChoiceField(label=_("Step"), required=False, choices=())

    def __init__(self, *args, steps=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["step"].choices = [("", _("Any step")), *((step.key, step.label) for step in steps)]
