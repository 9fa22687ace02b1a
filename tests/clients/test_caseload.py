"""The caseload page: constant queries, UIC and initials only, 50 a page, filters, most recent activity first."""

from __future__ import annotations

import datetime
import re

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from casemgmt import crypto
from clients.models import Client
from tests.clients.helpers import consent_data, detail_url, make_client, title_of
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

CASELOAD = reverse("clients:caseload")
# Session, user (with membership and organisation), device, count, the audit event (savepoint, advisory lock,
# last event, insert, release), the page. Population groups are a column; the session is written at most once
# a minute. The budget is 12.
MAX_QUERIES = 10
# The same, plus the page's data keys, read in one query rather than from the in-process cache.
MAX_QUERIES_COLD = 11


def many(n: int, *, actor, organisation, **kwargs) -> list[Client]:
    return [make_client(actor=actor, organisation=organisation, n=i, **kwargs) for i in range(n)]


def uics_in_order(html: str) -> list[str]:
    return re.findall(r"<td><a href=\"/clients/[0-9a-f-]+/\"><code>([A-Z0-9]+)</code></a></td>", html)


@pytest.mark.parametrize("who", ["alice", "mona"])
@pytest.mark.parametrize("n", [3, 60])
def test_the_caseload_runs_a_constant_number_of_queries(client, actors, centre_a, django_assert_max_num_queries,
                                                        who, n):
    clients = many(n, actor=actors["alice"], organisation=centre_a, population_groups=["pwid", "prisoner"])
    sign_in(client, actors[who])
    client.get(CASELOAD)  # the first request of a session does some one-off bookkeeping
    with django_assert_max_num_queries(MAX_QUERIES):
        response = client.get(CASELOAD)
    assert len(uics_in_order(response.content.decode())) == min(n, 50)
    assert clients[-1].uic in response.content.decode()


@pytest.mark.parametrize("n", [3, 60])
def test_the_caseload_runs_a_constant_number_of_queries_with_a_cold_key_cache(
        client, alice, centre_a, django_assert_max_num_queries, n):
    many(n, actor=alice, organisation=centre_a)
    sign_in(client, alice)
    client.get(CASELOAD)
    crypto.data_key_cache.clear()  # another app server, or a minute later: each client's data key must be read
    with django_assert_max_num_queries(MAX_QUERIES_COLD):
        response = client.get(CASELOAD)
    assert len(uics_in_order(response.content.decode())) == min(n, 50)


def test_the_caseload_shows_uic_and_initials_never_names(client, alice, centre_a):
    clients = many(3, actor=alice, organisation=centre_a)
    sign_in(client, alice)
    html = client.get(CASELOAD).content.decode()
    for case in clients:
        assert f"<code>{case.uic}</code>" in html
        assert f"<td>{case.initials}</td>" in html and case.initials == "ST"
        for value in (case.given_name, case.family_name, case.phone, case.national_id, case.mother_first_name):
            assert value not in html
    assert title_of(html).strip() == "Clients"


def test_the_caseload_shows_coded_values_in_the_users_language(client, alice, centre_a):
    make_client(actor=alice, organisation=centre_a, population_groups=["pwid"])
    sign_in(client, alice)
    english = client.get(CASELOAD).content.decode()
    assert "<td>Active</td>" in english and "<td>People who inject drugs</td>" in english
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "km"
    khmer = client.get(CASELOAD).content.decode()
    assert "<td>សកម្ម</td>" in khmer and "<td>Active</td>" not in khmer
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert "<td>Active</td>" in client.get(CASELOAD).content.decode()


def test_fifty_clients_a_page(client, alice, centre_a):
    clients = many(60, actor=alice, organisation=centre_a)
    sign_in(client, alice)
    first = client.get(CASELOAD).content.decode()
    second = client.get(CASELOAD, {"page": 2}).content.decode()
    assert len(uics_in_order(first)) == 50 and "Page 1 of 2" in first and 'page=2">Next' in first
    assert len(uics_in_order(second)) == 10 and "Page 2 of 2" in second
    assert set(uics_in_order(first)) | set(uics_in_order(second)) == {c.uic for c in clients}


def test_most_recent_activity_first(client, alice, centre_a):
    old, recent, middle = many(3, actor=alice, organisation=centre_a)
    now = timezone.now()
    for case, age in ((old, 3), (recent, 1), (middle, 2)):
        Client.objects.filter(pk=case.pk).update(last_activity_at=now - datetime.timedelta(days=age))
    sign_in(client, alice)
    assert uics_in_order(client.get(CASELOAD).content.decode()) == [recent.uic, middle.uic, old.uic]

    # Recording a consent is activity: that client comes first.
    assert client.post(reverse("clients:consent_add", args=[old.pk]), consent_data()).status_code == 302
    assert uics_in_order(client.get(CASELOAD).content.decode()) == [old.uic, recent.uic, middle.uic]


@pytest.fixture
def three(alice, centre_a):
    a = make_client(actor=alice, organisation=centre_a, n=1, population_groups=["pwid"])
    b = make_client(actor=alice, organisation=centre_a, n=2, population_groups=["prisoner"])
    c = make_client(actor=alice, organisation=centre_a, n=3, population_groups=["pwid", "sex_worker"])
    Client.objects.filter(pk=a.pk).update(risk_level="high")
    Client.objects.filter(pk=b.pk).update(risk_level="moderate", status="inactive")
    Client.objects.filter(pk=c.pk).update(risk_level="low")
    return a, b, c


@pytest.mark.parametrize(("filters", "expected"), [
    ({}, "abc"),
    ({"status": "inactive"}, "b"),
    ({"status": "active"}, "ac"),
    ({"population_group": "pwid"}, "ac"),
    ({"population_group": "sex_worker"}, "c"),
    ({"population_group": "msm"}, ""),
    ({"risk_level": "high"}, "a"),
    ({"risk_level": "moderate", "status": "inactive"}, "b"),
    ({"risk_level": "low", "population_group": "prisoner"}, ""),
])
def test_filters(client, alice, three, filters, expected):
    sign_in(client, alice)
    html = client.get(CASELOAD, filters).content.decode()
    shown = {name for name, case in zip("abc", three, strict=True) if case.uic in html}
    assert shown == set(expected)
    if not expected:
        assert "No clients match." in html


def test_a_filter_is_kept_when_paging(client, alice, centre_a):
    many(55, actor=alice, organisation=centre_a, population_groups=["pwud"])
    sign_in(client, alice)
    html = client.get(CASELOAD, {"population_group": "pwud"}).content.decode()
    assert 'href="?population_group=pwud&amp;page=2"' in html
    assert len(uics_in_order(client.get(CASELOAD, {"population_group": "pwud", "page": 2}).content.decode())) == 5


def test_a_counsellor_sees_their_caseload_and_the_manager_the_centre(client, alice, carol, mona, bob, centre_a):
    hers = make_client(actor=alice, organisation=centre_a, n=1)
    colleagues = make_client(actor=carol, organisation=centre_a, n=2)
    expected = {alice: {hers}, carol: {colleagues}, mona: {hers, colleagues}, bob: set()}
    for user, visible in expected.items():
        client.logout()
        sign_in(client, user)
        html = client.get(CASELOAD).content.decode()
        assert {c for c in (hers, colleagues) if c.uic in html} == visible, user
        assert all(f'href="{detail_url(c)}"' in html for c in visible)


def test_tab_titles_of_the_client_pages_never_name_the_client(client, alice, centre_a):
    case = make_client(actor=alice, organisation=centre_a, n=1)
    sign_in(client, alice)
    detail = client.get(detail_url(case)).content.decode()
    assert f"<h1>{case.family_name} {case.given_name}</h1>" in detail  # the name is on the page itself
    pages = {name: client.get(reverse(f"clients:{name}", args=[case.pk])) for name in (
        "detail", "edit_identity", "consent_add", "screening_add", "custody_add")}
    for name, response in pages.items():
        assert response.status_code == 200, name
        title = title_of(response.content.decode())
        for value in (case.given_name, case.family_name, case.uic, case.phone, case.national_id):
            assert value not in title, (name, title)
