"""Object grants written in bulk (casemgmt.access.grant_all / grant_each / revoke_all) on the clients' direct permission
tables."""

from __future__ import annotations

import pytest

from casemgmt import access
from clients.models import ClientGroupObjectPermission, ClientUserObjectPermission
from clients.selectors import CHANGE, VIEW, clients_visible_to
from tests.clients.helpers import grants, make_client

pytestmark = pytest.mark.django_db


def test_registration_grants_view_and_change_to_the_counsellor_and_the_centre(alice, centre_a):
    case = make_client(actor=alice, organisation=centre_a)
    staff = centre_a.staff_group.name
    assert grants(case) == {("alice", "view_client"), ("alice", "change_client"),
                          (staff, "view_client"), (staff, "change_client")}


def test_granting_again_keeps_one_grant_each(alice, carol, centre_a):
    case = make_client(actor=alice, organisation=centre_a)
    access.grant_all((VIEW, CHANGE), case, users=[alice, carol.pk], groups=[centre_a.staff_group])
    assert ClientUserObjectPermission.objects.filter(content_object=case).count() == 4  # alice's 2, carol's 2
    assert ClientGroupObjectPermission.objects.filter(content_object=case).count() == 2
    assert case in clients_visible_to(carol)


def test_granting_many_clients_at_once_grants_each_its_holders_in_one_insert_per_kind(
        alice, carol, centre_a, django_assert_num_queries):
    first, second, third = (make_client(actor=alice, organisation=centre_a, n=n) for n in (1, 2, 3))
    access.revoke_all((VIEW, CHANGE), first, users=[alice], groups=[centre_a.staff_group])
    access.revoke_all((VIEW, CHANGE), second, users=[alice], groups=[centre_a.staff_group])

    with django_assert_num_queries(2):  # the user grants and the group grants (permission ids are known by now)
        access.grant_each((VIEW, CHANGE), type(first), [(first, [carol], [centre_a.staff_group_id]),
                                                        (second.pk, [alice.pk], [])])

    staff = centre_a.staff_group.name
    assert grants(first) == {("carol", "view_client"), ("carol", "change_client"),
                             (staff, "view_client"), (staff, "change_client")}
    assert grants(second) == {("alice", "view_client"), ("alice", "change_client")}
    assert set(clients_visible_to(carol)) == {first}
    assert set(clients_visible_to(alice)) == {second, third}


def test_revoking_takes_only_the_named_holders_grants(alice, carol, centre_a):
    case = make_client(actor=alice, organisation=centre_a)
    access.grant_all((VIEW,), case, users=[carol])
    access.revoke_all((VIEW, CHANGE), case, users=[alice])
    assert case not in clients_visible_to(alice)
    assert case in clients_visible_to(carol)
    assert (centre_a.staff_group.name, "view_client") in grants(case)


def test_a_permission_of_another_model_is_refused(alice, centre_a):
    case = make_client(actor=alice, organisation=centre_a)
    with pytest.raises(ValueError, match="is not a permission of clients.Client"):
        access.grant_all(("casemgmt.view_organisation",), case, users=[alice])
    with pytest.raises(ValueError):
        access.grant_all(("clients.fly_client",), case, users=[alice])
