"""Forms of the directory and the referral loop: input only; the rules are in services.py."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from casemgmt.roles import Province
from clients.models import ShareCategory
from referrals.models import EndReason, Outcome, PartnerService, ServiceType, Urgency
from referrals.services import DIRECTORY_FIELDS


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

    def __init__(self, *args, services, consents, **kwargs):
        super().__init__(*args, **kwargs)
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


class ReasonForm(forms.Form):
    # "Consent withdrawn" is set by the withdrawal itself, never chosen.
    reason = forms.ChoiceField(label=_("Reason"), choices=[(value, label) for value, label in EndReason.choices
                                                          if value != EndReason.CONSENT_WITHDRAWN])


class OutcomeForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=Outcome.choices)
    feedback = forms.CharField(label=_("Feedback to the referring counsellor"), required=False,
                               widget=forms.Textarea(attrs={"rows": 3}))
