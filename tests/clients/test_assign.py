"""Assignment: the centre manager gives a client to one of the centre's counsellors."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import escape

from casemgmt import services as platform_services
from casemgmt.models import AuditEvent
from casemgmt.roles import Role
from clients import services
from clients.models import ClientUserObjectPermission
from tests.clients.helpers import detail_url, make_client
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

CASELOAD = reverse("clients:caseload")


@pytest.fixture
def case(alice, centre_a):
    return make_client(actor=alice, organisation=centre_a, n=1)


def sees(client, user, case) -> bool:
    """Whether ``user`` can open the client page and finds the client on their caseload."""
    client.logout()
    sign_in(client, user)
    status = client.get(detail_url(case)).status_code
    listed = case.uic in client.get(CASELOAD).content.decode()
    assert (status == 200) == listed, "the caseload and the client page agree"
    assert status in (200, 404)
    return status == 200


def assign(client, manager, case, counsellor):
    client.logout()
    sign_in(client, manager)
    return client.post(reverse("clients:assign", args=[case.pk]),
                       {"counsellor": str(counsellor.pk) if counsellor else ""})


def test_the_manager_assigns_a_counsellor_of_the_centre(client, alice, carol, mona, case):
    assert sees(client, alice, case) and not sees(client, carol, case)

    response = assign(client, mona, case, carol)

    assert response.status_code == 302 and response.url == detail_url(case)
    assert f"Counsellor: {escape(carol.get_full_name())} (carol)" in client.get(detail_url(case)).content.decode()
    assert sees(client, carol, case)
    assert not sees(client, alice, case)
    assert sees(client, mona, case)
    assert set(ClientUserObjectPermission.objects.filter(content_object=case).values_list(
        "user__username", flat=True)) == {"carol"}
    event = AuditEvent.objects.filter(action="change", client_id=case.pk, actor_username="mona").latest("seq")
    assert event.fields == ["counsellor"]


def test_the_form_offers_only_the_centres_counsellors(client, alice, carol, bob, pete, mona, case):
    sign_in(client, mona)
    html = client.get(reverse("clients:assign", args=[case.pk])).content.decode()
    assert f'value="{carol.pk}"' in html and f'value="{alice.pk}"' in html
    assert f'value="{bob.pk}"' not in html and f'value="{pete.pk}"' not in html
    assert f'value="{mona.pk}"' not in html


def test_assigning_a_counsellor_of_another_centre_is_refused(client, alice, bob, mona, case):
    response = assign(client, mona, case, bob)

    assert response.status_code == 200
    assert response.context["form"].errors["counsellor"]
    assert "Select a valid choice." in response.content.decode()
    case.refresh_from_db()
    assert case.counsellor == alice
    assert not sees(client, bob, case)
    assert sees(client, alice, case)


def test_the_service_refuses_another_centres_counsellor_or_a_manager(alice, bob, mona, case):
    for someone in (bob, mona):
        with pytest.raises(ValidationError) as refused:
            services.client_assign(actor=mona, client=case, counsellor=someone)
        assert refused.value.message_dict == {"counsellor": [str(services.ERROR_NOT_A_COUNSELLOR_HERE)]}
    case.refresh_from_db()
    assert case.counsellor == alice
    assert set(ClientUserObjectPermission.objects.filter(content_object=case).values_list(
        "user__username", flat=True)) == {"alice"}


def test_unassigning_leaves_the_client_with_the_centre(client, alice, mona, case):
    response = assign(client, mona, case, None)
    assert response.status_code == 302
    assert not sees(client, alice, case)
    assert sees(client, mona, case)


def test_a_client_registered_by_the_manager_can_be_given_to_a_counsellor(client, alice, mona, centre_a):
    case = make_client(actor=mona, organisation=centre_a, n=2)
    assert case.counsellor is None
    assert not sees(client, alice, case)
    assert assign(client, mona, case, alice).status_code == 302
    assert sees(client, alice, case)


def test_a_counsellor_cannot_assign(client, alice, carol, case):
    sign_in(client, alice)
    response = client.post(reverse("clients:assign", args=[case.pk]), {"counsellor": str(carol.pk)})
    assert response.status_code == 403
    case.refresh_from_db()
    assert case.counsellor == alice


def test_a_counsellor_moved_to_another_centre_loses_the_old_caseload(client, alice, centre_a, centre_b):
    case = make_client(actor=alice, organisation=centre_a, n=1)
    platform_services.membership_set(user=alice, organisation=centre_b, role=Role.COUNSELLOR)
    sign_in(client, alice)
    assert case.uic not in client.get(CASELOAD).content.decode()
    assert client.get(detail_url(case)).status_code == 404
    assert client.post(reverse("clients:consent_add", args=[case.pk]), {}).status_code == 404
