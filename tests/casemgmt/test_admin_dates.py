"""The administration writes dates as the rest of the site does: ISO, in English and in Khmer."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

SIGNED_IN_AT = datetime.datetime(2026, 3, 4, 14, 5, tzinfo=datetime.UTC)  # 21:05 in Phnom Penh


@pytest.mark.parametrize("language", ["en", "km"])
def test_the_account_list_and_form_show_iso_dates(client, sam, alice, language):
    alice.last_login = SIGNED_IN_AT
    alice.date_joined = SIGNED_IN_AT
    alice.save(update_fields=["last_login", "date_joined"])
    sign_in(client, sam)
    client.cookies["django_language"] = language
    html = client.get(reverse("admin:auth_user_changelist"), {"q": "alice"}).content.decode()
    local = timezone.localtime(SIGNED_IN_AT).strftime("%Y-%m-%d %H:%M")
    assert local == "2026-03-04 21:05"
    assert f'<td class="field-last_login nowrap">{local}</td>' in html
    assert "March" not in html and "Mar." not in html and "p.m." not in html
    html = client.get(reverse("admin:auth_user_change", args=[alice.pk])).content.decode()
    assert f'<div class="readonly">{local}</div>' in html
