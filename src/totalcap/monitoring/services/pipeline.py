"""The pipeline: from samples to hours, days, months, accounted amounts, totals and suspicions.

* :func:`recompute` recomputes a range of hours for some outlets in one transaction — used by the
  periodic job, by reviews (so a reviewer sees the result at once) and by tests.
* :func:`run` is the periodic job's body: it settles each active outlet's new hours once they are
  ``settle_minutes`` old (missing data included — a silent logger is accounted too) and recomputes the
  hours marked dirty by triggers (late or re-sent samples, device states) and services (reviews,
  manual data, configuration changes).

Batches run one at a time (a transaction-level advisory lock), so the accounting log's ids follow
commit order.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from totalcap.base import events
from totalcap.monitoring.conf import pipeline_settings
from totalcap.monitoring.models import PipelineCursor
from totalcap.monitoring.services import accounting, screening, totals
from totalcap.monitoring.services.context import (
    OutletContext,
    beijing_date,
    hour_floor,
    load_contexts,
    load_outlet_params,
)
from totalcap.monitoring.services.hours import compute_hours
from totalcap.monitoring.services.periods import compute_days, compute_months, months_of
from totalcap.registry.models import Outlet

logger = logging.getLogger("totalcap.monitoring")

PIPELINE_LOCK = 0x4D4F4E5049504500 & 0x7FFFFFFFFFFFFFFF
HOUR = dt.timedelta(hours=1)


@dataclass
class Report:
    """What a recomputation did."""

    hours: int = 0
    days: int = 0
    months: int = 0
    accounted: int = 0
    revised: int = 0
    totals_changed: int = 0
    suspicions: int = 0
    outlets: set[int] = field(default_factory=set)

    def add(self, other: Report) -> None:
        for name in ("hours", "days", "months", "accounted", "revised", "totals_changed", "suspicions"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.outlets |= other.outlets

    def as_dict(self) -> dict[str, int]:
        return {
            "hours": self.hours, "days": self.days, "months": self.months, "accounted": self.accounted,
            "revised": self.revised, "totals_changed": self.totals_changed, "suspicions": self.suspicions,
            "outlets": len(self.outlets),
        }  # fmt: skip


def _days(start: dt.datetime, end: dt.datetime) -> tuple[dt.date, dt.date]:
    return beijing_date(start), beijing_date(end - HOUR)


def recompute(
    outlet_ids: Sequence[int],
    start: dt.datetime,
    end: dt.datetime,
    *,
    cause: str = "recompute",
    actor: Any = None,
    account_until: dt.datetime | None = None,
    contexts: dict[int, OutletContext] | None = None,
) -> Report:
    """Recompute hours ``[start, end)`` of ``outlet_ids`` and everything that depends on them.

    Accounting covers the hours before ``account_until`` (default ``end``) and then the later
    substituted hours that may depend on them, up to the outlets' settled cursor; a recalculated hour
    that differs from its current version gets a new version.
    """
    start, end = hour_floor(start), hour_floor(end - dt.timedelta(microseconds=1)) + HOUR
    report = Report(outlets=set(outlet_ids))
    if not outlet_ids or end <= start:
        return report
    with transaction.atomic():
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", [PIPELINE_LOCK])
            cur.execute("SET LOCAL work_mem = '256MB'")
        contexts = contexts if contexts is not None else load_contexts(outlet_ids)
        load_outlet_params(contexts.values())
        report.hours = compute_hours(contexts, start, end)
        first, last = _days(start, end)
        report.days = compute_days(contexts, first, last)
        report.months = compute_months(contexts, months_of([first, last]))
        account_until = end if account_until is None else account_until
        settled = list(
            PipelineCursor.objects.filter(outlet_id__in=list(contexts)).values_list(
                "settled_until", flat=True
            )
        )
        ripple = account_until + dt.timedelta(days=pipeline_settings().ripple_days)
        horizon = max(min(ripple, max(settled)), account_until) if settled else account_until
        outcome = accounting.account_with_ripple(contexts, start, account_until, horizon, cause)
        report.accounted = len(outcome.logged)
        revised = [h for h in outcome.logged if h.version > 1]
        report.revised = len(revised)
        policies = {c.id: c.validity.process_in_capture for c in contexts.values()}
        changes = totals.roll_up(outcome.days, policies, cause)
        report.totals_changed = len(changes)
        report.suspicions = screening.screen(contexts, start, end)
        _record_revisions(actor, contexts, revised, changes, cause)
        accounting.notify_after_commit(outcome.logged)
    return report


def _record_revisions(
    actor: Any,
    contexts: dict[int, OutletContext],
    revised: list[accounting.AccountedHour],
    changes: list[totals.TotalChange],
    cause: str,
) -> None:
    """One domain event per outlet whose accounted amounts were recalculated (a new version)."""
    if not revised:
        return
    by_outlet: dict[int, list[accounting.AccountedHour]] = defaultdict(list)
    for hour in revised:
        by_outlet[hour.outlet_id].append(hour)
    for outlet_id, hours in by_outlet.items():
        outlet = contexts[outlet_id].outlet
        delta = sum((h.delta_kg for h in hours), start=type(hours[0].delta_kg)(0))
        events.record(
            actor,
            outlet,
            "emission_recalculated",
            {
                "cause": cause,
                "hours": len(hours),
                "first": min(h.data_time for h in hours),
                "last": max(h.data_time for h in hours),
                "delta_kg": delta,
                "pollutants": sorted({h.pollutant for h in hours}),
                "totals": [
                    {"id": c.total_id, "period": c.period, "start": c.period_start, "version": c.version,
                     "pollutant": c.pollutant}
                    for c in changes
                    if c.outlet_id == outlet_id and c.version > 1
                ][:50],
            },
        )  # fmt: skip


# --- dirty marks ---------------------------------------------------------------------------------


def mark_dirty(outlet_id: int, start: dt.datetime, end: dt.datetime) -> int:
    """Queue the hours ``[start, end)`` of an outlet for recomputation by the next run."""
    with connection.cursor() as cur:
        cur.execute(
            """
            INSERT INTO monitoring_dirty (outlet_id, hour)
            SELECT %s, h FROM generate_series(%s::timestamptz, %s::timestamptz, interval '1 hour') h
            ON CONFLICT DO NOTHING
            """,
            [outlet_id, hour_floor(start), hour_floor(end - dt.timedelta(microseconds=1))],
        )
        return int(cur.rowcount or 0)


def _runs(hours: Iterable[dt.datetime]) -> list[tuple[dt.datetime, dt.datetime]]:
    """Contiguous runs of Beijing days covering ``hours`` as [start, end) instants."""
    from totalcap.monitoring.services.context import beijing_day_start

    days = sorted({beijing_date(h) for h in hours})
    runs: list[tuple[dt.date, dt.date]] = []
    for day in days:
        if runs and (day - runs[-1][1]).days <= 1:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return [(beijing_day_start(a), beijing_day_start(b + dt.timedelta(days=1))) for a, b in runs]


def active_outlets() -> list[int]:
    """Outlets the pipeline settles: active, with an active logger or an accounting plan."""
    return list(
        Outlet.objects.filter(status="active")
        .filter(Q(loggers__status="active") | Q(accounting_plans__isnull=False))
        .values_list("pk", flat=True)
        .distinct()
        .order_by("pk")
    )


def run(now: dt.datetime | None = None, outlet_ids: Sequence[int] | None = None) -> Report:
    """Settle new hours and recompute dirty ones (the periodic job; also callable directly)."""
    conf = pipeline_settings()
    now = now or timezone.now()
    boundary = hour_floor(now - dt.timedelta(minutes=conf.settle_minutes))
    ids = list(outlet_ids) if outlet_ids is not None else active_outlets()
    report = Report()
    for i in range(0, len(ids), conf.batch_outlets):
        report.add(
            _run_batch(ids[i : i + conf.batch_outlets], boundary, conf.backfill_hours, conf.max_hours_per_run)
        )
    if outlet_ids is None:
        # Marks of outlets the pipeline no longer settles (disabled, logger removed) would wait forever.
        with connection.cursor() as cur:
            cur.execute(
                "DELETE FROM monitoring_dirty WHERE hour < %s AND outlet_id <> ALL(%s)", [boundary, ids]
            )
    logger.info("monitoring pipeline: %s", report.as_dict())
    return report


def _run_batch(ids: list[int], boundary: dt.datetime, backfill_hours: int, max_hours: int) -> Report:
    report = Report()
    with transaction.atomic():
        cursors = {
            c.outlet_id: c
            for c in PipelineCursor.objects.select_for_update(no_key=True).filter(outlet_id__in=ids)
        }
        with connection.cursor() as cur:
            cur.execute(
                "SELECT outlet_id, hour FROM monitoring_dirty WHERE outlet_id = ANY(%s) AND hour < %s "
                "FOR UPDATE SKIP LOCKED",
                [ids, boundary],
            )
            dirty = cur.fetchall()
        # New hours: group outlets by their [cursor, target) range.
        ranges: dict[tuple[dt.datetime, dt.datetime], list[int]] = defaultdict(list)
        targets: dict[int, dt.datetime] = {}
        for outlet_id in ids:
            cursor = cursors.get(outlet_id)
            start = cursor.settled_until if cursor else boundary - backfill_hours * HOUR
            target = min(boundary, start + max_hours * HOUR)
            targets[outlet_id] = target
            if target > start:
                ranges[(start, target)].append(outlet_id)
        # Dirty hours before each outlet's (old) cursor: recompute their days.
        late: dict[tuple[dt.datetime, dt.datetime], list[int]] = defaultdict(list)
        per_outlet: dict[int, list[dt.datetime]] = defaultdict(list)
        for outlet_id, hour in dirty:
            cursor = cursors.get(outlet_id)
            settled = cursor.settled_until if cursor else boundary - backfill_hours * HOUR
            if hour < settled:
                per_outlet[outlet_id].append(hour)
        for outlet_id, hours in per_outlet.items():
            for run_range in _runs(hours):
                late[run_range].append(outlet_id)
        contexts = load_contexts(ids) if (ranges or late) else {}
        for (start, run_end), group in sorted(late.items()):
            end = min(run_end, boundary)
            sub = {o: contexts[o] for o in group if o in contexts}
            settled = min(
                (cursors[o].settled_until if o in cursors else boundary - backfill_hours * HOUR)
                for o in group
            )
            report.add(
                recompute(group, start, end, cause="late data", account_until=min(end, settled), contexts=sub)
            )
        for (start, end), group in sorted(ranges.items()):
            sub = {o: contexts[o] for o in group if o in contexts}
            report.add(recompute(group, start, end, cause="settled", account_until=end, contexts=sub))
        for outlet_id, target in targets.items():
            PipelineCursor.objects.update_or_create(outlet_id=outlet_id, defaults={"settled_until": target})
        if dirty:
            with connection.cursor() as cur:
                cur.execute(
                    "DELETE FROM monitoring_dirty d USING unnest(%s::bigint[], %s::timestamptz[]) AS x(o, h) "
                    "WHERE d.outlet_id = x.o AND d.hour = x.h",
                    [[d[0] for d in dirty], [d[1] for d in dirty]],
                )
    return report
