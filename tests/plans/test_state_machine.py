"""A treatment plan's states: every allowed transition, every refused one, and who may take each.

draft -> submitted -> approved -> active -> under review -> (active again | submitted again) -> completed;
sent back or withdrawn to draft; discontinued from any open state. Every refused move leaves the plan as it was.
"""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from casemgmt.models import AuditAction, AuditEvent
from casemgmt.transitions import ERROR_STATE_CHANGED, TransitionRefused
from plans import services
from plans.models import PlanStatus, TreatmentPlan
from tests.conftest import sign_in
from tests.plans.factories import active_plan, approved_plan, draft_plan, goal_values, reload, submitted_plan

pytestmark = pytest.mark.django_db

NEXT_MONTH = 30


def plan_in(state: str, *, alice, mark, case) -> TreatmentPlan:
    if state == PlanStatus.DRAFT:
        return draft_plan(author=alice, client=case)
    if state == PlanStatus.SUBMITTED:
        return submitted_plan(author=alice, client=case)
    if state == PlanStatus.APPROVED:
        return approved_plan(author=alice, client=case, manager=mark)
    plan = active_plan(author=alice, client=case, manager=mark)
    if state == PlanStatus.UNDER_REVIEW:
        return services.plan_start_review(actor=alice, plan=plan)
    if state == PlanStatus.COMPLETED:
        return services.plan_complete(actor=alice, plan=plan)
    if state == PlanStatus.DISCONTINUED:
        return services.plan_discontinue(actor=alice, plan=plan, reason="Synthetic: moved away")
    return plan


def act(action: str, plan: TreatmentPlan, *, alice, mark):
    later = timezone.localdate() + datetime.timedelta(days=NEXT_MONTH)
    return {
        "submit": lambda: services.plan_submit(actor=alice, plan=plan),
        "withdraw": lambda: services.plan_withdraw(actor=alice, plan=plan),
        "approve": lambda: services.plan_approve(actor=mark, plan=plan, seen_revision=plan.revision),
        "send_back": lambda: services.plan_send_back(actor=mark, plan=plan, seen_revision=plan.revision,
                                                     comments="Synthetic: add a housing goal"),
        "activate": lambda: services.plan_activate(actor=alice, plan=plan),
        "start_review": lambda: services.plan_start_review(actor=alice, plan=plan),
        "continue": lambda: services.plan_continue(actor=alice, plan=plan, review_on=later),
        "complete": lambda: services.plan_complete(actor=alice, plan=plan),
        "discontinue": lambda: services.plan_discontinue(actor=alice, plan=plan, reason="Synthetic: moved away"),
    }[action]()


ALLOWED = {
    ("draft", "submit"): "submitted",
    ("draft", "discontinue"): "discontinued",
    ("submitted", "approve"): "approved",
    ("submitted", "send_back"): "draft",
    ("submitted", "withdraw"): "draft",
    ("submitted", "discontinue"): "discontinued",
    ("approved", "activate"): "active",
    ("approved", "discontinue"): "discontinued",
    ("active", "start_review"): "under_review",
    ("active", "complete"): "completed",
    ("active", "discontinue"): "discontinued",
    ("under_review", "continue"): "active",
    ("under_review", "submit"): "submitted",
    ("under_review", "complete"): "completed",
    ("under_review", "discontinue"): "discontinued",
}
ACTIONS = ["submit", "withdraw", "approve", "send_back", "activate", "start_review", "continue", "complete",
           "discontinue"]
REFUSED = [(state, action) for state in PlanStatus.values for action in ACTIONS if (state, action) not in ALLOWED]


@pytest.mark.parametrize(("state", "action"), list(ALLOWED), ids=lambda v: v)
def test_each_allowed_transition_moves_the_plan_and_is_audited(alice, mark, case, state, action):
    plan = plan_in(state, alice=alice, mark=mark, case=case)
    events = AuditEvent.objects.count()
    act(action, plan, alice=alice, mark=mark)
    fresh = reload(plan)
    assert fresh.status == ALLOWED[(state, action)]
    change = AuditEvent.objects.filter(action=AuditAction.CHANGE, object_type="plans.treatmentplan",
                                       object_id=str(plan.pk)).latest("seq")
    assert change.seq > events and "status" in change.fields and change.client_id == case.pk


@pytest.mark.parametrize(("state", "action"), REFUSED, ids=lambda v: v)
def test_each_refused_transition_says_why_and_changes_nothing(alice, mark, case, state, action):
    plan = plan_in(state, alice=alice, mark=mark, case=case)
    before = TreatmentPlan.objects.filter(pk=plan.pk).values().get()
    with pytest.raises(TransitionRefused) as refused:
        act(action, plan, alice=alice, mark=mark)
    assert refused.value.message == str(ERROR_STATE_CHANGED % {"state": PlanStatus(state).label})
    assert TreatmentPlan.objects.filter(pk=plan.pk).values().get() == before


def test_the_author_may_not_approve_their_own_plan_nor_send_it_back(mona, mark, case):
    plan = submitted_plan(author=mona, client=case)
    for attempt in (lambda: services.plan_approve(actor=mona, plan=plan, seen_revision=plan.revision),
                    lambda: services.plan_send_back(actor=mona, plan=plan, seen_revision=plan.revision,
                                                    comments="Synthetic")):
        with pytest.raises(ValidationError) as refused:
            attempt()
        assert refused.value.messages == [str(services.ERROR_OWN_PLAN)]
    assert reload(plan).status == PlanStatus.SUBMITTED
    services.plan_approve(actor=mark, plan=plan, seen_revision=plan.revision)  # another manager may
    assert reload(plan).status == PlanStatus.APPROVED


def test_a_manager_who_changed_a_goal_may_not_approve_it(alice, mona, mark, case):
    plan = draft_plan(author=alice, client=case)
    services.goal_save(actor=mona, plan=plan, values=goal_values(domain="housing", text="Synthetic: a room"))
    plan = services.plan_submit(actor=alice, plan=plan)
    with pytest.raises(ValidationError) as refused:
        services.plan_approve(actor=mona, plan=plan, seen_revision=plan.revision)
    assert refused.value.messages == [str(services.ERROR_OWN_PLAN)]
    services.plan_approve(actor=mark, plan=plan, seen_revision=plan.revision)


def test_only_a_manager_of_the_plans_centre_approves(alice, carol, nina, mark, case):
    plan = submitted_plan(author=alice, client=case)
    for actor in (carol, nina):  # a counsellor of the centre; a manager of another centre
        with pytest.raises(ValidationError) as refused:
            services.plan_approve(actor=actor, plan=plan, seen_revision=plan.revision)
        assert refused.value.messages == [str(services.ERROR_ONLY_MANAGERS)]
    assert reload(plan).status == PlanStatus.SUBMITTED


def test_approval_checks_the_version_the_manager_read(alice, mark, case):
    """Withdrawn, changed and submitted again while the manager's page was open: their approval is refused."""
    plan = submitted_plan(author=alice, client=case)
    read = plan.revision
    services.plan_withdraw(actor=alice, plan=plan)
    services.goal_save(actor=alice, plan=plan, values=goal_values(text="Synthetic: changed after submission"))
    services.plan_submit(actor=alice, plan=plan)
    with pytest.raises(ValidationError) as refused:
        services.plan_approve(actor=mark, plan=plan, seen_revision=read)
    assert refused.value.messages == [str(services.ERROR_CHANGED_SINCE_READ % {"seen": read, "now": read + 1})]
    fresh = reload(plan)
    assert (fresh.status, fresh.approved_by_id) == (PlanStatus.SUBMITTED, None)


def test_a_second_plan_in_force_is_refused_and_nothing_is_saved(alice, mark, case):
    active_plan(author=alice, client=case, manager=mark)
    second = approved_plan(author=alice, client=case, manager=mark)
    with pytest.raises(ValidationError) as refused:
        services.plan_activate(actor=alice, plan=second)
    assert refused.value.messages == [str(services.ERROR_ONE_IN_FORCE)]
    assert reload(second).status == PlanStatus.APPROVED
    assert TreatmentPlan.objects.filter(client=case, status__in=["active", "under_review"]).count() == 1


def test_the_database_refuses_a_second_plan_in_force(alice, mark, case):
    from django.db import IntegrityError, transaction

    active_plan(author=alice, client=case, manager=mark)
    second = approved_plan(author=alice, client=case, manager=mark)
    with pytest.raises(IntegrityError), transaction.atomic():
        TreatmentPlan.objects.filter(pk=second.pk).update(status=PlanStatus.UNDER_REVIEW)


def test_submitting_needs_goals_and_a_review_date(alice, case):
    empty = services.plan_create(actor=alice, client=case, review_on=timezone.localdate())
    with pytest.raises(ValidationError) as refused:
        services.plan_submit(actor=alice, plan=empty)
    assert refused.value.messages == [str(services.ERROR_NO_GOALS)]
    undated = draft_plan(author=alice, client=case, review_in_days=None)
    with pytest.raises(ValidationError) as refused:
        services.plan_submit(actor=alice, plan=undated)
    assert refused.value.message_dict == {"review_on": [str(services.ERROR_REVIEW_DATE_NEEDED)]}
    assert {reload(empty).status, reload(undated).status} == {PlanStatus.DRAFT}


def test_a_review_that_changed_goals_goes_to_approval_again(alice, mark, case):
    plan = services.plan_start_review(actor=alice, plan=active_plan(author=alice, client=case, manager=mark))
    services.goal_save(actor=alice, plan=plan, values=goal_values(domain="family", text="Synthetic: family visit"))
    with pytest.raises(ValidationError) as refused:
        services.plan_continue(actor=alice, plan=plan, review_on=timezone.localdate() + datetime.timedelta(days=9))
    assert refused.value.messages == [str(services.ERROR_CHANGED_IN_REVIEW)]
    resubmitted = services.plan_submit(actor=alice, plan=plan)
    assert (resubmitted.status, resubmitted.revision) == (PlanStatus.SUBMITTED, 2)


def test_sending_back_needs_comments_and_they_reach_the_author(client, alice, mark, case):
    plan = submitted_plan(author=alice, client=case)
    with pytest.raises(ValidationError):
        services.plan_send_back(actor=mark, plan=plan, seen_revision=plan.revision, comments="  ")
    services.plan_send_back(actor=mark, plan=plan, seen_revision=plan.revision,
                            comments="Synthetic: say who follows up the HIV test")
    sign_in(client, alice)
    page = client.get(reverse("plans:treatment_detail", args=[plan.pk])).content.decode()
    assert "Sent back for changes" in page and "Synthetic: say who follows up the HIV test" in page
    home = client.get(reverse("home")).content.decode()
    assert "Plans sent back to you" in home and case.uic in home


def test_discontinuing_needs_a_reason(alice, case):
    plan = draft_plan(author=alice, client=case)
    with pytest.raises(ValidationError) as refused:
        services.plan_discontinue(actor=alice, plan=plan, reason=" ")
    assert refused.value.message_dict == {"note": [str(services.ERROR_REASON_NEEDED)]}
    assert reload(plan).status == PlanStatus.DRAFT


# Through the pages: the policy and the scope decide who may take each step.


def test_a_manager_approves_through_the_decision_page(client, alice, mark, case):
    plan = submitted_plan(author=alice, client=case)
    sign_in(client, mark)
    url = reverse("plans:treatment_decide", args=[plan.pk])
    page = client.get(url)
    assert page.status_code == 200 and "Synthetic goal 1" in page.content.decode()
    response = client.post(url, {"revision": plan.revision, "decision": "approve"})
    assert response.status_code == 302
    fresh = reload(plan)
    assert (fresh.status, fresh.approved_by, fresh.approved_revision) == (PlanStatus.APPROVED, mark, 1)


def test_the_author_manager_sees_why_they_cannot_decide_and_nothing_is_saved(client, mona, case):
    plan = submitted_plan(author=mona, client=case)
    sign_in(client, mona)
    url = reverse("plans:treatment_decide", args=[plan.pk])
    assert "another centre manager of your centre decides" in client.get(url).content.decode()
    response = client.post(url, {"revision": plan.revision, "decision": "approve"})
    assert response.status_code == 200
    assert str(services.ERROR_OWN_PLAN) in [str(e) for e in response.context["form"].non_field_errors()]
    assert reload(plan).status == PlanStatus.SUBMITTED


def test_a_counsellor_cannot_reach_the_decision_page(client, alice, case):
    plan = submitted_plan(author=alice, client=case)
    sign_in(client, alice)
    url = reverse("plans:treatment_decide", args=[plan.pk])
    assert client.post(url, {"revision": plan.revision, "decision": "approve"}).status_code == 403
    assert reload(plan).status == PlanStatus.SUBMITTED


def test_the_steps_through_the_plan_page(client, alice, mark, case):
    plan = draft_plan(author=alice, client=case)
    sign_in(client, alice)
    detail = reverse("plans:treatment_detail", args=[plan.pk])
    assert client.post(reverse("plans:treatment_submit", args=[plan.pk])).url == detail
    assert reload(plan).status == PlanStatus.SUBMITTED
    services.plan_approve(actor=mark, plan=plan, seen_revision=1)
    client.post(reverse("plans:treatment_activate", args=[plan.pk]))
    assert reload(plan).status == PlanStatus.ACTIVE
    client.post(reverse("plans:treatment_start_review", args=[plan.pk]))
    assert reload(plan).status == PlanStatus.UNDER_REVIEW
    later = (timezone.localdate() + datetime.timedelta(days=60)).isoformat()
    client.post(reverse("plans:treatment_continue", args=[plan.pk]), {"review_on": later})
    fresh = reload(plan)
    assert (fresh.status, fresh.review_on.isoformat()) == (PlanStatus.ACTIVE, later)
    client.post(reverse("plans:treatment_close", args=[plan.pk]), {"outcome": "complete", "note": ""})
    assert reload(plan).status == PlanStatus.COMPLETED


def test_a_refused_step_on_the_page_shows_the_reason(client, alice, case):
    plan = draft_plan(author=alice, client=case)
    sign_in(client, alice)
    response = client.post(reverse("plans:treatment_activate", args=[plan.pk]), follow=True)
    assert str(ERROR_STATE_CHANGED % {"state": "Draft"}) in [str(m) for m in response.context["messages"]]
    assert reload(plan).status == PlanStatus.DRAFT


def in_khmer(message) -> str:
    from django.utils import translation

    with translation.override("km"):
        text = str(message)
    with translation.override("en"):
        assert text != str(message), f"no Khmer translation for {message!r}"
    return text


def test_approving_a_version_submitted_again_meanwhile_is_refused_in_khmer(client, alice, mark, case):
    from django.conf import settings
    from django.utils.html import escape

    plan = submitted_plan(author=alice, client=case)
    sign_in(client, mark)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "km"
    url = reverse("plans:treatment_decide", args=[plan.pk])
    seen = client.get(url).context["form"]["revision"].value()  # the page as the manager opened it
    services.plan_withdraw(actor=alice, plan=plan)
    services.goal_save(actor=alice, plan=plan, values=goal_values(text="Synthetic: changed meanwhile"))
    services.plan_submit(actor=alice, plan=plan)
    response = client.post(url, {"revision": seen, "decision": "approve"})
    assert response.status_code == 200
    assert escape(in_khmer(services.ERROR_CHANGED_SINCE_READ) % {"seen": 1, "now": 2}) in response.content.decode()
    fresh = reload(plan)
    assert (fresh.status, fresh.approved_by_id, fresh.revision) == (PlanStatus.SUBMITTED, None, 2)


def test_a_second_plan_in_force_is_refused_on_the_page_in_khmer(client, alice, mark, case):
    from django.conf import settings

    active_plan(author=alice, client=case, manager=mark)
    second = approved_plan(author=alice, client=case, manager=mark)
    sign_in(client, alice)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "km"
    response = client.post(reverse("plans:treatment_activate", args=[second.pk]), follow=True)
    assert in_khmer(services.ERROR_ONE_IN_FORCE) in [str(m) for m in response.context["messages"]]
    assert reload(second).status == PlanStatus.APPROVED


def test_a_colleague_or_another_centre_cannot_take_any_step(client, alice, carol, bob, nina, case):
    plan = draft_plan(author=alice, client=case)
    for user in (carol, bob, nina):
        client.logout()
        sign_in(client, user)
        for name in ("treatment_submit", "treatment_activate", "treatment_start_review", "treatment_withdraw"):
            assert client.post(reverse(f"plans:{name}", args=[plan.pk])).status_code == 404, (user, name)
    assert reload(plan).status == PlanStatus.DRAFT
