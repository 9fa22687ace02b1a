"""Conflict-safe editing: notes carry a version; when two people edit the same note, the second save shows a
conflict page with their unsaved text beside the current text, and nothing is lost or silently overwritten.
Two people recording the same appointment: the second is told, and nothing of theirs is half-saved."""

from __future__ import annotations

import pytest
from django.test import Client as Browser
from django.urls import reverse
from django.utils.html import escape

from casemgmt.transitions import ERROR_STATE_CHANGED
from casemgmt.versioning import ERROR_CONFLICT, Conflict
from counselling import services
from counselling.models import Attendance, Participant
from tests.conftest import sign_in
from tests.counselling.factories import NOTE, ahead, appointment, counselling_client, recorded

pytestmark = pytest.mark.django_db

ALICES = "Alice's version: agreed to come weekly (test)."
MONAS = "Mona's version: wants a female counsellor (test)."


@pytest.fixture
def case(alice, centre_a):
    return counselling_client(actor=alice, organisation=centre_a, n=1)


@pytest.fixture
def note_url(alice, case):
    session = recorded(actor=alice, client=case)
    return reverse("counselling:note_edit", args=[session.pk, session.participants.get().pk])


def form_of(browser, url: str) -> dict:
    form = browser.get(url).context["form"]
    return {"note": form["note"].value(), "version": form["version"].value()}


def test_the_second_save_of_a_note_shows_both_texts_and_overwrites_nothing(client, alice, mona, note_url):
    alices, monas = sign_in(client, alice), sign_in(Browser(), mona)
    alice_form, mona_form = form_of(alices, note_url), form_of(monas, note_url)
    assert alice_form == mona_form and alice_form["note"] == NOTE

    assert alices.post(note_url, {**alice_form, "note": ALICES}).status_code == 302
    response = monas.post(note_url, {**mona_form, "note": MONAS})

    assert response.status_code == 409
    html = response.content.decode()
    assert "Saved by someone else meanwhile" in html and escape(str(ERROR_CONFLICT)) in html
    (row,) = response.context["conflict"]["rows"]
    assert (row["label"], row["yours"], row["current"], row["differs"]) == ("Note", MONAS, ALICES, True)
    assert f"{escape(MONAS)}</textarea>" in html  # her unsaved text, still in the form
    assert Participant.objects.get().note == ALICES  # nothing of Mona's written

    # Saving from the conflict page is her deliberate choice, now against the current version.
    again = {"note": MONAS, "version": response.context["form"].data["version"]}
    assert monas.post(note_url, again).status_code == 302
    assert Participant.objects.get().note == MONAS


def test_the_service_refuses_a_stale_version(alice, case, note_url):
    participant = Participant.objects.get()
    stale = participant.version
    services.participant_note_update(actor=alice, participant=participant, note=ALICES, expected_version=stale)
    with pytest.raises(Conflict):
        services.participant_note_update(actor=alice, participant=Participant.objects.get(), note=MONAS,
                                         expected_version=stale)
    assert Participant.objects.get().note == ALICES


def test_a_save_that_lands_meanwhile_is_a_conflict_too(alice, mona, case, note_url):
    """Both read the same row; the first save moves the version on, the second's UPDATE finds none to change."""
    first, second = Participant.objects.get(), Participant.objects.get()
    services.participant_note_update(actor=alice, participant=first, note=ALICES, expected_version=first.version)
    with pytest.raises(Conflict):
        services.participant_note_update(actor=mona, participant=second, note=MONAS, expected_version=None)
    assert Participant.objects.get().note == ALICES


def test_any_save_meanwhile_is_a_conflict_for_a_note_form_opened_before(client, alice, mona, note_url):
    monas = sign_in(Browser(), mona)
    stale = form_of(monas, note_url)
    Participant.objects.get().save()  # any save moves the version on (here: a no-op save by the system)
    response = monas.post(note_url, {**stale, "note": MONAS})
    assert response.status_code == 409 and Participant.objects.get().note == NOTE


def test_two_people_recording_one_appointment_the_second_is_told_and_keeps_their_text(client, clock, alice, mona,
                                                                                     case):
    session = appointment(actor=alice, client=case, when=ahead(hours=1))
    clock(ahead(hours=2))
    pid = session.participants.get().pk
    url = reverse("counselling:session_record", args=[session.pk])
    alices, monas = sign_in(client, alice), sign_in(Browser(), mona)
    assert monas.get(url).status_code == 200  # both have the page open

    assert alices.post(url, {f"p-{pid}-attendance": "attended", f"p-{pid}-note": ALICES, "duration_minutes": "50",
                             "approach": "cognitive_behavioural"}).status_code == 302
    response = monas.post(url, {f"p-{pid}-attendance": "no_show", f"p-{pid}-note": MONAS, "duration_minutes": "",
                                "approach": ""})

    assert response.status_code == 409
    html = response.content.decode()
    assert escape(ERROR_STATE_CHANGED % {"state": "Attended"}) in html
    assert f"{escape(MONAS)}</textarea>" in html  # nothing she typed is lost
    participant = Participant.objects.get()
    assert (participant.attendance, participant.note) == (Attendance.ATTENDED, ALICES)
    assert not case.counselling_tasks.exists()  # her no-show made no follow-up task
