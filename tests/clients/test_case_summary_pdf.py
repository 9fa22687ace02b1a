"""The client's case summary PDF: the UIC instead of the name (the client's copy names them), consents,
screenings, custody, then what feature apps print through their sections (plans.sections here)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from casemgmt.models import AuditAction, AuditEvent
from clients.sections import register_case_file_section
from tests.clients.factories import case_file
from tests.conftest import sign_in
from tests.pdfs import parse

pytestmark = pytest.mark.django_db


@pytest.fixture
def records(alice, bob, centre_a, prison):
    return case_file(counsellor=alice, organisation=centre_a, prison=prison, requester=bob)


def summary(client, case, **options):
    response = client.get(reverse("clients:case_summary_pdf", args=[case.pk]), options)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    return parse(response.content)


def test_the_summary_names_the_client_by_uic_and_lists_the_case_file(client, alice, records):
    case = records["client"]
    sign_in(client, alice)
    document = summary(client, case, language="en")
    assert case.uic in document.text
    assert "Testdara" not in document.text and "Synthsok" not in document.text  # the name
    assert "012 345 678" not in document.text and "Test village" not in document.text  # nor contact details
    for heading in ("Consents", "Screenings (WHO ASSIST)", "Custody", "Treatment plan", "Reintegration plan"):
        assert heading in document.text
    assert "Treatment and data processing" in document.text and "2026-01-05" in document.text
    assert "Prison unit (test)" in document.text and "2026-02-01" in document.text
    assert "Page 1 of" in document.text and "Confidential health information" in document.text


def test_the_clients_copy_names_them(client, alice, records):
    sign_in(client, alice)
    document = summary(client, records["client"], language="en", client_copy="on")
    assert "Synthsok Testdara" in document.text and "Client's copy" in document.text


def test_the_summary_prints_the_plan_in_force_from_the_plans_section(client, alice, mona, records):
    from plans import services
    from tests.plans.factories import goal_values

    case = records["client"]
    plan = services.plan_create(actor=alice, client=case, review_on=None)
    services.goal_save(actor=alice, plan=plan, values=goal_values(text="Synthetic: a goal in force"))
    services.plan_set_review_date(actor=alice, plan=plan, review_on=plan.created_at.date().replace(year=2031))
    plan = services.plan_submit(actor=alice, plan=plan)
    services.plan_activate(actor=alice, plan=services.plan_approve(actor=mona, plan=plan, seen_revision=1))
    sign_in(client, alice)
    document = summary(client, case, language="en")
    assert "Synthetic: a goal in force" in document.text and "Active" in document.text


def test_a_section_without_a_pdf_template_is_not_printed(client, alice, mona, records):
    sign_in(client, mona)  # the test feature app shows its section to managers, on the page only
    assert "Notices section (test)" in client.get(reverse("clients:detail", args=[records["client"].pk])).content \
        .decode()
    assert "Notices section" not in summary(client, records["client"], language="en").text


def test_a_registered_pdf_section_is_printed_in_the_chosen_language(client, alice, records, settings, tmp_path):
    (tmp_path / "pdf").mkdir()
    (tmp_path / "pdf" / "probe.html").write_text(
        '{% load i18n %}{% get_current_language as L %}<h2>Probe section {{ L }}</h2>')
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}]

    def probe(*, user, client):
        return {"name": "probe", "template": "pdf/probe.html", "pdf_template": "pdf/probe.html"}

    register_case_file_section(probe, order=999)
    try:
        sign_in(client, alice)
        assert "Probe section km" in summary(client, records["client"], language="km").text
    finally:
        from clients import sections

        sections._sections[:] = [item for item in sections._sections if item[1] is not probe]
    event = AuditEvent.objects.filter(action=AuditAction.PRINT).latest("seq")
    assert (event.object_type, event.client_id) == ("clients.client", records["client"].pk)
    assert event.reason == "document: case_summary; language: km; copy: organisation"
    assert "probe" in event.fields and "plans" in event.fields


def test_another_centre_gets_not_found_and_nothing_is_printed(client, bob, records):
    sign_in(client, bob)
    assert client.get(reverse("clients:case_summary_pdf", args=[records["client"].pk])).status_code == 404
    assert not AuditEvent.objects.filter(action=AuditAction.PRINT).exists()
