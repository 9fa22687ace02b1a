"""Directory and referral pages. Thin: the policy (middleware), the access call, the form, the service."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from casemgmt import audit
from casemgmt.models import AuditAction
from casemgmt.roles import Role
from casemgmt.submission import form_errors_from, submitted
from casemgmt.transitions import TransitionRefused
from casemgmt.versioning import ERROR_CONFLICT, Conflict
from clients.selectors import access_client
from referrals import cascade, forms, selectors, services
from referrals.models import OPEN_STATUSES, ReferralStatus

MESSAGE_SENT = _("The referral was sent to the partner.")
MESSAGE_DONE = _("The referral was updated.")
PAGE_SIZE = 50

# action name -> (service, its form class or None)
RECEIVER_ACTIONS = {
    "accept": (services.referral_accept, None),
    "decline": (services.referral_decline, forms.ReasonForm),
    "attend": (services.referral_attend, None),
    "no_show": (services.referral_no_show, forms.ReasonForm),
    "complete": (services.referral_complete, forms.OutcomeForm),
    "close_unresolved": (services.referral_close_unresolved, forms.ReasonForm),
    "linkage": (services.referral_record_linkage, forms.LinkageForm),
}
SENDER_ACTIONS = {
    "send": (services.referral_send, None),
    "cancel": (services.referral_cancel, forms.ReasonForm),
}
# Where the referral page shows each action's form (bound again, with its errors, after a refusal).
FORM_CONTEXT = {forms.ReasonForm: "reason_form", forms.OutcomeForm: "outcome_form", forms.LinkageForm: "linkage_form"}


@require_GET
def directory(request):
    form = forms.DirectorySearchForm(request.GET or None)
    values = form.cleaned_data if form.is_valid() else {}
    found = selectors.directory(service_type=values.get("service_type", ""), province=values.get("province", ""))
    audit.record(action=AuditAction.SEARCH, object_type="referrals.partnerservice",
                 fields=sorted(k for k, v in values.items() if v))
    return render(request, "referrals/directory.html", {
        "form": form, "services": found,
        "own_organisation": request.organisation if request.role == Role.REFERRAL_OFFICER else None,
    })


@require_http_methods(["GET", "POST"])
def service_add(request):
    form = forms.PartnerServiceForm(request.POST or None)
    done = submitted(request, form, lambda values: services.partner_service_save(actor=request.user, values=values),
                     then=lambda _service: redirect("referrals:directory"))
    return done or render(request, "referrals/service_form.html", {"form": form, "heading": _("Add a service")})


@require_http_methods(["GET", "POST"])
def service_edit(request, service_id):
    service = selectors.access_partner_service(user=request.user, service_id=service_id)
    form = forms.PartnerServiceForm(request.POST or None, instance=service)
    if request.method == "GET":
        audit.record(action=AuditAction.VIEW, object_type="referrals.partnerservice", object_id=service.pk)
    done = submitted(request, form, lambda values: services.partner_service_save(
        actor=request.user, values=values, service=service), then=lambda _service: redirect("referrals:directory"))
    return done or render(request, "referrals/service_form.html", {"form": form, "heading": _("Edit a service")})


@require_http_methods(["GET", "POST"])
def referral_new(request, client_id):
    """Choose service, consent, categories, reason, urgency, due date (and the reintegration milestone it serves);
    then the preview; then send."""
    client = access_client(user=request.user, client_id=client_id, write=True)
    form = forms.ReferralForm(request.POST or None, services=selectors.directory().filter(accepting_referrals=True),
                              consents=selectors.sharing_consents(client=client),
                              milestones=selectors.milestones_to_refer_for(client=client),
                              initial={"milestone": request.GET.get("milestone", "")})
    context = {"form": form, "client": client}
    if request.method == "GET":
        audit.record(action=AuditAction.VIEW, object_type="referrals.referral_form", client_id=client.pk)
    if request.method == "POST" and form.is_valid():
        values = form.cleaned_data
        try:
            services.check_consent(consent=values["consent"], client=client, partner=values["service"].organisation,
                                   categories=values["shared_categories"])
            if request.POST.get("step") == "send":
                referral = services.referral_create(
                    actor=request.user, client=client, service=values["service"], consent=values["consent"],
                    categories=values["shared_categories"], reason=values["reason"], urgency=values["urgency"],
                    due_on=values["due_on"], milestone=values["milestone"])
                services.referral_send(actor=request.user, referral=referral)
                messages.success(request, MESSAGE_SENT)
                return redirect("referrals:detail", referral_id=referral.pk)
        except ValidationError as exc:
            form_errors_from(form, exc)
        except TransitionRefused as exc:
            form.add_error(None, exc.message)
        else:
            audit.record(action=AuditAction.VIEW, object_type="referrals.preview", client_id=client.pk,
                         fields=list(values["shared_categories"]))
            context["preview"] = selectors.shared_view(
                client=client, categories=values["shared_categories"], service=values["service"],
                from_organisation=request.organisation, urgency=values["urgency"], reason=values["reason"],
                due_on=values["due_on"])
    return render(request, "referrals/new.html", context)


@require_GET
def detail(request, referral_id):
    return _detail_page(request, selectors.access_referral(user=request.user, referral_id=referral_id))


def _detail_page(request, referral, *, status: int = 200, **bound):
    """The referral page; ``bound`` holds an action's form sent back with its errors."""
    partner = request.role == Role.REFERRAL_OFFICER
    shared = selectors.shared_view_of(referral)
    outcome = [] if shared.consent_withdrawn else selectors.outcome_rows(referral)
    shown = [] if shared.consent_withdrawn else ["reason", *shared.categories, *selectors.encrypted_outcome_shown(
        referral)]
    audit.record(action=AuditAction.VIEW, object_type="referrals.referral", object_id=referral.pk,
                 client_id=referral.client_id, fields=shown)
    awaiting = selectors.is_awaiting_art(referral)
    return render(request, "referrals/detail.html", {
        "referral": referral, "shared": shared, "partner": partner, "statuses": ReferralStatus,
        "reason_form": bound.get("reason_form") or forms.ReasonForm(),
        "outcome_form": bound.get("outcome_form") or forms.OutcomeForm.for_referral(None, referral),
        "linkage_form": bound.get("linkage_form") or (forms.LinkageForm.for_referral(None, referral)
                                                      if awaiting and partner else None),
        "outcome_rows": outcome, "awaiting_art": awaiting,
        "overdue": selectors.is_overdue(referral), "overdue_note": selectors.overdue_note(referral),
        "is_open": referral.status in OPEN_STATUSES,
        "milestone": None if partner else selectors.milestone_of(referral),
    }, status=status)


@require_POST
def act(request, referral_id):
    """One of the referral page's one-screen actions. A form refused (by itself or by the service) comes back on
    the page with what was typed; a state changed meanwhile is said on the page as it is now."""
    partner = request.role == Role.REFERRAL_OFFICER
    referral = selectors.access_referral(user=request.user, referral_id=referral_id, write=not partner)
    actions = RECEIVER_ACTIONS if partner else SENDER_ACTIONS
    name = request.POST.get("action", "")
    if name not in actions:
        raise Http404
    service, form_class = actions[name]
    form = form_class.for_referral(request.POST, referral) if form_class is not None else None
    if form is not None and not form.is_valid():
        return _detail_page(request, referral, **{FORM_CONTEXT[form_class]: form})
    try:
        service(actor=request.user, referral=referral, **(form.action_kwargs() if form is not None else {}))
    except ValidationError as exc:
        if form is None:
            messages.error(request, " ".join(exc.messages))
        else:
            form_errors_from(form, exc)
            return _detail_page(request, referral, **{FORM_CONTEXT[form_class]: form})
    except TransitionRefused as exc:
        messages.error(request, exc.message)
    except Conflict:
        # Saved by someone else meanwhile: the page as it is now, the values typed kept, to send again or leave.
        current = selectors.access_referral(user=request.user, referral_id=referral.pk, write=not partner)
        data = request.POST.copy()
        data["version"] = str(current.version)
        form = form_class.for_referral(data, current)
        form.is_valid()
        form.add_error(None, ERROR_CONFLICT)
        return _detail_page(request, current, status=409, **{FORM_CONTEXT[form_class]: form})
    else:
        messages.success(request, MESSAGE_DONE)
    return redirect("referrals:detail", referral_id=referral.pk)


# The centre's cascade ------------------------------------------------------------------------------------------

@require_GET
def cascade_page(request):
    form = forms.PeriodForm(request.GET or None)
    values = form.cleaned_data if form.is_valid() else {}
    period = cascade.Period(*values["period"]) if values else cascade.Period.default()
    audit.record(action=AuditAction.VIEW, object_type="referrals.cascade",
                 fields=sorted(k for k, v in values.items() if v and k != "period"))
    return render(request, "referrals/cascade.html", {
        "form": form, "cascade": cascade.centre_cascade(user=request.user, period=period)})


@require_GET
def referral_list(request):
    form = forms.ReferralListForm(request.GET or None, steps=cascade.STEPS.values())
    values = form.cleaned_data if form.is_valid() else {}
    period = cascade.Period(*values["period"]) if values else cascade.Period.default()
    rows = cascade.referral_list(user=request.user, period=period, **{
        k: values.get(k, "") for k in ("step", "service_type", "status", "reason")})
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    for row in page.object_list:
        row.note = selectors.overdue_note(row)
    audit.record(action=AuditAction.VIEW, object_type="referrals.referral_list",
                 fields=sorted(k for k, v in values.items() if v and k != "period"))
    query = request.GET.copy()
    query.pop("page", None)
    step = cascade.STEPS.get(values.get("step", ""))
    return render(request, "referrals/list.html", {
        "form": form, "page": page, "query": query.urlencode(), "period": period,
        "step": step, "step_definition": cascade.definition(step) if step else "",
    })
