"""The reviewer's home is the dashboard: headline figures, the twelve-month trend, the HIV cascade and referrals by
service, each chart an inline SVG drawn on the server (no script, no inline style) from published figures only, with
its table and its definitions linked; the same figures in the full report; audited with the scope and period;
a constant number of queries whatever the number of records; readable in Khmer."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from casemgmt.models import AuditEvent
from reports import charts, report
from reports.scope import NATIONAL, Scope
from tests.conftest import sign_in
from tests.reports.factories import client as person
from tests.reports.factories import local, past_month, referral

pytestmark = pytest.mark.django_db


def month_query(period) -> dict:
    return {"period": "month", "year": period.start.year, "month": period.start.month}


@pytest.fixture
def last_month_of_work(alice, pete, centre_a, prison, partner, priya):
    """Last month: 12 clients registered at centre A (9 referred for HIV testing, 6 of them accepted), 3 at the
    prison unit (a small count: "<5")."""
    from tests.referrals.factories import partner_service

    period = past_month(1)
    testing = partner_service(organisation=partner, service_type="hiv_testing", target_days=3)
    people = []
    for n in range(12):
        people.append(person(actor=alice, organisation=centre_a, n=n, registered_at=local(period.start, 9 + n % 8)))
    for n in range(3):
        person(actor=pete, organisation=prison, n=20 + n, registered_at=local(period.start, 10))
    for n, someone in enumerate(people[:9]):
        referral(actor=alice, client=someone, service=testing, partner=partner, officer=priya,
                 steps=("accept",) if n < 6 else (), sent_at=local(period.start, 20),
                 accepted_at=local(period.start, 22) if n < 6 else None)
    return period


def test_the_reviewers_home_is_the_dashboard_with_charts_and_their_tables(client, rita, last_month_of_work):
    sign_in(client, rita)

    html = client.get(reverse("home")).content.decode()

    assert "<h1>National figures</h1>" in html
    main = html.split('<main id="main">')[1]
    svgs = re.findall(r"<svg [^>]*>.*?</svg>", main, re.S)
    assert len(svgs) == 4  # two trend charts, the cascade, referrals by service
    for svg in svgs:
        assert 'role="img"' in svg and "<title " in svg and "<desc " in svg
        assert "<script" not in svg and "<style" not in svg and "style=" not in svg
    assert "<script" not in html
    for heading in ("The last twelve months", "HIV cascade", "Referrals by service", "Headline figures"):
        assert heading in main
    assert main.count("<table") == 3  # the trend's, the cascade's, the services'
    # Every chart and table links its definitions, which the definitions page has.
    definitions = client.get(reverse("reports:definitions")).content.decode()
    anchors = set(re.findall(r'href="/reports/definitions/#(indicator-[a-z0-9-]+)"', main))
    assert {"indicator-cl-new", "indicator-cl-act", "indicator-hiv-known", "indicator-rf-sent"} <= anchors
    for anchor in anchors:
        assert f'id="{anchor}"' in definitions
    assert 'href="/static/css/reports-charts.css"' in html


def test_small_counts_show_as_less_than_five_and_charts_draw_them_as_missing(client, rita, last_month_of_work,
                                                                              monkeypatch):
    drawn = {}
    real_bars, real_line = charts.bars, charts.line

    def bars(**kwargs):
        drawn[kwargs["chart_id"]] = kwargs["series"]
        return real_bars(**kwargs)

    def line(**kwargs):
        drawn[kwargs["chart_id"]] = kwargs["series"]
        return real_line(**kwargs)

    monkeypatch.setattr(charts, "bars", bars)
    monkeypatch.setattr(charts, "line", line)
    sign_in(client, rita)

    response = client.get(reverse("reports:dashboard"), month_query(last_month_of_work))

    d = response.context["d"]
    headlines = {h.indicator.code: h.figure.text for h in d["report"].headlines}
    assert headlines["CL-NEW"] == "15" and headlines["RF-SENT"] == "9"
    assert headlines["RF-CLR"] == "0.0"  # none completed; nine sent
    cascade = d["cascade_table"]
    assert [f.text for f in cascade.figures[1]] == ["9", "0", "9"]  # referred for testing: community, prison, all
    # The services chart: sent 9, accepted 6, completed 0, drawn; the trend's last month: 15 new clients.
    assert drawn["chart-rf-service"] == [("Sent", [9]), ("Accepted", [6]), ("Completed", [0])]
    assert drawn["chart-trend-clients"][0][1][-1] == 15
    # Prison's three new clients: "<5" in the cascade's cohort by setting (full report), never drawn as 0.
    full = report.build(scope=Scope(NATIONAL), period=last_month_of_work, parts=report.FULL)
    by_setting = full.table("cl-new-province-setting")
    texts = [[f.text for f in row if f is not None] for row in by_setting.figures]
    assert ["<5"] == [text for row in texts for text in row if text == "<5"][:1]
    prison_row = [label for label, _cells, _t in by_setting.body()].index("Kandal")
    assert by_setting.figures[prison_row][1].chart_value is None


def test_the_dashboard_and_the_full_report_show_the_same_figures(client, rita, last_month_of_work):
    sign_in(client, rita)
    query = month_query(last_month_of_work)

    dashboard = client.get(reverse("reports:dashboard"), query).context["d"]["report"]
    full = client.get(reverse("reports:report"), query).context["report"]

    for table_id in ("rf-service", "hiv-setting"):
        assert ([[f.text if f else None for f in row] for row in dashboard.table(table_id).figures]
                == [[f.text if f else None for f in row] for row in full.table(table_id).figures])
    shared = {h.indicator.code: h.figure.text for h in dashboard.headlines}
    assert all(h.figure.text == shared[h.indicator.code] for h in full.headlines if h.indicator.code in shared)


def test_every_report_page_is_audited_with_its_scope_and_period_and_no_client(client, rita, last_month_of_work):
    sign_in(client, rita)
    period = last_month_of_work
    slug = f"{period.start:%Y-%m}"

    client.get(reverse("reports:dashboard"), month_query(period))
    client.get(reverse("reports:report"), month_query(period))
    client.get(reverse("home"))

    events = AuditEvent.objects.filter(object_type="reports.report", action="view").order_by("seq")
    assert [e.reason for e in events] == [f"dashboard; scope: national; period: {slug}",
                                          f"report; scope: national; period: {slug}",
                                          f"home dashboard; scope: national; period: {slug}"]
    assert all(e.client_id is None and e.actor_username == "rita" for e in events)


def test_a_centre_manager_reaches_their_centres_reports_from_home(client, mona, last_month_of_work):
    sign_in(client, mona)
    home = client.get(reverse("home")).content.decode()
    assert reverse("reports:dashboard") in home and "Open the reports" in home

    d = client.get(reverse("reports:dashboard"), month_query(last_month_of_work)).context["d"]
    assert {h.indicator.code: h.figure.text for h in d["report"].headlines}["CL-NEW"] == "12"


def _queries(client, url, query) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, query).status_code == 200
    return len(captured.captured_queries)


def test_the_number_of_queries_does_not_grow_with_the_records(client, rita, alice, centre_a, last_month_of_work):
    sign_in(client, rita)
    query = month_query(last_month_of_work)
    urls = (reverse("reports:dashboard"), reverse("reports:report"))
    for url in urls:
        client.get(url, query)  # the session's first requests write what it remembers
    before = {url: _queries(client, url, query) for url in urls}
    for n in range(30):
        person(actor=alice, organisation=centre_a, n=100 + n, registered_at=local(last_month_of_work.start, 11))
    after = {url: _queries(client, url, query) for url in before}
    assert after == before
    assert before[reverse("reports:dashboard")] <= 25


def test_the_dashboard_reads_in_khmer(client, rita, last_month_of_work):
    sign_in(client, rita)
    client.post(reverse("set_language"), {"language": "km", "next": reverse("home")})

    html = client.get(reverse("home")).content.decode()

    assert '<html lang="km">' in html
    main = html.split('<main id="main">')[1]
    assert "តួលេខសំខាន់ៗ" in main  # "Headline figures"
    assert "អតិថិជនចុះឈ្មោះថ្មី" in main  # "Clients newly registered"
    assert "Headline figures" not in main
    svg = re.findall(r"<svg [^>]*>.*?</svg>", main, re.S)[0]
    assert re.search(r"[\u1780-\u17ff]", svg)  # the chart's own labels too


def test_the_charts_stylesheet_is_pygals_own_for_the_charts_style():
    """static/css/reports-charts.css is generated (reports.charts.write_stylesheet): a pygal upgrade or a new style
    that changes it fails here until it is written again."""
    assert charts.STYLESHEET.read_text(encoding="utf-8") == charts.stylesheet()
