"""Extra actors and records for the plans tests, on top of the named ones of tests/conftest.py.

centre_a : carol (a second counsellor), mark (a second centre manager, who approves what mona wrote)
case     : a client of centre A on alice's caseload, with a treatment consent
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.utils import translation

from casemgmt.roles import Role
from tests.factories import member


@pytest.fixture
def carol(centre_a):
    return member("carol", Role.COUNSELLOR, centre_a)


@pytest.fixture
def mark(centre_a):
    return member("mark", Role.CENTRE_MANAGER, centre_a)


@pytest.fixture
def case(alice, centre_a):
    from clients.models import Client
    from tests.clients.helpers import give_consent, make_client

    client = make_client(actor=alice, organisation=centre_a, n=11)
    give_consent(client, actor=alice)
    return Client.objects.select_related("organisation", "counsellor").get(pk=client.pk)


@pytest.fixture(autouse=True)
def _english_after_each_test():
    """A request in Khmer leaves Khmer active in the thread; the next test starts in English again."""
    yield
    translation.activate(settings.LANGUAGE_CODE)
