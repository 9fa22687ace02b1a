"""A consent records the exact wording the client agreed to: a versioned text, in the language it was read in; and,
when the client could not sign, who witnessed it. Wordings are published by system administrators, never edited
once read to a client (a new version instead), one text per kind, language and version in the database."""

from __future__ import annotations

import datetime

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from casemgmt.models import AuditEvent
from clients import selectors, services
from clients.apps import _first_wordings_and_their_administrators
from clients.models import Consent, ConsentWording
from tests.clients.helpers import assert_field_error, consent_data, detail_url, give_consent, make_client
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

KHMER_TREATMENT_WORDS = "ខ្ញុំយល់ព្រមទទួលការព្យាបាល"  # "I agree to receive treatment"
ENGLISH_TREATMENT_WORDS = "I agree to receive treatment and counselling for drug use from this centre"


@pytest.fixture
def case(alice, centre_a):
    return make_client(actor=alice, organisation=centre_a, n=1)


def consent_url(case) -> str:
    return reverse("clients:consent_add", args=[case.pk])


def shown(*versions) -> str:
    """The hidden field of the consent form: the versions the page showed."""
    return ",".join(versions)


FIRST = shown("treatment:en:1", "treatment:km:1", "sharing:en:1", "sharing:km:1")


def publish(sam, *, kind="treatment", language="km", text="Synthetic wording, version two.", on=None):
    return services.consent_wording_save(actor=sam, wording=ConsentWording(
        kind=kind, language=language, text=text, published_on=on or timezone.localdate()))


def test_the_first_wordings_are_in_english_and_khmer_for_each_kind():
    current = selectors.current_wordings()
    assert sorted(current) == [("sharing", "en"), ("sharing", "km"), ("treatment", "en"), ("treatment", "km")]
    assert {wording.version for wording in current.values()} == {1}
    assert ENGLISH_TREATMENT_WORDS in current["treatment", "en"].text
    assert KHMER_TREATMENT_WORDS in current["treatment", "km"].text
    # The sharing text names no partner and no category: the consent itself holds them, and the text says so.
    assert "partner organisation named on this consent" in current["sharing", "en"].text
    assert "ticked on this consent" in current["sharing", "en"].text


def test_the_database_holds_one_text_per_kind_language_and_version():
    with pytest.raises(IntegrityError), transaction.atomic():
        ConsentWording.objects.create(kind="treatment", language="en", version=1, text="A second version 1")
    assert ConsentWording.objects.filter(kind="treatment", language="en").count() == 1


def test_the_form_shows_the_wordings_and_the_consent_records_the_version_and_language_read(client, alice, case):
    sign_in(client, alice)
    page = client.get(consent_url(case)).content.decode()
    assert ENGLISH_TREATMENT_WORDS in page and KHMER_TREATMENT_WORDS in page and "version 1" in page
    assert f'value="{FIRST}"' in page  # what the page showed goes back with the form

    response = client.post(consent_url(case), consent_data(language="km", wordings=FIRST))
    assert response.status_code == 302
    consent = Consent.objects.get(client=case)
    assert (consent.wording, consent.language) == (selectors.current_wordings()["treatment", "km"], "km")
    assert "wording version 1, read in Khmer" in client.get(detail_url(case)).content.decode()
    event = AuditEvent.objects.filter(object_type="clients.consent").latest("seq")
    assert {"wording", "language"} <= set(event.fields)


def test_a_wording_published_while_the_form_was_open_must_be_read_first(client, alice, sam, case):
    sign_in(client, alice)
    client.get(consent_url(case))
    second = publish(sam)  # treatment, Khmer, version 2

    response = client.post(consent_url(case), consent_data(language="km", wordings=FIRST))
    assert_field_error(response, "language", services.ERROR_WORDING_NOT_CURRENT)
    assert not Consent.objects.exists()
    html = response.content.decode()
    assert "Synthetic wording, version two." in html  # the new text, to read
    fresh = shown("treatment:en:1", "treatment:km:2", "sharing:en:1", "sharing:km:1")
    assert f'value="{fresh}"' in html  # and the form now carries its version

    assert client.post(consent_url(case), consent_data(language="km", wordings=fresh)).status_code == 302
    assert Consent.objects.get(client=case).wording == second
    # Read in English, the English text was current all along.
    give_consent(case, actor=alice, language="en", wording_version=1)


def test_a_wording_published_for_later_is_not_read_before_its_day(sam, alice, case):
    publish(sam, language="en", on=timezone.localdate() + datetime.timedelta(days=3))
    assert selectors.current_wordings()["treatment", "en"].version == 1
    assert give_consent(case, actor=alice, language="en").wording.version == 1


@pytest.mark.parametrize("method, message", [
    ("verbal", services.ERROR_VERBAL_NEEDS_WITNESS),
    ("thumbprint", services.ERROR_THUMBPRINT_NEEDS_WITNESS),
])
def test_a_client_who_could_not_sign_needs_a_named_witness(client, alice, case, method, message):
    sign_in(client, alice)
    response = client.post(consent_url(case), consent_data(method=method, witness_name="  ", wordings=FIRST))
    assert_field_error(response, "witness_name", message)
    assert not Consent.objects.exists()
    assert not AuditEvent.objects.filter(object_type="clients.consent").exists()
    with pytest.raises(ValidationError) as refused:
        give_consent(case, actor=alice, method=method)
    assert refused.value.message_dict == {"witness_name": [str(message)]}
    assert give_consent(case, actor=alice, method=method, witness_name="Synthetic Witness").witness_name == (
        "Synthetic Witness")


def test_a_signed_consent_needs_no_witness(alice, case):
    assert give_consent(case, actor=alice, method="signed").witness_name == ""


def test_without_a_wording_in_that_language_nothing_is_recorded(alice, case):
    with pytest.raises(ValidationError) as refused:
        give_consent(case, actor=alice, language="fr")
    assert refused.value.message_dict == {"language": [str(services.ERROR_NO_WORDING)]}
    assert not Consent.objects.exists()


def test_a_consent_recorded_before_wordings_existed_says_so(client, alice, case):
    consent = give_consent(case, actor=alice)
    Consent.objects.filter(pk=consent.pk).update(wording=None, language="")  # as migration 0008 left them
    sign_in(client, alice)
    assert "wording not recorded" in client.get(detail_url(case)).content.decode()


# Publishing: system administrators, in the administration site; a wording read to a client never changes -------

def test_an_administrator_publishes_the_next_version_in_the_administration_site(client, sam):
    sign_in(client, sam)
    response = client.post(reverse("admin:clients_consentwording_add"), {
        "kind": "sharing", "language": "en", "text": "Synthetic sharing wording, second version.",
        "published_on": timezone.localdate().isoformat()})
    assert response.status_code == 302
    wording = ConsentWording.objects.get(kind="sharing", language="en", version=2)
    assert selectors.current_wordings()["sharing", "en"] == wording
    event = AuditEvent.objects.filter(object_type="clients.consentwording").get()
    assert (event.action, event.object_id, event.actor_username) == ("create", str(wording.pk), "sam")


def test_a_wording_read_to_a_client_cannot_change(client, sam, alice, case):
    give_consent(case, actor=alice, language="en")
    used = selectors.current_wordings()["treatment", "en"]
    sign_in(client, sam)
    url = reverse("admin:clients_consentwording_change", args=[used.pk])
    page = client.get(url)
    assert page.status_code == 200 and 'name="text"' not in page.content.decode()  # shown read-only
    assert client.post(url, {"text": "Changed", "published_on": used.published_on.isoformat()}).status_code == 403
    used.text = "Changed behind the form"
    with pytest.raises(ValidationError) as refused:
        services.consent_wording_save(actor=sam, wording=used, changed=["text"])
    assert refused.value.messages == [str(services.ERROR_WORDING_IN_USE)]
    assert ENGLISH_TREATMENT_WORDS in ConsentWording.objects.get(pk=used.pk).text
    assert client.get(reverse("admin:clients_consentwording_delete", args=[used.pk])).status_code == 403


def test_a_wording_nobody_heard_yet_can_be_corrected(client, sam):
    draft = publish(sam, text="Synthetic wording with a typo.", on=timezone.localdate() + datetime.timedelta(days=5))
    sign_in(client, sam)
    response = client.post(reverse("admin:clients_consentwording_change", args=[draft.pk]), {
        "text": "Synthetic wording, corrected.", "published_on": draft.published_on.isoformat()})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.text, draft.version, draft.kind, draft.language) == (
        "Synthetic wording, corrected.", 2, "treatment", "km")


def test_only_an_administrator_publishes(alice):
    with pytest.raises(ValidationError) as refused:
        publish(alice)
    assert refused.value.messages == [str(services.ERROR_WORDING_NOT_ADMINISTRATOR)]
    assert not ConsentWording.objects.filter(version=2).exists()


def test_the_first_wordings_come_back_after_a_flush_and_never_twice():
    ConsentWording.objects.all().delete()  # what a flush between tests does
    config = apps.get_app_config("clients")
    _first_wordings_and_their_administrators(sender=config)
    _first_wordings_and_their_administrators(sender=config)
    assert ConsentWording.objects.count() == 4
