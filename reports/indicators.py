"""The indicators' counts, computed in the database: conditional aggregates and GROUP BY on coded columns, never a
record loaded into Python and never an encrypted value opened. Each function is a small, constant number of
queries whatever the number of records; what comes back is a few grouped rows (a count per combination of
coded values), which ``reports.report`` turns into tables.

Which records, which date and which organisation each indicator counts is its catalogue entry
(``reports.catalogue``); the functions here follow those entries word for word.

The HIV cascade's steps after "referred for testing" count the test outcomes a partner records on a referral,
which this version does not keep yet: ``cascade_outcome_steps`` is where they are computed (see its docstring).
"""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import (
    Case,
    CharField,
    Count,
    DateTimeField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast, ExtractMonth, ExtractYear, TruncDate
from django.utils import timezone

from casemgmt.roles import OrganisationKind
from clients import assist
from clients.models import Client, HivStatus, Route, Screening
from counselling.models import Attendance, Participant, Session, SessionStatus
from plans.models import Milestone, PlanStatus, TreatmentPlan
from referrals.models import Referral, ReferralStatus, ServiceType
from reports.catalogue import AGE_BANDS, COMMUNITY, PRISON
from reports.periods import Period, local_midnight
from reports.scope import Scope

INJECTED_RECENTLY = assist.INJECTION_RECENT
KNOWN_NEGATIVE_DAYS = 365  # a negative test at most this long before the first screening is a known status
RETENTION_WINDOWS = {"m3": (60, 90), "m6": (150, 180)}  # days after intake: [start, end)
RELEASE_WINDOW_DAYS = 30
RISK_LEVELS = ("low", "moderate", "high")
SETTING_OF_KIND = {OrganisationKind.TREATMENT_CENTRE: COMMUNITY, OrganisationKind.PRISON_HEALTH_UNIT: PRISON}


def _tz():
    return timezone.get_default_timezone()


class DaysBetween(Func):
    """Whole days from the date ``start`` to the date ``end`` (both dates, e.g. ``TruncDate`` in local time)."""

    output_field = IntegerField()
    arity = 2

    def as_sql(self, compiler, connection, **extra):  # PostgreSQL: date - date is a number of days
        end, end_params = compiler.compile(self.source_expressions[1])
        start, start_params = compiler.compile(self.source_expressions[0])
        return f"({end} - {start})", [*end_params, *start_params]

    def as_sqlite(self, compiler, connection, **extra):
        end, end_params = compiler.compile(self.source_expressions[1])
        start, start_params = compiler.compile(self.source_expressions[0])
        return f"CAST(julianday({end}) - julianday({start}) AS INTEGER)", [*end_params, *start_params]


def local_day(field: str):
    return TruncDate(field, tzinfo=_tz())


def during(field: str, period: Period) -> Q:
    """A moment (datetime column) within the period's local days."""
    start, end = period.bounds()
    return Q(**{f"{field}__gte": start, f"{field}__lt": end})


def on_days(field: str, period: Period) -> Q:
    """A date column within the period."""
    return Q(**{f"{field}__gte": period.start, f"{field}__lte": period.end})


def age_band(year: int) -> Case:
    """The age band of the age reached in ``year`` (that year less the birth year)."""
    whens = [When(birth_year__gt=year - high - 1, then=Value(code))
             for code, _label, _low, high in AGE_BANDS if high is not None]
    return Case(*whens, default=Value(AGE_BANDS[-1][0]), output_field=CharField())


def setting_of(path: str) -> Case:
    return Case(When(**{f"{path}__kind": OrganisationKind.PRISON_HEALTH_UNIT}, then=Value(PRISON)),
                default=Value(COMMUNITY), output_field=CharField())


# Clients ---------------------------------------------------------------------------------------------------

@dataclass
class ClientProfile:
    """Clients counted by their coded attributes: ``rows`` of (sex, age band, province, setting, population
    groups, count)."""

    rows: list[tuple[str, str, str, str, tuple, int]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(row[-1] for row in self.rows)

    def by(self, *positions: int) -> Counter:
        found: Counter = Counter()
        for row in self.rows:
            found[tuple(row[p] for p in positions)] += row[-1]
        return found

    def by_group(self) -> Counter:
        found: Counter = Counter()
        for row in self.rows:
            for group in row[4] or ():
                found[group] += row[-1]
        return found


def _profile(clients, *, org: str, year: int) -> ClientProfile:
    rows = (clients.order_by()
            .values_list("sex", "band", f"{org}__province", "setting", "population_groups")
            .annotate(n=Count("pk")))
    return ClientProfile(rows=[tuple(row) for row in rows])


def _clients(clients, *, org: str, year: int):
    return clients.annotate(band=age_band(year), setting=setting_of(org))


def registered(scope: Scope, period: Period):
    return Client.objects.filter(scope.q("registered_by_organisation"), during("created_at", period))


def new_clients(scope: Scope, period: Period) -> ClientProfile:
    """CL-NEW. One query."""
    year = period.report_year
    org = "registered_by_organisation"
    return _profile(_clients(registered(scope, period), org=org, year=year), org=org, year=year)


def contacts(period: Period):
    """The client ids with a contact in the period (registration, screening, attended session, referral sent)."""
    attended = Participant.objects.order_by().filter(during("starts_at", period), attendance=Attendance.ATTENDED)
    screened = Screening.objects.order_by().filter(on_days("screened_on", period))
    referred = Referral.objects.order_by().filter(during("sent_at", period))
    made = Client.objects.order_by().filter(during("created_at", period))
    return attended.values("client_id").union(screened.values("client_id"), referred.values("client_id"),
                                              made.values("id"))


def new_clients_total(scope: Scope, period: Period) -> int:
    """CL-NEW, the total alone (the dashboard's headline). One query: a range of an index."""
    return registered(scope, period).count()


def active_clients_total(scope: Scope, period: Period) -> int:
    """CL-ACT, the total alone. One query; nationally, without reading the clients at all."""
    if scope.kind == "national":
        return contacts(period).count()
    return Client.objects.filter(scope.q("organisation"), pk__in=contacts(period)).count()


def active_clients(scope: Scope, period: Period) -> ClientProfile:
    """CL-ACT. One query."""
    year = period.report_year
    clients = Client.objects.filter(scope.q("organisation"), pk__in=contacts(period))
    return _profile(_clients(clients, org="organisation", year=year), org="organisation", year=year)


# Screening ---------------------------------------------------------------------------------------------------

def _screenings(scope: Scope, period: Period):
    return Screening.objects.filter(scope.q("client__organisation"), on_days("screened_on", period))


def screened(scope: Scope, period: Period) -> dict[str, tuple[int, int]]:
    """AS-SCR and AS-INJ by setting: {setting: (clients screened, of them who inject)}. One query."""
    injecting = Q(injection_risk=INJECTED_RECENTLY) | Q(route=Route.INJECTING)
    rows = (_screenings(scope, period).order_by().annotate(setting=setting_of("client__organisation"))
            .values_list("setting")
            .annotate(n=Count("client_id", distinct=True),
                      inject=Count("client_id", distinct=True, filter=injecting)))
    return {setting: (n, inject) for setting, n, inject in rows}


def risk_levels(scope: Scope, period: Period) -> dict[str, dict[str, int]]:
    """AS-RISK: {substance: {risk level: screenings}} for substances used. One query (conditional counts)."""
    aggregates = {
        f"{substance}__{level}": Count("pk", filter=Q(**{f"results__substances__{substance}__used": True,
                                                          f"results__substances__{substance}__risk": level}))
        for substance in assist.SUBSTANCES for level in RISK_LEVELS
    }
    counts = _screenings(scope, period).order_by().aggregate(**aggregates)
    return {substance: {level: counts[f"{substance}__{level}"] or 0 for level in RISK_LEVELS}
            for substance in assist.SUBSTANCES}


# Counselling -------------------------------------------------------------------------------------------------

def sessions_held(scope: Scope, period: Period) -> Counter:
    """CO-HELD: {(modality, setting): sessions}. One query."""
    rows = (Session.objects.filter(scope.q("organisation"), during("starts_at", period), status=SessionStatus.HELD)
            .order_by().annotate(setting=setting_of("organisation")).values_list("modality", "setting")
            .annotate(n=Count("pk")))
    return Counter({(modality, setting): n for modality, setting, n in rows})


ATTENDANCES = (Attendance.ATTENDED, Attendance.NO_SHOW, Attendance.CANCELLED)


def attendances(scope: Scope, period: Period) -> Counter:
    """CO-ATT: {(modality, attendance): participants}, recorded attendances only. One query."""
    rows = (Participant.objects.filter(scope.q("session__organisation"), during("starts_at", period),
                                       attendance__in=ATTENDANCES)
            .order_by().values_list("session__modality", "attendance").annotate(n=Count("pk")))
    return Counter({(modality, attendance): n for modality, attendance, n in rows})


def _shifted(days: int):
    return ExpressionWrapper(OuterRef("created_at") + Value(datetime.timedelta(days=days)),
                             output_field=DateTimeField())


def retention(scope: Scope, period: Period) -> dict[str, dict[str, tuple[int, int]]]:
    """RT-M3, RT-M6: {window: {setting: (cohort, retained)}}. One query per window."""
    start, end = period.bounds()
    found = {}
    for window, (first, last) in RETENTION_WINDOWS.items():
        kept = Exists(Participant.objects.filter(client=OuterRef("pk"), attendance=Attendance.ATTENDED,
                                                 starts_at__gte=_shifted(first), starts_at__lt=_shifted(last)))
        cohort = Client.objects.filter(scope.q("organisation"), created_at__gte=start - datetime.timedelta(days=last),
                                       created_at__lt=end - datetime.timedelta(days=last))
        rows = (cohort.order_by().annotate(setting=setting_of("organisation")).values_list("setting")
                .annotate(n=Count("pk"), kept=Count("pk", filter=Q(kept))))
        found[window] = {setting: (n, retained) for setting, n, retained in rows}
    return found


# Plans -------------------------------------------------------------------------------------------------------

# A plan waiting for approval again after a review is not in force; a draft, submitted or approved plan never was.
WAS_IN_FORCE = (PlanStatus.ACTIVE, PlanStatus.UNDER_REVIEW, PlanStatus.COMPLETED, PlanStatus.DISCONTINUED)


def plans(scope: Scope, period: Period) -> dict[str, tuple[int, int, int]]:
    """TP-ACT, TP-CMP, TP-DIS: {setting: (in force at the end, completed, discontinued)}. One query."""
    start, end = period.bounds()
    in_force = (Q(status__in=WAS_IN_FORCE, activated_at__lt=end)
                & (Q(closed_at__isnull=True) | Q(closed_at__gte=end)))
    closed = Q(closed_at__gte=start, closed_at__lt=end)
    rows = (TreatmentPlan.objects.filter(scope.q("organisation")).filter(in_force | closed).order_by()
            .annotate(setting=setting_of("organisation")).values_list("setting")
            .annotate(active=Count("pk", filter=in_force),
                      completed=Count("pk", filter=closed & Q(status=PlanStatus.COMPLETED)),
                      discontinued=Count("pk", filter=closed & Q(status=PlanStatus.DISCONTINUED))))
    return {setting: (active, completed, discontinued) for setting, active, completed, discontinued in rows}


def milestones(scope: Scope, period: Period) -> Counter:
    """RM-ACH: {(domain, setting): milestones achieved}. One query."""
    rows = (Milestone.objects.filter(scope.q("plan__organisation"), on_days("achieved_on", period))
            .order_by().annotate(setting=setting_of("plan__organisation")).values_list("domain", "setting")
            .annotate(n=Count("pk")))
    return Counter({(domain, setting): n for domain, setting, n in rows})


# Referrals ---------------------------------------------------------------------------------------------------

@dataclass
class ServiceCounts:
    sent: int = 0
    accepted: int = 0
    completed: int = 0
    overdue: int = 0
    days: Counter = field(default_factory=Counter)  # days from sending to acceptance: referrals


def overdue_today(today: datetime.date) -> Q:
    """``referrals.selectors.is_overdue`` in SQL: sent, not yet accepted (declined, closed), and its local sending
    date plus the service's target days is before ``today``. In SQL: sent before today's local midnight less the
    target days."""
    cutoff = ExpressionWrapper(
        Value(local_midnight(today), output_field=DateTimeField())
        - ExpressionWrapper(Cast(F("service__target_days"), IntegerField()) * Value(datetime.timedelta(days=1)),
                            output_field=DurationField()),
        output_field=DateTimeField())
    return Q(status=ReferralStatus.SENT, sent_at__lt=cutoff)


def referrals(scope: Scope, period: Period, *, today: datetime.date | None = None) -> dict[str, ServiceCounts]:
    """RF-SENT, RF-ACC, RF-CMP, RF-MED, RF-OVD by service. Three queries: the period's counts, the days to
    acceptance (one row per service and number of days), the overdue today."""
    today = today or timezone.localdate()
    found: dict[str, ServiceCounts] = defaultdict(ServiceCounts)
    sent = Referral.objects.filter(scope.q("from_organisation"), during("sent_at", period))
    for service, n, accepted, completed in (
            sent.order_by().values_list("service__service_type")
            .annotate(n=Count("pk"), accepted=Count("pk", filter=Q(accepted_at__isnull=False)),
                      completed=Count("pk", filter=Q(status=ReferralStatus.COMPLETED)))):
        counts = found[service]
        counts.sent, counts.accepted, counts.completed = n, accepted, completed
    for service, days, n in (
            sent.filter(accepted_at__isnull=False).order_by()
            .annotate(days=DaysBetween(local_day("sent_at"), local_day("accepted_at")))
            .values_list("service__service_type", "days").annotate(n=Count("pk"))):
        found[service].days[days] += n
    for service, n in (Referral.objects.filter(scope.q("from_organisation")).filter(overdue_today(today))
                       .order_by().values_list("service__service_type").annotate(n=Count("pk"))):
        found[service].overdue = n
    return dict(found)


def median(days: Counter) -> float | None:
    """The median of a histogram {value: how many}."""
    total = sum(days.values())
    if not total:
        return None
    middle = [(total - 1) // 2, total // 2]
    values, seen = [], 0
    for value in sorted(days):
        for position in middle:
            if seen <= position < seen + days[value]:
                values.append(value)
        seen += days[value]
    return sum(values) / len(values)


# Prison ------------------------------------------------------------------------------------------------------

def releases(scope: Scope, period: Period) -> dict[str, tuple[int, int, int]]:
    """PR-REL, PR-COC, PR-LNK: {province: (releases, with a continuity-of-care referral, linked)}. One query."""
    from clients.models import CustodyEpisode

    sent_day = local_day("sent_at")
    in_window = (Q(sent_at__isnull=False) & Q(sent_day__gte=OuterRef("admitted_on"))
                 & Q(after_release__lte=RELEASE_WINDOW_DAYS))
    window_referrals = (Referral.objects.filter(client=OuterRef("client_id"))
                        .annotate(sent_day=sent_day, after_release=DaysBetween(OuterRef("released_on"), sent_day))
                        .filter(in_window))
    community_session = (Participant.objects.filter(
        client=OuterRef("client_id"), attendance=Attendance.ATTENDED,
        session__organisation__kind=OrganisationKind.TREATMENT_CENTRE)
        .annotate(after_release=DaysBetween(OuterRef("released_on"), local_day("starts_at")))
        .filter(after_release__gte=0, after_release__lte=RELEASE_WINDOW_DAYS))
    continuity = Exists(window_referrals)
    linked = Exists(community_session) | Exists(window_referrals.filter(
        status__in=[ReferralStatus.ATTENDED, ReferralStatus.COMPLETED]))
    rows = (CustodyEpisode.objects.filter(scope.q("facility"), on_days("released_on", period)).order_by()
            .values_list("facility__province")
            .annotate(n=Count("pk"), continuity=Count("pk", filter=Q(continuity)),
                      linked=Count("pk", filter=Q(linked))))
    return {province: (n, with_referral, with_link) for province, n, with_referral, with_link in rows}


# The HIV cascade ---------------------------------------------------------------------------------------------

KNOWN_STATUSES = (HivStatus.POSITIVE_NOT_ON_ART, HivStatus.POSITIVE_ON_ART)


@dataclass
class CascadeCounts:
    """Clients registered in the period (the cascade's cohort, CL-NEW) and how far they went: ``rows`` of
    (setting, population groups, {step code: clients})."""

    rows: list[tuple[str, tuple, dict[str, int]]] = field(default_factory=list)

    def by_setting(self, step: str) -> Counter:
        found: Counter = Counter()
        for setting, _groups, steps in self.rows:
            found[setting] += steps.get(step, 0)
        return found

    def by_group(self, step: str) -> Counter:
        found: Counter = Counter()
        for _setting, groups, steps in self.rows:
            for group in groups or ():
                found[group] += steps.get(step, 0)
        return found


def cascade(scope: Scope, period: Period) -> CascadeCounts:
    """HIV-KNOWN and HIV-REF (and the outcome steps, see ``cascade_outcome_steps``). One query, plus the outcome
    steps' own."""
    first = Screening.objects.filter(client=OuterRef("pk")).order_by("screened_on", "created_at")
    known = (Q(first_status__in=KNOWN_STATUSES)
             | Q(first_status=HivStatus.NEGATIVE, first_tested__isnull=False,
                 tested_before__lte=KNOWN_NEGATIVE_DAYS, tested_before__gte=0))
    referred = Exists(Referral.objects.filter(client=OuterRef("pk"), sent_at__isnull=False,
                                              sent_at__gte=OuterRef("created_at"),
                                              service__service_type=ServiceType.HIV_TESTING))
    cohort = registered(scope, period)
    rows = (cohort.order_by()
            .annotate(first_status=Subquery(first.values("hiv_status")[:1]),
                      first_tested=Subquery(first.values("hiv_tested_on")[:1]),
                      first_screened=Subquery(first.values("screened_on")[:1]))
            .annotate(tested_before=DaysBetween(F("first_tested"), F("first_screened")),
                      setting=setting_of("registered_by_organisation"))
            .values_list("setting", "population_groups")
            .annotate(cohort=Count("pk"), known=Count("pk", filter=known), referred=Count("pk", filter=Q(referred))))
    counts = CascadeCounts(rows=[(setting, groups, {"CL-NEW": n, "HIV-KNOWN": k, "HIV-REF": r})
                                 for setting, groups, n, k, r in rows])
    outcomes = cascade_outcome_steps(cohort)
    if outcomes is not None:
        merged = {(setting, groups): steps for setting, groups, steps in counts.rows}
        for (setting, groups), steps in outcomes.items():
            merged.setdefault((setting, groups), {}).update(steps)
        counts.rows = [(setting, groups, steps) for (setting, groups), steps in merged.items()]
    return counts


def cascade_outcome_steps(cohort) -> dict[tuple[str, tuple], dict[str, int]]:
    """HIV-TEST, HIV-REACT, HIV-CONF, HIV-ART for the clients of ``cohort`` (the period's registrations, in scope):
    {(setting, population groups): {step code: clients}}, in one query like ``cascade``'s. Each step is an
    ``Exists`` over the client's referrals, as the catalogue defines it: HIV-TEST, a referral for HIV testing with
    a result recorded; HIV-REACT, with a reactive result; HIV-CONF, reactive and confirmed positive; HIV-ART,
    confirmed positive and an ART initiation date recorded on a referral (for HIV testing or for ART)."""
    from referrals.models import ConfirmatoryResult, HivTestResult

    testing = Referral.objects.filter(client=OuterRef("pk"), sent_at__isnull=False,
                                      service__service_type=ServiceType.HIV_TESTING)
    tested = Exists(testing.exclude(hiv_result=""))
    reactive = Exists(testing.filter(hiv_result=HivTestResult.REACTIVE))
    confirmed = Exists(testing.filter(hiv_result=HivTestResult.REACTIVE,
                                      hiv_confirmatory_result=ConfirmatoryResult.POSITIVE))
    on_art = Exists(Referral.objects.filter(client=OuterRef("pk"), sent_at__isnull=False,
                                            art_initiated_on__isnull=False,
                                            service__service_type__in=[ServiceType.HIV_TESTING, ServiceType.ART]))
    rows = (cohort.order_by().annotate(setting=setting_of("registered_by_organisation"))
            .values_list("setting", "population_groups")
            .annotate(tested=Count("pk", filter=Q(tested)), reactive=Count("pk", filter=Q(reactive)),
                      confirmed=Count("pk", filter=Q(confirmed)),
                      on_art=Count("pk", filter=Q(confirmed) & Q(on_art))))
    return {(setting, tuple(groups) if isinstance(groups, list) else groups):
            {"HIV-TEST": t, "HIV-REACT": r, "HIV-CONF": c, "HIV-ART": a}
            for setting, groups, t, r, c, a in rows}


# Trends ------------------------------------------------------------------------------------------------------

def _month_index(field: str, *, moment: bool = True):
    extra = {"tzinfo": _tz()} if moment else {}
    return ExtractYear(field, **extra) * 12 + ExtractMonth(field, **extra) - 1


def month_of_index(index: int) -> datetime.date:
    return datetime.date(index // 12, index % 12 + 1, 1)


def _trend_period(period: Period) -> Period:
    months = period.trend_months()
    return Period.range(months[0], period.end)


def trend_counts(scope: Scope, period: Period) -> dict[str, Counter]:
    """Monthly counts over the twelve months ending with the period's last month: new clients, sessions held and
    referrals sent (one GROUP BY query each), and clients active (one query: distinct clients per month over the
    union of the month's contacts)."""
    span = _trend_period(period)
    found: dict[str, Counter] = {}

    def monthly(queryset, field_name: str) -> Counter:
        rows = (queryset.order_by().annotate(month=_month_index(field_name)).values_list("month")
                .annotate(n=Count("pk")))
        return Counter({month_of_index(int(month)): n for month, n in rows})

    found["CL-NEW"] = monthly(registered(scope, span), "created_at")
    found["CO-HELD"] = monthly(Session.objects.filter(scope.q("organisation"), during("starts_at", span),
                                                      status=SessionStatus.HELD), "starts_at")
    found["RF-SENT"] = monthly(Referral.objects.filter(scope.q("from_organisation"), during("sent_at", span)),
                               "sent_at")
    found["CL-ACT"] = _active_by_month(scope, span)
    return found


def _active_by_month(scope: Scope, span: Period) -> Counter:
    in_scope = scope.q("client__organisation")
    parts = [
        Participant.objects.filter(in_scope, during("starts_at", span), attendance=Attendance.ATTENDED)
        .order_by().annotate(contact_month=_month_index("starts_at")).values("client_id", "contact_month"),
        Screening.objects.filter(in_scope, on_days("screened_on", span))
        .order_by().annotate(contact_month=_month_index("screened_on", moment=False))
        .values("client_id", "contact_month"),
        Referral.objects.filter(in_scope, during("sent_at", span))
        .order_by().annotate(contact_month=_month_index("sent_at")).values("client_id", "contact_month"),
        Client.objects.filter(scope.q("organisation"), during("created_at", span))
        .order_by().annotate(contact_month=_month_index("created_at")).values("id", "contact_month"),
    ]
    union = parts[0].union(*parts[1:], all=True)
    sql, params = union.query.get_compiler(using=union.db).as_sql()
    with connection.cursor() as cursor:
        # The inner SQL is the ORM's, with its parameters kept apart: nothing from a request is spliced in.
        cursor.execute("SELECT contact_month, COUNT(DISTINCT client_id) FROM (" + sql + ") contacts "  # noqa: S608
                       "GROUP BY contact_month", params)
        return Counter({month_of_index(int(month)): n for month, n in cursor.fetchall()})
