"""Post-commit hooks: other apps learn about committed data within milliseconds.

Inside the gateway process, every group commit ends by calling the registered async callables with
a :class:`CommittedBatch` — *after* the transaction committed and the acks were written, and only
with samples that were newly stored (a re-sent value that was already in the store is not in the
batch, so a consumer never counts it twice). Hooks run concurrently as tasks; a slow or failing hook
never delays the next commit (each call has a time limit and its errors are logged).

Other processes get the PostgreSQL notification ``ingest_batch`` (JSON: gateway, frame id range,
sample count, outlet ids) sent in the same transaction, so it is delivered exactly when the data
are visible.

Usage (e.g. in ``quotas/apps.py`` ``ready()``)::

    from totalcap.ingest import hooks

    async def post_consumption(batch: hooks.CommittedBatch) -> None:
        for sample in batch.samples:
            ...  # await asend_command(...) to close a valve

    hooks.register(post_consumption)
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

logger = logging.getLogger("totalcap.ingest.hooks")

#: Name of the PostgreSQL notification channel carrying a summary of every committed batch.
NOTIFY_CHANNEL = "ingest_batch"


@dataclass(frozen=True, slots=True)
class SampleRecord:
    """One newly stored sample (a row of ``monitoring_sample``)."""

    logger_id: int
    outlet_id: int
    kind: str  # r real-time (2011), m minute (2051), h hour (2061), d day (2031)
    pollutant: str
    data_time: datetime  # aware, UTC
    value: Decimal | None  # Rtd (real-time) or Avg (intervals)
    cou: Decimal | None  # interval amount (-Cou), None for real-time
    flag: str
    frame_id: int
    received_at: datetime  # when the frame arrived at the gateway (aware, UTC)
    received_monotonic: float  # time.monotonic() at arrival, for latency measurements


@dataclass(frozen=True, slots=True)
class DeviceMessage:
    """A committed non-data message hooks may act on: 3811 card swipe, 3813 offline valve action,
    3020 with a valve state (TotalCap loggers), 2081 logger restart. ``items`` are the CP's plain
    and ``code-Info`` items as sent."""

    logger_id: int
    outlet_id: int
    cn: str
    items: dict[str, str]
    frame_id: int
    received_at: datetime


@dataclass(frozen=True, slots=True)
class CommittedBatch:
    """What one group commit stored."""

    gateway: str
    committed_at: datetime
    frames: int  # incoming frames stored (raw), whatever their status
    duplicates: int  # sample values that were already stored (re-sends, history re-uploads)
    samples: tuple[SampleRecord, ...] = field(default=())
    messages: tuple[DeviceMessage, ...] = field(default=())

    def by_outlet(self) -> dict[int, list[SampleRecord]]:
        """Samples grouped by outlet id."""
        grouped: dict[int, list[SampleRecord]] = {}
        for sample in self.samples:
            grouped.setdefault(sample.outlet_id, []).append(sample)
        return grouped

    def of_kind(self, kind: str) -> Iterator[SampleRecord]:
        """Samples of one kind (``r``, ``m``, ``h``, ``d``)."""
        return (s for s in self.samples if s.kind == kind)


Hook = Callable[[CommittedBatch], Awaitable[None]]
_hooks: list[Hook] = []
#: Longest a hook may run before it is cancelled (seconds).
HOOK_TIMEOUT = 10.0


def register(hook: Hook) -> Hook:
    """Call ``hook(batch)`` after every group commit in this process; usable as a decorator."""
    if hook not in _hooks:
        _hooks.append(hook)
    return hook


def unregister(hook: Hook) -> None:
    """Stop calling ``hook``."""
    if hook in _hooks:
        _hooks.remove(hook)


def registered() -> tuple[Hook, ...]:
    """The hooks registered in this process."""
    return tuple(_hooks)


async def _run_one(hook: Hook, batch: CommittedBatch) -> None:
    try:
        await asyncio.wait_for(hook(batch), HOOK_TIMEOUT)
    except Exception:
        logger.exception("post-commit hook %r failed", getattr(hook, "__qualname__", hook))


def dispatch(batch: CommittedBatch) -> list[asyncio.Task[None]]:
    """Start every hook on ``batch`` as a task (the caller does not wait for them)."""
    return [asyncio.get_running_loop().create_task(_run_one(hook, batch)) for hook in _hooks]
