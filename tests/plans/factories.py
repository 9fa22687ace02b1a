"""Factories of the plans: obviously synthetic plans, goals and milestones, made through the services."""

from __future__ import annotations

import datetime

from django.utils import timezone


def goal_values(**overrides) -> dict:
    values = {"domain": "substance_use", "text": "Synthetic goal: fewer days of use each week",
              "interventions": "Weekly counselling (synthetic)", "responsible": "Counsellor (synthetic)",
              "target_on": timezone.localdate() + datetime.timedelta(days=60), "status": "not_started"}
    values.update(overrides)
    return values


def draft_plan(*, author, client, goals: int = 1, review_in_days: int | None = 90, **goal_overrides):
    from plans import services

    review_on = timezone.localdate() + datetime.timedelta(days=review_in_days) if review_in_days is not None else None
    plan = services.plan_create(actor=author, client=client, review_on=review_on)
    for n in range(goals):
        services.goal_save(actor=author, plan=plan, values=goal_values(
            text=f"Synthetic goal {n + 1}: fewer days of use each week", **goal_overrides))
    return reload(plan)


def submitted_plan(*, author, client, **kwargs):
    from plans import services

    return services.plan_submit(actor=author, plan=draft_plan(author=author, client=client, **kwargs))


def approved_plan(*, author, client, manager, **kwargs):
    from plans import services

    plan = submitted_plan(author=author, client=client, **kwargs)
    return services.plan_approve(actor=manager, plan=plan, seen_revision=plan.revision)


def active_plan(*, author, client, manager, **kwargs):
    from plans import services

    return services.plan_activate(actor=author, plan=approved_plan(author=author, client=client, manager=manager,
                                                                   **kwargs))


def reload(plan):
    from plans.models import TreatmentPlan

    return TreatmentPlan.objects.select_related("client", "author").get(pk=plan.pk)


def milestone_values(**overrides) -> dict:
    values = {"domain": "housing", "description": "Synthetic milestone: a room to rent",
              "notes": "Synthetic notes", "target_on": timezone.localdate() + datetime.timedelta(days=30),
              "achieved_on": None}
    values.update(overrides)
    return values


def reintegration_plan(*, actor, client, milestones: int = 1):
    from plans import services

    plan = services.reintegration_open(actor=actor, client=client, summary="Synthetic summary")
    for n in range(milestones):
        services.milestone_save(actor=actor, plan=plan, values=milestone_values(
            description=f"Synthetic milestone {n + 1}"))
    return plan


def plans_file(*, counsellor, manager, client) -> dict:
    """For the access matrix: a draft with a goal, a submitted plan (another version of it readable), and an open
    reintegration plan with a milestone, all of ``client``."""
    from plans.models import Goal, Milestone

    draft = draft_plan(author=counsellor, client=client)
    submitted = submitted_plan(author=counsellor, client=client)
    reintegration = reintegration_plan(actor=counsellor, client=client)
    return {"draft_plan": draft, "goal": Goal.objects.filter(plan=draft).first(), "submitted_plan": submitted,
            "reintegration_plan": reintegration, "milestone": Milestone.objects.filter(plan=reintegration).first()}
