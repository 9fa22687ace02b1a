"""Viewer-scoped reads of the case file.

Every list starts from ``clients_visible_to(user)``; every detail goes through
``access_client``, which answers 404 for "not yours" exactly as for "missing".
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from casemgmt import access
from casemgmt.models import AuditEvent, Organisation
from casemgmt.roles import Role
from clients import assist
from clients.models import (
    Client,
    ClientStatus,
    Consent,
    ConsentKind,
    ConsentWording,
    CustodyEpisode,
    Screening,
    Transfer,
    TransferStatus,
)

VIEW = "clients.view_client"
CHANGE = "clients.change_client"


def clients_visible_to(user, *, write: bool = False) -> QuerySet[Client]:
    """A counsellor: their caseload (direct grants). A centre manager: their centre (what its staff group holds).

    Built once per user object and membership state (a page asks for it in every list it shows, and building the
    grant's semi-join costs more than running it), and handed out as a fresh, unevaluated copy each time."""
    membership = getattr(user, "membership", None) if user is not None and user.is_authenticated else None
    state = (access.role_of(user), user.is_active if user is not None else None,
             membership and (membership.pk, membership.generation, membership.organisation_id))
    cache = user.__dict__.setdefault("_clients_visible_to", {}) if user is not None else {}
    if cache.get("state") != state:
        cache.clear()
        cache["state"] = state
    if write not in cache:
        cache[write] = _clients_visible_to(user, write=write)
    return cache[write].all()


def _clients_visible_to(user, *, write: bool) -> QuerySet[Client]:
    role = access.role_of(user)
    perm = CHANGE if write else VIEW
    # Always within the user's current organisation: grants left behind by a move never count.
    of_organisation = Client.objects.filter(organisation=access.organisation_of(user))
    if role == Role.COUNSELLOR:
        return access.scope_for(user, perm, of_organisation, use_groups=False)
    if role == Role.CENTRE_MANAGER:
        # The staff group holds exactly the centre's clients (grants move with every transfer), so the
        # organisation column says the same as the group's grant rows, through a composite index: at a
        # million clients the semi-join over a centre's ~50,000 group grants took 400+ ms per page.
        return of_organisation
    return Client.objects.none()


def access_client(*, user, client_id, write: bool = False) -> Client:
    """The client, if ``user`` may see (or, with ``write``, change) it; otherwise 404."""
    try:
        client_id = uuid.UUID(str(client_id))
    except ValueError:
        raise Http404 from None
    client = clients_visible_to(user, write=write).select_related("organisation", "counsellor").filter(
        pk=client_id).first()
    if client is None:
        raise Http404
    return client


def _access_record(model, *, user, client_id, object_id, write: bool):
    """A record of a client the user may see (or change): the client through ``access_client``, then the
    record among that client's own; otherwise 404."""
    client = access_client(user=user, client_id=client_id, write=write)
    record = model.objects.filter(client=client, pk=object_id).first()
    if record is None:
        raise Http404
    record.client = client
    return record


def access_consent(*, user, client_id, consent_id, write: bool = True) -> Consent:
    return _access_record(Consent, user=user, client_id=client_id, object_id=consent_id, write=write)


def access_screening(*, user, client_id, screening_id, write: bool = False) -> Screening:
    return _access_record(Screening, user=user, client_id=client_id, object_id=screening_id, write=write)


def access_custody_episode(*, user, client_id, episode_id, write: bool = True) -> CustodyEpisode:
    return _access_record(CustodyEpisode, user=user, client_id=client_id, object_id=episode_id, write=write)


@dataclass(frozen=True)
class CaseFile:
    """Everything the client page shows besides the client row: read here, in a fixed number of queries."""

    consents: list  # (consent, active today)
    treatment_consent: bool
    screenings: list  # (screening, [(substance label, score, change since the one before or None)])
    custody: list
    timeline: list
    pending_transfers: list
    sections: list  # what feature apps add (clients.sections)


def client_case_file(*, user, client: Client) -> CaseFile:
    from clients.sections import case_file_sections

    today = timezone.localdate()
    consents = list(client.consents.select_related("partner", "recorded_by", "wording"))
    screenings = list(client.screenings.order_by("-screened_on", "-created_at"))
    return CaseFile(
        consents=[(consent, consent.is_active(today)) for consent in consents],
        treatment_consent=has_active_treatment_consent(client, today, consents=consents),
        screenings=screening_changes(screenings),
        custody=list(client.custody_episodes.select_related("facility")),
        timeline=described_timeline(client=client),
        pending_transfers=list(client.transfers.filter(status=TransferStatus.REQUESTED)
                               .select_related("to_organisation")),
        sections=case_file_sections(user=user, client=client),
    )


def client_case_summary(*, user, client: Client) -> dict:
    """What the case summary PDF prints besides the client row: consents, screenings with their changes, custody,
    and the sections feature apps print (those with a ``pdf_template``)."""
    from clients.sections import case_file_sections

    today = timezone.localdate()
    consents = list(client.consents.select_related("partner", "wording"))
    return {
        "consents": [(consent, consent.is_active(today)) for consent in consents],
        "screenings": screening_changes(list(client.screenings.order_by("-screened_on", "-created_at"))),
        "custody": list(client.custody_episodes.select_related("facility")),
        "sections": case_file_sections(user=user, client=client, for_pdf=True),
    }


def described_timeline(*, client: Client) -> list:
    """The timeline's events with their sentences (casemgmt/audit_texts.py), in the active language."""
    from casemgmt import audit_texts
    from casemgmt import selectors as platform_selectors

    events = list(timeline(client=client))
    ids = audit_texts.organisation_ids_in(events)
    audit_texts.describe_all(events, organisation_names=platform_selectors.organisation_names(ids) if ids else {})
    return events


def screening_changes(screenings: list[Screening]) -> list:
    """Each screening (newest first) with the change in each substance's score since the one before it."""
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


@dataclass(frozen=True)
class CaseloadFilters:
    status: str = ""
    population_group: str = ""
    risk_level: str = ""


def caseload(*, user, filters: CaseloadFilters) -> QuerySet[Client]:
    """The user's clients, most recent activity first (never ordered by an encrypted column)."""
    clients = clients_visible_to(user)
    if filters.status:
        clients = clients.filter(status=filters.status)
    else:
        clients = clients.exclude(status__in=[ClientStatus.ERASED, ClientStatus.TRANSFERRED])
    if filters.population_group:
        clients = clients.filter(population_groups__has=filters.population_group)
    if filters.risk_level:
        clients = clients.filter(risk_level=filters.risk_level)
    return (
        clients.select_related("counsellor")
        # What the list rows show (clients/templatetags/client_lists.py), nothing more.
        .only("id", "given_name", "family_name", "uic", "status", "risk_level", "population_groups", "last_activity_at",
              "counsellor__username")
        .order_by("-last_activity_at", "id")
        .with_data_keys()
    )


SEARCH_INDEXES = {
    "uic": ("uic_index",),
    "phone": ("phone_index",),
    "national_id": ("national_id_index",),
    "name": ("name_index",),
}


def search_clients(*, user, kind: str, values: tuple) -> list[Client]:
    """Exact search through a blind index, inside the user's scope."""
    (index,) = SEARCH_INDEXES[kind]
    return clients_visible_to(user).select_related("counsellor").blind_search(index, *values)


@dataclass(frozen=True)
class DuplicateMatch:
    client: Client
    same_organisation: bool
    matched_on: tuple[str, ...]


def find_duplicates(*, organisation: Organisation, uic: str, family_name: str, date_of_birth, phone: str | None,
                    national_id: str | None, exclude_id=None) -> list[DuplicateMatch]:
    """Clients anywhere with a matching identifier. Outside ``organisation`` the caller learns only that they exist."""
    candidates: dict[uuid.UUID, tuple[Client, set[str]]] = {}
    everyone = Client.objects.exclude(status=ClientStatus.ERASED).select_related("organisation")
    if exclude_id:
        everyone = everyone.exclude(pk=exclude_id)
    checks = [("uic", "uic_index", (uic,)), ("family_name_date_of_birth", "family_dob_index",
                                              (family_name, date_of_birth))]
    if phone:
        checks.append(("phone", "phone_index", (phone,)))
    if national_id:
        checks.append(("national_id", "national_id_index", (national_id,)))
    for label, index, values in checks:
        for client in everyone.blind_search(index, *values):
            candidates.setdefault(client.pk, (client, set()))[1].add(label)
    return [
        DuplicateMatch(client=client, same_organisation=client.organisation_id == organisation.pk,
                       matched_on=tuple(sorted(labels)))
        for client, labels in candidates.values()
    ]


def clients_by_ids(client_ids) -> QuerySet[Client]:
    """Unscoped, for a transfer request only: the ids come from the server-side duplicate check."""
    return Client.objects.filter(pk__in=client_ids).exclude(status=ClientStatus.ERASED).select_related(
        "organisation")


def has_active_treatment_consent(client: Client, on: datetime.date | None = None, *, consents=None) -> bool:
    on = on or timezone.localdate()
    consents = client.consents.all() if consents is None else consents
    return any(c.kind == ConsentKind.TREATMENT and c.is_active(on) for c in consents)


def latest_hiv_statuses(client_ids) -> dict[uuid.UUID, str]:
    """The HIV status of each client's latest screening (as the client page orders them), by client id; clients
    never screened are left out. One query, whatever the number of clients or screenings."""
    from django.db.models import OuterRef, Subquery

    latest = Screening.objects.filter(client=OuterRef("pk")).order_by("-screened_on", "-created_at")
    rows = Client.objects.filter(pk__in=list(client_ids)).annotate(
        latest_hiv_status=Subquery(latest.values("hiv_status")[:1])).values_list("pk", "latest_hiv_status")
    return {pk: status for pk, status in rows if status}


def current_wordings(*, on: datetime.date | None = None) -> dict[tuple[str, str], ConsentWording]:
    """The wording in use on ``on`` (today) for each (kind, language): its latest version in use by then. One query."""
    on = on or timezone.localdate()
    current: dict[tuple[str, str], ConsentWording] = {}
    for wording in ConsentWording.objects.filter(published_on__lte=on).order_by("kind", "language", "-version"):
        current.setdefault((wording.kind, wording.language), wording)
    return current


def current_wording(*, kind: str, language: str, on: datetime.date | None = None) -> ConsentWording | None:
    on = on or timezone.localdate()
    return ConsentWording.objects.filter(kind=kind, language=language, published_on__lte=on).order_by(
        "-version").first()


def wording_in_use(wording: ConsentWording) -> bool:
    """Whether a consent records this wording (read to a client): then it never changes."""
    return wording.pk is not None and Consent.objects.filter(wording_id=wording.pk).exists()


def releases_due(*, user, days: int = 30) -> QuerySet[CustodyEpisode]:
    """Custody episodes at the user's facility ending within ``days``, for clients the user may see."""
    today = timezone.localdate()
    return (
        CustodyEpisode.objects.filter(
            facility=access.organisation_of(user),
            released_on__isnull=True,
            expected_release_on__gte=today,
            expected_release_on__lte=today + datetime.timedelta(days=days),
            client__in=clients_visible_to(user),
        )
        .select_related("client")
        .order_by("expected_release_on")
    )  # a handful of rows: their keys load one by one


def transfers_for(*, organisation: Organisation) -> QuerySet[Transfer]:
    return (
        Transfer.objects.filter(from_organisation=organisation)
        | Transfer.objects.filter(to_organisation=organisation)
    ).select_related("from_organisation", "to_organisation").order_by("-requested_at")


def visible_uics(*, user, client_ids) -> dict[uuid.UUID, str]:
    """The UICs of those of ``client_ids`` whose page ``user`` may open; the others are never opened.

    For the transfers list: the holding centre's staff see which of their clients a request is about;
    the requesting centre learns nothing from its own request until the record is theirs.
    """
    client_ids = set(client_ids)
    if not client_ids:
        return {}
    clients = clients_visible_to(user).filter(pk__in=client_ids).only("id", "uic").with_data_keys()
    return {client.pk: client.uic for client in clients}


def pending_transfer_requests(*, organisation: Organisation) -> QuerySet[Transfer]:
    return Transfer.objects.filter(from_organisation=organisation, status=TransferStatus.REQUESTED)


def access_transfer_request(*, user, transfer_id) -> Transfer:
    """An open request addressed to the user's centre (its holder decides); otherwise 404."""
    transfer = (
        Transfer.objects.filter(pk=transfer_id, status=TransferStatus.REQUESTED,
                                from_organisation=access.organisation_of(user))
        .select_related("client", "to_organisation")
        .first()
    )
    if transfer is None:
        raise Http404
    return transfer


TIMELINE_ACTIONS = ["create", "change", "consent_change", "break_glass", "subject_erased", "print", "export"]


def timeline(*, client: Client, limit: int = 50) -> QuerySet[AuditEvent]:
    """What happened to this client's record, from the audit trail (field names, never values)."""
    return AuditEvent.objects.filter(client_id=client.pk, action__in=TIMELINE_ACTIONS).order_by("-seq")[:limit]


def counsellors_of(organisation: Organisation):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(
        membership__organisation=organisation, membership__role=Role.COUNSELLOR, is_active=True
    ).order_by("username")


def transfer_destinations(*, exclude: Organisation) -> QuerySet[Organisation]:
    from casemgmt.roles import CARE_KINDS

    return Organisation.objects.filter(active=True, kind__in=CARE_KINDS).exclude(pk=exclude.pk)
