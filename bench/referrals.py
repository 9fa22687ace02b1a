"""Referrals at scale (issue 13): a million clients (the clients suite's, reused), two million referrals to forty
partner organisations, then the pages of the referral loop: the inbox of a busy partner, sending, accepting, the
referral letter and the centre's cascade.

Seeding (``--referrals N``, default 2 per client; ``--quick``: 20,000 clients, 40,000 referrals)
    40 NGO partners, each with the directory of one of the two demo partners (``referrals.demo``: 4 or 5
    services, target days 1 to 14) and a referral officer. After ``bench.clients.seed``: per batch of 2,000
    clients (two processes), their data keys read in one query, then 65% of clients referred (1 + Poisson
    referrals, to 1 to 3 partners), each referral resting on the client's sharing consent for that partner
    (one consent per client and partner, given before the first referral; 5% of the others consent without
    being referred; 1.5% of consents later revoked, their open referrals closed "consent withdrawn"). The reason
    (and the feedback of half the completed ones) is encrypted under the client's key by the field's
    ``pre_save`` in ``bulk_create``. ``sent_at`` is spread over the last two years; a referral's state follows
    its age (mostly closed: completed, declined, no-show, closed unresolved, cancelled; open ones recent:
    sent, accepted, attended, some overdue; a few drafts). One partner, the busy one, receives a fixed 1/40 of
    the referrals (50,000 of 2,000,000) from every batch. Each sent referral's grant to its partner's staff
    group is written through ``casemgmt.access.grant_each``, as ``referral_send`` grants it. The measured
    counsellors' clients also consent to the busy partner (for the sends measured). Then VACUUM ANALYZE.

Measured through the pages, signed in past the second factor, the data-key cache cleared before each request,
with the clients suite's ``_measure``: query counts (transaction control and the audit lock split off) and the
share of the time spent in encryption for each page.

Targets (on PostgreSQL)
    the busy partner's home (the inbox panel), 50,000 referrals                     p95 ≤ 60 ms
    sending a referral (the POST that creates and sends: consent check, grants)   p95 ≤ 80 ms
    accepting one (the officer's POST)                                              p95 ≤ 40 ms
    the referral letter PDF                                                         p95 ≤ 1 s
    the centre's cascade for a year                                                 p95 ≤ 200 ms
    encryption                                                                      ≤ 10% of each page's time
"""

from __future__ import annotations

import datetime
import math
import multiprocessing
import os
import random
import time
import traceback
import uuid
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, connections, transaction
from django.db.models import Count
from django.test import Client as Browser
from django.test import override_settings
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from bench import clients as clients_bench
from bench.common import Context, Result, peak_rss_mib, reference_ms
from casemgmt import access, crypto
from casemgmt.roles import OrganisationKind, Province, Role
from clients.models import Client, ClientStatus, Consent, ConsentKind, ConsentMethod, ShareCategory
from referrals import demo
from referrals.models import (
    OPEN_STATUSES,
    EndReason,
    Outcome,
    PartnerService,
    Referral,
    ReferralGroupObjectPermission,
    ReferralStatus,
    Urgency,
)
from referrals.selectors import VIEW

SUITE = "referrals"
REFERRALS_PER_CLIENT = 2
QUICK_CLIENTS = 20_000
QUICK_REFERRALS = 40_000
PARTNERS = 40
BUSY_SHARE = 1 / PARTNERS  # of all referrals, to the busy partner: 50,000 of 2,000,000
BUSY_MAX = 50_000
BATCH = 2_000
HISTORY_DAYS = 730
REFERRED_SHARE = 0.65  # of clients, referred at least once
CONSENT_ONLY_SHARE = 0.05  # of the others: a sharing consent without a referral
REVOKED_SHARE = 0.015
DRAFT_SHARE = 0.01  # of referrals made in the last 30 days, still drafts
SEED = 20_261_213

INBOX_TARGET_MS = 60
SEND_TARGET_MS = 80
ACCEPT_TARGET_MS = 40
LETTER_TARGET_MS = 1000
CASCADE_TARGET_MS = 200

ALL = list(ShareCategory.values)
CATEGORY_SETS = [(ALL, 0.5), (["hiv_status", "identity"], 0.2), (["contact", "identity"], 0.15), (["identity"], 0.15)]
WORDS = ("testing clinic partner treatment cough weight fever housing shelter family legal court job training "
         "injecting needles methadone dose prep art viral load follow up transport money mother village").split()
LETTER_NAME = "referrals:letter"
CASCADE_NAME = "referrals:cascade"
NOT_BUILT = "not built yet"


@dataclass
class Partner:
    index: int
    id: uuid.UUID
    staff_group_id: int
    officer_id: int
    services: list[tuple[uuid.UUID, int]]  # accepting referrals: (id, target days)


@dataclass
class Plan:
    now: datetime.datetime
    partners: list[Partner]  # partners[0] is the busy one
    counsellor_of_centre: dict  # centre id -> a counsellor id, for clients waiting for one
    measured_counsellors: set[int]
    referred_share: float  # of clients, referred at least once
    extra_mean: float  # referrals of a referred client beyond the first (Poisson mean)


_PLAN: Plan | None = None


@dataclass
class Seeded:
    clients: clients_bench.Seeded
    partners: list[Partner]
    officer: object  # the busy partner's measured referral officer
    made: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    vacuum_seconds: float = 0.0
    workers: int = 1


# --------------------------------------------------------------------------------------------
# Seeding


def _words(rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choices(WORDS, k=rng.randrange(low, high)))


def _poisson(rng: random.Random, mean: float) -> int:
    limit, k, p = math.exp(-mean), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _pick(rng: random.Random, weighted):
    draw = rng.random()
    for value, share in weighted:
        draw -= share
        if draw < 0:
            return value
    return weighted[-1][0]


def _after(rng: random.Random, start: datetime.datetime, now: datetime.datetime, low_days: float,
           high_days: float) -> datetime.datetime:
    """A moment between ``low_days`` and ``high_days`` after ``start``, never after ``now``."""
    return min(now, start + datetime.timedelta(seconds=rng.uniform(low_days, high_days) * 86_400))


def _open_share(age_days: float) -> float:
    """How many referrals of this age are still open: most within days, a few stale ones for months."""
    return 0.8 if age_days < 3 else 0.35 if age_days < 14 else 0.06 if age_days < 60 else 0.001


def _lifecycle(rng: random.Random, *, created: datetime.datetime, target_days: int, officer_id: int,
               plan: Plan) -> dict:
    """Status and times of a referral made at ``created``, by its age now."""
    now = plan.now
    age = (now - created).total_seconds() / 86_400
    if age < 30 and rng.random() < DRAFT_SHARE:
        return {"status": ReferralStatus.DRAFT}
    sent = _after(rng, created, now, 0.001, 0.05)
    out = {"sent_at": sent}
    if rng.random() < _open_share(age):
        status = (ReferralStatus.SENT if age < 3 and rng.random() < 0.75 else ReferralStatus.ACCEPTED if age < 3
                  else _pick(rng, [(ReferralStatus.SENT, 0.35), (ReferralStatus.ACCEPTED, 0.45),
                                   (ReferralStatus.ATTENDED, 0.2)]))
        out["status"] = status
        if status != ReferralStatus.SENT:
            out |= {"accepted_at": _after(rng, sent, now, 0.05, min(age, target_days)), "acted_by_id": officer_id}
        return out
    status = _pick(rng, [(ReferralStatus.COMPLETED, 0.65), (ReferralStatus.NO_SHOW, 0.12),
                         (ReferralStatus.CLOSED_UNRESOLVED, 0.10), (ReferralStatus.DECLINED, 0.08),
                         (ReferralStatus.CANCELLED, 0.05)])
    out["status"] = status
    if status == ReferralStatus.CANCELLED:
        out |= {"end_reason": rng.choice([EndReason.REFERRED_ELSEWHERE, EndReason.CLIENT_DECLINED]),
                "closed_at": _after(rng, sent, now, 0.5, 10)}
        return out
    out["acted_by_id"] = officer_id
    if status == ReferralStatus.DECLINED:
        out |= {"end_reason": rng.choice([EndReason.NOT_ELIGIBLE, EndReason.NO_CAPACITY, EndReason.COULD_NOT_CONTACT]),
                "closed_at": _after(rng, sent, now, 0.1, target_days)}
        return out
    accepted = out["accepted_at"] = _after(rng, sent, now, 0.05, target_days)
    closed = out["closed_at"] = _after(rng, accepted, now, 1, 30)
    if status == ReferralStatus.COMPLETED:
        out["outcome"] = _pick(rng, [(Outcome.SERVICE_PROVIDED, 0.7), (Outcome.ONGOING, 0.25),
                                     (Outcome.REFERRED_ON, 0.05)])
        if rng.random() < 0.5:
            out["feedback"] = f"Synthetic feedback: {_words(rng, 8, 30)}."
    else:
        out["end_reason"] = (EndReason.COULD_NOT_CONTACT if status == ReferralStatus.NO_SHOW
                             else rng.choice([EndReason.CLIENT_DECLINED, EndReason.NOT_ELIGIBLE, EndReason.OTHER]))
    out["closed_at"] = closed
    return out


def _consent(rng: random.Random, *, client_id, partner_id, counsellor_id, given: datetime.datetime,
             categories: list[str]):
    return clients_bench._make(
        Consent, id=uuid.UUID(int=rng.getrandbits(128), version=4), client_id=client_id, kind=ConsentKind.SHARING,
        partner_id=partner_id, purpose="Synthetic purpose: referral to partner services.", categories=categories,
        given_on=timezone.localdate(given), expires_on=None if rng.random() < 0.5 else
        timezone.localdate(given) + datetime.timedelta(days=3 * 365),
        method=_pick(rng, [(ConsentMethod.SIGNED, 0.7), (ConsentMethod.THUMBPRINT, 0.2), (ConsentMethod.VERBAL, 0.1)]),
        witness_name="", recorded_by_id=counsellor_id, recorded_at=given, revoked_on=None, revoke_reason="")


def _seed_batch(task: tuple[int, object, list, int]) -> Counter:
    """Consents, referrals and the partners' grants for one batch of clients, in one transaction."""
    batch, centre_id, rows, busy_quota = task
    plan = _PLAN
    rng = random.Random(SEED * 1_000_003 + batch)
    crypto.load_data_keys(client_id for client_id, _counsellor in rows)  # one query; values encrypt from the cache
    make = clients_bench._make
    now = plan.now
    busy = plan.partners[0]
    others = plan.partners[1:]
    planned = []  # [client, counsellor, partner, created]
    consents, referrals, grants = [], [], []
    made = Counter()
    for client_id, counsellor_id in rows:
        counsellor_id = counsellor_id or plan.counsellor_of_centre[centre_id]
        count = 1 + _poisson(rng, plan.extra_mean) if rng.random() < plan.referred_share else 0
        if count:
            mine = rng.sample(others, min(count, _pick(rng, [(1, 0.6), (2, 0.3), (3, 0.1)])))
            planned += [[client_id, counsellor_id, rng.choice(mine),
                         now - datetime.timedelta(seconds=rng.randrange(HISTORY_DAYS * 86_400))]
                        for _ in range(count)]
        elif rng.random() < CONSENT_ONLY_SHARE:
            consents.append(_consent(rng, client_id=client_id, partner_id=rng.choice(others).id,
                                     counsellor_id=counsellor_id, categories=ALL,
                                     given=now - datetime.timedelta(seconds=rng.randrange(HISTORY_DAYS * 86_400))))
        if counsellor_id in plan.measured_counsellors:  # the sends measured: a consent to the busy partner, today
            consents.append(_consent(rng, client_id=client_id, partner_id=busy.id, counsellor_id=counsellor_id,
                                     categories=ALL, given=now - datetime.timedelta(days=20)))
            consents[-1].expires_on = None
    for i in rng.sample(range(len(planned)), min(busy_quota, len(planned))):
        planned[i][2] = busy
    groups: dict = {}
    for item in planned:
        groups.setdefault((item[0], item[2].index), []).append(item)
    for (client_id, _partner), items in groups.items():
        items.sort(key=lambda item: item[3])
        counsellor_id, partner = items[0][1], items[0][2]
        categories = _pick(rng, CATEGORY_SETS)
        consent = _consent(rng, client_id=client_id, partner_id=partner.id, counsellor_id=counsellor_id,
                           categories=categories, given=items[0][3] - datetime.timedelta(
                               seconds=rng.randrange(60, 20 * 86_400)))
        consents.append(consent)
        revoked = None
        if rng.random() < REVOKED_SHARE:
            revoked = min(timezone.localdate(now), timezone.localdate(items[-1][3]) +
                          datetime.timedelta(days=rng.randrange(1, 60)))
            consent.revoked_on = revoked
            consent.revoke_reason = "Synthetic: the client withdrew consent."
        for _client, _counsellor, _partner, created in items:
            service_id, target_days = rng.choice(partner.services)
            life = _lifecycle(rng, created=created, target_days=target_days, officer_id=partner.officer_id, plan=plan)
            if revoked is not None and life["status"] in OPEN_STATUSES:
                withdrawn = max(created, timezone.make_aware(datetime.datetime.combine(revoked, datetime.time(9))))
                life |= {"status": ReferralStatus.CANCELLED if life["status"] == ReferralStatus.DRAFT
                         else ReferralStatus.CLOSED_UNRESOLVED, "end_reason": EndReason.CONSENT_WITHDRAWN,
                         "closed_at": min(now, withdrawn)}
            shared = categories if rng.random() < 0.8 else [c for c in categories if c == "identity"] or categories
            referral_id = uuid.UUID(int=rng.getrandbits(128), version=4)
            referrals.append(make(Referral, **{
                "id": referral_id, "client_id": client_id, "from_organisation_id": centre_id,
                "counsellor_id": counsellor_id, "to_organisation_id": partner.id, "service_id": service_id,
                "urgency": _pick(rng, [(Urgency.ROUTINE, 0.75), (Urgency.URGENT, 0.2), (Urgency.EMERGENCY, 0.05)]),
                "reason": f"Synthetic reason: {_words(rng, 8, 35)}.", "shared_categories": shared,
                "consent_id": consent.id, "due_on": timezone.localdate(created) + datetime.timedelta(
                    days=rng.randrange(3, 15)) if rng.random() < 0.4 else None,
                "end_reason": "", "outcome": "", "feedback": "", "created_at": created, "sent_at": None,
                "accepted_at": None, "closed_at": None, "acted_by_id": None, **life}))
            if life.get("sent_at") is not None:
                grants.append((referral_id, (), (partner.staff_group_id,)))
            made["busy" if partner is busy else "other"] += 1
    consenting = Counter(c.client_id for c in consents)
    made.update(referrals=len(referrals), consents=len(consents), grants=len(grants),
                clients_consenting=len(consenting), clients_several=sum(1 for n in consenting.values() if n > 1))
    with transaction.atomic():
        Consent.objects.bulk_create(consents, batch_size=5_000)  # pre_save encrypts each purpose
        Referral.objects.bulk_create(referrals, batch_size=5_000)  # and each reason and feedback
        access.grant_each([VIEW], Referral, grants)  # what referral_send grants
    return made


@contextmanager
def _times_as_given():
    """``bulk_create`` keeps the creation and recording times seeded (two years of history), not today's."""
    fields = [Referral._meta.get_field("created_at"), Consent._meta.get_field("recorded_at")]
    for f in fields:
        f.auto_now_add = False
    try:
        yield
    finally:
        for f in fields:
            f.auto_now_add = True


def _worker_init() -> None:
    crypto.data_key_cache.clear()


def _partners() -> tuple[list[Partner], object]:
    """Forty partners with the demo partners' directories (alternately), each with a referral officer."""
    from casemgmt import services as platform
    from tests.factories import member

    provinces = list(Province.values)
    directories = list(demo.DIRECTORY.values())
    partners, officer = [], None
    for index in range(PARTNERS):
        organisation = platform.organisation_create(
            name=f"Bench NGO partner {index:02d}" + (" (busy)" if index == 0 else ""),
            kind=OrganisationKind.NGO_PARTNER, province=provinces[index % len(provinces)])
        user = member(f"bench-officer-{index:02d}", Role.REFERRAL_OFFICER, organisation, with_device=index == 0)
        officer = officer or user
        rows = [PartnerService(organisation=organisation, province=organisation.province, district="Bench district",
                               address="Bench street 1", contact="Bench desk 023 000 000",
                               languages="Khmer, English", eligibility="Adults referred by a centre", **row)
                for row in directories[index % len(directories)]]
        PartnerService.objects.bulk_create(rows)
        partners.append(Partner(index=index, id=organisation.pk, staff_group_id=organisation.staff_group_id,
                                officer_id=user.pk,
                                services=[(s.id, s.target_days) for s in rows if s.accepting_referrals]))
    return partners, officer


def seed(context: Context, clients: int, referrals: int) -> Seeded:
    global _PLAN
    seeded_clients = context.options.get("seeded_clients")
    if seeded_clients is None:  # the clients suite did not run first in this process: seed them now
        with override_settings(CASEMGMT_DATA_KEY_CACHE_SIZE=max(settings.CASEMGMT_DATA_KEY_CACHE_SIZE, 2 * BATCH)):
            seeded_clients = clients_bench.seed(clients)
        crypto.reset_keyring()
        context.options["seeded_clients"] = seeded_clients
    partners, officer = _partners()
    centres = seeded_clients.plan.centres
    batches = []
    for centre in centres:
        rows = list(Client.objects.filter(organisation_id=centre.id).exclude(status=ClientStatus.TRANSFERRED)
                    .order_by("id").values_list("id", "counsellor_id"))
        batches += [(centre.id, rows[start:start + BATCH]) for start in range(0, len(rows), BATCH)]
    total = sum(len(rows) for _centre, rows in batches)
    per_client = referrals / total
    referred_share = min(REFERRED_SHARE, per_client)  # fewer referrals than 65% of clients: fewer clients referred
    _PLAN = Plan(now=timezone.now(), partners=partners,
                 counsellor_of_centre={c.id: c.counsellor_ids[0] for c in centres},
                 measured_counsellors={u.pk for u in seeded_clients.counsellors},
                 referred_share=referred_share, extra_mean=per_client / referred_share - 1)
    # The busy partner's share from every batch, in proportion to its clients, adding up to the total exactly.
    busy = min(BUSY_MAX, round(referrals * BUSY_SHARE))
    tasks, before = [], 0
    for n, (centre_id, rows) in enumerate(batches):
        quota = busy * (before + len(rows)) // total - busy * before // total
        tasks.append((n, centre_id, rows, quota))
        before += len(rows)
    workers = 2 if clients >= 50_000 and (os.cpu_count() or 1) >= 2 else 1
    seeded = Seeded(clients=seeded_clients, partners=partners, officer=officer, workers=workers)
    print(f"  seeding about {referrals:,} referrals ({busy:,} to the busy partner) for {total:,} clients, "
          f"{PARTNERS} partners, in {len(tasks):,} batches, {workers} process(es) ...", flush=True)
    started = time.perf_counter()
    every = max(1, len(tasks) // 20)

    def progress(n: int) -> None:
        if n % every == 0 or n == len(tasks):
            elapsed = time.perf_counter() - started
            print(f"  seeded {seeded.made['referrals']:>10,} referrals, {seeded.made['consents']:>10,} consents  "
                  f"{elapsed:7.1f} s  {seeded.made['referrals'] / elapsed:8,.0f} referrals/s  "
                  f"RSS {peak_rss_mib():.0f} MiB  load {os.getloadavg()[0]:.1f}", flush=True)

    with override_settings(CASEMGMT_DATA_KEY_CACHE_SIZE=max(settings.CASEMGMT_DATA_KEY_CACHE_SIZE, 2 * BATCH)), \
            _times_as_given():
        if workers == 1:
            for n, task in enumerate(tasks, 1):
                seeded.made += _seed_batch(task)
                progress(n)
        else:
            connections.close_all()
            with multiprocessing.get_context("fork").Pool(workers, initializer=_worker_init) as pool:
                for n, made in enumerate(pool.imap_unordered(_seed_batch, tasks), 1):
                    seeded.made += made
                    progress(n)
    seeded.seconds = time.perf_counter() - started
    crypto.data_key_cache.clear()
    if connection.vendor == "postgresql":
        seeded.vacuum_seconds = _vacuum_analyze()
    return seeded


def _vacuum_analyze() -> float:
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for model in (Consent, Referral, ReferralGroupObjectPermission, PartnerService):
            cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
        cursor.execute("CHECKPOINT")
    return time.perf_counter() - started


def _busy_partner_mix(seeded: Seeded) -> str:
    """What the busy partner holds, counted in the database: the check that the seeding made what it says."""
    busy = seeded.partners[0]
    by_status = Counter(dict(Referral.objects.filter(to_organisation_id=busy.id).values_list("status")
                             .annotate(n=Count("pk")).values_list("status", "n")))
    granted = ReferralGroupObjectPermission.objects.filter(group_id=busy.staff_group_id).count()
    today = timezone.localdate()
    overdue = sum(1 for sent_at, days in Referral.objects.filter(
        to_organisation_id=busy.id, status=ReferralStatus.SENT).values_list("sent_at", "service__target_days")
        if timezone.localdate(sent_at) + datetime.timedelta(days=days) < today)
    sent_ever = sum(n for s, n in by_status.items() if s != ReferralStatus.DRAFT)
    open_ = {s: by_status[s] for s in (ReferralStatus.SENT, ReferralStatus.ACCEPTED, ReferralStatus.ATTENDED)}
    return (f"busy partner: {sum(by_status.values()):,} referrals, open: {open_[ReferralStatus.SENT]} sent "
            f"({overdue} overdue), {open_[ReferralStatus.ACCEPTED]} accepted, {open_[ReferralStatus.ATTENDED]} "
            f"attended, {by_status[ReferralStatus.DRAFT]} drafts; closed: "
            + ", ".join(f"{by_status[s]:,} {s}" for s in (ReferralStatus.COMPLETED, ReferralStatus.NO_SHOW,
                                                          ReferralStatus.CLOSED_UNRESOLVED, ReferralStatus.DECLINED,
                                                          ReferralStatus.CANCELLED))
            + f"; {granted:,} staff-group grants for {sent_ever:,} sent"
            + ("" if granted == sent_ever else " (MISMATCH: one grant per sent referral expected)"))


# --------------------------------------------------------------------------------------------
# Measuring


def _browser(user) -> Browser:
    """Signed in past the second factor, as ``bench.clients._browser``, checked on the home page (a referral
    officer has no caseload)."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    browser = Browser(HTTP_HOST="localhost")
    browser.force_login(user)
    session = browser.session
    session[DEVICE_ID_SESSION_KEY] = TOTPDevice.objects.get(user=user, confirmed=True).persistent_id
    session.save()
    response = browser.get(reverse("home"))
    assert response.status_code == 200, f"{user.username} is not signed in past 2FA ({response.status_code})"
    return browser


def _row(m, *, target_ms: float) -> Result:
    result = clients_bench._result(m, target_ms=target_ms)
    result.suite = SUITE
    return result


def _skipped(name: str, why: str) -> Result:
    return Result(SUITE, name, "", note=why)


def _inbox(seeded: Seeded, runs: int):
    browser = _browser(seeded.officer)
    url = reverse("home")

    def get(_n):
        response = browser.get(url)
        assert response.status_code == 200, response.status_code

    held = Referral.objects.filter(to_organisation_id=seeded.partners[0].id).count()
    open_ = Referral.objects.filter(to_organisation_id=seeded.partners[0].id, status__in=OPEN_STATUSES).count()
    m = clients_bench._measure(f"partner home (inbox), {held:,} referrals", get, list(range(runs)))
    m.notes.append(f"{open_:,} open listed")
    return _row(m, target_ms=INBOX_TARGET_MS), m


def _sendable(seeded: Seeded, count: int) -> list[tuple]:
    """(counsellor, client id, consent id): distinct clients of the measured counsellors, each with a consent
    in force to the busy partner."""
    busy = seeded.partners[0]
    today = timezone.localdate()
    out = []
    for counsellor in seeded.clients.counsellors:
        consents = {client_id: consent_id for client_id, consent_id, categories in Consent.objects.filter(
            client__counsellor=counsellor, client__organisation=counsellor.membership.organisation_id,
            kind=ConsentKind.SHARING, partner_id=busy.id, revoked_on=None, expires_on=None, given_on__lte=today)
            .exclude(client__status=ClientStatus.TRANSFERRED).order_by("client_id", "id")
            .values_list("client_id", "id", "categories") if set(ALL) <= set(categories)}
        out.append([(counsellor, client_id, consent_id) for client_id, consent_id in sorted(consents.items())])
    rng = random.Random(SEED + 1)
    for mine in out:
        rng.shuffle(mine)
    mixed = [x for pair in zip(*out, strict=False) for x in pair]  # the counsellors in turn
    if len(mixed) < count:
        raise RuntimeError(f"only {len(mixed)} clients to send for, {count} wanted")
    return mixed[:count]


def _send(seeded: Seeded, runs: int):
    today = timezone.localdate()
    services = seeded.partners[0].services
    browsers = {u.pk: clients_bench._browser(u) for u in seeded.clients.counsellors}
    rng = random.Random(SEED + 2)
    args = []
    for n, (counsellor, client_id, consent_id) in enumerate(_sendable(seeded, runs + 3)):
        args.append((browsers[counsellor.pk], reverse("referrals:new", args=[client_id]), {
            "service": str(services[n % len(services)][0]), "consent": str(consent_id),
            "shared_categories": ALL if n % 2 else ["hiv_status", "identity"],
            "reason": f"Synthetic reason: {_words(rng, 10, 30)}.", "urgency": Urgency.ROUTINE,
            "due_on": (today + datetime.timedelta(days=5)).isoformat(), "step": "send"}))
    before = Referral.objects.filter(status=ReferralStatus.SENT, to_organisation_id=seeded.partners[0].id).count()

    def post(arg):
        browser, url, data = arg
        response = browser.post(url, data)
        assert response.status_code == 302, f"HTTP {response.status_code}: not sent"

    m = clients_bench._measure("sending a referral (POST: create, consent check, send, grant)", post, args[3:],
                               warmup_args=args[:3])
    m.again = None  # each client once
    sent = Referral.objects.filter(status=ReferralStatus.SENT, to_organisation_id=seeded.partners[0].id).count()
    m.notes.append(f"{sent - before} sent to the busy partner, each for another client")
    return _row(m, target_ms=SEND_TARGET_MS), m


def _accept(seeded: Seeded, runs: int):
    busy = seeded.partners[0]
    browser = _browser(seeded.officer)
    ids = list(Referral.objects.filter(to_organisation_id=busy.id, status=ReferralStatus.SENT)
               .order_by("-sent_at").values_list("id", flat=True)[:runs + 3])
    if len(ids) < runs + 3:
        raise RuntimeError(f"only {len(ids)} sent referrals to accept, {runs + 3} wanted")

    def post(referral_id):
        response = browser.post(reverse("referrals:act", args=[referral_id]), {"action": "accept"})
        assert response.status_code == 302, response.status_code

    m = clients_bench._measure("accepting a referral (POST, partner officer)", post, ids[3:], warmup_args=ids[:3])
    m.again = None  # accepted once
    accepted = Referral.objects.filter(pk__in=ids[3:], status=ReferralStatus.ACCEPTED).count()
    m.notes.append(f"accepted {accepted}/{len(ids) - 3}")
    return _row(m, target_ms=ACCEPT_TARGET_MS), m


def _printing(browser, url: str, language: str):
    """How the letter page prints: GET with the language, or a POST of its print form (whichever gives a PDF)."""
    for method in ("get", "post"):
        response = getattr(browser, method)(url, {"language": language})
        if response.status_code == 200 and response["Content-Type"] == "application/pdf":
            return method, response
    return None, response


def _letter(seeded: Seeded, runs: int):
    counsellor = seeded.clients.counsellors[0]
    referral = (Referral.objects.filter(counsellor=counsellor, to_organisation_id=seeded.partners[0].id)
                .order_by("-created_at").first())
    if referral is None:
        raise RuntimeError("no referral of the measured counsellor to print")
    try:
        url = reverse(LETTER_NAME, args=[referral.pk])
    except NoReverseMatch:
        return [_skipped("referral letter PDF", f"skipped: {LETTER_NAME} {NOT_BUILT}")], []
    results, measured = [], []
    printer = None
    for who, user in (("counsellor", counsellor), ("partner officer", seeded.officer)):
        browser = clients_bench._browser(user) if user is counsellor else _browser(user)
        method, response = _printing(browser, url, "en")
        if method is not None:
            printer = (who, browser, method)
            break
    if printer is None:
        raise RuntimeError(f"the letter page gave no PDF to the counsellor or the officer (HTTP "
                           f"{response.status_code}, {response['Content-Type']})")
    who, browser, method = printer
    for language in ("en", "km"):
        pages = []

        def fetch(_n, language=language, pages=pages):
            response = getattr(browser, method)(url, {"language": language})
            assert response.status_code == 200 and response["Content-Type"] == "application/pdf", \
                response.status_code
            if not pages:
                pages.append(_pdf_pages(response.content))

        m = clients_bench._measure(f"referral letter PDF ({language})", fetch, list(range(runs)), warmup=1)
        m.notes.append(f"{pages[0] or '?'} page(s), {method.upper()} by the {who}")
        results.append(_row(m, target_ms=LETTER_TARGET_MS))
        measured.append(m)
    return results, measured


def _pdf_pages(content: bytes) -> int | None:
    import io

    try:
        from pypdf import PdfReader

        return len(PdfReader(io.BytesIO(content)).pages)
    except Exception:  # pypdf missing, or a document it cannot read: the page count is only information
        return None


def _cascade(seeded: Seeded, runs: int):
    try:
        url = reverse(CASCADE_NAME)
    except NoReverseMatch:
        return [_skipped("centre cascade for a year", f"skipped: {CASCADE_NAME} {NOT_BUILT}")], []
    year = timezone.localdate().year - 1  # the last whole year, all of it in the two years seeded
    params = {"period": "year", "year": str(year)}
    manager, counsellor = seeded.clients.managers[0], seeded.clients.counsellors[0]
    viewer = None
    for who, user in (("centre manager", manager), ("counsellor", counsellor)):
        browser = clients_bench._browser(user)
        response = browser.get(url, params)
        if response.status_code == 200:
            viewer = (who, user, browser)
            break
    if viewer is None:
        raise RuntimeError(f"the cascade page answered HTTP {response.status_code} to the manager and the counsellor")
    who, user, browser = viewer
    centre = user.membership.organisation_id
    start = timezone.make_aware(datetime.datetime(year, 1, 1))
    in_year = Referral.objects.filter(from_organisation_id=centre, sent_at__gte=start,
                                      sent_at__lt=start.replace(year=year + 1)).count()

    def get(_n):
        response = browser.get(url, params)
        assert response.status_code == 200, response.status_code

    m = clients_bench._measure(f"centre cascade for {year}", get, list(range(runs)))
    m.notes.append(f"{who} of a centre that sent {in_year:,} referrals in {year}; ?period=year&year={year}")
    return [_row(m, target_ms=CASCADE_TARGET_MS)], [m]


def _pages(seeded: Seeded, runs: int, quick: bool) -> tuple[list[Result], list]:
    results, measured = [], []
    def one(pair):
        return [pair[0]], [pair[1]]

    parts = [
        ("partner inbox", lambda: one(_inbox(seeded, runs))),
        ("sending", lambda: one(_send(seeded, runs))),
        ("accepting", lambda: one(_accept(seeded, runs))),
        ("referral letter", lambda: _letter(seeded, 3 if quick else 12)),
        ("cascade", lambda: _cascade(seeded, runs)),
    ]
    for label, part in parts:
        try:
            found, m = part()
        except Exception as exc:  # one broken page must not throw away the seeding
            traceback.print_exc()
            found, m = [Result(SUITE, f"{label}: failed", "", met=False, note=f"{type(exc).__name__}: {exc}"[:200])], []
        print(f"  ({label}: reference workload {reference_ms():.1f} ms; {clients_bench.REFERENCE_NOTE})", flush=True)
        for r in found:
            figures = f"median {r.median:.1f} p95 {r.p95:.1f} {r.unit}" if r.median is not None else ""
            verdict = "" if r.met is None else "met" if r.met else "NOT MET"
            print(f"  {r.name}: {figures} {verdict}; {r.note}", flush=True)
        results += list(found)
        measured += list(m)
    return results, measured


def run(context: Context) -> list[Result]:
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - imports the URLconf and with it the views
    clients = int(context.options.get("clients") or (QUICK_CLIENTS if context.quick else clients_bench.CLIENTS))
    referrals = int(context.options.get("referrals") or (QUICK_REFERRALS if context.quick
                                                         else clients * REFERRALS_PER_CLIENT))
    runs = 40 if context.quick else 200
    if context.vendor != "postgresql":
        print("  (not PostgreSQL: the targets are for PostgreSQL; numbers are indicative only)", flush=True)
    with override_settings(CASEMGMT_EXPECTED_SUBJECTS=clients):
        seeded = seed(context, clients, referrals)
        made = seeded.made
        rate = made["referrals"] / seeded.seconds
        mix = _busy_partner_mix(seeded)
        print(f"  seeded {made['referrals']:,} referrals, {made['consents']:,} sharing consents and "
              f"{made['grants']:,} grants in {seeded.seconds:.1f} s ({rate:,.0f} referrals/s), VACUUM ANALYZE and "
              f"CHECKPOINT {seeded.vacuum_seconds:.1f} s\n  {mix}", flush=True)
        results = [Result(
            SUITE, f"seeding {made['referrals']:,} referrals", "s", value=seeded.seconds,
            note=f"{rate:,.0f} referrals/s, {seeded.workers} process(es); {made['consents']:,} sharing consents "
                 f"({made['clients_consenting']:,} clients with one or more, {made['clients_several']:,} with "
                 f"several), "
                 f"{made['grants']:,} staff-group grants; reasons and feedback encrypted through the field; "
                 f"{PARTNERS} partners; for {clients:,} clients; {mix}")]
        crypto.data_key_cache.clear()
        print(f"  (before measuring: reference workload {reference_ms():.1f} ms; {clients_bench.REFERENCE_NOTE})",
              flush=True)
        found, measured = _pages(seeded, runs, context.quick)
        results += found
        print("\n  Where the time goes (database statements by total time per request):")
        for m in measured:
            print(clients_bench._profile(m, top=6))
        for m, r in zip(measured, [r for r in found if r.median is not None], strict=False):
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
