"""Plan texts and notes are seen by the client's counsellor and the centre's managers only: not a colleague
counsellor, another centre, partners, reviewers, auditors or administrators, nor the administration site."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from plans.models import Goal, Milestone, PlanRevision, ReintegrationPlan, TreatmentPlan
from tests.conftest import sign_in
from tests.plans.factories import draft_plan, reintegration_plan

pytestmark = pytest.mark.django_db

SECRET = "Synthetic goal 1"


def test_the_counsellor_and_the_managers_read_the_plan_a_colleague_does_not(client, alice, mona, carol, case):
    plan = draft_plan(author=alice, client=case)
    url = reverse("plans:treatment_detail", args=[plan.pk])
    for user, status in ((alice, 200), (mona, 200), (carol, 404)):
        client.logout()
        sign_in(client, user)
        response = client.get(url)
        assert response.status_code == status, user
        assert (SECRET in response.content.decode()) == (status == 200)


def test_no_other_role_reaches_a_plan_page_or_its_pdf(client, alice, case, priya, rita, otto, sam, bob, nina):
    plan = draft_plan(author=alice, client=case)
    reintegration = reintegration_plan(actor=alice, client=case)
    urls = [reverse("plans:treatment_detail", args=[plan.pk]), reverse("plans:treatment_pdf", args=[plan.pk]),
            reverse("plans:reintegration_detail", args=[reintegration.pk]),
            reverse("plans:reintegration_pdf", args=[reintegration.pk]),
            reverse("clients:case_summary_pdf", args=[case.pk])]
    for user, status in ((priya, 403), (rita, 403), (otto, 403), (sam, 403), (bob, 404), (nina, 404)):
        client.logout()
        sign_in(client, user)
        for url in urls:
            response = client.get(url)
            assert response.status_code == status, (user, url)
            assert SECRET.encode() not in response.content


def test_plans_are_not_in_the_administration_site():
    registered = set(admin.site._registry)
    assert not registered & {TreatmentPlan, Goal, PlanRevision, ReintegrationPlan, Milestone}
