"""Uniqueness under races, for the platform's rules: organisation names, one membership per user, user names,
one authenticator being enrolled per user.

Two threads, each with its own database connection, released together; on PostgreSQL only (SQLite's
writers take turns anyway). Exactly one wins; the other gets what it would get a moment later.
"""

from __future__ import annotations

import base64
from functools import partial

import pytest
from django import test
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from casemgmt import services
from casemgmt.models import Membership, Organisation
from casemgmt.roles import OrganisationKind, Province, Role
from tests.conftest import sign_in
from tests.factories import UserFactory
from tests.races import TRIES, race, winner_and_loser

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgresql_only")]

User = get_user_model()


def create_organisation(name: str) -> Organisation:
    return services.organisation_create(name=name, kind=OrganisationKind.TREATMENT_CENTRE,
                                        province=Province.PHNOM_PENH)


def rename(organisation: Organisation, name: str) -> Organisation:
    organisation.name = name
    return services.organisation_update(organisation=organisation, changed=["name"])


def sequential_error(action) -> dict:
    with pytest.raises(ValidationError) as caught:
        action()
    return caught.value.message_dict


def test_two_organisations_with_one_name_at_once_make_exactly_one():
    for attempt in range(TRIES):
        name = f"Race Centre {attempt} (test)"
        saved, refused = winner_and_loser(race(partial(create_organisation, name),
                                               partial(create_organisation, name)))
        assert isinstance(refused.error, ValidationError), repr(refused.error)
        assert refused.error.message_dict == sequential_error(partial(create_organisation, name))
        assert list(Organisation.objects.filter(name=name)) == [saved.value]
    # No staff group is left behind by the one refused.
    assert Group.objects.filter(name__startswith="org:").count() == Organisation.objects.count() == TRIES


def test_renaming_two_organisations_to_one_name_at_once_renames_exactly_one():
    for attempt in range(TRIES):
        name = f"Renamed Centre {attempt} (test)"
        one, other = create_organisation(f"One {attempt} (test)"), create_organisation(f"Other {attempt} (test)")

        saved, refused = winner_and_loser(race(partial(rename, one, name), partial(rename, other, name)))
        assert isinstance(refused.error, ValidationError), repr(refused.error)
        assert refused.error.message_dict == {"name": ["Organisation with this Name already exists."]}
        assert list(Organisation.objects.filter(name=name)) == [saved.value]


def admin_post(browser, url: str, data: dict):
    return browser.post(url, data)


def test_two_admin_forms_adding_one_organisation_name_at_once_make_exactly_one(sam):
    browsers = [sign_in(test.Client(), sam), sign_in(test.Client(), sam)]
    url = reverse("admin:casemgmt_organisation_add")
    for attempt in range(TRIES):
        data = {"name": f"Admin Race {attempt} (test)", "kind": "treatment_centre", "province": "KH-17",
                "active": "on"}
        outcomes = race(partial(admin_post, browsers[0], url, data), partial(admin_post, browsers[1], url, data))
        assert [o.error for o in outcomes] == [None, None]
        assert sorted(o.value.status_code for o in outcomes) == [200, 302]
        loser = next(o.value for o in outcomes if o.value.status_code == 200)
        assert "Organisation with this Name already exists." in loser.content.decode()
        assert Organisation.objects.filter(name=data["name"]).count() == 1


def test_two_memberships_for_one_user_at_once_leave_one_that_the_groups_follow(centre_a, centre_b):
    for attempt in range(TRIES):
        user = UserFactory(username=f"joiner{attempt}")
        outcomes = race(
            partial(services.membership_set, user=user, organisation=centre_a, role=Role.COUNSELLOR),
            partial(services.membership_set, user=user, organisation=centre_b, role=Role.CENTRE_MANAGER),
        )
        assert [o.error for o in outcomes] == [None, None]  # one after the other, the second changes the first
        membership = Membership.objects.get(user=user)
        assert set(user.groups.values_list("name", flat=True)) == {membership.role,
                                                                   membership.organisation.staff_group.name}


def test_two_admin_forms_proposing_a_membership_for_one_user_at_once_leave_exactly_one_pending(sam, centre_a,
                                                                                               centre_b):
    """Adding a membership proposes a change (separation of duties): of two proposals at once, the later one
    supersedes the earlier, and the account has exactly one pending change, and still no membership."""
    from casemgmt.models import MembershipChange

    browsers = [sign_in(test.Client(), sam), sign_in(test.Client(), sam)]
    url = reverse("admin:casemgmt_membership_add")
    for attempt in range(TRIES):
        user = UserFactory(username=f"newcomer{attempt}")
        outcomes = race(
            partial(admin_post, browsers[0], url, {"user": user.pk, "organisation": centre_a.pk,
                                                   "role": Role.COUNSELLOR}),
            partial(admin_post, browsers[1], url, {"user": user.pk, "organisation": centre_b.pk,
                                                   "role": Role.COUNSELLOR}),
        )
        assert [o.error for o in outcomes] == [None, None]
        assert [o.value.status_code for o in outcomes] == [302, 302]
        assert MembershipChange.objects.filter(user=user, status="pending").count() == 1
        assert MembershipChange.objects.filter(user=user, status="cancelled").count() == 1
        assert not Membership.objects.filter(user=user).exists()
        assert not user.groups.exists()


NO_MEMBERSHIP_FORMS = {"membership-TOTAL_FORMS": "0", "membership-INITIAL_FORMS": "0"}


def test_two_admin_forms_adding_one_user_name_at_once_add_exactly_one(sam):
    browsers = [sign_in(test.Client(), sam), sign_in(test.Client(), sam)]
    url = reverse("admin:auth_user_add")
    for attempt in range(TRIES):
        names = [f"twin{attempt}", f"Twin{attempt}" if attempt % 2 else f"twin{attempt}"]  # in any case
        outcomes = race(*(partial(admin_post, browser, url, {"username": name, "usable_password": "false",
                                                             **NO_MEMBERSHIP_FORMS})
                          for browser, name in zip(browsers, names, strict=True)))
        assert [o.error for o in outcomes] == [None, None]
        assert sorted(o.value.status_code for o in outcomes) == [200, 302]
        loser = next(o.value for o in outcomes if o.value.status_code == 200)
        assert "A user with that username already exists." in loser.content.decode()
        assert User.objects.filter(username__iexact=names[0]).count() == 1


def test_two_enrolment_pages_opened_at_once_make_one_authenticator(mona):
    TOTPDevice.objects.filter(user=mona).delete()
    browsers = [sign_in(test.Client(), mona), sign_in(test.Client(), mona)]
    for _attempt in range(TRIES):
        outcomes = race(*(partial(browser.get, reverse("otp_setup")) for browser in browsers))
        assert [o.error for o in outcomes] == [None, None]
        assert [o.value.status_code for o in outcomes] == [200, 200]
        device = TOTPDevice.objects.get(user=mona, confirmed=False)
        # Both pages show the one secret the app is to be set up with.
        secret = base64.b32encode(device.bin_key).decode().rstrip("=")
        assert all(secret in o.value.content.decode() for o in outcomes)
        assert browsers[0].get(reverse("otp_setup")).status_code == 200
        device.delete()
