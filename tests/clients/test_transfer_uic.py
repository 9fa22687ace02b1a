"""The transfers list says which client a transfer is about (its UIC), only to those who may open the record."""

from __future__ import annotations

import pytest
from django.urls import reverse

from casemgmt import crypto
from casemgmt.models import AuditEvent
from clients.models import Transfer
from tests.clients.helpers import detail_url, give_consent, make_client, person, register
from tests.clients.test_transfer import TRANSFERS, transfer_row, transfers_page
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

NOT_YET = "Shown once completed"


@pytest.fixture
def case(alice, centre_a):
    case = make_client(actor=alice, organisation=centre_a, n=1)
    give_consent(case, actor=alice)
    return case


@pytest.fixture
def request_from_b(client, bob, case):
    """Bob, at centre B, registers the same person, gets the duplicate page and asks for the record."""
    sign_in(client, bob)
    token = register(client, **person(1)).context["elsewhere"]
    client.post(reverse("clients:transfer_request"), {"token": token})
    return Transfer.objects.get(client=case)


def test_the_holding_centre_sees_which_of_its_clients_a_request_is_about(client, mona, alice, case, request_from_b):
    for user in (mona, alice):  # the manager, and the counsellor whose client it is
        row = transfer_row(transfers_page(client, user), request_from_b)
        assert f'<a href="{detail_url(case)}"><code>{case.uic}</code></a>' in row
        assert case.family_name not in row and case.given_name not in row  # the UIC, never the name
    event = AuditEvent.objects.filter(actor_username="alice", object_type="clients.transfers").latest("seq")
    assert (event.action, event.fields) == ("view", ["uic"])


def test_the_requesting_centre_learns_no_uic_from_its_request(client, bob, nina, case, request_from_b):
    for user in (bob, nina):
        html = transfers_page(client, user)
        assert case.uic not in html and detail_url(case) not in html
        assert NOT_YET in transfer_row(html, request_from_b)


def test_a_colleagues_client_stays_unnamed_for_a_counsellor_at_the_holding_centre(client, carol, case,
                                                                                 request_from_b):
    html = transfers_page(client, carol)  # a counsellor of centre A; the client is on alice's caseload
    assert case.uic not in html


def test_the_requesting_centre_sees_the_uic_once_the_transfer_completed(client, mona, nina, bob, case,
                                                                         request_from_b):
    sign_in(client, mona)
    client.post(reverse("clients:transfer_decide", args=[request_from_b.pk]), {"decision": "accept"})
    row = transfer_row(transfers_page(client, nina), request_from_b)
    assert f"<code>{case.uic}</code>" in row and NOT_YET not in row
    # The old centre lost the record at once: its list no longer names it.
    assert case.uic not in transfers_page(client, mona)


def test_a_declined_request_never_names_the_client_to_the_requester(client, mona, bob, case, request_from_b):
    sign_in(client, mona)
    client.post(reverse("clients:transfer_decide", args=[request_from_b.pk]), {"decision": "decline"})
    html = transfers_page(client, bob)
    assert "Declined" in transfer_row(html, request_from_b)
    assert case.uic not in html
    assert case.uic in transfers_page(client, mona)  # still the holder's client


def test_the_transfers_page_runs_a_fixed_number_of_queries(client, mona, case, request_from_b,
                                                           django_assert_max_num_queries):
    sign_in(client, mona)
    client.get(TRANSFERS)  # the first request of a session does some one-off bookkeeping
    crypto.data_key_cache.clear()
    # Session, user, device, transfers, the visible clients' UICs, their data keys, the audit append (five).
    with django_assert_max_num_queries(11):
        response = client.get(TRANSFERS)
    assert case.uic in response.content.decode()
