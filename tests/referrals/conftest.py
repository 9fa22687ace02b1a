import pytest

from tests.referrals.factories import referral_setup


@pytest.fixture
def setup(alice, centre_a, partner):
    return referral_setup(counsellor=alice, organisation=centre_a, partner=partner)


@pytest.fixture
def other_partner(db):
    from casemgmt.roles import OrganisationKind, Province
    from tests.factories import organisation

    return organisation("Other partner NGO (test)", OrganisationKind.NGO_PARTNER, Province.BATTAMBANG)


@pytest.fixture
def olga(other_partner):
    from casemgmt.roles import Role
    from tests.factories import member

    return member("olga", Role.REFERRAL_OFFICER, other_partner)


@pytest.fixture
def percy(partner):
    """A second referral officer of the partner."""
    from casemgmt.roles import Role
    from tests.factories import member

    return member("percy", Role.REFERRAL_OFFICER, partner)

