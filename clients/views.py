"""Case-file pages. Thin: the policy (middleware), the access call, the form, the service, the redirect."""

from __future__ import annotations

import secrets

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from casemgmt import audit, pdf
from casemgmt.conflicts import conflict_page
from casemgmt.models import AuditAction
from casemgmt.roles import Role
from casemgmt.submission import form_errors_from, submitted
from casemgmt.transitions import TransitionRefused
from clients import assist, forms, selectors, services
from clients.models import RiskLevel
from clients.releases import release_checklists

PAGE_SIZE = 50
DUPLICATE_SESSION_KEY = "clients_duplicate_matches"

MESSAGE_REGISTERED = _("The client is registered.")
MESSAGE_TRANSFER_REQUESTED = _(
    "Your request was sent to the manager of the centre that holds the record. It will appear in your "
    "transfers list; the record becomes visible to your centre if they accept."
)


@require_GET
def caseload(request):
    form = forms.CaseloadFilterForm(request.GET or None)
    values = form.cleaned_data if form.is_valid() else {}
    clients = selectors.caseload(user=request.user, filters=selectors.CaseloadFilters(**{
        k: values.get(k, "") for k in ("status", "population_group", "risk_level")}))
    page = Paginator(clients, PAGE_SIZE).get_page(request.GET.get("page"))
    audit.record(action=AuditAction.VIEW, object_type="clients.caseload", fields=sorted(k for k, v in values.items()
                                                                                          if v))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "clients/caseload.html", {"form": form, "page": page, "query": query.urlencode()})


@require_GET
def search(request):
    form = forms.SearchForm(request.GET or None)
    results = None
    if form.is_valid():
        results = selectors.search_clients(user=request.user, kind=form.cleaned_data["kind"],
                                           values=form.cleaned_data["values"])
        audit.record(action=AuditAction.SEARCH, object_type="clients.client", fields=[form.cleaned_data["kind"]])
    return render(request, "clients/search.html", {"form": form, "results": results})


@require_http_methods(["GET", "POST"])
def register(request):
    form = forms.ClientForm(request.POST or None)
    confirm = forms.DuplicateConfirmForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        identity = form.identity()
        try:
            services.client_check_identity(organisation=request.organisation, identity=identity)
        except ValidationError as exc:
            form_errors_from(form, exc)
            return render(request, "clients/register.html", {"form": form})
        matches = selectors.find_duplicates(
            organisation=request.organisation, uic=_uic_of(identity), family_name=identity["family_name"],
            date_of_birth=identity["date_of_birth"], phone=identity["phone"], national_id=identity["national_id"],
        )
        if matches and not confirm.is_valid():
            audit.record(action=AuditAction.SEARCH, object_type="clients.duplicate_check",
                         fields=sorted({label for m in matches for label in m.matched_on}))
            here = [m for m in matches if m.same_organisation]
            visible = set(selectors.clients_visible_to(request.user).filter(
                pk__in=[m.client.pk for m in here]).values_list("pk", flat=True))
            return render(request, "clients/register.html", {
                "form": form, "confirm": forms.DuplicateConfirmForm(),
                "here": [m for m in here if m.client.pk in visible],
                # On a colleague's caseload: the counsellor learns only that, and asks the manager.
                "here_elsewhere": len(here) - len(visible),
                "elsewhere": _remember_elsewhere(request, [m for m in matches if not m.same_organisation]),
            })
        try:
            client = services.client_register(actor=request.user, organisation=request.organisation,
                                              identity=identity,
                                              population_groups=form.cleaned_data["population_groups"])
        except ValidationError as exc:
            form_errors_from(form, exc)
        else:
            messages.success(request, MESSAGE_REGISTERED)
            return redirect("clients:detail", client_id=client.pk)
    return render(request, "clients/register.html", {"form": form})


def _uic_of(identity: dict) -> str:
    from clients.uic import compute_uic

    return compute_uic(mother_first_name=identity["mother_first_name"],
                       father_first_name=identity["father_first_name"], sex=identity["sex"],
                       date_of_birth=identity["date_of_birth"])


def _remember_elsewhere(request, matches) -> str | None:
    """One opaque token for all matches at other organisations: the page carries neither ids nor a count."""
    if not matches:
        return None
    token = secrets.token_urlsafe(16)
    request.session[DUPLICATE_SESSION_KEY] = {token: [str(m.client.pk) for m in matches]}
    return token


@require_POST
def transfer_request(request):
    tokens = request.session.get(DUPLICATE_SESSION_KEY) or {}
    client_ids = tokens.get(request.POST.get("token", ""))
    if not client_ids:
        raise Http404
    for client in selectors.clients_by_ids(client_ids):
        services.transfer_request_create(actor=request.user, client=client)
    request.session.pop(DUPLICATE_SESSION_KEY, None)
    messages.success(request, MESSAGE_TRANSFER_REQUESTED)
    return redirect("clients:transfers")


@require_GET
def detail(request, client_id):
    client = selectors.access_client(user=request.user, client_id=client_id)
    case_file = selectors.client_case_file(user=request.user, client=client)
    audit.record(action=AuditAction.VIEW, object_type="clients.client", object_id=client.pk, client_id=client.pk)
    return render(request, "clients/detail.html", {
        "client": client,
        "consents": case_file.consents,
        "treatment_consent": case_file.treatment_consent,
        "screenings": case_file.screenings,
        "custody": case_file.custody,
        "timeline": case_file.timeline,
        "pending_transfers": case_file.pending_transfers,
        "is_manager": request.role == Role.CENTRE_MANAGER,
        # What feature apps add to the case file (clients.sections): sessions, plans, referrals.
        "sections": case_file.sections,
    })


def _to_client_page(record):
    return redirect("clients:detail", client_id=getattr(record, "client_id", None) or record.pk)


@require_GET
def case_summary_pdf(request, client_id):
    """The client's case summary: identity by the UIC (the name only on the client's copy), consents,
    screenings, custody, then what feature apps print (their sections' ``pdf_template``). Audited as a print."""
    client = selectors.access_client(user=request.user, client_id=client_id)
    language, client_copy = pdf.PrintForm(request.GET).options()
    with translation.override(language):  # the sections' labels, in the document's language
        summary = selectors.client_case_summary(user=request.user, client=client)
        document = pdf.render_pdf("pdf/case_summary.html", {"client": client, **summary}, language=language,
                                  organisation=client.organisation, client_copy=client_copy)
    return pdf.pdf_response(document, actor=request.user, kind="case_summary", filename="case-summary.pdf",
                            object_type="clients.client", object_id=client.pk, client_id=client.pk,
                            language=language, client_copy=client_copy,
                            fields=["identity", "consents", "screenings", "custody",
                                    *(section.get("name", "section") for section in summary["sections"])])


@require_http_methods(["GET", "POST"])
def edit_identity(request, client_id):
    client = selectors.access_client(user=request.user, client_id=client_id, write=True)
    initial = {"population_groups": list(client.population_groups)}
    form = forms.ClientForm(request.POST or None, instance=client, initial=initial)
    if request.method == "GET":  # the form shows every identifier: a read like the client page
        audit.record(action=AuditAction.VIEW, object_type="clients.client", object_id=client.pk,
                     client_id=client.pk, fields=forms.IDENTITY_FIELDS)
    def conflict():
        current = selectors.access_client(user=request.user, client_id=client_id, write=True)
        values = {name: getattr(current, name) for name in forms.IDENTITY_FIELDS}
        values["population_groups"] = list(current.population_groups)
        return conflict_page(request, form=form, current=values, version=current.version,
                             template="clients/edit_identity.html", context={"client": current})

    done = submitted(request, form, lambda data: services.client_update_identity(
        actor=request.user, client=client, identity=form.identity(), population_groups=data["population_groups"],
        expected_version=data["version"]), then=_to_client_page, on_conflict=conflict)
    return done or render(request, "clients/edit_identity.html", {"form": form, "client": client})


@require_http_methods(["GET", "POST"])
def consent_add(request, client_id):
    client = selectors.access_client(user=request.user, client_id=client_id, write=True)
    form = forms.ConsentForm(request.POST or None, wordings=selectors.current_wordings(),
                             initial={"given_on": timezone.localdate(), "language": translation.get_language()})
    done = submitted(request, form, lambda data: services.consent_record(actor=request.user, client=client, **{
        k: data[k] for k in ("kind", "partner", "purpose", "categories", "given_on", "expires_on", "method",
                             "witness_name", "language", "wording_version")}), then=_to_client_page)
    return done or render(request, "clients/consent_form.html", {"form": form, "client": client})


@require_http_methods(["GET", "POST"])
def consent_revoke(request, client_id, consent_id):
    consent = selectors.access_consent(user=request.user, client_id=client_id, consent_id=consent_id)
    form = forms.RevokeConsentForm(request.POST or None, initial={"revoked_on": timezone.localdate()})
    done = submitted(request, form, lambda data: services.consent_revoke(actor=request.user, consent=consent, **data),
                     then=_to_client_page)
    return done or render(request, "clients/consent_revoke.html",
                          {"form": form, "client": consent.client, "consent": consent})


@require_http_methods(["GET", "POST"])
def screening_add(request, client_id):
    client = selectors.access_client(user=request.user, client_id=client_id, write=True)
    if not selectors.has_active_treatment_consent(client):
        return render(request, "clients/consent_required.html", {"client": client,
                                                                  "reason": services.ERROR_NO_TREATMENT_CONSENT})
    form = forms.ScreeningForm(request.POST or None, initial={"screened_on": timezone.localdate()})
    try:
        done = submitted(request, form, lambda data: services.screening_record(
            actor=request.user, client=client, screened_on=data["screened_on"], answers=form.answers(), q8=data["q8"],
            intake=form.intake()),
            then=lambda screening: redirect("clients:screening", client_id=client.pk, screening_id=screening.pk))
    except services.ConsentRequired as exc:
        return render(request, "clients/consent_required.html", {"client": client, "reason": str(exc)})
    return done or render(request, "clients/screening_form.html", {"form": form, "client": client})


@require_GET
def screening_detail(request, client_id, screening_id):
    screening = selectors.access_screening(user=request.user, client_id=client_id, screening_id=screening_id)
    audit.record(action=AuditAction.VIEW, object_type="clients.screening", object_id=screening.pk,
                 client_id=screening.client_id)
    result = assist.AssistResult.from_dict(screening.results)
    rows = [
        {"label": row.label, "score": row.score, "risk_label": RiskLevel(row.risk).label if row.used else "—",
         "intervention_label": row.intervention_label if row.used else "—"}
        for row in result.substances
    ]
    return render(request, "clients/screening_detail.html", {
        "client": screening.client, "screening": screening, "rows": rows,
        "injection_advice": result.injection_advice})


@require_http_methods(["GET", "POST"])
def custody_add(request, client_id):
    client = selectors.access_client(user=request.user, client_id=client_id, write=True)
    form = forms.CustodyForm(request.POST or None)
    done = submitted(request, form, lambda data: services.custody_admit(actor=request.user, client=client, **data),
                     then=_to_client_page)
    return done or render(request, "clients/custody_form.html", {"form": form, "client": client})


@require_http_methods(["GET", "POST"])
def custody_release(request, client_id, episode_id):
    episode = selectors.access_custody_episode(user=request.user, client_id=client_id, episode_id=episode_id)
    form = forms.ReleaseForm(request.POST or None, initial={"released_on": timezone.localdate()})
    done = submitted(request, form, lambda data: services.custody_release(actor=request.user, episode=episode,
                                                                            **data), then=_to_client_page)
    return done or render(request, "clients/custody_release.html",
                          {"form": form, "client": episode.client, "episode": episode})


@require_GET
def releases(request):
    """The releases due in the next 30 days, each with its pre-release checklist (clients.releases)."""
    episodes = list(selectors.releases_due(user=request.user))
    columns, rows = release_checklists(user=request.user, episodes=episodes)
    audit.record(action=AuditAction.VIEW, object_type="clients.releases_due",
                 fields=[column.key for column in columns])
    return render(request, "clients/releases.html", {"episodes": episodes, "columns": columns, "rows": rows})


@require_http_methods(["GET", "POST"])
def assign(request, client_id):
    client = selectors.access_client(user=request.user, client_id=client_id, write=True)
    form = forms.AssignForm(request.POST or None, counsellors=selectors.counsellors_of(client.organisation),
                            initial={"counsellor": client.counsellor_id})
    done = submitted(request, form, lambda data: services.client_assign(actor=request.user, client=client,
                                                                        counsellor=data["counsellor"]),
                     then=_to_client_page)
    return done or render(request, "clients/assign.html", {"form": form, "client": client})


@require_http_methods(["GET", "POST"])
def transfer(request, client_id):
    client = selectors.access_client(user=request.user, client_id=client_id, write=True)
    form = forms.TransferForm(request.POST or None,
                              destinations=selectors.transfer_destinations(exclude=client.organisation))
    done = submitted(request, form, lambda data: services.client_transfer(
        actor=request.user, client=client, to_organisation=data["to_organisation"]),
        then=lambda _transfer: redirect("clients:transfers"),
        message=_("The client was transferred. Your centre no longer has access."))
    return done or render(request, "clients/transfer.html", {"form": form, "client": client})


@require_GET
def transfers(request):
    rows = list(selectors.transfers_for(organisation=request.organisation))
    uics = selectors.visible_uics(user=request.user, client_ids=[row.client_id for row in rows])
    for row in rows:
        row.client_uic = uics.get(row.client_id)
    audit.record(action=AuditAction.VIEW, object_type="clients.transfers", fields=["uic"] if uics else [])
    return render(request, "clients/transfers.html", {"transfers": rows, "organisation": request.organisation})


@require_POST
def transfer_decide(request, transfer_id):
    transfer_obj = selectors.access_transfer_request(user=request.user, transfer_id=transfer_id)
    accept = request.POST.get("decision") == "accept"
    try:
        services.transfer_decide(actor=request.user, transfer=transfer_obj, accept=accept)
    except TransitionRefused as exc:
        messages.error(request, exc.message)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Transfer accepted: the record has moved.") if accept
                         else _("Transfer request declined."))
    return redirect("clients:transfers")
