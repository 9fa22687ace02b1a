"""Individual sessions and appointments: recorded from the client's page, the note encrypted under the client's
key, bad input refused with a clear message and nothing saved, the next appointment scheduled."""

from __future__ import annotations

import pytest
from django.db import connection
from django.urls import reverse

from casemgmt.models import AuditEvent
from clients.services import ERROR_NO_TREATMENT_CONSENT
from counselling import services
from counselling.models import Attendance, Participant, Session, SessionStatus
from tests.clients.helpers import assert_field_error, make_client
from tests.conftest import sign_in
from tests.counselling.factories import NOTE, ago, ahead, appointment, counselling_client
from tests.counselling.helpers import detail_url, html_of, local_input, session_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(alice, centre_a):
    return counselling_client(actor=alice, organisation=centre_a, n=1)


def record(client, case, **overrides):
    return client.post(reverse("counselling:session_add", args=[case.pk]), session_data(**overrides))


def test_a_session_recorded_from_the_client_page_shows_there_with_its_note(client, alice, case):
    sign_in(client, alice)
    assert f'href="{reverse("counselling:session_add", args=[case.pk])}"' in html_of(client, detail_url(case))

    response = record(client, case)

    assert response.status_code == 302 and response.url == detail_url(case)
    session = Session.objects.get()
    assert (session.status, session.counsellor, session.duration_minutes, session.organisation_id) == (
        SessionStatus.HELD, alice, 45, case.organisation_id)
    html = html_of(client, detail_url(case))
    for shown in (NOTE, "Attended", "Motivational interviewing", "45 minutes", "Individual"):
        assert shown in html


def test_the_note_is_stored_encrypted_and_audited_by_field_name_only(client, alice, case):
    sign_in(client, alice)
    record(client, case)
    participant = Participant.objects.get()
    with connection.cursor() as cursor:
        cursor.execute("SELECT note FROM counselling_participant")
        stored = bytes(cursor.fetchone()[0])
    assert NOTE.encode() not in stored and b"Synthetic" not in stored
    event = AuditEvent.objects.get(object_type="counselling.participant", action="create")
    assert (event.object_id, event.client_id, event.fields) == (str(participant.pk), case.pk, ["attendance", "note"])
    assert not [e for e in AuditEvent.objects.all() if "Synthetic note" in str([e.reason, e.fields, e.object_id])]


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"duration_minutes": ""}, "duration_minutes", services.ERROR_DURATION_REQUIRED),
    ({"approach": ""}, "approach", services.ERROR_APPROACH_REQUIRED),
    ({"starts_at": local_input(ahead(hours=3))}, "starts_at", services.ERROR_NOT_YET),
    ({"next_appointment": local_input(ago(days=1))}, "next_appointment", services.ERROR_APPOINTMENT_IN_PAST),
], ids=["attended with no duration", "attended with no approach", "attended before it starts",
        "next appointment in the past"])
def test_bad_input_is_refused_with_a_clear_message_and_nothing_is_saved(client, alice, case, overrides, field,
                                                                        message):
    sign_in(client, alice)
    response = record(client, case, **overrides)
    assert_field_error(response, field, message)
    assert f"{NOTE}</textarea>" in response.content.decode()  # what was typed stays on the page
    assert not Session.objects.exists() and not Participant.objects.exists()


def test_a_no_show_needs_no_duration_and_a_cancellation_may_be_ahead(client, alice, case):
    sign_in(client, alice)
    assert record(client, case, attendance="no_show", duration_minutes="", note="").status_code == 302
    assert record(client, case, attendance="cancelled", duration_minutes="", note="",
                  starts_at=local_input(ahead(days=2))).status_code == 302
    assert sorted(Session.objects.values_list("status", flat=True)) == [SessionStatus.NOT_HELD] * 2
    assert set(Session.objects.values_list("duration_minutes", flat=True)) == {None}


def test_attended_needs_an_active_treatment_consent_on_the_session_date(client, alice, centre_a):
    without = make_client(actor=alice, organisation=centre_a, n=2)
    sign_in(client, alice)
    assert_field_error(record(client, without), "attendance", ERROR_NO_TREATMENT_CONSENT)
    assert not Session.objects.exists()
    # A consent given today does not cover a session of last week.
    from tests.clients.helpers import give_consent

    give_consent(without, actor=alice)
    assert_field_error(record(client, without, starts_at=local_input(ago(days=7))), "attendance",
                       ERROR_NO_TREATMENT_CONSENT)
    assert record(client, without).status_code == 302


def test_an_appointment_in_the_past_is_refused_and_nothing_saved(client, alice, case):
    sign_in(client, alice)
    response = client.post(reverse("counselling:appointment_add", args=[case.pk]),
                           {"starts_at": local_input(ago(hours=2)), "modality": "individual"})
    assert_field_error(response, "starts_at", services.ERROR_APPOINTMENT_IN_PAST)
    assert not Session.objects.exists()


def test_an_appointment_shows_as_upcoming_and_is_recorded_from_there(client, alice, case, clock):
    sign_in(client, alice)
    response = client.post(reverse("counselling:appointment_add", args=[case.pk]),
                           {"starts_at": local_input(ahead(days=1)), "modality": "phone", "duration_minutes": "30"})
    assert response.status_code == 302
    session = Session.objects.get()
    assert (session.status, session.modality, session.counsellor) == (SessionStatus.SCHEDULED, "phone", alice)
    html = html_of(client, detail_url(case))
    upcoming = html[html.index("Upcoming appointments"):html.index('<h3>Sessions</h3>')]
    assert "Phone" in upcoming and reverse("counselling:session_record", args=[session.pk]) in upcoming

    clock(ahead(days=1, hours=1))  # the next day, once it has taken place
    sign_in(client, alice)
    response = client.post(reverse("counselling:session_record", args=[session.pk]), {
        f"p-{session.participants.get().pk}-attendance": "attended", f"p-{session.participants.get().pk}-note": NOTE,
        "duration_minutes": "", "approach": "relapse_prevention", "next_appointment": ""})

    assert response.status_code == 302 and response.url == detail_url(case)
    session.refresh_from_db()
    assert (session.status, session.duration_minutes, session.approach) == (SessionStatus.HELD, 30,
                                                                            "relapse_prevention")
    assert Participant.objects.get().attendance == Attendance.ATTENDED


def test_recording_an_appointment_before_it_starts_is_refused(client, alice, case):
    session = appointment(actor=alice, client=case)
    sign_in(client, alice)
    pid = session.participants.get().pk
    response = client.post(reverse("counselling:session_record", args=[session.pk]), {
        f"p-{pid}-attendance": "attended", "duration_minutes": "30", "approach": "relapse_prevention"})
    assert response.status_code == 200
    assert [str(e) for e in response.context["outcome"].non_field_errors()] == [str(services.ERROR_NOT_YET)]
    assert Participant.objects.get().attendance == Attendance.SCHEDULED


def test_a_next_appointment_is_scheduled_with_the_session(client, alice, case):
    sign_in(client, alice)
    response = record(client, case, next_appointment=local_input(ahead(days=6)))
    assert response.status_code == 302
    upcoming = Session.objects.get(status=SessionStatus.SCHEDULED)
    assert upcoming.participants.get().client_id == case.pk
    html = html_of(client, reverse("home"))
    assert reverse("counselling:session_record", args=[upcoming.pk]) in html  # in the next 7 days, to record


def test_a_manager_schedules_for_the_clients_counsellor(client, alice, mona, case):
    sign_in(client, mona)
    client.post(reverse("counselling:appointment_add", args=[case.pk]),
                {"starts_at": local_input(ahead(hours=3)), "modality": "individual"})
    assert Session.objects.get().counsellor == alice


def test_another_counsellor_of_the_centre_reaches_none_of_it(client, alice, carol, case):
    session = services.session_record(actor=alice, client=case, starts_at=ago(hours=1), modality="individual",
                                      attendance="attended", duration_minutes=40, approach="harm_reduction", note=NOTE)
    sign_in(client, carol)
    for url in (reverse("counselling:session_add", args=[case.pk]), reverse("counselling:session", args=[session.pk]),
                reverse("counselling:client_sessions", args=[case.pk]),
                reverse("counselling:note_edit", args=[session.pk, session.participants.get().pk])):
        assert client.get(url).status_code == 404, url
    assert NOTE not in html_of(client, reverse("counselling:sessions"))


def test_a_group_modality_is_not_offered_for_one_client(client, alice, case):
    sign_in(client, alice)
    response = record(client, case, modality="group")
    assert response.status_code == 200 and "modality" in response.context["form"].errors
    with pytest.raises(Exception, match="group session is made on its own page"):
        services.session_record(actor=alice, client=case, starts_at=ago(hours=1), modality="group",
                                attendance="attended", duration_minutes=40, approach="harm_reduction")



def test_bad_input_is_explained_in_the_users_language(client, alice, case):
    from django.conf import settings as django_settings

    sign_in(client, alice)
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "km"
    response = record(client, case, duration_minutes="")
    assert "វគ្គប្រឹក្សាដែលអតិថិជនបានមក ត្រូវការរយៈពេលរបស់វា គិតជានាទី។" in response.content.decode()
    assert "needs its duration" not in response.content.decode()
    assert not Session.objects.exists()


def test_the_clients_timeline_tells_what_happened_never_the_note(client, alice, case):
    sign_in(client, alice)
    record(client, case, risk_flags=["violence"], next_appointment=local_input(ahead(days=3)))
    html = html_of(client, detail_url(case))
    timeline = html[html.index("Timeline"):]
    for sentence in ("Counselling session recorded: Attended", "Risk flag raised",
                     "Added to a counselling session or appointment"):
        assert sentence in timeline, sentence
    assert NOTE not in timeline
