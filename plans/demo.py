"""Synthetic demo plans for `manage.py seed_demo_plans` (never real people), made through the services as a
counsellor and a manager would, so that every step is audited and every version is kept."""

from __future__ import annotations

import datetime

from django.utils import timezone

from plans import services
from plans.models import ReintegrationPlan, TreatmentPlan

GOALS = [
    {"domain": "substance_use", "text": "Demo: no methamphetamine use for four weeks in a row",
     "interventions": "Demo: weekly counselling, relapse-prevention group", "responsible": "Demo counsellor"},
    {"domain": "infectious_disease", "text": "Demo: HIV and hepatitis C tests at the partner clinic",
     "interventions": "Demo: referral and accompaniment", "responsible": "Demo outreach worker"},
    {"domain": "family", "text": "Demo: one family meeting a month", "interventions": "Demo: family counselling",
     "responsible": "Demo counsellor and the client's sister"},
    {"domain": "vocational", "text": "Demo: join the motorbike repair course", "interventions": "Demo: NGO course",
     "responsible": "Demo client"},
]
MILESTONES = [
    ("housing", "Demo: a room to rent near the centre", -20, -18),
    ("employment", "Demo: start the motorbike repair course", -10, -9),
    ("family", "Demo: visit the family in the province", -3, None),
    ("health", "Demo: hepatitis C follow-up at the clinic", 14, None),
    ("legal", "Demo: a new ID card", 30, None),
]


def _goal(index: int, today: datetime.date, **overrides) -> dict:
    return {**GOALS[index % len(GOALS)], "target_on": today + datetime.timedelta(days=30 * (index + 1)),
            "status": "in_progress" if index == 0 else "not_started", **overrides}


def _draft(*, counsellor, client, today, goals: int, review_in: int) -> TreatmentPlan:
    plan = services.plan_create(actor=counsellor, client=client, review_on=today + datetime.timedelta(days=review_in))
    for index in range(goals):
        services.goal_save(actor=counsellor, plan=plan, values=_goal(index, today))
    return plan


def seed_demo_plans(*, clients: list, counsellor, manager) -> int:
    """Plans for the first five of ``clients`` (the demo counsellor's). Does nothing if any of them has a plan."""
    clients = list(clients)[:5]
    if len(clients) < 5 or TreatmentPlan.objects.filter(client__in=clients).exists():
        return 0
    today = timezone.localdate()
    waiting, reviewed, overdue, sent_back, approved = clients

    # 1. Waiting for the manager's approval.
    services.plan_submit(actor=counsellor, plan=_draft(counsellor=counsellor, client=waiting, today=today, goals=3,
                                                       review_in=90))

    # 2. Active, with an earlier version sent back; its review is due in five days; a reintegration plan.
    plan = _draft(counsellor=counsellor, client=reviewed, today=today, goals=2, review_in=5)
    plan = services.plan_submit(actor=counsellor, plan=plan)
    services.plan_send_back(actor=manager, plan=plan, seen_revision=plan.revision,
                            comments="Demo: add a vocational goal and say who follows up the tests.")
    services.goal_save(actor=counsellor, plan=plan, values=_goal(3, today))
    plan = services.plan_submit(actor=counsellor, plan=plan)
    plan = services.plan_approve(actor=manager, plan=plan, seen_revision=plan.revision)
    services.plan_activate(actor=counsellor, plan=plan)
    reintegration = services.reintegration_open(actor=counsellor, client=reviewed,
                                                summary="Demo: back to work and to the family within six months.")
    # Opened a month ago in the demo's story, so that milestones can have been achieved since.
    ReintegrationPlan.objects.filter(pk=reintegration.pk).update(created_at=timezone.now() - datetime.timedelta(
        days=30))
    reintegration.refresh_from_db(fields=["created_at"])
    for domain, text, target, achieved in MILESTONES:
        services.milestone_save(actor=counsellor, plan=reintegration, values={
            "domain": domain, "description": text, "notes": "Demo notes: done." if achieved is not None else "",
            "target_on": today + datetime.timedelta(days=target),
            "achieved_on": None if achieved is None else today + datetime.timedelta(days=achieved)})

    # 3. Active, its review overdue (the demo's clock moved on: the date is set as it would have been then).
    plan = _draft(counsellor=counsellor, client=overdue, today=today, goals=2, review_in=30)
    plan = services.plan_submit(actor=counsellor, plan=plan)
    services.plan_activate(actor=counsellor, plan=services.plan_approve(actor=manager, plan=plan, seen_revision=1))
    TreatmentPlan.objects.filter(pk=plan.pk).update(review_on=today - datetime.timedelta(days=4))

    # 4. Sent back with comments, waiting for the counsellor.
    plan = services.plan_submit(actor=counsellor, plan=_draft(counsellor=counsellor, client=sent_back, today=today,
                                                              goals=1, review_in=60))
    services.plan_send_back(actor=manager, plan=plan, seen_revision=1,
                            comments="Demo: the goal needs a target date we can check together.")

    # 5. Approved, not yet active: version 1 withdrawn and changed, version 2 approved.
    plan = services.plan_submit(actor=counsellor, plan=_draft(counsellor=counsellor, client=approved, today=today,
                                                              goals=2, review_in=60))
    services.plan_withdraw(actor=counsellor, plan=plan)
    services.goal_save(actor=counsellor, plan=plan, values=_goal(2, today))
    plan = services.plan_submit(actor=counsellor, plan=plan)
    services.plan_approve(actor=manager, plan=plan, seen_revision=plan.revision)
    return 5
