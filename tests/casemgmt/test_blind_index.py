"""Blind indexes (docs/encryption.md): exact search over encrypted identifiers, and what the index leaks."""

from __future__ import annotations

import base64
import datetime
import hmac
import io
import math
import os
from hashlib import sha256

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from casemgmt import crypto, normalise
from tests.cryptotest.models import Person

pytestmark = pytest.mark.django_db

DOB = datetime.date(1990, 5, 17)


def person(**values) -> Person:
    values = {"given_name": "Test", "family_name": "Synthetic", **values}
    row = Person(**values)
    row.save()
    return row


def found(index: str, *values) -> set:
    return {row.pk for row in Person.objects.blind_search(index, *values)}


@pytest.fixture
def people():
    return {
        "chan": person(family_name="Chan Sophea", date_of_birth=DOB, phone="012 345 678", national_id="ab-123 456"),
        "khmer": person(family_name="សុខ ដារ៉ា", date_of_birth=datetime.date(1985, 1, 2)),
        "fiona": person(family_name="Fiona Keo"),
        "sok": person(family_name="Sok", date_of_birth=DOB, phone="+855 97 765 4321", national_id="N0123456A"),
        "sok_other_dob": person(family_name="Sok", date_of_birth=datetime.date(1990, 5, 18)),
        "nothing": person(family_name="Meas", phone=None, national_id=None, date_of_birth=None),
    }


# --------------------------------------------------------------------------------------------
# Finding across normalisation variants


@pytest.mark.parametrize(
    "variant",
    [
        "Chan Sophea",
        "chan sophea",
        "CHAN SOPHEA",
        "  Chan   Sophea ",
        "Chan\tSophea\n",
        "Ｃｈａｎ Ｓｏｐｈｅａ",  # full-width forms: NFKC
        "Chan\u00a0Sophea",  # no-break space
    ],
)
def test_a_name_is_found_across_case_spacing_and_nfkc(people, variant):
    assert found("family_name_index", variant) == {people["chan"].pk}


def test_a_compatibility_ligature_is_found(people):
    assert found("family_name_index", "\ufb01ona keo") == {people["fiona"].pk}  # "ﬁ" ligature


@pytest.mark.parametrize("variant", ["សុខ ដារ៉ា", "  សុខ   ដារ៉ា  ", "សុខ\u00a0ដារ៉ា"])
def test_a_khmer_name_is_found_as_entered(people, variant):
    assert found("family_name_index", variant) == {people["khmer"].pk}


def test_khmer_script_is_kept_not_transliterated(people):
    assert found("family_name_index", "Sok Dara") == set()
    assert found("family_name_index", "សុខ") == set()


@pytest.mark.parametrize(
    "variant", ["012 345 678", "012345678", "+85512345678", "+855 12 345 678", "00855 12 345 678",
                "(012) 345-678", "012-345-678", "012.345.678", "０１２ ３４５ ６７８"],
)
def test_a_phone_is_found_in_every_format(people, variant):
    assert found("phone_index", variant) == {people["chan"].pk}


@pytest.mark.parametrize("variant", ["ab-123 456", "AB123456", "ab123456", "A B 1 2 3 4 5 6", "AB/123.456"])
def test_a_national_id_is_found_whatever_the_separators(people, variant):
    assert found("national_id_index", variant) == {people["chan"].pk}


@pytest.mark.parametrize(
    ("family_name", "dob"),
    [("Sok", DOB), ("sok", DOB), (" SOK ", DOB), ("Sok", "1990-05-17"), ("Sok", datetime.datetime(1990, 5, 17, 8))],
)
def test_family_name_and_date_of_birth_are_found_together(people, family_name, dob):
    assert found("family_dob_index", family_name, dob) == {people["sok"].pk}


def test_the_same_family_name_finds_every_holder(people):
    assert found("family_name_index", "sok") == {people["sok"].pk, people["sok_other_dob"].pk}


# --------------------------------------------------------------------------------------------
# Near misses find nothing


@pytest.mark.parametrize(
    ("index", "values"),
    [
        ("family_name_index", ["Chan Sophia"]),  # one letter
        ("family_name_index", ["Chan Sophe"]),
        ("family_name_index", ["ChanSophea"]),  # spacing inside a name is meaningful
        ("family_name_index", ["សុខ ដារា"]),  # one Khmer sign
        ("phone_index", ["012 345 679"]),  # one digit
        ("phone_index", ["+85612345678"]),  # another country
        ("phone_index", ["12 345 678"]),
        ("national_id_index", ["AB123457"]),
        ("national_id_index", ["AC123456"]),
        ("family_dob_index", ["Sok", datetime.date(1990, 5, 16)]),  # another date
        ("family_dob_index", ["Sok", datetime.date(1991, 5, 17)]),
        ("family_dob_index", ["Sox", DOB]),
        ("family_dob_index", ["Chan Sophea", datetime.date(1990, 5, 18)]),
    ],
)
def test_a_near_miss_finds_nothing(people, index, values):
    assert found(index, *values) == set()


@pytest.mark.parametrize(
    ("index", "values"),
    [("phone_index", ["not a phone"]), ("phone_index", [""]), ("phone_index", [None]),
     ("family_name_index", [""]), ("family_name_index", ["   "]), ("national_id_index", ["--"]),
     ("family_dob_index", ["Sok", None])],
)
def test_an_empty_or_malformed_search_finds_nothing(people, index, values):
    assert Person.objects.blind_search(index, *values) == []


def test_a_search_is_scoped_by_the_queryset(people):
    assert found("family_name_index", "Sok") == {people["sok"].pk, people["sok_other_dob"].pk}
    scoped = Person.objects.exclude(pk=people["sok"].pk).blind_search("family_name_index", "Sok")
    assert [row.pk for row in scoped] == [people["sok_other_dob"].pk]


def test_candidates_sharing_an_index_value_are_compared_exactly(settings):
    settings.CASEMGMT_EXPECTED_SUBJECTS = 4  # one bit: half of all names share each index value
    names = [f"Name {n}" for n in range(12)]
    rows = {name: person(family_name=name) for name in names}
    assert len(set(Person.objects.values_list("family_name_index", flat=True))) <= 2

    for name in names:
        assert found("family_name_index", name.upper()) == {rows[name].pk}


def test_the_index_follows_a_changed_value(people):
    row = Person.objects.get(pk=people["chan"].pk)
    row.family_name = "Chan Sopheap"
    row.phone = None
    row.save()

    assert found("family_name_index", "Chan Sophea") == set()
    assert found("family_name_index", "chan sopheap") == {row.pk}
    assert found("phone_index", "012 345 678") == set()
    assert Person.objects.get(pk=row.pk).phone_index is None


# --------------------------------------------------------------------------------------------
# Normalisers


@pytest.mark.parametrize(
    "value", ["12ab345678", "+855", "0123", "++85512345678", "012 345 678 901 234 567", "012_345_678", "٠١٢٣٤٥٦٧٨"]
)
def test_a_malformed_phone_is_a_validation_error(value):
    with pytest.raises(ValidationError) as caught:
        normalise.phone(value)
    assert caught.value.code == "invalid_phone"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("012 345 678", "+85512345678"), ("+855 12 345 678", "+85512345678"), ("00855 12 345 678", "+85512345678"),
     ("(012) 345-678", "+85512345678"), ("+44 20 7946 0958", "+442079460958"), (None, None), ("  ", None)],
)
def test_phones_are_normalised_to_e164(value, expected):
    assert normalise.phone(value) == expected


# --------------------------------------------------------------------------------------------
# Width and keys: what the index leaks


@pytest.mark.parametrize("rows", [10_000, 1_000_000, 1_000, 100_000, 250_000, 10_000_000, 123_456_789])
def test_index_width_follows_ciphersweets_rule(rows):
    bits = crypto.blind_index_bits(rows)

    assert 2 <= rows / 2**bits <= math.sqrt(rows)


def test_the_index_width_follows_the_expected_number_of_subjects(settings):
    field = Person._meta.get_field("family_name_index")
    settings.CASEMGMT_EXPECTED_SUBJECTS = 1_000_000
    assert field.bits == crypto.blind_index_bits(1_000_000)

    settings.CASEMGMT_EXPECTED_SUBJECTS = 10_000
    assert field.bits == crypto.blind_index_bits(10_000)
    row = person(family_name="Width")
    assert 0 <= row.family_name_index < 2**field.bits


def test_stored_index_values_fit_the_width(people):
    bits = crypto.blind_index_bits()
    values = Person.objects.values_list("family_name_index", "family_dob_index", "phone_index", "national_id_index")
    for row in values:
        for value in row:
            assert value is None or 0 <= value < 2**bits


def truncated(digest: bytes, bits: int) -> int:
    return int.from_bytes(digest[:8], "big") >> (64 - bits)


def test_index_values_are_not_a_plain_hash(people):
    bits, wide = crypto.blind_index_bits(), 62  # wide: a coincidence would be a real bug, not bad luck
    stored = Person.objects.get(pk=people["chan"].pk)
    for index, normalised in [("family_name_index", "chan sophea"), ("phone_index", "+85512345678"),
                              ("national_id_index", "AB123456")]:
        index_name = Person._meta.get_field(index).index_name
        assert getattr(stored, index) == crypto.blind_index(index_name, normalised, bits=bits)

        keyed = crypto.blind_index(index_name, normalised, bits=wide)
        unkeyed = [
            truncated(sha256(normalised.encode()).digest(), wide),
            truncated(sha256(f"{index_name}|{normalised}".encode()).digest(), wide),
            truncated(hmac.new(b"", normalised.encode(), sha256).digest(), wide),
            truncated(hmac.new(b"\0" * 32, normalised.encode(), sha256).digest(), wide),
        ]
        assert keyed not in unkeyed


def test_index_values_depend_on_the_index_name_and_the_key():
    wide = 62  # wide enough that a coincidence would be a real bug
    name = "chan sophea"

    by_name = {crypto.blind_index(index, name, bits=wide)
               for index in ["cryptotest.person.family_name_index", "cryptotest.person.national_id_index",
                             "clients.client.family_name_index"]}
    assert len(by_name) == 3


def test_index_values_differ_across_index_keys(settings):
    name = "cryptotest.person.family_name_index"
    before = crypto.blind_index(name, "chan sophea", bits=62)
    settings.CASEMGMT_INDEX_KEYS = f"test-idx-1:{crypto.new_key()}"

    assert crypto.blind_index(name, "chan sophea", bits=62) != before


def test_two_people_with_one_name_share_an_index_value_only_through_that_name(people):
    a, b = Person.objects.filter(pk__in=[people["sok"].pk, people["sok_other_dob"].pk])
    assert a.family_name_index == b.family_name_index
    assert a.family_dob_index != b.family_dob_index


# --------------------------------------------------------------------------------------------
# Index-key rotation


def test_search_works_during_and_after_an_index_key_rotation(settings, people):
    old = settings.CASEMGMT_INDEX_KEYS
    new_key = base64.b64encode(os.urandom(32)).decode()
    before = dict(Person.objects.values_list("pk", "phone_index"))

    # A second key becomes active: new rows are indexed under it, old rows still under the first.
    settings.CASEMGMT_INDEX_KEYS = f"{old},test-idx-2:{new_key}"
    settings.CASEMGMT_ACTIVE_INDEX_KEY = "test-idx-2"
    newcomer = person(family_name="Chan Sophea", phone="(012) 999-000")

    assert found("family_name_index", "chan sophea") == {people["chan"].pk, newcomer.pk}
    assert found("phone_index", "+85512345678") == {people["chan"].pk}
    assert found("national_id_index", "AB123456") == {people["chan"].pk}
    assert found("family_dob_index", "Sok", DOB) == {people["sok"].pk}
    assert found("phone_index", "012 999 000") == {newcomer.pk}

    out = io.StringIO()
    call_command("rotate_keys", "--blind-index", "--batch-size", "2", stdout=out)
    assert "Recomputed" in out.getvalue()
    after = dict(Person.objects.values_list("pk", "phone_index"))
    assert after[people["chan"].pk] != before[people["chan"].pk]

    # Only the new key left.
    settings.CASEMGMT_INDEX_KEYS = f"test-idx-2:{new_key}"
    assert found("family_name_index", "chan sophea") == {people["chan"].pk, newcomer.pk}
    assert found("family_name_index", "សុខ ដារ៉ា") == {people["khmer"].pk}
    assert found("phone_index", "+85512345678") == {people["chan"].pk}
    assert found("national_id_index", "AB123456") == {people["chan"].pk}
    assert found("family_dob_index", "Sok", DOB) == {people["sok"].pk}
    assert found("phone_index", "012 999 000") == {newcomer.pk}
    assert Person.objects.get(pk=people["nothing"].pk).phone_index is None


def test_without_the_rebuild_the_old_key_cannot_be_retired(settings, people):
    new_key = base64.b64encode(os.urandom(32)).decode()
    settings.CASEMGMT_INDEX_KEYS = f"test-idx-2:{new_key}"
    settings.CASEMGMT_ACTIVE_INDEX_KEY = "test-idx-2"

    assert found("family_name_index", "chan sophea") == set()


def test_the_index_rebuild_dry_run_changes_nothing(settings, people):
    before = list(Person.objects.order_by("pk").values_list("family_name_index", "phone_index"))
    settings.CASEMGMT_INDEX_KEYS = f"{settings.CASEMGMT_INDEX_KEYS},test-idx-2:{crypto.new_key()}"
    settings.CASEMGMT_ACTIVE_INDEX_KEY = "test-idx-2"

    out = io.StringIO()
    call_command("rotate_keys", "--blind-index", "--dry-run", stdout=out)

    assert "test-idx-2" in out.getvalue()
    assert list(Person.objects.order_by("pk").values_list("family_name_index", "phone_index")) == before
