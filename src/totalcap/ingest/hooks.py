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
        for sample in batch.samples_for(batch.outlets & watched_outlets):
            ...  # await asend_command(...) to close a valve

    hooks.register(post_consumption)
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
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


SampleBuilder = Callable[[frozenset[int] | None], tuple[SampleRecord, ...]]


class CommittedBatch:
    """What one group commit stored.

    The gateway builds the :class:`SampleRecord` objects only when a hook asks for them: most hooks
    care about a few outlets, so they look at :attr:`outlets` first and call :meth:`samples_for`
    with the ones they want (a 1,000-logger batch then costs them nothing per value);
    :attr:`samples` builds them all.
    """

    __slots__ = (
        "_build",
        "_samples",
        "committed_at",
        "duplicates",
        "frames",
        "gateway",
        "messages",
        "outlets",
    )

    def __init__(
        self,
        gateway: str,
        committed_at: datetime,
        frames: int,
        duplicates: int,
        samples: Iterable[SampleRecord] = (),
        messages: Iterable[DeviceMessage] = (),
        *,
        outlets: frozenset[int] | None = None,
        build: SampleBuilder | None = None,
    ) -> None:
        self.gateway = gateway
        self.committed_at = committed_at
        self.frames = frames  # incoming frames stored (raw), whatever their status
        self.duplicates = duplicates  # sample values already stored (re-sends, history re-uploads)
        self.messages: tuple[DeviceMessage, ...] = tuple(messages)
        self._build = build
        self._samples: tuple[SampleRecord, ...] | None = None if build is not None else tuple(samples)
        if outlets is None:
            outlets = frozenset(s.outlet_id for s in self._samples or ())
        #: ids of the outlets that have newly stored samples in this batch
        self.outlets: frozenset[int] = outlets

    @property
    def samples(self) -> tuple[SampleRecord, ...]:
        """Every newly stored sample of the batch (built on first use)."""
        if self._samples is None:
            assert self._build is not None
            self._samples = self._build(None)
        return self._samples

    def samples_for(self, outlet_ids: Iterable[int]) -> tuple[SampleRecord, ...]:
        """The newly stored samples of these outlets only."""
        wanted = frozenset(outlet_ids) & self.outlets
        if not wanted:
            return ()
        if self._samples is not None or self._build is None:
            return tuple(s for s in self.samples if s.outlet_id in wanted)
        return self._build(wanted)

    def by_outlet(self) -> dict[int, list[SampleRecord]]:
        """Samples grouped by outlet id."""
        grouped: dict[int, list[SampleRecord]] = {}
        for sample in self.samples:
            grouped.setdefault(sample.outlet_id, []).append(sample)
        return grouped

    def of_kind(self, kind: str) -> Iterator[SampleRecord]:
        """Samples of one kind (``r``, ``m``, ``h``, ``d``)."""
        return (s for s in self.samples if s.kind == kind)

    def __repr__(self) -> str:
        return (
            f"CommittedBatch(gateway={self.gateway!r}, frames={self.frames}, duplicates={self.duplicates}, "
            f"outlets={len(self.outlets)}, messages={len(self.messages)})"
        )


Hook = Callable[[CommittedBatch], Awaitable[None]]
_hooks: list[Hook] = []
#: Longest a hook may run before it is cancelled (seconds).
HOOK_TIMEOUT = 10.0


_warmers: dict[Hook, Callable[[], None]] = {}


def register(hook: Hook, *, warm: Callable[[], None] | None = None) -> Hook:
    """Call ``hook(batch)`` after every group commit in this process; usable as a decorator.

    ``warm``, if given, is called once when a gateway starts (in a worker thread, before it accepts
    connections) to do what the hook's first call would otherwise pay for — typically importing the
    modules it imports lazily, about 0.2 s for total control, which the first crossing of 100 %
    after a restart would wait for."""
    if hook not in _hooks:
        _hooks.append(hook)
    if warm is not None:
        _warmers[hook] = warm
    return hook


def unregister(hook: Hook) -> None:
    """Stop calling ``hook``."""
    if hook in _hooks:
        _hooks.remove(hook)
    _warmers.pop(hook, None)


def warm_up() -> None:
    """Run the warm-up of every registered hook (errors are logged, never raised)."""
    for hook, warm in list(_warmers.items()):
        try:
            warm()
        except Exception:
            logger.exception("warm-up of hook %r failed", getattr(hook, "__qualname__", hook))


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
