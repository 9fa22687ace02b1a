"""No lost write, no replayed value, on the case file (security issue, findings 2 and 4).

Two people editing the same client: the second save from a stale page shows a conflict page with their
unsaved values beside the current ones, and nothing is overwritten. State changes (transfers) go through the
locked transition: of two decisions at once exactly one applies.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections
from django.urls import reverse

from casemgmt.models import AuditAction, AuditEvent
from casemgmt.transitions import ERROR_STATE_CHANGED, TransitionRefused
from casemgmt.versioning import Conflict
from clients import services
from clients.models import Client, Transfer, TransferStatus
from tests.clients.helpers import detail_url, give_consent, make_client, person
from tests.conftest import sign_in
from tests.factories import member

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(alice, centre_a):
    case = make_client(actor=alice, organisation=centre_a, n=1)
    give_consent(case, actor=alice)
    return Client.objects.get(pk=case.pk)


def identity_form(client, case) -> dict:
    """The edit form as the page gives it: every field with its current value, and the version."""
    response = client.get(reverse("clients:edit_identity", args=[case.pk]))
    form = response.context["form"]
    data = {name: form[name].value() for name in form.fields}
    data = {k: ("" if v is None else v) for k, v in data.items()}
    data["date_of_birth"] = str(data["date_of_birth"])
    return data


def test_a_second_save_from_a_stale_form_shows_both_versions_and_overwrites_nothing(client, alice, mona, case):
    from django.test import Client as Browser

    alices = sign_in(client, alice)
    monas = sign_in(Browser(), mona)
    alice_form, mona_form = identity_form(alices, case), identity_form(monas, case)

    assert alices.post(reverse("clients:edit_identity", args=[case.pk]),
                       {**alice_form, "village": "Alice's village"}).status_code == 302
    response = monas.post(reverse("clients:edit_identity", args=[case.pk]),
                          {**mona_form, "village": "Mona's village", "phone": "012 999 888"})

    assert response.status_code == 409
    html = response.content.decode()
    assert "Saved by someone else meanwhile" in html
    rows = response.context["conflict"]["rows"]
    village = next(row for row in rows if row["label"] == "Village")
    assert (village["yours"], village["current"], village["differs"]) == ("Mona's village", "Alice's village", True)
    assert 'value="Mona\'s village"' in html or 'value="Mona&#x27;s village"' in html  # her typing is kept
    fresh = Client.objects.get(pk=case.pk)
    assert (fresh.village, fresh.phone) == ("Alice's village", "097 001 007")  # nothing of Mona's written

    # Saving the conflict page's form is Mona's deliberate choice, now made against the current version.
    resubmit = {**mona_form, "village": "Mona's village", "phone": "012 999 888",
                "version": str(response.context["form"].data["version"])}
    assert monas.post(reverse("clients:edit_identity", args=[case.pk]), resubmit).status_code == 302
    assert Client.objects.get(pk=case.pk).village == "Mona's village"


def test_the_service_refuses_a_stale_version(alice, case):
    stale = case.version
    services.client_update_identity(actor=alice, client=Client.objects.get(pk=case.pk),
                                    identity={"village": "First"}, expected_version=stale)
    with pytest.raises(Conflict):
        services.client_update_identity(actor=alice, client=Client.objects.get(pk=case.pk),
                                        identity={"village": "Second"}, expected_version=stale)
    assert Client.objects.get(pk=case.pk).village == "First"


def test_a_name_written_back_from_before_a_change_is_a_damaged_record_not_the_old_name(client, alice, case):
    """The issue's finding: the earlier ciphertext of the name, put back, was shown as current."""
    def raw_name():
        with connection.cursor() as cursor:
            cursor.execute("SELECT given_name FROM clients_client WHERE id = %s",
                           [case.pk.hex if connection.vendor == "sqlite" else case.pk])
            return bytes(cursor.fetchone()[0])

    old = raw_name()
    services.client_update_identity(actor=alice, client=Client.objects.get(pk=case.pk),
                                    identity={"given_name": "Renamedgiven"})
    with connection.cursor() as cursor:
        cursor.execute("UPDATE clients_client SET given_name = %s WHERE id = %s",
                       [old, case.pk.hex if connection.vendor == "sqlite" else case.pk])

    sign_in(client, alice)
    html = client.get(detail_url(case)).content.decode()
    assert "Testgiven001" not in html and "Renamedgiven" not in html
    assert "damaged" in html.lower()
    assert AuditEvent.objects.filter(action=AuditAction.RECORD_DAMAGED, object_id=str(case.pk),
                                     fields=["given_name"]).exists()


@pytest.fixture
def request_from_b(bob, case):
    return services.transfer_request_create(actor=bob, client=case)


def test_a_decision_from_a_stale_page_loses_cleanly(client, mona, request_from_b):
    sign_in(client, mona)
    url = reverse("clients:transfer_decide", args=[request_from_b.pk])
    client.post(url, {"decision": "decline"})
    response = client.post(url, {"decision": "accept"}, follow=True)  # the same page, still open
    assert response.status_code == 404 or "already changed by someone else" in response.content.decode()
    assert Transfer.objects.get(pk=request_from_b.pk).status == TransferStatus.DECLINED
    assert Client.objects.get(pk=request_from_b.client_id).organisation == request_from_b.from_organisation


def test_a_transfer_decided_meanwhile_is_refused_by_the_service(mona, request_from_b):
    services.transfer_decide(actor=mona, transfer=Transfer.objects.get(pk=request_from_b.pk), accept=False)
    with pytest.raises(TransitionRefused) as refused:
        services.transfer_decide(actor=mona, transfer=request_from_b, accept=True)
    assert refused.value.message == str(ERROR_STATE_CHANGED % {"state": "Declined"})


def test_an_accepted_request_puts_the_record_on_the_requesting_counsellors_caseload(client, bob, mona, case,
                                                                                  request_from_b):
    services.transfer_decide(actor=mona, transfer=request_from_b, accept=True)
    sign_in(client, bob)
    assert client.get(detail_url(case)).status_code == 200
    found = client.get(reverse("clients:search"), {"kind": "uic", "value": case.uic}).content.decode()
    assert detail_url(case) in found


def test_a_request_by_a_manager_leaves_the_record_to_the_centre_until_assigned(client, bob, nina, mona, case):
    transfer = services.transfer_request_create(actor=nina, client=case)
    services.transfer_decide(actor=mona, transfer=transfer, accept=True)
    assert Client.objects.get(pk=case.pk).counsellor is None
    assert client.get(detail_url(case)).status_code == 302  # (signed out)
    sign_in(client, nina)
    assert client.get(detail_url(case)).status_code == 200
    client.logout()
    sign_in(client, bob)
    assert client.get(detail_url(case)).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_two_managers_deciding_at_once_leave_exactly_one_decision(postgresql_only, alice, mona, bob, centre_a):
    second_manager = member("mona2", "centre_manager", centre_a)
    case = make_client(actor=alice, organisation=centre_a, **person(7))
    transfer = services.transfer_request_create(actor=bob, client=case)
    barrier = threading.Barrier(2)
    outcomes = []

    def decide(actor, accept: bool) -> None:
        try:
            stale = Transfer.objects.get(pk=transfer.pk)
            barrier.wait(timeout=10)
            services.transfer_decide(actor=actor, transfer=stale, accept=accept)
            outcomes.append(("applied", accept))
        except TransitionRefused:
            outcomes.append(("refused", accept))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=decide, args=args) for args in ((mona, True), (second_manager, False))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(kind for kind, _ in outcomes) == ["applied", "refused"]
    accepted = next(accept for kind, accept in outcomes if kind == "applied")
    fresh = Transfer.objects.get(pk=transfer.pk)
    assert fresh.status == (TransferStatus.COMPLETED if accepted else TransferStatus.DECLINED)
    assert Client.objects.get(pk=case.pk).organisation_id == (transfer.to_organisation_id if accepted
                                                               else centre_a.pk)


@pytest.mark.django_db(transaction=True)
def test_two_people_saving_the_same_client_at_once_lose_no_write(postgresql_only, alice, mona, centre_a):
    case = make_client(actor=alice, organisation=centre_a, **person(8))
    version = Client.objects.get(pk=case.pk).version
    barrier = threading.Barrier(2)
    outcomes = []

    def edit(actor, village: str) -> None:
        try:
            loaded = Client.objects.get(pk=case.pk)
            barrier.wait(timeout=10)
            services.client_update_identity(actor=actor, client=loaded, identity={"village": village},
                                            expected_version=version)
            outcomes.append(("saved", village))
        except Conflict:
            outcomes.append(("conflict", village))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=edit, args=args) for args in ((alice, "One"), (mona, "Two"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(kind for kind, _ in outcomes) == ["conflict", "saved"]
    winner = next(village for kind, village in outcomes if kind == "saved")
    fresh = Client.objects.get(pk=case.pk)
    assert (fresh.village, fresh.version) == (winner, version + 1)


def test_a_form_without_a_conflict_page_says_so_on_the_form(client, mona, alice, case,
                                                                                      monkeypatch):
    """Assignment, revocation, screening: a save that meets someone else's is refused on the form, not a 500."""
    from casemgmt.versioning import ERROR_CONFLICT


    def someone_else_saved_meanwhile(**kwargs):
        from casemgmt.versioning import Conflict

        raise Conflict(Client, case.pk)

    monkeypatch.setattr(services, "client_assign", someone_else_saved_meanwhile)
    sign_in(client, mona)
    response = client.post(reverse("clients:assign", args=[case.pk]), {"counsellor": alice.pk})
    assert response.status_code == 200
    assert str(ERROR_CONFLICT) in response.content.decode()
