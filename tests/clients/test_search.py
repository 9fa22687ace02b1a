"""Exact search through the blind indexes: normalisation variants match, near misses do not, scope holds."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.clients.helpers import detail_url, make_client
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

SEARCH = reverse("clients:search")
NOTHING = "No client found among those you may see."


@pytest.fixture
def case(alice, centre_a):
    return make_client(actor=alice, organisation=centre_a, n=1, given_name="Test  Dara", family_name="Synth Sokha",
                       phone="012 345 678", national_id="TEST-0042-7")


def search(client, kind: str, value: str = "", *, family_name: str = "", given_name: str = ""):
    return client.get(SEARCH, {"kind": kind, "value": value, "family_name": family_name, "given_name": given_name})


def found(response, case) -> bool:
    html = response.content.decode()
    assert response.status_code == 200
    hit = f'href="{detail_url(case)}"' in html
    assert hit != (NOTHING in html), "either the client is listed or the page says nothing was found"
    return hit


@pytest.mark.parametrize(("family_name", "given_name"), [
    ("Synth Sokha", "Test  Dara"),
    ("synth sokha", "test dara"),
    ("  SYNTH   SOKHA ", "TEST\tDARA"),
    ("Ｓｙｎｔｈ Ｓｏｋｈａ", "Ｔｅｓｔ Ｄａｒａ"),  # full-width letters, as some keyboards type them
])
def test_a_name_is_found_whatever_its_case_and_spacing(client, alice, case, family_name, given_name):
    sign_in(client, alice)
    assert found(search(client, "name", family_name=family_name, given_name=given_name), case)


@pytest.mark.parametrize("phone", ["012 345 678", "012345678", "+85512345678", "+855 12 345 678", "012-345-678",
                                   "00855 12 345 678", "(012) 345.678"])
def test_a_phone_number_is_found_in_any_usual_format(client, alice, case, phone):
    sign_in(client, alice)
    assert found(search(client, "phone", phone), case)


def test_a_phone_stored_in_international_form_is_found_by_the_national_form(client, alice, centre_a):
    other = make_client(actor=alice, organisation=centre_a, n=2, phone="+85597111222")
    sign_in(client, alice)
    assert found(search(client, "phone", "097 111 222"), other)


@pytest.mark.parametrize("national_id", ["TEST-0042-7", "test00427", "TEST 0042 7", "test-00427"])
def test_a_national_id_is_found_with_or_without_dashes(client, alice, case, national_id):
    sign_in(client, alice)
    assert found(search(client, "national_id", national_id), case)


def test_a_uic_is_found_in_lower_case(client, alice, case):
    sign_in(client, alice)
    assert found(search(client, "uic", case.uic.lower()), case)
    assert found(search(client, "uic", f" {case.uic} "), case)


@pytest.mark.parametrize(("kind", "value", "names"), [
    ("name", "", ("Synth Sokh", "Test Dara")),
    ("name", "", ("Synth Sokha", "Test Darah")),
    ("name", "", ("SynthSokha", "TestDara")),  # a space is not nothing
    ("name", "", ("Test Dara", "Synth Sokha")),  # given and family names swapped
    ("phone", "012 345 679", ()),
    ("phone", "012 345 67", ()),
    ("phone", "+85612345678", ()),  # same digits, another country
    ("national_id", "TEST-0042-8", ()),
    ("national_id", "TEST-0042", ()),
    ("uic", "SRDA1020191", ()),
])
def test_a_near_miss_finds_nothing(client, alice, case, kind, value, names):
    sign_in(client, alice)
    family_name, given_name = names or ("", "")
    assert not found(search(client, kind, value, family_name=family_name, given_name=given_name), case)


def test_a_name_search_needs_both_names(client, alice, case):
    sign_in(client, alice)
    response = search(client, "name", family_name="Synth Sokha")
    assert "Enter both the family name and the given name: the search is exact." in response.content.decode()
    assert f'href="{detail_url(case)}"' not in response.content.decode()


@pytest.mark.parametrize("kind", ["name", "phone", "national_id", "uic"])
def test_another_centre_cannot_find_the_client(client, bob, case, kind):
    sign_in(client, bob)
    value = {"phone": "012 345 678", "national_id": "TEST-0042-7", "uic": case.uic}.get(kind, "")
    names = {"family_name": "Synth Sokha", "given_name": "Test Dara"} if kind == "name" else {}
    response = search(client, kind, value, **names)
    assert not found(response, case)
    assert case.uic not in response.content.decode() or kind == "uic"


def test_a_colleague_without_the_client_on_their_caseload_cannot_find_it(client, carol, case):
    sign_in(client, carol)
    assert not found(search(client, "phone", "012 345 678"), case)


def test_the_centre_manager_finds_the_centres_client(client, mona, case):
    sign_in(client, mona)
    assert found(search(client, "phone", "+85512345678"), case)


def test_results_show_the_uic_and_initials_never_the_name(client, alice, case):
    sign_in(client, alice)
    html = search(client, "phone", "+85512345678").content.decode()
    assert f"<code>{case.uic}</code>" in html
    assert "<td>ST</td>" in html  # Synth Sokha, Test Dara
    results = html[html.index('<div class="table-wrap">'):]
    for part in ("Sokha", "Dara", "Synth", "345 678", "TEST-0042-7"):
        assert part not in results


def test_a_khmer_name_is_found(client, alice, centre_a):
    other = make_client(actor=alice, organisation=centre_a, n=2, given_name="ដារ៉ា", family_name="សុខ")
    sign_in(client, alice)
    assert found(search(client, "name", family_name=" សុខ ", given_name="ដារ៉ា"), other)
    assert not found(search(client, "name", family_name="សុខា", given_name="ដារ៉ា"), other)
