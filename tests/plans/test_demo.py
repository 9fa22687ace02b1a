"""`manage.py seed_demo_plans`: the demo's plans in every interesting state, made once."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from casemgmt.models import AuditEvent
from plans import selectors
from plans.models import Milestone, PlanRevision, PlanStatus, TreatmentPlan

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(settings):
    settings.DEVELOPMENT = True
    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo_clients", stdout=io.StringIO())


def test_the_demo_plans_show_every_step_and_are_made_once(demo):
    from django.contrib.auth import get_user_model

    out = io.StringIO()
    call_command("seed_demo_plans", stdout=out)
    assert "Gave 5 demo clients their plans." in out.getvalue()
    statuses = sorted(TreatmentPlan.objects.values_list("status", flat=True))
    assert statuses == sorted([PlanStatus.SUBMITTED, PlanStatus.ACTIVE, PlanStatus.ACTIVE, PlanStatus.DRAFT,
                               PlanStatus.APPROVED])
    users = get_user_model().objects
    counsellor, manager = users.get(username="counsellor"), users.get(username="manager")
    assert [p.author for p in selectors.waiting_for_approval(user=manager)] == [counsellor]
    assert len(selectors.overdue_reviews(user=manager)) == 1
    assert len(selectors.reviews_due(user=counsellor)) == 2  # due in five days, and the overdue one
    assert len(selectors.sent_back_to(user=counsellor)) == 1
    with_earlier = TreatmentPlan.objects.filter(revision=2).values_list("status", flat=True)
    assert sorted(with_earlier) == ["active", "approved"]
    assert set(PlanRevision.objects.values_list("decision", flat=True)) == {"", "approved", "sent_back", "withdrawn"}
    milestones = Milestone.objects.all()
    assert milestones.filter(achieved_on__isnull=False).count() == 2 and milestones.filter(
        achieved_on__isnull=True).count() == 3
    # Made as the demo people would: the approvals are the manager's, in the audit trail.
    assert AuditEvent.objects.filter(actor_username="manager", object_type="plans.treatmentplan",
                                     reason__contains="-> approved").count() == 3

    again = io.StringIO()
    call_command("seed_demo_plans", stdout=again)
    assert "Demo plans exist already." in again.getvalue()
    assert TreatmentPlan.objects.count() == 5
