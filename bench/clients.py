"""Clients at scale (docs/encryption.md, docs/access.md): a million synthetic clients, then what counsellors and centre
managers do every day: exact search, the caseload, the client's page, registration.

Seeding (``--clients N``, default 1,000,000; ``--quick`` 20,000)
    20 organisations (16 treatment centres, 4 prison health units), 2 managers each, counsellors
    with caseloads of about 250 clients. Per batch of 2,000 clients: data keys generated, wrapped
    under the active KEK, bulk-created and put into the data-key cache; clients bulk-created through
    the encrypted fields (their ``pre_save`` encrypts, the blind indexes are computed), with their
    population groups; django-guardian grants (the counsellor's and the centre staff group's, view
    and change) bulk-created through ``casemgmt.access.grant_each``, the grants registration makes.
    Then VACUUM ANALYZE, as autovacuum would, and a CHECKPOINT. Two processes on two cores.

Measured with the data-key cache cleared before each request ("cold": every client is seen for the
first time in the cache's lifetime, the usual case for a search or a caseload page) and, for the
caseload, also with it warm. Query counts come from the same requests.

Targets (on PostgreSQL)
    exact search, blind index (name, UIC, phone, national ID)    p95 ≤ 25 ms
    caseload page (page 1 and a filtered page)                  p95 ≤ 80 ms and ≤ 12 queries
    client page                                                 p95 ≤ 80 ms
    registration with its duplicate checks (POST)               p95 ≤ 100 ms
    seeding 1,000,000 clients                                   ≤ 15 minutes
"""

from __future__ import annotations

import datetime
import multiprocessing
import os
import random
import re
import statistics
import time
import traceback
import uuid
from collections import Counter
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection, connections, transaction
from django.test import Client as Browser
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from bench.common import CRYPTO_SHARE_TARGET, Context, CryptoClock, Result, peak_rss_mib, percentile, reference_ms
from casemgmt import access, crypto, normalise
from casemgmt.models import DataKey, Membership, Organisation
from casemgmt.roles import OrganisationKind, Province, Role
from clients import selectors, services
from clients.models import (
    Client,
    ClientGroupObjectPermission,
    ClientStatus,
    ClientUserObjectPermission,
    PopulationGroup,
    RiskLevel,
)
from clients.uic import compute_uic

SUITE = "clients"
CLIENTS = 1_000_000
QUICK_CLIENTS = 20_000
BATCH = 2_000
TREATMENT_CENTRES, PRISONS = 16, 4
MANAGERS_PER_CENTRE = 2
CASELOAD = 250  # clients per counsellor, on average
UNASSIGNED = 0.05  # share of clients waiting for a counsellor
SCAN_CLIENTS = 20_000
SEED = 20_260_301

SEARCH_TARGET_MS = 25
PAGE_TARGET_MS = 80
PAGE_QUERY_TARGET = 12
DETAIL_TARGET_MS = 80
REGISTER_TARGET_MS = 100
REFERENCE_NOTE = "the same fixed template work after each part: higher means a slower machine at that moment"
SEED_TARGET_S = 15 * 60  # for 1,000,000 clients; scaled for other sizes

SYLLABLES = [
    "sok", "chan", "dara", "vanna", "rith", "phea", "bopha", "kosal", "nary", "visal", "srey", "mom", "thea",
    "ratan", "sarin", "pisey", "malis", "vuthy", "kun", "chenda", "heng", "lim", "meas", "phan", "srun", "touch",
    "keo", "ly", "ngin", "ouk", "pov", "seng", "tep", "yim", "hout", "khem", "leang", "mao", "nhem", "oum",
]
PHONE_PREFIXES = ["12", "15", "17", "77", "89", "92", "96", "97", "10", "16"]
EPOCH = datetime.date(1965, 1, 1)


# --------------------------------------------------------------------------------------------
# Seeding


@dataclass
class Centre:
    index: int
    id: uuid.UUID
    staff_group_id: int
    province: str
    prison: bool
    counsellor_ids: list[int]


@dataclass
class Plan:
    """What every seeding process needs, fixed before the processes fork."""

    clients: int
    centres: list[Centre]
    kek_id: str
    watched_counsellors: set[int]  # all their clients are remembered, for searches and pages
    watched_centres: set[int]  # a sample of their clients is remembered
    centre_sample: float


@dataclass
class Known:
    """A seeded client whose identity the benchmark keeps in clear, to search for it."""

    id: uuid.UUID
    centre: int
    counsellor_id: int | None
    family_name: str
    given_name: str
    uic: str
    phone: str | None
    national_id: str | None


@dataclass
class Seeded:
    plan: Plan
    counsellors: list  # users measured as counsellors
    managers: list  # users measured as centre managers
    known: list[Known] = field(default_factory=list)
    seconds: float = 0.0
    vacuum_seconds: float = 0.0
    workers: int = 1
    worker_peak_rss_mib: float = 0.0
    cpu_seconds: float = 0.0  # of the seeding process(es), not the database server
    load: tuple = ()


_PLAN: Plan | None = None  # set in the parent before forking; the seeding processes inherit it


def _name(rng: random.Random, syllables: int) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(syllables))


def _identity(rng: random.Random, index: int, province: str) -> dict:
    """An obviously synthetic person: 'Synth' family names, 'Synthetic village', SYN national IDs."""
    draw = rng.random()
    sex = "M" if draw < 0.7 else "F" if draw < 0.97 else "X"
    phone = None
    if rng.random() < 0.8:
        phone = f"0{rng.choice(PHONE_PREFIXES)} {rng.randrange(1000):03d} {rng.randrange(10_000):04d}"
    return {
        "family_name": "Synth" + _name(rng, 2),
        "given_name": _name(rng, rng.choice((2, 2, 3))).capitalize(),
        "other_names": "",
        "date_of_birth": EPOCH + datetime.timedelta(days=rng.randrange(43 * 365)),
        "phone": phone,
        "village": f"Synthetic village {rng.randrange(2000)}",
        "commune": f"Synthetic commune {rng.randrange(300)}",
        "district": f"Synthetic district {rng.randrange(60)}",
        "national_id": f"SYN{index:09d}" if rng.random() < 0.6 else None,
        "mother_first_name": _name(rng, 2).capitalize(),
        "father_first_name": _name(rng, 2).capitalize(),
        "sex": sex,
        "province": province,
    }


def _population_groups(rng: random.Random, prison: bool) -> tuple[str, ...]:
    groups = {PopulationGroup.PWID if rng.random() < 0.4 else PopulationGroup.PWUD}
    if prison:
        groups.add(PopulationGroup.PRISONER)
    for group, share in ((PopulationGroup.SEX_WORKER, 0.05), (PopulationGroup.MSM, 0.05),
                         (PopulationGroup.TRANSGENDER, 0.02)):
        if rng.random() < share:
            groups.add(group)
    return tuple(sorted(groups))


class _Maker:
    """Builds model instances from positional values: Django's fast path (as ``Model.from_db`` uses),
    a third of the cost of keyword arguments for these narrow rows. The fields' ``pre_save`` still
    runs in ``bulk_create``: encryption, blind indexes and ``auto_now_add`` are untouched."""

    def __init__(self, model) -> None:
        self.model = model
        self.names = [f.attname for f in model._meta.concrete_fields]
        self.defaults = {f.attname: f.get_default() for f in model._meta.concrete_fields
                         if not (f.has_default() and callable(f.default))}

    def __call__(self, **values):
        defaults = self.defaults
        return self.model(*[values[n] if n in values else defaults[n] for n in self.names])


_MAKERS: dict = {}


def _make(model, **values):
    maker = _MAKERS.get(model)
    if maker is None:
        maker = _MAKERS[model] = _Maker(model)
    return maker(**values)


def _seed_batch(task: tuple[int, int, int]) -> tuple[int, list[Known]]:
    """One batch of clients, in one transaction: data keys, clients (with their population groups), grants."""
    batch, start, size = task
    plan = _PLAN
    rng = random.Random(SEED * 1_000_003 + batch)
    ring = crypto.keyring()
    now = timezone.now()
    cache_put = crypto.data_key_cache.put
    keys, clients, grants, known = [], [], [], []
    for offset in range(size):
        index = start + offset
        subject = uuid.UUID(int=rng.getrandbits(128), version=4)
        dek = AESGCM.generate_key(bit_length=256)
        wrapped = crypto.wrap_data_key(subject, dek, plan.kek_id, ring)
        keys.append(_make(DataKey, subject_id=subject, wrapped_key=wrapped, kek_id=plan.kek_id))
        cache_put(subject, AESGCM(dek))  # so that encrypting never asks the database

        centre = plan.centres[rng.randrange(len(plan.centres))]
        counsellor_id = None if rng.random() < UNASSIGNED else rng.choice(centre.counsellor_ids)
        identity = _identity(rng, index, centre.province)
        draw = rng.random()
        status = (ClientStatus.ACTIVE if draw < 0.75 else ClientStatus.INACTIVE if draw < 0.97
                  else ClientStatus.DECEASED if draw < 0.99 else ClientStatus.TRANSFERRED)
        draw = rng.random()
        risk = ("" if draw < 0.2 else RiskLevel.LOW if draw < 0.5 else RiskLevel.MODERATE if draw < 0.8
                else RiskLevel.HIGH)
        uic = compute_uic(mother_first_name=identity["mother_first_name"],
                          father_first_name=identity["father_first_name"], sex=identity["sex"],
                          date_of_birth=identity["date_of_birth"])
        clients.append(_make(
            Client, id=subject, organisation_id=centre.id, registered_by_organisation_id=centre.id,
            counsellor_id=counsellor_id, status=status, risk_level=risk, uic=uic,
            population_groups=_population_groups(rng, centre.prison),
            birth_year=identity["date_of_birth"].year,
            last_activity_at=now - datetime.timedelta(seconds=rng.randrange(3 * 365 * 86_400)),
            **identity,
        ))
        grants.append((subject, () if counsellor_id is None else (counsellor_id,), (centre.staff_group_id,)))
        if counsellor_id in plan.watched_counsellors or (
                centre.index in plan.watched_centres and rng.random() < plan.centre_sample):
            known.append(Known(id=subject, centre=centre.index, counsellor_id=counsellor_id,
                               family_name=identity["family_name"], given_name=identity["given_name"],
                               uic=uic, phone=identity["phone"], national_id=identity["national_id"]))
    with transaction.atomic():
        DataKey.objects.bulk_create(keys)
        Client.objects.bulk_create(clients)  # the field path: pre_save encrypts, blind indexes computed
        access.grant_each((selectors.VIEW, selectors.CHANGE), Client, grants)  # what registration grants
    return size, known


def _worker_init() -> None:
    # The parent closed its connections before forking; each process opens its own.
    crypto.data_key_cache.clear()


def _bench_user(username: str, role: str, organisation: Organisation):
    from tests.factories import member

    return member(username, role, organisation)  # with a confirmed TOTP device, like the tests' actors


def _organisations_and_staff(clients: int) -> tuple[list[Centre], list, list]:
    user_model = get_user_model()
    per_centre = clients / (TREATMENT_CENTRES + PRISONS)
    counsellors_per_centre = max(1, round(per_centre * (1 - UNASSIGNED) / CASELOAD))
    provinces = list(Province.values)
    role_groups = {g.name: g.pk for g in Group.objects.filter(name__in=[Role.COUNSELLOR, Role.CENTRE_MANAGER])}
    centres, counsellors, managers = [], [], []
    for index in range(TREATMENT_CENTRES + PRISONS):
        prison = index >= TREATMENT_CENTRES
        organisation = services_organisation(
            name=f"Bench {'prison health unit' if prison else 'centre'} {index:02d}",
            kind=OrganisationKind.PRISON_HEALTH_UNIT if prison else OrganisationKind.TREATMENT_CENTRE,
            province=provinces[index % len(provinces)],
        )
        # The first counsellor and manager of the first two centres are the measured ones: signed in
        # like real users (a confirmed TOTP device). The others are bulk-created.
        ids = []
        if index < 2:
            counsellor = _bench_user(f"bench-counsellor-{index:02d}-0000", Role.COUNSELLOR, organisation)
            manager = _bench_user(f"bench-manager-{index:02d}-0", Role.CENTRE_MANAGER, organisation)
            counsellors.append(counsellor)
            managers.append(manager)
            ids.append(counsellor.pk)
        staff = [user_model(username=f"bench-counsellor-{index:02d}-{n:04d}", first_name=f"Counsellor{n}",
                      last_name="Synthetic", password="!") for n in range(len(ids), counsellors_per_centre)]
        staff += [user_model(username=f"bench-manager-{index:02d}-{n}", first_name=f"Manager{n}", last_name="Synthetic",
                       password="!") for n in range(1 if index < 2 else 0, MANAGERS_PER_CENTRE)]
        user_model.objects.bulk_create(staff)
        Membership.objects.bulk_create([
            Membership(user=user, organisation=organisation,
                       role=Role.CENTRE_MANAGER if "manager" in user.username else Role.COUNSELLOR)
            for user in staff
        ])
        through = user_model.groups.through
        through.objects.bulk_create([
            through(user_id=user.pk, group_id=gid) for user in staff
            for gid in (role_groups[Role.CENTRE_MANAGER if "manager" in user.username else Role.COUNSELLOR],
                        organisation.staff_group_id)
        ])
        ids += [user.pk for user in staff if "counsellor" in user.username]
        centres.append(Centre(index=index, id=organisation.pk, staff_group_id=organisation.staff_group_id,
                              province=organisation.province, prison=prison, counsellor_ids=ids))
    return centres, counsellors, managers


def services_organisation(**kwargs) -> Organisation:
    from casemgmt import services as platform_services

    return platform_services.organisation_create(**kwargs)


def _vacuum_analyze() -> float:
    started = time.perf_counter()
    tables = [DataKey, Client, ClientUserObjectPermission, ClientGroupObjectPermission,
              Membership, get_user_model()]
    with connection.cursor() as cursor:
        for model in tables:
            cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
        # Write out what the bulk load left in shared buffers now, so that a checkpoint does not land
        # in the middle of the measurements (the server's own schedule would start one there).
        cursor.execute("CHECKPOINT")
    return time.perf_counter() - started


def seed(clients: int) -> Seeded:
    global _PLAN
    centres, counsellors, managers = _organisations_and_staff(clients)
    per_centre = clients / len(centres)
    plan = Plan(clients=clients, centres=centres, kek_id=crypto.keyring().active_kek,
                watched_counsellors={u.pk for u in counsellors}, watched_centres={0, 1},
                centre_sample=min(1.0, 400 / per_centre))
    _PLAN = plan
    tasks = [(b, start, min(BATCH, clients - start)) for b, start in enumerate(range(0, clients, BATCH))]
    workers = 2 if clients >= 50_000 and (os.cpu_count() or 1) >= 2 else 1
    result = Seeded(plan=plan, counsellors=counsellors, managers=managers, workers=workers)
    print(f"  seeding {clients:,} clients in {len(tasks):,} batches of {BATCH:,}, {len(centres)} organisations, "
          f"{sum(len(c.counsellor_ids) for c in centres):,} counsellors, {workers} process(es) ...", flush=True)
    every = max(1, len(tasks) // 20)
    done = 0
    import resource

    who = resource.RUSAGE_SELF if workers == 1 else resource.RUSAGE_CHILDREN
    usage = resource.getrusage(who)
    cpu_before = usage.ru_utime + usage.ru_stime
    started = time.perf_counter()

    def progress() -> None:
        elapsed = time.perf_counter() - started
        print(f"  seeded {done:>10,} / {clients:,} clients  {elapsed:7.1f} s  {done / elapsed:8,.0f} clients/s  "
              f"RSS {peak_rss_mib():.0f} MiB  load {os.getloadavg()[0]:.1f}", flush=True)

    if workers == 1:
        for n, task in enumerate(tasks, 1):
            count, known = _seed_batch(task)
            done += count
            result.known += known
            if n % every == 0 or n == len(tasks):
                progress()
    else:
        connections.close_all()
        with multiprocessing.get_context("fork").Pool(workers, initializer=_worker_init) as pool:
            for n, (count, known) in enumerate(pool.imap_unordered(_seed_batch, tasks), 1):
                done += count
                result.known += known
                if n % every == 0 or n == len(tasks):
                    progress()
        result.worker_peak_rss_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    result.seconds = time.perf_counter() - started
    usage = resource.getrusage(who)
    result.cpu_seconds = usage.ru_utime + usage.ru_stime - cpu_before
    result.load = os.getloadavg()
    crypto.data_key_cache.clear()
    if connection.vendor == "postgresql":
        result.vacuum_seconds = _vacuum_analyze()
    return result


# --------------------------------------------------------------------------------------------
# Measuring


@dataclass
class Sample:
    ms: float
    cpu_ms: float  # CPU time of this process: Django and the crypto, not the database server
    queries: list[dict]
    crypto_ms: float = 0.0  # of ms, in encryption (bench.common.CryptoClock)


@dataclass
class Measured:
    name: str
    samples: list[Sample]
    notes: list[str] = field(default_factory=list)
    again: object = None  # calls one more sample, untimed (for the profiler); None if not idempotent

    @property
    def times(self) -> list[float]:
        return [s.ms for s in self.samples]

    @property
    def query_counts(self) -> list[int]:
        return [len(s.queries) for s in self.samples]

    def sql_ms(self) -> list[float]:
        return [sum(float(q["time"]) for q in s.queries) * 1000 for s in self.samples]


def _measure(name: str, fn, args: list, *, cold: bool = True, warmup: int = 3,
             warmup_args: list | None = None) -> Measured:
    """Call ``fn(arg)`` for each arg, timing it in ms and capturing its queries."""
    for arg in args[:warmup] if warmup_args is None else warmup_args:
        fn(arg)
    samples = []
    for arg in args:
        if cold:
            crypto.data_key_cache.clear()
        connection.queries_log.clear()  # a full log (9,000 entries) would make every later count 0
        with CaptureQueriesContext(connection) as captured, CryptoClock() as clock:
            cpu = time.process_time()
            started = time.perf_counter()
            fn(arg)
            elapsed = (time.perf_counter() - started) * 1000
            cpu = (time.process_time() - cpu) * 1000
        samples.append(Sample(elapsed, cpu, list(captured.captured_queries), clock.ms))
    def again(arg):
        if cold:
            crypto.data_key_cache.clear()
        fn(arg)

    return Measured(name, samples, again=(again, args))


_TRANSACTION = re.compile(r"\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE SAVEPOINT)\b", re.IGNORECASE)


def _result(m: Measured, *, target_ms: float, max_queries: int | None = None, note: str = "",
            page: bool = True) -> Result:
    """The verdict counts every statement, as Django's assertNumQueries does (BEGIN and COMMIT included);
    the note says how many of them are transaction control and the audit chain's advisory lock."""
    times, counts = m.times, m.query_counts
    p95 = percentile(times, 95)
    worst_queries = max(counts)
    share = crypto_share(m)
    # A page's encryption share is judged (at most 10% of its time); a selector's (a search) only printed.
    met = p95 <= target_ms and (max_queries is None or worst_queries <= max_queries) and (
        not page or share <= CRYPTO_SHARE_TARGET)
    target = (f"p95 ≤ {target_ms:g} ms" + (f", ≤ {max_queries} queries" if max_queries is not None else "")
              + (f", encryption ≤ {CRYPTO_SHARE_TARGET:.0%}" if page else ""))
    queries = (f"{min(counts)}–{worst_queries}" if min(counts) != worst_queries else f"{worst_queries}")
    control = max(sum(1 for q in s.queries if _TRANSACTION.match(q["sql"])) for s in m.samples)
    locks = max(sum(1 for q in s.queries if "pg_advisory_xact_lock" in q["sql"]) for s in m.samples)
    split = ", ".join(x for x in (f"{control} transaction control (BEGIN/COMMIT/SAVEPOINT)" if control else "",
                                  f"{locks} audit-chain lock" if locks else "") if x)
    text = (f"{queries} queries{f' ({split})' if split else ''}; median SQL {statistics.median(m.sql_ms()):.1f} ms, "
            f"CPU here {statistics.median(s.cpu_ms for s in m.samples):.1f} ms; encryption {share:.1%} of the time "
            f"({statistics.median(s.crypto_ms for s in m.samples):.2f} ms median)")
    return Result(SUITE, m.name, "ms", median=statistics.median(times), p95=p95, target=target, met=met,
                  note="; ".join(x for x in (text, note, *m.notes) if x))


def crypto_share(m: Measured) -> float:
    """Encryption's share of the page's time, over all samples (total crypto time / total time)."""
    return sum(s.crypto_ms for s in m.samples) / max(sum(s.ms for s in m.samples), 1e-9)


_LITERALS = re.compile(r"'[^']*'|\b\d+(\.\d+)?\b")


def _shape(sql: str) -> str:
    return _LITERALS.sub("?", sql)


def _profile(m: Measured, *, top: int = 4) -> str:
    """Where a request's database time goes: statement shapes by total time over all samples."""
    by_shape: dict[str, list[float]] = {}
    for sample in m.samples:
        for q in sample.queries:
            by_shape.setdefault(_shape(q["sql"]), []).append(float(q["time"]) * 1000)
    n = len(m.samples)
    lines = [f"  {m.name}: median {statistics.median(m.times):.1f} ms, p95 {percentile(m.times, 95):.1f} ms, "
             f"{statistics.median(m.query_counts):.0f} queries, {statistics.median(m.sql_ms()):.1f} ms SQL, "
             f"{statistics.median(s.cpu_ms for s in m.samples):.1f} ms CPU in this process (median per request)"]
    for shape, times in sorted(by_shape.items(), key=lambda kv: -sum(kv[1]))[:top]:
        lines.append(f"    {len(times) / n:5.1f}/request  {sum(times) / n:6.2f} ms/request  {shape[:150]}")
    return "\n".join(lines)


def _explain_slowest(m: Measured) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of the slowest SELECT seen in the slowest request."""
    if connection.vendor != "postgresql":
        return ""
    worst = max(m.samples, key=lambda s: s.ms)
    selects = [q for q in worst.queries if q["sql"].lstrip().upper().startswith("SELECT")]
    if not selects:
        return ""
    query = max(selects, key=lambda q: float(q["time"]))
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
        plan = "\n".join("      " + row[0] for row in cursor.fetchall())
    return (f"  slowest SELECT of the slowest '{m.name}' request ({float(query['time']) * 1000:.1f} ms):\n"
            f"      {query['sql'][:2000]}\n{plan}")


def _cprofile(m: Measured, fn, args: list, *, top: int = 14) -> str:
    """Python hot spots of a missed target: cProfile over a few of its requests, by own time."""
    import cProfile
    import io
    import pstats

    profiler = cProfile.Profile()
    for arg in args:
        profiler.enable()
        fn(arg)
        profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    own = out.getvalue()
    out = io.StringIO()
    stats.stream = out
    app_code = re.escape(str(settings.BASE_DIR)) + r"/(casemgmt|clients|referrals)/"
    stats.sort_stats("cumulative").print_stats(app_code, 10)
    project = out.getvalue()

    def table(text: str) -> str:
        return "\n".join("      " + line for line in text[text.find("ncalls"):].rstrip().splitlines())

    return (f"  cProfile of {len(args)} '{m.name}' requests (under the profiler, so slower), by own time:\n"
            f"{table(own)}\n    and the application's own functions by cumulative time:\n{table(project)}")


def _browser(user) -> Browser:
    """Signed in and past the second factor, as tests/conftest.py sign_in does."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    browser = Browser(HTTP_HOST="localhost")
    browser.force_login(user)
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    session = browser.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    response = browser.get(reverse("clients:caseload"))
    assert response.status_code == 200, f"{user.username} is not signed in past 2FA ({response.status_code})"
    return browser


def _search_values(kind: str, known: Known) -> tuple:
    return {"name": (known.family_name, known.given_name), "uic": (known.uic,), "phone": (known.phone,),
            "national_id": (known.national_id,)}[kind]


def _searches(seeded: Seeded, runs: int) -> tuple[list[Result], list[Measured]]:
    results, measured = [], []
    rng = random.Random(SEED + 1)
    for role, users in (("counsellor", seeded.counsellors), ("manager", seeded.managers)):
        for kind in ("name", "uic", "phone", "national_id"):
            args = []
            for user in users:
                mine = [k for k in seeded.known if (k.counsellor_id == user.pk if role == "counsellor"
                                                    else k.centre == seeded.managers.index(user))
                        and _search_values(kind, k)[0]]
                args += [(user, k) for k in rng.sample(mine, min(len(mine), runs // len(users)))]
            rng.shuffle(args)
            found = Counter()

            def search(arg, kind=kind, found=found):
                user, known = arg
                rows = selectors.search_clients(user=user, kind=kind, values=_search_values(kind, known))
                found["hit" if any(r.pk == known.id for r in rows) else "miss"] += 1
                found["rows"] += len(rows)

            m = _measure(f"search by {kind.replace('_', ' ')}, {role}", search, args)
            hits = found["hit"]
            m.notes.append(f"found {hits}/{hits + found['miss']}, {found['rows'] / (hits + found['miss']):.2f} "
                           f"rows/search")
            results.append(_result(m, target_ms=SEARCH_TARGET_MS, page=False))
            measured.append(m)
    return results, measured


def _decrypting_scan(seeded: Seeded, runs: int, blind: Measured | None) -> tuple[list[Result], list[Measured]]:
    """The same exact name search without blind indexes: load 20,000 clients, decrypt, compare."""
    manager = seeded.managers[0]
    targets = [k for k in seeded.known if k.centre == 0][:runs]
    scope = selectors.clients_visible_to(manager)
    scan_scope = "the manager's centre"
    if scope.count() < SCAN_CLIENTS:
        scope, scan_scope = Client.objects.all(), "all clients (the centre has fewer)"
    ring = crypto.keyring()

    def scan(known: Known) -> list:
        wanted = (normalise.name(known.family_name), normalise.name(known.given_name))
        rows = list(scope.only("id", "family_name", "given_name").order_by("-last_activity_at", "id")[:SCAN_CLIENTS])
        keys = DataKey.objects.filter(subject_id__in=[r.pk for r in rows]).values_list("subject_id", "wrapped_key",
                                                                                      "kek_id")
        for subject, wrapped, kek_id in keys:
            crypto.data_key_cache.put(subject, AESGCM(crypto.unwrap_data_key(subject, wrapped, kek_id, ring)))
        return [r for r in rows
                if normalise.name(r.family_name) == wanted[0] and normalise.name(r.given_name) == wanted[1]]

    with override_settings(CASEMGMT_DATA_KEY_CACHE_SIZE=SCAN_CLIENTS * 2):
        m = _measure(f"search by name, decrypting scan of {SCAN_CLIENTS:,}", scan, targets, warmup=1)
    crypto.data_key_cache.clear()
    scan_median = statistics.median(m.times)
    per_client_us = scan_median * 1000 / SCAN_CLIENTS
    out = [Result(SUITE, m.name, "ms", median=scan_median, p95=percentile(m.times, 95),
                  note=f"{scan_scope}; keys fetched in one query, unwrapped, two fields decrypted per client; "
                       f"{per_client_us:.0f} µs/client, so ≈ {per_client_us * seeded.plan.clients / 1e6:.0f} s "
                       f"for all {seeded.plan.clients:,}")]
    index_only = _measure("search by name, blind index without a scope", lambda known: Client.objects.blind_search(
        "name_index", known.family_name, known.given_name), targets * 10)
    out.append(_result(index_only, target_ms=SEARCH_TARGET_MS, page=False,
                       note="Client.objects.blind_search, as the duplicate check uses it: the index's own cost"))
    for label, other in (("index alone", index_only), ("manager's scoped search", blind)):
        if other is not None:
            ratio = scan_median / statistics.median(other.times)
            out.append(Result(SUITE, f"blind index speed-up (scan / {label})", "x", value=ratio,
                              note=f"median scan of {SCAN_CLIENTS:,} / median '{other.name}'; the scan grows "
                                   f"with the clients, the index lookup does not"))
    return out, [index_only]


def _caseload(seeded: Seeded, runs: int) -> tuple[list[Result], list[Measured]]:
    results, measured = [], []
    url = reverse("clients:caseload")
    pages = [
        ("counsellor", "page 1", ""),
        ("counsellor", "filtered (PWID)", "?population_group=pwid"),
        ("manager", "page 1", ""),
        ("manager", "filtered (PWID, high risk)", "?population_group=pwid&risk_level=high"),
    ]
    browsers = {("counsellor", i): _browser(u) for i, u in enumerate(seeded.counsellors)}
    browsers |= {("manager", i): _browser(u) for i, u in enumerate(seeded.managers)}
    for role, label, query in pages:
        users = seeded.counsellors if role == "counsellor" else seeded.managers
        args = [browsers[(role, i % len(users))] for i in range(runs)]

        def get(browser, query=query):
            response = browser.get(url + query)
            assert response.status_code == 200, response.status_code

        for cold in (True, False):
            m = _measure(f"caseload {label}, {role}, {'cold' if cold else 'warm'} keys", get, args, cold=cold)
            results.append(_result(m, target_ms=PAGE_TARGET_MS, max_queries=PAGE_QUERY_TARGET))
            measured.append(m)
    return results, measured


def _detail(seeded: Seeded, runs: int) -> tuple[list[Result], list[Measured]]:
    rng = random.Random(SEED + 2)
    results, measured = [], []
    for role, users in (("counsellor", seeded.counsellors), ("manager", seeded.managers)):
        args = []
        for i, user in enumerate(users):
            mine = [k for k in seeded.known if (k.counsellor_id == user.pk if role == "counsellor" else k.centre == i)]
            browser = _browser(user)
            args += [(browser, k) for k in rng.sample(mine, min(len(mine), runs // len(users)))]
        rng.shuffle(args)

        def get(arg):
            browser, known = arg
            response = browser.get(reverse("clients:detail", args=[known.id]))
            assert response.status_code == 200, response.status_code

        m = _measure(f"client page, {role}", get, args)
        results.append(_result(m, target_ms=DETAIL_TARGET_MS))
        measured.append(m)
    return results, measured


def _case_files(seeded: Seeded, count: int) -> None:
    """A consent, a screening and a custody episode for a few watched clients: their pages show records."""
    from tests.clients.factories import screening_answers

    today = timezone.localdate()
    counsellor = seeded.counsellors[0]
    for known in [k for k in seeded.known if k.counsellor_id == counsellor.pk][:count]:
        client = Client.objects.get(pk=known.id)
        services.consent_record(actor=counsellor, client=client, kind="treatment", method="signed",
                                given_on=today - datetime.timedelta(days=30))
        services.screening_record(
            actor=counsellor, client=client, screened_on=today - datetime.timedelta(days=20),
            answers=screening_answers(amphetamine={"q1": "yes", "q2": "weekly", "q3": "weekly", "q4": "monthly",
                                                   "q5": "never", "q6": "yes_recent", "q7": "no"}),
            q8="no", intake={"hiv_status": "never_tested", "primary_substance": "amphetamine"},
        )


def _registration(seeded: Seeded, runs: int) -> tuple[list[Result], list[Measured]]:
    rng = random.Random(SEED + 3)
    url = reverse("clients:register")
    results, measured = [], []
    for role, users in (("counsellor", seeded.counsellors), ("manager", seeded.managers)):
        browsers = [_browser(u) for u in users]
        outcomes: list[str] = []
        args = []
        for n in range(runs + 3):
            identity = _identity(rng, 900_000_000 + n + (runs + 3 if role == "manager" else 0), "KH-12")
            data = {k: ("" if v is None else (v.isoformat() if isinstance(v, datetime.date) else v))
                    for k, v in identity.items()}
            data["population_groups"] = ["pwud"]
            args.append((browsers[n % len(browsers)], data))

        def post(arg, outcomes=outcomes):
            browser, data = arg
            response = browser.post(url, data)
            outcomes.append("registered" if response.status_code == 302 else "duplicate warning"
                            if b"confirm_distinct" in response.content else f"HTTP {response.status_code}")

        # Each person is posted once: the first three warm up, the others are measured.
        m = _measure(f"registration (POST, duplicate checks), {role}", post, args[3:], warmup_args=args[:3])
        m.again = None  # a second POST of the same person is a duplicate: another path
        m.notes.append(", ".join(f"{v} {k}" for k, v in sorted(Counter(outcomes[3:]).items())))
        results.append(_result(m, target_ms=REGISTER_TARGET_MS))
        measured.append(m)
    return results, measured


# --------------------------------------------------------------------------------------------


def run(context: Context) -> list[Result]:
    # Import every view now: the code measured is the code that was there when the run began.
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - imports the URLconf and with it the views
    clients = int(context.options.get("clients") or (QUICK_CLIENTS if context.quick else CLIENTS))
    runs = 40 if context.quick else 200
    if context.vendor != "postgresql":
        print("  (not PostgreSQL: the targets are for PostgreSQL; numbers are indicative only)", flush=True)
    cache_size = max(settings.CASEMGMT_DATA_KEY_CACHE_SIZE, 2 * BATCH)
    # Blind indexes sized for this population (the deployment setting), so candidates per lookup are realistic.
    with override_settings(CASEMGMT_EXPECTED_SUBJECTS=clients):
        bits = crypto.blind_index_bits()
        with override_settings(CASEMGMT_DATA_KEY_CACHE_SIZE=cache_size):
            seeded = seed(clients)
        context.options["seeded_clients"] = seeded  # the counselling suite adds its sessions to these clients
        crypto.reset_keyring()
        rate = clients / seeded.seconds
        budget = SEED_TARGET_S * clients / CLIENTS
        print(f"  seeded in {seeded.seconds:.1f} s ({rate:,.0f} clients/s), VACUUM ANALYZE and CHECKPOINT "
              f"{seeded.vacuum_seconds:.1f} s; {len(seeded.known):,} clients kept for the searches", flush=True)
        results = [
            # The target is for a million clients; a smaller run (one process, fixed costs) shows it scaled,
            # without a verdict.
            Result(SUITE, f"seeding {clients:,} clients", "s", value=seeded.seconds,
                   target=f"≤ {budget:,.0f} s" + ("" if clients >= CLIENTS else " (scaled)"),
                   met=seeded.seconds <= budget if clients >= CLIENTS else None,
                   note=f"{rate:,.0f} clients/s, {seeded.workers} process(es), batches of {BATCH:,}, "
                        f"{seeded.cpu_seconds * 1e6 / clients:,.0f} µs CPU/client in Python; then VACUUM ANALYZE and "
                        f"CHECKPOINT {seeded.vacuum_seconds:.0f} s; blind indexes {bits} bits; load average at the end "
                        f"{seeded.load[1]:.1f} (5 min) on {os.cpu_count()} CPUs"),
        ]
        _case_files(seeded, 20)
        crypto.data_key_cache.clear()
        measured: list[Measured] = []
        print(f"  (before measuring: reference workload {reference_ms():.1f} ms; {REFERENCE_NOTE})", flush=True)
        started = time.perf_counter()
        blind = None
        parts = [("searches", lambda: _searches(seeded, runs)),
                 ("decrypting scan", lambda: _decrypting_scan(seeded, 3 if context.quick else 10, blind)),
                 ("caseload", lambda: _caseload(seeded, max(40, runs // 2))),
                 ("client page", lambda: _detail(seeded, runs)),
                 ("registration", lambda: _registration(seeded, runs))]
        for label, part in parts:
            try:
                found, m = part()
            except Exception as exc:  # one broken page must not throw away an hour of seeding
                traceback.print_exc()
                found, m = [Result(SUITE, f"{label}: failed", "", met=False,
                                   note=f"{type(exc).__name__}: {exc}"[:200])], []
            print(f"  ({label}: reference workload {reference_ms():.1f} ms; {REFERENCE_NOTE})", flush=True)
            for r in found:
                figures = (f"median {r.median:.1f} p95 {r.p95:.1f}" if r.median is not None
                           else "" if r.value is None else f"{r.value:.1f}")
                verdict = "" if r.met is None else "met" if r.met else "NOT MET"
                print(f"  {r.name}: {figures} {r.unit} {verdict}; {r.note}", flush=True)
            results += found
            measured += m
            blind = blind or next((x for x in m if x.name == "search by name, manager"), None)
        print(f"  measured in {time.perf_counter() - started:.1f} s; load average {os.getloadavg()[1]:.1f} (5 min) on "
              f"{os.cpu_count()} CPUs (other work on this machine shows up as wall time above CPU + SQL)", flush=True)

        print("\n  Where the time goes (database statements by total time per request):")
        for m in measured:
            print(_profile(m))
        verdicts = {r.name: r.met for r in results}
        explained_kinds = set()
        for m in sorted(measured, key=lambda x: -percentile(x.times, 95)):  # the worst of each kind first
            kind = (m.name.split()[0], "manager" if "manager" in m.name else "counsellor")
            if verdicts.get(m.name) is not False or kind in explained_kinds:
                continue
            explained_kinds.add(kind)  # one EXPLAIN and one profile per page kind and role
            try:
                explained = _explain_slowest(m)
                if explained:
                    print(explained)
                if m.again is not None:
                    fn, args = m.again
                    print(_cprofile(m, fn, args[:10]))
            except Exception:
                traceback.print_exc()
        print(flush=True)
    results.append(Result(SUITE, "peak memory (RSS) after the suite", "MiB", value=peak_rss_mib(),
                          note=f"seeding processes peaked at {seeded.worker_peak_rss_mib:.0f} MiB"
                          if seeded.workers > 1 else ""))
    return results
