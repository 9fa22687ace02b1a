"""Text that is text: identity and free-text fields take Khmer and refuse hidden characters; empty forms say why."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from casemgmt.text import ERROR_BROKEN, ERROR_INVISIBLE, ERROR_ZERO_WIDTH, check_text
from clients import forms, services
from clients.models import Client
from tests.clients.helpers import assert_field_error, give_consent, make_client, register, registered
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

# Synthetic Khmer names: consonants with coeng (U+17D2) stacks, vowel signs and diacritics.
KHMER_NAMES = {
    "given_name": "ស្រីពៅ",  # SRAE POV: coeng RO under SA
    "family_name": "សុខា",
    "mother_first_name": "ចាន់ថុន",  # with the bantoc diacritic U+17CB
    "father_first_name": "ស្ដេចខ្មៅ",  # two stacks: coeng DA, coeng MO
    "other_names": "ពៅ\u200bស្រី",  # a zero-width space between Khmer words, as Khmer writing uses
    "village": "ភូមិ\u200cថ្មី",  # a zero-width non-joiner between Khmer characters
}

HOSTILE = [
    # (text, the message, the character as the message names it, its position)
    ("Sok\u202eahc", ERROR_INVISIBLE, "U+202E RIGHT-TO-LEFT OVERRIDE", 4),
    ("\u202aSokha", ERROR_INVISIBLE, "U+202A LEFT-TO-RIGHT EMBEDDING", 1),
    ("Sok\u2067ha", ERROR_INVISIBLE, "U+2067 RIGHT-TO-LEFT ISOLATE", 4),
    ("Sokha\u200f", ERROR_INVISIBLE, "U+200F RIGHT-TO-LEFT MARK", 6),
    ("So\u061ckha", ERROR_INVISIBLE, "U+061C ARABIC LETTER MARK", 3),
    ("Sok\x07ha", ERROR_INVISIBLE, "U+0007", 4),
    ("Sok\nha", ERROR_INVISIBLE, "U+000A", 4),
    ("So\u00adkha", ERROR_INVISIBLE, "U+00AD SOFT HYPHEN", 3),
    ("\ufeffSokha", ERROR_INVISIBLE, "U+FEFF ZERO WIDTH NO-BREAK SPACE", 1),
    ("Sok\u2028ha", ERROR_INVISIBLE, "U+2028 LINE SEPARATOR", 4),
    ("So\u200bkha", ERROR_ZERO_WIDTH, "U+200B ZERO WIDTH SPACE", 3),
    ("\u200dសុខា", ERROR_ZERO_WIDTH, "U+200D ZERO WIDTH JOINER", 1),  # not between two Khmer characters
    ("សុខា\u200c", ERROR_ZERO_WIDTH, "U+200C ZERO WIDTH NON-JOINER", 5),
    ("សុខ\u200ba", ERROR_ZERO_WIDTH, "U+200B ZERO WIDTH SPACE", 4),
    ("So\ud800kha", ERROR_BROKEN, "U+D800", 3),  # an unpaired surrogate
    ("Sokha\ufdd0", ERROR_BROKEN, "U+FDD0", 6),  # a noncharacter
    ("Sokha\U0010ffff", ERROR_BROKEN, "U+10FFFF", 6),
]


def message(template, character: str, position: int) -> str:
    return str(template % {"character": character, "position": position})


def identity(**overrides) -> dict:
    base = {"given_name": "Testdara", "family_name": "Synthsok", "other_names": "", "phone": "012 345 678",
            "date_of_birth": datetime.date(1990, 1, 2), "village": "", "commune": "", "district": "",
            "national_id": None, "mother_first_name": "Srey", "father_first_name": "Dara", "sex": "F",
            "province": "KH-12"}
    return {**base, **overrides}


def test_khmer_names_with_stacks_vowel_signs_and_zero_width_characters_are_registered(client, alice):
    sign_in(client, alice)
    case = registered(client, **KHMER_NAMES)
    for name, value in KHMER_NAMES.items():
        assert getattr(case, name) == value
    assert case.uic == "CHSD1020190"  # romanised from the Khmer parents' names: CHan thon, SDech khmau


def test_text_is_stored_in_nfc(client, alice):
    sign_in(client, alice)
    decomposed = "Se\u0301phora"  # e + combining acute accent
    case = registered(client, given_name=decomposed, village="Ph\u0305um")
    assert case.given_name == "S\u00e9phora"
    assert len(case.given_name) == len(decomposed) - 1
    assert Client.objects.get(pk=case.pk).given_name == "S\u00e9phora"


@pytest.mark.parametrize(("text", "template", "character", "position"), HOSTILE,
                         ids=[character for _t, _m, character, _p in HOSTILE])
def test_hidden_and_broken_characters_are_refused_by_name_and_position(text, template, character, position):
    with pytest.raises(ValidationError) as caught:
        check_text(text)
    assert caught.value.messages == [message(template, character, position)]


@pytest.mark.parametrize("text", ["Sok\u202eahc", "So\u200bkha", "Sok\x07ha"])
def test_the_register_page_refuses_them_on_the_field(client, alice, text):
    sign_in(client, alice)
    _text, template, character, position = next(h for h in HOSTILE if h[0] == text)
    response = register(client, family_name=text)
    assert_field_error(response, "family_name", message(template, character, position))
    assert not Client.objects.exists()


def test_the_form_refuses_an_unpaired_surrogate(alice):
    # A browser cannot send one (it is not UTF-8); a client of the form can.
    form = forms.ClientForm(data={**{k: str(v or "") for k, v in identity().items()}, "given_name": "So\ud800kha"})
    assert form.errors["given_name"] == [message(ERROR_BROKEN, "U+D800", 3)]


def test_the_service_refuses_them_too(alice, centre_a):
    with pytest.raises(ValidationError) as caught:
        services.client_register(actor=alice, organisation=centre_a,
                                 identity=identity(mother_first_name="Sre\u202ey", village="Ph\u200bum"))
    assert caught.value.message_dict["mother_first_name"] == [
        message(ERROR_INVISIBLE, "U+202E RIGHT-TO-LEFT OVERRIDE", 4)]
    assert caught.value.message_dict["village"] == [message(ERROR_ZERO_WIDTH, "U+200B ZERO WIDTH SPACE", 3)]
    assert not Client.objects.exists()


def test_editing_an_identity_refuses_them(client, alice, centre_a):
    case = make_client(actor=alice, organisation=centre_a, n=3)
    sign_in(client, alice)
    data = {name: getattr(case, name) or "" for name in services.IDENTITY_FIELDS}
    data["date_of_birth"] = case.date_of_birth.isoformat()
    data["given_name"] = "Dara\u2066x"
    response = client.post(reverse("clients:edit_identity", args=[case.pk]), data)
    assert_field_error(response, "given_name", message(ERROR_INVISIBLE, "U+2066 LEFT-TO-RIGHT ISOLATE", 5))


def test_multi_line_notes_keep_line_breaks_and_tabs_but_not_direction_controls(client, alice, centre_a):
    case = make_client(actor=alice, organisation=centre_a, n=4)
    consent = give_consent(case, actor=alice)
    kept = forms.RevokeConsentForm(data={"revoked_on": datetime.date.today().isoformat(),
                                         "reason": "Asked in person.\r\nSecond line\twith a tab."})
    assert kept.is_valid(), kept.errors
    assert kept.cleaned_data["reason"] == "Asked in person.\nSecond line\twith a tab."

    sign_in(client, alice)
    response = client.post(reverse("clients:consent_revoke", args=[case.pk, consent.pk]),
                           {"revoked_on": datetime.date.today().isoformat(), "reason": "Asked\u202e in person."})
    assert_field_error(response, "reason", message(ERROR_INVISIBLE, "U+202E RIGHT-TO-LEFT OVERRIDE", 6))


def test_the_search_form_refuses_them(client, alice):
    sign_in(client, alice)
    response = client.get(reverse("clients:search"), {"kind": "name", "family_name": "Synth\u200bsok",
                                                      "given_name": "Testdara"})
    assert_field_error(response, "family_name", message(ERROR_ZERO_WIDTH, "U+200B ZERO WIDTH SPACE", 6))


def test_an_empty_registration_says_which_fields_are_required(client, alice):
    sign_in(client, alice)
    # What a browser sends for the untouched form: every text, date and select field empty, no box ticked.
    empty = {name: "" for name in forms.ClientForm().fields if name != "population_groups"}
    response = client.post(reverse("clients:register"), empty)
    html = response.content.decode()
    required = {"given_name": "Given name", "family_name": "Family name", "date_of_birth": "Date of birth",
                "mother_first_name": "Mother&#x27;s first name", "father_first_name": "Father&#x27;s first name",
                "sex": "Sex", "province": "Province"}
    assert response.status_code == 200
    form = response.context["form"]
    assert {name: form.errors[name] for name in form.errors} == {name: ["This field is required."] for name in required}
    summary = html[html.index('<div class="errors" role="alert">'):html.index("</div>", html.index('class="errors"'))]
    assert "Check these 7 fields:" in summary
    for name, label in required.items():
        assert f'<li><a href="#id_{name}">{label}</a>: This field is required.</li>' in summary
    assert html.index("Check these 7 fields:") < html.index('<label for="id_given_name">'), "the summary comes first"
    assert len(re.findall(r'<p class="error-text" role="alert">This field is required.</p>', html)) == 7
    assert not Client.objects.exists()


def test_a_service_called_directly_stores_identity_text_in_nfc(alice, centre_a):
    """Not only the forms: whoever calls the service, the same name typed two ways is the same text."""
    import unicodedata

    from clients import services
    from clients.models import Client
    from tests.clients.factories import client_identity

    decomposed = unicodedata.normalize("NFD", "Nguyễn")
    assert decomposed != "Nguyễn"
    case = services.client_register(actor=alice, organisation=centre_a,
                                    identity=client_identity(family_name=decomposed))
    assert Client.objects.get(pk=case.pk).family_name == "Nguyễn"
