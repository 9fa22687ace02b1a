"""The indicator catalogue: every figure the Ministry reports publish, with one written definition.

Data, not prose: the definitions page, every table's and chart's link to its definition (``anchor``), the PDF's
definitions and the computations (``reports.indicators``) all read this. Each indicator says what it counts (the
records), which date places a record in a period, at which organisation a record is counted (the scope, the
province and the setting follow that organisation), its numerator and denominator, and its disaggregations.

Words used in the definitions:

- **period**: the local (Asia/Phnom_Penh) days from its first to its last day, both included; a period that has
  not ended yet runs to today.
- **contact**: in the period, the client was registered, was screened with the ASSIST, attended a counselling
  session (individual, group, family, phone or outreach; attended, not only scheduled), or was referred to a
  partner service (the referral sent). A missed or cancelled session, a scheduled appointment, a consent or an
  edit of the record is not a contact.
- **intake**: the client's registration (the moment the record was made).
- **age band**: the age the client reaches in the year the period ends (that year less the birth year; the
  registry keeps the birth year in clear, the date of birth only encrypted, which statistics never open):
  under 15, 15–19, 20–24, 25–49, 50 and over.
- **setting**: community (the organisation is a treatment centre) or prison (a prison health unit).
- **province**: the province of the organisation the record is counted at (not the client's home province).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

# Disaggregations -------------------------------------------------------------------------------------------

SEX = "sex"
AGE_BAND = "age_band"
PROVINCE = "province"
POPULATION_GROUP = "population_group"
SETTING = "setting"
SUBSTANCE = "substance"
RISK_LEVEL = "risk_level"
MODALITY = "modality"
ATTENDANCE = "attendance"
DOMAIN = "domain"
SERVICE = "service"

DIMENSION_LABELS: dict[str, Promise] = {
    SEX: _("sex"),
    AGE_BAND: _("age band"),
    PROVINCE: _("province"),
    POPULATION_GROUP: _("population group"),
    SETTING: _("setting"),
    SUBSTANCE: _("substance"),
    RISK_LEVEL: _("risk level"),
    MODALITY: _("modality"),
    ATTENDANCE: _("attendance"),
    DOMAIN: _("domain"),
    SERVICE: _("service"),
}

AGE_BANDS: list[tuple[str, Promise, int, int | None]] = [
    # code, label, lowest age, highest age (None: no upper limit)
    ("lt15", _("under 15"), 0, 14),
    ("15_19", _("15–19"), 15, 19),
    ("20_24", _("20–24"), 20, 24),
    ("25_49", _("25–49"), 25, 49),
    ("50plus", _("50 and over"), 50, None),
]

COMMUNITY = "community"
PRISON = "prison"
SETTINGS: list[tuple[str, Promise]] = [(COMMUNITY, _("Community (treatment centre)")),
                                       (PRISON, _("Prison (prison health unit)"))]

# Who a record is counted at --------------------------------------------------------------------------------

AT_CLIENT = _("the organisation that holds the client's record today (a client transferred from a prison unit "
              "to a centre is counted at the centre, for past periods too)")
AT_REGISTRATION = _("the organisation that registered the client")
AT_SESSION = _("the centre where the session was held")
AT_PLAN = _("the organisation of the plan")
AT_SENDER = _("the organisation that sent the referral")
AT_FACILITY = _("the prison health unit of the custody episode")


@dataclass(frozen=True)
class Indicator:
    code: str
    name: Promise
    definition: Promise
    counts: Promise  # the records it counts
    period_date: Promise  # the date that places a record in a period
    counted_at: Promise
    numerator: Promise
    denominator: Promise | None = None
    disaggregations: tuple[str, ...] = ()
    kind: str = "count"  # count, rate (a percentage), median (days)
    # False: the records it counts are not kept by this version (the HIV test outcomes): defined, not computed.
    available: bool = True

    @property
    def anchor(self) -> str:
        return f"indicator-{self.code.lower()}"

    @property
    def disaggregation_labels(self) -> list[str]:
        return [str(DIMENSION_LABELS[code]) for code in self.disaggregations]


CLIENT_BREAKDOWN = (SEX, AGE_BAND, PROVINCE, POPULATION_GROUP, SETTING)

INDICATORS: tuple[Indicator, ...] = (
    # Clients ----------------------------------------------------------------------------------------------
    Indicator(
        code="CL-NEW", name=_("Clients newly registered"),
        definition=_("Clients whose record was registered in the period: each client once, at intake."),
        counts=_("client records"), period_date=_("the date of registration (intake)"), counted_at=AT_REGISTRATION,
        numerator=_("clients registered in the period"), disaggregations=CLIENT_BREAKDOWN),
    Indicator(
        code="CL-ACT", name=_("Clients active"),
        definition=_("Clients with at least one contact in the period: registered, screened with the ASSIST, "
                     "attended a counselling session, or referred to a partner service (the referral sent). A "
                     "missed or cancelled session, an appointment, a consent or an edit of the record is not a "
                     "contact. Each client is counted once, however many contacts."),
        counts=_("client records"),
        period_date=_("the date of each contact (registration, screening, session attended, referral sent)"),
        counted_at=AT_CLIENT, numerator=_("clients with a contact in the period"),
        disaggregations=CLIENT_BREAKDOWN),
    # Screening --------------------------------------------------------------------------------------------
    Indicator(
        code="AS-SCR", name=_("Clients screened with the ASSIST"),
        definition=_("Clients with at least one WHO ASSIST v3.0 screening in the period, each counted once."),
        counts=_("ASSIST screenings"), period_date=_("the date of the screening"), counted_at=AT_CLIENT,
        numerator=_("clients screened in the period"), disaggregations=(SETTING,)),
    Indicator(
        code="AS-RISK", name=_("ASSIST screenings by substance and risk level"),
        definition=_("Screenings in the period, for each substance the client has ever used (ASSIST question 1), "
                     "by the risk level of that substance's involvement score (alcohol: 0–10 low, 11–26 "
                     "moderate, 27 and over high; other substances: 0–3, 4–26, 27 and over). A screening counts "
                     "once for each substance used; a client screened twice counts twice."),
        counts=_("ASSIST screenings"), period_date=_("the date of the screening"), counted_at=AT_CLIENT,
        numerator=_("screenings in the period in which the substance was ever used, by its risk level"),
        disaggregations=(SUBSTANCE, RISK_LEVEL)),
    Indicator(
        code="AS-INJ", name=_("Clients who inject"),
        definition=_("Of the clients screened in the period, those who injected drugs in the past three months "
                     "(ASSIST question 8) or gave injecting as their route of use, at any screening in the "
                     "period."),
        counts=_("ASSIST screenings"), period_date=_("the date of the screening"), counted_at=AT_CLIENT,
        numerator=_("clients screened in the period who inject"),
        denominator=_("clients screened in the period (AS-SCR)"), disaggregations=(SETTING,)),
    # Counselling ------------------------------------------------------------------------------------------
    Indicator(
        code="CO-HELD", name=_("Counselling sessions delivered"),
        definition=_("Counselling sessions held in the period (at least one participant attended): a group "
                     "session counts once."),
        counts=_("counselling sessions"), period_date=_("the session's date"), counted_at=AT_SESSION,
        numerator=_("sessions held in the period"), disaggregations=(MODALITY, SETTING)),
    Indicator(
        code="CO-ATT", name=_("Counselling sessions attended"),
        definition=_("Attendances: each client who attended a session in the period counts once for that session "
                     "(a group session of six attended by five counts five). The attendance rate divides them by "
                     "every recorded attendance (attended, missed or cancelled)."),
        counts=_("session participants"), period_date=_("the session's date"), counted_at=AT_SESSION,
        numerator=_("participants who attended, in sessions of the period"),
        denominator=_("participants with a recorded attendance (attended, missed, cancelled)"),
        disaggregations=(MODALITY, ATTENDANCE)),
    Indicator(
        code="RT-M3", name=_("Retention in the third month"),
        definition=_("Of the clients whose third month after intake ended in the period, those who attended a "
                     "counselling session in that month. The third month after intake is the 30 days from day 61 "
                     "to day 90 after registration."),
        counts=_("client records and their session participations"),
        period_date=_("the last day of the client's third month after intake"), counted_at=AT_CLIENT,
        numerator=_("clients with an attended session on days 61–90 after intake"),
        denominator=_("clients whose day 90 after intake fell in the period"), disaggregations=(SETTING,),
        kind="rate"),
    Indicator(
        code="RT-M6", name=_("Retention in the sixth month"),
        definition=_("Of the clients whose sixth month after intake ended in the period, those who attended a "
                     "counselling session in that month: the 30 days from day 151 to day 180 after "
                     "registration."),
        counts=_("client records and their session participations"),
        period_date=_("the last day of the client's sixth month after intake"), counted_at=AT_CLIENT,
        numerator=_("clients with an attended session on days 151–180 after intake"),
        denominator=_("clients whose day 180 after intake fell in the period"), disaggregations=(SETTING,),
        kind="rate"),
    # Plans ------------------------------------------------------------------------------------------------
    Indicator(
        code="TP-ACT", name=_("Treatment plans active"),
        definition=_("Treatment plans in force (active or under review) on the last day of the period: made "
                     "active on or before that day and not completed or discontinued by then."),
        counts=_("treatment plans"), period_date=_("the period's last day (plans in force on it)"),
        counted_at=AT_PLAN, numerator=_("plans in force on the period's last day"), disaggregations=(SETTING,)),
    Indicator(
        code="TP-CMP", name=_("Treatment plans completed"),
        definition=_("Treatment plans closed as completed in the period."),
        counts=_("treatment plans"), period_date=_("the date the plan was closed"), counted_at=AT_PLAN,
        numerator=_("plans completed in the period"), disaggregations=(SETTING,)),
    Indicator(
        code="TP-DIS", name=_("Treatment plans discontinued"),
        definition=_("Treatment plans closed as discontinued in the period."),
        counts=_("treatment plans"), period_date=_("the date the plan was closed"), counted_at=AT_PLAN,
        numerator=_("plans discontinued in the period"), disaggregations=(SETTING,)),
    Indicator(
        code="RM-ACH", name=_("Reintegration milestones achieved"),
        definition=_("Milestones of reintegration plans achieved in the period (housing, employment, education, "
                     "family, legal, health follow-up)."),
        counts=_("reintegration milestones"), period_date=_("the date the milestone was achieved"),
        counted_at=AT_PLAN, numerator=_("milestones achieved in the period"), disaggregations=(DOMAIN, SETTING)),
    # Referrals --------------------------------------------------------------------------------------------
    Indicator(
        code="RF-SENT", name=_("Referrals sent"),
        definition=_("Referrals to partner services sent in the period (drafts are not counted)."),
        counts=_("referrals"), period_date=_("the date the referral was sent"), counted_at=AT_SENDER,
        numerator=_("referrals sent in the period"), disaggregations=(SERVICE,)),
    Indicator(
        code="RF-ACC", name=_("Referrals accepted"),
        definition=_("Of the referrals sent in the period, those the partner accepted, whatever happened next."),
        counts=_("referrals"), period_date=_("the date the referral was sent"), counted_at=AT_SENDER,
        numerator=_("referrals sent in the period and accepted"), disaggregations=(SERVICE,)),
    Indicator(
        code="RF-CMP", name=_("Referrals completed"),
        definition=_("Of the referrals sent in the period, those the partner completed with an outcome. The "
                     "closed-loop rate (RF-CLR) divides them by the referrals sent."),
        counts=_("referrals"), period_date=_("the date the referral was sent"), counted_at=AT_SENDER,
        numerator=_("referrals sent in the period and completed"), disaggregations=(SERVICE,)),
    Indicator(
        code="RF-CLR", name=_("Closed-loop rate"),
        definition=_("The share of the referrals sent in the period that the partner completed with an outcome."),
        counts=_("referrals"), period_date=_("the date the referral was sent"), counted_at=AT_SENDER,
        numerator=_("referrals sent in the period and completed (RF-CMP)"),
        denominator=_("referrals sent in the period (RF-SENT)"), disaggregations=(SERVICE,), kind="rate"),
    Indicator(
        code="RF-MED", name=_("Median days to acceptance"),
        definition=_("For the referrals sent in the period and accepted, the median number of days from sending "
                     "to acceptance, counted in local dates (accepted the day it was sent: 0)."),
        counts=_("referrals"), period_date=_("the date the referral was sent"), counted_at=AT_SENDER,
        numerator=_("days from sending to acceptance, median"),
        denominator=_("referrals sent in the period and accepted (RF-ACC)"), disaggregations=(SERVICE,),
        kind="median"),
    Indicator(
        code="RF-OVD", name=_("Referrals overdue"),
        definition=_("Referrals waiting for the partner's acceptance past the service's target number of days, on "
                     "the day the report is made, whatever the day they were sent: sent, not accepted, declined or "
                     "closed, and the sending date plus the target days is before today."),
        counts=_("referrals"), period_date=_("the day the report is made (a count of today, not of the period)"),
        counted_at=AT_SENDER, numerator=_("referrals overdue today"), disaggregations=(SERVICE,)),
    # Prison -----------------------------------------------------------------------------------------------
    Indicator(
        code="PR-REL", name=_("Prison releases"),
        definition=_("Custody episodes at a prison health unit that ended with a release in the period."),
        counts=_("custody episodes"), period_date=_("the release date"), counted_at=AT_FACILITY,
        numerator=_("releases in the period"), disaggregations=(PROVINCE,)),
    Indicator(
        code="PR-COC", name=_("Releases with a continuity-of-care referral"),
        definition=_("Of the releases in the period, those of clients with a referral to a partner service sent "
                     "during the custody episode (on or after the admission) or within 30 days after the "
                     "release."),
        counts=_("custody episodes and referrals"), period_date=_("the release date"), counted_at=AT_FACILITY,
        numerator=_("releases with such a referral"), denominator=_("releases in the period (PR-REL)"),
        disaggregations=(PROVINCE,)),
    Indicator(
        code="PR-LNK", name=_("Linkage to community care within 30 days of release"),
        definition=_("Of the releases in the period, those of clients who, within 30 days after the release, "
                     "attended a counselling session at a community treatment centre, or whose referral sent "
                     "between the admission and 30 days after the release was recorded by the partner as attended "
                     "or completed."),
        counts=_("custody episodes, session participations and referrals"), period_date=_("the release date"),
        counted_at=AT_FACILITY, numerator=_("releases followed by such a contact"),
        denominator=_("releases in the period (PR-REL)"), disaggregations=(PROVINCE,)),
    # HIV cascade ------------------------------------------------------------------------------------------
    Indicator(
        code="HIV-KNOWN", name=_("Known HIV status at intake"),
        definition=_("Of the clients registered in the period (CL-NEW), those whose first ASSIST screening "
                     "recorded a known HIV status: living with HIV (on treatment or not), or negative with a test "
                     "in the twelve months before that screening."),
        counts=_("client records and their first screening"), period_date=_("the date of registration (intake)"),
        counted_at=AT_REGISTRATION, numerator=_("clients registered in the period with a known status at intake"),
        denominator=_("clients registered in the period (CL-NEW)"), disaggregations=(POPULATION_GROUP, SETTING)),
    Indicator(
        code="HIV-REF", name=_("Referred for HIV testing"),
        definition=_("Of the clients registered in the period, those with a referral to an HIV testing service "
                     "sent since their intake (up to the day the report is made)."),
        counts=_("client records and their referrals"), period_date=_("the date of registration (intake)"),
        counted_at=AT_REGISTRATION, numerator=_("clients registered in the period referred for HIV testing"),
        denominator=_("clients registered in the period (CL-NEW)"), disaggregations=(POPULATION_GROUP, SETTING)),
    Indicator(
        code="HIV-TEST", name=_("Tested for HIV"),
        definition=_("Of the clients registered in the period, those with an HIV test result recorded by the "
                     "partner on a referral for HIV testing (non-reactive, reactive or indeterminate)."),
        counts=_("client records and the outcomes of their referrals"),
        period_date=_("the date of registration (intake)"), counted_at=AT_REGISTRATION,
        numerator=_("clients registered in the period with a test result"),
        denominator=_("clients registered in the period (CL-NEW)"), disaggregations=(POPULATION_GROUP, SETTING)),
    Indicator(
        code="HIV-REACT", name=_("Reactive HIV test"),
        definition=_("Of the clients registered in the period, those with a reactive HIV test result recorded on "
                     "a referral for HIV testing."),
        counts=_("client records and the outcomes of their referrals"),
        period_date=_("the date of registration (intake)"), counted_at=AT_REGISTRATION,
        numerator=_("clients registered in the period with a reactive test"),
        denominator=_("clients registered in the period with a test result (HIV-TEST)"),
        disaggregations=(POPULATION_GROUP, SETTING)),
    Indicator(
        code="HIV-CONF", name=_("HIV confirmed positive"),
        definition=_("Of the clients with a reactive test, those whose confirmatory result is positive."),
        counts=_("client records and the outcomes of their referrals"),
        period_date=_("the date of registration (intake)"), counted_at=AT_REGISTRATION,
        numerator=_("clients registered in the period confirmed positive"),
        denominator=_("clients registered in the period with a reactive test (HIV-REACT)"),
        disaggregations=(POPULATION_GROUP, SETTING)),
    Indicator(
        code="HIV-ART", name=_("Initiated on ART"),
        definition=_("Of the clients confirmed positive, those with an ART initiation date recorded on a referral "
                     "(for HIV testing or for ART)."),
        counts=_("client records and the outcomes of their referrals"),
        period_date=_("the date of registration (intake)"), counted_at=AT_REGISTRATION,
        numerator=_("clients registered in the period initiated on ART"),
        denominator=_("clients registered in the period confirmed positive (HIV-CONF)"),
        disaggregations=(POPULATION_GROUP, SETTING)),
)

BY_CODE: dict[str, Indicator] = {indicator.code: indicator for indicator in INDICATORS}

# The steps of the HIV cascade, in order (the first is its cohort, CL-NEW).
CASCADE_STEPS = ("HIV-KNOWN", "HIV-REF", "HIV-TEST", "HIV-REACT", "HIV-CONF", "HIV-ART")

SECTIONS: list[tuple[Promise, tuple[str, ...]]] = [
    (_("Clients"), ("CL-NEW", "CL-ACT")),
    (_("Screening"), ("AS-SCR", "AS-RISK", "AS-INJ")),
    (_("Counselling and retention"), ("CO-HELD", "CO-ATT", "RT-M3", "RT-M6")),
    (_("Treatment and reintegration plans"), ("TP-ACT", "TP-CMP", "TP-DIS", "RM-ACH")),
    (_("Referrals"), ("RF-SENT", "RF-ACC", "RF-CMP", "RF-CLR", "RF-MED", "RF-OVD")),
    (_("Prison and release"), ("PR-REL", "PR-COC", "PR-LNK")),
    (_("HIV cascade"), CASCADE_STEPS),
]

UNAVAILABLE = _("Not computed in this version: the HIV test outcomes that this figure counts are not recorded yet.")


def indicator(code: str) -> Indicator:
    return BY_CODE[code]
