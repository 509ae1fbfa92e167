"""Substitution (修约) of invalid or missing hours by the outlet's substitution rule set.

Flue gas (monitoring-data.md §4): only the emission amounts of the listed pollutants are
substituted. The band is chosen by the situation of the gap (out of control ``T`` / maintenance
``M`` / other), the capture rate α and the gap length N; the replacement is the maximum hourly
amount over the last 180 / 720 / 2160 valid hours before the gap (or before the last calibration
for out-of-control gaps), or — in the variant rule set — the mean of the valid hours just before
and after a maintenance gap of at most 24 hours. Below the lowest band nothing is substituted.

Wastewater (§5.3): the concentration and the flow of an invalid hour are each filled with the mean
(the median for pH) of the N valid hourly values just before the gap (N = the gap's length by
default), rounded to two decimals; the amount is the filled concentration × the filled volume.

Every result carries its inputs, so :class:`~totalcap.monitoring.models.Substitution` can store the
rule, the inputs and the original value.
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import connection

from totalcap.monitoring.services.context import BEIJING, OutletContext
from totalcap.monitoring.units import KG_FACTOR

HOUR = dt.timedelta(hours=1)


@dataclass
class HourState:
    """What accounting knows about one hour of one pollutant (and its outlet's flow)."""

    data_time: dt.datetime
    status: str  # monitoring status of the pollutant: v s p i m
    label: str
    value: Decimal | None
    amount: Decimal | None
    flow_status: str
    volume: Decimal | None

    @property
    def stopped(self) -> bool:
        return self.status == "s" or self.flow_status == "s"

    @property
    def auto_ok(self) -> bool:
        return self.amount is not None and self.status in ("v", "p") and not self.stopped


@dataclass
class Substituted:
    """A substitution result for one hour."""

    kg: Decimal
    rule_code: str
    situation: str
    inputs: dict[str, Any]
    concentration: Decimal | None = None
    volume: Decimal | None = None
    capture_rate: Decimal | None = None


@dataclass
class Gap:
    start: dt.datetime
    end: dt.datetime  # exclusive
    labels: dict[str, int] = field(default_factory=dict)

    @property
    def hours(self) -> int:
        return int((self.end - self.start) / HOUR)


def quarter_start(moment: dt.datetime) -> dt.datetime:
    local = moment.astimezone(BEIJING)
    month = 3 * ((local.month - 1) // 3) + 1
    return dt.datetime(local.year, month, 1, tzinfo=BEIJING)


def capture_rate(
    ctx: OutletContext, pollutant: str, start: dt.datetime, end: dt.datetime
) -> tuple[Decimal | None, dict[str, int]]:
    """α over ``[start, end)`` = valid / (hours − stopped [− process]) from the platform's hours;
    hours without a row count as missing. Returns (α, the counts)."""
    with connection.cursor() as cur:
        cur.execute(
            """
            SELECT count(*) FILTER (WHERE status = 'v'), count(*) FILTER (WHERE status = 's'),
                   count(*) FILTER (WHERE status = 'p'), count(*)
            FROM monitoring_hour WHERE outlet_id = %s AND pollutant = %s AND data_time >= %s AND data_time < %s
            """,
            [ctx.id, pollutant, start, end],
        )
        valid, stopped, process, rows = cur.fetchone()
    total = int((end - start) / HOUR)
    counts = {"hours": total, "valid": valid, "stopped": stopped, "process": process, "rows": rows}
    policy = ctx.validity.process_in_capture
    if policy == "valid":
        valid += process
        process = 0
    denominator = total - stopped - (process if policy == "exclude" else 0)
    if denominator <= 0:
        return None, counts
    return (Decimal(valid) / Decimal(denominator)).quantize(Decimal("0.0001")), counts


def capture_window(ctx: OutletContext, gap_end: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The window of α for a gap ending at ``gap_end``: the quarter to date (stretched back to at
    least ``capture_rate_min_hours``, default 720, so a gap early in a quarter is judged on enough
    hours), or a rolling window of ``capture_rate_hours``."""
    rules = ctx.substitution
    if rules.capture_rate_basis == "rolling":
        return gap_end - rules.capture_rate_hours * HOUR, gap_end
    start = quarter_start(gap_end - HOUR)
    minimum = int(rules.get("capture_rate_min_hours", 720))
    return min(start, gap_end - minimum * HOUR), gap_end


def situation_of(ctx: OutletContext, gap: Gap) -> str:
    rules = ctx.substitution
    if not gap.labels:
        return "other"
    dominant = max(sorted(gap.labels), key=lambda k: gap.labels[k])
    if dominant in rules.labels("out_of_control_labels"):
        return "out_of_control"
    if dominant in rules.labels("maintenance_labels"):
        return "maintenance"
    return "other"


def last_calibration(
    ctx: OutletContext, pollutant: str, before: dt.datetime, labels: set[str]
) -> dt.datetime | None:
    """The end of the last hour before ``before`` with a calibration label or calibration minutes."""
    if not labels:
        return None
    with connection.cursor() as cur:
        cur.execute(
            """
            SELECT max(data_time) FROM monitoring_hour
            WHERE outlet_id = %s AND pollutant = %s AND data_time < %s
              AND (label = ANY(%s) OR flag_counts ?| %s)
            """,
            [ctx.id, pollutant, before, sorted(labels), sorted(labels)],
        )
        found = cur.fetchone()[0]
    return None if found is None else found + HOUR


def max_of_valid_hours(
    ctx: OutletContext, pollutant: str, before: dt.datetime, window: int
) -> tuple[Decimal | None, dict[str, Any]]:
    """Maximum hourly amount over the last ``window`` valid hours before ``before``."""
    with connection.cursor() as cur:
        cur.execute(
            """
            SELECT count(*), max(amount_kg), min(data_time), max(data_time),
                   (array_agg(data_time ORDER BY amount_kg DESC, data_time DESC))[1]
            FROM (
                SELECT data_time, amount_kg FROM monitoring_hour
                WHERE outlet_id = %s AND pollutant = %s AND data_time < %s AND status = 'v' AND amount_kg IS NOT NULL
                ORDER BY data_time DESC LIMIT %s
            ) w
            """,
            [ctx.id, pollutant, before, window],
        )
        n, best, first, last, at = cur.fetchone()
    info = {
        "window_hours": window,
        "hours_used": int(n or 0),
        "window_first": first.isoformat() if first else None,
        "window_last": last.isoformat() if last else None,
        "max_hour": at.isoformat() if at else None,
    }
    return best, info


def neighbour_valid(
    ctx: OutletContext, pollutant: str, moment: dt.datetime, *, after: bool
) -> tuple[dt.datetime, Decimal] | None:
    """The valid hour (with an amount) just before ``moment`` (or the one at/after it)."""
    op, order = (">=", "ASC") if after else ("<", "DESC")
    with connection.cursor() as cur:
        cur.execute(
            f"""
            SELECT data_time, amount_kg, status FROM monitoring_hour
            WHERE outlet_id = %s AND pollutant = %s AND data_time {op} %s
            ORDER BY data_time {order} LIMIT 1
            """,
            [ctx.id, pollutant, moment],
        )
        row = cur.fetchone()
    if row is None or row[2] != "v" or row[1] is None:
        return None
    return row[0], row[1]


def substitute_air(ctx: OutletContext, pollutant: str, hour: HourState, gap: Gap) -> Substituted | None:
    """Flue-gas substitution of one hour of ``gap`` by the first band that applies."""
    rules = ctx.substitution
    if not rules.applies_to(pollutant):
        return None
    window_start, window_end = capture_window(ctx, gap.end)
    alpha, counts = capture_rate(ctx, pollutant, window_start, window_end)
    if alpha is None:
        return None
    minimum = rules.min_capture_rate
    if minimum is not None and alpha < minimum:
        return None
    situation = situation_of(ctx, gap)
    base: dict[str, Any] = {
        "alpha": str(alpha),
        "alpha_window": [window_start.isoformat(), window_end.isoformat()],
        "alpha_counts": counts,
        "gap_start": gap.start.isoformat(),
        "gap_end": gap.end.isoformat(),
        "gap_hours": gap.hours,
        "gap_labels": gap.labels,
        "situation": situation,
    }
    for band in rules.bands:
        if situation not in band.get("situations", []):
            continue
        if alpha < Decimal(str(band.get("min_rate", 0))):
            continue
        if band.get("max_gap") is not None and gap.hours > int(band["max_gap"]):
            continue
        if band.get("min_gap") is not None and gap.hours < int(band["min_gap"]):
            continue
        inputs = dict(base, band=band["code"], method=band["method"])
        if band["method"] == "before_after_mean":
            before = neighbour_valid(ctx, pollutant, gap.start, after=False)
            after = neighbour_valid(ctx, pollutant, gap.end, after=True)
            if before is None or after is None:
                continue
            kg = (before[1] + after[1]) / 2
            inputs.update(
                before=[before[0].isoformat(), str(before[1])], after=[after[0].isoformat(), str(after[1])]
            )
            return Substituted(kg, band["code"], situation, inputs, capture_rate=alpha)
        anchor = gap.start
        if band.get("anchor") == "calibration":
            calibration = last_calibration(ctx, pollutant, gap.start, rules.labels("calibration_labels"))
            if calibration is not None:
                anchor = min(anchor, calibration)
            inputs["calibration_end"] = calibration.isoformat() if calibration else None
        inputs["anchor"] = band.get("anchor", "gap")
        inputs["anchor_time"] = anchor.isoformat()
        best, info = max_of_valid_hours(ctx, pollutant, anchor, int(band["window"]))
        if best is None:
            continue
        inputs.update(info)
        return Substituted(best, band["code"], situation, inputs, capture_rate=alpha)
    return None


def _fill(values: list[Decimal], median: bool, places: int | None) -> Decimal:
    result = Decimal(statistics.median(values)) if median else sum(values, Decimal("0")) / len(values)
    if places is not None:
        result = result.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return result


def previous_valid(
    ctx: OutletContext, pollutant: str, before: dt.datetime, n: int, column: str
) -> list[tuple[dt.datetime, Decimal]]:
    """The ``n`` valid hourly values (``value`` or ``volume_m3``) just before ``before``, newest first."""
    with connection.cursor() as cur:
        cur.execute(
            f"""
            SELECT data_time, {column} FROM monitoring_hour
            WHERE outlet_id = %s AND pollutant = %s AND data_time < %s AND status = 'v' AND {column} IS NOT NULL
            ORDER BY data_time DESC LIMIT %s
            """,
            [ctx.id, pollutant, before, n],
        )
        return [(r[0], r[1]) for r in cur.fetchall()]


def substitute_water(
    ctx: OutletContext,
    pollutant: str,
    hour: HourState,
    conc_gap: Gap | None,
    flow_gap: Gap | None,
) -> Substituted | None:
    """Wastewater fill of the concentration and/or the volume of one hour."""
    rules = ctx.substitution
    if not rules.applies_to(pollutant):
        return None
    inputs: dict[str, Any] = {"method": rules.water_method}
    alpha: Decimal | None = None
    if rules.min_capture_rate is not None:
        gap_end = max(g.end for g in (conc_gap, flow_gap) if g is not None)
        window_start, window_end = capture_window(ctx, gap_end)
        alpha, counts = capture_rate(ctx, pollutant, window_start, window_end)
        inputs.update(alpha=str(alpha) if alpha is not None else None, alpha_counts=counts)
        if alpha is None or alpha < rules.min_capture_rate:
            return None
    places = rules.round_places

    def window_for(gap: Gap) -> int:
        n = gap.hours if rules.window == "gap_length" else int(rules.window)
        return max(1, min(n, rules.max_window))

    concentration = hour.value if hour.status in ("v", "p") else None
    if conc_gap is not None:
        n = window_for(conc_gap)
        found = previous_valid(ctx, pollutant, conc_gap.start, n, "value")
        if not found:
            return None
        concentration = _fill([v for _t, v in found], pollutant in rules.median_pollutants, places)
        inputs["concentration"] = {
            "gap_start": conc_gap.start.isoformat(), "gap_hours": conc_gap.hours, "window": n,
            "values_used": len(found), "first": found[-1][0].isoformat(), "last": found[0][0].isoformat(),
            "statistic": "median" if pollutant in rules.median_pollutants else "mean", "value": str(concentration),
        }  # fmt: skip
    volume = hour.volume if hour.flow_status in ("v", "p") else None
    if flow_gap is not None:
        n = window_for(flow_gap)
        found = previous_valid(ctx, ctx.flow_code, flow_gap.start, n, "volume_m3")
        if not found:
            return None
        volume = _fill([v for _t, v in found], False, places)
        inputs["volume"] = {
            "gap_start": flow_gap.start.isoformat(), "gap_hours": flow_gap.hours, "window": n,
            "values_used": len(found), "first": found[-1][0].isoformat(), "last": found[0][0].isoformat(),
            "statistic": "mean", "value": str(volume),
        }  # fmt: skip
    if concentration is None or volume is None:
        return None
    code = "fill-" + "+".join(k for k in ("concentration", "volume") if k in inputs)
    kg = concentration * volume * KG_FACTOR["water"]
    return Substituted(
        kg, code, "invalid", inputs, concentration=concentration, volume=volume, capture_rate=alpha
    )


def fill_concentrations(
    ctx: OutletContext, pollutant: str, start: dt.datetime, end: dt.datetime
) -> dict[dt.datetime, Substituted]:
    """Filled hourly concentrations of a wastewater parameter for display and reports (pH by the
    median): each invalid or missing hour gets the value the substitution rule gives it."""
    if ctx.medium != "water":
        return {}
    with connection.cursor() as cur:
        cur.execute(
            """
            SELECT h.data_time, p.status, p.label, p.value
            FROM generate_series(%s::timestamptz, %s::timestamptz, interval '1 hour') h(data_time)
            LEFT JOIN monitoring_hour p ON p.outlet_id = %s AND p.pollutant = %s AND p.data_time = h.data_time
            """,
            [start - dt.timedelta(days=31), end - HOUR, ctx.id, pollutant],
        )
        rows = cur.fetchall()
    states = {r[0]: HourState(r[0], r[1] or "m", r[2] or "Md", r[3], None, "v", Decimal(1)) for r in rows}

    def bad(state: HourState) -> bool:
        return state.status not in ("v", "p", "s")

    result: dict[dt.datetime, Substituted] = {}
    memo: dict[tuple[dt.datetime, dt.datetime], Substituted | None] = {}
    moment = start
    while moment < end:
        state = states.get(moment)
        if state is not None and bad(state):
            first = moment
            while (prev := states.get(first - HOUR)) is not None and bad(prev):
                first -= HOUR
            last = moment
            while last + HOUR < end and (nxt := states.get(last + HOUR)) is not None and bad(nxt):
                last += HOUR
            gap = Gap(first, last + HOUR)
            key = (gap.start, gap.end)
            if key not in memo:
                memo[key] = substitute_water(ctx, pollutant, state, gap, None)
            if memo[key] is not None:
                result[moment] = memo[key]  # type: ignore[assignment]
        moment += HOUR
    return result
