"""Named actors, the same in every test module.

centre_a (treatment centre) : alice (counsellor), mona (centre manager)
centre_b (treatment centre) : bob (counsellor), nina (centre manager)
prison   (prison health unit): pete (counsellor)
partner  (NGO partner)      : priya (referral officer)
ministry                    : rita (MoH reviewer), otto (auditor), sam (system administrator)
"""

from __future__ import annotations

import uuid

import pytest
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from casemgmt import crypto
from casemgmt.roles import OrganisationKind, Province, Role
from tests.factories import member, organisation

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _english_after_each_test():
    """A request in Khmer leaves Khmer active in the thread; every test starts, and the next one starts, in English."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _fresh_key_caches():
    crypto.reset_keyring()
    yield
    crypto.reset_keyring()


@pytest.fixture(autouse=True)
def _own_audit_checkpoint_file(settings, tmp_path_factory):
    """Audit checkpoints of one test's chain never meet another test's chain."""
    settings.CASEMGMT_AUDIT_CHECKPOINT_FILE = str(
        tmp_path_factory.getbasetemp() / "audit-checkpoints" / f"{uuid.uuid4().hex}.jsonl")


@pytest.fixture
def centre_a(db):
    return organisation("Centre A (test)", OrganisationKind.TREATMENT_CENTRE, Province.PHNOM_PENH)


@pytest.fixture
def centre_b(db):
    return organisation("Centre B (test)", OrganisationKind.TREATMENT_CENTRE, Province.BATTAMBANG)


@pytest.fixture
def prison(db):
    return organisation("Prison unit (test)", OrganisationKind.PRISON_HEALTH_UNIT, Province.KANDAL)


@pytest.fixture
def partner(db):
    return organisation("Partner NGO (test)", OrganisationKind.NGO_PARTNER, Province.PHNOM_PENH)


@pytest.fixture
def ministry(db):
    return organisation("Ministry (test)", OrganisationKind.MINISTRY, Province.PHNOM_PENH)


@pytest.fixture
def alice(centre_a):
    return member("alice", Role.COUNSELLOR, centre_a)


@pytest.fixture
def mona(centre_a):
    return member("mona", Role.CENTRE_MANAGER, centre_a)


@pytest.fixture
def bob(centre_b):
    return member("bob", Role.COUNSELLOR, centre_b)


@pytest.fixture
def nina(centre_b):
    return member("nina", Role.CENTRE_MANAGER, centre_b)


@pytest.fixture
def pete(prison):
    return member("pete", Role.COUNSELLOR, prison)


@pytest.fixture
def priya(partner):
    return member("priya", Role.REFERRAL_OFFICER, partner)


@pytest.fixture
def rita(ministry):
    return member("rita", Role.MOH_REVIEWER, ministry, with_device=False)


@pytest.fixture
def otto(ministry):
    return member("otto", Role.AUDITOR, ministry, with_device=False)


@pytest.fixture
def sam(ministry):
    return member("sam", Role.SYSTEM_ADMINISTRATOR, ministry)


@pytest.fixture
def actors(alice, mona, bob, nina, pete, priya, rita, otto, sam):
    return {"alice": alice, "mona": mona, "bob": bob, "nina": nina, "pete": pete, "priya": priya, "rita": rita,
            "otto": otto, "sam": sam}


@pytest.fixture
def postgresql_only():
    """Skips on SQLite: for what only PostgreSQL has (pg_dump, triggers)."""
    from tests.pgdump import skip_unless_postgresql

    skip_unless_postgresql()


def sign_in(client, user, *, verified: bool = True):
    """Signed in, and past the second factor where the user has a device."""
    client.force_login(user)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if verified and device is not None:
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client
