"""The pre-release checklist of the prison unit's releases page: the clean place where other apps add items.

Clients never imports the apps that provide items. An app (``referrals``) registers, from its
``AppConfig.ready``::

    from clients.releases import ReleaseCheck, ReleaseLink, register_release_check

    def continuity_checks(*, user, episodes) -> dict:
        # a constant number of queries for all the episodes, scoped to ``user``
        return {client_id: [ReleaseCheck(key=..., label=..., done=..., definition=..., links=(...))], ...}

    register_release_check(continuity_checks)

A provider gets the custody episodes of one page (already scoped: the viewer may see their client, whose record
is at the viewer's prison unit) and answers with the items of each client, by client id. A client it has nothing
for (an item that does not apply to them) is left out. Items of several providers with the same ``key`` are one
line of the checklist, done when any of them is done: the community treatment item is done by a transfer
request (here) or by a referral for opioid agonist therapy (``referrals``). Each item says what makes it done
(``definition``, shown under the list) and links to doing it. Labels and details must not name the client: they
are shown in a list.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from casemgmt import access, crypto
from casemgmt.roles import OrganisationKind, Role

COMMUNITY_TREATMENT = "community_treatment"


@dataclass(frozen=True)
class ReleaseLink:
    label: str
    url: str


@dataclass(frozen=True)
class ReleaseCheck:
    key: str  # items with the same key are one line: done when any is done
    label: str
    done: bool
    definition: str  # what makes it done, in a phrase (shown once per line, under the list)
    detail: str = ""  # what was done ("Transfer requested by Demo Treatment Centre Phnom Penh")
    links: tuple[ReleaseLink, ...] = ()  # to do it, or, done, to what was done


@dataclass
class Column:
    key: str
    label: str
    definitions: list[str] = field(default_factory=list)


@dataclass
class Line:
    """One line of one client's checklist: the items of every provider with one key, merged."""

    done: bool
    details: list[str]
    links: list[ReleaseLink]


@dataclass
class ReleaseRow:
    episode: object  # clients.models.CustodyEpisode, with its client
    cells: list  # a Line per column, or None where the line does not apply to this client


_providers: list[Callable] = []


def register_release_check(provider: Callable) -> Callable:
    if provider not in _providers:
        _providers.append(provider)
    return provider


def unregister_release_check(provider: Callable) -> None:
    if provider in _providers:
        _providers.remove(provider)


def transfer_checks(*, user, episodes: list) -> dict:
    """The community treatment line, by a transfer: a treatment centre asked for the record (a transfer request,
    pending) or received it, since the admission. One query for all the episodes."""
    from clients.models import Transfer, TransferStatus

    admitted = {episode.client_id: episode.admitted_on for episode in episodes}
    done: dict = {}
    transfers = (Transfer.objects.filter(client_id__in=admitted, from_organisation=access.organisation_of(user),
                                         to_organisation__kind=OrganisationKind.TREATMENT_CENTRE,
                                         status__in=[TransferStatus.REQUESTED, TransferStatus.COMPLETED])
                 .select_related("to_organisation").order_by("requested_at"))
    for transfer in transfers:
        if timezone.localdate(transfer.requested_at) >= admitted[transfer.client_id]:
            done.setdefault(transfer.client_id, transfer)
    definition = _("a transfer of the record to a community treatment centre, requested by that centre or "
                   "completed, since the admission")
    manager = access.role_of(user) == Role.CENTRE_MANAGER
    checks = {}
    for client_id in admitted:
        transfer = done.get(client_id)
        if transfer is not None:
            detail = (_("Transfer requested by %(centre)s") if transfer.status == TransferStatus.REQUESTED
                      else _("Transferred to %(centre)s")) % {"centre": transfer.to_organisation.name}
            links = (ReleaseLink(_("Transfers"), reverse("clients:transfers")),)
        else:
            detail = ""
            # Transferring is a centre manager's act (and the record leaves the unit at once).
            links = (ReleaseLink(_("Transfer the record"), reverse("clients:transfer", args=[client_id])),) \
                if manager else ()
        checks[client_id] = [ReleaseCheck(key=COMMUNITY_TREATMENT, label=_("Community treatment"),
                                          done=transfer is not None, definition=definition, detail=detail,
                                          links=links)]
    return checks


def release_checklists(*, user, episodes: Iterable) -> tuple[list[Column], list[ReleaseRow]]:
    """The checklist of every episode's client: the columns (one per line, in the order they first appear, with
    what makes each done) and a row per episode. A constant number of queries: one per provider, and one for the
    clients' data keys (the list shows their UICs)."""
    episodes = list(episodes)
    if not episodes:
        return [], []
    crypto.load_data_keys(episode.client_id for episode in episodes)
    columns: dict[str, Column] = {}
    lines: dict = {}  # (client id, key) -> Line
    for provider in (transfer_checks, *_providers):
        for client_id, checks in (provider(user=user, episodes=episodes) or {}).items():
            for check in checks:
                column = columns.setdefault(check.key, Column(key=check.key, label=check.label))
                if check.definition not in column.definitions:
                    column.definitions.append(check.definition)
                line = lines.setdefault((client_id, check.key), Line(done=False, details=[], links=[]))
                _merge(line, check)
    rows = [ReleaseRow(episode=episode, cells=[lines.get((episode.client_id, key)) for key in columns])
            for episode in episodes]
    return list(columns.values()), rows


def _merge(line: Line, check: ReleaseCheck) -> None:
    """Done when any item is done; a done line shows what was done, a missing one every way to do it."""
    if check.done and not line.done:
        line.done, line.details, line.links = True, [], []
    if check.done == line.done:
        if check.detail:
            line.details.append(check.detail)
        line.links.extend(link for link in check.links if link not in line.links)
