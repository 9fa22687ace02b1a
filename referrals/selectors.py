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
from django.db.models import Count, Q, QuerySet
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
        return access.scope_for(user, VIEW, Referral.objects.filter(to_organisation=organisation))
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
    return list(referrals_visible_to(user).filter(client=client).select_related("service", "to_organisation",
                                                                                "consent"))


def sharing_consents(*, client: Client, on: datetime.date | None = None) -> list:
    on = on or timezone.localdate()
    return [consent for consent in client.consents.filter(kind=ConsentKind.SHARING).select_related("partner")
            if consent.is_active(on)]


def local_date(moment: datetime.datetime | None) -> datetime.date | None:
    return timezone.localdate(moment) if moment is not None else None


def is_overdue(referral: Referral, *, today: datetime.date | None = None) -> bool:
    """Not accepted within the service's target days, counted in local (Asia/Phnom_Penh) dates; or a reactive
    HIV test with no ART initiation recorded ``art_linkage_days()`` days after the test."""
    today = today or timezone.localdate()
    return is_overdue_for_acceptance(referral, today=today) or is_overdue_for_art(referral, today=today)


def is_overdue_for_acceptance(referral: Referral, *, today: datetime.date | None = None) -> bool:
    if referral.status != ReferralStatus.SENT or referral.sent_at is None:
        return False
    today = today or timezone.localdate()
    return local_date(referral.sent_at) + datetime.timedelta(days=referral.service.target_days) < today


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


def overdue_q(today: datetime.date, services: list[tuple] | None = None) -> Q:
    """``is_overdue`` in SQL, without a join: ``services`` are ``service_codes()`` (read here if not given)."""
    services = service_codes() if services is None else services
    midnight = timezone.make_aware(datetime.datetime.combine(today, datetime.time.min))
    by_days: dict[int, list] = {}
    for pk, _service_type, days in services:
        by_days.setdefault(days, []).append(pk)
    # local_date(sent_at) + target_days < today  <=>  sent_at < the local midnight target_days days before today
    late = Q(pk__in=[])
    for days, ids in sorted(by_days.items()):
        late |= Q(service_id__in=ids, sent_at__lt=midnight - datetime.timedelta(days=days))
    return (Q(status=ReferralStatus.SENT) & late) | art_overdue_q(today, services)


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
        view.rows.append((_("HIV status"), view.hiv_status))
    if ShareCategory.TREATMENT in categories:
        active = has_active_treatment_consent(client)
        view.treatment = _("Consented to treatment, active") if active else _("No active treatment consent")
        view.rows.append((_("Treatment"), view.treatment))
    return view


@dataclass
class Inbox:
    new: list
    accepted: list
    due_soon: list
    overdue: list
    counts: dict


def shared_view_of(referral: Referral) -> SharedView:
    return shared_view(client=referral.client, categories=referral.shared_categories, service=referral.service,
                       from_organisation=referral.from_organisation, urgency=referral.urgency,
                       reason="" if referral.consent_withdrawn else referral.reason, due_on=referral.due_on,
                       consent_withdrawn=referral.consent_withdrawn)


def partner_inbox(*, user, today: datetime.date | None = None) -> Inbox:
    """A referral officer's open referrals: new (sent), accepted or attended, due soon, overdue. A constant
    number of queries, whatever their number."""
    today = today or timezone.localdate()
    rows = list(referrals_visible_to(user).filter(status__in=OPEN_STATUSES).select_related("service")
                .order_by("sent_at"))
    # The UIC only where the client shared their identity with this partner, and never after a withdrawal.
    identified = {r.client_id for r in rows if ShareCategory.IDENTITY in r.shared_categories}
    uics = {c.pk: c.uic for c in Client.objects.filter(pk__in=identified).only("id", "uic").with_data_keys()} \
        if identified else {}
    for row in rows:
        row.client_uic = uics.get(row.client_id, "") if ShareCategory.IDENTITY in row.shared_categories else ""
        row.overdue = is_overdue(row, today=today)
    soon = today + datetime.timedelta(days=DUE_SOON_DAYS)
    new = [r for r in rows if r.status == ReferralStatus.SENT]
    accepted = [r for r in rows if r.status in (ReferralStatus.ACCEPTED, ReferralStatus.ATTENDED)]
    due_soon = [r for r in rows if r.due_on is not None and today <= r.due_on <= soon]
    overdue = [r for r in rows if r.overdue]
    counts = {"new": len(new), "accepted": len(accepted), "due_soon": len(due_soon), "overdue": len(overdue)}
    return Inbox(new=new, accepted=accepted, due_soon=due_soon, overdue=overdue, counts=counts)


def status_counts(*, user) -> dict:
    return dict(referrals_visible_to(user).values_list("status").annotate(n=Count("pk")).values_list("status", "n"))


def referrals_to_follow_up(*, user, limit: int = 10) -> list[Referral]:
    """Open referrals the user's centre sent for clients the user may see, and completed HIV tests awaiting
    linkage to ART, oldest due first (UIC only shown)."""
    return list(
        referrals_visible_to(user).filter(Q(status__in=OPEN_STATUSES) | awaiting_art_q())
        .select_related("service", "to_organisation", "client").only(
            "id", "status", "due_on", "sent_at", "hiv_tested_on", "hiv_result", "hiv_confirmatory_result",
            "art_initiated_on", "service__service_type", "service__target_days", "to_organisation__name",
            "client__id", "client__uic", "client__version")
        .order_by("due_on", "id").with_data_keys()[:limit]
    )


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
