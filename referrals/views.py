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
from clients.selectors import access_client
from referrals import fhir, forms, selectors, services
from referrals.home import INBOX_TITLES
from referrals.models import OPEN_STATUSES, ReferralStatus, ServiceType

MESSAGE_SENT = _("The referral was sent to the partner.")
MESSAGE_DONE = _("The referral was updated.")
FHIR_EXPORT_REASON = "format: fhir r4 bundle"
INBOX_PAGE_SIZE = 50
ERROR_LETTER_NOT_SENT = _("A referral letter is printed once the referral is sent: sending it is what discloses the "
                          "client's information, after their consent is checked again.")
ERROR_LETTER_CONSENT_WITHDRAWN = _("The client withdrew the consent this referral rested on: its letter can no "
                                   "longer be printed.")

# action name -> (service, form class or None, which side)
RECEIVER_ACTIONS = {
    "accept": (services.referral_accept, None),
    "decline": (services.referral_decline, forms.ReasonForm),
    "attend": (services.referral_attend, None),
    "no_show": (services.referral_no_show, forms.ReasonForm),
    "complete": (services.referral_complete, forms.OutcomeForm),
    "close_unresolved": (services.referral_close_unresolved, forms.ReasonForm),
}
SENDER_ACTIONS = {
    "send": (services.referral_send, None),
    "cancel": (services.referral_cancel, forms.ReasonForm),
}


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
    """Choose service, consent, categories, reason, urgency, due date; then the preview; then send."""
    client = access_client(user=request.user, client_id=client_id, write=True)
    offered, wanted, first = _services_offered(request.GET.get("service_type", ""))
    form = forms.ReferralForm(request.POST or None, services=offered,
                              consents=selectors.sharing_consents(client=client),
                              initial={"service": first.pk} if first else None)
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
                    due_on=values["due_on"])
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
    referral = selectors.access_referral(user=request.user, referral_id=referral_id)
    partner = request.role == Role.REFERRAL_OFFICER
    shared = selectors.shared_view_of(referral)
    audit.record(action=AuditAction.VIEW, object_type="referrals.referral", object_id=referral.pk,
                 client_id=referral.client_id,
                 fields=[] if shared.consent_withdrawn else ["reason", *shared.categories])
    return render(request, "referrals/detail.html", {
        "referral": referral, "shared": shared, "partner": partner,
        "reason_form": forms.ReasonForm(), "outcome_form": forms.OutcomeForm(), "statuses": ReferralStatus,
        "overdue": selectors.is_overdue(referral), "is_open": referral.status in OPEN_STATUSES,
        "printable": referral.sent_at is not None and not shared.consent_withdrawn,
    })


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
    partner = request.role == Role.REFERRAL_OFFICER
    referral = selectors.access_referral(user=request.user, referral_id=referral_id, write=not partner)
    actions = RECEIVER_ACTIONS if partner else SENDER_ACTIONS
    name = request.POST.get("action", "")
    if name not in actions:
        raise Http404
    service, form_class = actions[name]
    kwargs = {}
    if form_class is not None:
        form = form_class(request.POST)
        if not form.is_valid():
            messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
            return redirect("referrals:detail", referral_id=referral.pk)
        kwargs = dict(form.cleaned_data)
    try:
        service(actor=request.user, referral=referral, **kwargs)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except TransitionRefused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, MESSAGE_DONE)
    return redirect("referrals:detail", referral_id=referral.pk)
