"""Viewer-scoped reads of the directory and of referrals.

A referral officer's scope is exactly the referrals their organisation's staff group was granted when each
was sent (``referrals_visible_to``); care staff see the referrals of clients they may see, sent by their own
organisation. Details go through ``access_referral``: 404 for "not yours" exactly as for "missing".
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass, field

from django.db.models import Count, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casemgmt import access
from casemgmt.roles import CARE_STAFF, OrganisationKind, Role
from clients.models import Client, ConsentKind, ShareCategory
from clients.selectors import clients_visible_to
from referrals.models import OPEN_STATUSES, PartnerService, Referral, ReferralStatus

VIEW = "referrals.view_referral"
DUE_SOON_DAYS = 3


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
    return list(referrals_visible_to(user).filter(client=client).select_related("service", "to_organisation"))


def sharing_consents(*, client: Client, on: datetime.date | None = None) -> list:
    on = on or timezone.localdate()
    return [consent for consent in client.consents.filter(kind=ConsentKind.SHARING).select_related("partner")
            if consent.is_active(on)]


def local_date(moment: datetime.datetime | None) -> datetime.date | None:
    return timezone.localdate(moment) if moment is not None else None


def is_overdue(referral: Referral, *, today: datetime.date | None = None) -> bool:
    """Not accepted within the service's target days, counted in local (Asia/Phnom_Penh) dates."""
    if referral.status != ReferralStatus.SENT or referral.sent_at is None:
        return False
    today = today or timezone.localdate()
    return local_date(referral.sent_at) + datetime.timedelta(days=referral.service.target_days) < today


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
    """Open referrals the user's centre sent for clients the user may see, oldest due first (UIC only shown)."""
    return list(
        referrals_visible_to(user).filter(status__in=OPEN_STATUSES)
        .select_related("service", "to_organisation", "client").only(
            "id", "status", "due_on", "sent_at", "service__service_type", "service__target_days",
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
