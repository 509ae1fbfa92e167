"""The crossing of 100 % without the gateway: what ``consumption.post_increments`` costs for the
minute record that exhausts a month, on a committed database. Prints one JSON object.

    python benchmarks/quota_crossing.py            # 60 crossings (the quota loop's enterprises)
    python benchmarks/quota_crossing.py --quick    # 10 crossings, a smoke run for CI
    python benchmarks/quota_crossing.py --profile  # and the cProfile of the measured crossings (stderr)

Runs on a fresh database ``bench_quota_crossing`` on the embedded server (dropped at the end unless
``--keep``), seeded like ``benchmarks/quota_loop.py``: enterprises with a total-control logger and
a valve, their own policy (grace 0), 10,000 m³ loaded for the month and 9,900 m³ consumed. Each
crossing posts one 150 m³ record through ``post_increments`` in autocommit mode, as the gateway hook
does, and measures:

* ``close_ms``: from the call to the moment the close command (``close_valve``, CN 3801) is announced
  to the gateway's command listener — which happens after the commit that makes it durable;
* ``total_ms``: the whole call, the work after the close included (the sound-and-light indication,
  the alarm's notifications);
* ``queries_until_close`` / ``queries_total``: the SQL statements of the call (BEGIN included).

The quota loop (``benchmarks/quota_loop.py``) adds the gateway around this: the frame's group
commit and ack, the hook's hop to its thread, and the command's way out.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import quota_loop as ql  # noqa: E402  (the sibling benchmark: the seeding of the enterprises at 99 %)

DB_NAME = "bench_quota_crossing"
WARM_UP = 3  # crossings not measured (connections, caches, the first compiled queries)


def setup(trials: int) -> list[str]:
    """A fresh database with ``trials`` enterprises at 99 % of their month; their loggers' MNs."""
    ql.DB_NAME = DB_NAME
    ql.fresh_database()  # sets TOTALCAP_DB_NAME
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "totalcap.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from totalcap.registry.services import load_reference_data

    call_command("migrate", interactive=False, verbosity=0)
    load_reference_data()
    return ql.setup_controlled(trials)


def drop_database() -> None:
    import psycopg
    from django.db import connections

    from totalcap.base import embedded

    connections.close_all()
    info = embedded.ensure_server()
    with psycopg.connect(host=info.host, port=info.port, user="postgres", dbname="postgres",
                         autocommit=True) as conn:  # fmt: skip
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


class Probe:
    """Notes when the close command is announced, and how many statements had run by then."""

    def __init__(self, queries: Any) -> None:
        self.queries = queries  # a CaptureQueriesContext (BEGIN and COMMIT are logged too)
        self.close_at: float | None = None
        self.close_statements = 0

    def listener(self, command_id: int, logger_id: int, prepared: tuple[Any, ...]) -> None:
        if prepared[0] == "close_valve" and self.close_at is None:
            self.close_at = time.perf_counter()
            self.close_statements = len(self.queries.captured_queries)


def crossings(mns: list[str], profile: cProfile.Profile | None) -> list[dict[str, float]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from totalcap.ingest import services as ingest_services
    from totalcap.quotas.services.consumption import Increment, post_increments
    from totalcap.registry.models import DataLogger

    results = []
    for i, mn in enumerate(mns):
        data_logger = DataLogger.objects.get(mn=mn)
        at = timezone.now() + timedelta(seconds=1)
        record = Increment(
            data_logger.outlet_id, "w00000", at, Decimal("150"),
            f"cons:{data_logger.pk}:w00000:m:{at.astimezone(UTC).isoformat()}",
            {"hour": at.isoformat(), "provisional": True, "logger": data_logger.pk, "kind": "m", "pollutant": "w00000"},
        )  # fmt: skip
        queries = CaptureQueriesContext(connection)
        probe = Probe(queries)
        ingest_services.add_command_listener(probe.listener)
        measured = profile is not None and i >= WARM_UP
        try:
            with queries:
                start = time.perf_counter()
                if measured:
                    profile.enable()  # type: ignore[union-attr]
                result = post_increments([record])
                if measured:
                    profile.disable()  # type: ignore[union-attr]
                end = time.perf_counter()
        finally:
            ingest_services.remove_command_listener(probe.listener)
        if not result or result[0].new_level != 3 or probe.close_at is None:
            raise SystemExit(f"quota_crossing: crossing {i} did not close the valve ({result})")
        results.append(
            {
                "close_ms": (probe.close_at - start) * 1000,
                "total_ms": (end - start) * 1000,
                "queries_until_close": probe.close_statements,
                "queries_total": len(queries.captured_queries),
            }
        )
    return results[WARM_UP:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10 crossings (CI)")
    parser.add_argument("--trials", type=int, default=None)
    parser.add_argument("--profile", action="store_true", help="cProfile of the measured crossings on stderr")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args()
    n = args.trials or (10 if args.quick else 60)
    t0 = time.monotonic()
    mns = setup(n + WARM_UP)
    setup_s = time.monotonic() - t0
    profile = cProfile.Profile() if args.profile else None
    try:
        measured = crossings(mns, profile)
    finally:
        if not args.keep:
            drop_database()

    def median(key: str) -> float:
        return round(statistics.median(r[key] for r in measured), 2)

    out = {
        "benchmark": "quota_crossing", "quick": args.quick, "cpus": os.cpu_count(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"), "setup_s": round(setup_s, 1),
        "crossings": len(measured),
        "close_p50_ms": median("close_ms"), "close_max_ms": round(max(r["close_ms"] for r in measured), 2),
        "total_p50_ms": median("total_ms"), "total_max_ms": round(max(r["total_ms"] for r in measured), 2),
        "queries_until_close": max(int(r["queries_until_close"]) for r in measured),
        "queries_total": max(int(r["queries_total"]) for r in measured),
    }  # fmt: skip
    print(json.dumps(out, ensure_ascii=False))
    if profile is not None:
        text = io.StringIO()
        pstats.Stats(profile, stream=text).sort_stats("cumulative").print_stats(40)
        print(text.getvalue(), file=sys.stderr)


if __name__ == "__main__":
    main()
