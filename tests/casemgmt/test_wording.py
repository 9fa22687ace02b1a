"""Home page wording a new user reads first."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.conftest import sign_in

pytestmark = pytest.mark.django_db


def test_the_reviewers_empty_page_does_not_say_that_nothing_happened(client, rita):
    sign_in(client, rita)
    html = client.get(reverse("home")).content.decode()
    assert "Reports are not available in this version yet, even where centres already record their work." in html
    assert "once centres record activity" not in html
