"""What every suite shares: results, timing, and the table they are printed in."""

from __future__ import annotations

import gc
import math
import resource
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Result:
    """One line of the table. ``median``/``p95`` for latencies; ``value`` alone for a rate or a ratio."""

    suite: str
    name: str
    unit: str
    median: float | None = None
    p95: float | None = None
    value: float | None = None
    target: str = ""
    met: bool | None = None
    note: str = ""


@dataclass
class Context:
    """What the runner hands each suite."""

    vendor: str
    quick: bool = False
    options: dict = field(default_factory=dict)


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    rank = max(0, math.ceil(q / 100 * len(ordered)) - 1)
    return ordered[rank]


def time_each(fn: Callable[[], object], *, runs: int, warmup: int = 200) -> list[float]:
    """Microseconds taken by each of ``runs`` calls, the garbage collector paused."""
    for _ in range(warmup):
        fn()
    clock = time.perf_counter_ns
    samples = [0.0] * runs
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        for i in range(runs):
            started = clock()
            fn()
            samples[i] = (clock() - started) / 1000
    finally:
        if was_enabled:
            gc.enable()
    return samples


def time_pair(first: Callable[[], object], second: Callable[[], object], *, runs: int,
              warmup: int = 200) -> tuple[list[float], list[float]]:
    """Like ``time_each`` for two functions, called in turn, so that both meet the same machine noise."""
    for _ in range(warmup):
        first()
        second()
    clock = time.perf_counter_ns
    a, b = [0.0] * runs, [0.0] * runs
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        for i in range(runs):
            started = clock()
            first()
            middle = clock()
            second()
            a[i], b[i] = (middle - started) / 1000, (clock() - middle) / 1000
    finally:
        if was_enabled:
            gc.enable()
    return a, b


def latency(suite: str, name: str, samples: list[float], *, target_us: float | None = None, note: str = "") -> Result:
    median, p95 = statistics.median(samples), percentile(samples, 95)
    result = Result(suite, name, "µs", median=median, p95=p95, note=note)
    if target_us is not None:
        result.target = f"p95 ≤ {target_us:g} µs"
        result.met = p95 <= target_us
    return result


def reference_ms(rounds: int = 5) -> float:
    """Best time of a fixed piece of work shaped like a page's (objects made, a template loop rendered,
    text escaped): how fast this machine runs such code right now.

    On a shared virtual machine the same code can take half as long again when the host is busy;
    printed next to the results, it tells a slow run from a slow change.
    """
    from django.template import Context, Engine

    template = Engine().from_string(
        "{% for row in rows %}<tr><td>{{ row.name }}</td><td>{{ row.code|upper }}</td>"
        "<td>{{ row.n }}</td></tr>{% endfor %}")
    best = math.inf
    for _ in range(rounds):
        started = time.perf_counter()
        rows = [{"name": f"<row {i}>", "code": f"c{i % 97}", "n": i * i % 7} for i in range(1_000)]
        template.render(Context({"rows": rows}))
        best = min(best, time.perf_counter() - started)
    return best * 1000


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _number(value: float | None) -> str:
    if value is None:
        return ""
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def table(results: list[Result]) -> str:
    headers = ["suite", "benchmark", "median", "p95", "value", "unit", "target", "met", "note"]
    rows = [
        [r.suite, r.name, _number(r.median), _number(r.p95), _number(r.value), r.unit, r.target,
         "" if r.met is None else ("yes" if r.met else "NO"), r.note]
        for r in results
    ]
    widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h) for i, h in enumerate(headers)]
    numeric = {2, 3, 4}

    def line(cells: list[str]) -> str:
        return "  ".join(c.rjust(w) if i in numeric else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths,
                                                                                                   strict=True)))

    out = [line(headers), "  ".join("-" * w for w in widths)]
    out += [line(row).rstrip() for row in rows]
    return "\n".join(out)


class CryptoClock:
    """Time spent in encryption while it is on: every call into ``casemgmt.crypto`` that encrypts, decrypts,
    unwraps a data key or computes a blind index, outermost calls only (a decryption that unwraps its key
    counts once), less the database time of the queries they make (a data key's row): those are counted with
    the page's queries. The wrappers add ~0.3 µs a call, so the share printed is an upper bound.

    Used as ``with CryptoClock() as clock: ...; clock.ms``: the functions are patched on the module, which
    is where the fields, the managers and the services look them up.
    """

    NAMES = ("encrypt", "decrypt", "data_key", "new_subject", "load_data_keys", "unwrap_data_key", "wrap_data_key",
             "blind_index", "blind_index_candidates")

    def __init__(self) -> None:
        self.ns = 0
        self.db_ns = 0
        self._depth = 0
        self._saved: dict = {}
        self._wrapper = None

    @property
    def ms(self) -> float:
        return (self.ns - self.db_ns) / 1e6

    def _database(self, execute, sql, params, many, context):
        if not self._depth:
            return execute(sql, params, many, context)
        started = time.perf_counter_ns()
        try:
            return execute(sql, params, many, context)
        finally:
            self.db_ns += time.perf_counter_ns() - started

    def _wrap(self, fn):
        clock = time.perf_counter_ns

        def timed(*args, **kwargs):
            if self._depth:
                return fn(*args, **kwargs)
            self._depth = 1
            started = clock()
            try:
                return fn(*args, **kwargs)
            finally:
                self.ns += clock() - started
                self._depth = 0

        return timed

    def __enter__(self) -> CryptoClock:
        from django.db import connection

        from casemgmt import crypto

        for name in self.NAMES:
            self._saved[name] = getattr(crypto, name)
            setattr(crypto, name, self._wrap(self._saved[name]))
        self._wrapper = connection.execute_wrapper(self._database)
        self._wrapper.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        from casemgmt import crypto

        for name, fn in self._saved.items():
            setattr(crypto, name, fn)
        self._saved.clear()
        self._wrapper.__exit__(*exc)


CRYPTO_SHARE_TARGET = 0.10  # encryption at most 10% of each page's time
