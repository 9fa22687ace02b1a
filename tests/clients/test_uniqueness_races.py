"""Uniqueness under races: two saves at the same instant, exactly one wins, the other reads the sequential message.

Each race runs two threads, each with its own database connection, released together. On PostgreSQL only:
SQLite's writers already take turns (IMMEDIATE transactions), so a race there proves nothing.
"""

from __future__ import annotations

import itertools
import re
from functools import partial
from unittest import mock

import pytest
from django import test
from django.test import override_settings
from django.utils.html import escape

from casemgmt import crypto
from clients import services
from clients.models import Client, Transfer, TransferStatus
from clients.services import ERROR_DUPLICATE_NATIONAL_ID
from tests.clients.helpers import make_client, person, register
from tests.conftest import sign_in
from tests.races import TRIES, in_background, race, winner_and_loser

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgresql_only")]


def holders_of(national_id: str) -> list[Client]:
    return Client.objects.blind_search("national_id_index", national_id)


def assert_refused_as_a_duplicate(error: BaseException | None) -> None:
    assert isinstance(error, services.ValidationError), repr(error)
    assert error.message_dict == {"national_id": [ERROR_DUPLICATE_NATIONAL_ID]}


def test_two_registrations_with_one_national_id_at_once_save_exactly_one(alice, bob, centre_a, centre_b):
    for attempt in range(TRIES):
        national_id = f"RACE-{attempt:03d}"
        outcomes = race(
            partial(make_client, actor=alice, organisation=centre_a, n=2 * attempt, national_id=national_id),
            partial(make_client, actor=bob, organisation=centre_b, n=2 * attempt + 1, national_id=national_id),
        )
        saved, refused = winner_and_loser(outcomes)
        assert_refused_as_a_duplicate(refused.error)
        assert holders_of(national_id) == [saved.value]
    assert Client.objects.count() == TRIES


def national_id_errors(html: str) -> list[str]:
    """The error lines shown under the national ID field of the page, as a user reads them."""
    block = re.search(r'<div class="field has-error">\s*<label for="id_national_id">.*?</div>', html, re.S)
    return re.findall(r'<p class="error-text" role="alert">(.*?)</p>', block.group(0)) if block else []


def test_two_register_forms_with_one_national_id_at_once_save_exactly_one(alice, bob):
    browsers = [sign_in(test.Client(), alice), sign_in(test.Client(), bob)]
    for attempt in range(TRIES):
        national_id = f"FORM-{attempt:03d}"
        first, second = (person(2 * attempt + k, national_id=national_id) for k in (0, 1))
        outcomes = race(partial(register, browsers[0], confirm=True, **first),
                        partial(register, browsers[1], confirm=True, **second))
        responses = [o.value for o in outcomes]
        assert all(o.error is None for o in outcomes), [o.error for o in outcomes]
        assert sorted(r.status_code for r in responses) == [200, 302]
        loser = next(r for r in responses if r.status_code == 200)
        # The page the loser reads is the one a registration made a moment later shows.
        assert national_id_errors(loser.content.decode()) == [escape(ERROR_DUPLICATE_NATIONAL_ID)]
        assert len(holders_of(national_id)) == 1
    later = register(browsers[0], confirm=True, **person(99, national_id="FORM-000"))
    assert national_id_errors(later.content.decode()) == [escape(ERROR_DUPLICATE_NATIONAL_ID)]
    assert Client.objects.count() == TRIES


def test_two_identity_edits_to_one_national_id_at_once_save_exactly_one(alice, mona, centre_a):
    for attempt in range(TRIES):
        national_id = f"EDIT-{attempt:03d}"
        one, other = (make_client(actor=alice, organisation=centre_a, n=2 * attempt + k, national_id=None)
                      for k in (0, 1))
        saved, refused = winner_and_loser(race(
            partial(services.client_update_identity, actor=alice, client=one, identity={"national_id": national_id}),
            partial(services.client_update_identity, actor=mona, client=other, identity={"national_id": national_id}),
        ))
        assert_refused_as_a_duplicate(refused.error)
        assert holders_of(national_id) == [saved.value]


def test_a_registration_and_an_identity_edit_at_once_save_exactly_one(alice, bob, centre_a, centre_b):
    for attempt in range(TRIES):
        national_id = f"MIXED-{attempt:03d}"
        existing = make_client(actor=alice, organisation=centre_a, n=2 * attempt, national_id=None)
        outcomes = race(
            partial(services.client_update_identity, actor=alice, client=existing,
                    identity={"national_id": national_id}),
            partial(make_client, actor=bob, organisation=centre_b, n=2 * attempt + 1, national_id=national_id),
        )
        saved, refused = winner_and_loser(outcomes)
        assert_refused_as_a_duplicate(refused.error)
        assert holders_of(national_id) == [saved.value]


def colliding_national_ids(count: int) -> list[str]:
    """National IDs, all different, that share one value of the (truncated) national ID index."""
    field = Client._meta.get_field("national_id_index")
    by_value: dict[int, list[str]] = {}
    for n in itertools.count():
        national_id = f"COLL-{n:05d}"
        value = crypto.blind_index(field.index_name, field.normalised([national_id]), bits=field.bits)
        by_value.setdefault(value, []).append(national_id)
        if len(by_value[value]) == count:
            return by_value[value]
    raise AssertionError("unreachable")


@override_settings(CASEMGMT_EXPECTED_SUBJECTS=64)  # a 5-bit index: different people share values all the time
def test_different_national_ids_that_share_an_index_value_are_all_registered(alice, bob, centre_a, centre_b):
    ids = colliding_national_ids(2 + 2 * TRIES)
    make_client(actor=alice, organisation=centre_a, n=0, national_id=ids[0])
    make_client(actor=alice, organisation=centre_a, n=1, national_id=ids[1])  # one after the other
    for attempt in range(TRIES):
        first, second = ids[2 + 2 * attempt], ids[3 + 2 * attempt]
        outcomes = race(
            partial(make_client, actor=alice, organisation=centre_a, n=10 + 2 * attempt, national_id=first),
            partial(make_client, actor=bob, organisation=centre_b, n=11 + 2 * attempt, national_id=second),
        )
        assert [o.error for o in outcomes] == [None, None]
    assert Client.objects.count() == len(ids)
    assert len(set(Client.objects.values_list("national_id_index", flat=True))) == 1
    assert all(len(holders_of(national_id)) == 1 for national_id in ids)


def test_two_transfer_requests_at_once_leave_one_open_request(alice, bob, nina, centre_a, centre_b):
    for attempt in range(TRIES):
        case = make_client(actor=alice, organisation=centre_a, n=attempt)
        outcomes = race(partial(services.transfer_request_create, actor=bob, client=case),
                        partial(services.transfer_request_create, actor=nina, client=case))
        assert [o.error for o in outcomes] == [None, None]
        open_requests = Transfer.objects.filter(client=case, status=TransferStatus.REQUESTED)
        assert [t.to_organisation for t in open_requests] == [centre_b]
        assert {o.value.pk for o in outcomes} == {open_requests.get().pk}


def test_during_a_blind_index_rotation_two_registrations_at_once_save_exactly_one(alice, bob, centre_a, centre_b,
                                                                                   settings):
    before = make_client(actor=alice, organisation=centre_a, n=0, national_id="ROT-00000")  # under the old key
    settings.CASEMGMT_INDEX_KEYS += f",test-idx-2:{crypto.new_key()}"
    settings.CASEMGMT_ACTIVE_INDEX_KEY = "test-idx-2"
    for attempt in range(1, TRIES + 1):
        national_id = f"ROT-{attempt:05d}"
        saved, refused = winner_and_loser(race(
            partial(make_client, actor=alice, organisation=centre_a, n=2 * attempt, national_id=national_id),
            partial(make_client, actor=bob, organisation=centre_b, n=2 * attempt + 1, national_id=national_id),
        ))
        assert_refused_as_a_duplicate(refused.error)
        assert holders_of(national_id) == [saved.value]
    # The record still indexed under the old key keeps its national ID too.
    with pytest.raises(services.ValidationError) as caught:
        make_client(actor=bob, organisation=centre_b, n=99, national_id="ROT-00000")
    assert_refused_as_a_duplicate(caught.value)
    assert holders_of("ROT-00000") == [before]


def test_an_identity_edit_during_a_blind_index_rebuild_keeps_its_national_id_unique(alice, bob, centre_a, centre_b,
                                                                                     settings):
    from casemgmt import rotation
    from casemgmt.fields import BlindIndexField

    edited = make_client(actor=alice, organisation=centre_a, n=0, national_id="OLD-00000")
    settings.CASEMGMT_INDEX_KEYS += f",test-idx-2:{crypto.new_key()}"
    settings.CASEMGMT_ACTIVE_INDEX_KEY = "test-idx-2"
    real_compute = BlindIndexField.compute
    edits = []

    def compute_while_the_counsellor_saves(field, instance, key_id=None):
        if not edits:  # the rebuild has read the record: its national ID is changed now, by someone else
            edits.append(None)
            fresh = Client.objects.get(pk=edited.pk)
            edits[0] = in_background(partial(services.client_update_identity, actor=alice, client=fresh,
                                             identity={"national_id": "NEW-00000"}), head_start=1.0)
        return real_compute(field, instance, key_id)

    with mock.patch.object(BlindIndexField, "compute", compute_while_the_counsellor_saves):
        rotation.rebuild_blind_indexes(batch_size=10)
    [edit] = [finish() for finish in edits]
    assert edit.error is None
    assert holders_of("NEW-00000") == [edited]
    with pytest.raises(services.ValidationError) as caught:
        make_client(actor=bob, organisation=centre_b, n=1, national_id="NEW-00000")
    assert_refused_as_a_duplicate(caught.value)
