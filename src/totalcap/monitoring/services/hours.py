"""Minute → hour: validity of every minute, the 45-minute rule, aggregate flags, flow-weighted and
dry-basis means, reference-O2 conversion, hourly amounts, and the comparison with the logger's own
hourly aggregate — set-based in PostgreSQL for a whole batch of outlets at once.

How a minute's class is decided, first match wins (monitoring-data.md §2):

1. an active minute-level review (invalid, or a corrected value that counts as valid);
2. an enterprise label covering the minute (label namespace, via the rule set's ``label_classes``);
3. a device state covering the minute (3020 ``i12001`` …, via ``device_states``);
4. a null value, or a negative value where the rule set says negatives are invalid;
5. the HJ 212 data flag (``flag_classes``; an unknown flag is invalid, a missing flag as configured).

An hour is valid with ≥ 45 valid minutes; a stopped or process state covering ≥ 45 minutes gives
that state; otherwise it is invalid (or missing, without any record) — §1.1 and §2.3.
"""

from __future__ import annotations

import datetime as dt
import itertools
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection, transaction

from totalcap.monitoring.choices import ReviewKind, ReviewLevel, ReviewStatus
from totalcap.monitoring.models import ReviewAction
from totalcap.monitoring.services.context import (
    AIR_PARAMETERS,
    WATER_PARAMETERS,
    OutletContext,
    fill,
    temp_table,
)
from totalcap.monitoring.services.rules import ValidityRules
from totalcap.monitoring.services.states import device_states_for_outlets, labels_for_outlets

#: Flags whose own letter is used as the reason label when they make a minute non-valid.
FLAG_LABELS = ("F", "M", "S", "D", "C", "T", "B")
CLASS_CODE = {"valid": "v", "stopped": "s", "process": "p", "invalid": "i"}
#: Label namespace → hour label (``B`` banked furnace becomes ``Bk`` so it never reads as the flag).
LABEL_CODES = {"F": "F", "St": "St", "Sd": "Sd", "B": "Bk", "C": "C", "M": "M", "D": "D"}

PRIORITY_DEVICE, PRIORITY_LABEL, PRIORITY_REVIEW = 1, 2, 3


@dataclass(frozen=True)
class Overlay:
    """A time interval that overrides the class of the minutes it covers."""

    outlet_id: int
    pollutant: str  # "" = every pollutant of the outlet
    start: dt.datetime
    end: dt.datetime
    priority: int
    cls: str
    label: str
    value: Decimal | None = None
    ref: int | None = None


def flatten(items: Sequence[Overlay]) -> list[Overlay]:
    """Non-overlapping segments of one (outlet, pollutant): where intervals overlap, the higher
    priority wins, and among equals the later one."""
    if not items:
        return []
    points = sorted({i.start for i in items} | {i.end for i in items})
    result: list[Overlay] = []
    for a, b in itertools.pairwise(points):
        active = [(i.priority, n, i) for n, i in enumerate(items) if i.start <= a and i.end >= b]
        if not active:
            continue
        winner = max(active, key=lambda t: (t[0], t[1]))[2]
        previous = result[-1] if result else None
        if (
            previous is not None
            and previous.end == a
            and (previous.cls, previous.label, previous.value, previous.priority, previous.ref)
            == (winner.cls, winner.label, winner.value, winner.priority, winner.ref)
        ):
            result[-1] = Overlay(
                previous.outlet_id, previous.pollutant, previous.start, b, previous.priority,
                previous.cls, previous.label, previous.value, previous.ref,
            )  # fmt: skip
        else:
            result.append(
                Overlay(winner.outlet_id, winner.pollutant, a, b, winner.priority, winner.cls, winner.label,
                        winner.value, winner.ref)
            )  # fmt: skip
    return result


def collect_overlays(
    contexts: dict[int, OutletContext], start: dt.datetime, end: dt.datetime
) -> list[Overlay]:
    """Device states, labels and minute-level reviews of the batch as overlays (not yet flattened)."""
    result: list[Overlay] = []
    by_hold: dict[int, list[int]] = defaultdict(list)
    for ctx in contexts.values():
        by_hold[ctx.validity.device_state_hold_minutes].append(ctx.id)
    for hold, ids in by_hold.items():
        for interval in device_states_for_outlets(ids, start, end, hold_minutes=hold):
            owner = contexts[interval.outlet_id]
            label = owner.validity.device_states.get(interval.code, {}).get(str(interval.value))
            if not label:
                continue
            cls = "s" if label == "F" else "i"
            result.append(
                Overlay(
                    interval.outlet_id,
                    interval.pollutant,
                    interval.start,
                    interval.end,
                    PRIORITY_DEVICE,
                    cls,
                    label,
                )
            )
    for interval in labels_for_outlets(list(contexts), start, end):
        labelled = contexts.get(interval.outlet_id)
        if labelled is None:
            continue
        cls_name = labelled.validity.label_classes.get(interval.value)
        if cls_name is None:
            continue
        result.append(
            Overlay(
                interval.outlet_id, interval.pollutant, interval.start, interval.end, PRIORITY_LABEL,
                CLASS_CODE.get(cls_name, "i"), LABEL_CODES.get(interval.value, "X"),
            )
        )  # fmt: skip
    reviews = ReviewAction.objects.filter(
        outlet_id__in=list(contexts),
        level=ReviewLevel.MINUTE,
        status=ReviewStatus.ACTIVE,
        start__lt=end,
        end__gt=start,
    ).order_by("pk")
    for review in reviews:
        if review.kind == ReviewKind.INVALIDATE:
            cls, label, value = "i", "R", None
        else:
            cls, label, value = "v", "N", review.value
        result.append(
            Overlay(review.outlet_id, review.pollutant_id or "", review.start, review.end, PRIORITY_REVIEW, cls,
                    label, value, review.pk)
        )  # fmt: skip
    return result


def _expand_and_flatten(
    overlays: list[Overlay], contexts: dict[int, OutletContext], start: dt.datetime, end: dt.datetime
) -> list[Overlay]:
    """Give outlet-wide overlays to every pollutant of their outlet, then flatten per pollutant."""
    wide = {o.outlet_id for o in overlays if not o.pollutant}
    codes: dict[int, set[str]] = {oid: set(contexts[oid].logger_pollutants) for oid in wide}
    if wide:
        with connection.cursor() as cur:
            cur.execute(
                "SELECT DISTINCT outlet_id, pollutant FROM monitoring_sample "
                "WHERE kind IN ('m', 'h') AND outlet_id = ANY(%s) AND data_time >= %s AND data_time < %s",
                [sorted(wide), start, end],
            )
            for outlet_id, pollutant in cur.fetchall():
                codes[outlet_id].add(pollutant)
    groups: dict[tuple[int, str], list[Overlay]] = defaultdict(list)
    for o in overlays:
        targets = [o.pollutant] if o.pollutant else sorted(codes.get(o.outlet_id, set()))
        for code in targets:
            groups[(o.outlet_id, code)].append(
                Overlay(o.outlet_id, code, max(o.start, start), min(o.end, end), o.priority, o.cls, o.label,
                        o.value, o.ref)
            )  # fmt: skip
    flat: list[Overlay] = []
    for items in groups.values():
        flat.extend(flatten([i for i in items if i.end > i.start]))
    return flat


# --- SQL pieces ---------------------------------------------------------------------------------


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def flag_class_sql(rules: ValidityRules, column: str) -> str:
    """CASE expression: HJ 212 flag → minute class code."""
    whens = " ".join(
        f"WHEN {_quote(flag)} THEN {_quote(CLASS_CODE.get(cls, 'i'))}"
        for flag, cls in sorted(rules.flag_classes.items())
    )
    empty = CLASS_CODE.get(rules.empty_flag_class, "v")
    unknown = CLASS_CODE.get(rules.unknown_flag_class, "i")
    return f"(CASE {column} {whens} WHEN '' THEN {_quote(empty)} ELSE {_quote(unknown)} END)"


def _by_rules(expressions: dict[int, str]) -> str:
    """One expression per rule set: the expression itself for one, a CASE on the outlet's rule set
    (``o.rules_id`` from ``tmp_outlet``) for several."""
    if len(expressions) == 1:
        return next(iter(expressions.values()))
    whens = " ".join(f"WHEN {rid} THEN ({expr})" for rid, expr in sorted(expressions.items()))
    return f"(CASE o.rules_id {whens} END)"


def minute_select(
    rules: ValidityRules | Sequence[ValidityRules], *, overlays: bool, detail: bool = False
) -> str:
    """The classified minutes of a batch (parameters: ids, start, end, flow; several rule sets read
    the outlet's rule set from ``tmp_outlet``)."""
    rule_list = [rules] if isinstance(rules, ValidityRules) else list(rules)
    known = ", ".join(_quote(f) for f in FLAG_LABELS)
    cls_by, lbl_by, normal_by, qv_by = {}, {}, {}, {}
    for r in rule_list:
        flag_cls = flag_class_sql(r, "s.flag")
        negative = " OR s.value < 0" if r.negative_invalid else ""
        cls_by[r.id] = f"CASE WHEN s.value IS NULL{negative} THEN 'i' ELSE {flag_cls} END"
        lbl_by[r.id] = (
            f"CASE WHEN s.value IS NULL{negative} THEN 'NV' WHEN {flag_cls} = 'v' THEN 'N' "
            f"WHEN s.flag IN ({known}) THEN s.flag ELSE 'X' END"
        )
        normal_by[r.id] = f"s.flag IN ({_normal_flags(r)})"
        qv_by[r.id] = (
            f"(f.value IS NOT NULL AND f.value >= 0 AND {flag_class_sql(r, 'f.flag')} = 'v')"
            if r.flow_weighted
            else "false"
        )
    base_cls, base_lbl = _by_rules(cls_by), _by_rules(lbl_by)
    if overlays:
        cls = f"COALESCE(ov.cls, {base_cls})"
        lbl = f"COALESCE(ov.label, {base_lbl})"
        value = "COALESCE(ov.value, s.value)"
        join_ov = (
            "LEFT JOIN tmp_ov ov ON ov.outlet_id = s.outlet_id AND ov.pollutant = s.pollutant "
            "AND s.data_time >= ov.t0 AND s.data_time < ov.t1"
        )
    else:
        cls, lbl, value, join_ov = base_cls, base_lbl, "s.value", ""
    weighted = [r for r in rule_list if r.flow_weighted]
    join_outlet = "JOIN tmp_outlet o ON o.outlet_id = s.outlet_id" if len(rule_list) > 1 else ""
    if weighted:
        flow = "%(flow)s" if len(rule_list) == 1 else "o.flow_code"
        join_flow = (
            f"LEFT JOIN monitoring_sample f ON f.kind = 'm' AND f.logger_id = s.logger_id "
            f"AND f.pollutant = {flow} AND f.data_time = s.data_time "
            f"AND f.data_time >= %(start)s AND f.data_time < %(end)s"
        )
        q, qv = "f.value", _by_rules(qv_by)
    else:
        join_flow, q, qv = "", "NULL::numeric", "false"
    restrict = (
        "JOIN tmp_detail d ON d.outlet_id = s.outlet_id AND d.pollutant = s.pollutant "
        "AND s.data_time >= d.hour AND s.data_time < d.hour + interval '1 hour'"
        if detail
        else ""
    )
    return f"""
        SELECT s.outlet_id, s.logger_id, s.pollutant,
               date_bin('1 hour', s.data_time, TIMESTAMPTZ '2000-01-01 00:00+00') AS hour,
               s.data_time, s.flag, s.value AS raw_value, {value} AS value, {cls} AS cls, {lbl} AS lbl,
               {_by_rules(normal_by)} AS is_normal, {q} AS q, {qv} AS qv, s.frame_id
        FROM monitoring_sample s
        {restrict}
        {join_outlet}
        {join_ov}
        {join_flow}
        WHERE s.kind = 'm' AND s.outlet_id = ANY(%(ids)s) AND s.data_time >= %(start)s AND s.data_time < %(end)s
    """


def _normal_flags(rules: ValidityRules) -> str:
    """Flags that count as "normal" for the HJ 212 aggregate-flag rule: N (and a missing flag when the
    rule set treats it as valid)."""
    flags = ["'N'"]
    if rules.empty_flag_class == "valid":
        flags.append("''")
    return ", ".join(flags)


MINUTE_COLUMNS = """outlet_id bigint, pollutant text, hour timestamptz, logger_id bigint, n_records int,
    n_valid int, n_stopped int, n_process int, n_invalid int, n_normal_flag int, n_negative int,
    raw_mean numeric, v_mean numeric, v_min numeric, v_max numeric, vp_mean numeric, vp_min numeric, vp_max numeric,
    w_num numeric, w_den numeric, wp_num numeric, wp_den numeric, flag_counts jsonb, lbl_invalid text,
    lbl_process text, abn_flag text, PRIMARY KEY (outlet_id, pollutant, hour)"""

#: Bits of the fast pass: which kinds of minutes an hour has.
BIT_N, BIT_OTHER, BIT_NULL, BIT_NEGATIVE = 1, 2, 4, 8


#: From this many outlets on, the fast pass scans the time range without an outlet predicate (a
#: predicate over a long id list costs more per row than aggregating the few other outlets).
WHOLE_RANGE_OUTLETS = 300


def fast_pass_sql(flow_codes: list[str], *, by_outlet: bool = True) -> str:
    """The fast pass's SELECT (parameters: ids, start, end, flows)."""
    flow_join = (
        "LEFT JOIN monitoring_sample f ON f.kind = 'm' AND f.logger_id = s.logger_id "
        "AND f.pollutant = ANY(%(flows)s) AND f.data_time = s.data_time "
        "AND f.data_time >= %(start)s AND f.data_time < %(end)s AND f.flag = 'N' AND f.value >= 0"
        if flow_codes
        else ""
    )
    q = "f.value" if flow_codes else "NULL::numeric"
    outlets = "AND s.outlet_id = ANY(%(ids)s)" if by_outlet else ""
    return f"""
        SELECT s.outlet_id, s.pollutant, date_bin('1 hour', s.data_time, TIMESTAMPTZ '2000-01-01 00:00+00') AS hour,
            count(*) AS n,
            bit_or(CASE WHEN s.value IS NULL THEN {BIT_NULL} WHEN s.value < 0 THEN {BIT_NEGATIVE}
                        WHEN s.flag = 'N' THEN {BIT_N} ELSE {BIT_OTHER} END) AS bits,
            sum(s.value) AS v_sum, min(s.value) AS v_min, max(s.value) AS v_max,
            sum(s.value * {q}) AS w_num, sum({q}) AS w_den
        FROM monitoring_sample s
        {flow_join}
        WHERE s.kind = 'm' {outlets} AND s.data_time >= %(start)s AND s.data_time < %(end)s
        GROUP BY 1, 2, 3
    """


def fast_pass(ids: list[int], start: dt.datetime, end: dt.datetime, flow_codes: list[str]) -> None:
    """``tmp_fast``: one scan over every minute of the batch, grouped by hour, with only cheap
    aggregates and a bit mask of the kinds of minutes seen. An hour whose mask is "flag N only" is
    entirely valid under every rule set and needs nothing more; any other hour goes to the detail
    pass. Only valid flow minutes (flag N, not negative) join, so the weighted sums need no filter.
    Written with CREATE TABLE AS, which PostgreSQL may run with parallel workers (it never
    parallelises INSERT … SELECT); no temporary table is read here for the same reason."""
    with connection.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS tmp_fast")
        # The flow rows are a small build side: a hash join beats the merge join (and its sorts in every
        # worker) or the nested loop that the planner's estimates sometimes prefer.
        cur.execute("SET LOCAL enable_mergejoin = off")
        cur.execute("SET LOCAL enable_nestloop = off")
        cur.execute(
            "CREATE TEMP TABLE tmp_fast ON COMMIT DROP AS "
            + fast_pass_sql(flow_codes, by_outlet=len(ids) < WHOLE_RANGE_OUTLETS),
            {"ids": ids, "start": start, "end": end, "flows": flow_codes},
        )
        cur.execute("SET LOCAL enable_mergejoin = on")
        cur.execute("SET LOCAL enable_nestloop = on")


def aggregate_minutes(
    groups: dict[int, tuple[ValidityRules, list[int]]],
    start: dt.datetime,
    end: dt.datetime,
    overlays: bool,
    clock: _Clock | None = None,
) -> None:
    """Fill ``tmp_minute`` with per-hour statistics of the classified minutes: the fast pass for the
    hours that are uniformly normal, the full classification (one statement per validity rule set)
    for the others and for every hour an overlay touches."""
    temp_table("tmp_minute", MINUTE_COLUMNS)
    ids = sorted({i for _rules, group in groups.values() for i in group})
    flow_codes = sorted({rules.flow_code for rules, _ids in groups.values() if rules.flow_weighted})
    fast_pass(ids, start, end, flow_codes)
    if clock is not None:
        clock.lap("fast_pass")
    temp_table(
        "tmp_detail",
        "outlet_id bigint, pollutant text, hour timestamptz, PRIMARY KEY (outlet_id, pollutant, hour)",
    )
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO tmp_detail SELECT outlet_id, pollutant, hour FROM tmp_fast WHERE bits <> {BIT_N}"
        )
        if overlays:
            cur.execute(
                """
                INSERT INTO tmp_detail
                SELECT DISTINCT ov.outlet_id, ov.pollutant, h
                FROM tmp_ov ov CROSS JOIN LATERAL generate_series(
                    date_bin('1 hour', ov.t0, TIMESTAMPTZ '2000-01-01 00:00+00'), ov.t1 - interval '1 microsecond',
                    interval '1 hour') h
                ON CONFLICT DO NOTHING
                """
            )
        cur.execute("SELECT count(*) FROM tmp_detail")
        if not cur.fetchone()[0]:
            return
        analyze(cur, "tmp_detail")
    rule_list = [rules for rules, _group in groups.values()]
    params: dict[str, Any] = {"ids": ids, "start": start, "end": end, "flow": rule_list[0].flow_code}
    with connection.cursor() as cur:
        cur.execute(
            f"""
            WITH m AS MATERIALIZED ({minute_select(rule_list, overlays=overlays, detail=True)}),
            stats AS (
                SELECT outlet_id, pollutant, hour, max(logger_id) AS logger_id, count(*) AS n,
                    count(*) FILTER (WHERE cls = 'v') AS nv, count(*) FILTER (WHERE cls = 's') AS ns,
                    count(*) FILTER (WHERE cls = 'p') AS np, count(*) FILTER (WHERE cls = 'i') AS ni,
                    count(*) FILTER (WHERE is_normal) AS nn,
                    count(*) FILTER (WHERE raw_value < 0) AS neg, avg(raw_value) AS raw_mean,
                    avg(value) FILTER (WHERE cls = 'v') AS v_mean, min(value) FILTER (WHERE cls = 'v') AS v_min,
                    max(value) FILTER (WHERE cls = 'v') AS v_max,
                    avg(value) FILTER (WHERE cls IN ('v', 'p')) AS vp_mean,
                    min(value) FILTER (WHERE cls IN ('v', 'p')) AS vp_min,
                    max(value) FILTER (WHERE cls IN ('v', 'p')) AS vp_max,
                    sum(value * q) FILTER (WHERE cls = 'v' AND qv) AS w_num,
                    sum(q) FILTER (WHERE cls = 'v' AND qv) AS w_den,
                    sum(value * q) FILTER (WHERE cls IN ('v', 'p') AND qv) AS wp_num,
                    sum(q) FILTER (WHERE cls IN ('v', 'p') AND qv) AS wp_den
                FROM m GROUP BY 1, 2, 3
            ),
            labels AS (
                SELECT outlet_id, pollutant, hour, lbl, max(cls) AS cls, count(*) AS n FROM m GROUP BY 1, 2, 3, 4
            ),
            agg AS (
                SELECT outlet_id, pollutant, hour, jsonb_object_agg(lbl, n) AS counts,
                    (array_agg(lbl ORDER BY n DESC, lbl) FILTER (WHERE cls = 'i'))[1] AS li,
                    (array_agg(lbl ORDER BY n DESC, lbl) FILTER (WHERE cls = 'p'))[1] AS lp
                FROM labels GROUP BY 1, 2, 3
            ),
            abn AS (
                SELECT outlet_id, pollutant, hour, (array_agg(flag ORDER BY n DESC, flag))[1] AS af
                FROM (SELECT outlet_id, pollutant, hour, flag, count(*) AS n FROM m
                      WHERE NOT is_normal GROUP BY 1, 2, 3, 4) x
                GROUP BY 1, 2, 3
            )
            INSERT INTO tmp_minute (outlet_id, pollutant, hour, logger_id, n_records, n_valid, n_stopped,
                n_process, n_invalid, n_normal_flag, n_negative, raw_mean, v_mean, v_min, v_max, vp_mean, vp_min,
                vp_max, w_num, w_den, wp_num, wp_den, flag_counts, lbl_invalid, lbl_process, abn_flag)
            SELECT s.outlet_id, s.pollutant, s.hour, s.logger_id, s.n, s.nv, s.ns, s.np, s.ni, s.nn, s.neg,
                s.raw_mean, s.v_mean, s.v_min, s.v_max, s.vp_mean, s.vp_min, s.vp_max, s.w_num, s.w_den,
                s.wp_num, s.wp_den, a.counts, a.li, a.lp, b.af
            FROM stats s
            LEFT JOIN agg a ON a.outlet_id = s.outlet_id AND a.pollutant = s.pollutant AND a.hour = s.hour
            LEFT JOIN abn b ON b.outlet_id = s.outlet_id AND b.pollutant = s.pollutant AND b.hour = s.hour
            """,
            params,
        )
    with connection.cursor() as cur:
        analyze(cur, "tmp_minute")


#: The per-hour minute statistics: the uniformly normal hours straight from the fast pass, the others
#: from the detail pass (``tmp_minute``).
MINUTES = f"""
    SELECT f.outlet_id, f.pollutant, f.hour, o.logger_id, f.n::int AS n_records, f.n::int AS n_valid,
        0 AS n_stopped, 0 AS n_process, 0 AS n_invalid, f.n::int AS n_normal_flag, 0 AS n_negative,
        f.v_sum / f.n AS raw_mean, f.v_sum / f.n AS v_mean, f.v_min, f.v_max, f.v_sum / f.n AS vp_mean,
        f.v_min AS vp_min, f.v_max AS vp_max, f.w_num, f.w_den, f.w_num AS wp_num, f.w_den AS wp_den,
        NULL::jsonb AS flag_counts, NULL::text AS lbl_invalid, NULL::text AS lbl_process, NULL::text AS abn_flag
    FROM tmp_fast f JOIN tmp_outlet o ON o.outlet_id = f.outlet_id
    WHERE f.bits = {BIT_N} AND NOT EXISTS (
        SELECT 1 FROM tmp_detail d WHERE d.outlet_id = f.outlet_id AND d.pollutant = f.pollutant AND d.hour = f.hour)
    UNION ALL
    SELECT outlet_id, pollutant, hour, logger_id, n_records, n_valid, n_stopped, n_process, n_invalid, n_normal_flag,
        n_negative, raw_mean, v_mean, v_min, v_max, vp_mean, vp_min, vp_max, w_num, w_den, wp_num, wp_den,
        flag_counts, lbl_invalid, lbl_process, abn_flag
    FROM tmp_minute
"""


def analyze(cur: Any, table: str) -> None:
    """Statistics of a temporary table for the next statements' plans (a small sample is enough)."""
    cur.execute("SET LOCAL default_statistics_target = 10")
    cur.execute(f"ANALYZE {table}")
    cur.execute("SET LOCAL default_statistics_target = 100")


def _flag_map(contexts: Iterable[OutletContext]) -> None:
    temp_table("tmp_flagmap", "rules_id bigint, flag text, cls text, PRIMARY KEY (rules_id, flag)")
    temp_table("tmp_flagdefault", "rules_id bigint PRIMARY KEY, unknown_cls text")
    rows: dict[tuple[int, str], str] = {}
    defaults: dict[int, str] = {}
    for ctx in contexts:
        rules = ctx.validity
        for flag, cls in rules.flag_classes.items():
            rows[(rules.id, flag)] = CLASS_CODE.get(cls, "i")
        rows[(rules.id, "")] = CLASS_CODE.get(rules.empty_flag_class, "v")
        defaults[rules.id] = CLASS_CODE.get(rules.unknown_flag_class, "i")
    fill("tmp_flagmap", ("rules_id", "flag", "cls"), [(r, f, c) for (r, f), c in rows.items()])
    fill("tmp_flagdefault", ("rules_id", "unknown_cls"), list(defaults.items()))


HOUR_COLUMNS = """outlet_id bigint, pollutant text, data_time timestamptz, logger_id bigint, source text,
    n_records int, n_valid int, valid_minutes int, stopped_minutes int, process_minutes int, n_negative int,
    flag_counts jsonb, status text, label text, agg_flag text, value numeric, min numeric, max numeric,
    raw_mean numeric, weighting text, logger_value numeric, logger_min numeric, logger_max numeric, logger_cou numeric,
    logger_flag text, logger_frame_id bigint, mismatch boolean, mismatch_detail jsonb, review_id bigint,
    rules_id bigint, PRIMARY KEY (outlet_id, pollutant, data_time)"""


def build_hours(contexts: dict[int, OutletContext], start: dt.datetime, end: dt.datetime) -> None:
    """``tmp_hour``: the complete grid of (outlet, parameter, hour) with validity and means."""
    _flag_map(contexts.values())
    temp_table(
        "tmp_hsample",
        "outlet_id bigint, pollutant text, data_time timestamptz, logger_id bigint, value numeric, "
        "min numeric, max numeric, cou numeric, flag text, frame_id bigint",
    )
    temp_table("tmp_expected", "outlet_id bigint, pollutant text")
    with connection.cursor() as cur:
        cur.execute(
            """
            INSERT INTO tmp_hsample
            SELECT outlet_id, pollutant, date_trunc('hour', data_time, 'UTC'), max(logger_id), avg(value),
                   min(min), max(max), sum(cou), max(flag), max(frame_id)
            FROM monitoring_sample
            WHERE kind = 'h' AND outlet_id = ANY(%s) AND data_time >= %s AND data_time < %s
            GROUP BY 1, 2, 3
            """,
            [list(contexts), start, end],
        )
        analyze(cur, "tmp_hsample")
    fill(
        "tmp_expected",
        ("outlet_id", "pollutant"),
        [(ctx.id, code) for ctx in contexts.values() for code in sorted(ctx.logger_pollutants)],
    )
    temp_table("tmp_hour", HOUR_COLUMNS)
    with connection.cursor() as cur:
        cur.execute("SET LOCAL enable_mergejoin = off")  # hash joins on (outlet, parameter, hour), see docs
        cur.execute(
            f"""
            WITH pairs AS (
                SELECT outlet_id, pollutant FROM tmp_expected
                UNION SELECT DISTINCT outlet_id, pollutant FROM tmp_fast WHERE outlet_id IN (SELECT outlet_id FROM tmp_outlet)
                UNION SELECT DISTINCT outlet_id, pollutant FROM tmp_hsample
            ),
            grid AS (
                SELECT p.outlet_id, p.pollutant, h AS data_time
                FROM pairs p CROSS JOIN generate_series(%(start)s::timestamptz, %(last)s::timestamptz, interval '1 hour') h
            ),
            base AS (
                SELECT g.outlet_id, g.pollutant, g.data_time, o.rules_id, o.minute_interval AS iv,
                    o.min_valid_minutes AS minv, o.min_state_minutes AS mins, o.agg_share, o.normal_share,
                    o.abnormal_flag, o.rel_tol, o.abs_tol, o.medium, o.flow_code,
                    (g.pollutant = ANY(o.arithmetic_codes)) AS arithmetic,
                    CASE WHEN m.outlet_id IS NOT NULL THEN 'm'
                         WHEN hs.outlet_id IS NOT NULL AND o.accept_logger_hours THEN 'h' ELSE 'x' END AS source,
                    m.logger_id, m.n_records, m.n_valid, m.n_stopped, m.n_process, m.n_invalid, m.n_normal_flag,
                    m.n_negative, m.raw_mean, m.v_mean, m.v_min, m.v_max, m.vp_mean, m.vp_min, m.vp_max, m.w_num, m.w_den,
                    m.wp_num, m.wp_den, m.flag_counts, m.lbl_invalid, m.lbl_process, m.abn_flag,
                    hs.logger_id AS hs_logger, hs.value AS hs_value, hs.min AS hs_min, hs.max AS hs_max,
                    hs.cou AS hs_cou, hs.flag AS hs_flag, hs.frame_id AS hs_frame,
                    CASE WHEN hs.value IS NULL OR (o.negative_invalid AND hs.value < 0) THEN 'i'
                         ELSE coalesce(fm.cls, fd.unknown_cls, 'i') END AS hs_cls,
                    (hs.value IS NULL OR (o.negative_invalid AND hs.value < 0)) AS hs_nv
                FROM grid g
                JOIN tmp_outlet o ON o.outlet_id = g.outlet_id
                LEFT JOIN tmp_outlet_pollutant op ON op.outlet_id = g.outlet_id AND op.pollutant = g.pollutant
                LEFT JOIN ({MINUTES}) m ON m.outlet_id = g.outlet_id AND m.pollutant = g.pollutant AND m.hour = g.data_time
                LEFT JOIN tmp_hsample hs ON hs.outlet_id = g.outlet_id AND hs.pollutant = g.pollutant
                    AND hs.data_time = g.data_time
                LEFT JOIN tmp_flagmap fm ON fm.rules_id = o.rules_id AND fm.flag = coalesce(hs.flag, '')
                LEFT JOIN tmp_flagdefault fd ON fd.rules_id = o.rules_id
            ),
            st AS (
                SELECT b.*,
                    CASE b.source
                        WHEN 'm' THEN CASE
                            WHEN b.n_valid * b.iv >= b.minv THEN 'v'
                            WHEN b.n_stopped * b.iv >= b.mins THEN 's'
                            WHEN b.n_process * b.iv >= b.mins THEN 'p'
                            ELSE 'i' END
                        WHEN 'h' THEN b.hs_cls
                        ELSE 'm' END AS st,
                    (b.medium = 'water' AND NOT b.arithmetic AND b.pollutant <> b.flow_code) AS weighted
                FROM base b
            )
            INSERT INTO tmp_hour
            SELECT s.outlet_id, s.pollutant, s.data_time, coalesce(s.logger_id, s.hs_logger), s.source,
                coalesce(s.n_records, 0), coalesce(s.n_valid, 0),
                CASE WHEN s.source = 'h' THEN CASE WHEN s.st = 'v' THEN 60 ELSE 0 END
                     ELSE least(coalesce(s.n_valid, 0) * s.iv, 60) END,
                CASE WHEN s.source = 'h' THEN CASE WHEN s.st = 's' THEN 60 ELSE 0 END
                     ELSE least(coalesce(s.n_stopped, 0) * s.iv, 60) END,
                CASE WHEN s.source = 'h' THEN CASE WHEN s.st = 'p' THEN 60 ELSE 0 END
                     ELSE least(coalesce(s.n_process, 0) * s.iv, 60) END,
                CASE WHEN s.source = 'h' THEN CASE WHEN s.hs_value < 0 THEN 1 ELSE 0 END ELSE coalesce(s.n_negative, 0) END,
                CASE WHEN s.source = 'm' THEN coalesce(s.flag_counts, jsonb_build_object('N', s.n_records))
                     WHEN s.source = 'h' THEN jsonb_build_object(coalesce(s.hs_flag, ''), 1) END,
                s.st,
                CASE s.st
                    WHEN 'v' THEN 'N'
                    WHEN 's' THEN 'F'
                    WHEN 'p' THEN coalesce(s.lbl_process, 'St')
                    WHEN 'm' THEN 'Md'
                    ELSE CASE
                        WHEN s.source = 'h' THEN CASE WHEN s.hs_nv THEN 'NV' WHEN s.hs_flag IN ('F','M','S','D','C','T','B') THEN s.hs_flag ELSE 'X' END
                        WHEN s.n_invalid > 0 AND s.n_invalid * s.iv >= 60 - s.n_records * s.iv THEN coalesce(s.lbl_invalid, 'X')
                        WHEN 60 - s.n_records * s.iv > 0 THEN 'Md'
                        ELSE 'X' END
                END,
                CASE s.source
                    WHEN 'm' THEN CASE
                        WHEN s.agg_share THEN CASE WHEN s.n_normal_flag >= s.normal_share * s.n_records THEN 'N'
                                                   ELSE s.abnormal_flag END
                        ELSE CASE WHEN s.n_normal_flag = s.n_records THEN 'N' ELSE coalesce(s.abn_flag, 'D') END
                    END
                    WHEN 'h' THEN coalesce(s.hs_flag, '')
                    ELSE '' END,
                CASE WHEN s.source = 'h' THEN s.hs_value
                     WHEN s.st = 'p' THEN CASE WHEN s.weighted AND s.wp_den > 0 THEN s.wp_num / s.wp_den ELSE s.vp_mean END
                     ELSE CASE WHEN s.weighted AND s.w_den > 0 THEN s.w_num / s.w_den ELSE s.v_mean END END,
                CASE WHEN s.source = 'h' THEN s.hs_min WHEN s.st = 'p' THEN s.vp_min ELSE s.v_min END,
                CASE WHEN s.source = 'h' THEN s.hs_max WHEN s.st = 'p' THEN s.vp_max ELSE s.v_max END,
                CASE WHEN s.source = 'h' THEN s.hs_value ELSE s.raw_mean END,
                CASE WHEN s.source = 'm' THEN CASE
                    WHEN s.weighted AND ((s.st = 'p' AND s.wp_den > 0) OR (s.st <> 'p' AND s.w_den > 0)) THEN 'flow'
                    ELSE 'arith' END
                    WHEN s.source = 'h' THEN 'logger' ELSE '' END,
                s.hs_value, s.hs_min, s.hs_max, s.hs_cou, coalesce(s.hs_flag, ''), s.hs_frame,
                false, NULL, NULL, s.rules_id
            FROM st s
            """,
            {"start": start, "last": end - dt.timedelta(hours=1)},
        )
        cur.execute("SET LOCAL enable_mergejoin = on")
        # The platform's mean against the logger's own hourly mean (2061).
        cur.execute(
            """
            UPDATE tmp_hour t SET mismatch = true,
                mismatch_detail = jsonb_build_object('value', jsonb_build_array(round(t.value, 6)::text, round(t.logger_value, 6)::text))
            FROM tmp_outlet o
            WHERE o.outlet_id = t.outlet_id AND t.source = 'm' AND t.value IS NOT NULL AND t.logger_value IS NOT NULL
              AND abs(t.value - t.logger_value) > greatest(o.abs_tol, o.rel_tol * abs(t.logger_value))
            """
        )
        analyze(cur, "tmp_hour")


def apply_logger_hour_overlays(overlays: bool) -> None:
    """Overlays on hours known only from the logger's hourly value (no minute data): the covered
    minutes reduce the valid minutes, and the 45-minute rule decides again."""
    if not overlays:
        return
    with connection.cursor() as cur:
        cur.execute(
            """
            WITH cov AS (
                SELECT t.outlet_id, t.pollutant, t.data_time,
                    sum(extract(epoch FROM least(ov.t1, t.data_time + interval '1 hour')
                        - greatest(ov.t0, t.data_time)) / 60) FILTER (WHERE ov.cls = 'i') AS inv,
                    sum(extract(epoch FROM least(ov.t1, t.data_time + interval '1 hour')
                        - greatest(ov.t0, t.data_time)) / 60) FILTER (WHERE ov.cls = 's') AS stp,
                    sum(extract(epoch FROM least(ov.t1, t.data_time + interval '1 hour')
                        - greatest(ov.t0, t.data_time)) / 60) FILTER (WHERE ov.cls = 'p') AS prc,
                    (array_agg(ov.label ORDER BY ov.t1 - ov.t0 DESC) FILTER (WHERE ov.cls = 'i'))[1] AS li,
                    (array_agg(ov.label ORDER BY ov.t1 - ov.t0 DESC) FILTER (WHERE ov.cls = 'p'))[1] AS lp
                FROM tmp_hour t
                JOIN tmp_ov ov ON ov.outlet_id = t.outlet_id AND ov.pollutant = t.pollutant
                    AND ov.t0 < t.data_time + interval '1 hour' AND ov.t1 > t.data_time
                WHERE t.source = 'h' AND t.status = 'v'
                GROUP BY 1, 2, 3
            ), mins AS (
                SELECT c.*, 60 - coalesce(inv, 0) - coalesce(stp, 0) - coalesce(prc, 0) AS valid_left
                FROM cov c
            )
            UPDATE tmp_hour t SET
                valid_minutes = greatest(m.valid_left, 0)::int,
                stopped_minutes = coalesce(m.stp, 0)::int,
                process_minutes = coalesce(m.prc, 0)::int,
                status = CASE WHEN m.valid_left >= o.min_valid_minutes THEN 'v'
                              WHEN coalesce(m.stp, 0) >= o.min_state_minutes THEN 's'
                              WHEN coalesce(m.prc, 0) >= o.min_state_minutes THEN 'p' ELSE 'i' END,
                label = CASE WHEN m.valid_left >= o.min_valid_minutes THEN 'N'
                             WHEN coalesce(m.stp, 0) >= o.min_state_minutes THEN 'F'
                             WHEN coalesce(m.prc, 0) >= o.min_state_minutes THEN coalesce(m.lp, 'St')
                             ELSE coalesce(m.li, 'X') END
            FROM mins m, tmp_outlet o
            WHERE o.outlet_id = t.outlet_id AND t.outlet_id = m.outlet_id AND t.pollutant = m.pollutant
              AND t.data_time = m.data_time
            """
        )


def apply_hour_reviews(contexts: dict[int, OutletContext], start: dt.datetime, end: dt.datetime) -> None:
    """Hour-level review decisions, the latest winning: invalid (label ``R``) or a corrected value."""
    reviews = list(
        ReviewAction.objects.filter(
            outlet_id__in=list(contexts),
            level=ReviewLevel.HOUR,
            status=ReviewStatus.ACTIVE,
            start__lt=end,
            end__gt=start,
        ).values_list("pk", "outlet_id", "pollutant_id", "kind", "start", "end", "value")
    )
    if not reviews:
        return
    temp_table(
        "tmp_review_hour",
        "id bigint, outlet_id bigint, pollutant text, kind text, t0 timestamptz, t1 timestamptz, value numeric",
    )
    fill(
        "tmp_review_hour",
        ("id", "outlet_id", "pollutant", "kind", "t0", "t1", "value"),
        [(pk, oid, code or "", kind, t0, t1, value) for pk, oid, code, kind, t0, t1, value in reviews],
    )
    with connection.cursor() as cur:
        cur.execute(
            """
            UPDATE tmp_hour t SET
                status = CASE WHEN r.kind = 'invalidate' THEN 'i' ELSE 'v' END,
                label = CASE WHEN r.kind = 'invalidate' THEN 'R' ELSE 'N' END,
                value = CASE WHEN r.kind = 'correct' THEN r.value ELSE t.value END,
                min = CASE WHEN r.kind = 'correct' THEN r.value ELSE t.min END,
                max = CASE WHEN r.kind = 'correct' THEN r.value ELSE t.max END,
                weighting = CASE WHEN r.kind = 'correct' THEN 'review' ELSE t.weighting END,
                valid_minutes = CASE WHEN r.kind = 'correct' THEN 60 ELSE 0 END,
                review_id = r.id
            FROM (
                SELECT DISTINCT ON (h.outlet_id, h.pollutant, h.data_time) h.outlet_id, h.pollutant, h.data_time,
                    rv.id, rv.kind, rv.value
                FROM tmp_hour h JOIN tmp_review_hour rv ON rv.outlet_id = h.outlet_id
                    AND (rv.pollutant = '' OR rv.pollutant = h.pollutant)
                    AND h.data_time >= rv.t0 AND h.data_time < rv.t1
                WHERE rv.kind = 'invalidate' OR rv.pollutant = h.pollutant
                ORDER BY h.outlet_id, h.pollutant, h.data_time, rv.id DESC
            ) r
            WHERE t.outlet_id = r.outlet_id AND t.pollutant = r.pollutant AND t.data_time = r.data_time
            """
        )


def derive_nox(contexts: dict[int, OutletContext]) -> None:
    """NOx as NO2 = NO × 46/30 + NO2 for air outlets that report NO but no NOx (monitoring-data.md §8)."""
    derive = [
        c for c in contexts.values() if c.medium == "air" and (c.validity.get("nox") or {}).get("derive")
    ]
    if not derive:
        return
    by_rules: dict[tuple[str, str, str, str], list[int]] = defaultdict(list)
    for ctx in derive:
        nox = ctx.validity.get("nox") or {}
        key = (str(nox.get("no", "a21003")), str(nox.get("no2", "a21004")), str(nox.get("nox", "a21002")),
               str(nox.get("no_factor", "1.5333")))  # fmt: skip
        by_rules[key].append(ctx.id)
    for (no, no2, nox, factor), ids in by_rules.items():
        with connection.cursor() as cur:
            cur.execute(
                """
                DELETE FROM tmp_hour t WHERE t.outlet_id = ANY(%(ids)s) AND t.pollutant = %(nox)s AND t.source = 'x'
                  AND EXISTS (SELECT 1 FROM tmp_hour n WHERE n.outlet_id = t.outlet_id AND n.pollutant = %(no)s
                              AND n.data_time = t.data_time AND n.source <> 'x')
                """,
                {"ids": ids, "no": no, "nox": nox},
            )
            cur.execute(
                """
                INSERT INTO tmp_hour (outlet_id, pollutant, data_time, logger_id, source, n_records, n_valid,
                    valid_minutes, stopped_minutes, process_minutes, n_negative, flag_counts, status, label, agg_flag,
                    value, min, max, weighting, logger_flag, mismatch, rules_id)
                SELECT n.outlet_id, %(nox)s, n.data_time, n.logger_id, n.source, n.n_records, n.n_valid,
                    n.valid_minutes, n.stopped_minutes, n.process_minutes, n.n_negative, n.flag_counts, n.status,
                    n.label, n.agg_flag,
                    n.value * %(factor)s::numeric + coalesce(CASE WHEN d.status IN ('v', 'p') THEN d.value END, 0),
                    NULL, NULL, 'no+no2', '', false, n.rules_id
                FROM tmp_hour n
                LEFT JOIN tmp_hour d ON d.outlet_id = n.outlet_id AND d.pollutant = %(no2)s AND d.data_time = n.data_time
                WHERE n.outlet_id = ANY(%(ids)s) AND n.pollutant = %(no)s AND n.source <> 'x'
                  AND NOT EXISTS (SELECT 1 FROM tmp_hour x WHERE x.outlet_id = n.outlet_id AND x.pollutant = %(nox)s
                                  AND x.data_time = n.data_time)
                """,
                {"ids": ids, "no": no, "no2": no2, "nox": nox, "factor": Decimal(factor)},
            )


def build_aux() -> None:
    """``tmp_aux``: per outlet and hour, the flow volume (m³, standard dry for flue gas) and the
    auxiliary parameters the pollutant rows need (O2, moisture) — one pivot instead of a self-join per
    parameter."""
    with connection.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS tmp_aux")
        cur.execute(
            """
            CREATE TEMP TABLE tmp_aux ON COMMIT DROP AS
            SELECT p.outlet_id, p.data_time, p.o2_status, p.o2,
                CASE WHEN p.f_value IS NOT NULL THEN p.f_value * o.flow_factor * 3600 * (CASE WHEN o.flow_actual THEN
                    CASE WHEN p.tp IS NOT NULL AND p.hm IS NOT NULL THEN
                        273.15 / (273.15 + p.tp) * ((coalesce(p.ap, o.atm_kpa) + coalesce(p.pr, 0)) * 1000) / 101325
                        * (1 - p.hm / 100)
                    END ELSE 1 END) END AS volume,
                CASE WHEN o.wet_basis THEN p.hm / 100 END AS moisture,
                CASE WHEN o.wet_basis AND p.hm IS NOT NULL AND p.hm < 100 THEN 1 - p.hm / 100 ELSE 1 END AS dry_divisor
            FROM (
                SELECT t.outlet_id, t.data_time,
                    max(t.value) FILTER (WHERE t.pollutant = o.flow_code AND t.status IN ('v', 'p')) AS f_value,
                    max(t.status) FILTER (WHERE t.pollutant = o.o2_code) AS o2_status,
                    max(t.value) FILTER (WHERE t.pollutant = o.o2_code) AS o2,
                    max(t.value) FILTER (WHERE t.pollutant = o.moisture_code AND t.status IN ('v', 'p')) AS hm,
                    max(t.value) FILTER (WHERE t.pollutant = o.temperature_code AND t.status IN ('v', 'p')) AS tp,
                    max(t.value) FILTER (WHERE t.pollutant = o.pressure_code AND t.status IN ('v', 'p')) AS pr,
                    max(t.value) FILTER (WHERE t.pollutant = o.atmospheric_code AND t.status IN ('v', 'p')) AS ap
                FROM tmp_hour t JOIN tmp_outlet o ON o.outlet_id = t.outlet_id
                WHERE t.pollutant IN (o.flow_code, o.o2_code, o.moisture_code, o.temperature_code, o.pressure_code,
                                      o.atmospheric_code)
                GROUP BY 1, 2
            ) p JOIN tmp_outlet o ON o.outlet_id = p.outlet_id
            """
        )
        cur.execute("CREATE INDEX ON tmp_aux (outlet_id, data_time)")
        analyze(cur, "tmp_aux")


PARAMETER_CODES = sorted(AIR_PARAMETERS | WATER_PARAMETERS)


def write_hours(contexts: dict[int, OutletContext], start: dt.datetime, end: dt.datetime) -> int:
    """Replace the batch's rows in ``monitoring_hour`` with ``tmp_hour`` plus bases, amounts and O2:
    ppm → mg/m³ (× M / 22.414), wet → dry (÷ (1 − X_sw)), amount = C × V × 10⁻³ (water) or 10⁻⁶ (flue
    gas), reference-O2 conversion with its guard, the limit and the comparison of amounts with the
    logger's ``Cou``."""
    build_aux()
    param = "(t.pollutant = o.flow_code OR t.pollutant = ANY(%(parameters)s))"
    sql = f"""
        INSERT INTO monitoring_hour (outlet_id, pollutant, data_time, logger_id, source, n_records, n_valid,
            valid_minutes, stopped_minutes, process_minutes, n_negative, flag_counts, status, label, agg_flag,
            value, min, max, raw_mean, weighting, volume_m3, amount_kg, moisture, o2, o2_ref, zs_factor, zs_value,
            zs_status, limit_value, over_limit, logger_value, logger_min, logger_max, logger_cou, logger_flag,
            logger_frame_id, mismatch, mismatch_detail, review_id, rules_id, computed_at)
        SELECT z.outlet_id, z.pollutant, z.data_time, z.logger_id, z.source, z.n_records, z.n_valid,
            z.valid_minutes, z.stopped_minutes, z.process_minutes, z.n_negative, z.flag_counts, z.status, z.label,
            z.agg_flag, z.value * z.conv, z.min * z.conv, z.max * z.conv, z.raw_mean, z.weighting, z.volume,
            z.amount, z.moisture, z.o2, z.o2_ref, z.factor, z.value * z.conv * z.factor, z.zs_status, z.limit_value,
            (z.limit_value IS NOT NULL AND z.status = 'v' AND z.label = 'N'
             AND coalesce(z.limit_averaging, 'hour') IN ('hour', 'instant')
             AND CASE WHEN z.zs_status = 'ok' THEN z.value * z.conv * z.factor > z.limit_value
                      WHEN z.zs_status IN ('na', 'no_ref') THEN z.value * z.conv > z.limit_value ELSE false END),
            z.logger_value, z.logger_min, z.logger_max, z.logger_cou, z.logger_flag, z.logger_frame_id,
            z.mismatch OR z.cou_mismatch,
            CASE WHEN z.cou_mismatch
                 THEN coalesce(z.mismatch_detail, '{{}}'::jsonb)
                      || jsonb_build_object('cou', jsonb_build_array(round(z.own_cou, 6)::text, round(z.logger_cou, 6)::text))
                 ELSE z.mismatch_detail END,
            z.review_id, z.rules_id, now()
        FROM (
            SELECT y.*,
                CASE WHEN y.pollutant = y.flow_code THEN y.volume ELSE y.amount END AS own_cou,
                coalesce(y.source = 'm' AND y.logger_cou IS NOT NULL
                    AND (CASE WHEN y.pollutant = y.flow_code THEN y.volume ELSE y.amount END) IS NOT NULL
                    AND abs((CASE WHEN y.pollutant = y.flow_code THEN y.volume ELSE y.amount END) - y.logger_cou)
                        > greatest(y.abs_tol, y.rel_tol * abs(y.logger_cou)), false) AS cou_mismatch
            FROM (
                SELECT x.*,
                    CASE WHEN x.is_param OR x.status NOT IN ('v', 'p') OR x.volume IS NULL THEN NULL
                         ELSE x.value * x.conv * x.volume * x.kg_factor END AS amount,
                    CASE WHEN x.zs_status = 'ok' THEN (21 - x.o2_ref) / (21 - coalesce(x.o2, x.o2_ref)) END AS factor
                FROM (
                    SELECT t.*, o.flow_code, o.kg_factor, o.abs_tol, o.rel_tol, op.limit_value, op.limit_averaging,
                        {param} AS is_param,
                        CASE WHEN {param} THEN 1 ELSE coalesce(op.ppm_factor, 1) / coalesce(a.dry_divisor, 1) END AS conv,
                        CASE WHEN t.pollutant = o.flow_code THEN
                                CASE WHEN t.status IN ('v', 'p') THEN a.volume END
                             WHEN NOT {param} THEN a.volume END AS volume,
                        a.moisture,
                        CASE WHEN o.medium = 'air' AND NOT {param} AND op.o2_ref IS NOT NULL THEN a.o2 END AS o2,
                        CASE WHEN NOT {param} THEN op.o2_ref END AS o2_ref,
                        CASE WHEN o.medium <> 'air' OR {param} THEN 'na'
                             WHEN op.o2_ref IS NULL THEN 'no_ref'
                             WHEN NOT (t.status = 'v' AND t.label = 'N') THEN 'not_normal'
                             WHEN (a.o2_status = 'v' AND a.o2 IS NOT NULL AND a.o2 < o.o2_guard)
                                  OR (a.o2 IS NULL AND o.o2_missing_factor_one) THEN 'ok'
                             WHEN a.o2_status = 'v' AND a.o2 >= o.o2_guard THEN 'guard'
                             ELSE 'no_o2' END AS zs_status
                    FROM tmp_hour t
                    JOIN tmp_outlet o ON o.outlet_id = t.outlet_id
                    LEFT JOIN tmp_outlet_pollutant op ON op.outlet_id = t.outlet_id AND op.pollutant = t.pollutant
                    LEFT JOIN tmp_aux a ON a.outlet_id = t.outlet_id AND a.data_time = t.data_time
                ) x
            ) y
        ) z
    """
    with connection.cursor() as cur:
        cur.execute(
            "DELETE FROM monitoring_hour WHERE outlet_id = ANY(%s) AND data_time >= %s AND data_time < %s",
            [list(contexts), start, end],
        )
        cur.execute(sql, {"parameters": PARAMETER_CODES})
        return int(cur.rowcount or 0)


def compute_hours(
    contexts: dict[int, OutletContext],
    start: dt.datetime,
    end: dt.datetime,
    timings: dict[str, float] | None = None,
) -> int:
    """Recompute ``monitoring_hour`` for the outlets of ``contexts`` over ``[start, end)`` (whole
    hours). Runs inside the caller's transaction; returns the number of hour rows written.
    ``timings``, when given, receives the seconds spent in each step."""
    if not contexts or end <= start:
        return 0
    clock = _Clock(timings)
    overlays = _expand_and_flatten(collect_overlays(contexts, start, end), contexts, start, end)
    temp_table(
        "tmp_ov",
        "outlet_id bigint, pollutant text, t0 timestamptz, t1 timestamptz, prio int, cls text, label text, "
        "value numeric, ref bigint",
    )
    fill(
        "tmp_ov",
        ("outlet_id", "pollutant", "t0", "t1", "prio", "cls", "label", "value", "ref"),
        [
            (o.outlet_id, o.pollutant, o.start, o.end, o.priority, o.cls, o.label, o.value, o.ref)
            for o in overlays
        ],
    )
    clock.lap("overlays")
    groups: dict[int, tuple[ValidityRules, list[int]]] = {}
    for ctx in contexts.values():
        groups.setdefault(ctx.validity.id, (ctx.validity, []))[1].append(ctx.id)
    aggregate_minutes(groups, start, end, overlays=bool(overlays), clock=clock)
    clock.lap("detail")
    build_hours(contexts, start, end)
    clock.lap("grid")
    apply_logger_hour_overlays(bool(overlays))
    apply_hour_reviews(contexts, start, end)
    derive_nox(contexts)
    clock.lap("reviews")
    written = write_hours(contexts, start, end)
    clock.lap("write")
    return written


class _Clock:
    """Optional step timings."""

    def __init__(self, sink: dict[str, float] | None) -> None:
        self.sink = sink
        self.last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        if self.sink is not None:
            self.sink[name] = self.sink.get(name, 0.0) + now - self.last
        self.last = now


def classify_minutes(
    ctx: OutletContext, pollutant: str, start: dt.datetime, end: dt.datetime
) -> list[dict[str, object]]:
    """The minutes of one pollutant with the class and reason the pipeline gives them (drill-down)."""
    with transaction.atomic():  # the temporary tables live until the end of the transaction
        return _classify(ctx, pollutant, start, end)


def _classify(
    ctx: OutletContext, pollutant: str, start: dt.datetime, end: dt.datetime
) -> list[dict[str, object]]:
    contexts = {ctx.id: ctx}
    overlays = _expand_and_flatten(collect_overlays(contexts, start, end), contexts, start, end)
    temp_table(
        "tmp_ov",
        "outlet_id bigint, pollutant text, t0 timestamptz, t1 timestamptz, prio int, cls text, label text, "
        "value numeric, ref bigint",
    )
    fill(
        "tmp_ov",
        ("outlet_id", "pollutant", "t0", "t1", "prio", "cls", "label", "value", "ref"),
        [
            (o.outlet_id, o.pollutant, o.start, o.end, o.priority, o.cls, o.label, o.value, o.ref)
            for o in overlays
        ],
    )
    params: dict[str, Any] = {
        "ids": [ctx.id],
        "start": start,
        "end": end,
        "flow": ctx.flow_code,
        "pollutant": pollutant,
    }
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT data_time, raw_value, value, flag, cls, lbl, frame_id FROM "
            f"({minute_select(ctx.validity, overlays=True)}) m WHERE pollutant = %(pollutant)s ORDER BY data_time",
            params,
        )
        rows = cur.fetchall()
    return [
        {
            "data_time": r[0],
            "raw_value": r[1],
            "value": r[2],
            "flag": r[3],
            "cls": r[4],
            "label": r[5],
            "frame_id": r[6],
        }
        for r in rows
    ]
