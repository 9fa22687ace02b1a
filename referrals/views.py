"""Directory and referral pages. Thin: the policy (middleware), the access call, the form, the service."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from casemgmt import audit, pdf
from casemgmt.models import AuditAction
from casemgmt.roles import Role
from casemgmt.submission import form_errors_from, submitted
from casemgmt.transitions import TransitionRefused
from casemgmt.versioning import ERROR_CONFLICT, Conflict
from clients.selectors import access_client
from referrals import cascade, fhir, forms, selectors, services
from referrals.home import INBOX_TITLES
from referrals.models import OPEN_STATUSES, ReferralStatus, ServiceType

MESSAGE_SENT = _("The referral was sent to the partner.")
MESSAGE_DONE = _("The referral was updated.")
FHIR_EXPORT_REASON = "format: fhir r4 bundle"
INBOX_PAGE_SIZE = 50
PAGE_SIZE = 50
ERROR_LETTER_NOT_SENT = _("A referral letter is printed once the referral is sent: sending it is what discloses the "
                          "client's information, after their consent is checked again.")
ERROR_LETTER_CONSENT_WITHDRAWN = _("The client withdrew the consent this referral rested on: its letter can no "
                                   "longer be printed.")

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


@require_GET
def inbox(request):
    """One kind of the officer's open referrals (``?show=new|accepted|due_soon|overdue``), all of them, by pages."""
    show = request.GET.get("show") or "new"
    if show not in selectors.INBOX_KINDS:
        raise Http404
    counts = selectors.inbox_counts(user=request.user)
    page = Paginator(selectors.inbox_rows(user=request.user, kind=show), INBOX_PAGE_SIZE).get_page(
        request.GET.get("page"))
    selectors.inbox_annotate(page.object_list)
    audit.record(action=AuditAction.VIEW, object_type="referrals.inbox", fields=[show])
    tabs = [{"kind": kind, "title": INBOX_TITLES[kind], "count": counts[kind]} for kind in selectors.INBOX_KINDS]
    return render(request, "referrals/inbox.html", {"show": show, "title": INBOX_TITLES[show], "tabs": tabs,
                                                    "page": page})


@require_http_methods(["GET", "POST"])
def referral_new(request, client_id):
    """Choose service, consent, categories, reason, urgency, due date (and the reintegration milestone it serves);
    then the preview; then send."""
    client = access_client(user=request.user, client_id=client_id, write=True)
    offered, wanted, first = _services_offered(request.GET.get("service_type", ""))
    form = forms.ReferralForm(request.POST or None, services=offered,
                              consents=selectors.sharing_consents(client=client),
                              milestones=selectors.milestones_to_refer_for(client=client),
                              initial={"service": first.pk if first else None,
                                       "milestone": request.GET.get("milestone", "")})
    context = {"form": form, "client": client, "service_type": wanted, "service_type_offered": first is not None}
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


def _services_offered(service_type: str):
    """The services a referral may go to; with ``?service_type=`` (the pre-release checklist's links), only those of
    that type, the first one chosen, unless none of them accepts referrals now (then all, and the page says so)."""
    offered = selectors.directory().filter(accepting_referrals=True)
    if service_type not in ServiceType.values:
        return offered, "", None
    first = offered.filter(service_type=service_type).first()
    if first is None:
        return offered, ServiceType(service_type), None
    return offered.filter(service_type=service_type), ServiceType(service_type), first


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
        "printable": referral.sent_at is not None and not shared.consent_withdrawn,
    }, status=status)


@require_GET
def fhir_export(request, referral_id):
    """The referral as a FHIR R4 Bundle (referrals/fhir.py), as a file: what the partner's page shows, no more.
    A withdrawn consent: a page that says so, and nothing exported."""
    referral = selectors.access_referral(user=request.user, referral_id=referral_id)
    try:
        exported = fhir.export(referral)
    except fhir.ExportRefused:
        audit.record(action=AuditAction.ACCESS_DENIED, object_type="referrals.referral", object_id=referral.pk,
                     client_id=referral.client_id, reason="fhir export: consent withdrawn")
        return render(request, "referrals/fhir_refused.html", {"referral": referral}, status=403)
    audit.record(action=AuditAction.EXPORT, object_type="referrals.referral", object_id=referral.pk,
                 client_id=referral.client_id, fields=exported.fields, reason=FHIR_EXPORT_REASON)
    response = HttpResponse(exported.content, content_type=fhir.CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="referral-{referral.pk}.fhir.json"'
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def letter(request, referral_id):
    """The referral letter (PDF), for a partner that prints or has no account yet: what the partner's page shows,
    the consent's scope and the re-disclosure notice, under the sending centre's header. Printed by the sending
    centre's care staff or the partner's referral officers; never a draft (nothing was disclosed yet), never once
    the consent is withdrawn. Audited as a print."""
    referral = selectors.access_referral(user=request.user, referral_id=referral_id)
    if referral.sent_at is None or referral.consent_withdrawn:
        messages.error(request, ERROR_LETTER_NOT_SENT if referral.sent_at is None else ERROR_LETTER_CONSENT_WITHDRAWN)
        return redirect("referrals:detail", referral_id=referral.pk)
    language, _client_copy = pdf.PrintForm(request.GET).options()
    with translation.override(language):  # the shared rows' labels, in the document's language
        letter = selectors.letter_of(referral)
        document = pdf.render_pdf("pdf/referral_letter.html", {"letter": letter, "shared": letter.shared},
                                  language=language, organisation=referral.from_organisation)
    return pdf.pdf_response(document, actor=request.user, kind="referral_letter", filename="referral-letter.pdf",
                            object_type="referrals.referral", object_id=referral.pk, client_id=referral.client_id,
                            language=language, client_copy=False, fields=["reason", *letter.shared.categories])


@require_GET
def disclosures_pdf(request, client_id):
    """The accounting of disclosures (PDF), printed for the client: every referral that sent their information to
    a partner. The client's copy names them and the services; otherwise the UIC only. Audited as a print."""
    client = access_client(user=request.user, client_id=client_id)
    language, client_copy = pdf.PrintForm(request.GET).options()
    with translation.override(language):
        disclosures = selectors.disclosures_of(user=request.user, client=client)
        document = pdf.render_pdf("pdf/disclosures.html", {"client": client, "disclosures": disclosures},
                                  language=language, organisation=client.organisation, client_copy=client_copy)
    return pdf.pdf_response(document, actor=request.user, kind="disclosures", filename="disclosures.pdf",
                            object_type="referrals.disclosures", object_id=client.pk, client_id=client.pk,
                            language=language, client_copy=client_copy, fields=["disclosures"])


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
