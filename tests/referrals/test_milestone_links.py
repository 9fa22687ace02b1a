"""A referral made for a reintegration milestone: "Refer" beside the milestone opens the form with it chosen, the
referral's state shows beside it (in a constant number of queries), and the partner never sees the plan."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from plans.models import Milestone
from referrals import services
from referrals.models import Referral
from tests.conftest import sign_in
from tests.plans.factories import reintegration_plan
from tests.referrals.factories import client_with_history, partner_service, referral, sharing_consent

pytestmark = pytest.mark.django_db


@pytest.fixture
def planned(alice, centre_a, partner):
    client = client_with_history(counsellor=alice, organisation=centre_a)
    plan = reintegration_plan(actor=alice, client=client, milestones=2)
    return {"client": client, "plan": plan, "consent": sharing_consent(counsellor=alice, client=client,
                                                                        partner=partner),
            "service": partner_service(organisation=partner, service_type="legal_aid"),
            "milestones": list(Milestone.objects.filter(plan=plan).order_by("created_at"))}


def plan_page(client, planned) -> str:
    return client.get(reverse("plans:reintegration_detail", args=[planned["plan"].pk])).content.decode()


def test_refer_beside_a_milestone_opens_the_form_with_it_and_the_state_shows_beside_it(client, planned, alice,
                                                                                      priya):
    first = planned["milestones"][0]
    sign_in(client, alice)
    refer = f"{reverse('referrals:new', args=[planned['client'].pk])}?milestone={first.pk}"
    assert f'href="{refer}"' in plan_page(client, planned).replace("&amp;", "&")
    form = client.get(refer).content.decode()
    assert f'<option value="{first.pk}" selected>' in form
    assert "Synthetic milestone 1" in form and "Synthetic milestone 2" in form  # the client's milestones
    response = client.post(reverse("referrals:new", args=[planned["client"].pk]), {
        "service": planned["service"].pk, "consent": planned["consent"].pk, "shared_categories": ["identity"],
        "reason": "Zqreason", "urgency": "routine", "milestone": first.pk, "step": "send"})
    made = Referral.objects.get()
    assert response.url == reverse("referrals:detail", args=[made.pk])
    assert made.milestone_id == first.pk
    page = plan_page(client, planned)
    assert "Referral for Legal aid: Sent" in page and reverse("referrals:detail", args=[made.pk]) in page
    services.referral_accept(actor=priya, referral=made)
    assert "Referral for Legal aid: Accepted" in plan_page(client, planned)
    detail = client.get(reverse("referrals:detail", args=[made.pk])).content.decode()
    assert "For the reintegration milestone" in detail and "Synthetic milestone 1" in detail


def test_refer_is_offered_only_with_a_sharing_consent_and_an_open_plan(client, planned, alice):
    from django.utils import timezone

    from clients import services as client_services

    sign_in(client, alice)
    new = reverse("referrals:new", args=[planned["client"].pk])
    assert plan_page(client, planned).count(f"{new}?milestone=") == 2
    client_services.consent_revoke(actor=alice, consent=planned["consent"], revoked_on=timezone.localdate(),
                                   reason="Zqwithdrawn")
    assert f"{new}?milestone=" not in plan_page(client, planned)


def test_a_milestone_of_another_client_is_refused(planned, alice, centre_a, partner):
    other = client_with_history(counsellor=alice, organisation=centre_a, given_name="Zqother")
    consent = sharing_consent(counsellor=alice, client=other, partner=partner)
    with pytest.raises(ValidationError) as exc:
        services.referral_create(actor=alice, client=other, service=planned["service"], consent=consent,
                                 categories=["identity"], reason="Zqreason", milestone=planned["milestones"][0])
    assert exc.value.message_dict == {"milestone": [str(services.ERROR_MILESTONE_OTHER_CLIENT)]}
    assert not Referral.objects.exists()


def test_the_plan_page_takes_the_same_queries_for_one_linked_referral_or_many(client, planned, alice,
                                                                            django_assert_max_num_queries):
    def linked(milestone):
        return referral(counsellor=alice, client=planned["client"], service=planned["service"],
                        consent=planned["consent"], milestone=milestone)

    linked(planned["milestones"][0])
    sign_in(client, alice)
    with CaptureQueriesContext(connection) as one:
        plan_page(client, planned)
    for milestone in planned["milestones"]:
        linked(milestone)
        linked(milestone)
    with django_assert_max_num_queries(len(one.captured_queries)):
        page = plan_page(client, planned)
    assert page.count("Referral for Legal aid: Sent") == 5


def test_the_partner_never_sees_the_plan_or_the_milestone(client, planned, alice, priya):
    made = referral(counsellor=alice, client=planned["client"], service=planned["service"],
                    consent=planned["consent"], milestone=planned["milestones"][0])
    sign_in(client, priya)
    page = client.get(reverse("referrals:detail", args=[made.pk])).content.decode()
    assert "Zqreason" in page  # the partner's own page of it
    assert "Synthetic milestone" not in page and "reintegration" not in page.lower()
    assert reverse("plans:reintegration_detail", args=[planned["plan"].pk]) not in page
    assert client.get(reverse("plans:reintegration_detail", args=[planned["plan"].pk])).status_code == 403
    from referrals.milestones import milestone_links

    assert milestone_links(user=priya, milestones=planned["milestones"]) == {}


def test_another_centre_sees_no_link_of_it(planned, alice, bob):
    from referrals.milestones import milestone_links

    referral(counsellor=alice, client=planned["client"], service=planned["service"], consent=planned["consent"],
             milestone=planned["milestones"][0])
    assert milestone_links(user=bob, milestones=planned["milestones"]) == {}
