"""Extra actors for the counselling tests, on top of the named ones of tests/conftest.py.

centre_a : carol (a second counsellor: her clients' notes are not alice's to read)
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.utils import timezone, translation

from casemgmt.roles import Role
from tests.factories import member


@pytest.fixture
def carol(centre_a):
    return member("carol", Role.COUNSELLOR, centre_a)


@pytest.fixture(autouse=True)
def _english_after_each_test():
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def clock(monkeypatch):
    """``clock(moment)`` makes ``timezone.now()`` answer ``moment`` from then on (pages, services, audit)."""
    def set_now(moment):
        monkeypatch.setattr(timezone, "now", lambda: moment)
        return moment

    return set_now
