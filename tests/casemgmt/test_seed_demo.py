"""The demo data: an account per role, and a manager at every centre and prison unit."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from casemgmt.models import Membership, Organisation
from casemgmt.roles import CARE_KINDS, Role
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(settings, tmp_path, capsys):
    settings.VAR_DIR = tmp_path
    call_command("seed_demo")
    return capsys.readouterr().out


def test_every_treatment_centre_and_prison_unit_has_a_manager(seeded):
    care = Organisation.objects.filter(kind__in=CARE_KINDS)
    assert care.count() == 3
    for organisation in care:
        managers = Membership.objects.filter(organisation=organisation, role=Role.CENTRE_MANAGER)
        assert managers.count() == 1, organisation.name
        assert managers.get().user.username in seeded  # printed with its password, like the others


def test_the_battambang_manager_can_sign_in_to_assign_its_clients(seeded):
    printed = {line.split()[0]: line.split() for line in seeded.splitlines() if line.startswith("  ")}
    assert printed["manager.battambang"][2] == Role.CENTRE_MANAGER
    assert printed["prison.manager"][2] == Role.CENTRE_MANAGER
    user = get_user_model().objects.get(username="manager.battambang")
    assert user.check_password(printed["manager.battambang"][1])
    assert user.membership.organisation.name == "Demo Treatment Centre Battambang"


def test_demo_accounts_have_a_name_and_not_their_role_as_last_name(seeded, client, sam):
    roles = set(Role.values) | {str(label) for label in Role.labels}
    for user in get_user_model().objects.filter(membership__organisation__name__startswith="Demo "):
        assert user.last_name not in roles and user.first_name not in roles, user.username
    sign_in(client, sam)
    html = client.get(reverse("admin:auth_user_changelist"), {"q": "counsellor"}).content.decode()
    assert '<td class="field-last_name">Demo</td>' in html
    assert '<td class="field-last_name">counsellor</td>' not in html


def test_an_account_made_by_an_older_seed_gets_its_name(settings, tmp_path, capsys):
    from tests.factories import UserFactory

    UserFactory(username="counsellor", first_name="Demo", last_name="counsellor")
    settings.VAR_DIR = tmp_path
    call_command("seed_demo")
    user = get_user_model().objects.get(username="counsellor")
    assert (user.first_name, user.last_name) == ("Sophea", "Demo")
