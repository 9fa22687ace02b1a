"""Home page wording a new user reads first."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.conftest import sign_in

pytestmark = pytest.mark.django_db


def test_the_reviewers_empty_page_does_not_say_that_nothing_happened(client, rita):
    sign_in(client, rita)
    html = client.get(reverse("home")).content.decode()
    # The dashboard of a month with nothing recorded says so of that period and those organisations, not in general.
    assert ("No activity was recorded in this period for these organisations: no client registered or seen, no "
            "session, no referral, no release.") in html
    assert "once centres record activity" not in html
    assert "Reports are not available" not in html
