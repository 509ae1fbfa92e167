"""Period totals: day from hours, month from days, year from months — each a versioned record.

A total whose recomputation differs from its current version gets a new version and a revision row
with the fields that changed (``{field: [old, new]}``); an unchanged total is left alone. The
capture rate of a period is valid / (hours − stopped [− process]) over the accounted hours with
automatic monitoring (monitoring-data.md §3).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import connection

from totalcap.base.partitions import add_months
from totalcap.monitoring.models.accounting import METHOD_COLUMNS
from totalcap.monitoring.services.context import beijing_day_start, fill, temp_table

ALL_METHODS = (*[str(m) for m in METHOD_COLUMNS], "stopped", "unaccounted")
#: Columns compared between versions (and summed from one level to the next).
SUM_COLUMNS = (
    "kg",
    *[f"kg_{m}" for m in METHOD_COLUMNS],
    "hours_expected",
    *[f"hours_{m}" for m in ALL_METHODS],
    "status_valid",
    "status_stopped",
    "status_process",
    "status_invalid",
    "status_missing",
)
COMPARED = (*SUM_COLUMNS, "method", "capture_rate")


@dataclass(frozen=True)
class TotalChange:
    """A total that got a new version."""

    total_id: int
    outlet_id: int
    pollutant: str
    period: str
    period_start: dt.date
    version: int


def _main_method_sql(a: str) -> str:
    """The method with the largest amount (then the most hours) of a row aliased ``a``."""
    amounts = {str(x) for x in METHOD_COLUMNS}
    values = ", ".join(
        f"('{m}', coalesce({a}.kg_{m}, 0), {a}.hours_{m})" if m in amounts else f"('{m}', 0, {a}.hours_{m})"
        for m in ALL_METHODS
    )
    return f"(SELECT v.m FROM (VALUES {values}) v(m, k, h) ORDER BY v.k DESC, v.h DESC, v.m LIMIT 1)"


def _capture_sql(a: str) -> str:
    """α from the status counts of a row aliased ``a`` and the outlet's process-hour policy."""
    num = f"({a}.status_valid + CASE WHEN p.policy = 'valid' THEN {a}.status_process ELSE 0 END)"
    den = (
        f"({a}.status_valid + {a}.status_invalid + {a}.status_missing"
        f" + CASE WHEN p.policy IN ('valid', 'invalid') THEN {a}.status_process ELSE 0 END)"
    )
    return f"CASE WHEN {den} > 0 THEN round({num}::numeric / {den}, 4) END"


def _upsert(period: str, source_sql: str, params: dict[str, Any], cause: str) -> list[TotalChange]:
    """Write the rows of ``source_sql`` (one per outlet, pollutant, period start) as new versions where
    they differ from the current ones."""
    cols = ", ".join(SUM_COLUMNS)
    compared_new = ", ".join(f"'{c}', s.{c}::text" for c in COMPARED)
    compared_old = ", ".join(f"'{c}', c.{c}::text" for c in COMPARED)
    differs = " OR ".join(f"c.{c} IS DISTINCT FROM s.{c}" for c in COMPARED)
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in (*SUM_COLUMNS, "method", "capture_rate"))
    sql = f"""
        WITH s0 AS ({source_sql}),
        s AS (
            SELECT s0.*, {_main_method_sql("s0")} AS method, {_capture_sql("s0")} AS capture_rate
            FROM s0 JOIN tmp_total_policy p ON p.outlet_id = s0.outlet_id
        ),
        changed AS (
            SELECT s.*, c.id AS cur_id, c.version AS cur_version,
                jsonb_build_object({compared_new}) AS new_json,
                CASE WHEN c.id IS NOT NULL THEN jsonb_build_object({compared_old}) END AS old_json
            FROM s LEFT JOIN monitoring_emission_total c ON c.outlet_id = s.outlet_id AND c.pollutant = s.pollutant
                AND c.period = %(period)s AND c.period_start = s.period_start
            WHERE c.id IS NULL OR {differs}
        ),
        up AS (
            INSERT INTO monitoring_emission_total (outlet_id, pollutant, period, period_start, version, {cols},
                method, capture_rate, computed_at)
            SELECT outlet_id, pollutant, %(period)s, period_start, coalesce(cur_version, 0) + 1, {cols}, method,
                capture_rate, now()
            FROM changed
            ON CONFLICT (outlet_id, pollutant, period, period_start) DO UPDATE SET {updates},
                version = EXCLUDED.version, computed_at = EXCLUDED.computed_at
            RETURNING id, outlet_id, pollutant, period_start, version, kg
        ),
        rev AS (
            INSERT INTO monitoring_emission_total_revision (total_id, outlet_id, version, kg, snapshot, diff, cause,
                created_at)
            SELECT up.id, up.outlet_id, up.version, up.kg, ch.new_json,
                coalesce((SELECT jsonb_object_agg(n.key, jsonb_build_array(o.value, n.value))
                          FROM jsonb_each(ch.new_json) n LEFT JOIN jsonb_each(ch.old_json) o ON o.key = n.key
                          WHERE ch.old_json IS NOT NULL AND o.value IS DISTINCT FROM n.value), '{{}}'::jsonb),
                %(cause)s, now()
            FROM up JOIN changed ch ON ch.outlet_id = up.outlet_id AND ch.pollutant = up.pollutant
                AND ch.period_start = up.period_start
            RETURNING total_id
        )
        SELECT up.id, up.outlet_id, up.pollutant, up.period_start, up.version, (SELECT count(*) FROM rev) FROM up
    """
    with connection.cursor() as cur:
        cur.execute(sql, {**params, "period": period, "cause": cause[:128]})
        return [TotalChange(r[0], r[1], r[2], period, r[3], r[4]) for r in cur.fetchall()]


def _hour_sums() -> str:
    parts = ["sum(e.kg) AS kg"]
    parts += [f"coalesce(sum(e.kg) FILTER (WHERE e.method = '{m}'), 0) AS kg_{m}" for m in METHOD_COLUMNS]
    parts += ["count(*) AS hours_expected"]
    parts += [f"count(*) FILTER (WHERE e.method = '{m}') AS hours_{m}" for m in ALL_METHODS]
    parts += [
        "count(*) FILTER (WHERE e.hour_status = 'v') AS status_valid",
        "count(*) FILTER (WHERE e.hour_status = 's') AS status_stopped",
        "count(*) FILTER (WHERE e.hour_status = 'p') AS status_process",
        "count(*) FILTER (WHERE e.hour_status = 'i') AS status_invalid",
        "count(*) FILTER (WHERE e.hour_status = 'm') AS status_missing",
    ]
    return ", ".join(parts)


def _child_sums() -> str:
    return ", ".join(f"sum(t.{c}) AS {c}" for c in SUM_COLUMNS)


def _policy(outlet_ids: Iterable[int], policies: dict[int, str]) -> None:
    temp_table("tmp_total_policy", "outlet_id bigint PRIMARY KEY, policy text")
    fill(
        "tmp_total_policy",
        ("outlet_id", "policy"),
        [(o, policies.get(o, "exclude")) for o in set(outlet_ids)],
    )


def roll_up(days: Iterable[tuple[int, dt.date]], policies: dict[int, str], cause: str) -> list[TotalChange]:
    """Recompute the day totals of ``days`` (outlet, Beijing date), then their months and years."""
    days = sorted(set(days))
    if not days:
        return []
    _policy({o for o, _d in days}, policies)
    temp_table("tmp_total_days", "outlet_id bigint, day date, PRIMARY KEY (outlet_id, day)")
    fill("tmp_total_days", ("outlet_id", "day"), days)
    first = beijing_day_start(min(d for _o, d in days))
    last = beijing_day_start(max(d for _o, d in days) + dt.timedelta(days=1))
    changes = _upsert(
        "day",
        f"""SELECT e.outlet_id, e.pollutant, d.day AS period_start, {_hour_sums()}
            FROM monitoring_emission_hour e
            JOIN tmp_total_days d ON d.outlet_id = e.outlet_id
                AND d.day = (e.data_time AT TIME ZONE 'Asia/Shanghai')::date
            WHERE e.outlet_id = ANY(%(ids)s) AND e.data_time >= %(first)s AND e.data_time < %(last)s
            GROUP BY e.outlet_id, e.pollutant, d.day""",
        {"ids": sorted({o for o, _d in days}), "first": first, "last": last},
        cause,
    )
    months: dict[int, set[dt.date]] = defaultdict(set)
    for o, d in days:
        months[o].add(d.replace(day=1))
    changes += roll_up_months(months, cause)
    return changes


def roll_up_months(months: dict[int, set[dt.date]], cause: str) -> list[TotalChange]:
    """Month totals from day totals, then year totals from month totals."""
    temp_table("tmp_total_months", "outlet_id bigint, month date, next date")
    fill(
        "tmp_total_months",
        ("outlet_id", "month", "next"),
        [(o, m, add_months(m, 1)) for o, ms in months.items() for m in ms],
    )
    changes = _upsert(
        "month",
        f"""SELECT t.outlet_id, t.pollutant, m.month AS period_start, {_child_sums()}
            FROM tmp_total_months m JOIN monitoring_emission_total t ON t.outlet_id = m.outlet_id
                AND t.period = 'day' AND t.period_start >= m.month AND t.period_start < m.next
            GROUP BY t.outlet_id, t.pollutant, m.month""",
        {},
        cause,
    )
    temp_table("tmp_total_years", "outlet_id bigint, year date, next date")
    fill(
        "tmp_total_years",
        ("outlet_id", "year", "next"),
        sorted(
            {(o, dt.date(m.year, 1, 1), dt.date(m.year + 1, 1, 1)) for o, ms in months.items() for m in ms}
        ),
    )
    changes += _upsert(
        "year",
        f"""SELECT t.outlet_id, t.pollutant, y.year AS period_start, {_child_sums()}
            FROM tmp_total_years y JOIN monitoring_emission_total t ON t.outlet_id = y.outlet_id
                AND t.period = 'month' AND t.period_start >= y.year AND t.period_start < y.next
            GROUP BY t.outlet_id, t.pollutant, y.year""",
        {},
        cause,
    )
    return changes
