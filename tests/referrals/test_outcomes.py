"""Outcomes by service: recorded by the partner in one screen, checked against fixed lists and dates, the ART
facility and number encrypted, the later linkage to ART, and the overdue rule for it."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client as Browser
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from casemgmt.models import AuditEvent
from casemgmt.transitions import ERROR_STATE_CHANGED, TransitionRefused
from casemgmt.versioning import ERROR_CONFLICT
from referrals import selectors, services
from referrals.models import ALL_OUTCOME_FIELDS, Referral, ReferralStatus
from tests.conftest import sign_in
from tests.referrals.factories import attended, partner_service, referral, sent_back, sharing_consent

pytestmark = pytest.mark.django_db

S = ReferralStatus


def days(n: int) -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=n)


@pytest.fixture
def ready(alice, centre_a, partner, priya):
    """An attended referral of ``service_type``, sent ``days_ago`` days ago."""
    def make(service_type="hiv_testing", days_ago=10, **identity):
        return attended(counsellor=alice, organisation=centre_a, partner=partner, officer=priya,
                        service_type=service_type, days_ago=days_ago, **identity)
    return make


def complete(priya, made, outcome="service_provided", feedback="Zqfeedback", **results):
    return services.referral_complete(actor=priya, referral=made, outcome=outcome, feedback=feedback,
                                      results=results)


def stored(made) -> Referral:
    return Referral.objects.select_related("service", "consent").get(pk=made.pk)


def recorded(made) -> dict:
    row = stored(made)
    return {name: getattr(row, name) for name in ALL_OUTCOME_FIELDS if getattr(row, name) not in (None, "")}


# Each service's outcome --------------------------------------------------------------------------------------

@pytest.mark.parametrize("service_type, results", [
    ("hiv_testing", {"hiv_tested_on": days(5), "hiv_result": "non_reactive"}),
    ("hiv_testing", {"hiv_tested_on": days(5), "hiv_result": "reactive", "hiv_confirmatory_result": "positive",
                     "art_initiated_on": days(2), "art_facility": "Zqclinic", "art_number": "ZQART-0042"}),
    ("hiv_testing", {"hiv_tested_on": days(5), "hiv_result": "indeterminate"}),
    ("art", {"art_initiated_on": days(1), "art_facility": "Zqclinic", "art_number": "ZQART-0042"}),
    ("prep", {"prep_started_on": days(3)}),
    ("oat", {"oat_enrolled_on": days(3)}),
    ("tb", {"tb_screened_on": days(6), "tb_result": "diagnosed", "tb_treatment_started_on": days(4)}),
    ("tb", {"tb_screened_on": days(6), "tb_result": "no_tb"}),
    ("hepatitis", {"hepatitis_tested_on": days(6), "hepatitis_result": "hbv_hcv", "hepatitis_treated_on": days(1)}),
    ("legal_aid", {}),
])
def test_each_service_records_its_own_results(ready, priya, service_type, results):
    made = ready(service_type)
    done = complete(priya, made, **results)
    assert done.status == S.COMPLETED
    assert recorded(made) == results
    event = AuditEvent.objects.filter(object_type="referrals.referral", object_id=str(made.pk),
                                      reason="status: attended -> completed").get()
    assert set(event.fields) == {"status", "outcome", "feedback", *results}
    assert "ZQART" not in str(event.reason) and "Zqclinic" not in str(event.reason)


# Refusals: the exact message, nothing saved --------------------------------------------------------------------

TODAY = timezone.localdate()

REFUSED = [
    ("hiv_testing", {"hiv_tested_on": days(2), "hiv_result": "positive"}, {"hiv_result": services.ERROR_NOT_IN_LIST}),
    ("hiv_testing", {"hiv_tested_on": days(-1), "hiv_result": "non_reactive"},
     {"hiv_tested_on": services.ERROR_DATE_IN_FUTURE}),
    ("hiv_testing", {"hiv_tested_on": days(11), "hiv_result": "non_reactive"},
     {"hiv_tested_on": services.ERROR_DATE_BEFORE_SENT % {"date": days(10).isoformat()}}),
    ("hiv_testing", {"hiv_result": "reactive"}, {"hiv_tested_on": services.ERROR_NEEDS_DATE}),
    ("hiv_testing", {"hiv_tested_on": days(2)}, {"hiv_result": services.ERROR_NEEDS_RESULT}),
    ("hiv_testing", {"hiv_tested_on": days(2), "hiv_result": "non_reactive", "hiv_confirmatory_result": "positive"},
     {"hiv_confirmatory_result": services.ERROR_CONFIRMATORY_NEEDS_REACTIVE}),
    ("hiv_testing", {"hiv_tested_on": days(2), "hiv_result": "reactive", "art_initiated_on": days(1)},
     {"art_initiated_on": services.ERROR_ART_NEEDS_CONFIRMED}),
    ("hiv_testing", {"hiv_tested_on": days(2), "hiv_result": "reactive", "hiv_confirmatory_result": "negative",
                     "art_initiated_on": days(1)}, {"art_initiated_on": services.ERROR_ART_NEEDS_CONFIRMED}),
    ("hiv_testing", {"hiv_tested_on": days(2), "hiv_result": "reactive", "hiv_confirmatory_result": "positive",
                     "art_initiated_on": days(3)}, {"art_initiated_on": services.ERROR_BEFORE_TEST}),
    ("art", {"art_number": "ZQART-1"}, {"art_initiated_on": services.ERROR_NEEDS_DATE}),
    ("art", {"art_initiated_on": days(1), "art_number": "Z" * 41},
     {"art_number": "Ensure this value has at most 40 characters (it has 41)."}),
    ("prep", {"prep_started_on": days(-3)}, {"prep_started_on": services.ERROR_DATE_IN_FUTURE}),
    ("prep", {"tb_result": "no_tb"}, {"tb_result": services.ERROR_NOT_FOR_SERVICE}),
    ("legal_aid", {"hiv_tested_on": days(1), "hiv_result": "reactive"},
     {"hiv_tested_on": services.ERROR_NOT_FOR_SERVICE, "hiv_result": services.ERROR_NOT_FOR_SERVICE}),
    ("tb", {"tb_screened_on": days(3), "tb_result": "presumptive", "tb_treatment_started_on": days(2)},
     {"tb_treatment_started_on": services.ERROR_TB_TREATMENT_NEEDS_DIAGNOSIS}),
    ("hepatitis", {"hepatitis_tested_on": days(3), "hepatitis_result": "negative", "hepatitis_treated_on": days(2)},
     {"hepatitis_treated_on": services.ERROR_HEPATITIS_TREATMENT_NEEDS_POSITIVE}),
    ("hepatitis", {"hepatitis_tested_on": days(3), "hepatitis_result": "hiv"},
     {"hepatitis_result": services.ERROR_NOT_IN_LIST}),
]


@pytest.mark.parametrize("service_type, results, errors", REFUSED)
def test_bad_results_are_refused_with_the_message_and_nothing_is_saved(ready, priya, service_type, results, errors):
    made = ready(service_type)
    with pytest.raises(ValidationError) as exc:
        complete(priya, made, **results)
    assert exc.value.message_dict == {name: [str(message)] for name, message in errors.items()}
    row = stored(made)
    assert (row.status, row.outcome, row.feedback, recorded(made)) == (S.ATTENDED, "", "", {})


@pytest.mark.parametrize("end", ["declined", "closed_unresolved", "no_show"])
def test_an_outcome_is_refused_for_a_referral_that_ended(setup, priya, end):
    made = setup["referral"]
    if end == "declined":
        services.referral_decline(actor=priya, referral=made, reason="no_capacity")
    else:
        services.referral_accept(actor=priya, referral=made)
        if end == "no_show":
            services.referral_no_show(actor=priya, referral=made, reason="could_not_contact")
        else:
            services.referral_close_unresolved(actor=priya, referral=made, reason="other")
    with pytest.raises(TransitionRefused) as exc:
        complete(priya, stored(made), hiv_tested_on=TODAY, hiv_result="non_reactive")
    assert exc.value.message == str(ERROR_STATE_CHANGED % {"state": stored(made).get_status_display()})
    assert (stored(made).status, recorded(made)) == (end, {})


# One screen, on the page ---------------------------------------------------------------------------------------

def test_the_partner_records_the_outcome_in_one_screen(client, ready, priya, alice):
    made = ready("hiv_testing")
    sign_in(client, priya)
    page = client.get(reverse("referrals:detail", args=[made.pk])).content.decode()
    for label in ("HIV test date", "HIV test result", "Confirmatory test result", "ART initiated on", "ART number"):
        assert label in page
    assert "TB screening result" not in page  # only the fields of the referral's service
    url = reverse("referrals:act", args=[made.pk])
    data = {"action": "complete", "outcome": "service_provided", "feedback": "Zqfeedback",
            "hiv_tested_on": days(2).isoformat(), "hiv_result": "non_reactive", "hiv_confirmatory_result": "positive"}
    response = client.post(url, data)
    assert response.status_code == 200  # the page again, with what was typed and the reason
    page = response.content.decode()
    assert escape(str(services.ERROR_CONFIRMATORY_NEEDS_REACTIVE)) in page and "Zqfeedback" in page
    assert (stored(made).status, recorded(made)) == (S.ATTENDED, {})
    response = client.post(url, {**data, "hiv_result": "maybe"})
    assert escape(str(services.ERROR_NOT_IN_LIST)) in response.content.decode()
    response = client.post(url, {**data, "hiv_result": "reactive"})
    assert response.status_code == 302
    assert recorded(made) == {"hiv_tested_on": days(2), "hiv_result": "reactive",
                              "hiv_confirmatory_result": "positive"}
    page = client.get(reverse("referrals:detail", args=[made.pk])).content.decode()
    assert "Reactive" in page and "Confirmed positive" in page  # the partner sees what they recorded

    client.logout()
    sign_in(client, alice)  # the sender: the coded outcome and the feedback, on the referral and the client's page
    for url in (reverse("referrals:detail", args=[made.pk]), reverse("clients:detail", args=[made.client_id])):
        page = client.get(url).content.decode()
        assert "HIV test result" in page and "Reactive" in page and "Confirmed positive" in page, url
        assert "Zqfeedback" in page, url


def test_an_art_referral_records_art_without_a_test(ready, priya):
    made = ready("art")
    complete(priya, made, outcome="ongoing", art_initiated_on=days(1), art_facility="Zqclinic")
    assert recorded(made) == {"art_initiated_on": days(1), "art_facility": "Zqclinic"}


# The ART facility and number ---------------------------------------------------------------------------------

def test_the_art_number_is_encrypted_and_shown_only_to_the_partner_who_recorded_it(
        client, ready, priya, alice, other_partner, olga):
    made = ready("hiv_testing")
    complete(priya, made, hiv_tested_on=days(5), hiv_result="reactive", hiv_confirmatory_result="positive",
             art_initiated_on=days(3), art_facility="Zqclinic", art_number="ZQART-0042")
    with connection.cursor() as cursor:
        cursor.execute("SELECT art_facility, art_number, hiv_result FROM referrals_referral WHERE id = %s",
                       [made.pk.hex if connection.vendor == "sqlite" else made.pk])
        facility, number, result = cursor.fetchone()
    assert b"ZQART" not in bytes(number) and b"Zqclinic" not in bytes(facility)
    assert result == "reactive"  # coded, in clear, for the cascade
    # The same client referred on to another partner for ART: that partner never sees the first one's number.
    service = partner_service(organisation=other_partner, service_type="art")
    consent = sharing_consent(counsellor=alice, client=made.client, partner=other_partner)
    onward = referral(counsellor=alice, client=made.client, service=service, consent=consent)
    sign_in(client, olga)
    page = client.get(reverse("referrals:detail", args=[onward.pk])).content.decode()
    assert "ZQART" not in page and "Zqclinic" not in page and "Reactive" not in page
    assert client.get(reverse("referrals:detail", args=[made.pk])).status_code == 404
    sign_in(client, priya)
    page = client.get(reverse("referrals:detail", args=[made.pk])).content.decode()
    assert "ZQART-0042" in page and "Zqclinic" in page
    event = AuditEvent.objects.filter(object_type="referrals.referral", object_id=str(made.pk), action="view",
                                      actor_id=priya.pk).latest("pk")
    assert {"art_facility", "art_number", "feedback"} <= set(event.fields)


@pytest.mark.usefixtures("postgresql_only")
def test_the_art_number_is_not_in_a_database_dump(ready, priya):
    from tests.pgdump import dump_database, shows

    made = ready("art")
    complete(priya, made, art_initiated_on=days(1), art_facility="Zqclinicdump", art_number="ZQARTDUMP-7")
    dump = dump_database()
    assert not shows(dump, "ZQARTDUMP-7") and not shows(dump, "Zqclinicdump")


# Linkage to ART, later -----------------------------------------------------------------------------------------

@pytest.fixture
def reactive(ready, priya):
    """Completed: reactive 16 days ago, no confirmatory result and no ART yet."""
    made = ready("hiv_testing", days_ago=20)
    complete(priya, made, hiv_tested_on=days(16), hiv_result="reactive")
    return stored(made)


def link(priya, made, **values):
    return services.referral_record_linkage(actor=priya, referral=made, expected_version=stored(made).version,
                                            **values)


def test_art_initiated_later_is_recorded_audited_and_ends_the_wait(client, reactive, priya, alice):
    assert selectors.is_awaiting_art(reactive)
    assert list(selectors.awaiting_art(overdue_on=TODAY)) == [reactive]
    sign_in(client, priya)
    page = client.get(reverse("referrals:detail", args=[reactive.pk])).content.decode()
    assert "Linkage to ART" in page and 'value="linkage"' in page
    response = client.post(reverse("referrals:act", args=[reactive.pk]), {
        "action": "linkage", "version": stored(reactive).version, "hiv_confirmatory_result": "positive",
        "art_initiated_on": days(1).isoformat(), "art_facility": "Zqclinic", "art_number": "ZQART-7"})
    assert response.status_code == 302
    assert recorded(reactive) == {"hiv_tested_on": days(16), "hiv_result": "reactive",
                                  "hiv_confirmatory_result": "positive", "art_initiated_on": days(1),
                                  "art_facility": "Zqclinic", "art_number": "ZQART-7"}
    assert stored(reactive).status == S.COMPLETED
    event = AuditEvent.objects.filter(object_type="referrals.referral", reason=services.REASON_LINKAGE).get()
    assert set(event.fields) == {"hiv_confirmatory_result", "art_initiated_on", "art_facility", "art_number"}
    assert event.actor_id == priya.pk
    from casemgmt.audit_texts import describe_all

    describe_all([event], organisation_names={})
    assert event.summary == "Referral: linkage to ART recorded"  # the client's timeline, never a value
    assert not selectors.is_awaiting_art(stored(reactive)) and not selectors.awaiting_art().exists()
    page = client.get(reverse("referrals:detail", args=[reactive.pk])).content.decode()
    assert 'value="linkage"' not in page and "This referral is closed." in page


def test_a_stale_linkage_form_is_a_conflict_and_changes_nothing(reactive, priya, percy):
    shown = stored(reactive).version
    link(percy, reactive, hiv_confirmatory_result="positive")
    priyas = sign_in(Browser(), priya)
    response = priyas.post(reverse("referrals:act", args=[reactive.pk]), {
        "action": "linkage", "version": shown, "art_initiated_on": days(1).isoformat(), "art_number": "ZQART-8"})
    assert response.status_code == 409
    assert escape(str(ERROR_CONFLICT)) in response.content.decode()
    assert "ZQART-8" in response.content.decode()  # what was typed is kept
    assert recorded(reactive).get("art_initiated_on") is None
    assert recorded(reactive)["hiv_confirmatory_result"] == "positive"


@pytest.mark.parametrize("values, errors", [
    ({"hiv_confirmatory_result": "negative", "art_initiated_on": days(1)},
     {"art_initiated_on": services.ERROR_ART_NEEDS_CONFIRMED}),
    ({"hiv_confirmatory_result": "positive", "art_initiated_on": days(21)},
     {"art_initiated_on": services.ERROR_DATE_BEFORE_SENT % {"date": days(20).isoformat()}}),
    ({"hiv_confirmatory_result": "positive", "art_initiated_on": days(17)},
     {"art_initiated_on": services.ERROR_BEFORE_TEST}),
    ({"hiv_confirmatory_result": "positive", "art_initiated_on": days(-2)},
     {"art_initiated_on": services.ERROR_DATE_IN_FUTURE}),
    ({}, {"art_initiated_on": services.ERROR_NOTHING_TO_RECORD}),
    ({"hiv_confirmatory_result": "yes", "art_initiated_on": days(1)},
     {"hiv_confirmatory_result": services.ERROR_NOT_IN_LIST, "art_initiated_on": services.ERROR_ART_NEEDS_CONFIRMED}),
])
def test_a_bad_linkage_is_refused_with_the_message(reactive, priya, values, errors):
    with pytest.raises(ValidationError) as exc:
        link(priya, reactive, **values)
    assert exc.value.message_dict == {name: [str(message)] for name, message in errors.items()}
    assert recorded(reactive) == {"hiv_tested_on": days(16), "hiv_result": "reactive"}


def test_linkage_is_only_for_a_reactive_test_awaiting_art(ready, priya, alice, olga):
    made = ready("hiv_testing")
    complete(priya, made, hiv_tested_on=days(2), hiv_result="non_reactive")
    with pytest.raises(TransitionRefused) as exc:
        link(priya, made, hiv_confirmatory_result="positive", art_initiated_on=days(1))
    assert exc.value.message == str(services.ERROR_NO_LINKAGE_AWAITED)
    for wrong in (alice, olga):
        with pytest.raises(TransitionRefused):
            link(wrong, made, art_initiated_on=days(1))


# Overdue for ART -------------------------------------------------------------------------------------------------

def test_a_reactive_test_without_art_is_overdue_after_14_days(client, reactive, alice, priya, settings):
    note = "ART not started 14 days after a reactive test"
    assert selectors.is_overdue(reactive, today=days(16) + datetime.timedelta(days=15))
    assert not selectors.is_overdue(reactive, today=days(16) + datetime.timedelta(days=14))
    assert selectors.overdue_note(reactive) == note
    sign_in(client, alice)
    home = client.get(reverse("home")).content.decode()
    assert reverse("referrals:detail", args=[reactive.pk]) in home and note in home
    assert note in client.get(reverse("referrals:detail", args=[reactive.pk])).content.decode()
    assert note in client.get(reverse("clients:detail", args=[reactive.client_id])).content.decode()
    settings.REFERRALS_ART_LINKAGE_DAYS = 30
    assert not selectors.is_overdue(reactive)
    assert selectors.overdue_note(reactive) == str(selectors.AWAITING_ART)
    settings.REFERRALS_ART_LINKAGE_DAYS = 14
    link(priya, reactive, hiv_confirmatory_result="positive", art_initiated_on=days(1))
    home = client.get(reverse("home")).content.decode()
    assert reverse("referrals:detail", args=[reactive.pk]) not in home  # the loop is closed


def test_a_negative_confirmation_ends_the_wait_for_art(reactive, priya):
    link(priya, reactive, hiv_confirmatory_result="negative")
    assert not selectors.is_awaiting_art(stored(reactive))
    assert not selectors.is_overdue(stored(reactive))
    assert not selectors.awaiting_art().exists()


def test_the_overdue_rule_in_sql_is_the_one_in_python(ready, reactive, priya, setup, partner, alice):
    from referrals import cascade

    late = sent_back(setup["referral"], days=30)  # not accepted within its 7 days
    quick = sent_back(referral(counsellor=alice, client=setup["client"], consent=setup["sharing_consent"],
                               service=partner_service(organisation=partner, target_days=2)), days=3)
    fresh = ready("hiv_testing", days_ago=1)
    complete(priya, fresh, hiv_tested_on=days(1), hiv_result="reactive")
    rows = Referral.objects.select_related("service").all()
    # Each rule's last day on time and its first day overdue among them.
    for today in (TODAY, days(1), days(2), days(10), days(22), days(23), TODAY + datetime.timedelta(days=30)):
        in_python = {r.pk for r in rows if selectors.is_overdue(r, today=today)}
        in_sql = set(Referral.objects.filter(selectors.overdue_q(today)).values_list("pk", flat=True))
        assert in_sql == in_python, today
    assert {late.pk, quick.pk, reactive.pk} == set(Referral.objects.filter(selectors.overdue_q(TODAY)).values_list(
        "pk", flat=True))
    counted = cascade.STEPS["overdue"].condition(TODAY, selectors.service_codes())
    assert set(Referral.objects.filter(counted).values_list("pk", flat=True)) == {late.pk, quick.pk, reactive.pk}
