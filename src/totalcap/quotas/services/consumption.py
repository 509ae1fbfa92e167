"""Real-time consumption: post emission increments to the month's account and act on thresholds.

Increments come from minute data (or real-time data × flow) as they are committed by the gateway,
and from the hourly accounting, which trues each hour up to its accounted amount. Each increment
has a key (logger, pollutant, kind, data time), so data that arrive twice are consumed once.

After each posting the month's usage is compared with the enterprise's thresholds (default 80 %
warning, 90 % red alert, 100 % close). ``alert_level`` on the account remembers the highest level
reached, so each crossing raises one alarm, not one per frame; a recharge lowers the level, clears
the alarms above it and reopens a closed valve.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Q, Sum

from totalcap.alarms.choices import Severity
from totalcap.alarms.services import clear_condition, notify_after_commit, raise_alarm
from totalcap.base import events
from totalcap.quotas import ledger
from totalcap.quotas.choices import AccountKind, AlertLevel, PlanStatus, TransactionKind
from totalcap.quotas.models import ZERO, LedgerEntry, PeriodPlan, QuotaAccount, QuotaPolicy
from totalcap.quotas.services.common import (
    Usage,
    emitted_account,
    month_accounts,
    monthly_account,
    period_of,
    policy_for,
    usage,
)
from totalcap.registry.models import Enterprise, Outlet, Pollutant

logger = logging.getLogger("totalcap.quotas")

ALARM_TYPES = {
    AlertLevel.WARNING: ("quota_warning", Severity.WARNING, "月度配额已用{pct}%（预警）"),
    AlertLevel.RED: ("quota_red", Severity.MAJOR, "月度配额已用{pct}%（红色预警）"),
    AlertLevel.EXHAUSTED: ("quota_exhausted", Severity.CRITICAL, "月度配额已用尽（{pct}%）"),
}


@dataclass(frozen=True)
class Increment:
    """An emission (or discharged volume) to consume from an outlet's month."""

    outlet_id: int
    pollutant: str
    data_time: dt.datetime
    amount: Decimal
    key: str
    reference: dict[str, Any] = field(default_factory=dict)


@dataclass
class Crossing:
    account_id: int
    old_level: int
    new_level: int
    percent: Decimal


def _plan_dimension(
    enterprise_id: int, outlet_id: int, year: int, pollutant: Pollutant | None = None, code: str = ""
) -> tuple[int | bool | None, Pollutant | None]:
    """Which account dimension an outlet's consumption of a pollutant goes to, from the approved
    plans of the year (one query): the outlet's own plan (its id), else the plant's plan (None);
    False when the enterprise has no approved plan for it. Also the pollutant, read with the plans."""
    plans = PeriodPlan.objects.filter(
        Q(outlet_id=outlet_id) | Q(outlet__isnull=True),
        enterprise_id=enterprise_id,
        year=year,
        status=PlanStatus.APPROVED,
    )
    plans = plans.filter(pollutant=pollutant) if pollutant is not None else plans.filter(pollutant__code=code)
    found = list(plans.select_related("pollutant").order_by())
    owners = {plan.outlet_id for plan in found}
    pollutant = pollutant or (found[0].pollutant if found else None)
    if outlet_id in owners:
        return outlet_id, pollutant
    if None in owners:
        return None, pollutant
    return False, pollutant


def _controlled(outlet: Outlet, pollutant: Pollutant, year: int) -> Outlet | bool | None:
    """Which account dimension an outlet's consumption goes to: the outlet's own plan, else the
    plant's plan (None); False when the enterprise has no approved plan (not under total control)."""
    dimension, _pollutant = _plan_dimension(outlet.enterprise_id, outlet.pk, year, pollutant)
    if dimension is False or dimension is None:
        return dimension
    return outlet


def _own_policy(enterprise: Enterprise) -> QuotaPolicy:
    """The enterprise's policy as read with it (``select_related("enterprise__quota_policy")``),
    else the default policy."""
    try:
        own: QuotaPolicy | None = enterprise.quota_policy
    except QuotaPolicy.DoesNotExist:
        own = None
    return own if own is not None else policy_for(enterprise)


def post_increments(increments: Iterable[Increment]) -> list[Crossing]:
    """Consume increments (idempotent per key) and evaluate the thresholds of the touched accounts.

    One transaction; its domain events (alarms, valve orders, commands) are appended together at
    its end. Reads per new outlet, pollutant and month: the outlet with its enterprise, jurisdiction
    and policy; the year's plans with the pollutant; both accounts of the month. A close at 100 %
    is committed together with its command, which leaves the gateway on commit.
    """
    touched: dict[int, tuple[QuotaAccount, QuotaAccount, QuotaPolicy]] = {}
    dimensions: dict[tuple[int, str, int], tuple[int | bool | None, Pollutant | None]] = {}
    accounts: dict[tuple[int, int | None, int, int, int], tuple[QuotaAccount, QuotaAccount]] = {}
    outlets: dict[int, Outlet] = {}
    policies: dict[int, QuotaPolicy] = {}
    with transaction.atomic(), events.appended_together():
        for inc in increments:
            if inc.amount <= ZERO:
                continue
            outlet = outlets.get(inc.outlet_id)
            if outlet is None:
                outlet = Outlet.objects.select_related(
                    "enterprise", "enterprise__jurisdiction", "enterprise__quota_policy"
                ).get(pk=inc.outlet_id)
                outlets[inc.outlet_id] = outlet
            year, month = period_of(inc.data_time)
            dim_key = (outlet.pk, inc.pollutant, year)
            if dim_key not in dimensions:
                dimensions[dim_key] = _plan_dimension(
                    outlet.enterprise_id, outlet.pk, year, code=inc.pollutant
                )
            dimension, pollutant = dimensions[dim_key]
            if dimension is False or pollutant is None:
                continue
            account_key = (outlet.enterprise_id, dimension, pollutant.pk, year, month)
            pair = accounts.get(account_key)
            if pair is None:
                pair = accounts[account_key] = month_accounts(
                    outlet.enterprise, pollutant, year, month, outlet if dimension is not None else None
                )
            monthly, emitted = pair
            posted = ledger.post(
                TransactionKind.CONSUMPTION,
                inc.key,
                [(monthly, -inc.amount), (emitted, inc.amount)],
                memo=f"{outlet.code} {pollutant.name} 排放扣减",
                occurred_at=inc.data_time,
                reference={**inc.reference, "outlet": outlet.pk},
                enterprise=outlet.enterprise,
            )
            if posted.created:  # both accounts are now locked and current (ledger.post)
                if outlet.enterprise_id not in policies:
                    policies[outlet.enterprise_id] = _own_policy(outlet.enterprise)
                touched[monthly.pk] = (monthly, emitted, policies[outlet.enterprise_id])
        crossings = [
            c
            for c in (
                evaluate(monthly, emitted, locked=True, policy=policy)
                for monthly, emitted, policy in touched.values()
            )
            if c is not None
        ]
    return crossings


def hour_key(moment: dt.datetime) -> str:
    """The hour a moment falls in, as a stable string (UTC ISO) used to tie postings to hours."""
    return moment.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0).isoformat()


def hour_posted(outlet: Outlet, pollutant: Pollutant, hour_start: dt.datetime) -> Decimal:
    """What has been consumed so far for one hour of one outlet (provisional and true-ups)."""
    key_hour = hour_key(hour_start)
    total = LedgerEntry.objects.filter(
        transaction__kind=TransactionKind.CONSUMPTION,
        transaction__reference__outlet=outlet.pk,
        transaction__reference__hour=key_hour,
        transaction__reference__pollutant=pollutant.code,
        account__kind=AccountKind.EMITTED,
    ).aggregate(total=Sum("amount"))["total"]
    return Decimal(total or ZERO)


def true_up_hour(
    outlet: Outlet, pollutant: Pollutant, hour_start: dt.datetime, accounted: Decimal, version: int
) -> list[Crossing]:
    """Bring an hour's consumption to its accounted amount (a new accounting version posts only the
    difference, so a recalculation never counts twice)."""
    difference = accounted - hour_posted(outlet, pollutant, hour_start)
    if difference == ZERO:
        return []
    year, month = period_of(hour_start)
    dimension = _controlled(outlet, pollutant, year)
    if dimension is False or dimension is True:
        return []
    with transaction.atomic():
        monthly = monthly_account(outlet.enterprise, pollutant, year, month, dimension)
        emitted = emitted_account(monthly)
        ledger.post(
            TransactionKind.CONSUMPTION,
            f"cons-hour:{outlet.pk}:{pollutant.code}:{hour_key(hour_start)}:v{version}",
            [(monthly, -difference), (emitted, difference)],
            memo=f"{outlet.code} {pollutant.name} 小时核算校正（第{version}版）",
            occurred_at=hour_start,
            reference={
                "outlet": outlet.pk,
                "hour": hour_key(hour_start),
                "pollutant": pollutant.code,
                "version": version,
            },
            enterprise=outlet.enterprise,
        )
        crossing = evaluate(monthly)
    return [crossing] if crossing else []


def level_for(use: Usage, warning: Decimal, red: Decimal, close: Decimal) -> int:
    """The highest threshold level the month's usage has reached (exact comparison)."""
    if use.reached(close):
        return AlertLevel.EXHAUSTED
    if use.reached(red):
        return AlertLevel.RED
    if use.reached(warning):
        return AlertLevel.WARNING
    return AlertLevel.NONE


def evaluate(
    monthly: QuotaAccount,
    emitted: QuotaAccount | None = None,
    *,
    locked: bool = False,
    policy: QuotaPolicy | None = None,
) -> Crossing | None:
    """Compare the month's usage with the thresholds; act on a change of level (one alarm per
    crossing; close at exhaustion; clear and reopen after a recharge).

    ``locked``: ``monthly`` and ``emitted`` were locked in this transaction by a posting and carry
    their current rows (see :func:`ledger.post`), so they are not locked and read again.

    On a crossing upwards the urgent work comes first in the commit callbacks: the close command
    is created in this transaction (it leaves the gateway on commit), then the sound-and-light
    indication, and only then are the alarms' notifications queued."""
    from totalcap.quotas.services import valves

    with events.appended_together():  # one chain append for the crossing's events
        if locked:
            assert emitted is not None
            acc, sink = monthly, emitted
        else:
            emitted = emitted or emitted_account(monthly)
            fresh = ledger.lock([monthly, emitted])
            acc, sink = fresh[monthly.pk], fresh[emitted.pk]
        assert acc.enterprise is not None
        use = usage(acc, sink)
        policy = policy or policy_for(acc.enterprise)
        level = level_for(use, policy.warning_pct, policy.red_pct, policy.close_pct)
        old = acc.alert_level
        if level == old:
            return None
        acc.alert_level = level
        acc.save(update_fields=["alert_level", "updated_at"])
        source = f"quotas.account:{acc.pk}"
        if level > old:
            raised = []
            for lvl in range(old + 1, level + 1):
                if lvl == AlertLevel.NONE:
                    continue
                type_, severity, title = ALARM_TYPES[AlertLevel(lvl)]
                alarm = raise_alarm(
                    type=type_,
                    source=source,
                    title=title.format(pct=use.percent),
                    message=(
                        f"{acc.pollutant.name} {acc.year}年{acc.month}月配额 {use.allowance} {acc.unit}，"
                        f"已用 {use.used}，剩余 {use.remaining}。"
                    ),
                    severity=severity,
                    enterprise=acc.enterprise,
                    outlet=acc.outlet,
                    payload={"percent": str(use.percent), "account": acc.pk, "level": lvl},
                    notify_later=True,
                )
                if alarm.created:
                    raised.append(alarm.alarm)
                valves.on_level_reached(acc, lvl, policy)
            # Registered after the valve work's callbacks: messages go out behind the commands.
            notify_after_commit(raised)
        else:
            for lvl in range(old, level, -1):
                if lvl == AlertLevel.NONE:
                    continue
                clear_condition(source, ALARM_TYPES[AlertLevel(lvl)][0], "配额已补充")
            if old == AlertLevel.EXHAUSTED:
                valves.on_recharged(acc, policy)
        logger.info("account %s: %s%% used, level %s → %s", acc.pk, use.percent, old, level)
    return Crossing(acc.pk, old, level, use.percent)


def evaluate_enterprise(enterprise_id: int, year: int, month: int) -> list[Crossing]:
    """Re-evaluate every monthly account of an enterprise (after a loading, transfer or adjustment)."""
    results = []
    for acc in QuotaAccount.objects.filter(
        kind=AccountKind.MONTHLY, enterprise_id=enterprise_id, year=year, month=month
    ):
        crossing = evaluate(acc)
        if crossing:
            results.append(crossing)
    return results


def increments_from_samples(
    rows: Iterable[dict[str, Any]], *, realtime_interval_s: int = 30
) -> list[Increment]:
    """Turn committed samples into increments.

    ``rows`` are dicts with logger_id, outlet_id, kind ('m' minute or 'r' real-time), pollutant,
    data_time, value (mean or real-time value), cou (cumulative amount of the interval). Minute
    data: the flow's ``cou`` is the interval volume (m³); a pollutant's ``cou`` is its amount (kg),
    else mean concentration (mg/L) × volume × 10⁻³. Real-time data: flow (L/s) × interval (s) × 10⁻³.
    """
    by_interval: dict[tuple[int, str, dt.datetime], dict[str, dict[str, Any]]] = defaultdict(dict)
    for row in rows:
        if row["kind"] in ("m", "r"):
            by_interval[(row["logger_id"], row["kind"], row["data_time"])][row["pollutant"]] = row
    result: list[Increment] = []
    for (logger_id, kind, data_time), values in by_interval.items():
        flow = values.get("w00000")
        if flow is None:
            continue
        outlet_id = flow["outlet_id"]
        if kind == "m":
            volume = _dec(flow.get("cou"))
            if volume is None:
                mean = _dec(flow.get("value"))
                volume = None if mean is None else mean * 60 / 1000
        else:
            rate = _dec(flow.get("value"))
            volume = None if rate is None else rate * realtime_interval_s / 1000
        if volume is None or volume <= ZERO:
            continue
        base_ref = {"hour": hour_key(data_time), "provisional": True, "logger": logger_id, "kind": kind}
        result.append(
            Increment(outlet_id, "w00000", data_time, volume, f"cons:{logger_id}:w00000:{kind}:{data_time.astimezone(dt.UTC).isoformat()}",
                      {**base_ref, "pollutant": "w00000"})
        )  # fmt: skip
        for code, row in values.items():
            if code == "w00000":
                continue
            amount = _dec(row.get("cou")) if kind == "m" else None
            if amount is None:
                conc = _dec(row.get("value"))
                amount = None if conc is None else conc * volume / 1000
            if amount is not None and amount > ZERO:
                result.append(
                    Increment(outlet_id, code, data_time, amount, f"cons:{logger_id}:{code}:{kind}:{data_time.astimezone(dt.UTC).isoformat()}",
                              {**base_ref, "pollutant": code})
                )  # fmt: skip
    return result


def _dec(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except ArithmeticError:
        return None
