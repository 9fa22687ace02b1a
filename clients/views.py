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
from casemgmt.transitions import TransitionRefused
from casemgmt.versioning import Conflict
from clients import assist, forms, selectors, services
from clients.models import Consent, CustodyEpisode, RiskLevel, Screening
from clients.sections import case_file_sections

PAGE_SIZE = 50
DUPLICATE_SESSION_KEY = "clients_duplicate_matches"

MESSAGE_REGISTERED = _("The client is registered.")
MESSAGE_SAVED = _("Saved.")
MESSAGE_TRANSFER_REQUESTED = _(
    "Your request was sent to the manager of the centre that holds the record. It will appear in your "
    "transfers list; the record becomes visible to your centre if they accept."
)


def _form_errors_from(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


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
            _form_errors_from(form, exc)
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
            _form_errors_from(form, exc)
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
    consents = list(client.consents.select_related("partner", "recorded_by"))
    today = timezone.localdate()
    screenings = list(client.screenings.order_by("-screened_on", "-created_at"))
    audit.record(action=AuditAction.VIEW, object_type="clients.client", object_id=client.pk, client_id=client.pk)
    return render(request, "clients/detail.html", {
        "client": client,
        "consents": [(consent, consent.is_active(today)) for consent in consents],
        "treatment_consent": selectors.has_active_treatment_consent(client, today, consents=consents),
        "screenings": _with_changes(screenings),
        "custody": client.custody_episodes.select_related("facility"),
        "timeline": selectors.timeline(client=client),
        "pending_transfers": client.transfers.filter(status="requested").select_related("to_organisation"),
        "is_manager": request.role == "centre_manager",
        # What feature apps add to the case file (clients.sections): sessions, plans, referrals.
        "sections": case_file_sections(user=request.user, client=client),
    })


@require_GET
def case_summary_pdf(request, client_id):
    """The client's case summary: identity by the UIC (the name only on the client's copy), consents,
    screenings, custody, then what feature apps print (their sections' ``pdf_template``). Audited as a print."""
    client = selectors.access_client(user=request.user, client_id=client_id)
    language, client_copy = pdf.PrintForm(request.GET).options()
    today = timezone.localdate()
    consents = list(client.consents.select_related("partner"))
    with translation.override(language):  # the sections' labels, in the document's language
        sections = case_file_sections(user=request.user, client=client, for_pdf=True)
        document = pdf.render_pdf("pdf/case_summary.html", {
            "client": client,
            "consents": [(consent, consent.is_active(today)) for consent in consents],
            "screenings": _with_changes(list(client.screenings.order_by("-screened_on", "-created_at"))),
            "custody": list(client.custody_episodes.select_related("facility")),
            "sections": sections,
        }, language=language, organisation=client.organisation, client_copy=client_copy)
    return pdf.pdf_response(document, actor=request.user, kind="case_summary", filename="case-summary.pdf",
                            object_type="clients.client", object_id=client.pk, client_id=client.pk,
                            language=language, client_copy=client_copy,
                            fields=["identity", "consents", "screenings", "custody",
                                    *(section.get("name", "section") for section in sections)])


def _with_changes(screenings: list[Screening]):
    """Each screening with the change in its highest substance score since the one before it."""
    rows = []
    for index, screening in enumerate(screenings):
        previous = screenings[index + 1] if index + 1 < len(screenings) else None
        rows.append((screening, _score_changes(screening, previous)))
    return rows


def _score_changes(screening: Screening, previous: Screening | None) -> list[tuple[str, int, int | None]]:
    now = screening.results.get("substances", {})
    before = previous.results.get("substances", {}) if previous else {}
    changes = []
    for substance in assist.SUBSTANCES:  # the questionnaire's order (JSONB does not keep key order)
        result = now.get(substance)
        if result is None:
            continue
        if result.get("score") or substance in before:
            old = before.get(substance, {}).get("score")
            score = result.get("score", 0)
            changes.append((assist.SUBSTANCE_LABELS.get(substance, substance), score,
                            None if old is None else score - old))
    return changes


@require_http_methods(["GET", "POST"])
def edit_identity(request, client_id):
    client = selectors.access_client(user=request.user, client_id=client_id, write=True)
    initial = {"population_groups": list(client.population_groups)}
    form = forms.ClientForm(request.POST or None, instance=client, initial=initial)
    if request.method == "GET":  # the form shows every identifier: a read like the client page
        audit.record(action=AuditAction.VIEW, object_type="clients.client", object_id=client.pk,
                     client_id=client.pk, fields=forms.IDENTITY_FIELDS)
    if request.method == "POST" and form.is_valid():
        try:
            services.client_update_identity(actor=request.user, client=client, identity=form.identity(),
                                            population_groups=form.cleaned_data["population_groups"],
                                            expected_version=form.cleaned_data["version"])
        except Conflict:
            current = selectors.access_client(user=request.user, client_id=client_id, write=True)
            values = {name: getattr(current, name) for name in forms.IDENTITY_FIELDS}
            values["population_groups"] = list(current.population_groups)
            return conflict_page(request, form=form, current=values, version=current.version,
                                 template="clients/edit_identity.html", context={"client": current})
        except ValidationError as exc:
            _form_errors_from(form, exc)
        else:
            messages.success(request, MESSAGE_SAVED)
            return redirect("clients:detail", client_id=client.pk)
    return render(request, "clients/edit_identity.html", {"form": form, "client": client})


@require_http_methods(["GET", "POST"])
def consent_add(request, client_id):
    client = selectors.access_client(user=request.user, client_id=client_id, write=True)
    form = forms.ConsentForm(request.POST or None, initial={"given_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            services.consent_record(actor=request.user, client=client, **{
                k: form.cleaned_data[k] for k in ("kind", "partner", "purpose", "categories", "given_on",
                                                  "expires_on", "method", "witness_name")})
        except ValidationError as exc:
            _form_errors_from(form, exc)
        else:
            messages.success(request, MESSAGE_SAVED)
            return redirect("clients:detail", client_id=client.pk)
    return render(request, "clients/consent_form.html", {"form": form, "client": client})


def _access_child(model, *, user, client_id, object_id, write=True):
    client = selectors.access_client(user=user, client_id=client_id, write=write)
    obj = model.objects.filter(client=client, pk=object_id).first()
    if obj is None:
        raise Http404
    obj.client = client
    return client, obj


@require_http_methods(["GET", "POST"])
def consent_revoke(request, client_id, consent_id):
    client, consent = _access_child(Consent, user=request.user, client_id=client_id, object_id=consent_id)
    form = forms.RevokeConsentForm(request.POST or None, initial={"revoked_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            services.consent_revoke(actor=request.user, consent=consent, **form.cleaned_data)
        except ValidationError as exc:
            _form_errors_from(form, exc)
        else:
            messages.success(request, MESSAGE_SAVED)
            return redirect("clients:detail", client_id=client.pk)
    return render(request, "clients/consent_revoke.html", {"form": form, "client": client, "consent": consent})


@require_http_methods(["GET", "POST"])
def screening_add(request, client_id):
    client = selectors.access_client(user=request.user, client_id=client_id, write=True)
    if not selectors.has_active_treatment_consent(client):
        return render(request, "clients/consent_required.html", {"client": client,
                                                                  "reason": services.ERROR_NO_TREATMENT_CONSENT})
    form = forms.ScreeningForm(request.POST or None, initial={"screened_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            screening = services.screening_record(actor=request.user, client=client,
                                                  screened_on=form.cleaned_data["screened_on"],
                                                  answers=form.answers(), q8=form.cleaned_data["q8"],
                                                  intake=form.intake())
        except services.ConsentRequired as exc:
            return render(request, "clients/consent_required.html", {"client": client, "reason": str(exc)})
        except ValidationError as exc:
            _form_errors_from(form, exc)
        else:
            messages.success(request, MESSAGE_SAVED)
            return redirect("clients:screening", client_id=client.pk, screening_id=screening.pk)
    return render(request, "clients/screening_form.html", {"form": form, "client": client})


@require_GET
def screening_detail(request, client_id, screening_id):
    client, screening = _access_child(Screening, user=request.user, client_id=client_id, object_id=screening_id,
                                      write=False)
    audit.record(action=AuditAction.VIEW, object_type="clients.screening", object_id=screening.pk,
                 client_id=client.pk)
    result = assist.AssistResult.from_dict(screening.results)
    rows = [
        {"label": row.label, "score": row.score, "risk_label": RiskLevel(row.risk).label if row.used else "—",
         "intervention_label": row.intervention_label if row.used else "—"}
        for row in result.substances
    ]
    return render(request, "clients/screening_detail.html", {
        "client": client, "screening": screening, "rows": rows, "injection_advice": result.injection_advice})


@require_http_methods(["GET", "POST"])
def custody_add(request, client_id):
    client = selectors.access_client(user=request.user, client_id=client_id, write=True)
    form = forms.CustodyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.custody_admit(actor=request.user, client=client, **form.cleaned_data)
        except ValidationError as exc:
            _form_errors_from(form, exc)
        else:
            messages.success(request, MESSAGE_SAVED)
            return redirect("clients:detail", client_id=client.pk)
    return render(request, "clients/custody_form.html", {"form": form, "client": client})


@require_http_methods(["GET", "POST"])
def custody_release(request, client_id, episode_id):
    client, episode = _access_child(CustodyEpisode, user=request.user, client_id=client_id, object_id=episode_id)
    form = forms.ReleaseForm(request.POST or None, initial={"released_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            services.custody_release(actor=request.user, episode=episode, **form.cleaned_data)
        except ValidationError as exc:
            _form_errors_from(form, exc)
        else:
            messages.success(request, MESSAGE_SAVED)
            return redirect("clients:detail", client_id=client.pk)
    return render(request, "clients/custody_release.html", {"form": form, "client": client, "episode": episode})


@require_GET
def releases(request):
    episodes = selectors.releases_due(user=request.user)
    audit.record(action=AuditAction.VIEW, object_type="clients.releases_due")
    return render(request, "clients/releases.html", {"episodes": episodes})


@require_http_methods(["GET", "POST"])
def assign(request, client_id):
    client = selectors.access_client(user=request.user, client_id=client_id, write=True)
    form = forms.AssignForm(request.POST or None, counsellors=selectors.counsellors_of(client.organisation),
                            initial={"counsellor": client.counsellor_id})
    if request.method == "POST" and form.is_valid():
        try:
            services.client_assign(actor=request.user, client=client, counsellor=form.cleaned_data["counsellor"])
        except ValidationError as exc:
            _form_errors_from(form, exc)
        else:
            messages.success(request, MESSAGE_SAVED)
            return redirect("clients:detail", client_id=client.pk)
    return render(request, "clients/assign.html", {"form": form, "client": client})


@require_http_methods(["GET", "POST"])
def transfer(request, client_id):
    client = selectors.access_client(user=request.user, client_id=client_id, write=True)
    form = forms.TransferForm(request.POST or None,
                              destinations=selectors.transfer_destinations(exclude=client.organisation))
    if request.method == "POST" and form.is_valid():
        try:
            services.client_transfer(actor=request.user, client=client,
                                     to_organisation=form.cleaned_data["to_organisation"])
        except TransitionRefused as exc:
            messages.error(request, exc.message)
            return redirect("clients:transfers")
        except ValidationError as exc:
            _form_errors_from(form, exc)
        else:
            messages.success(request, _("The client was transferred. Your centre no longer has access."))
            return redirect("clients:transfers")
    return render(request, "clients/transfer.html", {"form": form, "client": client})


@require_GET
def transfers(request):
    return render(request, "clients/transfers.html", {
        "transfers": selectors.transfers_for(organisation=request.organisation),
        "organisation": request.organisation,
    })


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
