"""The report as a PDF (Khmer or English) and every table as CSV: the scope and period, the charts, the tables,
the definitions and the suppression note; hidden cells as "<5" and "x"; every print and download audited with
its scope and period; and no client identity anywhere a reviewer reaches (a canary client with a distinctive
name, UIC, phone and national ID is counted, never shown)."""

from __future__ import annotations

import csv
import datetime
import io
import re

import pytest
from django.urls import reverse

from casemgmt.models import AuditEvent
from clients import services
from tests.clients.factories import client_identity
from tests.conftest import sign_in
from tests.pdfs import parse
from tests.reports.factories import client as person
from tests.reports.factories import local, past_month

pytestmark = pytest.mark.django_db

CANARY = {"given_name": "Zorbacanary", "family_name": "Quixcanary", "other_names": "Aliascanary",
          "phone": "097 771 2299", "national_id": "CANARY-77", "mother_first_name": "Wumother",
          "father_first_name": "Yxfather", "village": "Villagecanary"}


@pytest.fixture
def canary(alice, centre_a):
    identity = client_identity(**CANARY, date_of_birth=datetime.date(1987, 7, 27), sex="F")
    made = services.client_register(actor=alice, organisation=centre_a, identity=identity, population_groups=["pwid"])
    return made


@pytest.fixture
def month_of_work(alice, pete, centre_a, prison, canary):
    period = past_month(1)
    from clients.models import Client

    Client.objects.filter(pk=canary.pk).update(created_at=local(period.start, 8))
    for n in range(9):
        person(actor=alice, organisation=centre_a, n=n, sex="F" if n % 2 else "M",
               registered_at=local(period.start, 9))
    for n in range(2):
        person(actor=pete, organisation=prison, n=30 + n, registered_at=local(period.start, 10))
    return period


def query(period) -> dict:
    return {"period": "month", "year": period.start.year, "month": period.start.month}


def marks(canary) -> list[str]:
    return [*CANARY.values(), "0977712299", "+855977712299", canary.uic]


def assert_no_identity(text: str, canary) -> None:
    folded = text.casefold()
    assert [mark for mark in marks(canary) if mark.casefold() in folded] == []


def test_the_pdf_has_the_scope_period_tables_charts_definitions_and_the_note(client, rita, month_of_work, canary):
    sign_in(client, rita)

    response = client.get(reverse("reports:report_pdf"), {**query(month_of_work), "language": "en"})

    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "no-store"
    slug = f"{month_of_work.start:%Y-%m}"
    assert f'filename="moh-report-national-{slug}.pdf"' in response["Content-Disposition"]
    document = parse(response.content)
    assert document.pages >= 3
    for text in ("Ministry of Health report", "National", month_of_work.label, "Headline figures",
                 "Clients newly registered, by age band and sex", "Referrals by service", "Indicator definitions",
                 "Counts from 1 to 4 are shown as", "Known HIV status at intake", "<5", "Page 1 of"):
        assert text in document.text, text
    assert "Organisation's copy" not in document.text
    assert "Clients, month by month" in document.text and "HIV cascade" in document.text  # the charts' own text
    assert_no_identity(document.text, canary)
    event = AuditEvent.objects.get(action="print", object_type="reports.report")
    assert event.reason == (f"document: moh_report; scope: national; period: {slug}; language: en; "
                            "copy: organisation")
    assert event.client_id is None


def test_the_pdf_in_khmer_prints_khmer(client, rita, month_of_work):
    sign_in(client, rita)
    response = client.get(reverse("reports:report_pdf"), {**query(month_of_work), "language": "km"})
    document = parse(response.content)
    assert document.khmer_characters > 50  # the platform's strings now, the report's own once merged
    assert AuditEvent.objects.get(action="print").reason.endswith("language: km; copy: organisation")


def test_a_table_as_csv_shows_hidden_cells_as_in_the_page(client, rita, month_of_work, canary):
    sign_in(client, rita)

    response = client.get(reverse("reports:table_csv", args=["cl-new-province-setting"]), query(month_of_work))

    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    slug = f"{month_of_work.start:%Y-%m}"
    assert response["Content-Disposition"] == (
        f'attachment; filename="moh-report-cl-new-province-setting-national-{slug}.csv"')
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[1] == ["Scope", "National"] and rows[2] == ["Period", month_of_work.label]
    header = rows.index(["Province", "Community (treatment centre)", "Prison (prison health unit)", "Total"])
    body = {row[0]: row[1:] for row in rows[header + 1:]}
    assert body["Kandal"] == ["0", "<5", "<5"]  # the prison's two new clients
    assert body["Total"][2] == "12"  # ten at the centre (the canary among them), two at the prison
    assert "x" in body["Phnom Penh"] + body["Total"]  # a complement, so that the two cannot be worked out
    assert_no_identity(response.content.decode("utf-8-sig"), canary)
    event = AuditEvent.objects.get(action="export", object_type="reports.report")
    assert event.reason == f"csv cl-new-province-setting; scope: national; period: {slug}"


def test_every_table_in_one_csv_file(client, rita, month_of_work, canary):
    sign_in(client, rita)
    full = client.get(reverse("reports:report"), query(month_of_work)).context["report"]

    response = client.get(reverse("reports:report_csv"), query(month_of_work))

    text = response.content.decode("utf-8-sig")
    for table in full.tables:
        assert str(table.title) in text
    assert "Headline figures" in text and "Monthly trend, last twelve months" in text
    assert_no_identity(text, canary)
    assert client.get(reverse("reports:table_csv", args=["no-such-table"]), query(month_of_work)).status_code == 404


def test_no_page_pdf_or_csv_a_reviewer_reaches_shows_a_client(client, rita, month_of_work, canary):
    sign_in(client, rita)
    params = query(month_of_work)
    pages = [client.get(reverse("home")), client.get(reverse("reports:dashboard"), params),
             client.get(reverse("reports:report"), params), client.get(reverse("reports:definitions")),
             client.get(reverse("reports:report_csv"), params)]
    html = client.get(reverse("reports:report"), params).content.decode()
    for table_id in re.findall(r'href="/reports/tables/([a-z0-9-]+)\.csv', html):
        pages.append(client.get(reverse("reports:table_csv", args=[table_id]), params))
    assert len(pages) > 15
    for response in pages:
        assert response.status_code == 200
        assert_no_identity(response.content.decode("utf-8-sig"), canary)
    for language in ("en", "km"):
        pdf = client.get(reverse("reports:report_pdf"), {**params, "language": language})
        assert_no_identity(parse(pdf.content).text, canary)
