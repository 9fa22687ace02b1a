"""Counselling forms. They parse; the services decide (and say why, in the messages tests assert)."""

from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from casemgmt.text import PlainTextareaField
from counselling.models import ONE_CLIENT_MODALITIES, RECORDED_ATTENDANCE, Approach, RiskKind

DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
NOTE = forms.Textarea(attrs={"rows": 6})

ERROR_NO_UICS = _("Enter the UIC of each client in the group, one per line.")
ERROR_UIC_NOT_FOUND = _(
    "No client with the UIC %(uic)s on your caseload. A group session is for clients of your own centre whose "
    "file you may write."
)
ERROR_UIC_AMBIGUOUS = _(
    "Two or more of your clients have the UIC %(uic)s: add this client from their own page instead."
)


def _choices(values) -> list[tuple[str, str]]:
    return [(value.value, value.label) for value in values]


def _modality_field():
    return forms.ChoiceField(label=_("Modality"), choices=_choices(ONE_CLIENT_MODALITIES))


def _approach_field():
    return forms.ChoiceField(label=_("Approach"), required=False, choices=[("", "—"), *Approach.choices])


def _duration_field(label=None):
    return forms.IntegerField(label=label or _("Duration (minutes)"), required=False, min_value=1, max_value=600)


def _attendance_field():
    return forms.ChoiceField(label=_("Attendance"), choices=_choices(RECORDED_ATTENDANCE), widget=forms.RadioSelect)


def _flags_field():
    return forms.MultipleChoiceField(
        label=_("Risks raised"), required=False, choices=RiskKind.choices, widget=forms.CheckboxSelectMultiple,
        help_text=_("Each stays on the client's page and the centre's dashboard until someone resolves it."))


def _next_field():
    return forms.DateTimeField(label=_("Next appointment"), required=False, widget=DATETIME,
                               help_text=_("Optional: the date and time of the next session with this client."))


class AppointmentForm(forms.Form):
    starts_at = forms.DateTimeField(label=_("Date and time"), widget=DATETIME)
    modality = _modality_field()
    duration_minutes = _duration_field(_("Planned duration (minutes)"))


class SessionForm(forms.Form):
    """A session with one client that took place (or was missed), written up at once."""

    starts_at = forms.DateTimeField(label=_("Date and time"), widget=DATETIME)
    modality = _modality_field()
    attendance = _attendance_field()
    duration_minutes = _duration_field()
    approach = _approach_field()
    note = PlainTextareaField(label=_("Note"), required=False, widget=NOTE)
    risk_flags = _flags_field()
    next_appointment = _next_field()


class OutcomeForm(forms.Form):
    """What a scheduled session's page asks about the session itself (the participants have their own forms)."""

    duration_minutes = _duration_field()
    approach = _approach_field()
    next_appointment = _next_field()

    def __init__(self, *args, group: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if group:
            del self.fields["next_appointment"]


class ParticipantOutcomeForm(forms.Form):
    attendance = _attendance_field()
    note = PlainTextareaField(label=_("Note"), required=False, widget=NOTE,
                              help_text=_("Only this client's counsellor and the centre's managers can read it."))
    risk_flags = _flags_field()


class GroupSessionForm(forms.Form):
    starts_at = forms.DateTimeField(label=_("Date and time"), widget=DATETIME)
    held = forms.BooleanField(label=_("It took place: record the attendance now"), required=False,
                              help_text=_("Leave unticked to schedule an upcoming group session."))
    duration_minutes = _duration_field()
    approach = _approach_field()
    participants = PlainTextareaField(
        label=_("Participants (UICs)"), widget=forms.Textarea(attrs={"rows": 5, "autocomplete": "off"}),
        help_text=_("One UIC per line: each client's page and your caseload show it. Clients of your own centre "
                    "only."))

    def clean_participants(self) -> list[str]:
        uics = [part.upper() for part in re.split(r"[\s,;]+", self.cleaned_data["participants"]) if part]
        if not uics:
            raise forms.ValidationError(ERROR_NO_UICS)
        return list(dict.fromkeys(uics))


class NoteForm(forms.Form):
    note = PlainTextareaField(label=_("Note"), required=False, widget=NOTE)
    # The version the form was filled in from: saving from an older one is a conflict (casemgmt.versioning).
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)


class ResolveFlagForm(forms.Form):
    resolution_note = PlainTextareaField(
        label=_("How it was resolved"), required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("For example: safety plan agreed, referred to the hospital, no longer at risk."))

