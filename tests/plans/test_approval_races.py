"""Two people acting on one plan at the same instant (PostgreSQL, two connections): exactly one applies.

Two managers approving at once: one approval, the other told the plan is already approved. Two approved plans of
one client activated at once: one in force, the other refused with the clear message (the constraint
one_treatment_plan_in_force holds it; the loser's IntegrityError becomes that message). A manager approving while
the author sends the plan again: the manager's stale version is refused.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from casemgmt.transitions import ERROR_STATE_CHANGED, TransitionRefused
from plans import services
from plans.models import PlanRevision, PlanStatus, TreatmentPlan
from tests.plans.factories import approved_plan, reload, submitted_plan
from tests.races import TRIES, race, winner_and_loser

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_managers_approving_at_once_leave_exactly_one_approval(postgresql_only, alice, mona, mark, case):
    for _ in range(TRIES):
        plan = submitted_plan(author=alice, client=case)
        outcomes = race(
            lambda plan=plan: services.plan_approve(actor=mona, plan=TreatmentPlan.objects.get(pk=plan.pk),
                                                    seen_revision=1),
            lambda plan=plan: services.plan_approve(actor=mark, plan=TreatmentPlan.objects.get(pk=plan.pk),
                                                    seen_revision=1),
        )
        winner, loser = winner_and_loser(outcomes)
        assert isinstance(loser.error, TransitionRefused)
        assert loser.error.message == str(ERROR_STATE_CHANGED % {"state": "Approved"})
        fresh = reload(plan)
        assert fresh.status == PlanStatus.APPROVED and fresh.approved_by_id == winner.value.approved_by_id
        revision = PlanRevision.objects.get(plan=plan)
        assert (revision.decision, revision.decided_by_id) == ("approved", fresh.approved_by_id)
        services.plan_discontinue(actor=alice, plan=fresh, reason="Synthetic: next round")


def test_an_approval_and_a_send_back_at_once_leave_exactly_one_decision(postgresql_only, alice, mona, mark, case):
    plan = submitted_plan(author=alice, client=case)
    outcomes = race(
        lambda: services.plan_approve(actor=mona, plan=TreatmentPlan.objects.get(pk=plan.pk), seen_revision=1),
        lambda: services.plan_send_back(actor=mark, plan=TreatmentPlan.objects.get(pk=plan.pk), seen_revision=1,
                                        comments="Synthetic: not yet"),
    )
    winner, loser = winner_and_loser(outcomes)
    assert isinstance(loser.error, TransitionRefused)
    assert reload(plan).status == winner.value.status
    assert PlanRevision.objects.get(plan=plan).decision in ("approved", "sent_back")


def test_two_plans_activated_at_once_leave_exactly_one_in_force(postgresql_only, alice, mark, case):
    for _ in range(TRIES):
        first = approved_plan(author=alice, client=case, manager=mark)
        second = approved_plan(author=alice, client=case, manager=mark)
        outcomes = race(lambda first=first: services.plan_activate(actor=alice, plan=first),
                        lambda second=second: services.plan_activate(actor=alice, plan=second))
        _winner, loser = winner_and_loser(outcomes)
        assert isinstance(loser.error, ValidationError)
        assert loser.error.messages == [str(services.ERROR_ONE_IN_FORCE)]
        in_force = TreatmentPlan.objects.filter(client=case, status__in=["active", "under_review"])
        assert in_force.count() == 1
        assert sorted(TreatmentPlan.objects.filter(pk__in=[first.pk, second.pk]).values_list("status", flat=True)) \
            == ["active", "approved"]
        for plan in in_force:
            services.plan_complete(actor=alice, plan=plan)


def test_an_approval_racing_a_new_submission_approves_nothing_stale(postgresql_only, alice, mark, case):
    plan = submitted_plan(author=alice, client=case)

    def resubmit():
        services.plan_withdraw(actor=alice, plan=plan)
        return services.plan_submit(actor=alice, plan=plan)

    outcomes = race(resubmit, lambda: services.plan_approve(actor=mark, plan=plan, seen_revision=1))
    fresh = reload(plan)
    if outcomes[1].error is None:  # the approval came first: version 1 approved, the withdrawal then refused
        assert fresh.approved_revision == 1 and isinstance(outcomes[0].error, TransitionRefused)
    else:  # the new submission came first (or was under way): nothing approved
        assert fresh.approved_by_id is None and fresh.status in (PlanStatus.DRAFT, PlanStatus.SUBMITTED)
