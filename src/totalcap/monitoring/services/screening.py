"""Screening detectors: each turns a pattern in the platform's hours into a suspicion with its
evidence and the thresholds used. None changes validity by itself (monitoring-data.md §6).

Detectors work on ``monitoring_hour`` rows of the recomputed range (plus the look-back a window
needs); consecutive flagged hours are merged into one episode, identified by its start, so running
the detectors again extends an episode instead of repeating it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection

from totalcap.base import events
from totalcap.monitoring.choices import Detector, SuspicionStatus
from totalcap.monitoring.models import Suspicion
from totalcap.monitoring.services.context import (
    AIR_PARAMETERS,
    WATER_PARAMETERS,
    OutletContext,
    fill,
    temp_table,
)
from totalcap.monitoring.services.states import device_states_for_outlets

HOUR = dt.timedelta(hours=1)
PARAMETERS = sorted(AIR_PARAMETERS | WATER_PARAMETERS)


@dataclass(frozen=True)
class Episode:
    detector: str
    outlet_id: int
    pollutant: str
    start: dt.datetime
    end: dt.datetime
    evidence: dict[str, Any]
    params: dict[str, Any]
    ruleset_id: int


def _params(contexts: dict[int, OutletContext]) -> None:
    """``tmp_screen``: thresholds per (outlet, code) from the screening rules and measuring ranges."""
    temp_table(
        "tmp_screen",
        """outlet_id bigint, pollutant text, range_low numeric, range_high numeric, const_k int,
        const_eps_range numeric, const_eps_rel numeric, zero_threshold numeric, flow_running_min numeric,
        o2_running_max numeric, jump_factor numeric, jump_min_range numeric, jump_min_abs numeric,
        neg_min int, use_flag_t boolean, flow_code text, o2_code text, medium text,
        PRIMARY KEY (outlet_id, pollutant)""",
    )
    rows = []
    seen: dict[int, set[str]] = {}
    with connection.cursor() as cur:
        cur.execute("SELECT DISTINCT outlet_id, pollutant FROM tmp_hour")
        for outlet_id, code in cur.fetchall():
            seen.setdefault(outlet_id, set()).add(code)
    for ctx in contexts.values():
        rules = ctx.screening
        constant, zero, jump = rules.section("constant"), rules.section("zero"), rules.section("jump")
        negative, above, flow_state = (
            rules.section("negative"),
            rules.section("above_range"),
            rules.section("flow_state"),
        )
        ranges = ctx.config.measuring_ranges or {}
        codes = set(ctx.logger_pollutants) | set(ranges) | seen.get(ctx.id, set())
        for code in sorted(codes):
            low, high = (ranges.get(code) or [None, None])[:2]
            rows.append(
                (
                    ctx.id, code, None if low is None else Decimal(str(low)), None if high is None else Decimal(str(high)),
                    int(constant.get("window_hours", 6)), Decimal(str(constant.get("epsilon_of_range", "0.005"))),
                    Decimal(str(constant.get("epsilon_relative", "0.001"))), Decimal(str(zero.get("threshold", 0))),
                    Decimal(str(flow_state.get("flow_running_min", zero.get("flow_running_min", 0)))),
                    Decimal(str(zero.get("o2_running_max", 19))), Decimal(str(jump.get("factor", 5))),
                    Decimal(str(jump.get("min_delta_of_range", "0.2"))), Decimal(str(jump.get("min_delta_absolute", 1))),
                    int(negative.get("min_count", 1)), bool(above.get("use_flag_t", True)), ctx.flow_code,
                    ctx.validity.o2_code, ctx.medium,
                )
            )  # fmt: skip
    fill(
        "tmp_screen",
        ("outlet_id", "pollutant", "range_low", "range_high", "const_k", "const_eps_range", "const_eps_rel",
         "zero_threshold", "flow_running_min", "o2_running_max", "jump_factor", "jump_min_range", "jump_min_abs",
         "neg_min", "use_flag_t", "flow_code", "o2_code", "medium"),
        rows,
    )  # fmt: skip


def _islands(flagged_sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    """Merge consecutive flagged hours (``outlet_id, pollutant, data_time, ev jsonb``) into episodes."""
    with connection.cursor() as cur:
        cur.execute(
            f"""
            WITH f AS ({flagged_sql}),
            g AS (SELECT f.*, f.data_time - (row_number() OVER (PARTITION BY outlet_id, pollutant
                      ORDER BY data_time)) * interval '1 hour' AS grp FROM f)
            SELECT outlet_id, pollutant, min(data_time), max(data_time) + interval '1 hour', count(*),
                   (jsonb_agg(ev ORDER BY data_time))
            FROM g GROUP BY outlet_id, pollutant, grp ORDER BY 1, 2, 3
            """,
            params,
        )
        return list(cur.fetchall())


def detect(contexts: dict[int, OutletContext], start: dt.datetime, end: dt.datetime) -> list[Episode]:
    """Run every detector over the hours ``[start, end)`` (with look-back for windows)."""
    if not contexts:
        return []
    _params(contexts)
    ids = list(contexts)
    max_k = max(int(c.screening.section("constant").get("window_hours", 6)) for c in contexts.values())
    p = {"ids": ids, "start": start, "end": end, "lookback": start - max_k * HOUR, "parameters": PARAMETERS}
    found: list[Episode] = []

    def add(detector: str, rows: Iterable[tuple[Any, ...]], params_of: Any, min_hours: int = 1) -> None:
        for outlet_id, pollutant, first, last, n, evidence in rows:
            if n < min_hours:
                continue
            ctx = contexts[outlet_id]
            ev = evidence if isinstance(evidence, list) else json.loads(evidence)
            found.append(
                Episode(detector, outlet_id, pollutant, first, last, {"hours": n, "values": ev[:200]},
                        params_of(ctx), ctx.screening.id)
            )  # fmt: skip

    # Constant value: a window of K valid hours whose range is below ε × measuring range (or ε_rel × level).
    add(
        Detector.CONSTANT,
        _islands(
            """
            SELECT w.outlet_id, w.pollutant, w.data_time,
                   jsonb_build_object('t', w.data_time, 'v', w.value::text, 'spread', (w.hi - w.lo)::text) AS ev
            FROM (
                SELECT h.outlet_id, h.pollutant, h.data_time, h.value, s.const_k, s.range_low, s.range_high,
                    s.const_eps_range, s.const_eps_rel,
                    max(h.value) OVER w AS hi, min(h.value) OVER w AS lo, avg(abs(h.value)) OVER w AS level,
                    count(*) OVER w AS n
                FROM monitoring_hour h JOIN tmp_screen s ON s.outlet_id = h.outlet_id AND s.pollutant = h.pollutant
                WHERE h.outlet_id = ANY(%(ids)s) AND h.data_time >= %(lookback)s AND h.data_time < %(end)s
                  AND h.status = 'v' AND h.value IS NOT NULL
                WINDOW w AS (PARTITION BY h.outlet_id, h.pollutant ORDER BY h.data_time ROWS BETWEEN 5 PRECEDING
                             AND CURRENT ROW)
            ) w
            WHERE w.n >= w.const_k AND w.data_time >= %(start)s
              AND (w.hi - w.lo) <= CASE WHEN w.range_high IS NOT NULL
                                        THEN w.const_eps_range * (w.range_high - coalesce(w.range_low, 0))
                                        ELSE w.const_eps_rel * w.level END
              AND (w.range_high IS NOT NULL OR w.level > 0)
            """.replace("5 PRECEDING", f"{max(max_k - 1, 0)} PRECEDING"),
            p,
        ),
        lambda c: {**c.screening.section("constant"), "range": (c.config.measuring_ranges or {})},
    )
    # Zero (or below the threshold) while the flow says running.
    add(
        Detector.ZERO,
        _islands(
            """
            SELECT h.outlet_id, h.pollutant, h.data_time,
                   jsonb_build_object('t', h.data_time, 'v', h.value::text, 'flow', f.value::text, 'o2', o.value::text) AS ev
            FROM monitoring_hour h
            JOIN tmp_screen s ON s.outlet_id = h.outlet_id AND s.pollutant = h.pollutant
            JOIN monitoring_hour f ON f.outlet_id = h.outlet_id AND f.pollutant = s.flow_code AND f.data_time = h.data_time
                AND f.data_time >= %(start)s AND f.data_time < %(end)s
            LEFT JOIN monitoring_hour o ON o.outlet_id = h.outlet_id AND o.pollutant = s.o2_code AND o.data_time = h.data_time
                AND o.data_time >= %(start)s AND o.data_time < %(end)s
            WHERE h.outlet_id = ANY(%(ids)s) AND h.data_time >= %(start)s AND h.data_time < %(end)s
              AND NOT (h.pollutant = ANY(%(parameters)s)) AND h.pollutant <> s.flow_code
              AND h.status = 'v' AND h.value <= s.zero_threshold
              AND f.status = 'v' AND f.value > s.flow_running_min
              AND (s.medium <> 'air' OR o.value IS NULL OR o.value < s.o2_running_max)
            """,
            p,
        ),
        lambda c: c.screening.section("zero"),
    )
    # Negative values among the minutes.
    add(
        Detector.NEGATIVE,
        _islands(
            """
            SELECT h.outlet_id, h.pollutant, h.data_time,
                   jsonb_build_object('t', h.data_time, 'negatives', h.n_negative, 'min', h.min::text) AS ev
            FROM monitoring_hour h JOIN tmp_screen s ON s.outlet_id = h.outlet_id AND s.pollutant = h.pollutant
            WHERE h.outlet_id = ANY(%(ids)s) AND h.data_time >= %(start)s AND h.data_time < %(end)s
              AND h.n_negative >= s.neg_min
            """,
            p,
        ),
        lambda c: c.screening.section("negative"),
    )
    # Above the measuring range (maximum above the upper limit, or minutes flagged T).
    add(
        Detector.ABOVE_RANGE,
        _islands(
            """
            SELECT h.outlet_id, h.pollutant, h.data_time,
                   jsonb_build_object('t', h.data_time, 'max', coalesce(h.max, h.raw_mean)::text,
                                      'range_high', s.range_high::text, 'flag_t', h.flag_counts -> 'T') AS ev
            FROM monitoring_hour h JOIN tmp_screen s ON s.outlet_id = h.outlet_id AND s.pollutant = h.pollutant
            WHERE h.outlet_id = ANY(%(ids)s) AND h.data_time >= %(start)s AND h.data_time < %(end)s
              AND ((s.range_high IS NOT NULL AND coalesce(h.max, h.raw_mean) > s.range_high)
                   OR (s.use_flag_t AND (h.flag_counts ? 'T' OR h.logger_flag = 'T')))
            """,
            p,
        ),
        lambda c: {**c.screening.section("above_range"), "range": (c.config.measuring_ranges or {})},
    )
    # Sudden jumps between consecutive valid hours.
    add(
        Detector.JUMP,
        _islands(
            """
            SELECT j.outlet_id, j.pollutant, j.data_time,
                   jsonb_build_object('t', j.data_time, 'v', j.value::text, 'previous', j.prev::text) AS ev
            FROM (
                SELECT h.outlet_id, h.pollutant, h.data_time, h.value, s.jump_min_abs, s.jump_min_range, s.range_high,
                    s.range_low, s.jump_factor,
                    lag(h.value) OVER (PARTITION BY h.outlet_id, h.pollutant ORDER BY h.data_time) AS prev,
                    lag(h.data_time) OVER (PARTITION BY h.outlet_id, h.pollutant ORDER BY h.data_time) AS prev_time
                FROM monitoring_hour h JOIN tmp_screen s ON s.outlet_id = h.outlet_id AND s.pollutant = h.pollutant
                WHERE h.outlet_id = ANY(%(ids)s) AND h.data_time >= %(start)s - interval '1 hour'
                  AND h.data_time < %(end)s AND h.status = 'v' AND h.value IS NOT NULL
            ) j
            WHERE j.data_time >= %(start)s AND j.prev_time = j.data_time - interval '1 hour'
              AND abs(j.value - j.prev) >= greatest(j.jump_min_abs,
                    coalesce(j.jump_min_range * (j.range_high - coalesce(j.range_low, 0)), 0))
              AND ((j.prev > 0 AND j.value >= j.jump_factor * j.prev) OR (j.value > 0 AND j.prev >= j.jump_factor * j.value)
                   OR (j.prev <= 0 AND j.value > 0 AND j.range_high IS NOT NULL))
            """,
            p,
        ),
        lambda c: {**c.screening.section("jump"), "range": (c.config.measuring_ranges or {})},
    )
    # Missing data: the whole outlet silent (pollutant ""), or one parameter missing while others report.
    missing_rows = _islands(
        """
        SELECT x.outlet_id, CASE WHEN x.all_missing THEN '' ELSE x.pollutant END AS pollutant, x.data_time,
               jsonb_build_object('t', x.data_time) AS ev
        FROM (
            SELECT h.outlet_id, h.pollutant, h.data_time, h.source,
                bool_and(h.source = 'x') OVER (PARTITION BY h.outlet_id, h.data_time) AS all_missing,
                row_number() OVER (PARTITION BY h.outlet_id, h.data_time ORDER BY h.pollutant) AS rn
            FROM monitoring_hour h
            WHERE h.outlet_id = ANY(%(ids)s) AND h.data_time >= %(start)s AND h.data_time < %(end)s
        ) x
        WHERE x.source = 'x' AND (NOT x.all_missing OR x.rn = 1)
        """,
        p,
    )
    for row in missing_rows:
        ctx = contexts[row[0]]
        add(Detector.MISSING, [row], lambda c: c.screening.section("missing"),
            int(ctx.screening.section("missing").get("min_hours", 2)))  # fmt: skip
    # Flow against the state: flowing while stopped, or no flow while the pollutants read "running".
    add(
        Detector.FLOW_STATE,
        _islands(
            """
            SELECT f.outlet_id, f.pollutant, f.data_time,
                   jsonb_build_object('t', f.data_time, 'flow', coalesce(f.value, f.raw_mean)::text,
                                      'label', f.label, 'kind', CASE WHEN f.status = 's' THEN 'flow_while_stopped'
                                                                     ELSE 'running_without_flow' END) AS ev
            FROM monitoring_hour f JOIN tmp_screen s ON s.outlet_id = f.outlet_id AND s.pollutant = f.pollutant
            WHERE f.outlet_id = ANY(%(ids)s) AND f.data_time >= %(start)s AND f.data_time < %(end)s
              AND f.pollutant = s.flow_code
              AND ((f.status = 's' AND f.raw_mean > s.flow_running_min)
                   OR (f.status = 'v' AND f.value <= s.flow_running_min AND EXISTS (
                        SELECT 1 FROM monitoring_hour h WHERE h.outlet_id = f.outlet_id AND h.data_time = f.data_time
                          AND h.data_time >= %(start)s AND h.data_time < %(end)s
                          AND h.status = 'v' AND h.label = 'N' AND h.value > 0 AND h.pollutant <> s.flow_code
                          AND NOT (h.pollutant = ANY(%(parameters)s)))))
            """,
            p,
        ),
        lambda c: c.screening.section("flow_state"),
    )
    found += _facility_off_with_flow(contexts, start, end)
    # The logger's own aggregate disagrees with the platform's recomputation.
    add(
        Detector.MISMATCH,
        _islands(
            """
            SELECT h.outlet_id, h.pollutant, h.data_time,
                   jsonb_build_object('t', h.data_time, 'platform', h.value::text, 'logger', h.logger_value::text,
                                      'detail', h.mismatch_detail) AS ev
            FROM monitoring_hour h
            WHERE h.outlet_id = ANY(%(ids)s) AND h.data_time >= %(start)s AND h.data_time < %(end)s AND h.mismatch
            """,
            p,
        ),
        lambda c: c.validity.get("compare", {}),
    )
    return found


def _facility_off_with_flow(
    contexts: dict[int, OutletContext], start: dt.datetime, end: dt.datetime
) -> list[Episode]:
    """A treatment facility reported off (2021 ``SBxxx-RS`` = 0) while the outlet's flow is above zero."""
    result: list[Episode] = []
    intervals = [
        i for i in device_states_for_outlets(list(contexts), start, end)
        if i.code.upper().endswith("-RS") and str(i.value) == "0"
    ]  # fmt: skip
    if not intervals:
        return result
    for interval in intervals:
        ctx = contexts[interval.outlet_id]
        with connection.cursor() as cur:
            cur.execute(
                """
                SELECT min(data_time), max(data_time) + interval '1 hour', count(*),
                       jsonb_agg(jsonb_build_object('t', data_time, 'flow', value::text) ORDER BY data_time)
                FROM monitoring_hour WHERE outlet_id = %s AND pollutant = %s AND data_time >= %s AND data_time < %s
                  AND status = 'v' AND value > 0
                """,
                [ctx.id, ctx.flow_code, max(interval.start, start) - HOUR, min(interval.end, end)],
            )
            first, last, n, values = cur.fetchone()
        if n:
            result.append(
                Episode(
                    Detector.FLOW_STATE, ctx.id, ctx.flow_code, first, last,
                    {"hours": n, "values": values[:200], "facility": interval.code, "state": interval.value,
                     "kind": "flow_while_facility_off"},
                    ctx.screening.section("flow_state"), ctx.screening.id,
                )
            )  # fmt: skip
    return result


def screen(contexts: dict[int, OutletContext], start: dt.datetime, end: dt.datetime) -> int:
    """Detect and store suspicions; returns how many are new. An episode already stored (same
    detector, outlet, pollutant and start) is extended instead of repeated."""
    episodes = detect(contexts, start, end)
    if not episodes:
        return 0
    existing = {
        (s.detector, s.outlet_id, s.pollutant, s.start): s
        for s in Suspicion.objects.filter(
            outlet_id__in={e.outlet_id for e in episodes}, start__in={e.start for e in episodes}
        )
    }
    # An episode continuing one that ended exactly where it starts extends it.
    open_ends = {
        (s.detector, s.outlet_id, s.pollutant, s.end): s
        for s in Suspicion.objects.filter(
            outlet_id__in={e.outlet_id for e in episodes}, end__in={e.start for e in episodes}
        )
    }
    created = 0
    for e in episodes:
        key = (e.detector, e.outlet_id, e.pollutant, e.start)
        current = existing.get(key) or open_ends.get((e.detector, e.outlet_id, e.pollutant, e.start))
        if current is not None:
            if e.end > current.end:
                current.end = e.end
                current.evidence = {**current.evidence, "extended": e.evidence}
                current.save(update_fields=["end", "evidence", "updated_at"])
            continue
        suspicion = Suspicion.objects.create(
            detector=e.detector, outlet=contexts[e.outlet_id].outlet, pollutant=e.pollutant, start=e.start,
            end=e.end, evidence=_jsonable(e.evidence), params=_jsonable(e.params), ruleset_id=e.ruleset_id,
            status=SuspicionStatus.OPEN,
        )  # fmt: skip
        existing[key] = suspicion
        events.record(
            None,
            suspicion,
            "suspicion_raised",
            {"detector": e.detector, "pollutant": e.pollutant, "start": e.start, "end": e.end,
             "hours": e.evidence.get("hours")},
        )  # fmt: skip
        created += 1
    return created


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))
