"""The treatment plan and reintegration plan PDFs: they render (parsed back with pypdf), name the client by the UIC
unless it is the client's copy, number their pages, carry the confidentiality footer, print Khmer with a Khmer
font, fetch nothing from the network, and every print is audited with the document's kind."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import translation

from casemgmt import pdf
from casemgmt.models import AuditAction, AuditEvent
from plans import services
from tests.conftest import sign_in
from tests.pdfs import parse, to_png
from tests.plans.factories import draft_plan, goal_values, milestone_values, reintegration_plan

pytestmark = pytest.mark.django_db

NAME = "Testgiven011"  # the case fixture's given name (tests/clients/helpers.person(11))
KHMER_GOAL = "កាត់បន្ថយការប្រើប្រាស់ថ្នាំ"  # cut down drug use (synthetic)


def print_plan(client, plan, **options):
    response = client.get(reverse("plans:treatment_pdf", args=[plan.pk]), options)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "no-store" and NAME not in response["Content-Disposition"]
    return parse(response.content), response.content


def test_the_plan_pdf_names_the_client_by_uic_numbers_its_pages_and_says_it_is_confidential(client, alice, case):
    plan = draft_plan(author=alice, client=case, goals=2)
    sign_in(client, alice)
    document, _raw = print_plan(client, plan, language="en")
    assert document.pages == 1
    assert case.uic in document.text and "Synthetic goal 2" in document.text
    assert NAME not in document.text and case.family_name not in document.text
    assert "Page 1 of 1" in document.text
    assert "Confidential health information" in document.text
    assert "Centre A (test)" in document.text  # the organisation's header


def test_the_clients_copy_has_the_name(client, alice, case):
    plan = draft_plan(author=alice, client=case)
    sign_in(client, alice)
    document, _raw = print_plan(client, plan, language="en", client_copy="on")
    assert NAME in document.text and case.uic in document.text and "Client's copy" in document.text


def test_a_long_plan_runs_over_pages_numbered_of_the_total(client, alice, case):
    plan = draft_plan(author=alice, client=case, goals=40)
    sign_in(client, alice)
    document, _raw = print_plan(client, plan, language="en")
    assert document.pages >= 3
    assert f"Page 1 of {document.pages}" in document.text and f"Page {document.pages} of {document.pages}" in \
        document.text
    assert document.text.count("Confidential health information") == document.pages


def test_a_khmer_plan_prints_khmer_text_with_an_embedded_khmer_font(client, alice, case, tmp_path):
    plan = draft_plan(author=alice, client=case, goals=0)
    services.goal_save(actor=alice, plan=plan, values=goal_values(text=KHMER_GOAL, responsible="អ្នកប្រឹក្សា"))
    sign_in(client, alice)
    document, raw = print_plan(client, plan, language="km")
    assert any("Khmer" in font for font in document.fonts), document.fonts
    # Pre-base vowels and subscripts come back from the PDF in visual order; these words have neither.
    assert "កាត់បន្ថយ" in document.text
    assert document.khmer_characters >= 20
    with translation.override("km"):
        copy_label = str(pdf.ORGANISATION_COPY).split("៖")[0]  # "the organisation's copy": no pre-base vowel
        page_word = str(pdf.PAGE_OF).split()[0]
    assert copy_label != "Organisation's copy" and copy_label in document.text  # the labels are in Khmer
    assert re.search(rf"{page_word[:3]}\S* 1 \S+ 1", document.text)  # "ទំព័រ 1 នៃ 1": page numbers in Khmer
    png = to_png(raw, tmp_path)
    assert png.stat().st_size > 10_000  # a page with text on it (looked at by eye: see the report)


def test_printing_is_audited_with_the_document_kind(client, alice, case):
    plan = draft_plan(author=alice, client=case)
    reintegration = reintegration_plan(actor=alice, client=case)
    sign_in(client, alice)
    print_plan(client, plan, language="km", client_copy="on")
    client.get(reverse("plans:reintegration_pdf", args=[reintegration.pk]))
    events = list(AuditEvent.objects.filter(action=AuditAction.PRINT).order_by("seq"))
    assert [(e.object_type, e.object_id, e.client_id, e.actor_username) for e in events] == [
        ("plans.treatmentplan", str(plan.pk), case.pk, "alice"),
        ("plans.reintegrationplan", str(reintegration.pk), case.pk, "alice")]
    assert events[0].reason == "document: treatment_plan; language: km; copy: client"
    assert events[1].reason == "document: reintegration_plan; language: en; copy: organisation"
    assert NAME not in events[0].reason and "Synthetic goal" not in str(events[0].fields)


def test_the_reintegration_pdf_lists_milestones_with_notes(client, alice, case):
    plan = reintegration_plan(actor=alice, client=case, milestones=0)
    services.milestone_save(actor=alice, plan=plan, values=milestone_values(
        description="Synthetic: visit the family", notes="Synthetic: by bus", domain="family"))
    sign_in(client, alice)
    response = client.get(reverse("plans:reintegration_pdf", args=[plan.pk]), {"language": "en"})
    document = parse(response.content)
    assert "Synthetic: visit the family" in document.text and "Synthetic: by bus" in document.text
    assert "Family and community" in document.text and case.uic in document.text and NAME not in document.text


def test_rendering_fetches_nothing(monkeypatch):
    """A URL in a template or a value (an image, a stylesheet) is refused, not fetched."""
    import urllib.request

    opened = []
    monkeypatch.setattr(urllib.request.OpenerDirector, "open", lambda self, *a, **k: opened.append(a) or None)
    fetcher = pdf._fetcher()
    for url in ("http://example.invalid/x.png", "https://example.invalid/s.css", "file:///etc/passwd"):
        with pytest.raises(ValueError, match="disallowed protocol"):
            fetcher.fetch(url)
    assert opened == []
    document = parse(pdf.render_pdf("pdf/base.html", {}, language="en"))
    assert document.pages == 1


def test_another_centre_cannot_print_the_plan(client, alice, bob, case):
    plan = draft_plan(author=alice, client=case)
    sign_in(client, bob)
    assert client.get(reverse("plans:treatment_pdf", args=[plan.pk])).status_code == 404
    assert not AuditEvent.objects.filter(action=AuditAction.PRINT).exists()
