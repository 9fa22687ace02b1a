"""PDF documents (the issue's part 6): the client's case summary and the treatment plan, rendered by WeasyPrint
through the pages a counsellor prints from, in English and in Khmer.

The client printed has a full case file: a consent, three screenings, a custody episode, 100 counselling sessions
with encrypted notes (recorded through the counselling service, over the last year), a treatment plan in force
with eight goals and two earlier versions, and a reintegration plan with twelve milestones whose notes are
encrypted. The case summary prints what the client's page shows: the 20 most recent sessions and the open
milestones (README, "Counselling"); the result names the sections printed.

Targets
    case summary PDF of a client with a long history     p95 ≤ 1 s
    treatment plan PDF                                    p95 ≤ 1 s
Printed with each: pages, queries, the share of the time spent in encryption (bench.common.CryptoClock).
"""

from __future__ import annotations

import datetime
import io
import statistics
import time

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from bench.common import Context, CryptoClock, Result, percentile, reference_ms
from casemgmt import crypto

SUITE = "plans"
TARGET_MS = 1000
SESSIONS = 100  # the history is the point: the quick run keeps it, with fewer samples
MILESTONES = 12
NOTE = ("Synthetic note of a follow-up visit: the client attended, spoke about work and family, agreed the next "
        "step with the counsellor and the outreach worker. ") * 2


def _setup():
    from casemgmt import services as platform
    from casemgmt.roles import OrganisationKind, Province, Role
    from clients import services as clients
    from plans import services as plans
    from tests.clients.factories import client_identity, screening_answers
    from tests.factories import member

    centre = platform.organisation_create(name="Bench centre (plans)", kind=OrganisationKind.TREATMENT_CENTRE,
                                          province=Province.PHNOM_PENH)
    prison = platform.organisation_create(name="Bench prison (plans)", kind=OrganisationKind.PRISON_HEALTH_UNIT,
                                          province=Province.KANDAL)
    counsellor = member("bench.plans.counsellor", Role.COUNSELLOR, centre)
    manager = member("bench.plans.manager", Role.CENTRE_MANAGER, centre)
    today = timezone.localdate()
    client = clients.client_register(actor=counsellor, organisation=centre, identity=client_identity(
        given_name="សុខា", family_name="ចាន់"))
    clients.consent_record(actor=counsellor, client=client, kind="treatment", method="signed",
                           given_on=today - datetime.timedelta(days=400))
    for days in (180, 90, 10):
        clients.screening_record(
            actor=counsellor, client=client, screened_on=today - datetime.timedelta(days=days),
            answers=screening_answers(amphetamine={"q1": "yes", "q2": "weekly", "q3": "weekly", "q4": "monthly",
                                                   "q5": "never", "q6": "yes_recent", "q7": "no"}),
            q8="no", intake={"hiv_status": "never_tested", "primary_substance": "amphetamine"})
    clients.custody_admit(actor=counsellor, client=client, facility=prison,
                          admitted_on=today - datetime.timedelta(days=400))
    from counselling import services as counselling

    now = timezone.now()
    for n in range(SESSIONS):
        counselling.session_record(
            actor=counsellor, client=client, starts_at=now - datetime.timedelta(days=3 * (SESSIONS - n), hours=2),
            modality="individual", attendance="attended" if n % 7 else "no_show",
            duration_minutes=45 if n % 7 else None, approach="motivational_interviewing" if n % 7 else "",
            note=NOTE if n % 7 else "", now=now)
    plan = plans.plan_create(actor=counsellor, client=client, review_on=today + datetime.timedelta(days=30))
    domains = ["substance_use", "physical_health", "mental_health", "infectious_disease", "family", "housing",
               "legal", "vocational"]
    for n, domain in enumerate(domains):
        plans.goal_save(actor=counsellor, plan=plan, values={
            "domain": domain, "text": f"កាត់បន្ថយការប្រើប្រាស់ — synthetic goal {n + 1}, written out in a sentence",
            "interventions": "Weekly counselling; referral to the partner clinic (synthetic)",
            "responsible": "Counsellor and client (synthetic)", "target_on": today + datetime.timedelta(days=30 * n),
            "status": "in_progress"})
    for round_ in range(2):
        plan = plans.plan_submit(actor=counsellor, plan=plan)
        plans.plan_send_back(actor=manager, plan=plan, seen_revision=plan.revision, comments=f"Synthetic {round_}")
        plans.goal_save(actor=counsellor, plan=plan, values={"domain": "family", "text": f"Synthetic extra {round_}",
                                                             "status": "not_started"})
    plan = plans.plan_submit(actor=counsellor, plan=plan)
    plans.plan_activate(actor=counsellor, plan=plans.plan_approve(actor=manager, plan=plan, seen_revision=3))
    reintegration = plans.reintegration_open(actor=counsellor, client=client, summary="Synthetic summary")
    kinds = ["housing", "employment", "education", "family", "legal", "health"]
    for n in range(MILESTONES):
        plans.milestone_save(actor=counsellor, plan=reintegration, values={
            "domain": kinds[n % len(kinds)], "description": f"Synthetic milestone {n + 1}", "notes": NOTE,
            "target_on": today + datetime.timedelta(days=n), "achieved_on": None})
    return counsellor, client, plan


def _pages(content: bytes) -> int | None:
    try:
        from pypdf import PdfReader
    except ImportError:
        return None
    return len(PdfReader(io.BytesIO(content)).pages)


def _measure(name: str, browser, url: str, params: dict, runs: int, note: str) -> Result:
    browser.get(url, params)  # warm: templates compiled, fonts loaded
    reference = reference_ms()
    times, queries, shares, pages = [], [], [], None
    for _ in range(runs):
        crypto.data_key_cache.clear()
        with CaptureQueriesContext(connection) as captured, CryptoClock() as clock:
            started = time.perf_counter()
            response = browser.get(url, params)
            elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf", response.status_code
        times.append(elapsed)
        queries.append(len(captured))
        shares.append(clock.ms / elapsed)
        pages = pages or _pages(response.content)
    p95 = percentile(times, 95)
    return Result(SUITE, name, "ms", median=statistics.median(times), p95=p95, target=f"p95 ≤ {TARGET_MS} ms",
                  met=p95 <= TARGET_MS,
                  note=f"{pages or '?'} pages; {min(queries)}–{max(queries)} queries; encryption "
                       f"{statistics.median(shares):.1%} of the time; {note}; reference workload {reference:.1f} ms "
                       f"before, {reference_ms():.1f} ms after (about 11 ms on a calm machine)")


def run(context: Context) -> list[Result]:
    from bench.clients import _browser
    from clients.sections import case_file_sections

    runs = 3 if context.quick else 12
    started = time.perf_counter()
    counsellor, client, plan = _setup()
    print(f"  set up a client with a long history in {time.perf_counter() - started:.1f} s "
          f"(reference workload {reference_ms():.1f} ms)", flush=True)
    sections = [s.get("name", s["pdf_template"]) for s in case_file_sections(user=counsellor, client=client,
                                                                            for_pdf=True)]
    registered = ", ".join(sections) or "none"
    sessions = any("counselling" in name for name in sections)
    history = (f"{SESSIONS} sessions, {MILESTONES} milestones; sections printed: {registered}"
               + ("" if sessions else " (the counselling app is not installed: no session printed)"))
    browser = _browser(counsellor)
    results = []
    for language in ("en", "km"):
        results.append(_measure(f"case summary PDF ({language})", browser,
                                reverse("clients:case_summary_pdf", args=[client.pk]), {"language": language}, runs,
                                history))
        results.append(_measure(f"treatment plan PDF ({language})", browser,
                                reverse("plans:treatment_pdf", args=[plan.pk]), {"language": language}, runs,
                                "8 goals in force, 3 versions"))
    for r in results:
        print(f"  {r.name}: median {r.median:.0f} p95 {r.p95:.0f} ms {'met' if r.met else 'NOT MET'}; {r.note}",
              flush=True)
    return results
