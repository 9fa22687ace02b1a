"""The centre's cascade: of the referrals a treatment centre or prison unit sent in a period, how many went how far.

The counts are the centre's (every referral it sent, whoever's client), computed in the database with
conditional aggregates: one query, one scan of the period's referrals, whatever their number, grouped by state and
reason (which gives the negative ends by reason too). The index ``referral_cascade`` (from_organisation, sent_at)
includes every column counted, so the scan reads the index alone; the rules that need the service (its type, its
target days) filter by service id, from one small read of the directory, rather than join it for every row.

The list behind a count shows only the referrals of clients the viewer may see (``referrals_visible_to``), so a
counsellor may see a count larger than its list. A referral is in a period by the local (Asia/Phnom_Penh) date it
was sent.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casemgmt import access
from casemgmt.roles import CARE_STAFF
from referrals.models import NEGATIVE_ENDS, ConfirmatoryResult, EndReason, HivTestResult, Referral, ReferralStatus
from referrals.selectors import (
    art_linkage_days,
    art_overdue_q,
    hiv_testing_q,
    overdue_q,
    referrals_visible_to,
    service_codes,
)


@dataclass(frozen=True)
class Step:
    key: str
    label: str
    definition: str
    # (today, service_codes()) -> the rows counted (None: all of the period's)
    condition: Callable[[datetime.date, list], Q | None]


def hiv(services) -> Q:
    return hiv_testing_q(services)


HIV_STEPS = (
    Step("hiv_referred", _("Referred for HIV testing"),
         _("Referrals for HIV testing sent in the period."), lambda today, services: hiv(services)),
    Step("hiv_tested", _("Tested"),
         _("Referrals for HIV testing sent in the period with a test result recorded (non-reactive, reactive or "
           "indeterminate)."), lambda today, services: hiv(services) & ~Q(hiv_result="")),
    Step("hiv_reactive", _("Reactive"),
         _("Of those tested, the referrals whose test was reactive."),
         lambda today, services: hiv(services) & Q(hiv_result=HivTestResult.REACTIVE)),
    Step("hiv_confirmed", _("Confirmed positive"),
         _("Of the reactive ones, the referrals with a confirmatory result “confirmed positive”."),
         lambda today, services: hiv(services) & Q(hiv_result=HivTestResult.REACTIVE,
                               hiv_confirmatory_result=ConfirmatoryResult.POSITIVE)),
    Step("hiv_art", _("Initiated on ART"),
         _("Of the confirmed ones, the referrals with an ART initiation recorded (at the test or later)."),
         lambda today, services: hiv(services) & Q(art_initiated_on__isnull=False)),
    Step("hiv_art_overdue", _("ART overdue"),
         _("Reactive tests (confirmed or not yet) with no ART initiation recorded more than %(days)d days after the "
           "test, today."), lambda today, services: art_overdue_q(today, services)),
)

OVERALL_STEPS = (
    Step("sent", _("Sent"), _("Referrals (to any service) sent in the period."), lambda today, services: None),
    Step("accepted", _("Accepted"),
         _("Of those, the referrals the partner accepted, whatever happened next."),
         lambda today, services: Q(accepted_at__isnull=False)),
    Step("completed", _("Completed"),
         _("Of those, the referrals the partner completed with an outcome."),
         lambda today, services: Q(status=ReferralStatus.COMPLETED)),
    Step("overdue", _("Overdue"),
         _("Of those, the referrals overdue today: not accepted within the service's target days; accepted but not "
           "closed after their due date (without one, the service's target days after acceptance); or a reactive "
           "HIV test with no ART initiation recorded more than %(days)d days after it."),
         lambda today, services: overdue_q(today, services)),
)

STEPS = {step.key: step for step in (*HIV_STEPS, *OVERALL_STEPS)}


def definition(step: Step) -> str:
    return str(step.definition) % {"days": art_linkage_days()}


@dataclass(frozen=True)
class Period:
    start: datetime.date  # both local dates, included
    end: datetime.date

    @classmethod
    def default(cls, today: datetime.date | None = None) -> Period:
        today = today or timezone.localdate()
        return cls(datetime.date(today.year, 1, 1), today)

    def bounds(self) -> tuple[datetime.datetime, datetime.datetime]:
        """The moments the period begins and ends (local midnights; the end excluded)."""
        def midnight(day):
            return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
        return midnight(self.start), midnight(self.end + datetime.timedelta(days=1))

    def query(self) -> dict:
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}


@dataclass
class Figure:
    step: Step
    count: int
    definition: str
    query: str  # the list's filters behind this count, for its link


@dataclass
class EndReasonCount:
    status: str
    status_label: str
    reason: str
    reason_label: str
    count: int
    query: str


@dataclass
class Cascade:
    period: Period
    hiv: list[Figure] = field(default_factory=list)
    overall: list[Figure] = field(default_factory=list)
    ends: list[EndReasonCount] = field(default_factory=list)


def sent_in(referrals: QuerySet[Referral], period: Period) -> QuerySet[Referral]:
    start, end = period.bounds()
    return referrals.filter(sent_at__gte=start, sent_at__lt=end)


def centre_cascade(*, user, period: Period, today: datetime.date | None = None) -> Cascade:
    """The figures of the user's centre (care staff only): a small read of the directory's codes, then one query
    over one scan of the period's referrals, grouped by state and reason (the negative ends), each group with a
    conditional count of every step. No join: the service's type and target days are its id's."""
    today = today or timezone.localdate()
    cascade = Cascade(period=period)
    if access.role_of(user) not in CARE_STAFF:
        return cascade
    sent = sent_in(Referral.objects.filter(from_organisation=access.organisation_of(user)), period)
    services = service_codes()
    aggregates = {}
    for step in (*HIV_STEPS, *OVERALL_STEPS):
        # sent_at: never null in the period, and in the index, which then holds every column counted here.
        condition = step.condition(today, services)
        aggregates[step.key] = Count("sent_at", filter=condition) if condition is not None else Count("sent_at")
    groups = list(sent.order_by().values("status", "end_reason").annotate(**aggregates))
    for target, group in ((cascade.hiv, HIV_STEPS), (cascade.overall, OVERALL_STEPS)):
        target.extend(Figure(step=step, count=sum(row[step.key] for row in groups), definition=definition(step),
                             query=urlencode({**period.query(), "step": step.key})) for step in group)
    ends = {(row["status"], row["end_reason"]): row["sent"] for row in groups if row["status"] in NEGATIVE_ENDS}
    for status in NEGATIVE_ENDS:
        for reason in EndReason.values:
            if ends.get((status, reason)):
                cascade.ends.append(EndReasonCount(
                    status=status, status_label=str(ReferralStatus(status).label), reason=reason,
                    reason_label=str(EndReason(reason).label), count=ends[(status, reason)],
                    query=urlencode({**period.query(), "status": status, "reason": reason})))
    return cascade


def referral_list(*, user, period: Period, step: str = "", service_type: str = "", status: str = "",
                  reason: str = "", today: datetime.date | None = None) -> QuerySet[Referral]:
    """The referrals behind a figure, of clients the user may see: newest sent first, UIC and initials only."""
    today = today or timezone.localdate()
    rows = sent_in(referrals_visible_to(user), period)
    if step:
        condition = STEPS[step].condition(today, service_codes())
        if condition is not None:
            rows = rows.filter(condition)
    if service_type:
        rows = rows.filter(service__service_type=service_type)
    if status:
        rows = rows.filter(status=status)
    if reason:
        rows = rows.filter(end_reason=reason)
    return (rows.select_related("service", "to_organisation", "client")
            .only("id", "status", "sent_at", "accepted_at", "end_reason", "outcome", "due_on", "hiv_tested_on",
                  "hiv_result", "hiv_confirmatory_result", "art_initiated_on", "client_id", "service__service_type",
                  "service__target_days", "to_organisation__name", "client__id", "client__uic", "client__given_name",
                  "client__family_name", "client__version")
            .order_by("-sent_at", "-id").with_data_keys())
