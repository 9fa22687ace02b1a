"""python -m bench [--only crypto,...] [--quick]: run benchmark suites on a fresh database schema.

With DATABASE_URL set (``make bench`` starts a throwaway PostgreSQL), the schema is created in a
test database next to it and dropped afterwards; otherwise an in-memory SQLite database is used.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import sys
import time

# The benchmarks use the test settings: the test-only app (tests.cryptotest) and fresh random keys.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

SUITES = {
    "crypto": "bench.crypto",
    "clients": "bench.clients",
    "counselling": "bench.counselling",
    "plans": "bench.plans",
    "referrals": "bench.referrals",
}


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", default=[], metavar="SUITE",
                        help=f"run only these suites (comma-separated or repeated): {', '.join(SUITES)}")
    parser.add_argument("--quick", action="store_true", help="fewer samples and smaller data sets (a smoke run)")
    parser.add_argument("--rotation-keys", type=int, default=None, help="data keys to rotate (default 100,000)")
    parser.add_argument("--clients", type=int, default=None, help="clients to seed (default 1,000,000)")
    parser.add_argument("--sessions", type=int, default=None,
                        help="counselling sessions to seed (default 5 per client)")
    parser.add_argument("--referrals", type=int, default=None, help="referrals to seed (default 2 per client)")
    parser.add_argument("--list", action="store_true", help="list the suites and exit")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.list:
        print("\n".join(SUITES))
        return 0
    chosen = [name.strip() for item in args.only for name in item.split(",") if name.strip()] or list(SUITES)
    unknown = [name for name in chosen if name not in SUITES]
    if unknown:
        print(f"Unknown suite(s): {', '.join(unknown)}. Known: {', '.join(SUITES)}", file=sys.stderr)
        return 2

    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_databases, teardown_databases

    from bench.common import Context, peak_rss_mib, table

    old_config = setup_databases(verbosity=0, interactive=False, aliases={"default"})
    try:
        with connection.cursor():
            server = connection.vendor
            if connection.vendor == "postgresql":
                server = f"PostgreSQL {connection.pg_version // 10000}.{connection.pg_version % 10000}"
        import cryptography

        print(f"Python {platform.python_version()}, cryptography {cryptography.__version__}, {server}, "
              f"{os.cpu_count()} CPUs, {platform.machine()}", flush=True)
        context = Context(vendor=connection.vendor, quick=args.quick, options={"rotation_keys": args.rotation_keys,
                                                                               "clients": args.clients,
                                                                               "sessions": args.sessions,
                                                                               "referrals": args.referrals})
        results = []
        for name in chosen:
            started = time.perf_counter()
            print(f"Running suite {name} ...", flush=True)
            results += importlib.import_module(SUITES[name]).run(context)
            print(f"  done in {time.perf_counter() - started:.1f} s", flush=True)
    finally:
        teardown_databases(old_config, verbosity=0)

    print()
    print(table(results))
    print(f"\nPeak memory (RSS) of the whole run: {peak_rss_mib():.0f} MiB")
    missed = [r for r in results if r.met is False]
    if missed:
        print(f"{len(missed)} target(s) not met: " + "; ".join(r.name for r in missed))
    else:
        print("Every target with a verdict is met.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
