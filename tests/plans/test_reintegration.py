"""Reintegration plans: milestones with target and achieved dates and encrypted notes, one open plan per client,
conflict-safe edits, and the place where referrals will link to a milestone (plans.links)."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client as Browser
from django.urls import reverse
from django.utils import timezone

from plans import links, services
from plans.models import Milestone, ReintegrationPlan
from tests.conftest import sign_in
from tests.plans.factories import milestone_values, reintegration_plan

pytestmark = pytest.mark.django_db


def test_milestones_are_added_through_the_pages_with_encrypted_notes(client, alice, case):
    sign_in(client, alice)
    response = client.post(reverse("plans:reintegration_new", args=[case.pk]), {"summary": "Synthetic summary"})
    plan = ReintegrationPlan.objects.get(client=case)
    assert response.url == reverse("plans:milestone_add", args=[plan.pk])
    response = client.post(reverse("plans:milestone_add", args=[plan.pk]), {
        "domain": "employment", "description": "Synthetic: start the welding course",
        "notes": "Synthetic: the course is free", "target_on": "2030-06-01", "achieved_on": ""})
    assert response.status_code == 302
    milestone = Milestone.objects.get(plan=plan)
    assert (milestone.domain, milestone.notes) == ("employment", "Synthetic: the course is free")
    with connection.cursor() as cursor:
        cursor.execute("SELECT description, notes FROM plans_milestone")
        raw = b"".join(bytes(value) for value in cursor.fetchone())
    assert b"welding" not in raw and b"free" not in raw
    page = client.get(reverse("plans:reintegration_detail", args=[plan.pk])).content.decode()
    assert "Synthetic: start the welding course" in page and "Employment and vocational training" in page


def test_milestones_achieved_and_overdue_are_shown_as_such(client, alice, case):
    plan = reintegration_plan(actor=alice, client=case, milestones=0)
    today = timezone.localdate()
    services.milestone_save(actor=alice, plan=plan, values=milestone_values(
        description="Synthetic: achieved one", target_on=today - datetime.timedelta(days=5), achieved_on=today))
    services.milestone_save(actor=alice, plan=plan, values=milestone_values(
        description="Synthetic: overdue one", target_on=today - datetime.timedelta(days=1)))
    services.milestone_save(actor=alice, plan=plan, values=milestone_values(
        description="Synthetic: due one", target_on=today))
    sign_in(client, alice)
    response = client.get(reverse("plans:reintegration_detail", args=[plan.pk]))
    overdue = {m.description: late for m, _links, late in response.context["milestones"]}
    assert overdue == {"Synthetic: achieved one": False, "Synthetic: overdue one": True, "Synthetic: due one": False}
    page = client.get(reverse("clients:detail", args=[case.pk])).content.decode()
    assert "1 of 3 milestones achieved" in page and "1 overdue" in page


def test_a_milestone_without_a_domain_or_achieved_in_the_future_is_refused(alice, case):
    plan = reintegration_plan(actor=alice, client=case, milestones=0)
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    with pytest.raises(ValidationError) as refused:
        services.milestone_save(actor=alice, plan=plan, values=milestone_values(domain="", achieved_on=tomorrow))
    assert set(refused.value.message_dict) == {"domain", "achieved_on"}
    assert refused.value.message_dict["domain"] == [str(services.ERROR_MILESTONE_DOMAIN)]
    assert not Milestone.objects.filter(plan=plan).exists()


def test_one_open_reintegration_plan_per_client(alice, case):
    reintegration_plan(actor=alice, client=case)
    with pytest.raises(ValidationError) as refused:
        services.reintegration_open(actor=alice, client=case)
    assert refused.value.messages == [str(services.ERROR_ONE_OPEN_REINTEGRATION)]
    assert ReintegrationPlan.objects.filter(client=case).count() == 1


def test_a_closed_plan_keeps_its_milestones_as_they_are(client, alice, case):
    plan = reintegration_plan(actor=alice, client=case)
    milestone = Milestone.objects.get(plan=plan)
    sign_in(client, alice)
    client.post(reverse("plans:reintegration_close", args=[plan.pk]))
    response = client.post(reverse("plans:milestone_edit", args=[plan.pk, milestone.pk]), {
        "domain": "housing", "description": "Synthetic: changed", "version": milestone.version}, follow=True)
    assert str(services.ERROR_REINTEGRATION_CLOSED) in [str(m) for m in response.context["messages"]]
    assert Milestone.objects.get(pk=milestone.pk).description == "Synthetic milestone 1"


def test_a_stale_milestone_form_shows_both_versions_and_overwrites_nothing(client, alice, mona, case):
    plan = reintegration_plan(actor=alice, client=case)
    milestone = Milestone.objects.get(plan=plan)
    url = reverse("plans:milestone_edit", args=[plan.pk, milestone.pk])
    data = {"domain": "housing", "description": "Synthetic milestone 1", "notes": "", "target_on": "2030-01-01",
            "achieved_on": "", "version": str(milestone.version)}
    alices, monas = sign_in(client, alice), sign_in(Browser(), mona)
    assert alices.post(url, {**data, "notes": "Alice's synthetic note"}).status_code == 302
    response = monas.post(url, {**data, "notes": "Mona's synthetic note"})
    assert response.status_code == 409
    row = next(r for r in response.context["conflict"]["rows"] if r["label"] == "Notes")
    assert (row["yours"], row["current"]) == ("Mona's synthetic note", "Alice's synthetic note")
    assert Milestone.objects.get(pk=milestone.pk).notes == "Alice's synthetic note"


def test_a_registered_link_provider_shows_its_links_under_each_milestone(client, alice, case):
    """The clean place for referrals: nothing is shown today; a provider's links appear where it returns some."""
    plan = reintegration_plan(actor=alice, client=case, milestones=2)
    first = Milestone.objects.filter(plan=plan).order_by("created_at").first()
    sign_in(client, alice)
    url = reverse("plans:reintegration_detail", args=[plan.pk])
    assert all(found == [] for _m, found, _late in client.get(url).context["milestones"])

    calls = []

    def provider(*, user, milestones):
        calls.append((user.username, len(milestones)))
        return {first.pk: [links.MilestoneLink(label="Referral to housing (synthetic)", url="/referrals/x/")]}

    links.register_milestone_link_provider(provider)
    try:
        page = client.get(url).content.decode()
    finally:
        links.unregister_milestone_link_provider(provider)
    assert 'href="/referrals/x/"' in page and "Referral to housing (synthetic)" in page
    assert calls == [("alice", 2)]  # once per page, with all its milestones
