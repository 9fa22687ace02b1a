"""Administration: system administrators manage accounts and organisations, never client data."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from casemgmt.models import AuditEvent, Membership, Organisation
from casemgmt.roles import Role
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

CLIENT_DATA_APPS = {"clients", "referrals", "cryptotest"}
# The models of those apps that hold no client data: the partner service directory, the consent wordings.
DIRECTORY = "referrals.partnerservice"
WORDINGS = "clients.consentwording"


def test_no_client_data_model_is_registered_in_the_admin():
    registered = {model._meta.app_label + "." + model._meta.model_name for model in admin.site._registry}
    assert {name for name in registered if name.split(".")[0] in CLIENT_DATA_APPS} == {DIRECTORY, WORDINGS}
    assert "casemgmt.datakey" not in registered
    assert "casemgmt.auditevent" not in registered


def test_system_administrator_role_holds_no_permission_on_client_data():
    group = Group.objects.get(name=Role.SYSTEM_ADMINISTRATOR)
    labels = set(group.permissions.values_list("content_type__app_label", flat=True))
    assert labels <= {"auth", "casemgmt", "otp_totp", "axes", "referrals", "clients"}
    assert not group.permissions.filter(content_type__model__in=["datakey", "auditevent"]).exists()
    # And no other role holds model permissions at all: their access is object-level, by grant.
    for role in Role.values:
        if role != Role.SYSTEM_ADMINISTRATOR:
            assert not Group.objects.get(name=role).permissions.exists()
    client_models = [m for m in apps.get_models() if m._meta.app_label in CLIENT_DATA_APPS]
    assert not Permission.objects.filter(group__name=Role.SYSTEM_ADMINISTRATOR,
                                         content_type__app_label__in=CLIENT_DATA_APPS).exclude(
        content_type__app_label="referrals", content_type__model="partnerservice").exclude(
        content_type__app_label="clients", content_type__model="consentwording").exists()
    assert client_models  # the test app stands in for client data until the client model exists


def test_admin_creates_an_organisation_with_its_staff_group_and_audits_it(client, sam):
    sign_in(client, sam)
    response = client.post(reverse("admin:casemgmt_organisation_add"),
                           {"name": "New Centre (test)", "kind": "treatment_centre", "province": "KH-17",
                            "active": "on"})
    assert response.status_code == 302
    organisation = Organisation.objects.get(name="New Centre (test)")
    assert organisation.staff_group.name == f"org:{organisation.pk}"
    assert AuditEvent.objects.filter(action="create", object_id=str(organisation.pk), actor_username="sam").exists()


def test_admin_proposes_a_membership_and_the_groups_follow_once_a_manager_confirms(
        client, sam, mona, nina, centre_a, centre_b):
    from casemgmt.models import MembershipChange
    from tests.factories import UserFactory

    user = UserFactory(username="newcomer")
    sign_in(client, sam)
    response = client.post(reverse("admin:casemgmt_membership_add"),
                           {"user": user.pk, "organisation": centre_a.pk, "role": Role.COUNSELLOR})
    assert response.status_code == 302
    # A role with client data waits for a centre manager of the centre: until then, nothing.
    change = MembershipChange.objects.get(user=user, status="pending")
    assert not user.groups.exists()
    assert not Membership.objects.filter(user=user).exists()
    manager = client.__class__()
    sign_in(manager, mona)
    assert manager.post(reverse("staff_change_decide", args=[change.pk]), {"decision": "confirm"}).status_code == 302
    assert set(user.groups.values_list("name", flat=True)) == {Role.COUNSELLOR, centre_a.staff_group.name}

    membership = Membership.objects.get(user=user)
    response = client.post(reverse("admin:casemgmt_membership_change", args=[membership.pk]),
                           {"organisation": centre_b.pk, "role": Role.CENTRE_MANAGER})
    assert response.status_code == 302
    assert set(user.groups.values_list("name", flat=True)) == {Role.COUNSELLOR, centre_a.staff_group.name}
    change = MembershipChange.objects.get(user=user, status="pending")
    sign_in(manager, nina)
    assert manager.post(reverse("staff_change_decide", args=[change.pk]), {"decision": "confirm"}).status_code == 302
    assert set(user.groups.values_list("name", flat=True)) == {Role.CENTRE_MANAGER, centre_b.staff_group.name}


def test_a_role_must_fit_the_organisation_kind(client, sam, partner):
    from tests.factories import UserFactory

    user = UserFactory(username="misfit")
    sign_in(client, sam)
    response = client.post(reverse("admin:casemgmt_membership_add"),
                           {"user": user.pk, "organisation": partner.pk, "role": Role.COUNSELLOR})
    assert response.status_code == 200
    assert "A Counsellor cannot belong to a NGO partner." in response.content.decode()
    assert not Membership.objects.filter(user=user).exists()


def test_reset_second_factor_removes_devices_and_is_audited(client, sam, alice):
    sign_in(client, sam)
    response = client.post(reverse("admin:auth_user_changelist"),
                           {"action": "reset_second_factor", "_selected_action": [alice.pk]})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=alice).exists()
    assert AuditEvent.objects.filter(action="otp_reset", object_id=str(alice.pk)).exists()


def test_deactivate_account_blocks_signin(client, sam, alice):
    sign_in(client, sam)
    client.post(reverse("admin:auth_user_changelist"), {"action": "deactivate", "_selected_action": [alice.pk]})
    alice.refresh_from_db()
    assert not alice.is_active
    other = client.__class__()
    sign_in(other, alice)
    assert other.get(reverse("home")).status_code == 302


def test_admin_cannot_make_anyone_a_superuser(client, sam, alice):
    sign_in(client, sam)
    response = client.get(reverse("admin:auth_user_change", args=[alice.pk]))
    assert b'name="is_superuser"' not in response.content
    assert b'name="groups"' not in response.content
    assert b'name="user_permissions"' not in response.content


def test_admin_needs_the_second_factor(client, sam):
    sign_in(client, sam, verified=False)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("otp_verify"))
