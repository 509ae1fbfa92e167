"""Hourly emission accounting: the method of every hour by the priority order, versions, and the
service API the quota ledger uses.

Priority (permits-and-accounting.md §5), per hour of each accounted (outlet, pollutant):

1. stopped (flag ``F``, stopped label, flow stopped) → 0 kg;
2. automatic monitoring required but not installed → penalised as untreated (按直排);
3. valid automatic data → the measured amount;
4. otherwise substitution by the outlet's rule set (修约);
5. otherwise manual monitoring (enforcement before self-monitoring) covering the hour;
6. otherwise material balance, then emission factor;
7. otherwise, when automatic monitoring is required, penalised as untreated; else unaccounted.

A plan may put manual monitoring before substitution (HJ 75 reference-method data during repairs)
or ask for the larger of the available methods.

A changed hour gets a new version; every version is appended to the hour log with its change in kg
(``delta_kg``), which is the feed of committed increments for the quota ledger.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection, transaction

from totalcap.monitoring.choices import MANUAL_PRIORITY, ManualKind, Method
from totalcap.monitoring.models import AccountingPlan, EmissionHour, ManualMeasurement, Substitution
from totalcap.monitoring.services.context import BEIJING, OutletContext, fill, temp_table
from totalcap.monitoring.services.states import labels_for_outlets
from totalcap.monitoring.services.substitution import (
    HOUR,
    Gap,
    HourState,
    Substituted,
    substitute_air,
    substitute_water,
)
from totalcap.monitoring.units import KG_FACTOR
from totalcap.registry.models import Outlet, Pollutant

#: Advisory lock serialising every writer of the hour log, so its ids follow commit order.
ACCOUNTING_LOCK = 0x4D4F4E4143435400 & 0x7FFFFFFFFFFFFFFF
GAP_REACH = dt.timedelta(days=31)


# --- public service API (quota ledger, reports) --------------------------------------------------


@dataclass(frozen=True)
class AccountedHour:
    """One committed version of an accounted hour: ``delta_kg`` is what it adds to earlier versions."""

    log_id: int
    outlet_id: int
    pollutant: str
    data_time: dt.datetime
    version: int
    kg: Decimal
    delta_kg: Decimal
    method: str


@dataclass(frozen=True)
class HourAmount:
    """The current accounted amount of one hour."""

    data_time: dt.datetime
    kg: Decimal
    method: str
    version: int
    hour_status: str


HourListener = Callable[[list[AccountedHour]], None]
_listeners: list[HourListener] = []


def register_hour_listener(listener: HourListener) -> None:
    """Call ``listener`` after commit with every batch of newly committed hour versions."""
    if listener not in _listeners:
        _listeners.append(listener)


def unregister_hour_listener(listener: HourListener) -> None:
    if listener in _listeners:
        _listeners.remove(listener)


def _notify(hours: list[AccountedHour]) -> None:
    for listener in list(_listeners):
        listener(hours)


def hourly_amounts(
    outlet: Outlet | int, pollutant: str, start: dt.datetime, end: dt.datetime
) -> list[HourAmount]:
    """Current accounted amounts of ``pollutant`` at ``outlet`` for the hours in ``[start, end)``."""
    outlet_id = outlet if isinstance(outlet, int) else outlet.pk
    rows = EmissionHour.objects.filter(
        outlet_id=outlet_id, pollutant=pollutant, data_time__gte=start, data_time__lt=end
    ).order_by("data_time")
    return [HourAmount(r.data_time, r.kg, r.method, r.version, r.hour_status) for r in rows]


@dataclass(frozen=True)
class MonthTotal:
    """The current accounted total of one pollutant of one outlet for one Beijing month."""

    outlet_id: int
    pollutant: str
    month: dt.date
    kg: Decimal
    method: str
    capture_rate: Decimal | None
    version: int


def monthly_totals(
    outlet_ids: Sequence[int],
    first_month: dt.date,
    last_month: dt.date,
    pollutants: Sequence[str] | None = None,
) -> list[MonthTotal]:
    """Month totals of ``outlet_ids`` from ``first_month`` to ``last_month`` (inclusive), read from the
    maintained month records (one row per outlet, pollutant and month)."""
    sql = (
        "SELECT outlet_id, pollutant, period_start, kg, method, capture_rate, version FROM monitoring_emission_total "
        "WHERE period = 'month' AND outlet_id = ANY(%s) AND period_start >= %s AND period_start <= %s"
    )
    params: list[Any] = [list(outlet_ids), first_month.replace(day=1), last_month.replace(day=1)]
    if pollutants is not None:
        sql += " AND pollutant = ANY(%s)"
        params.append(list(pollutants))
    with connection.cursor() as cur:
        cur.execute(sql + " ORDER BY outlet_id, pollutant, period_start", params)
        return [MonthTotal(*row) for row in cur.fetchall()]


def increments_since(
    last_log_id: int, *, limit: int = 10_000, outlet_ids: Sequence[int] | None = None
) -> list[AccountedHour]:
    """Hour versions committed after ``last_log_id`` (in commit order): the ledger posts each
    ``delta_kg`` once and remembers the last id it posted."""
    sql = (
        "SELECT id, outlet_id, pollutant, data_time, version, kg, delta_kg, method "
        "FROM monitoring_emission_hour_log WHERE id > %s"
    )
    params: list[Any] = [last_log_id]
    if outlet_ids is not None:
        sql += " AND outlet_id = ANY(%s)"
        params.append(list(outlet_ids))
    sql += " ORDER BY id LIMIT %s"
    params.append(limit)
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return [AccountedHour(*row) for row in cur.fetchall()]


# --- accounting ----------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What one accounting pass changed."""

    logged: list[AccountedHour] = field(default_factory=list)
    days: set[tuple[int, dt.date]] = field(default_factory=set)

    def merge(self, other: Outcome) -> None:
        self.logged.extend(other.logged)
        self.days |= other.days


@dataclass
class Result:
    """The accounted amount of one fallback hour."""

    kg: Decimal
    method: str
    concentration: Decimal | None = None
    volume: Decimal | None = None
    capture_rate: Decimal | None = None
    substitution: Substituted | None = None
    manual_id: int | None = None


def total_control_codes() -> set[str]:
    return set(Pollutant.objects.filter(is_total_control=True).values_list("code", flat=True))


def accounted_pairs(
    contexts: dict[int, OutletContext], start: dt.datetime, end: dt.datetime
) -> list[tuple[int, str, bool]]:
    """(outlet, pollutant, automatic installed) of every accounted pollutant of the batch."""
    seen: dict[int, set[str]] = defaultdict(set)
    with connection.cursor() as cur:
        cur.execute(
            "SELECT DISTINCT outlet_id, pollutant FROM monitoring_hour WHERE outlet_id = ANY(%s) "
            "AND data_time >= %s AND data_time < %s AND source <> 'x'",
            [list(contexts), start, end],
        )
        for outlet_id, code in cur.fetchall():
            seen[outlet_id].add(code)
    tc = total_control_codes()
    pairs = []
    for ctx in contexts.values():
        for code in ctx.accounted_pollutants(tc, seen.get(ctx.id, set())):
            pairs.append((ctx.id, code, ctx.automatic_installed(code) or code in seen.get(ctx.id, set())))
    return pairs


ACCT_COLUMNS = """outlet_id bigint, pollutant text, data_time timestamptz, installed boolean, status text,
    label text, value numeric, amount numeric, flow_status text, volume numeric, kg numeric, method text,
    concentration numeric, volume_used numeric, capture_rate numeric, substitution_id bigint, manual_id bigint,
    fallback boolean, PRIMARY KEY (outlet_id, pollutant, data_time)"""


def build_grid(
    pairs: Sequence[tuple[int, str, bool]],
    start: dt.datetime,
    end: dt.datetime,
    only: Sequence[tuple[int, str, dt.datetime]] | None,
    force_fallback: set[tuple[int, str]],
) -> None:
    """``tmp_acct``: one row per accounted hour with the fast-path result (stopped / valid)."""
    temp_table("tmp_pairs", "outlet_id bigint, pollutant text, installed boolean, force boolean")
    fill(
        "tmp_pairs",
        ("outlet_id", "pollutant", "installed", "force"),
        [(o, p, i, (o, p) in force_fallback) for o, p, i in pairs],
    )
    temp_table("tmp_acct", ACCT_COLUMNS)
    lo = min(t for _o, _p, t in only) if only else start
    hi = max(t for _o, _p, t in only) if only else end - HOUR
    if only is not None:
        temp_table("tmp_only", "outlet_id bigint, pollutant text, data_time timestamptz")
        fill("tmp_only", ("outlet_id", "pollutant", "data_time"), list(only))
        grid = "SELECT q.outlet_id, q.pollutant, q.data_time FROM tmp_only q JOIN tmp_pairs USING (outlet_id, pollutant)"
    else:
        grid = (
            "SELECT q.outlet_id, q.pollutant, h AS data_time FROM tmp_pairs q "
            "CROSS JOIN generate_series(%(start)s::timestamptz, %(last)s::timestamptz, interval '1 hour') h"
        )
    with connection.cursor() as cur:
        cur.execute(
            f"""
            INSERT INTO tmp_acct (outlet_id, pollutant, data_time, installed, status, label, value, amount,
                flow_status, volume, kg, method, concentration, volume_used, fallback)
            SELECT g.outlet_id, g.pollutant, g.data_time, q.installed,
                CASE WHEN q.installed THEN coalesce(p.status, 'm') ELSE '' END,
                coalesce(p.label, 'Md'), p.value, p.amount_kg, coalesce(f.status, 'm'), f.volume_m3,
                CASE WHEN q.force OR NOT q.installed THEN NULL
                     WHEN p.status = 's' OR f.status = 's' THEN 0
                     WHEN p.status IN ('v', 'p') AND p.amount_kg IS NOT NULL THEN p.amount_kg END,
                CASE WHEN q.force OR NOT q.installed THEN NULL
                     WHEN p.status = 's' OR f.status = 's' THEN 'stopped'
                     WHEN p.status IN ('v', 'p') AND p.amount_kg IS NOT NULL THEN 'auto_valid' END,
                CASE WHEN p.status IN ('v', 'p') THEN p.value END,
                CASE WHEN p.status IN ('v', 'p') AND f.status IN ('v', 'p') THEN f.volume_m3 END,
                NOT (NOT q.force AND q.installed AND (p.status = 's' OR f.status = 's'
                     OR (p.status IN ('v', 'p') AND p.amount_kg IS NOT NULL)))
            FROM ({grid}) g
            JOIN tmp_pairs q ON q.outlet_id = g.outlet_id AND q.pollutant = g.pollutant
            JOIN tmp_outlet o ON o.outlet_id = g.outlet_id
            LEFT JOIN monitoring_hour p ON p.outlet_id = g.outlet_id AND p.pollutant = g.pollutant
                AND p.data_time = g.data_time AND p.data_time >= %(lo)s AND p.data_time <= %(hi)s
            LEFT JOIN monitoring_hour f ON f.outlet_id = g.outlet_id AND f.pollutant = o.flow_code
                AND f.data_time = g.data_time AND f.data_time >= %(lo)s AND f.data_time <= %(hi)s
            """,
            {"start": start, "last": end - HOUR, "lo": lo, "hi": hi},
        )


def hour_states(
    ctx: OutletContext, pollutant: str, start: dt.datetime, end: dt.datetime
) -> dict[dt.datetime, HourState]:
    """The monitoring state of every hour in ``[start, end)`` (missing rows as status ``m``)."""
    with connection.cursor() as cur:
        cur.execute(
            """
            SELECT h.data_time, p.status, p.label, p.value, p.amount_kg, f.status, f.volume_m3
            FROM generate_series(%s::timestamptz, %s::timestamptz, interval '1 hour') h(data_time)
            LEFT JOIN monitoring_hour p ON p.outlet_id = %s AND p.pollutant = %s AND p.data_time = h.data_time
                AND p.data_time >= %s AND p.data_time < %s
            LEFT JOIN monitoring_hour f ON f.outlet_id = %s AND f.pollutant = %s AND f.data_time = h.data_time
                AND f.data_time >= %s AND f.data_time < %s
            """,
            [start, end - HOUR, ctx.id, pollutant, start, end, ctx.id, ctx.flow_code, start, end],
        )
        rows = cur.fetchall()
    return {r[0]: HourState(r[0], r[1] or "m", r[2] or "Md", r[3], r[4], r[5] or "m", r[6]) for r in rows}


def gap_around(
    states: dict[dt.datetime, HourState], moment: dt.datetime, bad: Callable[[HourState], bool]
) -> Gap | None:
    """The run of consecutive ``bad`` hours containing ``moment`` (None when the hour is not bad)."""
    state = states.get(moment)
    if state is None or not bad(state):
        return None
    first = moment
    while (prev := states.get(first - HOUR)) is not None and bad(prev):
        first -= HOUR
    last = moment
    while (nxt := states.get(last + HOUR)) is not None and bad(nxt):
        last += HOUR
    labels: dict[str, int] = defaultdict(int)
    t = first
    while t <= last:
        labels[states[t].label] += 1
        t += HOUR
    return Gap(first, last + HOUR, dict(labels))


def manual_results(
    ctx: OutletContext, pollutant: str, plan: AccountingPlan, hours: Iterable[dt.datetime]
) -> dict[dt.datetime, tuple[ManualMeasurement, dt.datetime, dt.datetime]]:
    """For each hour, the manual result that covers it (enforcement first, then the latest)."""
    hours = sorted(hours)
    if not hours:
        return {}
    days = dt.timedelta(days=plan.manual_validity_days)
    candidates = list(
        ManualMeasurement.objects.filter(
            outlet_id=ctx.id, pollutant_id=pollutant, sampled_at__lt=hours[-1] + HOUR
        ).order_by("sampled_at")
    )
    spans = []
    for m in candidates:
        local = m.sampled_at.astimezone(BEIJING)
        start = m.period_start or dt.datetime(local.year, local.month, local.day, tzinfo=BEIJING)
        end = m.period_end or start + days
        spans.append((m, start, end))
    result = {}
    for hour in hours:
        covering = [s for s in spans if s[1] <= hour < s[2]]
        if covering:
            result[hour] = min(
                covering,
                key=lambda s: (MANUAL_PRIORITY.get(ManualKind(s[0].kind), 9), -s[0].sampled_at.timestamp()),
            )
    return result


def stopped_by_labels(ctx: OutletContext, start: dt.datetime, end: dt.datetime) -> set[dt.datetime]:
    """Hours at least ``min_state_minutes`` covered by a stopped label (outlets without automatic data)."""
    covered: dict[dt.datetime, float] = defaultdict(float)
    for interval in labels_for_outlets([ctx.id], start, end):
        if ctx.validity.label_classes.get(interval.value) != "stopped":
            continue
        t = max(interval.start, start).replace(minute=0, second=0, microsecond=0)
        while t < min(interval.end, end):
            overlap = min(interval.end, t + HOUR) - max(interval.start, t)
            covered[t] += overlap.total_seconds() / 60
            t += HOUR
    return {t for t, minutes in covered.items() if minutes >= ctx.validity.min_state_minutes}


def _default_plan(ctx: OutletContext, pollutant: str) -> AccountingPlan:
    return ctx.plans.get(pollutant) or AccountingPlan(
        outlet_id=ctx.id, pollutant_id=pollutant, automatic_required=True
    )


def account_fallbacks(contexts: dict[int, OutletContext]) -> list[tuple[int, str, dt.datetime, Result]]:
    """Results of the hours the fast path could not account (Python, per pollutant and gap)."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT outlet_id, pollutant, data_time, installed FROM tmp_acct WHERE fallback ORDER BY 1, 2, 3"
        )
        rows = cur.fetchall()
    todo: dict[tuple[int, str], list[dt.datetime]] = defaultdict(list)
    installed: dict[tuple[int, str], bool] = {}
    for outlet_id, pollutant, data_time, inst in rows:
        todo[(outlet_id, pollutant)].append(data_time)
        installed[(outlet_id, pollutant)] = bool(inst)
    results: list[tuple[int, str, dt.datetime, Result]] = []
    for (outlet_id, pollutant), hours in todo.items():
        ctx = contexts[outlet_id]
        for hour, result in account_pair(ctx, pollutant, hours, installed[(outlet_id, pollutant)]).items():
            results.append((outlet_id, pollutant, hour, result))
    return results


def account_pair(
    ctx: OutletContext, pollutant: str, hours: list[dt.datetime], installed: bool
) -> dict[dt.datetime, Result]:
    """Methods for the fallback hours of one (outlet, pollutant)."""
    plan = _default_plan(ctx, pollutant)
    first, last = hours[0], hours[-1] + HOUR
    results: dict[dt.datetime, Result] = {}
    rate_methods = [
        (Method.MATERIAL_BALANCE, plan.material_balance_kg_h),
        (Method.EMISSION_FACTOR, plan.emission_factor_kg_h),
    ]
    if not installed:
        stopped = stopped_by_labels(ctx, first, last)
        manual = manual_results(ctx, pollutant, plan, hours)
        for hour in hours:
            if hour in stopped:
                results[hour] = Result(Decimal("0"), Method.STOPPED)
            elif plan.automatic_required and plan.pk is not None:
                results[hour] = _penalised(plan)
            else:
                fallback = _manual_option(ctx, manual.get(hour), None)
                fallback += [Result(Decimal(rate), m) for m, rate in rate_methods if rate is not None]
                results[hour] = _choose(fallback, plan) or _penalised_or_unaccounted(plan)
        return results

    states = hour_states(ctx, pollutant, first - GAP_REACH, last + GAP_REACH)
    manual = manual_results(ctx, pollutant, plan, hours)

    def bad(state: HourState) -> bool:
        return not state.auto_ok and not state.stopped

    memo: dict[tuple[Any, ...], Substituted | None] = {}

    def conc_bad(state: HourState) -> bool:
        return state.status not in ("v", "p", "s") and not state.stopped

    def flow_bad(state: HourState) -> bool:
        return state.flow_status not in ("v", "p", "s") and not state.stopped

    for hour in hours:
        state = states.get(hour) or HourState(hour, "m", "Md", None, None, "m", None)
        if state.stopped and not plan.take_larger:
            results[hour] = Result(Decimal("0"), Method.STOPPED)
            continue
        options: list[Result] = []
        if state.auto_ok:
            options.append(Result(state.amount or Decimal("0"), Method.AUTO_VALID, state.value, state.volume))
        substituted: Result | None = None
        if not state.auto_ok:
            sub: Substituted | None
            if ctx.medium == "air":
                gap = gap_around(states, hour, bad)
                key: tuple[Any, ...] = ("air", gap.start, gap.end) if gap is not None else ("air", None)
                if key not in memo:
                    memo[key] = substitute_air(ctx, pollutant, state, gap) if gap is not None else None
                sub = memo[key]
            else:
                conc_gap, flow_gap = gap_around(states, hour, conc_bad), gap_around(states, hour, flow_bad)
                key = (
                    "water",
                    (conc_gap.start, conc_gap.end) if conc_gap else state.value,
                    (flow_gap.start, flow_gap.end) if flow_gap else state.volume,
                )
                if key not in memo:
                    memo[key] = substitute_water(ctx, pollutant, state, conc_gap, flow_gap)
                sub = memo[key]
            if sub is not None:
                substituted = Result(
                    sub.kg, Method.AUTO_SUBSTITUTED, sub.concentration, sub.volume, sub.capture_rate, sub
                )
        manual_option = _manual_option(ctx, manual.get(hour), state)
        if plan.manual_before_substitution:
            options += manual_option + ([substituted] if substituted else [])
        else:
            options += ([substituted] if substituted else []) + manual_option
        options += [Result(Decimal(rate), m) for m, rate in rate_methods if rate is not None]
        chosen = _choose(options, plan)
        if chosen is None:
            chosen = _penalised_or_unaccounted(plan)
        if state.stopped and chosen.kg <= 0:
            chosen = Result(Decimal("0"), Method.STOPPED)
        results[hour] = chosen
    return results


def _manual_option(
    ctx: OutletContext,
    found: tuple[ManualMeasurement, dt.datetime, dt.datetime] | None,
    state: HourState | None,
) -> list[Result]:
    if found is None:
        return []
    measurement = found[0]
    volume: Decimal | None = None
    if measurement.flow_m3_h is not None:
        volume = Decimal(measurement.flow_m3_h)
    elif state is not None and state.flow_status in ("v", "p") and state.volume is not None:
        volume = state.volume
    if volume is None:
        return []
    kg = Decimal(measurement.concentration) * volume * KG_FACTOR[ctx.medium]
    return [Result(kg, Method.MANUAL, Decimal(measurement.concentration), volume, manual_id=measurement.pk)]


def _choose(options: list[Result], plan: AccountingPlan) -> Result | None:
    if not options:
        return None
    if plan.take_larger:
        return max(options, key=lambda r: r.kg)
    return options[0]


def _penalised(plan: AccountingPlan) -> Result:
    if plan.untreated_kg_h is not None:
        return Result(Decimal(plan.untreated_kg_h), Method.PENALISED)
    return Result(Decimal("0"), Method.UNACCOUNTED)


def _penalised_or_unaccounted(plan: AccountingPlan) -> Result:
    if plan.automatic_required:
        return _penalised(plan)
    return Result(Decimal("0"), Method.UNACCOUNTED)


def _substitution_ids(
    contexts: dict[int, OutletContext], results: list[tuple[int, str, dt.datetime, Result]]
) -> dict[tuple[int, str, dt.datetime], int]:
    """Reuse the current substitution record when the new one is the same (rule set, rule, kg);
    otherwise store a new record with its inputs and the original value."""
    wanted = [(o, p, t, r) for o, p, t, r in results if r.substitution is not None]
    if not wanted:
        return {}
    keys = {(o, p, t) for o, p, t, _r in wanted}
    current: dict[tuple[int, str, dt.datetime], Substitution] = {}
    existing = EmissionHour.objects.filter(
        outlet_id__in={k[0] for k in keys}, pollutant__in={k[1] for k in keys},
        data_time__gte=min(k[2] for k in keys), data_time__lte=max(k[2] for k in keys),
        substitution_id__isnull=False,
    ).values_list("outlet_id", "pollutant", "data_time", "substitution_id")  # fmt: skip
    by_id = {}
    ids = {row[3] for row in existing if (row[0], row[1], row[2]) in keys}
    if ids:
        by_id = {s.pk: s for s in Substitution.objects.filter(pk__in=ids)}
    for outlet_id, pollutant, data_time, sub_id in existing:
        if (outlet_id, pollutant, data_time) in keys and sub_id in by_id:
            current[(outlet_id, pollutant, data_time)] = by_id[sub_id]
    originals = _originals(keys)
    created: list[tuple[tuple[int, str, dt.datetime], Substitution]] = []
    result: dict[tuple[int, str, dt.datetime], int] = {}
    for outlet_id, pollutant, data_time, r in wanted:
        sub = r.substitution
        assert sub is not None
        key = (outlet_id, pollutant, data_time)
        ruleset_id = contexts[outlet_id].substitution.id
        old = current.get(key)
        if (
            old is not None
            and old.ruleset_id == ruleset_id
            and old.rule_code == sub.rule_code
            and old.kg == sub.kg.quantize(Decimal("0.000000001"))
        ):
            result[key] = old.pk
            continue
        created.append(
            (
                key,
                Substitution(
                    outlet_id=outlet_id, pollutant=pollutant, data_time=data_time, ruleset_id=ruleset_id,
                    rule_code=sub.rule_code, situation=sub.situation, inputs=sub.inputs,
                    original=originals.get(key, {}), kg=sub.kg, concentration=sub.concentration, volume_m3=sub.volume,
                ),
            )
        )  # fmt: skip
    if created:
        Substitution.objects.bulk_create([s for _k, s in created])
        for key, sub_obj in created:
            result[key] = sub_obj.pk
    return result


def _originals(keys: set[tuple[int, str, dt.datetime]]) -> dict[tuple[int, str, dt.datetime], dict[str, Any]]:
    """The monitoring values an hour had before substitution (kept with the substitution)."""
    result: dict[tuple[int, str, dt.datetime], dict[str, Any]] = {}
    with connection.cursor() as cur:
        cur.execute(
            """
            SELECT a.outlet_id, a.pollutant, a.data_time, a.status, a.label, a.value, a.amount, a.flow_status, a.volume
            FROM tmp_acct a WHERE a.fallback
            """
        )
        for o, p, t, status, label, value, amount, flow_status, volume in cur.fetchall():
            if (o, p, t) in keys:
                result[(o, p, t)] = {
                    "status": status, "label": label, "value": None if value is None else str(value),
                    "amount_kg": None if amount is None else str(amount), "flow_status": flow_status,
                    "volume_m3": None if volume is None else str(volume),
                }  # fmt: skip
    return result


def apply_fallbacks(contexts: dict[int, OutletContext]) -> None:
    """Account the fallback hours of ``tmp_acct`` and write their results into it."""
    results = account_fallbacks(contexts)
    if not results:
        return
    sub_ids = _substitution_ids(contexts, results)
    temp_table(
        "tmp_fallback",
        "outlet_id bigint, pollutant text, data_time timestamptz, kg numeric, method text, concentration numeric, "
        "volume numeric, capture_rate numeric, substitution_id bigint, manual_id bigint",
    )
    fill(
        "tmp_fallback",
        ("outlet_id", "pollutant", "data_time", "kg", "method", "concentration", "volume", "capture_rate",
         "substitution_id", "manual_id"),
        [
            (o, p, t, r.kg, str(r.method), r.concentration, r.volume, r.capture_rate, sub_ids.get((o, p, t)),
             r.manual_id)
            for o, p, t, r in results
        ],
    )  # fmt: skip
    with connection.cursor() as cur:
        cur.execute(
            """
            UPDATE tmp_acct a SET kg = f.kg, method = f.method, concentration = f.concentration,
                volume_used = f.volume, capture_rate = f.capture_rate, substitution_id = f.substitution_id,
                manual_id = f.manual_id
            FROM tmp_fallback f
            WHERE a.outlet_id = f.outlet_id AND a.pollutant = f.pollutant AND a.data_time = f.data_time
            """
        )


def write_versions(cause: str, first: dt.datetime, last: dt.datetime) -> list[AccountedHour]:
    """New and changed hours of ``tmp_acct`` become new versions (hour table + log); unchanged hours
    are left alone, so accounting the same data twice changes nothing."""
    with connection.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(%s)", [ACCOUNTING_LOCK])
        cur.execute(
            """
            WITH changed AS (
                SELECT a.*, c.version AS old_version, c.kg AS old_kg, c.method AS old_method,
                    c.hour_status AS old_status, c.substitution_id AS old_sub, c.manual_id AS old_manual,
                    c.concentration AS old_conc, c.volume_m3 AS old_volume
                FROM tmp_acct a
                LEFT JOIN monitoring_emission_hour c ON c.outlet_id = a.outlet_id AND c.pollutant = a.pollutant
                    AND c.data_time = a.data_time AND c.data_time >= %s AND c.data_time <= %s
                WHERE a.kg IS NOT NULL AND (c.outlet_id IS NULL
                    OR (c.kg, c.method, c.hour_status, c.substitution_id, c.manual_id)
                       IS DISTINCT FROM (a.kg::numeric(30, 9), a.method, a.status, a.substitution_id, a.manual_id)
                    OR c.concentration IS DISTINCT FROM a.concentration::numeric(20, 6)
                    OR c.volume_m3 IS DISTINCT FROM a.volume_used::numeric(24, 6))
            ),
            logged AS (
                INSERT INTO monitoring_emission_hour_log (outlet_id, pollutant, data_time, version, kg, delta_kg,
                    method, hour_status, previous, diff, cause, created_at)
                SELECT outlet_id, pollutant, data_time, coalesce(old_version, 0) + 1, kg,
                    kg - coalesce(old_kg, 0), method, status,
                    CASE WHEN old_version IS NOT NULL THEN jsonb_build_object('version', old_version,
                        'kg', old_kg::text, 'method', old_method, 'hour_status', old_status,
                        'substitution_id', old_sub, 'manual_id', old_manual) END,
                    CASE WHEN old_version IS NOT NULL THEN jsonb_strip_nulls(jsonb_build_object(
                        'kg', CASE WHEN old_kg IS DISTINCT FROM kg::numeric(30, 9)
                                   THEN jsonb_build_array(old_kg::text, kg::numeric(30, 9)::text) END,
                        'method', CASE WHEN old_method IS DISTINCT FROM method
                                       THEN jsonb_build_array(old_method, method) END,
                        'hour_status', CASE WHEN old_status IS DISTINCT FROM status
                                            THEN jsonb_build_array(old_status, status) END)) END,
                    %s, now()
                FROM changed
                ORDER BY outlet_id, pollutant, data_time
                RETURNING id, outlet_id, pollutant, data_time, version, kg, delta_kg, method
            ),
            written AS (
                INSERT INTO monitoring_emission_hour (outlet_id, pollutant, data_time, version, kg, method,
                    hour_status, concentration, volume_m3, capture_rate, substitution_id, manual_id, log_id,
                    accounted_at)
                SELECT c.outlet_id, c.pollutant, c.data_time, l.version, c.kg, c.method, c.status, c.concentration,
                    c.volume_used, c.capture_rate, c.substitution_id, c.manual_id, l.id, now()
                FROM changed c JOIN logged l ON l.outlet_id = c.outlet_id AND l.pollutant = c.pollutant
                    AND l.data_time = c.data_time
                ON CONFLICT (outlet_id, pollutant, data_time) DO UPDATE SET version = EXCLUDED.version,
                    kg = EXCLUDED.kg, method = EXCLUDED.method, hour_status = EXCLUDED.hour_status,
                    concentration = EXCLUDED.concentration, volume_m3 = EXCLUDED.volume_m3,
                    capture_rate = EXCLUDED.capture_rate, substitution_id = EXCLUDED.substitution_id,
                    manual_id = EXCLUDED.manual_id, log_id = EXCLUDED.log_id, accounted_at = EXCLUDED.accounted_at
                RETURNING 1
            )
            SELECT l.*, (SELECT count(*) FROM written) FROM logged l ORDER BY l.id
            """,
            [first, last, cause[:128]],
        )
        rows = cur.fetchall()
    return [AccountedHour(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]) for r in rows]


def account(
    contexts: dict[int, OutletContext],
    start: dt.datetime,
    end: dt.datetime,
    cause: str,
    *,
    only: Sequence[tuple[int, str, dt.datetime]] | None = None,
) -> Outcome:
    """Account the hours ``[start, end)`` (or exactly the hours ``only``) of the batch's outlets."""
    outcome = Outcome()
    if not contexts:
        return outcome
    pairs = accounted_pairs(contexts, start, end)
    if not pairs:
        return outcome
    force = {(o, p) for o, p, _i in pairs if _default_plan(contexts[o], p).take_larger}
    build_grid(pairs, start, end, only, force)
    apply_fallbacks(contexts)
    first = min(t for _o, _p, t in only) if only else start
    last = max(t for _o, _p, t in only) if only else end - HOUR
    logged = write_versions(cause, first, last)
    outcome.logged = logged
    outcome.days = {(h.outlet_id, h.data_time.astimezone(BEIJING).date()) for h in logged}
    return outcome


def ripple_hours(
    contexts: dict[int, OutletContext], start: dt.datetime, end: dt.datetime, horizon: dt.datetime
) -> list[tuple[int, str, dt.datetime]]:
    """Hours outside ``[start, end)`` whose substituted amount may depend on it: the non-valid hours
    after it (their look-back window and capture rate) up to ``horizon``, and the run of non-valid
    hours that reaches into it from before (its gap length)."""
    result: list[tuple[int, str, dt.datetime]] = []
    with connection.cursor() as cur:
        cur.execute(
            """
            SELECT outlet_id, pollutant, data_time FROM monitoring_emission_hour
            WHERE outlet_id = ANY(%s) AND data_time >= %s AND data_time < %s
              AND method NOT IN ('auto_valid', 'stopped')
            ORDER BY 1, 2, 3
            """,
            [list(contexts), end, horizon],
        )
        result.extend(cur.fetchall())
        cur.execute(
            """
            SELECT outlet_id, pollutant, data_time FROM monitoring_emission_hour
            WHERE outlet_id = ANY(%s) AND data_time >= %s AND data_time < %s
              AND method NOT IN ('auto_valid', 'stopped')
            ORDER BY 1, 2, 3 DESC
            """,
            [list(contexts), start - GAP_REACH, start],
        )
        run_of: dict[tuple[int, str], dt.datetime] = {}
        broken: set[tuple[int, str]] = set()
        for outlet_id, pollutant, data_time in cur.fetchall():
            key = (outlet_id, pollutant)
            if key in broken:
                continue
            if data_time == run_of.get(key, start) - HOUR:
                run_of[key] = data_time
                result.append((outlet_id, pollutant, data_time))
            else:
                broken.add(key)
    return result


def account_with_ripple(
    contexts: dict[int, OutletContext], start: dt.datetime, end: dt.datetime, horizon: dt.datetime, cause: str
) -> Outcome:
    """:func:`account` for ``[start, end)`` and then for the hours that depend on it."""
    outcome = account(contexts, start, end, cause)
    extra = ripple_hours(contexts, start, end, horizon)
    if extra:
        outcome.merge(account(contexts, start, end, cause, only=extra))
    return outcome


def notify_after_commit(hours: list[AccountedHour]) -> None:
    if hours and _listeners:
        transaction.on_commit(lambda: _notify(hours))
