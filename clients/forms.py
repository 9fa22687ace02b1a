from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from casemgmt.models import Organisation
from casemgmt.roles import OrganisationKind
from casemgmt.text import PlainTextareaField, PlainTextField
from clients import assist
from clients.models import (
    Client,
    ClientStatus,
    Consent,
    ConsentKind,
    CustodyEpisode,
    MentalHealthFlag,
    PopulationGroup,
    RiskLevel,
    Screening,
    ShareCategory,
)
from clients.services import IDENTITY_FIELDS

__all__ = ["IDENTITY_FIELDS"]

# Identity fields that are text: normalised to NFC and refused with invisible or control characters (casemgmt.text).
IDENTITY_TEXT_FIELDS = [
    "given_name", "family_name", "other_names", "phone", "village", "commune", "district", "national_id",
    "mother_first_name", "father_first_name",
]

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ClientForm(forms.ModelForm):
    population_groups = forms.MultipleChoiceField(
        label=_("Population groups"), choices=PopulationGroup.choices, required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    # The version the form was filled in from: saving from an older one is a conflict (casemgmt.versioning).
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)

    class Meta:
        model = Client
        fields = IDENTITY_FIELDS
        widgets = {"date_of_birth": DATE}
        field_classes = dict.fromkeys(IDENTITY_TEXT_FIELDS, PlainTextField)
        help_texts = {
            "phone": _("For example 012 345 678 or +855 12 345 678."),
            "mother_first_name": _("Used for the UIC, with the father's first name, sex and date of birth."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["version"].initial = self.instance.version

    def identity(self) -> dict:
        return {name: self.cleaned_data[name] for name in IDENTITY_FIELDS}

    def _post_clean(self):
        # The service validates and saves (and audits which fields changed): the instance is not touched here.
        pass


class DuplicateConfirmForm(forms.Form):
    confirm_distinct = forms.BooleanField(
        label=_("I have checked: this is a different person. Register them."), required=True,
    )


SEARCH_KINDS = [
    ("name", _("Name (family and given)")),
    ("uic", _("UIC")),
    ("phone", _("Phone")),
    ("national_id", _("National ID")),
]


class SearchForm(forms.Form):
    kind = forms.ChoiceField(label=_("Search by"), choices=SEARCH_KINDS)
    value = PlainTextField(label=_("UIC, phone or national ID"), required=False, max_length=100)
    family_name = PlainTextField(label=_("Family name"), required=False, max_length=100)
    given_name = PlainTextField(label=_("Given name"), required=False, max_length=100)

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("kind")
        if kind == "name":
            if not cleaned.get("family_name") or not cleaned.get("given_name"):
                raise forms.ValidationError(_("Enter both the family name and the given name: the search is exact."))
            cleaned["values"] = (cleaned["family_name"], cleaned["given_name"])
        elif kind:
            if not cleaned.get("value"):
                self.add_error("value", _("Enter what to search for."))
            cleaned["values"] = (cleaned.get("value"),)
        return cleaned


class CaseloadFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[("", _("Active and inactive")), *ClientStatus.choices])
    population_group = forms.ChoiceField(label=_("Population group"), required=False,
                                         choices=[("", _("Any")), *PopulationGroup.choices])
    risk_level = forms.ChoiceField(label=_("Risk level"), required=False,
                                   choices=[("", _("Any")), *RiskLevel.choices])


class ShownWordingsField(forms.CharField):
    """The consent wordings the page showed, as "kind:language:version" items. What was posted is cleaned; what
    is shown again is always the versions in use now, so that a form refused for a changed wording carries the
    new versions once the counsellor has read them."""

    widget = forms.HiddenInput

    def bound_data(self, data, initial):
        return initial

    def to_python(self, value) -> dict[tuple[str, str], int]:
        shown = {}
        for item in str(value or "").split(","):
            kind, _sep, rest = item.strip().partition(":")
            language, _sep, version = rest.partition(":")
            if version.isdigit():
                shown[(kind, language)] = int(version)
        return shown


class ConsentForm(forms.ModelForm):
    categories = forms.MultipleChoiceField(label=_("Categories of information"), choices=ShareCategory.choices,
                                           required=False, widget=forms.CheckboxSelectMultiple)
    language = forms.ChoiceField(label=_("Wording read to the client in"), choices=settings.LANGUAGES)
    wordings = ShownWordingsField(required=False)

    class Meta:
        model = Consent
        fields = ["kind", "partner", "purpose", "categories", "given_on", "expires_on", "method", "witness_name"]
        widgets = {"given_on": DATE, "expires_on": DATE, "purpose": forms.Textarea(attrs={"rows": 2})}
        field_classes = {"purpose": PlainTextareaField, "witness_name": PlainTextField}
        help_texts = {
            "partner": _("Only for sharing: the NGO partner the client agrees to share with."),
            "purpose": _("Only for sharing: what the partner may use the information for."),
            "witness_name": _("Needed when the client could not sign (verbal consent or thumbprint): the person who "
                              "saw them agree."),
        }

    def __init__(self, *args, wordings: dict, **kwargs):
        """``wordings``: the wording in use for each (kind, language) (clients.selectors.current_wordings)."""
        super().__init__(*args, **kwargs)
        self.fields["partner"].queryset = Organisation.objects.filter(kind=OrganisationKind.NGO_PARTNER, active=True)
        self.fields["partner"].required = False
        kinds, languages = ConsentKind.values, [code for code, _name in settings.LANGUAGES]
        self.shown_wordings = [wordings[kind, language] for kind in kinds for language in languages
                               if (kind, language) in wordings]
        self.fields["wordings"].initial = ",".join(f"{w.kind}:{w.language}:{w.version}" for w in self.shown_wordings)

    def clean(self):
        data = super().clean()
        # The version of the chosen kind and language that the page showed: the one the client heard.
        data["wording_version"] = (data.get("wordings") or {}).get((data.get("kind"), data.get("language")))
        return data

    def _post_clean(self):
        # The service validates the whole consent (and says why); the model's own check would repeat it.
        pass


class RevokeConsentForm(forms.Form):
    revoked_on = forms.DateField(label=_("Revoked on"), widget=DATE)
    reason = PlainTextareaField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


class CustodyForm(forms.ModelForm):
    class Meta:
        model = CustodyEpisode
        fields = ["facility", "admitted_on", "expected_release_on"]
        widgets = {"admitted_on": DATE, "expected_release_on": DATE}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["facility"].queryset = Organisation.objects.filter(
            kind=OrganisationKind.PRISON_HEALTH_UNIT, active=True)

    def _post_clean(self):
        pass


class ReleaseForm(forms.Form):
    released_on = forms.DateField(label=_("Released on"), widget=DATE)


class AssignForm(forms.Form):
    counsellor = forms.ModelChoiceField(label=_("Counsellor"), queryset=None, required=False,
                                        empty_label=_("Nobody (centre manager follows the client)"))

    def __init__(self, *args, counsellors, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["counsellor"].queryset = counsellors
        self.fields["counsellor"].label_from_instance = lambda user: user.get_full_name() or user.username


class TransferForm(forms.Form):
    to_organisation = forms.ModelChoiceField(label=_("Transfer to"), queryset=None)
    confirm = forms.BooleanField(
        label=_("I understand that my centre will lose access to this client's record at once."), required=True)

    def __init__(self, *args, destinations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_organisation"].queryset = destinations


class ScreeningForm(forms.ModelForm):
    """ASSIST questions 1–8 for every substance, and the intake questions."""

    mental_health_flags = forms.MultipleChoiceField(label=_("Mental health"), choices=MentalHealthFlag.choices,
                                                    required=False, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = Screening
        fields = ["screened_on", "primary_substance", "route", "age_first_use", "shares_equipment", "hiv_status",
                  "hiv_tested_on", "tb_cough", "tb_fever", "tb_night_sweats", "tb_weight_loss", "hepatitis_b",
                  "hepatitis_c", "mental_health_flags", "notes"]
        widgets = {"screened_on": DATE, "hiv_tested_on": DATE, "notes": forms.Textarea(attrs={"rows": 3})}
        field_classes = {"notes": PlainTextareaField}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["primary_substance"] = forms.ChoiceField(
            label=_("Primary substance"), required=False, choices=[("", "—"), *assist.SUBSTANCE_CHOICES])
        self.fields["age_first_use"].widget.attrs.update({"min": 5, "max": 100})
        self.substance_fields = {}
        for substance, _label in assist.SUBSTANCE_CHOICES:
            names = []
            for question in assist.questions_for(substance):
                name = f"{substance}__{question.code}"
                self.fields[name] = forms.ChoiceField(
                    label=question.text, required=question.code == "q1",
                    choices=[("", "—"), *question.choices], widget=forms.RadioSelect if question.code == "q1"
                    else forms.Select,
                )
                names.append(name)
            self.substance_fields[substance] = names
        self.fields["q8"] = forms.ChoiceField(label=assist.Q8.text, choices=assist.Q8.choices,
                                              widget=forms.RadioSelect)

    def substance_groups(self):
        for substance, label in assist.SUBSTANCE_CHOICES:
            yield label, [self[name] for name in self.substance_fields[substance]]

    def answers(self) -> dict:
        result = {}
        for substance, names in self.substance_fields.items():
            block = {}
            for name in names:
                value = self.cleaned_data.get(name)
                if value:
                    block[name.split("__", 1)[1]] = value
            result[substance] = block
        return result

    def intake(self) -> dict:
        return {name: self.cleaned_data[name] for name in self._meta.fields if name != "screened_on"}

    def _post_clean(self):
        pass
