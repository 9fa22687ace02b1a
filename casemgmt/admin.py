"""Administration for system administrators: accounts, organisations, memberships, 2FA.

No client data model is registered here, ever (a test holds that), and the
system administrator role holds no permission on client data. Nor is there another way to client data:
no superuser, staff, group or permission editing, no second-factor key. A membership with a confirmed role
is only proposed here: a centre manager of the organisation, or a second administrator, confirms it
(casemgmt.services, separation of duties).
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin, csrf_protect_m, sensitive_post_parameters_m
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_otp.plugins.otp_totp.models import TOTPDevice

from casemgmt import audit, locks, selectors, services
from casemgmt.models import (
    AuditAction,
    Membership,
    MembershipChange,
    MembershipChangeKind,
    MembershipChangeStatus,
    Organisation,
)
from casemgmt.roles import Role
from casemgmt.staff import who_confirms

User = get_user_model()

MESSAGE_PROPOSED_TO_MANAGER = _(
    "Proposed: %(user)s as %(role)s at %(organisation)s. It takes effect when a centre manager of "
    "%(organisation)s confirms it; until then it grants nothing."
)
MESSAGE_PROPOSED_TO_ADMINISTRATOR = _(
    "Proposed: %(user)s as %(role)s at %(organisation)s. It takes effect when another system administrator "
    "confirms it here, under Membership changes; until then it grants nothing."
)
MESSAGE_APPLIED = _("%(user)s is now %(role)s at %(organisation)s: a role without client data takes effect at once.")
MESSAGE_SUSPENDED = _(
    "%(user)s cannot sign in until a second person confirms their role again: %(who)s."
)


def _say(request, exc: ValidationError, prefix: str = "") -> None:
    messages.error(request, f"{prefix}{' '.join(exc.messages)}")


# The admin checks a form and saves it in one transaction. Each form below takes the lock of its uniqueness
# rule before the check, so a second form sent at the same instant waits for the first to commit, then reads
# the message it would read a moment later (not a server error, not a second row).


class OrganisationForm(forms.ModelForm):
    def clean_name(self):
        locks.hold(locks.ORGANISATION_NAME, self.cleaned_data["name"])
        return self.cleaned_data["name"]


class AccountCreationForm(AdminUserCreationForm):
    def clean_username(self):
        locks.hold(locks.USERNAME, (self.cleaned_data.get("username") or "").casefold())
        return super().clean_username()


class AccountChangeForm(UserChangeForm):
    def clean_username(self):
        locks.hold(locks.USERNAME, (self.cleaned_data.get("username") or "").casefold())
        return self.cleaned_data.get("username")


class MembershipInline(admin.StackedInline):
    model = Membership
    fk_name = "user"
    extra = 0
    can_delete = False
    fields = ["organisation", "role", "province", "suspended"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    form = OrganisationForm
    list_display = ["name", "kind", "province", "active"]
    list_filter = ["kind", "province", "active"]
    search_fields = ["name"]
    fields = ["name", "kind", "province", "active"]
    actions = ["deactivate"]

    def save_model(self, request, obj, form, change):
        if change:
            services.organisation_update(organisation=obj, changed=list(form.changed_data), actor=request.user)
        else:
            created = services.organisation_create(
                name=obj.name, kind=obj.kind, province=obj.province, active=obj.active, actor=request.user
            )
            obj.pk = created.pk
            obj.staff_group = created.staff_group
            obj._state.adding = False

    def has_delete_permission(self, request, obj=None):
        return False  # deactivate instead: records keep pointing at their organisation

    @admin.action(description=_("Deactivate the selected organisations"))
    def deactivate(self, request, queryset):
        for organisation in queryset:
            organisation.active = False
            services.organisation_update(organisation=organisation, changed=["active"], actor=request.user)
        messages.success(request, _("The organisations were deactivated; their staff can no longer sign in."))


class MembershipProposalForm(forms.ModelForm):
    """The membership an administrator proposes for someone else: never for themselves."""

    actor = None  # set per request by MembershipAdmin.get_form

    class Meta:
        model = Membership
        fields = ["user", "organisation", "role", "province"]

    def clean(self):
        cleaned = super().clean()
        user = cleaned.get("user") or (self.instance.user if self.instance.pk else None)
        if user is not None and self.actor is not None:
            services.refuse_own(actor=self.actor, user=user, what="own membership",
                                message=services.ERROR_OWN_MEMBERSHIP)
        # The instance still holds the membership in effect here (the form's values reach it after clean).
        if (self.instance.pk and not self.instance.suspended
                and cleaned.get("organisation") == self.instance.organisation
                and cleaned.get("role") == self.instance.role
                and (cleaned.get("province") or "") == self.instance.province):
            raise ValidationError(services.ERROR_NOTHING_TO_CHANGE)
        return cleaned


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    """Memberships in effect. Adding or changing one proposes a change (Membership changes); removing one
    takes effect at once, since it grants nothing."""

    form = MembershipProposalForm
    list_display = ["user", "organisation", "role", "province", "suspended"]
    list_filter = ["role", "organisation__kind", "suspended"]
    search_fields = ["user__username", "organisation__name"]
    autocomplete_fields = ["user", "organisation"]
    fields = ["user", "organisation", "role", "province"]

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.actor = request.user  # a class made for this request by modelform_factory
        return form

    def get_readonly_fields(self, request, obj=None):
        return ["user"] if obj is not None else []

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.user_id == request.user.pk:
            return False  # nobody removes their own membership
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        # Nothing is saved here: the change waits for confirmation, or is applied by the service.
        try:
            obj.proposal = services.membership_change_propose(
                actor=request.user, user=obj.user, organisation=obj.organisation, role=obj.role,
                province=obj.province or "")
        except ValidationError as exc:
            obj.proposal = None
            _say(request, exc)

    def log_addition(self, request, obj, message):
        pass  # the audit trail records the proposal; nothing was added

    def log_change(self, request, obj, message):
        pass

    def response_add(self, request, obj, post_url_continue=None):
        return self._response_proposed(request, obj)

    def response_change(self, request, obj):
        return self._response_proposed(request, obj)

    def _response_proposed(self, request, obj):
        change = obj.proposal
        if change is not None:
            values = {"user": change.user, "role": change.get_to_role_display(), "organisation": change.to_organisation}
            if change.status == MembershipChangeStatus.APPLIED:
                messages.success(request, MESSAGE_APPLIED % values)
            elif selectors.confirmer_role(change) == Role.CENTRE_MANAGER:
                messages.success(request, MESSAGE_PROPOSED_TO_MANAGER % values)
            else:
                messages.success(request, MESSAGE_PROPOSED_TO_ADMINISTRATOR % values)
        return redirect("admin:casemgmt_membershipchange_changelist")

    def delete_model(self, request, obj):
        try:
            services.membership_remove(actor=request.user, membership=obj)
        except ValidationError as exc:
            _say(request, exc)

    def delete_queryset(self, request, queryset):
        for membership in queryset.select_related("user"):
            self.delete_model(request, membership)


@admin.register(MembershipChange)
class MembershipChangeAdmin(admin.ModelAdmin):
    """Every membership change, what it was and what it became. Pending ones that wait for an administrator
    are confirmed or rejected here, by an administrator other than the one who proposed them."""

    list_display = ["proposed_at", "user", "before", "after", "kind", "status", "waits_for", "proposed_by",
                    "decided_by", "decided_at"]
    list_filter = ["status", "kind"]
    search_fields = ["user__username"]
    list_select_related = ["user", "from_organisation", "to_organisation", "proposed_by", "decided_by"]
    fields = ["user", "from_organisation", "from_role", "from_province", "to_organisation", "to_role", "to_province",
              "kind", "status", "proposed_by", "proposed_at", "decided_by", "decided_at"]
    readonly_fields = fields
    actions = ["confirm", "reject", "cancel"]

    def has_add_permission(self, request):
        return False  # propose under Memberships

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("before"))
    def before(self, obj):
        return obj.before_label()

    @admin.display(description=_("after"))
    def after(self, obj):
        return obj.after_label()

    @admin.display(description=_("waits for"))
    def waits_for(self, obj):
        return who_confirms(obj) if obj.status == MembershipChangeStatus.PENDING else "—"

    @admin.action(description=_("Confirm the selected changes"), permissions=["view"])
    def confirm(self, request, queryset):
        done = self._decide(request, queryset, lambda change: services.membership_change_decide(
            actor=request.user, change_id=change.pk, confirm=True))
        if done:
            messages.success(request, ngettext("Confirmed: %(count)d change.", "Confirmed: %(count)d changes.",
                                               done) % {"count": done})

    @admin.action(description=_("Reject the selected changes"), permissions=["view"])
    def reject(self, request, queryset):
        done = self._decide(request, queryset, lambda change: services.membership_change_decide(
            actor=request.user, change_id=change.pk, confirm=False))
        if done:
            messages.success(request, ngettext("Rejected: %(count)d change.", "Rejected: %(count)d changes.",
                                               done) % {"count": done})

    @admin.action(description=_("Cancel the selected proposals"), permissions=["view"])
    def cancel(self, request, queryset):
        done = self._decide(request, queryset, lambda change: services.membership_change_cancel(
            actor=request.user, change_id=change.pk))
        if done:
            messages.success(request, ngettext("Cancelled: %(count)d change.", "Cancelled: %(count)d changes.",
                                               done) % {"count": done})

    def _decide(self, request, queryset, decide) -> int:
        done = 0
        for change in queryset.select_related("user"):
            try:
                decide(change)
            except ValidationError as exc:
                _say(request, exc, f"{change.user}: ")
            else:
                done += 1
        return done


admin.site.unregister(User)
admin.site.unregister(Group)  # roles and staff groups are kept in step by memberships, not by hand
admin.site.unregister(TOTPDevice)  # django-otp's shows each key and its QR code: a copy of the second factor


@admin.register(TOTPDevice)
class SecondFactorDeviceAdmin(admin.ModelAdmin):
    """Who has enrolled an authenticator, and when. Never the key; a reset is the account's action."""

    list_display = ["user", "name", "confirmed", "created_at", "last_used_at"]
    list_filter = ["confirmed"]
    search_fields = ["user__username"]
    list_select_related = ["user"]
    fields = ["user", "name", "confirmed", "created_at", "last_used_at"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(User)
class AccountAdmin(UserAdmin):
    form = AccountChangeForm
    add_form = AccountCreationForm
    list_display = ["username", "first_name", "last_name", "is_active", "last_login", "role", "organisation"]
    list_filter = ["is_active", "membership__role", "membership__organisation"]
    list_select_related = ["membership__organisation"]
    inlines = [MembershipInline]
    actions = ["deactivate", "reset_second_factor"]
    # No superuser, staff, group or permission editing: access follows the membership's role.
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "email")}),
        (_("Status"), {"fields": ("is_active", "last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "usable_password", "password1", "password2")}),
    )
    readonly_fields = ["last_login", "date_joined"]

    @admin.display(description=_("role"))
    def role(self, obj):
        membership = getattr(obj, "membership", None)
        if membership is None:
            return "—"
        if membership.suspended:
            return _("%(role)s (waiting for confirmation again)") % {"role": membership.get_role_display()}
        return membership.get_role_display()

    @admin.display(description=_("organisation"))
    def organisation(self, obj):
        membership = getattr(obj, "membership", None)
        return membership.organisation if membership else "—"

    def has_delete_permission(self, request, obj=None):
        return False  # deactivate instead: the audit trail keeps naming the account

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.pk == request.user.pk:
            readonly.append("is_active")  # nobody deactivates themselves
        return readonly

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        audit.record(
            action=AuditAction.CHANGE if change else AuditAction.CREATE,
            object_type="auth.user",
            object_id=obj.pk,
            fields=[name for name in form.changed_data if name not in {"password1", "password2"}],
        )
        if change and "is_active" in form.changed_data and not obj.is_active:
            services.user_sessions_end(user=obj)

    @sensitive_post_parameters_m
    @csrf_protect_m
    def user_change_password(self, request, id, form_url=""):
        user = self.get_object(request, unquote(id))
        if user is not None and user.pk == request.user.pk:
            try:
                services.refuse_own(actor=request.user, user=user, what="own password",
                                    message=services.ERROR_OWN_PASSWORD)
            except ValidationError as exc:
                _say(request, exc)
            return redirect("admin:auth_user_change", user.pk)
        with transaction.atomic():
            response = super().user_change_password(request, id, form_url)
            if request.method == "POST" and response.status_code == 302 and user is not None:
                services.user_password_set(actor=request.user, user=user)
                self._say_suspended(request, user)
        return response

    @admin.action(description=_("Deactivate the selected accounts"))
    def deactivate(self, request, queryset):
        count = 0
        for user in queryset:
            try:
                services.user_deactivate(actor=request.user, user=user)
            except ValidationError as exc:
                _say(request, exc)
            else:
                count += 1
        if count:
            messages.success(request, _("The accounts were deactivated."))

    @admin.action(description=_("Reset two-factor authentication"))
    def reset_second_factor(self, request, queryset):
        count = 0
        for user in queryset:
            try:
                services.user_reset_second_factor(actor=request.user, user=user)
            except ValidationError as exc:
                _say(request, exc)
                continue
            count += 1
            self._say_suspended(request, user)
        if count:
            messages.success(
                request,
                ngettext(
                    "Two-factor authentication was reset for %(count)d account: it enrols again at its next sign-in.",
                    "Two-factor authentication was reset for %(count)d accounts: they enrol again at their next "
                    "sign-in.",
                    count,
                )
                % {"count": count},
            )

    def _say_suspended(self, request, user):
        change = MembershipChange.objects.filter(user=user, status=MembershipChangeStatus.PENDING).first()
        if change is not None and change.kind != MembershipChangeKind.PROPOSAL:
            messages.warning(request, MESSAGE_SUSPENDED % {"user": user, "who": who_confirms(change)})
