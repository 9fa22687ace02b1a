"""Extra actors for the case-file tests, on top of the named ones of tests/conftest.py.

centre_a : carol (a second counsellor, for assignment)
prison_b : a second prison health unit, for "only episodes at their facility"
"""

from __future__ import annotations

import pytest

from casemgmt.roles import OrganisationKind, Province, Role
from tests.factories import member, organisation


@pytest.fixture
def carol(centre_a):
    return member("carol", Role.COUNSELLOR, centre_a)


@pytest.fixture
def prison_b(db):
    return organisation("Prison unit B (test)", OrganisationKind.PRISON_HEALTH_UNIT, Province.SIEM_REAP)
