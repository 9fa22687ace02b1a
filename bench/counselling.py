"""Counselling at scale: a million clients (the clients suite's seeding, reused) and five million counselling
sessions, then the three pages counsellors and managers open all day.

Seeding (``--sessions N``, default 5 per client; ``--quick``: 20,000 clients, 100,000 sessions)
    After ``bench.clients.seed``: per batch of 2,000 clients (two processes), their data keys read in one
    query, then sessions over the last two years and the next two weeks: 95% with one client (attended 80%,
    no-show 12%, cancelled 8%; scheduled ahead), 5% group sessions of five clients of one counsellor. Each
    participant's note (60% of those who attended: 150 to 400 characters; otherwise empty) is encrypted under
    that client's key by the field's ``pre_save`` in ``bulk_create``. No-shows get their follow-up task (done
    when older than 30 days), 2% of clients a risk flag (half resolved, with an encrypted resolution note).
    The measured counsellors get appointments today and in the next days; one of their clients gets 200
    sessions. Then VACUUM ANALYZE and a CHECKPOINT.

Measured with the data-key cache cleared before each request (every key read from the database), with the
clients suite's ``_measure``: query counts and the share of the time spent in encryption for each page.

Targets (on PostgreSQL)
    counsellor home (appointments, follow-up, clients not seen, open flags)        p95 ≤ 80 ms
    manager dashboard of a 50,000-client centre (caseloads, flags, this month)     p95 ≤ 200 ms
    client page of a client with 200 sessions                                       p95 ≤ 80 ms
    encryption                                                                      ≤ 10% of each page's time
"""

from __future__ import annotations

import datetime
import multiprocessing
import os
import random
import time
import traceback
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, connections, transaction
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from bench import clients as clients_bench
from bench.common import Context, Result, peak_rss_mib, reference_ms
from casemgmt import crypto
from clients.models import Client, ClientStatus
from counselling import dates
from counselling.models import (
    Approach,
    Attendance,
    FlagStatus,
    FollowUpTask,
    Modality,
    Participant,
    RiskFlag,
    RiskKind,
    Session,
    SessionStatus,
    TaskReason,
    TaskStatus,
)

SUITE = "counselling"
SESSIONS_PER_CLIENT = 5
QUICK_CLIENTS = 20_000
QUICK_SESSIONS = 100_000
BATCH = 2_000
GROUP_SHARE = 0.05
GROUP_SIZE = 5
HISTORY_DAYS = 730
AHEAD_DAYS = 14
FLAG_SHARE = 0.02
BIG_FILE = 200  # sessions of the client whose page is measured
SEED = 20_261_201

HOME_TARGET_MS = 80
DASHBOARD_TARGET_MS = 200
CLIENT_PAGE_TARGET_MS = 80

WORDS = ("work sleep family cravings market friends school debts mother brother money plan week goals relapse "
         "trigger diary village motorbike health clinic test treatment sister job training hope worry calm").split()
APPROACHES = list(Approach.values)
ONE_CLIENT = [Modality.INDIVIDUAL] * 7 + [Modality.PHONE, Modality.FAMILY, Modality.OUTREACH]


@dataclass
class Plan:
    kek_id: str
    now: datetime.datetime
    sessions_per_client: float
    counsellor_of_centre: dict  # centre id -> a counsellor id, for clients waiting for one


_PLAN: Plan | None = None


def _note(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randrange(25, 65))]
    return "Synthetic note: " + " ".join(words) + "."


def _sessions_for(rng: random.Random, *, centre_id, counsellor_id, clients: list, starts: list, plan: Plan,
                  out: dict) -> None:
    """One session with ``clients`` (one, or a group) at each of ``starts``, into ``out``'s lists."""
    make = clients_bench._make
    group = len(clients) > 1
    for starts_at in starts:
        session_id = uuid.UUID(int=rng.getrandbits(128), version=4)
        ahead = starts_at > plan.now
        attendances = []
        for client_id in clients:
            draw = rng.random()
            attendance = (Attendance.SCHEDULED if ahead else Attendance.ATTENDED if draw < 0.8
                          else Attendance.NO_SHOW if draw < 0.92 else Attendance.CANCELLED)
            attendances.append(attendance)
            participant_id = uuid.UUID(int=rng.getrandbits(128), version=4)
            recorded = attendance != Attendance.SCHEDULED
            note = _note(rng) if attendance == Attendance.ATTENDED and rng.random() < 0.6 else ""
            out["participants"].append(make(
                Participant, id=participant_id, session_id=session_id, client_id=client_id, starts_at=starts_at,
                attendance=attendance, note=note, recorded_by_id=counsellor_id if recorded else None,
                recorded_at=starts_at + datetime.timedelta(hours=1) if recorded else None))
            if attendance == Attendance.NO_SHOW:
                due = dates.local_date(starts_at) + datetime.timedelta(days=dates.FOLLOW_UP_DAYS)
                done = starts_at < plan.now - datetime.timedelta(days=30)
                out["tasks"].append(make(
                    FollowUpTask, id=uuid.UUID(int=rng.getrandbits(128), version=4), client_id=client_id,
                    participant_id=participant_id, reason=TaskReason.MISSED_APPOINTMENT, due_on=due,
                    status=TaskStatus.DONE if done else TaskStatus.OPEN, created_at=starts_at,
                    done_at=starts_at + datetime.timedelta(days=2) if done else None,
                    done_by_id=counsellor_id if done else None))
        held = Attendance.ATTENDED in attendances
        status = (SessionStatus.SCHEDULED if ahead else SessionStatus.HELD if held else SessionStatus.NOT_HELD)
        out["sessions"].append(make(
            Session, id=session_id, organisation_id=centre_id, counsellor_id=counsellor_id, starts_at=starts_at,
            duration_minutes=(90 if group else rng.choice((30, 45, 45, 60))) if held or ahead else None,
            modality=Modality.GROUP if group else rng.choice(ONE_CLIENT),
            approach=rng.choice(APPROACHES) if held or ahead else "", status=status, created_by_id=counsellor_id,
            created_at=min(starts_at, plan.now)))


def _when(rng: random.Random, plan: Plan) -> datetime.datetime:
    """A time in the last two years or, for a few, the next two weeks, in working hours."""
    if rng.random() < 0.03:
        day = dates.today(plan.now) + datetime.timedelta(days=rng.randrange(1, AHEAD_DAYS))
    else:
        day = dates.today(plan.now) - datetime.timedelta(days=rng.randrange(1, HISTORY_DAYS))
    return dates.day_start(day) + datetime.timedelta(hours=rng.randrange(8, 17), minutes=rng.choice((0, 30)))


def _seed_batch(task: tuple[int, object, list]) -> tuple[int, int]:
    """Sessions, participants, follow-up tasks and flags for one batch of clients, in one transaction."""
    batch, centre_id, rows = task
    plan = _PLAN
    rng = random.Random(SEED * 1_000_003 + batch)
    crypto.load_data_keys(client_id for client_id, _counsellor in rows)  # one query; notes encrypt from the cache
    out = {"sessions": [], "participants": [], "tasks": [], "flags": []}
    mean = plan.sessions_per_client * (1 - GROUP_SHARE)
    by_counsellor: dict = {}
    for client_id, counsellor_id in rows:
        counsellor_id = counsellor_id or plan.counsellor_of_centre[centre_id]
        by_counsellor.setdefault(counsellor_id, []).append(client_id)
        count = rng.randrange(0, round(2 * mean) + 1)
        _sessions_for(rng, centre_id=centre_id, counsellor_id=counsellor_id, clients=[client_id],
                      starts=[_when(rng, plan) for _ in range(count)], plan=plan, out=out)
        if rng.random() < FLAG_SHARE:
            resolved = rng.random() < 0.5
            raised = _when(rng, plan)
            raised = min(raised, plan.now)
            out["flags"].append(clients_bench._make(
                RiskFlag, id=uuid.UUID(int=rng.getrandbits(128), version=4), client_id=client_id,
                organisation_id=centre_id, kind=rng.choice(RiskKind.values),
                status=FlagStatus.RESOLVED if resolved else FlagStatus.OPEN, participant_id=None, raised_at=raised,
                raised_by_id=counsellor_id, resolved_at=raised + datetime.timedelta(days=3) if resolved else None,
                resolved_by_id=counsellor_id if resolved else None,
                resolution_note="Synthetic resolution: safety plan agreed." if resolved else ""))
    groups = round(len(rows) * plan.sessions_per_client * GROUP_SHARE)
    # A group is run by a counsellor with clients of their own caseload.
    caseloads = [(c, ids) for c, ids in by_counsellor.items() if len(ids) >= GROUP_SIZE] or [
        (plan.counsellor_of_centre[centre_id], [client_id for client_id, _c in rows][:GROUP_SIZE])]
    for _ in range(groups):
        counsellor_id, ids = rng.choice(caseloads)
        _sessions_for(rng, centre_id=centre_id, counsellor_id=counsellor_id,
                      clients=rng.sample(ids, min(GROUP_SIZE, len(ids))), starts=[_when(rng, plan)], plan=plan,
                      out=out)
    with transaction.atomic():
        Session.objects.bulk_create(out["sessions"], batch_size=5_000)
        Participant.objects.bulk_create(out["participants"], batch_size=5_000)  # pre_save encrypts each note
        FollowUpTask.objects.bulk_create(out["tasks"], batch_size=5_000)
        RiskFlag.objects.bulk_create(out["flags"], batch_size=5_000)
    return len(out["sessions"]), len(out["participants"])


def _worker_init() -> None:
    crypto.data_key_cache.clear()


@dataclass
class Seeded:
    clients: clients_bench.Seeded
    sessions: int
    participants: int
    seconds: float
    vacuum_seconds: float
    big_client: uuid.UUID
    big_counsellor: object
    workers: int


def seed(context: Context, clients: int, sessions: int) -> Seeded:
    global _PLAN
    seeded_clients = context.options.get("seeded_clients")
    if seeded_clients is None:  # the clients suite did not run first in this process: seed them now
        with override_settings(CASEMGMT_DATA_KEY_CACHE_SIZE=max(settings.CASEMGMT_DATA_KEY_CACHE_SIZE, 2 * BATCH)):
            seeded_clients = clients_bench.seed(clients)
        crypto.reset_keyring()
        context.options["seeded_clients"] = seeded_clients  # and the referrals suite's, when it runs next
    now = timezone.now()
    centres = seeded_clients.plan.centres
    _PLAN = Plan(kek_id=crypto.keyring().active_kek, now=now, sessions_per_client=sessions / clients,
                 counsellor_of_centre={c.id: c.counsellor_ids[0] for c in centres})
    tasks, batch = [], 0
    for centre in centres:
        rows = list(Client.objects.filter(organisation_id=centre.id).exclude(status=ClientStatus.TRANSFERRED)
                    .order_by("id").values_list("id", "counsellor_id"))
        for start in range(0, len(rows), BATCH):
            tasks.append((batch, centre.id, rows[start:start + BATCH]))
            batch += 1
    workers = 2 if clients >= 50_000 and (os.cpu_count() or 1) >= 2 else 1
    print(f"  seeding about {sessions:,} counselling sessions for {clients:,} clients in {len(tasks):,} batches, "
          f"{workers} process(es) ...", flush=True)
    started = time.perf_counter()
    made = [0, 0]
    every = max(1, len(tasks) // 20)

    def progress(n: int) -> None:
        if n % every == 0 or n == len(tasks):
            elapsed = time.perf_counter() - started
            print(f"  seeded {made[0]:>10,} sessions, {made[1]:>10,} participants  {elapsed:7.1f} s  "
                  f"{made[0] / elapsed:8,.0f} sessions/s  RSS {peak_rss_mib():.0f} MiB  load {os.getloadavg()[0]:.1f}",
                  flush=True)

    with override_settings(CASEMGMT_DATA_KEY_CACHE_SIZE=max(settings.CASEMGMT_DATA_KEY_CACHE_SIZE, 2 * BATCH)):
        if workers == 1:
            for n, task in enumerate(tasks, 1):
                s, p = _seed_batch(task)
                made[0] += s
                made[1] += p
                progress(n)
        else:
            connections.close_all()
            with multiprocessing.get_context("fork").Pool(workers, initializer=_worker_init) as pool:
                for n, (s, p) in enumerate(pool.imap_unordered(_seed_batch, tasks), 1):
                    made[0] += s
                    made[1] += p
                    progress(n)
    seconds = time.perf_counter() - started
    crypto.data_key_cache.clear()
    big_client, big_counsellor = _measured_agenda(seeded_clients, now)
    vacuum = _vacuum_analyze() if connection.vendor == "postgresql" else 0.0
    return Seeded(clients=seeded_clients, sessions=made[0], participants=made[1], seconds=seconds,
                  vacuum_seconds=vacuum, big_client=big_client, big_counsellor=big_counsellor, workers=workers)


def _measured_agenda(seeded_clients, now) -> tuple[uuid.UUID, object]:
    """The measured counsellors' day: eight appointments today, thirty in the next days, a group among them;
    one client with 200 sessions (through the same bulk path)."""
    rng = random.Random(SEED + 7)
    today = dates.today(now)
    plan = Plan(kek_id=crypto.keyring().active_kek, now=now, sessions_per_client=0, counsellor_of_centre={})
    big = None
    for counsellor in seeded_clients.counsellors:
        centre = counsellor.membership.organisation_id
        mine = [k.id for k in seeded_clients.known if k.counsellor_id == counsellor.pk]
        crypto.load_data_keys(mine)
        out = {"sessions": [], "participants": [], "tasks": [], "flags": []}
        for n in range(8):
            at = dates.day_start(today) + datetime.timedelta(hours=8 + n, minutes=rng.choice((0, 30)))
            _sessions_for(rng, centre_id=centre, counsellor_id=counsellor.pk, clients=[mine[n]], starts=[at],
                          plan=Plan(**{**plan.__dict__, "now": min(now, at - datetime.timedelta(hours=12))}),
                          out=out)
        for n in range(30):
            at = dates.day_start(today + datetime.timedelta(days=1 + n % 7)) + datetime.timedelta(hours=9 + n % 7)
            _sessions_for(rng, centre_id=centre, counsellor_id=counsellor.pk, clients=[mine[8 + n]], starts=[at],
                          plan=plan, out=out)
        _sessions_for(rng, centre_id=centre, counsellor_id=counsellor.pk, clients=mine[40:46],
                      starts=[dates.day_start(today + datetime.timedelta(days=2)) + datetime.timedelta(hours=15)],
                      plan=plan, out=out)
        if big is None:
            big = (mine[60], counsellor)
            _sessions_for(rng, centre_id=centre, counsellor_id=counsellor.pk, clients=[mine[60]],
                          starts=sorted(_when(rng, plan) for _ in range(BIG_FILE - 20)),
                          plan=plan, out=out)
            for _ in range(20):
                _sessions_for(rng, centre_id=centre, counsellor_id=counsellor.pk,
                              clients=[mine[60], *rng.sample(mine[61:120], GROUP_SIZE - 1)],
                              starts=[_when(rng, plan)], plan=plan, out=out)
        with transaction.atomic():
            for key, model in (("sessions", Session), ("participants", Participant), ("tasks", FollowUpTask)):
                model.objects.bulk_create(out[key])
    crypto.data_key_cache.clear()
    return big


def _vacuum_analyze() -> float:
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for model in (Session, Participant, FollowUpTask, RiskFlag):
            cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
        cursor.execute("CHECKPOINT")
    return time.perf_counter() - started


# --------------------------------------------------------------------------------------------
# Measuring


def _pages(seeded: Seeded, runs: int) -> tuple[list[Result], list]:
    results, measured = [], []
    home = reverse("home")
    counsellors = [clients_bench._browser(u) for u in seeded.clients.counsellors]
    managers = [clients_bench._browser(u) for u in seeded.clients.managers[:1]]  # centre 0: the largest scale

    def get(arg):
        browser, url = arg
        response = browser.get(url)
        assert response.status_code == 200, response.status_code

    centre_size = Client.objects.filter(organisation=seeded.clients.managers[0].membership.organisation).count()
    big = clients_bench._browser(seeded.big_counsellor)
    for name, args, target in [
        ("counsellor home", [(counsellors[i % len(counsellors)], home) for i in range(runs)], HOME_TARGET_MS),
        (f"manager dashboard, centre of {centre_size:,} clients", [(managers[0], home)] * runs, DASHBOARD_TARGET_MS),
        (f"client page, {BIG_FILE} sessions", [(big, reverse("clients:detail", args=[seeded.big_client]))] * runs,
         CLIENT_PAGE_TARGET_MS),
    ]:
        m = clients_bench._measure(name, get, args)
        result = clients_bench._result(m, target_ms=target)
        result.suite = SUITE
        results.append(result)
        measured.append(m)
    return results, measured


def run(context: Context) -> list[Result]:
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - imports the URLconf and with it the views
    clients = int(context.options.get("clients") or (QUICK_CLIENTS if context.quick else clients_bench.CLIENTS))
    sessions = int(context.options.get("sessions") or (QUICK_SESSIONS if context.quick
                                                       else clients * SESSIONS_PER_CLIENT))
    runs = 40 if context.quick else 200
    if context.vendor != "postgresql":
        print("  (not PostgreSQL: the targets are for PostgreSQL; numbers are indicative only)", flush=True)
    with override_settings(CASEMGMT_EXPECTED_SUBJECTS=clients):
        seeded = seed(context, clients, sessions)
        rate = seeded.sessions / seeded.seconds
        print(f"  seeded {seeded.sessions:,} sessions ({seeded.participants:,} participants) in {seeded.seconds:.1f} s "
              f"({rate:,.0f} sessions/s), VACUUM ANALYZE and CHECKPOINT {seeded.vacuum_seconds:.1f} s", flush=True)
        results = [Result(SUITE, f"seeding {seeded.sessions:,} sessions", "s", value=seeded.seconds,
                          note=f"{rate:,.0f} sessions/s, {seeded.participants:,} participants (notes encrypted "
                               f"through the field), {seeded.workers} process(es); for {clients:,} clients")]
        crypto.data_key_cache.clear()
        print(f"  (before measuring: reference workload {reference_ms():.1f} ms; {clients_bench.REFERENCE_NOTE})",
              flush=True)
        try:
            found, measured = _pages(seeded, runs)
        except Exception as exc:  # the seeding took long: keep its figures
            traceback.print_exc()
            found = [Result(SUITE, "pages: failed", "", met=False, note=f"{type(exc).__name__}: {exc}"[:200])]
            measured = []
        print(f"  (after measuring: reference workload {reference_ms():.1f} ms)", flush=True)
        for r in found:
            verdict = "" if r.met is None else "met" if r.met else "NOT MET"
            print(f"  {r.name}: median {r.median:.1f} p95 {r.p95:.1f} {r.unit} {verdict}; {r.note}", flush=True)
        results += found
        print("\n  Where the time goes (database statements by total time per request):")
        for m in measured:
            print(clients_bench._profile(m, top=6))
        for m, r in zip(measured, found, strict=False):
            if r.met is False:
                try:
                    print(clients_bench._explain_slowest(m))
                    if m.again is not None:
                        fn, args = m.again
                        print(clients_bench._cprofile(m, fn, args[:10]))
                except Exception:
                    traceback.print_exc()
    results.append(Result(SUITE, "peak memory (RSS) after the suite", "MiB", value=peak_rss_mib()))
    return results
