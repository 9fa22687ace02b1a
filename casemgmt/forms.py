from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from casemgmt import access
from casemgmt.models import AuditAction
from casemgmt.roles import Role

ERROR_NO_ORGANISATION = _(
    "This account is not attached to an active organisation, so it cannot sign in. "
    "Ask your system administrator."
)
ERROR_AWAITING_CONFIRMATION = _(
    "This account cannot sign in yet: its role waits for a second person to confirm it (a centre manager of "
    "your organisation, or a second system administrator). This happens for a new role, and after your "
    "second factor or password was reset by an administrator. Ask them to confirm it."
)
ERROR_BAD_TOKEN = _("That code is not right, or it has expired. Enter the 6-digit code your app shows now.")


class SignInForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("The user name or password is not right. Both are case-sensitive."),
        "inactive": _("This account is deactivated."),
        "no_organisation": ERROR_NO_ORGANISATION,
        "awaiting_confirmation": ERROR_AWAITING_CONFIRMATION,
    }

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if access.role_of(user) is None:
            from casemgmt import audit, selectors

            if selectors.awaiting_confirmation(user):
                audit.record(action=AuditAction.SIGNIN_REFUSED, user=user, reason="role awaiting confirmation")
                raise forms.ValidationError(self.error_messages["awaiting_confirmation"],
                                            code="awaiting_confirmation")
            audit.record(action=AuditAction.SIGNIN_REFUSED, user=user, reason="no active membership")
            raise forms.ValidationError(self.error_messages["no_organisation"], code="no_organisation")


class TokenForm(forms.Form):
    token = forms.CharField(
        label=_("6-digit code"),
        min_length=6,
        max_length=8,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )

    def clean_token(self):
        return self.cleaned_data["token"].replace(" ", "")


class AuditFilterForm(forms.Form):
    user = forms.CharField(label=_("User name"), required=False, max_length=150)
    action = forms.ChoiceField(label=_("Action"), required=False)
    since = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    object = forms.CharField(label=_("Object type or id"), required=False, max_length=100)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [("", _("Any action")), *AuditAction.choices]

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and until < since:
            self.add_error("until", _("The end date is before the start date."))
        return cleaned


ROLE_HOME_TEMPLATES = {role: f"casemgmt/home/{role}.html" for role in Role.values}
