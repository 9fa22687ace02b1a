"""Every earlier version of a plan stays readable, with who changed, submitted and decided it and when; the
frozen content does not follow later edits."""

from __future__ import annotations

import pytest
from django.db import connection
from django.urls import reverse

from casemgmt.models import AuditAction, AuditEvent
from plans import selectors, services
from plans.models import Goal, PlanRevision
from tests.conftest import sign_in
from tests.plans.factories import goal_values, submitted_plan

pytestmark = pytest.mark.django_db


@pytest.fixture
def twice_submitted(alice, carol, mark, case):
    """Version 1 sent back by mark; carol (a colleague) and alice change it; version 2 approved by mark."""
    plan = submitted_plan(author=alice, client=case)
    services.plan_send_back(actor=mark, plan=plan, seen_revision=1, comments="Synthetic: add a legal goal")
    services.goal_save(actor=carol, plan=plan, values=goal_values(domain="legal", text="Synthetic: see legal aid"))
    goal = Goal.objects.filter(plan=plan).first()
    services.goal_save(actor=alice, plan=plan, goal=goal, expected_version=goal.version,
                       values=goal_values(text="Synthetic goal 1, reworded", status="in_progress"))
    plan = services.plan_submit(actor=alice, plan=plan)
    services.plan_approve(actor=mark, plan=plan, seen_revision=2)
    return plan


def test_each_version_keeps_its_goals_and_its_people(twice_submitted):
    first, second = selectors.history(twice_submitted)[::-1]
    assert [g["text"] for g in first.goals] == ["Synthetic goal 1: fewer days of use each week"]
    assert [g["text"] for g in second.goals] == ["Synthetic goal 1, reworded", "Synthetic: see legal aid"]
    assert (first.revision.decision, first.revision.decided_by.username, first.revision.comments) == (
        "sent_back", "mark", "Synthetic: add a legal goal")
    assert (second.revision.decision, second.revision.decided_by.username) == ("approved", "mark")
    assert first.editors == ["alice"] and sorted(second.editors) == ["alice", "carol"]
    assert second.revision.submitted_by.username == "alice" and second.revision.submitted_at is not None
    kinds = sorted((c.kind, c.text) for c in second.changes)
    assert kinds == [("added", "Synthetic: see legal aid"), ("changed", "Synthetic goal 1, reworded")]
    assert sorted(next(c for c in second.changes if c.kind == "changed").fields) == ["Goal", "Status"]


def test_a_frozen_version_does_not_follow_later_edits(alice, mark, twice_submitted):
    plan = services.plan_activate(actor=alice, plan=twice_submitted)
    plan = services.plan_start_review(actor=alice, plan=plan)
    services.goal_save(actor=alice, plan=plan, values=goal_values(text="Synthetic: added in review"))
    assert [g["text"] for g in selectors.revision_of(plan, 2).goals] == [
        "Synthetic goal 1, reworded", "Synthetic: see legal aid"]


def test_the_snapshot_is_encrypted(twice_submitted):
    with connection.cursor() as cursor:
        cursor.execute("SELECT snapshot FROM plans_planrevision")
        stored = b"".join(bytes(row[0]) for row in cursor.fetchall())
    assert b"legal aid" not in stored and b"reworded" not in stored


def test_an_earlier_version_is_readable_on_its_page(client, alice, twice_submitted):
    sign_in(client, alice)
    page = client.get(reverse("plans:revision_detail", args=[twice_submitted.pk, 1])).content.decode()
    assert "Version 1" in page and "Synthetic goal 1: fewer days of use each week" in page
    assert "Sent back" in page and "mark" in page and "Synthetic: add a legal goal" in page
    assert "reworded" not in page
    assert AuditEvent.objects.filter(action=AuditAction.VIEW, object_type="plans.planrevision").exists()
    assert client.get(reverse("plans:revision_detail", args=[twice_submitted.pk, 9])).status_code == 404


def test_the_plan_page_lists_every_version_with_who_and_when(client, alice, twice_submitted):
    sign_in(client, alice)
    page = client.get(reverse("plans:treatment_detail", args=[twice_submitted.pk])).content.decode()
    for number in (1, 2):
        assert reverse("plans:revision_detail", args=[twice_submitted.pk, number]) in page
    assert "Approved" in page and "Goal added" in page and "carol" in page


def test_the_decision_is_recorded_once_per_version(twice_submitted):
    assert list(PlanRevision.objects.filter(plan=twice_submitted).order_by("number").values_list(
        "number", "decision")) == [(1, "sent_back"), (2, "approved")]


def test_a_version_submitted_again_unchanged_names_no_one_as_changing_it(client, alice, mark, case):
    plan = submitted_plan(author=alice, client=case)
    services.plan_withdraw(actor=alice, plan=plan)
    services.plan_submit(actor=alice, plan=plan)
    second = selectors.history(plan)[0]
    assert (second.revision.number, second.editors, second.revision.changed_by, second.changes) == (2, [], None, [])
    sign_in(client, mark)
    page = client.get(reverse("plans:treatment_detail", args=[plan.pk])).content.decode()
    assert "no change since the version before" in page and "Withdrawn by the team" in page
