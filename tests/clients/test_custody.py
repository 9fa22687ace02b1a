"""Custody episodes: the prison staff's list of releases due, and dates that cannot be."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from casemgmt.roles import Role
from clients import services
from clients.models import CustodyEpisode
from tests.clients.helpers import assert_field_error, detail_url, make_client
from tests.conftest import sign_in
from tests.factories import member

pytestmark = pytest.mark.django_db

RELEASES = reverse("clients:releases")
EMPTY = "No release expected in the next 30 days among your clients in custody here."


def days(n: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=n)


def custody_url(case) -> str:
    return reverse("clients:custody_add", args=[case.pk])


def test_a_custody_episode_recorded_through_the_form_shows_in_the_releases_due(client, pete, prison):
    case = make_client(actor=pete, organisation=prison, n=1)
    sign_in(client, pete)
    response = client.post(custody_url(case), {"facility": str(prison.pk), "admitted_on": days(-200).isoformat(),
                                               "expected_release_on": days(10).isoformat()})
    assert response.status_code == 302 and response.url == detail_url(case)
    detail = client.get(detail_url(case)).content.decode()
    assert f"expected release {days(10):%Y-%m-%d}" in detail

    html = client.get(RELEASES).content.decode()
    assert f"<code>{case.uic}</code>" in html
    assert f"<td>{days(10):%Y-%m-%d}</td>" in html
    assert case.given_name not in html and case.family_name not in html


def test_only_releases_in_the_next_30_days_at_their_own_facility_are_listed(client, pete, alice, prison, prison_b,
                                                                             centre_a):
    def episode(n, *, facility=prison, release=None, released=None, actor=pete, organisation=prison):
        case = make_client(actor=actor, organisation=organisation, n=n)
        ep = services.custody_admit(actor=actor, client=case, facility=facility, admitted_on=days(-100),
                                    expected_release_on=release)
        if released:
            services.custody_release(actor=actor, episode=ep, released_on=released)
        return case

    soon = episode(1, release=days(20))
    today = episode(2, release=days(0))
    last_day = episode(3, release=days(30))
    later = episode(4, release=days(31))
    overdue = episode(5, release=days(-1))
    released = episode(6, release=days(5), released=days(-2))
    unknown = episode(7, release=None)
    elsewhere = episode(8, facility=prison_b, release=days(3))  # pete's client, held at another prison
    not_his = episode(9, release=days(4), actor=alice, organisation=centre_a)  # a centre A client held here

    sign_in(client, pete)
    html = client.get(RELEASES).content.decode()
    listed = [case for case in (soon, today, last_day, later, overdue, released, unknown, elsewhere, not_his)
              if case.uic in html]
    assert listed == [soon, today, last_day]
    assert html.index(today.uic) < html.index(soon.uic) < html.index(last_day.uic)  # soonest first


def test_releases_follow_the_caseload_and_the_facility(client, alice, pete, prison):
    paul = member("paul", Role.COUNSELLOR, prison)  # another counsellor of the same prison unit
    warden = member("wendy", Role.CENTRE_MANAGER, prison)
    case = make_client(actor=pete, organisation=prison, n=1)
    services.custody_admit(actor=pete, client=case, facility=prison, admitted_on=days(-10),
                           expected_release_on=days(5))
    for user, listed in ((pete, True), (warden, True), (paul, False), (alice, False)):
        client.logout()
        sign_in(client, user)
        html = client.get(RELEASES).content.decode()
        assert (case.uic in html) is listed, user
        assert (EMPTY in html) is not listed


def test_recording_the_release_takes_it_off_the_list(client, pete, prison):
    case = make_client(actor=pete, organisation=prison, n=1)
    ep = services.custody_admit(actor=pete, client=case, facility=prison, admitted_on=days(-10),
                                expected_release_on=days(5))
    sign_in(client, pete)
    assert case.uic in client.get(RELEASES).content.decode()
    response = client.post(reverse("clients:custody_release", args=[case.pk, ep.pk]),
                           {"released_on": days(0).isoformat()})
    assert response.status_code == 302
    assert EMPTY in client.get(RELEASES).content.decode()
    assert f"released {days(0):%Y-%m-%d}" in client.get(detail_url(case)).content.decode()


def test_an_expected_release_before_the_admission_is_a_field_error(client, pete, prison):
    case = make_client(actor=pete, organisation=prison, n=1)
    sign_in(client, pete)
    response = client.post(custody_url(case), {"facility": str(prison.pk), "admitted_on": days(-5).isoformat(),
                                               "expected_release_on": days(-6).isoformat()})
    assert_field_error(response, "expected_release_on", services.ERROR_RELEASE_BEFORE_ADMISSION)
    assert CustodyEpisode.objects.count() == 0
    assert EMPTY in client.get(RELEASES).content.decode()


def test_a_release_before_the_admission_is_a_field_error(client, pete, prison):
    case = make_client(actor=pete, organisation=prison, n=1)
    ep = services.custody_admit(actor=pete, client=case, facility=prison, admitted_on=days(-10),
                                expected_release_on=days(5))
    sign_in(client, pete)
    response = client.post(reverse("clients:custody_release", args=[case.pk, ep.pk]),
                           {"released_on": days(-11).isoformat()})
    assert_field_error(response, "released_on", services.ERROR_RELEASE_BEFORE_ADMISSION)
    ep.refresh_from_db()
    assert ep.released_on is None
    assert case.uic in client.get(RELEASES).content.decode()


def test_custody_is_recorded_only_at_a_prison_health_unit(client, pete, prison, centre_a):
    case = make_client(actor=pete, organisation=prison, n=1)
    sign_in(client, pete)
    response = client.post(custody_url(case), {"facility": str(centre_a.pk), "admitted_on": days(-5).isoformat()})
    assert response.status_code == 200 and response.context["form"].errors["facility"]
    assert CustodyEpisode.objects.count() == 0


def test_another_centre_cannot_record_custody(client, bob, pete, prison):
    case = make_client(actor=pete, organisation=prison, n=1)
    sign_in(client, bob)
    response = client.post(custody_url(case), {"facility": str(prison.pk), "admitted_on": days(-5).isoformat()})
    assert response.status_code == 404
    assert CustodyEpisode.objects.count() == 0
