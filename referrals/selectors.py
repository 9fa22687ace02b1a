"""Viewer-scoped reads of the directory and of referrals.

A referral officer's scope is exactly the referrals their organisation's staff group was granted when each
was sent (``referrals_visible_to``); care staff see the referrals of clients they may see, sent by their own
organisation. Details go through ``access_referral``: 404 for "not yours" exactly as for "missing".
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, DateTimeField, DurationField, ExpressionWrapper, F, IntegerField, Q, QuerySet, Value
from django.http import Http404
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from casemgmt import access
from casemgmt.roles import CARE_STAFF, OrganisationKind, Role
from clients.models import Client, ConsentKind, ShareCategory
from clients.selectors import clients_visible_to
from referrals.models import (
    OPEN_STATUSES,
    OUTCOME_FIELDS,
    ConfirmatoryResult,
    HivTestResult,
    PartnerService,
    Referral,
    ReferralStatus,
    ServiceType,
)

VIEW = "referrals.view_referral"
DUE_SOON_DAYS = 3
ART_LINKAGE_DAYS = 14  # unless settings.REFERRALS_ART_LINKAGE_DAYS says otherwise

OVERDUE_NOT_ACCEPTED = _("Overdue")
OVERDUE_ART = _("ART not started %(days)d days after a reactive test")
AWAITING_ART = _("Reactive test: ART not started yet")


def directory(*, service_type: str = "", province: str = "") -> QuerySet[PartnerService]:
    """Services of active partner organisations, narrowed by service and province when given."""
    services = PartnerService.objects.filter(organisation__active=True,
                                             organisation__kind=OrganisationKind.NGO_PARTNER)
    if service_type:
        services = services.filter(service_type=service_type)
    if province:
        services = services.filter(province=province)
    return services.select_related("organisation")


def services_editable_by(user) -> QuerySet[PartnerService]:
    """A referral officer edits their own organisation's services; nobody else here (administrators use the
    administration site)."""
    if access.role_of(user) != Role.REFERRAL_OFFICER:
        return PartnerService.objects.none()
    return PartnerService.objects.filter(organisation=access.organisation_of(user))


def access_partner_service(*, user, service_id) -> PartnerService:
    service = services_editable_by(user).filter(pk=service_id).first()
    if service is None:
        raise Http404
    return service


def referrals_visible_to(user, *, write: bool = False) -> QuerySet[Referral]:
    role = access.role_of(user)
    organisation = access.organisation_of(user)
    if role == Role.REFERRAL_OFFICER:
        # Exactly the grants made on sending, and only while the officer acts for the organisation they went to.
        return access.scope_by_probe(user, VIEW, Referral.objects.filter(to_organisation=organisation))
    if role in CARE_STAFF:
        return Referral.objects.filter(from_organisation=organisation,
                                       client__in=clients_visible_to(user, write=write).values("pk"))
    return Referral.objects.none()


def access_referral(*, user, referral_id, write: bool = False) -> Referral:
    try:
        referral_id = uuid.UUID(str(referral_id))
    except ValueError:
        raise Http404 from None
    referral = referrals_visible_to(user, write=write).select_related(
        "service", "to_organisation", "from_organisation", "consent").filter(pk=referral_id).first()
    if referral is None:
        raise Http404
    return referral


def referrals_of_client(*, user, client: Client) -> list[Referral]:
    referrals = list(referrals_visible_to(user).filter(client=client).select_related("service", "to_organisation",
                                                                                     "consent"))
    today = timezone.localdate()
    for referral in referrals:
        referral.overdue = is_overdue(referral, today=today)
    return referrals


def sharing_consents(*, client: Client, on: datetime.date | None = None) -> list:
    on = on or timezone.localdate()
    return [consent for consent in client.consents.filter(kind=ConsentKind.SHARING).select_related("partner")
            if consent.is_active(on)]


def local_date(moment: datetime.datetime | None) -> datetime.date | None:
    return timezone.localdate(moment) if moment is not None else None


# Overdue, for both sides: one definition, in two forms --------------------------------------------------------
#
# A referral is overdue when it was not acted on within its service's target, counted in local
# (Asia/Phnom_Penh) dates:
#   1. sent, not yet accepted: from the day after the service's target days counted from the day it was sent
#      (target 7, sent on the 1st: overdue from the 9th), or from the day after its due date, if that comes first;
#   2. accepted or attended, not closed: from the day after its due date; without a due date, from the day after
#      the service's target days counted from the day it was accepted;
#   3. a completed HIV test with a reactive result (not disproved by a negative confirmatory test) and no ART
#      initiation recorded ``art_linkage_days()`` (14) days after the test.
# Drafts and other closed referrals are never overdue. ``overdue_q`` is the SQL form (counts, filters, the digest,
# the cascade), ``is_overdue`` the Python form (rows already loaded); tests/referrals/test_overdue.py and
# test_outcomes.py hold them to agree.

ACTED_ON = (ReferralStatus.ACCEPTED, ReferralStatus.ATTENDED)


def day_start(day: datetime.date) -> datetime.datetime:
    """The first moment of ``day`` in local time."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _target_passed(moment: datetime.datetime | None, *, target_days: int, today: datetime.date) -> bool:
    """``moment``'s local day plus ``target_days`` is before ``today``: the same arithmetic as ``overdue_q``."""
    return moment is not None and moment < day_start(today) - datetime.timedelta(days=target_days)


def is_overdue(referral: Referral, *, today: datetime.date | None = None) -> bool:
    """Whether ``referral`` is overdue ``today`` (rules 1 to 3 above)."""
    today = today or timezone.localdate()
    return is_overdue_for_acceptance(referral, today=today) or is_overdue_for_art(referral, today=today)


def is_overdue_for_acceptance(referral: Referral, *, today: datetime.date | None = None) -> bool:
    """Rules 1 and 2: not acted on in time. Reads status, sent_at, accepted_at, due_on and service.target_days."""
    today = today or timezone.localdate()
    if referral.status == ReferralStatus.SENT:
        return (_target_passed(referral.sent_at, target_days=referral.service.target_days, today=today)
                or (referral.due_on is not None and referral.due_on < today))
    if referral.status in ACTED_ON:
        if referral.due_on is not None:
            return referral.due_on < today
        return _target_passed(referral.accepted_at, target_days=referral.service.target_days, today=today)
    return False


def overdue_note(referral: Referral, *, today: datetime.date | None = None) -> str:
    """What a follow-up list says of a referral: why it is overdue, that ART is awaited, or nothing."""
    today = today or timezone.localdate()
    if is_overdue_for_acceptance(referral, today=today):
        return str(OVERDUE_NOT_ACCEPTED)
    if is_overdue_for_art(referral, today=today):
        return OVERDUE_ART % {"days": art_linkage_days()}
    if is_awaiting_art(referral):
        return str(AWAITING_ART)
    return ""


def service_codes() -> list[tuple]:
    """(id, service type, target days) of every service of the directory: a few hundred rows at most, read once,
    so that the rules below filter referrals by their service's id rather than join the directory row by row."""
    return list(PartnerService.objects.order_by().values_list("pk", "service_type", "target_days"))


def hiv_testing_q(services: list[tuple] | None = None) -> Q:
    if services is None:
        return Q(service__service_type=ServiceType.HIV_TESTING)
    return Q(service_id__in=[pk for pk, service_type, _days in services if service_type == ServiceType.HIV_TESTING])


def overdue_q(today: datetime.date | None = None, services: list[tuple] | None = None) -> Q:
    """``is_overdue`` in SQL (rules 1 to 3). With ``services`` (``service_codes()``) without a join, else through
    the referral's service."""
    today = today or timezone.localdate()
    midnight = day_start(today)
    # local_date(moment) + target_days < today  <=>  moment < the local midnight target_days days before today
    if services is None:  # a join on the service's target (lists of one organisation's rows)
        target_days = ExpressionWrapper(F("service__target_days"), output_field=IntegerField())
        target = ExpressionWrapper(target_days * Value(datetime.timedelta(days=1)), output_field=DurationField())
        line = ExpressionWrapper(Value(midnight, output_field=DateTimeField()) - target,
                                 output_field=DateTimeField())
        sent_late, acted_late = Q(sent_at__lt=line), Q(accepted_at__lt=line)
    else:  # grouped by target, no join (the cascade's aggregate over a year of a centre's referrals)
        by_days: dict[int, list] = {}
        for pk, _service_type, days in services:
            by_days.setdefault(days, []).append(pk)
        sent_late, acted_late = Q(pk__in=[]), Q(pk__in=[])
        for days, ids in sorted(by_days.items()):
            line = midnight - datetime.timedelta(days=days)
            sent_late |= Q(service_id__in=ids, sent_at__lt=line)
            acted_late |= Q(service_id__in=ids, accepted_at__lt=line)
    not_accepted = Q(status=ReferralStatus.SENT) & (sent_late | Q(due_on__lt=today))
    not_closed = Q(status__in=ACTED_ON) & (Q(due_on__lt=today) | (Q(due_on__isnull=True) & acted_late))
    return not_accepted | not_closed | art_overdue_q(today, services)


# Linkage to ART ----------------------------------------------------------------------------------------------

def art_linkage_days() -> int:
    return int(getattr(settings, "REFERRALS_ART_LINKAGE_DAYS", ART_LINKAGE_DAYS))


def awaiting_art_q(services: list[tuple] | None = None) -> Q:
    """A completed HIV-testing referral whose test was reactive, confirmed or not (yet), with no ART initiation
    recorded. A negative confirmatory result ends the wait. With ``services`` (``service_codes()``): no join."""
    return (hiv_testing_q(services) & Q(status=ReferralStatus.COMPLETED, hiv_result=HivTestResult.REACTIVE,
                                        art_initiated_on__isnull=True)
            & ~Q(hiv_confirmatory_result=ConfirmatoryResult.NEGATIVE))


def art_overdue_q(today: datetime.date, services: list[tuple] | None = None) -> Q:
    """Awaiting ART, and the test was more than ``art_linkage_days()`` days before ``today``."""
    return awaiting_art_q(services) & Q(hiv_tested_on__lt=today - datetime.timedelta(days=art_linkage_days()))


def awaiting_art(referrals: QuerySet[Referral] | None = None, *, overdue_on: datetime.date | None = None
                 ) -> QuerySet[Referral]:
    """The referrals (of ``referrals``, by default all) awaiting linkage to ART; with ``overdue_on``, only those
    overdue on that day. For the overdue rule and its reminders: each row's ``hiv_tested_on`` plus
    ``art_linkage_days()`` is the day ART was due (``art_due_on``)."""
    referrals = Referral.objects.all() if referrals is None else referrals
    return referrals.filter(awaiting_art_q() if overdue_on is None else art_overdue_q(overdue_on))


def is_awaiting_art(referral: Referral) -> bool:
    return (referral.status == ReferralStatus.COMPLETED and referral.service.service_type == ServiceType.HIV_TESTING
            and referral.hiv_result == HivTestResult.REACTIVE and referral.art_initiated_on is None
            and referral.hiv_confirmatory_result != ConfirmatoryResult.NEGATIVE)


def art_due_on(referral: Referral) -> datetime.date | None:
    """The last day ART initiation is on time, for a referral awaiting it."""
    if not is_awaiting_art(referral) or referral.hiv_tested_on is None:
        return None
    return referral.hiv_tested_on + datetime.timedelta(days=art_linkage_days())


def is_overdue_for_art(referral: Referral, *, today: datetime.date | None = None) -> bool:
    due = art_due_on(referral)
    return due is not None and due < (today or timezone.localdate())


# Outcomes ----------------------------------------------------------------------------------------------------

def outcome_rows(referral: Referral) -> list[tuple[str, str]]:
    """The outcome a partner recorded, as (label, value) rows: the generic outcome, then what its service takes."""
    rows = []
    if referral.outcome:
        rows.append((str(_("Outcome")), referral.get_outcome_display()))
    for name in OUTCOME_FIELDS.get(referral.service.service_type, ()):
        value = getattr(referral, name)
        if value in (None, ""):
            continue
        field = Referral._meta.get_field(name)
        if field.choices:
            value = getattr(referral, f"get_{name}_display")()
        elif isinstance(value, datetime.date):
            value = value.isoformat()
        rows.append((capfirst(field.verbose_name), str(value)))
    return rows


@dataclass
class SharedView:
    """What a partner sees of a referral's client: only the categories shared."""

    categories: list[str]
    consent_withdrawn: bool = False
    service: str = ""
    from_organisation: str = ""
    urgency: str = ""
    due_on: datetime.date | None = None
    reason: str = ""
    uic: str = ""
    given_name: str = ""
    phone: str = ""
    hiv_status: str = ""
    treatment: str = ""
    rows: list = field(default_factory=list)
    # The same facts as codes, for the FHIR export (referrals/fhir.py): never more than the page shows.
    hiv_status_code: str = ""
    treatment_active: bool | None = None


def shared_view(*, client: Client, categories, service: PartnerService, from_organisation, urgency: str,
                reason: str, due_on: datetime.date | None, consent_withdrawn: bool = False) -> SharedView:
    """The one function that builds what a partner sees of a referral; the counsellor's preview calls it with
    the values of the form, the referral page with the referral's. A withdrawn consent: that, and nothing else."""
    from django.utils.translation import gettext as _

    from clients.models import HivStatus
    from clients.selectors import has_active_treatment_consent
    from referrals.models import Urgency

    if consent_withdrawn:
        return SharedView(categories=[], consent_withdrawn=True)
    categories = [c for c in ShareCategory.values if c in set(categories)]
    view = SharedView(categories=categories, service=service.get_service_type_display(),
                      from_organisation=str(from_organisation), urgency=str(Urgency(urgency).label), reason=reason,
                      due_on=due_on)
    if ShareCategory.IDENTITY in categories:
        view.uic, view.given_name = client.uic, client.given_name
        view.rows += [(_("UIC"), view.uic), (_("Given name"), view.given_name)]
    if ShareCategory.CONTACT in categories:
        view.phone = client.phone or ""
        view.rows.append((_("Phone"), view.phone or "—"))
    if ShareCategory.HIV_STATUS in categories:
        latest = client.screenings.order_by("-screened_on", "-created_at").only("hiv_status").first()
        view.hiv_status = str(HivStatus(latest.hiv_status).label) if latest else _("Not recorded")
        view.hiv_status_code = latest.hiv_status if latest else ""
        view.rows.append((_("HIV status"), view.hiv_status))
    if ShareCategory.TREATMENT in categories:
        active = view.treatment_active = has_active_treatment_consent(client)
        view.treatment = _("Consented to treatment, active") if active else _("No active treatment consent")
        view.rows.append((_("Treatment"), view.treatment))
    return view


def shared_view_of(referral: Referral) -> SharedView:
    return shared_view(client=referral.client, categories=referral.shared_categories, service=referral.service,
                       from_organisation=referral.from_organisation, urgency=referral.urgency,
                       reason="" if referral.consent_withdrawn else referral.reason, due_on=referral.due_on,
                       consent_withdrawn=referral.consent_withdrawn)


# The partner's inbox ------------------------------------------------------------------------------------------
#
# Counted in one query (conditional aggregation), each list limited to its most urgent rows, the UICs of the rows
# shown only decrypted: a constant number of queries and a bounded amount of work, whatever the number of
# referrals (the bench measures a partner with 50,000 of 2,000,000).

INBOX_KINDS = ("overdue", "new", "due_soon", "accepted")  # in the order the home page shows them
INBOX_LIST_SIZE = 20
RECEIVED_OPEN = (ReferralStatus.SENT, *ACTED_ON)  # what a partner can hold open (drafts are never sent to them)
# Most urgent first: the oldest step, the nearest due date; then a stable order.
INBOX_ORDER = {
    "new": ("sent_at", "id"),
    "accepted": (F("due_on").asc(nulls_last=True), "accepted_at", "id"),
    "due_soon": ("due_on", "sent_at", "id"),
    "overdue": ("sent_at", "id"),
}
INBOX_FIELDS = ("id", "client_id", "status", "urgency", "shared_categories", "due_on", "sent_at", "accepted_at",
                "service__service_type", "service__target_days")


def _inbox_filters(today: datetime.date) -> dict[str, Q]:
    soon = today + datetime.timedelta(days=DUE_SOON_DAYS)
    return {
        "new": Q(status=ReferralStatus.SENT),
        "accepted": Q(status__in=ACTED_ON),
        "due_soon": Q(due_on__gte=today, due_on__lte=soon),
        "overdue": overdue_q(today=today),
    }


@dataclass
class Inbox:
    new: list
    accepted: list
    due_soon: list
    overdue: list
    counts: dict

    def lists(self) -> list[tuple[str, list, int]]:
        """(kind, its most urgent rows, how many there are), in the order of ``INBOX_KINDS``."""
        return [(kind, getattr(self, kind), self.counts[kind]) for kind in INBOX_KINDS]


def _received_open(user) -> QuerySet[Referral]:
    return referrals_visible_to(user).filter(status__in=RECEIVED_OPEN)


def _counts(received: QuerySet[Referral], filters: dict[str, Q]) -> dict[str, int]:
    counts = received.aggregate(**{kind: Count("pk", filter=filters[kind]) for kind in INBOX_KINDS})
    return {kind: counts[kind] or 0 for kind in ("new", "accepted", "due_soon", "overdue")}


def _rows(received: QuerySet[Referral], filters: dict[str, Q], kind: str) -> QuerySet[Referral]:
    return (received.filter(filters[kind]).select_related("service").only(*INBOX_FIELDS)
            .order_by(*INBOX_ORDER[kind]))


def inbox_counts(*, user, today: datetime.date | None = None) -> dict[str, int]:
    """How many of the officer's open referrals are of each kind: one query."""
    return _counts(_received_open(user), _inbox_filters(today or timezone.localdate()))


def inbox_rows(*, user, kind: str, today: datetime.date | None = None) -> QuerySet[Referral]:
    """The officer's open referrals of one ``kind`` (``INBOX_KINDS``), most urgent first, with what a list shows.
    Slice it, then pass the rows to ``inbox_annotate``."""
    return _rows(_received_open(user), _inbox_filters(today or timezone.localdate()), kind)


def inbox_annotate(rows, *, today: datetime.date | None = None) -> None:
    """Give each row ``client_uic`` (only where the client shared their identity with this partner: the UICs of
    these rows alone are decrypted, in two queries for all of them) and ``overdue``."""
    today = today or timezone.localdate()
    rows = list(rows)
    identified = {r.client_id for r in rows if ShareCategory.IDENTITY in r.shared_categories}
    uics = {c.pk: c.uic for c in Client.objects.filter(pk__in=identified).only("id", "uic").with_data_keys()} \
        if identified else {}
    for row in rows:
        row.client_uic = uics.get(row.client_id, "") if ShareCategory.IDENTITY in row.shared_categories else ""
        row.overdue = is_overdue(row, today=today)


def partner_inbox(*, user, today: datetime.date | None = None) -> Inbox:
    """A referral officer's open referrals: counts of new (sent), accepted or attended, due soon and overdue, and
    the ``INBOX_LIST_SIZE`` most urgent of each. At most seven queries, whatever their number."""
    today = today or timezone.localdate()
    received, filters = _received_open(user), _inbox_filters(today)
    counts = _counts(received, filters)
    lists = {kind: list(_rows(received, filters, kind)[:INBOX_LIST_SIZE]) if counts[kind] else []
             for kind in INBOX_KINDS}
    inbox_annotate([row for rows in lists.values() for row in rows], today=today)
    return Inbox(counts=counts, **lists)


def status_counts(*, user) -> dict:
    return dict(referrals_visible_to(user).values_list("status").annotate(n=Count("pk")).values_list("status", "n"))


def referrals_to_follow_up(*, user, limit: int = 10) -> list[Referral]:
    """Open referrals the user's centre sent for clients the user may see, and completed HIV tests awaiting
    linkage to ART, oldest due first (UIC only shown)."""
    return list(
        referrals_visible_to(user).filter(Q(status__in=OPEN_STATUSES) | awaiting_art_q())
        .select_related("service", "to_organisation", "client").only(
            "id", "status", "due_on", "sent_at", "accepted_at", "hiv_tested_on", "hiv_result",
            "hiv_confirmatory_result", "art_initiated_on", "service__service_type", "service__target_days",
            "to_organisation__name", "client__id", "client__uic", "client__version")
        .order_by("due_on", "id").with_data_keys()[:limit]
    )


# The referral letter and the accounting of disclosures --------------------------------------------------------

RE_DISCLOSURE_NOTICE = _(
    "The information in this letter was disclosed to %(partner)s with the client's consent, for this referral "
    "only. It may not be disclosed further, to anyone, without the client's consent.")


@dataclass
class ConsentScope:
    """What a printed document says of the consent a referral rests on: codes and dates, never its free text."""

    given_on: datetime.date
    expires_on: datetime.date | None
    expired: bool
    partner: str
    categories: list[str]  # labels of the categories the consent covers
    wording_version: int | None
    wording_language: str  # the language's name; "" when no wording was recorded (consents before wordings)


def consent_scope(consent, *, partner, today: datetime.date | None = None) -> ConsentScope:
    today = today or timezone.localdate()
    wording = consent.wording
    return ConsentScope(
        given_on=consent.given_on, expires_on=consent.expires_on,
        expired=consent.expires_on is not None and consent.expires_on < today, partner=str(partner),
        categories=category_labels(consent.categories),
        wording_version=wording.version if wording is not None else None,
        wording_language=str(consent.get_language_display()) if wording is not None else "")


def category_labels(categories) -> list[str]:
    return [str(ShareCategory(c).label) for c in ShareCategory.values if c in set(categories)]


@dataclass
class Letter:
    """The referral letter: the partner's view of the referral (``shared_view_of``), the service it is for, the
    consent's scope and the re-disclosure notice. Its labels are in the active language."""

    referral: Referral
    shared: SharedView
    sent_on: datetime.date | None
    to_organisation: str
    service: PartnerService
    consent: ConsentScope
    notice: str


def letter_of(referral: Referral) -> Letter:
    """What the letter prints: a referral that was sent, whose consent still stands (the views refuse the
    others). Built from ``shared_view_of``, so that it shows what the partner's page shows and nothing more."""
    return Letter(referral=referral, shared=shared_view_of(referral), sent_on=local_date(referral.sent_at),
                  to_organisation=str(referral.to_organisation), service=referral.service,
                  consent=consent_scope(referral.consent, partner=referral.to_organisation),
                  notice=str(RE_DISCLOSURE_NOTICE) % {"partner": referral.to_organisation})


@dataclass
class Disclosure:
    """One referral sent: the client's information went to a partner. Labels are in the active language."""

    referral_id: uuid.UUID
    sent_on: datetime.date
    recipient: str
    service: str
    categories: list[str]
    consent: ConsentScope
    sent_by: str
    from_organisation: str
    status: str
    can_open: bool  # the referral's page is the sending centre's


def disclosures_of(*, user, client: Client) -> list[Disclosure]:
    """Every referral of ``client`` that was sent, whatever became of it since (accepted, closed, cancelled,
    ended by a consent withdrawal), by whichever centre held the record then: each one disclosed the client's
    information. Drafts never sent disclosed nothing. For care staff who may see the client; newest first; one
    query whatever their number."""
    if access.role_of(user) not in CARE_STAFF:
        return []
    organisation = access.organisation_of(user)
    today = timezone.localdate()
    sent = (Referral.objects.filter(client=client, client__in=clients_visible_to(user).values("pk"),
                                    sent_at__isnull=False)
            .select_related("to_organisation", "from_organisation", "service", "counsellor", "consent__wording")
            .order_by("-sent_at", "pk"))
    return [Disclosure(
        referral_id=referral.pk, sent_on=local_date(referral.sent_at), recipient=str(referral.to_organisation),
        service=str(referral.service.get_service_type_display()),
        categories=category_labels(referral.shared_categories),
        consent=consent_scope(referral.consent, partner=referral.to_organisation, today=today),
        sent_by=referral.counsellor.get_full_name() or referral.counsellor.username,
        from_organisation=str(referral.from_organisation), status=str(referral.get_status_display()),
        can_open=referral.from_organisation_id == getattr(organisation, "pk", None),
    ) for referral in sent]


def encrypted_outcome_shown(referral: Referral) -> list[str]:
    """The encrypted fields of the outcome that the referral page shows (for its audit event)."""
    return [name for name in ("feedback", "art_facility", "art_number") if getattr(referral, name)]


# Reintegration milestones ------------------------------------------------------------------------------------

def milestones_to_refer_for(*, client: Client) -> list:
    """The client's milestones a referral may serve: those of the open reintegration plan not achieved yet."""
    from plans.models import Milestone, ReintegrationStatus

    return list(Milestone.objects.filter(client=client, plan__status=ReintegrationStatus.OPEN,
                                         achieved_on__isnull=True).order_by("target_on", "created_at"))


def milestone_of(referral: Referral):
    """The milestone a referral serves, for care staff (the referral page; never the partner's)."""
    from plans.models import Milestone

    if referral.milestone_id is None:
        return None
    return Milestone.objects.filter(pk=referral.milestone_id, client_id=referral.client_id).first()
