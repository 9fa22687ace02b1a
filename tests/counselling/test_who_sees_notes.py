"""Who sees notes: the client's counsellor and the centre's managers, nobody else. Not partners, reviewers,
auditors or administrators, not another counsellor, not another centre; not through the audit trail, the
administration, a dump or any page of theirs."""

from __future__ import annotations

import io

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.urls import reverse

from casemgmt.roles import Role
from tests.conftest import sign_in
from tests.counselling import access_cases
from tests.counselling.factories import NOTE, counselling_client, group, record_all

pytestmark = pytest.mark.django_db

RESOLUTION = "Synthetic resolution: moved in with an aunt (test)."
GROUP_NOTE = "Synthetic group note: talked about the market job (test)."
SECRETS = (NOTE, RESOLUTION, GROUP_NOTE)


@pytest.fixture
def objects(actors, alice, mona, centre_a, centre_b, prison, partner, ministry):
    from counselling import services

    found = access_cases.objects({**actors, "centre_a": centre_a})
    services.flag_resolve(actor=mona, flag=found["counselling_flag"], resolution_note=RESOLUTION)
    other = counselling_client(actor=alice, organisation=centre_a, n=73)
    held = group(actor=alice, clients=[found["counselling_client"], other], held=True)
    record_all(actor=alice, session=held, notes={other.pk: GROUP_NOTE})
    return {**found, "held_group": held, "other": other}


def every_page(objects) -> list[str]:
    """Every counselling URL of the matrix, the client's pages, and what each role has of its own."""
    pages = [case.path(objects) for case in access_cases.CASES]
    pages += [reverse("counselling:session", args=[objects["held_group"].pk]),
              reverse("counselling:flag_resolve", args=[objects["counselling_client"].pk,
                                                        objects["counselling_flag"].pk]),
              reverse("clients:detail", args=[objects["counselling_client"].pk]),
              reverse("clients:detail", args=[objects["other"].pk]),
              reverse("home"), reverse("audit_events"), reverse("admin:index"), reverse("key_status"),
              reverse("clients:caseload")]
    return pages


@pytest.mark.parametrize("who", ["priya", "rita", "otto", "sam"])
def test_no_note_on_any_page_a_partner_reviewer_auditor_or_administrator_reaches(client, actors, objects, who):
    sign_in(client, actors[who])
    counselling = {case.path(objects) for case in access_cases.CASES}
    for url in every_page(objects):
        response = client.get(url)
        html = response.content.decode()
        assert not [text for text in SECRETS if text in html], url
        if url in counselling:
            assert response.status_code == 403, url


@pytest.mark.parametrize("who", ["carol", "bob", "nina", "pete"])
def test_no_note_for_another_counsellor_or_another_centre(client, actors, carol, objects, who):
    sign_in(client, carol if who == "carol" else actors[who])
    for url in every_page(objects):
        assert not [text for text in SECRETS if text in client.get(url).content.decode()], url


@pytest.mark.parametrize("who", ["alice", "mona"])
def test_the_clients_counsellor_and_the_manager_read_them(client, actors, objects, who):
    sign_in(client, actors[who])
    html = client.get(reverse("clients:detail", args=[objects["counselling_client"].pk])).content.decode()
    assert NOTE in html
    html = client.get(reverse("counselling:flag_resolve", args=[objects["counselling_client"].pk,
                                                                objects["counselling_flag"].pk])).content.decode()
    assert RESOLUTION in html
    html = client.get(reverse("clients:detail", args=[objects["other"].pk])).content.decode()
    assert GROUP_NOTE in html


def test_the_audit_trail_names_fields_never_the_notes(client, otto, objects):
    from casemgmt.models import AuditEvent

    events = list(AuditEvent.objects.filter(object_type__startswith="counselling."))
    assert {"note", "resolution_note"} <= {name for e in events for name in e.fields}
    assert not [e for e in events if any(text in f"{e.reason}{e.fields}{e.object_id}" for text in SECRETS)]
    sign_in(client, otto)
    html = client.get(reverse("audit_events") + "?object=counselling.participant").content.decode()
    assert "counselling.participant" in html and not [text for text in SECRETS if text in html]


def test_no_counselling_model_in_the_administration_and_no_permission_on_it(objects):
    registered = {model._meta.app_label for model in admin.site._registry}
    assert "counselling" not in registered
    assert apps.get_app_config("counselling").get_models()
    assert not Permission.objects.filter(group__name__in=Role.values, content_type__app_label="counselling").exists()


def test_a_dump_of_the_counselling_tables_holds_ciphertext_only(objects):
    out = io.StringIO()
    call_command("dumpdata", "counselling", stdout=out)
    dumped = out.getvalue()
    assert '"model": "counselling.participant"' in dumped and '"note": "cm2:' in dumped
    assert not [text for text in SECRETS if text in dumped]
    assert "Synthetic" not in dumped
