"""Administration for system administrators: accounts, organisations, memberships, 2FA.

No client data model is registered here, ever (a test holds that), and the
system administrator role holds no permission on client data.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from casemgmt import audit, locks, services
from casemgmt.models import AuditAction, Membership, Organisation

User = get_user_model()


# The admin checks a form and saves it in one transaction. Each form below takes the lock of its uniqueness
# rule before the check, so a second form sent at the same instant waits for the first to commit, then reads
# the message it would read a moment later (not a server error, not a second row).


class OrganisationForm(forms.ModelForm):
    def clean_name(self):
        locks.hold(locks.ORGANISATION_NAME, self.cleaned_data["name"])
        return self.cleaned_data["name"]


class MembershipForm(forms.ModelForm):
    def clean_user(self):
        user = self.cleaned_data["user"]
        locks.hold(locks.MEMBERSHIP_USER, user.pk)
        return user


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
    fields = ["organisation", "role"]

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
            services.organisation_update(organisation=obj, changed=list(form.changed_data))
        else:
            created = services.organisation_create(
                name=obj.name, kind=obj.kind, province=obj.province, active=obj.active
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
            services.organisation_update(organisation=organisation, changed=["active"])
        messages.success(request, _("The organisations were deactivated; their staff can no longer sign in."))


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    form = MembershipForm
    list_display = ["user", "organisation", "role"]
    list_filter = ["role", "organisation__kind"]
    search_fields = ["user__username", "organisation__name"]
    autocomplete_fields = ["user", "organisation"]
    fields = ["user", "organisation", "role"]

    def save_model(self, request, obj, form, change):
        membership = services.membership_set(user=obj.user, organisation=obj.organisation, role=obj.role)
        obj.pk = membership.pk
        obj._state.adding = False

    def delete_model(self, request, obj):
        services.membership_remove(membership=obj)

    def delete_queryset(self, request, queryset):
        for membership in queryset:
            services.membership_remove(membership=membership)


admin.site.unregister(User)
admin.site.unregister(Group)  # roles and staff groups are kept in step by memberships, not by hand


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
        return membership.get_role_display() if membership else "—"

    @admin.display(description=_("organisation"))
    def organisation(self, obj):
        membership = getattr(obj, "membership", None)
        return membership.organisation if membership else "—"

    def has_delete_permission(self, request, obj=None):
        return False  # deactivate instead: the audit trail keeps naming the account

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        audit.record(
            action=AuditAction.CHANGE if change else AuditAction.CREATE,
            object_type="auth.user",
            object_id=obj.pk,
            fields=[name for name in form.changed_data if name not in {"password1", "password2"}],
        )

    @admin.action(description=_("Deactivate the selected accounts"))
    def deactivate(self, request, queryset):
        for user in queryset:
            services.user_deactivate(user=user)
        messages.success(request, _("The accounts were deactivated."))

    @admin.action(description=_("Reset two-factor authentication"))
    def reset_second_factor(self, request, queryset):
        count = 0
        for user in queryset:
            services.user_reset_second_factor(user=user)
            count += 1
        messages.success(
            request,
            ngettext(
                "Two-factor authentication was reset for %(count)d account: it enrols again at its next sign-in.",
                "Two-factor authentication was reset for %(count)d accounts: they enrol again at their next sign-in.",
                count,
            )
            % {"count": count},
        )
