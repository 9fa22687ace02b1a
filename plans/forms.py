from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from plans.models import Goal, GoalDomain, GoalStatus, Milestone, ReintegrationDomain
from plans.services import (
    ERROR_COMMENTS_NEEDED,
    ERROR_GOAL_DOMAIN,
    ERROR_GOAL_TEXT,
    ERROR_MILESTONE_DOMAIN,
    ERROR_MILESTONE_TEXT,
    GOAL_FIELDS,
    MILESTONE_FIELDS,
)

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class VersionedForm(forms.Form):
    # The version the form was filled in from: saving from an older one is a conflict (casemgmt.versioning).
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)


class PlanForm(VersionedForm):
    review_on = forms.DateField(label=_("Review date"), required=False, widget=DATE,
                                help_text=_("The counsellor is reminded from seven days before."))


class GoalForm(VersionedForm):
    domain = forms.ChoiceField(label=_("Domain"), choices=[("", "—"), *GoalDomain.choices],
                               error_messages={"required": ERROR_GOAL_DOMAIN, "invalid_choice": ERROR_GOAL_DOMAIN})
    text = forms.CharField(label=_("Goal"), widget=forms.Textarea(attrs={"rows": 3}),
                           error_messages={"required": ERROR_GOAL_TEXT})
    interventions = forms.CharField(label=_("Interventions"), widget=forms.Textarea(attrs={"rows": 3}),
                                    required=False)
    responsible = forms.CharField(label=_("Responsible person"), max_length=200, required=False)
    target_on = forms.DateField(label=_("Target date"), required=False, widget=DATE)
    status = forms.ChoiceField(label=_("Status"), choices=GoalStatus.choices, initial=GoalStatus.NOT_STARTED)

    @classmethod
    def for_goal(cls, data, goal: Goal | None):
        initial = {name: getattr(goal, name) for name in GOAL_FIELDS} | {"version": goal.version} if goal else {}
        return cls(data, initial=initial)

    def values(self) -> dict:
        return {name: self.cleaned_data[name] for name in GOAL_FIELDS}


class DecisionForm(forms.Form):
    APPROVE, SEND_BACK = "approve", "send_back"
    revision = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    decision = forms.ChoiceField(label=_("Decision"), widget=forms.RadioSelect, choices=[
        (APPROVE, _("Approve this version")), (SEND_BACK, _("Send it back to the author with comments"))])
    comments = forms.CharField(label=_("Comments for the author"), widget=forms.Textarea(attrs={"rows": 4}),
                               required=False)

    def clean(self):
        data = super().clean()
        if data.get("decision") == self.SEND_BACK and not (data.get("comments") or "").strip():
            self.add_error("comments", ERROR_COMMENTS_NEEDED)
        return data


class ContinueForm(forms.Form):
    review_on = forms.DateField(label=_("Next review date"), widget=DATE)


class CloseForm(forms.Form):
    COMPLETE, DISCONTINUE = "complete", "discontinue"
    outcome = forms.ChoiceField(label=_("Outcome"), widget=forms.RadioSelect, choices=[
        (COMPLETE, _("Completed: the plan's work is done")), (DISCONTINUE, _("Discontinued"))])
    note = forms.CharField(label=_("Note (the reason, when discontinued)"), widget=forms.Textarea(attrs={"rows": 3}),
                           required=False)


class ReintegrationForm(forms.Form):
    summary = forms.CharField(label=_("Summary"), widget=forms.Textarea(attrs={"rows": 3}), required=False)


class MilestoneForm(VersionedForm):
    domain = forms.ChoiceField(label=_("Domain"), choices=[("", "—"), *ReintegrationDomain.choices],
                               error_messages={"required": ERROR_MILESTONE_DOMAIN,
                                               "invalid_choice": ERROR_MILESTONE_DOMAIN})
    description = forms.CharField(label=_("Milestone"), widget=forms.Textarea(attrs={"rows": 2}),
                                  error_messages={"required": ERROR_MILESTONE_TEXT})
    notes = forms.CharField(label=_("Notes"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    target_on = forms.DateField(label=_("Target date"), required=False, widget=DATE)
    achieved_on = forms.DateField(label=_("Achieved on"), required=False, widget=DATE)

    @classmethod
    def for_milestone(cls, data, milestone: Milestone | None):
        initial = ({name: getattr(milestone, name) for name in MILESTONE_FIELDS} | {"version": milestone.version}
                   if milestone else {})
        return cls(data, initial=initial)

    def values(self) -> dict:
        return {name: self.cleaned_data[name] for name in MILESTONE_FIELDS}
