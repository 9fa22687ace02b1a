"""The synthetic demo clients of ``make run`` (manage.py seed_demo_clients), as the demo accounts find them."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.urls import reverse

from clients.models import Client
from clients.selectors import has_active_treatment_consent
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

CENTRE, PRISON = "Demo Treatment Centre Phnom Penh", "Demo Prison Health Unit Kandal"


@pytest.fixture
def demo(settings, tmp_path):
    """The demo organisations and accounts (manage.py seed_demo), credentials kept in this test's directory."""
    settings.VAR_DIR = tmp_path
    call_command("seed_demo", stdout=io.StringIO())
    return {user.username: user for user in get_user_model().objects.all()}


def seed_demo_clients() -> str:
    out = io.StringIO()
    call_command("seed_demo_clients", stdout=out)
    return out.getvalue()


def caseload(client, user) -> list:
    sign_in(client, user)
    response = client.get(reverse("clients:caseload"))
    assert response.status_code == 200
    return list(response.context["page"].object_list)


def releases(client, user) -> list:
    sign_in(client, user)
    response = client.get(reverse("clients:releases"))
    assert response.status_code == 200
    return list(response.context["episodes"])


def test_it_registers_fourteen_clients_that_the_demo_accounts_find_on_their_pages(client, demo):
    assert seed_demo_clients() == "Registered 14 synthetic demo clients.\n"

    assert len(caseload(client, demo["counsellor"])) == 10
    assert len(caseload(client, demo["manager"])) == 10
    assert len(caseload(client, demo["prison.counsellor"])) == 4
    # In custody, expected out in 2, 3, 4 and 5 weeks: three releases in the next 30 days.
    assert len(releases(client, demo["prison.counsellor"])) == 3
    assert caseload(client, demo["counsellor.battambang"]) == []


def test_every_demo_client_is_ready_for_a_screening_and_has_one(client, demo):
    seed_demo_clients()

    sign_in(client, demo["counsellor"])
    for case in Client.objects.filter(organisation__name=CENTRE):
        page = client.get(reverse("clients:detail", args=[case.pk])).content.decode()
        assert "No active consent to treatment" not in page
        assert reverse("clients:screening_add", args=[case.pk]) in page
        screening = case.screenings.get()
        assert reverse("clients:screening", args=[case.pk, screening.pk]) in page
    for case in Client.objects.all():
        assert has_active_treatment_consent(case)
        assert case.screenings.count() == 1
        assert case.risk_level != ""
    in_prison = Client.objects.filter(organisation__name=PRISON)
    assert [c.custody_episodes.filter(facility__name=PRISON, released_on=None).count() for c in in_prison] == [1] * 4


def test_the_demo_clients_are_obviously_synthetic(demo):
    seed_demo_clients()

    clients = list(Client.objects.all())
    assert len(clients) == 14
    assert all(c.family_name.startswith("Demo-") and c.village == "Demo village" for c in clients)
    assert {c.counsellor.username for c in clients} == {"counsellor", "prison.counsellor"}


def test_a_second_run_registers_no_one(demo):
    seed_demo_clients()
    ids = set(Client.objects.values_list("pk", flat=True))

    assert seed_demo_clients() == "Demo clients exist already.\n"

    assert set(Client.objects.values_list("pk", flat=True)) == ids


def test_before_seed_demo_it_says_to_run_seed_demo_first(db):
    with pytest.raises(CommandError) as refused:
        seed_demo_clients()

    assert str(refused.value) == "Run `manage.py seed_demo` first."
    assert not Client.objects.exists()


def test_it_refuses_to_run_outside_development(settings, demo):
    settings.DEVELOPMENT = False

    with pytest.raises(CommandError, match="only with CASEMGMT_DEVELOPMENT=1"):
        seed_demo_clients()

    assert not Client.objects.exists()
