"""Where total control listens to the gateway: every committed batch of samples is turned into
consumption within milliseconds (and a crossing of 100 % becomes a close command at once); card
swipes (3811), valve states (3020) and offline valve actions (3813) are handed to
:mod:`totalcap.quotas.services.device_reports`; the hourly accounting trues hours up.

Runs inside the gateway process (``totalcap.ingest.hooks``). Only outlets of enterprises with an
approved plan for the year are under total control; the set is cached for a few seconds so that
the rest of the traffic costs nothing here.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from typing import Any

from asgiref.sync import sync_to_async
from django.db import close_old_connections

logger = logging.getLogger("totalcap.quotas")

_CONTROLLED_TTL = 5.0


class _Controlled:
    """Outlet ids under total control (cached), and each enterprise's consumption source."""

    outlets: frozenset[int] = frozenset()
    realtime: frozenset[int] = frozenset()  # outlets whose enterprise counts real-time data
    loaded_at: float = 0.0


def _refresh_controlled() -> None:
    from django.utils import timezone

    from totalcap.quotas.choices import PlanStatus
    from totalcap.quotas.models import PeriodPlan, QuotaPolicy
    from totalcap.quotas.services.common import period_of
    from totalcap.registry.models import Outlet

    year, _month = period_of(timezone.now())
    enterprises = set(
        PeriodPlan.objects.filter(
            status=PlanStatus.APPROVED, year__in=[year - 1, year, year + 1]
        ).values_list("enterprise_id", flat=True)
    )
    outlets = Outlet.objects.filter(enterprise_id__in=enterprises).values_list("pk", "enterprise_id")
    realtime_enterprises = set(
        QuotaPolicy.objects.filter(enterprise_id__in=enterprises, consumption_source="realtime").values_list(
            "enterprise_id", flat=True
        )
    )
    default_realtime = QuotaPolicy.objects.filter(
        enterprise__isnull=True, consumption_source="realtime"
    ).exists()
    own_policy = set(
        QuotaPolicy.objects.filter(enterprise_id__in=enterprises).values_list("enterprise_id", flat=True)
    )
    _Controlled.outlets = frozenset(pk for pk, _e in outlets)
    _Controlled.realtime = frozenset(
        pk for pk, e in outlets if e in realtime_enterprises or (default_realtime and e not in own_policy)
    )
    _Controlled.loaded_at = time.monotonic()


def _consume(rows: list[dict[str, Any]]) -> None:
    from totalcap.quotas.services.consumption import increments_from_samples, post_increments

    close_old_connections()
    try:
        increments = increments_from_samples(rows)
        if increments and post_increments(increments):
            _Waiting.loaded_at = 0.0  # a crossing may have created a valve order
    finally:
        close_old_connections()


def _controlled_stale() -> bool:
    return time.monotonic() - _Controlled.loaded_at > _CONTROLLED_TTL


def _reload_controlled() -> None:
    close_old_connections()
    try:
        _refresh_controlled()
    finally:
        close_old_connections()


def _controlled_rows(samples: Any) -> list[dict[str, Any]]:
    """The samples total control consumes (no database access: the controlled set is cached)."""
    rows = []
    for s in samples:
        if s.outlet_id not in _Controlled.outlets or s.kind not in ("m", "r"):
            continue
        wanted = "r" if s.outlet_id in _Controlled.realtime else "m"
        if s.kind != wanted:
            continue
        rows.append(
            {"logger_id": s.logger_id, "outlet_id": s.outlet_id, "kind": s.kind, "pollutant": s.pollutant,
             "data_time": s.data_time, "value": s.value, "cou": s.cou}
        )  # fmt: skip
    return rows


class _Waiting:
    """Outlet ids whose valves have orders waiting for the device or for evidence (cached for a
    second, dropped whenever this process may have created an order), so that data of the other
    outlets cost nothing here."""

    outlets: frozenset[int] = frozenset()
    loaded_at: float = 0.0


_WAITING_TTL = 1.0


def _waiting_stale() -> bool:
    return time.monotonic() - _Waiting.loaded_at > _WAITING_TTL


def _follow_valves(outlet_ids: set[int]) -> None:
    """Orders of these outlets' valves waiting for the device or for evidence move on at once."""
    from totalcap.quotas.services.device_reports import pending_valve_outlets, waiting_outlets
    from totalcap.quotas.services.valves import advance_valves

    close_old_connections()
    try:
        if _waiting_stale():
            _Waiting.outlets = frozenset(waiting_outlets())
            _Waiting.loaded_at = time.monotonic()
        wanted = outlet_ids & _Waiting.outlets
        valve_ids = pending_valve_outlets(wanted) if wanted else []
        if valve_ids:
            advance_valves(valve_ids)
    finally:
        close_old_connections()


def _messages(messages: Any) -> None:
    from totalcap.quotas.services.device_reports import handle_messages

    close_old_connections()
    try:
        handle_messages(messages)
        _Waiting.loaded_at = 0.0  # a swipe or a valve report may have created or moved an order
    finally:
        close_old_connections()


def warm_up() -> None:
    """Import what the hook imports lazily (the consumption, threshold, valve and device-report
    services, about 0.2 s), so that the first crossing after a gateway starts does not wait for it."""
    import totalcap.quotas.services.consumption
    import totalcap.quotas.services.device_reports
    import totalcap.quotas.services.valves  # noqa: F401


def invalidate() -> None:
    """Forget the cached set of controlled outlets (the next batch reloads it)."""
    _Controlled.loaded_at = 0.0


_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()


def _lock() -> asyncio.Lock:
    """One lock per event loop: a process normally runs one gateway loop, but a lock created on a
    loop that has since stopped (tests, a restarted gateway) must never block the next one."""
    loop = asyncio.get_running_loop()
    lock = _locks.get(loop)
    if lock is None:
        lock = _locks[loop] = asyncio.Lock()
    return lock


async def post_consumption(batch: Any) -> None:
    """The gateway hook: the batch's device messages first (a swipe loads the month before the data
    that follow it are consumed; valve states move orders on), then the samples of controlled
    outlets are consumed (one batch at a time, in order), then the valve orders of those outlets
    look for their evidence in the new data."""
    if not batch.outlets and not batch.messages:
        return
    async with _lock():
        messages = [m for m in batch.messages if m.cn in _MESSAGE_CNS]
        if messages:
            await sync_to_async(_messages, thread_sensitive=True)(messages)
        if not batch.outlets:
            return
        if _controlled_stale():
            await sync_to_async(_reload_controlled, thread_sensitive=True)()
        # only the values of controlled outlets are ever built (a batch of the other loggers costs a
        # set intersection here)
        outlets = set(batch.outlets & _Controlled.outlets)
        if not outlets:
            return
        rows = _controlled_rows(batch.samples_for(outlets))
        if rows:
            await sync_to_async(_consume, thread_sensitive=True)(rows)
        if _waiting_stale() or outlets & _Waiting.outlets:
            await sync_to_async(_follow_valves, thread_sensitive=True)(outlets)


#: Device messages total control acts on: card swipe, offline valve action, site information (valve).
_MESSAGE_CNS = frozenset(("3811", "3813", "3020"))


def true_up_hours(hours: list[Any]) -> None:
    """Hourly-accounting listener (``monitoring.services.accounting.register_hour_listener``)."""
    from totalcap.quotas.services.device_reports import true_up_accounted

    try:
        true_up_accounted(hours)
    except Exception:
        logger.exception("true-up of %s accounted hours failed", len(hours))
