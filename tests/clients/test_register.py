"""Registering a client through the page: duplicate detection across centres, bad input, the language."""

from __future__ import annotations

import datetime

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape

from casemgmt.models import DataKey
from casemgmt.normalise import ERROR_PHONE
from clients.models import Client, ClientUserObjectPermission
from clients.services import ERROR_DUPLICATE_NATIONAL_ID
from clients.validators import ERROR_FUTURE_DATE
from tests.clients.helpers import (
    assert_field_error,
    client_from_redirect,
    detail_url,
    make_client,
    person,
    register,
    registered,
    uic_of,
)
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

ELSEWHERE = "A client with matching identifiers is registered at another organisation."
TRANSFER_BUTTON = "Ask that organisation's manager to transfer the record to your centre"
MAYBE_REGISTERED = "This person may already be registered"
ENGLISH_PHONE_ERROR = "Enter a phone number such as 012 345 678 or +855 12 345 678."
ENGLISH_DUPLICATE_ID_ERROR = "A client with this national ID is already registered."


def in_khmer(message) -> str:
    with translation.override("km"):
        text = str(message)
    with translation.override("en"):
        assert text != str(message), f"no Khmer translation for {message!r}"
    return text


def counts() -> tuple[int, int, int]:
    return Client.objects.count(), ClientUserObjectPermission.objects.count(), DataKey.objects.count()


def test_a_counsellor_registers_a_client_who_lands_on_their_caseload(client, alice, centre_a):
    sign_in(client, alice)
    data = person(1)
    response = register(client, population_groups=["pwid", "prisoner"], **data)
    new = client_from_redirect(response)
    page = client.get(response.url)
    html = page.content.decode()
    assert "The client is registered." in html
    assert f"<h1>{data['family_name']} {data['given_name']}</h1>" in html
    assert uic_of(data) in html
    assert (new.organisation, new.counsellor, new.uic) == (centre_a, alice, uic_of(data))
    assert sorted(new.population_groups) == ["prisoner", "pwid"]
    assert "People who inject drugs, Prisoner or detainee" in html
    assert uic_of(data) in client.get(reverse("clients:caseload")).content.decode()


def test_a_form_without_duplicates_shows_no_warning_and_registers_at_once(client, bob):
    sign_in(client, bob)
    response = register(client, **person(2))
    assert response.status_code == 302
    assert Client.objects.count() == 1


# Duplicates at another centre -------------------------------------------------------------------

EXISTING = 1  # person(1) is registered at centre A


def _variant(kind: str) -> tuple[dict, set[str]]:
    """What bob types at centre B for each kind of match, and which of the existing record's values he did not type."""
    existing = person(EXISTING)
    hidden = {"given_name", "family_name", "phone", "national_id", "mother_first_name", "father_first_name",
              "date_of_birth"}
    if kind == "uic":  # same parents' initials, sex and birth date; nothing else in common
        typed = person(2, date_of_birth=existing["date_of_birth"], mother_first_name="Morakot",
                       father_first_name="Farith")
        hidden -= {"date_of_birth"}
    elif kind == "family_name_date_of_birth":
        typed = person(2, family_name=existing["family_name"].upper(), date_of_birth=existing["date_of_birth"],
                       mother_first_name="Kanha")
        hidden -= {"date_of_birth"}
    elif kind == "phone":  # the same number, written in the international form
        typed = person(2, phone="+855" + existing["phone"].replace(" ", "")[1:])
    elif kind == "national_id":  # the same number, without the dash and in lower case
        typed = person(2, national_id=existing["national_id"].replace("-", " ").lower())
    else:
        raise AssertionError(kind)
    return typed, hidden


@pytest.mark.parametrize("kind", ["uic", "family_name_date_of_birth", "phone", "national_id"])
def test_a_match_at_another_centre_reveals_only_that_there_is_one(client, alice, bob, centre_a, kind):
    other = make_client(actor=alice, organisation=centre_a, n=EXISTING)
    existing = person(EXISTING)
    typed, hidden = _variant(kind)
    sign_in(client, bob)
    before = counts()

    response = register(client, **typed)

    html = response.content.decode()
    assert response.status_code == 200
    assert MAYBE_REGISTERED in html and ELSEWHERE in html
    assert f'action="{reverse("clients:transfer_request")}"' in html and TRANSFER_BUTTON in html
    assert "At your centre:" not in html
    leaked = {name: existing[name] for name in hidden if escape(existing[name]) in html}
    assert leaked == {}
    assert other.uic not in html
    assert str(other.pk) not in html and other.pk.hex not in html
    assert centre_a.name not in html and str(centre_a.pk) not in html
    assert counts() == before  # nothing registered until bob decides


def test_the_transfer_button_carries_an_opaque_token_not_the_record_id(client, alice, bob, centre_a):
    other = make_client(actor=alice, organisation=centre_a, n=EXISTING)
    sign_in(client, bob)
    response = register(client, **person(EXISTING))
    token = response.context["elsewhere"]
    assert f'name="token" value="{token}"' in response.content.decode()
    assert token != str(other.pk) and str(other.pk) not in token and other.pk.hex not in token


def test_a_match_at_the_same_centre_links_to_that_record(client, alice, centre_a):
    existing = make_client(actor=alice, organisation=centre_a, n=EXISTING)
    sign_in(client, alice)
    response = register(client, **person(EXISTING, phone="+85597001007"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "At your centre:" in html
    assert f'href="{detail_url(existing)}"' in html
    assert existing.uic in html
    assert ELSEWHERE not in html
    assert Client.objects.count() == 1
    assert client.get(detail_url(existing)).status_code == 200  # the link works for her


def test_a_same_centre_match_on_a_colleagues_caseload_does_not_link_to_a_dead_end(client, alice, carol, centre_a):
    theirs = make_client(actor=carol, organisation=centre_a, n=EXISTING)
    sign_in(client, alice)
    html = register(client, **person(EXISTING)).content.decode()
    assert MAYBE_REGISTERED in html
    assert f'href="{detail_url(theirs)}"' not in html or client.get(detail_url(theirs)).status_code == 200
    assert Client.objects.count() == 1


def test_confirming_a_different_person_registers_anyway(client, alice, bob, centre_a, centre_b):
    other = make_client(actor=alice, organisation=centre_a, n=EXISTING)
    typed, _hidden = _variant("uic")
    sign_in(client, bob)
    assert ELSEWHERE in register(client, **typed).content.decode()
    assert 'name="confirm_distinct"' in register(client, **typed).content.decode()

    new = client_from_redirect(register(client, confirm=True, **typed))

    assert new.pk != other.pk
    assert (new.organisation, new.counsellor) == (centre_b, bob)
    assert new.uic == other.uic  # a UIC is not unique: two people may share one
    assert Client.objects.count() == 2
    assert client.get(detail_url(new)).status_code == 200


def test_confirming_at_the_same_centre_registers_anyway(client, alice, centre_a):
    make_client(actor=alice, organisation=centre_a, n=EXISTING)
    sign_in(client, alice)
    twin = person(EXISTING, given_name="Testtwin", phone="", national_id="")
    assert "At your centre:" in register(client, **twin).content.decode()
    new = registered(client, confirm=True, **twin)
    assert new.given_name == "Testtwin"
    assert Client.objects.filter(organisation=centre_a).count() == 2


@pytest.mark.parametrize("where", ["same centre", "other centre"])
def test_a_duplicate_national_id_is_refused_even_when_confirmed(client, alice, bob, centre_a, where):
    make_client(actor=alice, organisation=centre_a, n=EXISTING)
    sign_in(client, alice if where == "same centre" else bob)
    before = counts()

    response = register(client, confirm=True, **person(2, national_id="test 00001"))

    assert_field_error(response, "national_id", ERROR_DUPLICATE_NATIONAL_ID)
    assert counts() == before


# Bad input ----------------------------------------------------------------------------------------


def test_a_date_of_birth_in_the_future_is_a_field_error(client, alice):
    sign_in(client, alice)
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    before = counts()
    response = register(client, **person(3, date_of_birth=tomorrow.isoformat()))
    assert_field_error(response, "date_of_birth", ERROR_FUTURE_DATE)
    assert counts() == before


@pytest.mark.parametrize("phone", ["12ab45", "0123", "+855 12 345 678 901 234 5"])
def test_a_malformed_phone_is_a_field_error(client, alice, phone):
    sign_in(client, alice)
    before = counts()
    response = register(client, **person(4, phone=phone))
    assert_field_error(response, "phone", ERROR_PHONE)
    assert counts() == before


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"phone": "12ab45"}, "phone", ERROR_PHONE),
    ({"date_of_birth": "2999-01-01"}, "date_of_birth", ERROR_FUTURE_DATE),
], ids=["phone", "date_of_birth"])
def test_bad_input_is_reported_at_once_even_when_the_person_matches(client, alice, bob, centre_a, overrides, field,
                                                                   message):
    make_client(actor=alice, organisation=centre_a, n=EXISTING)
    sign_in(client, bob)
    before = counts()
    response = register(client, **person(2, national_id="TEST-00001", **overrides))  # matches on national ID
    assert_field_error(response, field, message)
    assert counts() == before


def test_a_missing_required_identifier_is_a_field_error(client, alice):
    sign_in(client, alice)
    response = register(client, **person(5, mother_first_name=""))
    assert_field_error(response, "mother_first_name", "This field is required.")
    assert Client.objects.count() == 0


def test_errors_are_shown_in_khmer_to_a_khmer_speaking_user(client, alice):
    sign_in(client, alice)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "km"
    before = counts()
    response = register(client, **person(6, phone="12ab45"))
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="km">' in html
    assert escape(in_khmer(ERROR_PHONE)) in html
    assert ENGLISH_PHONE_ERROR not in html and "Enter a phone number" not in html
    assert counts() == before


def test_the_duplicate_national_id_error_is_shown_in_khmer(client, alice, centre_a):
    make_client(actor=alice, organisation=centre_a, n=EXISTING)
    sign_in(client, alice)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "km"
    before = counts()
    response = register(client, confirm=True, **person(2, national_id="TEST-00001"))
    html = response.content.decode()
    assert response.status_code == 200 and response.context["form"].errors["national_id"]
    assert escape(in_khmer(ERROR_DUPLICATE_NATIONAL_ID)) in html
    assert ENGLISH_DUPLICATE_ID_ERROR not in html
    assert counts() == before


def test_names_are_shown_as_text_never_as_markup(client, alice):
    sign_in(client, alice)
    case = registered(client, **person(8, given_name="<b>Zq</b>", family_name="<script>x()</script>"))
    html = client.get(detail_url(case)).content.decode()
    assert "<h1>&lt;script&gt;x()&lt;/script&gt; &lt;b&gt;Zq&lt;/b&gt;</h1>" in html
    assert "<script>x()" not in html


def test_khmer_names_register_and_give_a_romanised_uic(client, alice):
    sign_in(client, alice)
    case = registered(client, **person(9, given_name="ដារ៉ា", family_name="សុខ", mother_first_name="ស្រីមុំ",
                                       father_first_name="ដារ៉ា", date_of_birth="1990-01-02", sex="M"))
    assert case.uic == "SRDA1020190"
    assert "<h1>សុខ ដារ៉ា</h1>" in client.get(detail_url(case)).content.decode()


# Changing identity details: the same rules, nothing half-saved --------------------------------------

@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"date_of_birth": "2999-01-01"}, "date_of_birth", ERROR_FUTURE_DATE),
    ({"phone": "12ab45"}, "phone", ERROR_PHONE),
    ({"national_id": "test-00002"}, "national_id", ERROR_DUPLICATE_NATIONAL_ID),
], ids=["future_date_of_birth", "malformed_phone", "duplicate_national_id"])
def test_a_bad_identity_change_is_a_field_error_and_changes_nothing(client, alice, centre_a, overrides, field,
                                                                     message):
    case = make_client(actor=alice, organisation=centre_a, n=1)
    make_client(actor=alice, organisation=centre_a, n=2)  # holds national ID TEST-00002
    sign_in(client, alice)
    response = client.post(reverse("clients:edit_identity", args=[case.pk]), person(1, given_name="Changed",
                                                                                    **overrides))
    assert_field_error(response, field, message)
    stored = Client.objects.get(pk=case.pk)
    assert (stored.given_name, stored.phone, stored.national_id, stored.uic) == (
        "Testgiven001", case.phone, case.national_id, case.uic)


def test_an_identity_change_recomputes_the_uic(client, alice, centre_a):
    case = make_client(actor=alice, organisation=centre_a, n=1)
    sign_in(client, alice)
    changed = person(1, mother_first_name="Kanha", father_first_name="Rith")
    response = client.post(reverse("clients:edit_identity", args=[case.pk]), changed)
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.uic == uic_of(changed) and case.uic.startswith("KARI")
    assert f"<code>{case.uic}</code>" in client.get(detail_url(case)).content.decode()
