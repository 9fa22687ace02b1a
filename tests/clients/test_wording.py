"""Case-file wording a new user reads: each role's empty caseload, the client's header."""

from __future__ import annotations

import pytest
from django.urls import reverse

from casemgmt.roles import Role
from tests.clients.helpers import detail_url, make_client
from tests.conftest import sign_in
from tests.factories import member

pytestmark = pytest.mark.django_db

COUNSELLOR_EMPTY = ("No clients match. Clients you register, or that your centre manager assigns to you, appear "
                    "here with their UIC and initials.")
MANAGER_EMPTY = ("No clients match. Every client registered at your centre, or transferred to it, appears here "
                 "with their UIC, initials and counsellor.")


def test_a_managers_empty_caseload_speaks_of_the_centre(client, mona):
    sign_in(client, mona)
    html = client.get(reverse("clients:caseload")).content.decode()
    assert MANAGER_EMPTY in html
    assert "your centre manager assigns to you" not in html


def test_a_counsellors_empty_caseload_speaks_of_their_own(client, alice):
    sign_in(client, alice)
    assert COUNSELLOR_EMPTY in client.get(reverse("clients:caseload")).content.decode()


def test_the_client_header_names_the_counsellor_once(client, mona, centre_a):
    # The demo's counsellor account is called "counsellor": the header read "counsellor counsellor".
    counsellor = member("counsellor", Role.COUNSELLOR, centre_a)
    counsellor.first_name, counsellor.last_name = "Sophea", "Demo"
    counsellor.save()
    case = make_client(actor=counsellor, organisation=centre_a, n=1)
    sign_in(client, mona)
    html = client.get(detail_url(case)).content.decode()
    lead = html.split('<p class="lead">')[1].split("</p>")[0]
    assert lead.endswith(" · Counsellor: Sophea Demo (counsellor)")
    assert "counsellor counsellor" not in lead


def test_a_counsellor_without_a_name_is_shown_by_account(client, mona, alice, centre_a):
    alice.first_name = alice.last_name = ""
    alice.save()
    case = make_client(actor=alice, organisation=centre_a, n=2)
    sign_in(client, mona)
    lead = client.get(detail_url(case)).content.decode().split('<p class="lead">')[1].split("</p>")[0]
    assert lead.endswith(" · Counsellor: alice")
