"""Erasing a client (crypto-shredding) through the platform's erase_subject."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.urls import reverse

from clients import services
from clients.models import Client
from tests.clients.factories import client_identity
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db


def test_an_erased_client_reads_as_erased_and_keeps_its_statistics(client, mona, centre_a):
    record = services.client_register(actor=mona, organisation=centre_a,
                                      identity=client_identity(given_name="Erasable", family_name="Synthperson"),
                                      population_groups=["pwid"])
    call_command("erase_subject", str(record.pk), "--reason", "client asked to be forgotten (test)")

    stored = Client.objects.get(pk=record.pk)
    assert stored.status == "erased"
    assert (stored.sex, stored.birth_year, stored.province) == ("M", 1990, "KH-12")
    assert stored.name_index is None and stored.uic_index is None
    sign_in(client, mona)
    page = client.get(reverse("clients:detail", args=[record.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "[erased]" in html
    assert "Erasable" not in html and "Synthperson" not in html
    # The caseload no longer lists it unless asked for erased clients.
    assert str(record.pk) not in client.get(reverse("clients:caseload")).content.decode()
    assert str(record.pk) in client.get(reverse("clients:caseload"), {"status": "erased"}).content.decode()
