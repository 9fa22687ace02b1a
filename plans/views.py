"""Plan pages. Thin: the policy (middleware), the access call, the form, the service, the redirect."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from casemgmt import audit, pdf
from casemgmt.conflicts import conflict_page
from casemgmt.models import AuditAction
from casemgmt.roles import Role
from casemgmt.submission import MESSAGE_SAVED, submitted
from casemgmt.transitions import TransitionRefused
from clients.selectors import access_client
from plans import forms, links, selectors, services
from plans.models import EDITABLE, IN_FORCE, PlanStatus, ReintegrationStatus

MESSAGES_DONE = {
    "submit": _("The plan was submitted: the centre's managers are asked to approve it."),
    "withdraw": _("The plan was taken back to draft. Submit it again when it is ready."),
    "activate": _("The plan is now active."),
    "start_review": _("The review is open: change the goals, then submit the plan again, or keep it as it is."),
    "approve": _("The plan was approved. The team can now make it active."),
    "send_back": _("The plan was sent back to its author with your comments."),
    "continue": _("The review is closed: the plan stays active until its next review."),
    "complete": _("The plan is completed."),
    "discontinue": _("The plan is discontinued."),
}


def _refused(request, plan_url: str, exc: Exception):
    messages.error(request, exc.message if isinstance(exc, TransitionRefused) else " ".join(exc.messages))
    return redirect(plan_url)


def _plan_url(plan) -> str:
    return reverse("plans:treatment_detail", args=[plan.pk])


def _viewed(plan, fields=()) -> None:
    audit.record(action=AuditAction.VIEW, object_type=plan._meta.label_lower, object_id=plan.pk,
                 client_id=plan.client_id, fields=list(fields))


# ----------------------------------------------------------------------------------------------------------
# Treatment plans


@require_http_methods(["GET", "POST"])
def treatment_new(request, client_id):
    client = access_client(user=request.user, client_id=client_id, write=True)
    form = forms.PlanForm(request.POST or None)
    done = submitted(request, form, lambda data: services.plan_create(actor=request.user, client=client,
                                                                      review_on=data["review_on"]),
                     message=_("A draft plan was started. Add its goals."),
                     then=lambda plan: redirect("plans:goal_add", plan_id=plan.pk))
    return done or render(request, "plans/plan_form.html", {"form": form, "client": client, "plan": None})


@require_GET
def treatment_detail(request, plan_id):
    plan = selectors.access_treatment_plan(user=request.user, plan_id=plan_id)
    goals = selectors.goals_of(plan)
    _viewed(plan, ["goals", "send_back_comments", "closing_note"])
    history = selectors.history(plan)
    is_manager = request.role == Role.CENTRE_MANAGER
    own = request.user.pk == plan.author_id or request.user.pk in plan.editor_ids
    return render(request, "plans/plan_detail.html", {
        "plan": plan, "client": plan.client, "goals": goals, "history": history,
        "can_edit": plan.status in EDITABLE,
        "can_decide": is_manager and plan.status == PlanStatus.SUBMITTED and not own,
        "decides_elsewhere": plan.status == PlanStatus.SUBMITTED and (not is_manager or own),
        "can_continue": plan.status == PlanStatus.UNDER_REVIEW and not plan.changed_since_revision,
        "can_close": plan.status not in (PlanStatus.COMPLETED, PlanStatus.DISCONTINUED),
        "in_force": plan.status in IN_FORCE,
        "overdue": selectors.is_overdue(plan),
    })


@require_http_methods(["GET", "POST"])
def treatment_edit(request, plan_id):
    plan = selectors.access_treatment_plan(user=request.user, plan_id=plan_id, write=True)
    form = forms.PlanForm(request.POST or None, initial={"review_on": plan.review_on, "version": plan.version})

    def on_conflict():
        current = selectors.access_treatment_plan(user=request.user, plan_id=plan_id, write=True)
        return conflict_page(request, form=form, current={"review_on": current.review_on},
                             version=current.version, template="plans/plan_form.html",
                             context={"client": current.client, "plan": current})

    done = submitted(request, form, lambda data: services.plan_set_review_date(
        actor=request.user, plan=plan, review_on=data["review_on"], expected_version=data["version"]),
        then=lambda _result: redirect(_plan_url(plan)), on_conflict=on_conflict)
    return done or render(request, "plans/plan_form.html", {"form": form, "client": plan.client, "plan": plan})


@require_http_methods(["GET", "POST"])
def goal_add(request, plan_id):
    return _goal_form(request, plan_id, goal_id=None)


@require_http_methods(["GET", "POST"])
def goal_edit(request, plan_id, goal_id):
    return _goal_form(request, plan_id, goal_id=goal_id)


def _goal_form(request, plan_id, *, goal_id):
    plan = selectors.access_treatment_plan(user=request.user, plan_id=plan_id, write=True)
    goal = selectors.access_goal(plan=plan, goal_id=goal_id) if goal_id else None
    if plan.status not in EDITABLE:
        messages.error(request, services.ERROR_NOT_EDITABLE % {"state": plan.get_status_display()})
        return redirect(_plan_url(plan))
    form = forms.GoalForm.for_goal(request.POST or None, goal)
    context = {"client": plan.client, "plan": plan, "goal": goal}
    if request.method == "GET" and goal is not None:
        audit.record(action=AuditAction.VIEW, object_type="plans.goal", object_id=goal.pk, client_id=plan.client_id,
                     fields=services.GOAL_FIELDS)

    def on_conflict():
        current = selectors.access_goal(plan=plan, goal_id=goal_id)
        return conflict_page(request, form=form, version=current.version, template="plans/goal_form.html",
                             current={name: getattr(current, name) for name in services.GOAL_FIELDS},
                             context={**context, "goal": current})

    def then(_result):
        if "another" in request.POST:
            return redirect("plans:goal_add", plan_id=plan.pk)
        return redirect(_plan_url(plan))

    done = submitted(request, form, lambda data: services.goal_save(
        actor=request.user, plan=plan, goal=goal, values=form.values(), expected_version=data["version"]),
        then=then, on_conflict=on_conflict)
    return done or render(request, "plans/goal_form.html", {**context, "form": form})


@require_POST
def goal_remove(request, plan_id, goal_id):
    plan = selectors.access_treatment_plan(user=request.user, plan_id=plan_id, write=True)
    goal = selectors.access_goal(plan=plan, goal_id=goal_id)
    try:
        services.goal_remove(actor=request.user, plan=plan, goal=goal)
    except TransitionRefused as exc:
        return _refused(request, _plan_url(plan), exc)
    messages.success(request, _("The goal was removed."))
    return redirect(_plan_url(plan))


def _simple_transition(service_name: str):
    service = getattr(services, f"plan_{service_name}")

    @require_POST
    def view(request, plan_id):
        plan = selectors.access_treatment_plan(user=request.user, plan_id=plan_id, write=True)
        try:
            service(actor=request.user, plan=plan)
        except (TransitionRefused, ValidationError) as exc:
            return _refused(request, _plan_url(plan), exc)
        messages.success(request, MESSAGES_DONE[service_name])
        return redirect(_plan_url(plan))

    view.__name__ = f"treatment_{service_name}"
    return view


treatment_submit = _simple_transition("submit")
treatment_withdraw = _simple_transition("withdraw")
treatment_activate = _simple_transition("activate")
treatment_start_review = _simple_transition("start_review")


@require_http_methods(["GET", "POST"])
def treatment_decide(request, plan_id):
    """A manager's decision on the submitted version: approve it, or send it back with comments."""
    plan = selectors.access_treatment_plan(user=request.user, plan_id=plan_id, write=True)
    history = selectors.history(plan)
    current = history[0] if history and plan.status == PlanStatus.SUBMITTED else None
    form = forms.DecisionForm(request.POST or None, initial={"revision": plan.revision})
    own = request.user.pk == plan.author_id or request.user.pk in plan.editor_ids
    if request.method == "GET":
        _viewed(plan, ["goals"])

    def decide(data):
        if data["decision"] == form.APPROVE:
            return services.plan_approve(actor=request.user, plan=plan, seen_revision=data["revision"])
        return services.plan_send_back(actor=request.user, plan=plan, seen_revision=data["revision"],
                                       comments=data["comments"])

    decision = form.data.get("decision")
    done = submitted(request, form, decide, then=lambda _result: redirect(_plan_url(plan)),
                     message=MESSAGES_DONE["approve" if decision == form.APPROVE else "send_back"])
    return done or render(request, "plans/decide.html", {"plan": plan, "client": plan.client, "current": current,
                                                         "form": form, "own": own})


@require_http_methods(["GET", "POST"])
def treatment_continue(request, plan_id):
    plan = selectors.access_treatment_plan(user=request.user, plan_id=plan_id, write=True)
    form = forms.ContinueForm(request.POST or None)
    done = submitted(request, form, lambda data: services.plan_continue(actor=request.user, plan=plan,
                                                                        review_on=data["review_on"]),
                     message=MESSAGES_DONE["continue"], then=lambda _result: redirect(_plan_url(plan)))
    return done or render(request, "plans/continue.html", {"plan": plan, "client": plan.client, "form": form})


@require_http_methods(["GET", "POST"])
def treatment_close(request, plan_id):
    plan = selectors.access_treatment_plan(user=request.user, plan_id=plan_id, write=True)
    form = forms.CloseForm(request.POST or None)

    def close(data):
        if data["outcome"] == form.COMPLETE:
            return services.plan_complete(actor=request.user, plan=plan, note=data["note"])
        return services.plan_discontinue(actor=request.user, plan=plan, reason=data["note"])

    outcome = form.data.get("outcome")
    done = submitted(request, form, close, then=lambda _result: redirect(_plan_url(plan)),
                     message=MESSAGES_DONE.get(outcome, MESSAGE_SAVED))
    return done or render(request, "plans/close.html", {"plan": plan, "client": plan.client, "form": form})


@require_GET
def revision_detail(request, plan_id, number):
    plan = selectors.access_treatment_plan(user=request.user, plan_id=plan_id)
    view = selectors.revision_of(plan, number)
    audit.record(action=AuditAction.VIEW, object_type="plans.planrevision", object_id=view.revision.pk,
                 client_id=plan.client_id, fields=["snapshot", "comments"])
    return render(request, "plans/revision.html", {"plan": plan, "client": plan.client, "view": view})


@require_GET
def treatment_pdf(request, plan_id):
    plan = selectors.access_treatment_plan(user=request.user, plan_id=plan_id)
    language, client_copy = pdf.PrintForm(request.GET).options()
    document = pdf.render_pdf("pdf/treatment_plan.html", {
        "plan": plan, "client": plan.client, "goals": selectors.goals_of(plan), "history": selectors.history(plan),
    }, language=language, organisation=plan.client.organisation, client_copy=client_copy)
    return pdf.pdf_response(document, actor=request.user, kind="treatment_plan", filename="treatment-plan.pdf",
                            object_type="plans.treatmentplan", object_id=plan.pk, client_id=plan.client_id,
                            language=language, client_copy=client_copy, fields=["goals", "revisions"])


# ----------------------------------------------------------------------------------------------------------
# Reintegration plans


def _reintegration_url(plan) -> str:
    return reverse("plans:reintegration_detail", args=[plan.pk])


@require_http_methods(["GET", "POST"])
def reintegration_new(request, client_id):
    client = access_client(user=request.user, client_id=client_id, write=True)
    form = forms.ReintegrationForm(request.POST or None)
    done = submitted(request, form, lambda data: services.reintegration_open(actor=request.user, client=client,
                                                                             summary=data["summary"]),
                     message=_("The reintegration plan is open. Add its milestones."),
                     then=lambda plan: redirect("plans:milestone_add", plan_id=plan.pk))
    return done or render(request, "plans/reintegration_form.html", {"form": form, "client": client})


@require_GET
def reintegration_detail(request, plan_id):
    plan = selectors.access_reintegration_plan(user=request.user, plan_id=plan_id)
    milestones = selectors.milestones_of(plan)
    found = links.milestone_links(user=request.user, milestones=milestones)
    audit.record(action=AuditAction.VIEW, object_type="plans.reintegrationplan", object_id=plan.pk,
                 client_id=plan.client_id, fields=["summary", "milestones"])
    today = timezone.localdate()
    return render(request, "plans/reintegration_detail.html", {
        "plan": plan, "client": plan.client, "open": plan.status == ReintegrationStatus.OPEN,
        "milestones": [(m, found.get(m.pk, []), m.achieved_on is None and m.target_on is not None
                        and m.target_on < today) for m in milestones],
    })


@require_http_methods(["GET", "POST"])
def milestone_add(request, plan_id):
    return _milestone_form(request, plan_id, milestone_id=None)


@require_http_methods(["GET", "POST"])
def milestone_edit(request, plan_id, milestone_id):
    return _milestone_form(request, plan_id, milestone_id=milestone_id)


def _milestone_form(request, plan_id, *, milestone_id):
    plan = selectors.access_reintegration_plan(user=request.user, plan_id=plan_id, write=True)
    milestone = selectors.access_milestone(plan=plan, milestone_id=milestone_id) if milestone_id else None
    if plan.status != ReintegrationStatus.OPEN:
        messages.error(request, services.ERROR_REINTEGRATION_CLOSED)
        return redirect(_reintegration_url(plan))
    form = forms.MilestoneForm.for_milestone(request.POST or None, milestone)
    context = {"client": plan.client, "plan": plan, "milestone": milestone}
    if request.method == "GET" and milestone is not None:
        audit.record(action=AuditAction.VIEW, object_type="plans.milestone", object_id=milestone.pk,
                     client_id=plan.client_id, fields=services.MILESTONE_FIELDS)

    def on_conflict():
        current = selectors.access_milestone(plan=plan, milestone_id=milestone_id)
        return conflict_page(request, form=form, version=current.version, template="plans/milestone_form.html",
                             current={name: getattr(current, name) for name in services.MILESTONE_FIELDS},
                             context={**context, "milestone": current})

    def then(_result):
        if "another" in request.POST:
            return redirect("plans:milestone_add", plan_id=plan.pk)
        return redirect(_reintegration_url(plan))

    done = submitted(request, form, lambda data: services.milestone_save(
        actor=request.user, plan=plan, milestone=milestone, values=form.values(), expected_version=data["version"]),
        then=then, on_conflict=on_conflict)
    return done or render(request, "plans/milestone_form.html", {**context, "form": form})


@require_POST
def reintegration_close(request, plan_id):
    plan = selectors.access_reintegration_plan(user=request.user, plan_id=plan_id, write=True)
    try:
        services.reintegration_close(actor=request.user, plan=plan)
    except TransitionRefused as exc:
        return _refused(request, _reintegration_url(plan), exc)
    messages.success(request, _("The reintegration plan is closed."))
    return redirect(_reintegration_url(plan))


@require_GET
def reintegration_pdf(request, plan_id):
    plan = selectors.access_reintegration_plan(user=request.user, plan_id=plan_id)
    language, client_copy = pdf.PrintForm(request.GET).options()
    document = pdf.render_pdf("pdf/reintegration_plan.html", {
        "plan": plan, "client": plan.client, "milestones": selectors.milestones_of(plan),
    }, language=language, organisation=plan.client.organisation, client_copy=client_copy)
    return pdf.pdf_response(document, actor=request.user, kind="reintegration_plan",
                            filename="reintegration-plan.pdf", object_type="plans.reintegrationplan",
                            object_id=plan.pk, client_id=plan.client_id, language=language, client_copy=client_copy,
                            fields=["summary", "milestones"])
