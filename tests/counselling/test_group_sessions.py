"""Group sessions: one session, many clients of one centre, attendance and a note per client. Each client's file
shows only their own note and never who else took part; a session page names only the participants the viewer
may see and counts the others."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from casemgmt.models import AuditEvent
from clients import services as client_services
from counselling import forms, services
from counselling.models import Attendance, Participant, Session, SessionStatus
from tests.clients.helpers import assert_field_error, make_client
from tests.conftest import sign_in
from tests.counselling.factories import ago, ahead, counselling_client, group, participant, record_all
from tests.counselling.helpers import detail_url, html_of, local_input

pytestmark = pytest.mark.django_db

NOTE_X = "Synthetic note for X: spoke about their brother (test)."
NOTE_Y = "Synthetic note for Y: spoke about debts (test)."


@pytest.fixture
def x(alice, centre_a):
    return counselling_client(actor=alice, organisation=centre_a, n=11)


@pytest.fixture
def y(carol, centre_a):
    return counselling_client(actor=carol, organisation=centre_a, n=12)


@pytest.fixture
def held_group(mona, x, y):
    """A group the manager ran an hour ago with alice's client X and carol's client Y, recorded with a note each."""
    session = group(actor=mona, clients=[x, y], held=True)
    record_all(actor=mona, session=session, notes={x.pk: NOTE_X, y.pk: NOTE_Y})
    return session


def identity_of(case) -> list[str]:
    return [case.uic, case.given_name, case.family_name, case.phone, case.national_id]


def test_a_group_session_is_made_from_uics_and_recorded_per_participant(client, alice, centre_a):
    a, b = (counselling_client(actor=alice, organisation=centre_a, n=n) for n in (21, 22))
    sign_in(client, alice)
    response = client.post(reverse("counselling:group_new"), {
        "starts_at": local_input(ago(hours=2)), "held": "on", "duration_minutes": "",
        "approach": "psycho_education", "participants": f"{a.uic.lower()}\n {b.uic} , {a.uic}"})
    session = Session.objects.get()
    assert response.status_code == 302 and response.url == reverse("counselling:session_record", args=[session.pk])
    assert (session.modality, session.status, session.participants.count()) == ("group", SessionStatus.SCHEDULED, 2)

    pa, pb = participant(session, a), participant(session, b)
    response = client.post(response.url, {
        f"p-{pa.pk}-attendance": "attended", f"p-{pa.pk}-note": NOTE_X, f"p-{pa.pk}-risk_flags": ["violence"],
        f"p-{pb.pk}-attendance": "no_show", f"p-{pb.pk}-note": "", "duration_minutes": "90", "approach": ""})

    assert response.status_code == 302, response.context and response.context["outcome"].errors
    session.refresh_from_db()
    assert (session.status, session.duration_minutes) == (SessionStatus.HELD, 90)
    assert {p.client_id: p.attendance for p in session.participants.all()} == {a.pk: "attended", b.pk: "no_show"}
    assert participant(session, a).note == NOTE_X and participant(session, b).note == ""
    assert a.counselling_risk_flags.get().kind == "violence" and b.counselling_tasks.count() == 1


def test_each_client_file_shows_only_their_own_note_and_never_the_others(client, alice, mona, x, y, held_group):
    for viewer in (alice, mona):
        client.logout()
        sign_in(client, viewer)
        html = html_of(client, detail_url(x))
        assert NOTE_X in html and "Group" in html
        assert NOTE_Y not in html
        for value in identity_of(y):
            if value:
                assert value not in html, value


def test_the_case_summary_pdf_holds_only_that_clients_sessions_and_note(client, mona, x, y, held_group):
    from tests.pdfs import parse

    sign_in(client, mona)
    response = client.get(reverse("clients:case_summary_pdf", args=[x.pk]), {"language": "en"})
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = parse(response.content).text
    assert "Counselling" in text and "Group · Attended" in text and NOTE_X in text
    assert NOTE_Y not in text and y.uic not in text and y.given_name not in text


def test_a_session_page_names_only_the_participants_the_viewer_may_see(client, alice, mona, x, y, held_group):
    url = reverse("counselling:session", args=[held_group.pk])
    sign_in(client, alice)
    html = html_of(client, url)
    assert x.uic in html and NOTE_X in html
    assert NOTE_Y not in html and y.uic not in html and y.given_name not in html
    assert "And 1 other participant, on another counsellor's caseload" in html

    client.logout()
    sign_in(client, mona)
    html = html_of(client, url)
    assert x.uic in html and y.uic in html and NOTE_X in html and NOTE_Y in html
    assert "other participant" not in html


def test_a_counsellor_records_only_their_own_clients_and_the_manager_the_rest(client, alice, mona, x, y):
    session = group(actor=mona, clients=[x, y], held=True)
    px, py = participant(session, x), participant(session, y)
    sign_in(client, alice)
    html = html_of(client, reverse("counselling:session_record", args=[session.pk]))
    assert f"p-{px.pk}-attendance" in html and f"p-{py.pk}-attendance" not in html and y.uic not in html
    # A crafted post for carol's client is ignored: alice's form has no row for it.
    response = client.post(reverse("counselling:session_record", args=[session.pk]), {
        f"p-{px.pk}-attendance": "attended", f"p-{px.pk}-note": NOTE_X, f"p-{py.pk}-attendance": "attended",
        f"p-{py.pk}-note": "Written by alice (test)", "duration_minutes": "60", "approach": "psycho_education"})
    assert response.status_code == 302
    py.refresh_from_db()
    assert (py.attendance, py.note) == (Attendance.SCHEDULED, "")
    with pytest.raises(Exception, match="Only participants the actor may write"):
        services.session_record_outcome(actor=alice, session=session,
                                        outcomes=[services.Outcome(participant=py, attendance="attended")])


def test_a_client_of_another_centre_is_refused_clearly_and_nothing_saved(client, alice, bob, centre_b, x):
    theirs = counselling_client(actor=bob, organisation=centre_b, n=31)
    sign_in(client, alice)
    response = client.post(reverse("counselling:group_new"), {
        "starts_at": local_input(ahead(days=2)), "participants": f"{x.uic}\n{theirs.uic}", "approach": ""})
    assert_field_error(response, "participants", forms.ERROR_UIC_NOT_FOUND % {"uic": theirs.uic})
    assert not Session.objects.exists()

    with pytest.raises(ValidationError) as refused:
        services.group_session_create(actor=alice, starts_at=ahead(days=2), clients=[x, theirs])
    assert refused.value.message_dict == {"participants": [str(services.ERROR_PARTICIPANT_OTHER_CENTRE)]}
    assert not Session.objects.exists() and not Participant.objects.exists()


def test_a_colleagues_client_cannot_be_added_by_a_counsellor(client, alice, x, y):
    sign_in(client, alice)
    response = client.post(reverse("counselling:group_new"), {
        "starts_at": local_input(ahead(days=2)), "participants": f"{x.uic}\n{y.uic}"})
    assert_field_error(response, "participants", forms.ERROR_UIC_NOT_FOUND % {"uic": y.uic})
    with pytest.raises(ValidationError) as refused:
        services.group_session_create(actor=alice, starts_at=ahead(days=2), clients=[x, y])
    assert refused.value.message_dict == {"participants": [str(services.ERROR_PARTICIPANT_NOT_YOURS)]}
    assert not Session.objects.exists()


@pytest.mark.parametrize(("held", "when", "message"), [
    (False, -3, services.ERROR_APPOINTMENT_IN_PAST),
    (True, 3, services.ERROR_NOT_YET),
], ids=["upcoming in the past", "held in the future"])
def test_a_group_at_the_wrong_time_is_refused(client, alice, x, held, when, message):
    sign_in(client, alice)
    data = {"starts_at": local_input(ahead(hours=when)), "participants": x.uic}
    if held:
        data["held"] = "on"
    assert_field_error(client.post(reverse("counselling:group_new"), data), "starts_at", message)
    assert not Session.objects.exists()


def test_no_uic_at_all_is_refused(client, alice):
    sign_in(client, alice)
    response = client.post(reverse("counselling:group_new"), {"starts_at": local_input(ahead(days=1)),
                                                             "participants": " , "})
    assert_field_error(response, "participants", forms.ERROR_NO_UICS)


def test_attendance_of_a_participant_without_consent_is_refused_for_everyone(client, alice, centre_a, x):
    without = make_client(actor=alice, organisation=centre_a, n=41)
    session = group(actor=alice, clients=[x, without], held=True)
    px, pw = participant(session, x), participant(session, without)
    sign_in(client, alice)
    response = client.post(reverse("counselling:session_record", args=[session.pk]), {
        f"p-{px.pk}-attendance": "attended", f"p-{px.pk}-note": NOTE_X, f"p-{pw.pk}-attendance": "attended",
        "duration_minutes": "60", "approach": "psycho_education"})
    assert response.status_code == 200
    rows = dict((p.pk, form) for p, form in response.context["rows"])
    assert rows[pw.pk].errors["attendance"] == [services.ERROR_PARTICIPANT_NO_CONSENT % {"uic": without.uic}]
    assert NOTE_X in response.content.decode()  # what was typed stays on the page
    assert set(Participant.objects.values_list("attendance", flat=True)) == {Attendance.SCHEDULED}


def test_a_transferred_participant_leaves_the_old_centres_session_page(client, alice, mona, bob, centre_b, x, y,
                                                                       held_group):
    client_services.client_transfer(actor=mona, client=x, to_organisation=centre_b)
    sign_in(client, mona)
    html = html_of(client, reverse("counselling:session", args=[held_group.pk]))
    assert x.uic not in html and NOTE_X not in html and y.uic in html
    # The new centre reads the session in the client's own file, not the old centre's session page.
    client.logout()
    from tests.factories import member

    nina2 = member("nina2", "centre_manager", centre_b)
    sign_in(client, nina2)
    assert NOTE_X in html_of(client, detail_url(x))
    assert client.get(reverse("counselling:session", args=[held_group.pk])).status_code == 404


def test_viewing_a_group_session_is_audited_per_client_seen(client, alice, x, held_group):
    sign_in(client, alice)
    html_of(client, reverse("counselling:session", args=[held_group.pk]))
    seen = AuditEvent.objects.filter(action="view", object_type="counselling.participant")
    assert [(e.client_id, e.fields) for e in seen] == [(x.pk, ["attendance", "note"])]


def test_each_note_is_bound_to_its_own_clients_key(x, y, held_group):
    """Erasing one participant (their data key destroyed) leaves the other's note readable."""
    from casemgmt import crypto
    from casemgmt import services as platform
    from casemgmt.fields import ERASED

    platform.subject_erase(subject_id=y.pk, reason="erasure request (test)")
    crypto.data_key_cache.clear()
    assert participant(held_group, x).note == NOTE_X
    assert participant(held_group, y).note is ERASED
