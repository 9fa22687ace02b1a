"""Transfers: the old centre loses access at once; requests from the duplicate page; the holder's manager decides."""

from __future__ import annotations

import pytest
from django.urls import reverse

from casemgmt.models import AuditEvent
from clients.models import (
    Client,
    Transfer,
    TransferStatus,
)
from clients.views import MESSAGE_TRANSFER_REQUESTED
from tests.clients.helpers import detail_url, give_consent, grants, make_client, person, register
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

TRANSFERS = reverse("clients:transfers")


@pytest.fixture
def case(alice, centre_a):
    case = make_client(actor=alice, organisation=centre_a, n=1)
    give_consent(case, actor=alice)
    return case


def status_of(client, user, url) -> int:
    client.logout()
    sign_in(client, user)
    return client.get(url).status_code


def staff(org) -> str:
    return org.staff_group.name


def transfers_page(client, user) -> str:
    client.logout()
    sign_in(client, user)
    return client.get(TRANSFERS).content.decode()


def transfer_row(html: str, transfer: Transfer) -> str:
    """The transfers table row of ``transfer`` (each test has one transfer per destination)."""
    rows = html.split("<tr>")[2:]
    mine = [r for r in rows if transfer.to_organisation.name in r]
    assert len(mine) == 1, html
    return mine[0]


# A transfer done by the holding centre's manager ------------------------------------------------

def test_a_transfer_revokes_the_old_centres_access_at_once(client, alice, mona, nina, case, centre_a, centre_b):
    assert grants(case) == {("alice", "view_client"), ("alice", "change_client"),
                            (staff(centre_a), "view_client"), (staff(centre_a), "change_client")}
    sign_in(client, mona)
    response = client.post(reverse("clients:transfer", args=[case.pk]),
                           {"to_organisation": str(centre_b.pk), "confirm": "on"})
    assert response.status_code == 302 and response.url == TRANSFERS
    assert "Your centre no longer has access." in client.get(TRANSFERS).content.decode()

    assert status_of(client, mona, detail_url(case)) == 404
    assert status_of(client, alice, detail_url(case)) == 404
    assert case.uic not in client.get(reverse("clients:caseload")).content.decode()
    assert status_of(client, nina, detail_url(case)) == 200
    detail = client.get(detail_url(case)).content.decode()
    assert "Treatment and data processing" in detail  # the consent moved with the record
    assert case.uic in client.get(reverse("clients:caseload")).content.decode()

    assert grants(case) == {(staff(centre_b), "view_client"), (staff(centre_b), "change_client")}
    case.refresh_from_db()
    assert (case.organisation, case.counsellor) == (centre_b, None)


def test_both_centres_list_a_completed_transfer_and_it_is_audited(client, mona, nina, case, centre_b):
    sign_in(client, mona)
    client.post(reverse("clients:transfer", args=[case.pk]), {"to_organisation": str(centre_b.pk), "confirm": "on"})
    transfer = Transfer.objects.get(client=case)
    assert transfer.status == TransferStatus.COMPLETED and transfer.decided_by == mona
    for user in (mona, nina):
        assert "Completed" in transfer_row(transfers_page(client, user), transfer)
    events = AuditEvent.objects.filter(client_id=case.pk, action="change", object_type="clients.client")
    assert [e.fields for e in events if "organisation" in e.fields] == [["counsellor", "organisation"]]


def test_a_transfer_needs_the_confirmation_and_a_care_organisation(client, mona, case, partner, centre_a):
    sign_in(client, mona)
    url = reverse("clients:transfer", args=[case.pk])
    response = client.post(url, {"to_organisation": str(partner.pk), "confirm": "on"})
    assert response.status_code == 200 and response.context["form"].errors["to_organisation"]
    response = client.post(url, {"to_organisation": str(centre_a.pk)})
    assert response.status_code == 200 and response.context["form"].errors["confirm"]
    case.refresh_from_db()
    assert case.organisation == centre_a
    assert Transfer.objects.count() == 0
    assert client.get(detail_url(case)).status_code == 200


def test_a_counsellor_cannot_transfer(client, alice, case, centre_b):
    sign_in(client, alice)
    response = client.post(reverse("clients:transfer", args=[case.pk]),
                           {"to_organisation": str(centre_b.pk), "confirm": "on"})
    assert response.status_code == 403
    assert Client.objects.get(pk=case.pk).organisation != centre_b


# A request from the duplicate page, decided by the holder's manager ------------------------------

@pytest.fixture
def request_token(client, bob, case):
    """Bob, at centre B, tries to register the same person and gets the duplicate page."""
    sign_in(client, bob)
    response = register(client, **person(1))
    token = response.context["elsewhere"]
    return token


def test_a_request_from_the_duplicate_page_waits_for_the_holder(client, bob, alice, nina, case, centre_a, centre_b,
                                                                request_token):
    response = client.post(reverse("clients:transfer_request"), {"token": request_token})
    assert response.status_code == 302 and response.url == TRANSFERS
    assert str(MESSAGE_TRANSFER_REQUESTED) in client.get(TRANSFERS).content.decode()
    transfer = Transfer.objects.get(client=case)
    assert (transfer.status, transfer.from_organisation, transfer.to_organisation, transfer.requested_by) == (
        TransferStatus.REQUESTED, centre_a, centre_b, bob)
    # Asking gives nothing yet.
    assert client.get(detail_url(case)).status_code == 404
    assert status_of(client, nina, detail_url(case)) == 404
    # The holder sees that someone asked.
    assert status_of(client, alice, detail_url(case)) == 200
    assert "Another centre has asked for this record to be transferred" in client.get(detail_url(case)).content.decode()
    assert AuditEvent.objects.filter(action="create", object_type="clients.transfer", client_id=case.pk).exists()


def test_a_token_works_once_and_a_made_up_one_not_at_all(client, case, request_token):
    url = reverse("clients:transfer_request")
    assert client.post(url, {"token": "made-up"}).status_code == 404
    assert client.post(url, {"token": str(case.pk)}).status_code == 404  # the record id is not a token
    assert Transfer.objects.count() == 0
    assert client.post(url, {"token": request_token}).status_code == 302
    assert client.post(url, {"token": request_token}).status_code == 404
    assert Transfer.objects.count() == 1


def test_the_holding_manager_accepts_and_the_record_moves(client, bob, alice, mona, nina, case, centre_b,
                                                          request_token):
    client.post(reverse("clients:transfer_request"), {"token": request_token})
    transfer = Transfer.objects.get(client=case)
    bob_row = transfer_row(transfers_page(client, bob), transfer)
    assert "Requested, waiting for a decision" in bob_row and "Accept" not in bob_row

    mona_row = transfer_row(transfers_page(client, mona), transfer)
    assert reverse("clients:transfer_decide", args=[transfer.pk]) in mona_row and "Accept" in mona_row
    response = client.post(reverse("clients:transfer_decide", args=[transfer.pk]), {"decision": "accept"})
    assert response.status_code == 302
    assert "Transfer accepted: the record has moved." in client.get(TRANSFERS).content.decode()

    transfer.refresh_from_db()
    assert (transfer.status, transfer.decided_by) == (TransferStatus.COMPLETED, mona)
    assert status_of(client, mona, detail_url(case)) == 404
    assert status_of(client, alice, detail_url(case)) == 404
    assert status_of(client, nina, detail_url(case)) == 200
    # Bob asked for it: the record is on his caseload at once (he sees it and finds it), and his centre holds it.
    assert status_of(client, bob, detail_url(case)) == 200
    assert case.uic in client.get(reverse("clients:caseload")).content.decode()
    assert grants(case) == {(staff(centre_b), "view_client"), (staff(centre_b), "change_client"),
                            ("bob", "view_client"), ("bob", "change_client")}
    assert Client.objects.get(pk=case.pk).counsellor == bob
    assert "Completed" in transfer_row(transfers_page(client, bob), transfer)
    assert "Completed" in transfer_row(transfers_page(client, mona), transfer)
    assert AuditEvent.objects.filter(action="change", object_type="clients.client", client_id=case.pk,
                                     actor_username="mona").exists()


def test_the_holding_manager_declines_and_nothing_moves(client, bob, alice, mona, nina, case, centre_a,
                                                        request_token):
    client.post(reverse("clients:transfer_request"), {"token": request_token})
    transfer = Transfer.objects.get(client=case)
    sign_in(client, mona)
    client.post(reverse("clients:transfer_decide", args=[transfer.pk]), {"decision": "decline"})
    assert "Transfer request declined." in client.get(TRANSFERS).content.decode()

    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.DECLINED
    assert Client.objects.get(pk=case.pk).organisation == centre_a
    assert status_of(client, alice, detail_url(case)) == 200
    assert status_of(client, nina, detail_url(case)) == 404
    assert "Declined" in transfer_row(transfers_page(client, bob), transfer)
    assert AuditEvent.objects.filter(action="change", object_type="clients.transfer", object_id=str(transfer.pk),
                                     client_id=case.pk, fields=["status"]).exists()


@pytest.mark.parametrize("who", ["alice", "bob"])
def test_a_counsellor_cannot_decide(client, actors, case, request_token, who):
    client.post(reverse("clients:transfer_request"), {"token": request_token})
    transfer = Transfer.objects.get(client=case)
    html = transfers_page(client, actors[who])
    assert reverse("clients:transfer_decide", args=[transfer.pk]) not in html
    response = client.post(reverse("clients:transfer_decide", args=[transfer.pk]), {"decision": "accept"})
    assert response.status_code == 403
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.REQUESTED


def test_the_requesting_centres_manager_cannot_decide_its_own_request(client, nina, case, centre_a, request_token):
    client.post(reverse("clients:transfer_request"), {"token": request_token})
    transfer = Transfer.objects.get(client=case)
    sign_in(client, nina)
    response = client.post(reverse("clients:transfer_decide", args=[transfer.pk]), {"decision": "accept"})
    assert response.status_code == 404
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.REQUESTED
    assert Client.objects.get(pk=case.pk).organisation == centre_a


def test_a_decided_request_cannot_be_decided_again(client, mona, case, centre_a, request_token):
    client.post(reverse("clients:transfer_request"), {"token": request_token})
    transfer = Transfer.objects.get(client=case)
    sign_in(client, mona)
    client.post(reverse("clients:transfer_decide", args=[transfer.pk]), {"decision": "decline"})
    response = client.post(reverse("clients:transfer_decide", args=[transfer.pk]), {"decision": "accept"})
    assert response.status_code == 404
    assert Client.objects.get(pk=case.pk).organisation == centre_a


def test_a_direct_transfer_elsewhere_declines_a_pending_request(client, mona, nina, case, prison, centre_a,
                                                                 request_token):
    client.post(reverse("clients:transfer_request"), {"token": request_token})
    request = Transfer.objects.get(client=case)
    sign_in(client, mona)
    client.post(reverse("clients:transfer", args=[case.pk]), {"to_organisation": str(prison.pk), "confirm": "on"})
    request.refresh_from_db()
    assert request.status == TransferStatus.DECLINED
    assert Client.objects.get(pk=case.pk).organisation == prison
    assert "Declined" in transfer_row(transfers_page(client, nina), request)
    assert status_of(client, nina, detail_url(case)) == 404


def test_a_pending_request_does_not_tell_the_requester_where_the_record_is(client, bob, case, centre_a,
                                                                           request_token):
    client.post(reverse("clients:transfer_request"), {"token": request_token})
    html = transfers_page(client, bob)
    assert "Requested, waiting for a decision" in html
    assert centre_a.name not in html and str(centre_a.pk) not in html


def test_a_declined_request_does_not_tell_the_requester_where_the_record_is(client, bob, mona, case, centre_a,
                                                                            request_token):
    client.post(reverse("clients:transfer_request"), {"token": request_token})
    transfer = Transfer.objects.get(client=case)
    sign_in(client, mona)
    client.post(reverse("clients:transfer_decide", args=[transfer.pk]), {"decision": "decline"})
    html = transfers_page(client, bob)
    assert "Declined" in transfer_row(html, transfer)
    assert centre_a.name not in html
