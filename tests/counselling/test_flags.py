"""Risk flags (suicide, violence, overdose): raised in a session, shown at the top of the client's page and on the
manager's dashboard until someone resolves them, saying how."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils.html import escape

from casemgmt.transitions import ERROR_STATE_CHANGED, TransitionRefused
from clients import services as client_services
from counselling import services
from counselling.models import FlagStatus, RiskFlag
from tests.clients.helpers import assert_field_error
from tests.conftest import sign_in
from tests.counselling.factories import counselling_client, recorded
from tests.counselling.helpers import detail_url, html_of, session_data
from tests.factories import member

pytestmark = pytest.mark.django_db

RESOLUTION = "Safety plan agreed with the family (test)."


@pytest.fixture
def case(alice, centre_a):
    return counselling_client(actor=alice, organisation=centre_a, n=1)


@pytest.fixture
def flag(alice, case):
    recorded(actor=alice, client=case, flags=["suicide"])
    return RiskFlag.objects.get()


def counselling_of(html: str) -> str:
    return html[html.index('id="counselling"'):]


def test_a_risk_raised_in_a_session_shows_on_the_client_page_and_the_dashboard(client, alice, mona, case):
    sign_in(client, alice)
    client.post(reverse("counselling:session_add", args=[case.pk]), session_data(risk_flags=["suicide", "overdose"]))
    flags = RiskFlag.objects.order_by("kind")
    assert [(f.kind, f.status, f.raised_by, f.organisation_id) for f in flags] == [
        ("overdose", "open", alice, case.organisation_id), ("suicide", "open", alice, case.organisation_id)]
    section = counselling_of(html_of(client, detail_url(case)))
    top = section[:section.index("Upcoming appointments")]
    assert "Open risk flags" in top and "Suicide risk" in top and "Overdose risk" in top

    client.logout()
    sign_in(client, mona)
    home = html_of(client, reverse("home"))
    flags_panel = home[home.index('id="open-flags"'):]
    assert case.uic in flags_panel and "Suicide risk" in flags_panel and "alice" in flags_panel
    assert case.given_name not in home  # UIC and initials, never a name


def test_a_risk_already_open_is_not_raised_twice(alice, case, flag):
    recorded(actor=alice, client=case, flags=["suicide", "violence"])
    assert sorted(RiskFlag.objects.values_list("kind", "status")) == [("suicide", "open"), ("violence", "open")]


def test_resolving_needs_a_note_and_removes_the_flag_from_both_pages(client, alice, mona, case, flag):
    url = reverse("counselling:flag_resolve", args=[case.pk, flag.pk])
    sign_in(client, alice)
    assert_field_error(client.post(url, {"resolution_note": "  "}), "resolution_note",
                       services.ERROR_RESOLUTION_REQUIRED)
    assert RiskFlag.objects.get().status == FlagStatus.OPEN

    assert client.post(url, {"resolution_note": RESOLUTION}).status_code == 302
    flag.refresh_from_db()
    assert (flag.status, flag.resolved_by, flag.resolution_note) == ("resolved", alice, RESOLUTION)
    section = counselling_of(html_of(client, detail_url(case)))
    assert "Open risk flags" not in section and "Suicide risk (resolved)" in section  # in the session's row

    client.logout()
    sign_in(client, mona)
    assert "No open risk flag at the centre" in html_of(client, reverse("home"))
    assert case.uic not in html_of(client, reverse("counselling:flags"))


def test_a_flag_resolved_meanwhile_is_not_resolved_again(client, alice, mona, case, flag):
    services.flag_resolve(actor=mona, flag=flag, resolution_note=RESOLUTION)
    with pytest.raises(TransitionRefused) as refused:
        services.flag_resolve(actor=alice, flag=flag, resolution_note="A second answer (test)")
    assert refused.value.message == ERROR_STATE_CHANGED % {"state": "Resolved"}
    sign_in(client, alice)
    response = client.post(reverse("counselling:flag_resolve", args=[case.pk, flag.pk]),
                           {"resolution_note": "A second answer (test)"}, follow=True)
    assert escape(ERROR_STATE_CHANGED % {"state": "Resolved"}) in response.content.decode()
    assert RiskFlag.objects.get().resolution_note == RESOLUTION


def test_a_flag_follows_its_client_to_another_centre(client, mona, nina, centre_b, case, flag):
    client_services.client_transfer(actor=mona, client=case, to_organisation=centre_b)
    assert RiskFlag.objects.get().organisation == centre_b
    sign_in(client, mona)
    assert case.uic not in html_of(client, reverse("home"))
    client.logout()
    sign_in(client, nina)
    assert case.uic in html_of(client, reverse("home"))


def test_only_the_clients_counsellor_and_managers_see_or_resolve_it(client, carol, bob, case, flag):
    for other in (carol, bob):
        client.logout()
        sign_in(client, other)
        assert case.uic not in html_of(client, reverse("counselling:flags"))
        assert client.get(reverse("counselling:flag_resolve", args=[case.pk, flag.pk])).status_code == 404
    with pytest.raises(TransitionRefused):
        services.flag_resolve(actor=carol, flag=flag, resolution_note=RESOLUTION)


def test_an_erased_client_leaves_the_dashboard(client, mona, case, flag):
    from casemgmt import services as platform

    platform.subject_erase(subject_id=case.pk, reason="erasure request (test)")
    sign_in(client, mona)
    assert "No open risk flag at the centre" in html_of(client, reverse("home"))


def test_a_second_manager_sees_the_flags_of_the_whole_centre(client, carol, centre_a):
    theirs = counselling_client(actor=carol, organisation=centre_a, n=5)
    recorded(actor=carol, client=theirs, flags=["violence"])
    manager = member("mani", "centre_manager", centre_a)
    sign_in(client, manager)
    assert theirs.uic in html_of(client, reverse("counselling:flags"))
