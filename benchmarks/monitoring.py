"""Monitoring data: minute → hour aggregation under the validity rules, and monthly totals.

Prints ONE JSON line with, measured in the same run:

* ``aggregate_s``: the platform's minute → hour computation (:func:`compute_hours`: validity of every
  minute, the 45-minute rule, HJ 212 aggregate flags, flow-weighted means, dry basis, reference-O2
  conversion, hourly amounts, comparison with the logger's hourly values) for one day of minute data
  of N outlets × 6 parameters, written to ``monitoring_hour``;
* ``floor_s``: one SQL GROUP BY over the same rows without any rule (``avg, count`` per outlet, parameter
  and hour, written to a temporary table), and ``ratio`` = aggregate / floor (target ≤ 3);
* ``pipeline_s``: the whole recomputation of that day (hours, days, months, accounting with versions,
  totals, screening);
* ``monthly_totals_s``: reading the monthly totals of N outlets × 6 pollutants for a year from the
  maintained month records, warm (target < 1 s), built from a year of hourly amounts
  (N × 6 × 8 760 rows; ``rollup_s`` is the time to build the day/month/year records from them), and
  ``monthly_floor_s``: the same totals by one GROUP BY over the year of hourly rows.

It runs in its own database (``bench_monitoring`` on the embedded server, or ``--database``), created
and migrated at the start and dropped at the end (``--keep`` keeps it), so it never touches the
application or test databases.

Usage: ``python benchmarks/monitoring.py [--quick] [--outlets N] [--months M] [--explain] [--keep]``
(``--quick``: 10 outlets, 3 months of hourly amounts, one repetition — a smoke run for CI that proves the
script works, not a measurement; the full run — 1 000 outlets, 8.6 M minute values and 52.6 M hourly
values — takes about half an hour on two cores.)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

TARGET_RATIO = 3.0
TARGET_MONTHLY_S = 1.0
WATER = ["w00000", "w01018", "w21003", "w21011", "w21001", "w01001"]
AIR = ["a00000", "a21026", "a21002", "a34013", "a19001", "a01012"]
BASE = {"w00000": 20, "w01018": 45, "w21003": 5, "w21011": 0.5, "w21001": 12, "w01001": 7,
        "a00000": 60, "a21026": 35, "a21002": 80, "a34013": 8, "a19001": 9, "a01012": 120}  # fmt: skip


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def setup_django(database: str) -> None:
    os.environ["TOTALCAP_DB_NAME"] = database
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "totalcap.settings")
    import django

    django.setup()


def drop_database(database: str, *, create: bool = False) -> None:
    """Drop the benchmark database (and create it empty again when ``create``)."""
    import psycopg
    from django.db import connection

    connection.close()
    from totalcap.base.embedded import ensure_server

    info = ensure_server()
    with psycopg.connect(
        host=info.host, port=info.port, user="postgres", dbname="postgres", autocommit=True
    ) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        if create:
            c.execute(f'CREATE DATABASE "{database}"')


def build_registry(n: int) -> list[int]:
    """N outlets (half wastewater, half flue gas from power-plant boilers), one logger each."""
    from totalcap.registry.models import DataLogger, Enterprise, Industry, Jurisdiction, Outlet, Pollutant
    from totalcap.registry.services import load_reference_data
    from totalcap.registry.validators import make_credit_code

    load_reference_data()
    county = Jurisdiction.objects.get(code="321202")
    paper, power = Industry.objects.get(code="2221"), Industry.objects.get(code="4411")
    per_enterprise = 20
    enterprises = [
        Enterprise(credit_code=make_credit_code("91", "321202", f"BM{i:06d}"), name=f"基准测试企业{i:04d}",
                   industry=paper if i % 2 == 0 else power, jurisdiction=county)
        for i in range((n + per_enterprise - 1) // per_enterprise)
    ]  # fmt: skip
    Enterprise.objects.bulk_create(enterprises)
    outlets = []
    for i in range(n):
        enterprise = enterprises[i // per_enterprise]
        water = enterprise.industry_id == paper.pk
        outlets.append(Outlet(enterprise=enterprise, code=f"{'DW' if water else 'DA'}{i % per_enterprise + 1:03d}",
                              name=f"排放口{i}", medium="water" if water else "air",
                              source_type="" if water else "燃煤锅炉"))  # fmt: skip
    Outlet.objects.bulk_create(outlets)
    loggers = [DataLogger(mn=f"BENCH{o.pk:019d}", outlet=o, password="123456") for o in outlets]
    DataLogger.objects.bulk_create(loggers)
    codes = {p.code: p.pk for p in Pollutant.objects.filter(code__in=WATER + AIR)}
    through = DataLogger.pollutants.through
    through.objects.bulk_create(
        [through(datalogger_id=lg.pk, pollutant_id=codes[c]) for lg, o in zip(loggers, outlets, strict=True)
         for c in (WATER if o.medium == "water" else AIR)]
    )  # fmt: skip
    return [o.pk for o in outlets]


def generate_minutes(day_start: dt.datetime) -> int:
    """One day of minute data: every outlet's six parameters, flag N except a 10-minute calibration
    of each analyser at 03:00 and a two-hour maintenance on one outlet in fifty; inserted in time order
    as loggers send them."""
    from django.db import connection

    values = ", ".join(f"('{c}', {BASE[c]}, {'true' if c not in ('w00000', 'a00000', 'a01012') else 'false'})"
                       for c in WATER + AIR)  # fmt: skip
    with connection.cursor() as cur:
        cur.execute(
            f"""
            INSERT INTO monitoring_sample (logger_id, outlet_id, kind, pollutant, data_time, value, flag, frame_id,
                received_at)
            SELECT l.id, l.outlet_id, 'm', p.code, ts,
                round((p.base * (1 + 0.2 * sin(extract(epoch FROM ts) / 3600.0 + l.id)) + random() * p.base * 0.05)::numeric, 3),
                CASE WHEN p.analyser AND extract(hour FROM ts AT TIME ZONE 'Asia/Shanghai') = 3
                          AND extract(minute FROM ts) < 10 THEN 'C'
                     WHEN l.id %% 50 = 0 AND extract(hour FROM ts AT TIME ZONE 'Asia/Shanghai') IN (10, 11) THEN 'M'
                     ELSE 'N' END,
                (extract(epoch FROM ts)::bigint / 60) * 10000 + l.id, now()
            FROM generate_series(%s::timestamptz, %s::timestamptz, interval '1 minute') ts
            CROSS JOIN registry_datalogger l
            JOIN registry_outlet o ON o.id = l.outlet_id
            JOIN (VALUES {values}) p(code, base, analyser) ON left(p.code, 1) = CASE o.medium WHEN 'water' THEN 'w' ELSE 'a' END
            """,
            [day_start, day_start + dt.timedelta(days=1) - dt.timedelta(minutes=1)],
        )
        rows = cur.rowcount
        cur.execute("DELETE FROM monitoring_dirty")
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE monitoring_sample_m")
    return int(rows)


def timed(fn: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


FLOOR_SQL = """
    CREATE TEMP TABLE bench_floor AS
    SELECT outlet_id, pollutant, date_trunc('hour', data_time) AS hour, avg(value) AS value, count(*) AS n
    FROM monitoring_sample
    WHERE kind = 'm' AND data_time >= %s AND data_time < %s
    GROUP BY 1, 2, 3
"""


def floor(day_start: dt.datetime) -> float:
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SET LOCAL work_mem = '256MB'")
        start = time.perf_counter()
        cur.execute(FLOOR_SQL, [day_start, day_start + dt.timedelta(days=1)])
        elapsed = time.perf_counter() - start
        cur.execute("DROP TABLE bench_floor")
    return elapsed


def aggregate(ids: list[int], day_start: dt.datetime) -> tuple[float, float, int]:
    """(context load seconds, compute_hours seconds, rows)."""
    from django.db import connection, transaction

    from totalcap.monitoring.services.context import load_contexts, load_outlet_params
    from totalcap.monitoring.services.hours import compute_hours

    with transaction.atomic():
        with connection.cursor() as cur:
            cur.execute("SET LOCAL work_mem = '256MB'")
        ctx_s, contexts = timed(lambda: load_contexts(ids))
        load_outlet_params(contexts.values())
        steps: dict[str, float] = {}
        agg_s, rows = timed(
            lambda: compute_hours(contexts, day_start, day_start + dt.timedelta(days=1), steps)
        )
    log("  steps: " + ", ".join(f"{k} {v:.2f}" for k, v in steps.items()))
    return ctx_s, agg_s, rows


def explain(sql: str, params: Any, settings: tuple[str, ...] = ()) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of ``sql``, rolled back; ``settings`` are applied with SET LOCAL so
    they never leak into the measurements that follow."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SET LOCAL work_mem = '256MB'")
        for setting in settings:
            cur.execute(f"SET LOCAL {setting}")
        cur.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql, params)
        plan = "\n".join(r[0] for r in cur.fetchall())
        transaction.set_rollback(True)
    return plan


def generate_year(ids: list[int], first: dt.date, months: int) -> int:
    """A year of accounted hourly amounts (6 pollutants per outlet), month by month."""
    from django.db import connection

    from totalcap.base import partitions

    partitions.ensure_range(
        "monitoring_emission_hour", "data_time", first, partitions.add_months(first, months - 1)
    )
    total = 0
    with connection.cursor() as cur:
        for m in range(months):
            month = partitions.add_months(first, m)
            start, end = partitions.bound(month), partitions.bound(partitions.add_months(month, 1))
            cur.execute(
                """
                INSERT INTO monitoring_emission_hour (outlet_id, pollutant, data_time, version, kg, method, hour_status,
                    log_id, accounted_at)
                SELECT o.id, p.code, ts, 1, round((random() * 2)::numeric, 6),
                    CASE WHEN random() < 0.02 THEN 'auto_substituted' ELSE 'auto_valid' END,
                    'v', 0, now()
                FROM generate_series(%s::timestamptz, %s::timestamptz, interval '1 hour') ts
                CROSS JOIN registry_outlet o
                CROSS JOIN unnest(CASE o.medium WHEN 'water' THEN %s::text[] ELSE %s::text[] END) p(code)
                WHERE o.id = ANY(%s)
                """,
                [start, end - dt.timedelta(hours=1), WATER, AIR, ids],
            )
            total += cur.rowcount
            log(f"  {month:%Y-%m}: {total:,} hourly rows")
        cur.execute("VACUUM ANALYZE monitoring_emission_hour")
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="CI smoke run: 10 outlets, 3 months of hourly data, one repetition",
    )
    parser.add_argument("--outlets", type=int, default=None)
    parser.add_argument("--database", default="bench_monitoring")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE plans to stderr")
    parser.add_argument("--repeat", type=int, default=None, help="timed repetitions (3; 1 with --quick)")
    parser.add_argument(
        "--months",
        type=int,
        default=None,
        help="months of hourly amounts for the totals (12; 3 with --quick)",
    )
    parser.add_argument(
        "--reuse", action="store_true", help="reuse a database kept with --keep (no generation)"
    )
    parser.add_argument("--skip-year", action="store_true", help="only the minute → hour part")
    args = parser.parse_args()
    n = args.outlets or (10 if args.quick else 1000)
    repeat = args.repeat or (1 if args.quick else 3)
    months = args.months or (3 if args.quick else 12)

    setup_django(args.database)
    from django.core.management import call_command
    from django.db import connection

    try:
        from totalcap.base.partitions import add_months, bound, today_beijing

        today = today_beijing()
        day = today - dt.timedelta(days=1)
        day_start = bound(day)
        if args.reuse:
            from totalcap.registry.models import Outlet

            ids = list(Outlet.objects.order_by("pk").values_list("pk", flat=True))
            n = len(ids)
            with connection.cursor() as cur:
                cur.execute(
                    "SELECT count(*) FROM monitoring_sample WHERE kind = 'm' AND data_time >= %s", [day_start]
                )
                minute_rows = int(cur.fetchone()[0])
        else:
            drop_database(args.database, create=True)
            log(f"migrating {args.database}")
            call_command("migrate", verbosity=0)
            ids = build_registry(n)
            log(f"generating one day of minute data for {n} outlets")
            gen_s, minute_rows = timed(lambda: generate_minutes(day_start))
            log(f"  {minute_rows:,} minute values in {gen_s:.1f} s")

        floors, aggs, ctx_times = [], [], []
        floors.append(floor(day_start))  # warm the cache
        for _ in range(repeat):
            floors.append(floor(day_start))
            ctx_s, agg_s, hour_rows = aggregate(ids, day_start)
            aggs.append(agg_s)
            ctx_times.append(ctx_s)
            log(f"  floor {floors[-1]:.2f} s, aggregate {agg_s:.2f} s ({hour_rows:,} hour rows)")
        from totalcap.monitoring.services import pipeline

        pipeline_s, report = timed(
            lambda: pipeline.recompute(ids, day_start, day_start + dt.timedelta(days=1), cause="benchmark")
        )
        log(f"  whole pipeline for the day: {pipeline_s:.2f} s {report.as_dict()}")

        if args.explain:
            log("EXPLAIN floor:\n" + explain(FLOOR_SQL, [day_start, day_start + dt.timedelta(days=1)]))
            from totalcap.monitoring.services.hours import WHOLE_RANGE_OUTLETS, fast_pass_sql

            end = day_start + dt.timedelta(days=1)
            # the statement and the planner settings of hours.fast_pass, as compute_hours runs it
            fast = "CREATE TEMP TABLE bench_fast AS " + fast_pass_sql(
                ["w00000"], by_outlet=len(ids) < WHOLE_RANGE_OUTLETS
            )
            params = {"ids": ids, "start": day_start, "end": end, "flows": ["w00000"]}
            log(
                "EXPLAIN hourly aggregation (fast pass):\n"
                + explain(fast, params, ("enable_mergejoin = off", "enable_nestloop = off"))
            )

        result: dict[str, Any] = {
            "benchmark": "monitoring",
            "quick": bool(args.quick),
            "outlets": n,
            "parameters_per_outlet": 6,
            "minute_values": minute_rows,
            "aggregate_s": round(min(aggs), 3),
            "floor_s": round(min(floors[1:]), 3),
            "ratio": round(min(aggs) / min(floors[1:]), 2),
            "target_ratio": TARGET_RATIO,
            "context_load_s": round(min(ctx_times), 3),
            "pipeline_s": round(pipeline_s, 3),
        }
        if args.skip_year:
            print(json.dumps(result), flush=True)
            return
        # --- a year of hourly amounts → monthly totals ----------------------------------------------
        first = add_months(today.replace(day=1), -months)
        if args.reuse:
            with connection.cursor() as cur:
                cur.execute(
                    "SELECT count(*) FROM monitoring_emission_hour WHERE data_time < %s",
                    [bound(today.replace(day=1))],
                )
                year_rows = int(cur.fetchone()[0])
        else:
            log(f"generating {months} months of hourly amounts for {n} outlets × 6 pollutants")
            _gen_s, year_rows = timed(lambda: generate_year(ids, first, months))
        from totalcap.monitoring.services import accounting, totals

        days = [
            (o, first + dt.timedelta(days=d))
            for o in ids
            for d in range((add_months(first, months) - first).days)
        ]
        log(f"building day/month/year totals ({len(days):,} outlet-days)")
        from django.db import transaction

        def rollup() -> int:
            with transaction.atomic():
                with connection.cursor() as cur:
                    cur.execute("SET LOCAL work_mem = '256MB'")
                return len(totals.roll_up(days, {}, "benchmark"))

        rollup_s, changed = timed(rollup)
        log(f"  {changed:,} totals in {rollup_s:.1f} s")
        last = add_months(first, months - 1)
        monthly = []
        for _ in range(repeat + 1):
            elapsed, rows = timed(lambda: accounting.monthly_totals(ids, first, last))
            monthly.append(elapsed)
        monthly_rows = len(rows)
        month_floor_sql = """
            SELECT outlet_id, pollutant, date_trunc('month', data_time AT TIME ZONE 'Asia/Shanghai') AS month, sum(kg)
            FROM monitoring_emission_hour WHERE data_time >= %s AND data_time < %s GROUP BY 1, 2, 3"""
        with connection.cursor() as cur:
            cur.execute("SET work_mem = '256MB'")
            month_floor_s, _ = timed(
                lambda: cur.execute(month_floor_sql, [bound(first), bound(add_months(first, months))])
            )
        if args.explain:
            log("EXPLAIN monthly totals:\n" + explain(
                "SELECT outlet_id, pollutant, period_start, kg, method, capture_rate, version FROM "
                "monitoring_emission_total WHERE period = 'month' AND outlet_id = ANY(%s) AND period_start >= %s "
                "AND period_start <= %s ORDER BY outlet_id, pollutant, period_start",
                [ids, first, last],
            ))  # fmt: skip

        result.update(
            {
                "months": months,
                "hourly_values": year_rows,
                "rollup_s": round(rollup_s, 1),
                "monthly_totals_rows": monthly_rows,
                "monthly_totals_s": round(min(monthly[1:]), 4),
                "monthly_totals_cold_s": round(monthly[0], 4),
                "monthly_floor_s": round(month_floor_s, 2),
                "target_monthly_s": TARGET_MONTHLY_S,
                "machine": f"{platform.machine()} {os.cpu_count()} cpu, Python {platform.python_version()}",
            }
        )
        print(json.dumps(result), flush=True)
    finally:
        if not (args.keep or args.reuse):
            drop_database(args.database)


if __name__ == "__main__":
    main()
