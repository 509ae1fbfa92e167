"""Group commit: frames are collected in memory and written in one transaction per batch; the acks
are written to the sockets only after that transaction committed.

One batch = ``COPY`` of the raw frames into ``ingest_rawframe`` + ``COPY`` of the sample values
straight into ``monitoring_sample`` — or, for a batch that re-sends a stored value, into a temporary
staging table and ``INSERT … SELECT … ON CONFLICT DO NOTHING`` (a re-sent value is stored once, its
raw frame always) + site information + ``NOTIFY ingest_batch`` sent with the ``COMMIT``. If the
commit fails because the database went away, nothing is acked: the writer reconnects with back-off
and retries the same batch (after checking whether the lost commit had in fact succeeded), while new
frames queue up to ``queue_max_frames`` and reading pauses beyond that. A batch refused for its
content (a value PostgreSQL will not take) is split until the offending frame is found; that frame is
stored raw only, with the error as a warning.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol

import psycopg

from totalcap.ingest import hooks
from totalcap.ingest.gateway.config import GatewayConfig
from totalcap.ingest.gateway.metrics import Metrics
from totalcap.ingest.gateway.rows import RAW_COLUMNS, SAMPLE_COLUMNS, clean_text, copy_text, json_field
from totalcap.ingest.gateway.rows import field as text_field

log = logging.getLogger("totalcap.ingest.writer")

ID_BLOCK = 1024  # INCREMENT BY of ingest_rawframe_id_seq
DIRECT_COPY_PAUSE = 30.0  # s of staged inserts after a direct COPY met a value already stored


class AckTarget(Protocol):
    """The connection an ack is written to (after commit)."""

    def write_acks(self, acks: list[tuple[bytes, str]]) -> bool:
        """Write ``(frame bytes, CN)`` in order with one socket write; False when the connection is gone."""
        ...


@dataclass(slots=True)
class Pending:
    """One frame (in or out) waiting for the next group commit."""

    received_at: datetime
    mono: float
    direction: str  # i / o
    status: str
    raw: bytes
    mn: str = ""
    peer: str = ""
    connection_id: int | None = None
    logger_id: int | None = None
    outlet_id: int | None = None
    cn: str = ""
    qn: str = ""
    data_time: str | None = None  # PostgreSQL literal
    warnings: list[dict[str, Any]] | None = None
    kind: str = ""
    sample_lines: list[str] | None = None
    sample_meta: list[tuple[str, str | None, str | None, str]] | None = None
    info_rows: list[tuple[str, str, str, str, str, str]] | None = (
        None  # source, pol, code, value, text, observed
    )
    ack: bytes | None = None
    ack_cn: str = ""
    target: AckTarget | None = None
    after_commit: list[Callable[[int], None]] | None = None
    message: dict[str, str] | None = None  # non-data message for hooks (card swipe, valve action …)
    frame_id: int = 0


@dataclass
class BatchResult:
    frames: int = 0
    stored: int = 0
    duplicates: int = 0
    # newly stored samples: every value of the frames in ``all_new`` (direct COPY), else the
    # (frame_id, pollutant) pairs in ``inserted`` (staged insert, re-sent values left out)
    inserted: set[tuple[int, str]] = field(default_factory=set)
    all_new: set[int] = field(default_factory=set)
    rejected: list[Pending] = field(default_factory=list)

    def is_new(self, frame_id: int, pollutant: str) -> bool:
        return frame_id in self.all_new or (frame_id, pollutant) in self.inserted


class ConnectionLost(Exception):
    """The database connection failed; the batch must be retried."""


class Slot:
    """One writer connection; ``writer_connections`` of them commit batches concurrently."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.conn: psycopg.AsyncConnection[Any] | None = None
        self.busy = False


class GroupWriter:
    """Collects :class:`Pending` frames and commits them in batches (see the module docstring)."""

    def __init__(
        self,
        config: GatewayConfig,
        metrics: Metrics,
        dsn: str,
        *,
        on_pressure: Callable[[bool], None] = lambda paused: None,
    ) -> None:
        self.config = config
        self.metrics = metrics
        self.dsn = dsn
        self.on_pressure = on_pressure
        self._batch: list[Pending] = []
        self._in_flight = 0
        self._slots = [Slot(i) for i in range(max(1, config.writer_connections))]
        self._slot_free = asyncio.Event()
        self._ids_lock = asyncio.Lock()
        self._commits: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._ids_next = 0
        self._ids_end = 0
        self._direct_paused_until = 0.0
        self._pending_blocks: list[int] = []
        self._origins: dict[tuple[int | None, str, str, int | None], str] = {}  # see _render
        self._formed = 0  # batches formed so far; the next one gets this number
        self._next_in_order = 0  # the batch whose post-commit work runs next (see _in_order)
        self._committed: dict[int, tuple[list[Pending], BatchResult] | None] = {}
        self._held = 0  # frames of committed batches waiting for their turn (counted in `queued`)
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._paused = False
        self.device_state_table = False
        self.database_up = False
        self.hook_tasks: set[asyncio.Task[None]] = set()
        metrics.gauge("totalcap_gateway_queue_frames", lambda: float(self.queued))
        metrics.gauge("totalcap_gateway_database_up", lambda: 1.0 if self.database_up else 0.0)

    @property
    def queued(self) -> int:
        """Frames waiting for a commit (including the batches being committed) or, committed, for the
        post-commit work of the batches formed before theirs (back-pressure counts them all)."""
        return len(self._batch) + self._in_flight + self._held

    # ------------------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Connect (retrying until the database answers) and start the commit loop."""
        for slot in self._slots:
            await self._connect(slot)
        self._task = asyncio.get_running_loop().create_task(self._run(), name="group-writer")

    async def stop(self) -> None:
        """Commit everything queued, then close."""
        self._stopping = True
        self._wake.set()
        await self.drain()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self.hook_tasks:
            await asyncio.wait(self.hook_tasks, timeout=hooks.HOOK_TIMEOUT)
        for slot in self._slots:
            if slot.conn is not None:
                await slot.conn.close()

    async def drain(self, timeout: float | None = None) -> bool:
        """Wait until nothing is queued; False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.queued:
            self._wake.set()
            self._idle.clear()
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return False
            try:
                await asyncio.wait_for(self._idle.wait(), remaining)
            except TimeoutError:
                return False
        return True

    def submit(self, item: Pending) -> None:
        """Queue a frame for the next commit (its ack, if any, is written after that commit)."""
        self._batch.append(item)
        self._wake.set()
        if not self._paused and self.queued >= self.config.queue_max_frames:
            self._paused = True
            self.on_pressure(True)

    # ------------------------------------------------------------------------------ the loop

    async def _run(self) -> None:
        config = self.config
        loop = asyncio.get_running_loop()
        while True:
            await self._wake.wait()
            if not self._batch:
                self._wake.clear()
                if not self._in_flight:
                    self._idle.set()
                continue
            slot = next((slot for slot in self._slots if not slot.busy), None)
            if slot is None:
                self._slot_free.clear()
                await self._slot_free.wait()
                continue
            if len(self._batch) < 8 and config.batch_max_delay > 0 and not self._stopping:
                await asyncio.sleep(config.batch_max_delay)  # let a few more frames join
            batch = self._batch[: config.batch_max_frames]
            del self._batch[: config.batch_max_frames]
            slot.busy = True
            self._in_flight += len(batch)
            sequence = self._formed
            self._formed += 1
            task = loop.create_task(self._commit_task(slot, batch, sequence))
            self._commits.add(task)
            task.add_done_callback(self._commits.discard)

    async def _commit_task(self, slot: Slot, batch: list[Pending], sequence: int) -> None:
        try:
            result = await self._commit_retrying(slot, batch)
        except asyncio.CancelledError:
            self._batch[:0] = batch
            self._in_flight -= len(batch)
            slot.busy = False
            self._in_order(sequence, None)
            raise
        self._in_flight -= len(batch)
        slot.busy = False
        self._slot_free.set()
        self._acknowledge(batch, result)
        self._in_order(sequence, (batch, result))
        if self._paused and self.queued <= self.config.queue_max_frames // 2:
            self._paused = False
            self.on_pressure(False)
        if not self._batch and not self._in_flight:
            self._idle.set()
        self._wake.set()

    async def _commit_retrying(self, slot: Slot, batch: list[Pending]) -> BatchResult:
        delay = 0.1
        ambiguous = False
        while True:
            try:
                if ambiguous and await self._already_committed(slot, batch):
                    log.warning("batch of %s frames had committed before the connection was lost", len(batch))
                    return BatchResult(frames=len(batch))
                return await self._commit_splitting(slot, batch)
            except ConnectionLost as exc:
                ambiguous = True
                self.database_up = False
                self.metrics.inc("totalcap_gateway_commit_errors_total", kind="connection")
                log.warning(
                    "database unavailable (%s); %s frames wait, retrying in %.1fs", exc, self.queued, delay
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                await self._connect(slot, once=True)

    async def _already_committed(self, slot: Slot, batch: list[Pending]) -> bool:
        first = batch[0]
        if not first.frame_id:
            return False
        conn = await self._connection(slot)
        try:
            cur = await conn.execute(
                "SELECT 1 FROM ingest_rawframe WHERE id = %s AND received_at = %s",
                (first.frame_id, first.received_at),
            )
            return (await cur.fetchone()) is not None
        except psycopg.Error as exc:
            raise ConnectionLost(str(exc)) from exc

    async def _commit_splitting(self, slot: Slot, batch: list[Pending]) -> BatchResult:
        try:
            return await self._commit(slot, batch)
        except ConnectionLost:
            raise
        except psycopg.Error as exc:
            self.metrics.inc("totalcap_gateway_commit_errors_total", kind="data")
            if len(batch) > 1:
                middle = len(batch) // 2
                left = await self._commit_splitting(slot, batch[:middle])
                right = await self._commit_splitting(slot, batch[middle:])
                return _merge(left, right)
            item = batch[0]
            if item.sample_lines is None and item.info_rows is None:
                log.error("frame could not be stored even raw (%s); dropped without ack", exc)
                item.ack = None
                return BatchResult(frames=0)
            log.warning("frame values refused by the database (%s); storing it raw only", exc)
            item.sample_lines = item.sample_meta = None
            item.info_rows = None
            item.after_commit = None
            item.status = "rejected"
            item.warnings = [
                *(item.warnings or []),
                {"code": "store-error", "message": clean_text(str(exc), 200)},
            ]
            return await self._commit_splitting(slot, batch)

    async def _commit(self, slot: Slot, batch: list[Pending], attempt: int = 0) -> BatchResult:
        """One transaction: BEGIN, COPY raw frames, COPY values (direct, or staged + ``ON CONFLICT``),
        site information, then ``NOTIFY`` and ``COMMIT`` in one round trip."""
        conn = await self._connection(slot)
        started = time.monotonic()
        direct = started >= self._direct_paused_until
        try:
            async with self._ids_lock:
                await self._assign_ids(conn, batch)
            raw_text, samples, info, meta_needed = self._render(batch)
            result = BatchResult(frames=sum(1 for p in batch if p.direction == "i"))
            await conn.execute("BEGIN")
            try:
                async with conn.cursor() as cur:
                    async with cur.copy(_RAW_COPY) as copy:
                        await copy.write(raw_text)
                    if samples[0] or samples[1]:
                        await self._copy_samples(cur, batch, samples, direct, meta_needed, result)
                    if info:
                        await cur.executemany(_INSERT_INFO, info)
                        if self.device_state_table:
                            states = [row for row in info if row[2] in ("3020", "2021") and _is_state(row[4])]
                            if states:
                                await cur.executemany(_INSERT_STATE, [_state_params(r) for r in states])
                    await cur.execute(_notify_and_commit(_notify_payload(self, batch, result)))
            except BaseException:
                if not (conn.closed or conn.broken):
                    with contextlib.suppress(psycopg.Error):
                        await conn.execute("ROLLBACK")
                raise
        except psycopg.errors.UniqueViolation:
            if not direct:
                raise
            # a value of the batch was already stored (a re-send): nothing was committed; the
            # staged insert is used for DIRECT_COPY_PAUSE seconds (a history re-upload sends many)
            self._direct_paused_until = time.monotonic() + DIRECT_COPY_PAUSE
            self.metrics.inc("totalcap_gateway_copy_fallbacks_total")
            return await self._commit(slot, batch, attempt)
        except psycopg.errors.TransactionRollback as exc:
            # deadlock / serialization failure between concurrent batches (the same key re-sent
            # into two batches): nothing was committed, the connection is fine, retry at once
            self.metrics.inc("totalcap_gateway_commit_errors_total", kind="conflict")
            log.info("batch rolled back by a conflict (%s); retrying", exc.sqlstate)
            if attempt >= 5:
                raise ConnectionLost(f"conflict repeated: {exc}") from exc
            return await self._commit(slot, batch, attempt + 1)
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            if conn.closed or conn.broken or isinstance(exc, psycopg.OperationalError):
                await self._drop_connection(slot)
                raise ConnectionLost(str(exc)) from exc
            raise
        self.database_up = True
        elapsed = time.monotonic() - started
        self.metrics.inc("totalcap_gateway_batches_total")
        self.metrics.observe("totalcap_gateway_commit_seconds", elapsed)
        self.metrics.observe("totalcap_gateway_batch_frames", len(batch))
        return result

    async def _copy_samples(
        self,
        cur: psycopg.AsyncCursor[Any],
        batch: list[Pending],
        samples: tuple[str, str],
        direct: bool,
        meta_needed: bool,
        result: BatchResult,
    ) -> None:
        """The batch's values into ``monitoring_sample``; ``samples`` = (real-time lines, other lines).

        Live data are almost never re-sent, so by default they are COPYed straight into the store:
        no staging copy and no conflict check per row. Real-time lines go into the real-time
        partition ``monitoring_sample_r`` itself: the store's statement trigger that marks hours for
        the derived store (minute, hour and day rows only) is on the partitioned table and would keep
        a transition table of every real-time row for nothing (a tenth of PostgreSQL's time per
        frame). A value already stored makes the COPY fail (the caller retries the batch staged); the
        staged path copies into a temporary table and inserts with ``ON CONFLICT DO NOTHING``,
        returning which values were new.
        """
        realtime, other = samples
        lines = realtime.count("\n") + other.count("\n")
        if direct:
            if realtime:
                async with cur.copy(_REALTIME_COPY) as copy:
                    await copy.write(realtime)
            if other:
                async with cur.copy(_SAMPLE_COPY) as copy:
                    await copy.write(other)
            result.stored = lines
            if meta_needed:
                result.all_new = {p.frame_id for p in batch if p.sample_lines}
        else:
            async with cur.copy(_STAGE_COPY) as copy:
                await copy.write(realtime + other)
            if meta_needed:
                await cur.execute(_INSERT_SAMPLES + " RETURNING frame_id, pollutant")
                rows = await cur.fetchall()
                result.inserted = {(r[0], r[1]) for r in rows}
                result.stored = len(rows)
            else:
                await cur.execute(_INSERT_SAMPLES)
                result.stored = max(cur.rowcount, 0)
        result.duplicates = lines - result.stored

    async def _assign_ids(self, conn: psycopg.AsyncConnection[Any], batch: list[Pending]) -> None:
        missing = sum(1 for p in batch if not p.frame_id)
        available = self._ids_end - self._ids_next
        if missing > available:
            blocks = (missing - available + ID_BLOCK - 1) // ID_BLOCK
            cur = await conn.execute(
                "SELECT nextval('ingest_rawframe_id_seq') FROM generate_series(1, %s)", (blocks,)
            )
            starts = sorted(r[0] for r in await cur.fetchall())
            # blocks may not be contiguous (other gateways): use them one after the other
            self._pending_blocks.extend(starts)
        for p in batch:
            if p.frame_id:
                continue
            if self._ids_next >= self._ids_end:
                start = self._pending_blocks.pop(0)
                self._ids_next, self._ids_end = start, start + ID_BLOCK
            p.frame_id = self._ids_next
            self._ids_next += 1

    def _render(self, batch: list[Pending]) -> tuple[str, tuple[str, str], list[tuple[Any, ...]], bool]:
        """COPY text of the raw frames, of the sample lines (real-time, other kinds) and the
        site-information rows."""
        gateway = text_field(self.config.name, 64)
        raw_parts: list[str] = []
        realtime_parts: list[str] = []
        other_parts: list[str] = []
        info: list[tuple[Any, ...]] = []
        meta_needed = bool(hooks.registered())
        origins = self._origins
        if len(origins) > 20_000:
            origins.clear()
        last_at: datetime | None = None
        received = ""
        for p in batch:
            if p.received_at is not last_at:  # the frames of one read share their receive time
                last_at = p.received_at
                received = last_at.isoformat(sep=" ")
            # logger, MN, peer, gateway and connection: the same for every frame of a connection
            key = (p.logger_id, p.mn, p.peer, p.connection_id)
            origin = origins.get(key)
            if origin is None:
                origin = origins[key] = (
                    f"{_int(p.logger_id)}\t{text_field(p.mn, 64)}\t{text_field(p.peer, 64)}\t{gateway}\t"
                    f"{_int(p.connection_id)}"
                )
            raw_parts.append(
                f"{p.frame_id}\t{received}\t{p.direction}\t{origin}\t{_short(p.cn, 8)}\t{_short(p.qn, 24)}\t"
                f"{p.data_time or chr(92) + 'N'}\t{p.status}\t{json_field(p.warnings)}\t\\\\x{p.raw.hex()}\n"
            )
            if p.sample_lines:
                tail = f"{p.frame_id}\t{received}\n"
                (realtime_parts if p.kind == "r" else other_parts).append(tail.join(p.sample_lines) + tail)
            if p.info_rows:
                for source, pollutant, code, value, text, observed in p.info_rows:
                    info.append(
                        (
                            p.logger_id,
                            p.outlet_id,
                            source,
                            pollutant,
                            code,
                            value,
                            text,
                            observed,
                            p.frame_id,
                            p.received_at,
                        )
                    )
        return "".join(raw_parts), ("".join(realtime_parts), "".join(other_parts)), info, meta_needed

    def _in_order(self, sequence: int, committed: tuple[list[Pending], BatchResult] | None) -> None:
        """Run the post-commit actions and hooks of the batches in the order they were formed (the
        order their frames arrived in), whatever order the writer connections committed them in:
        a card swipe is handled before the data that followed it, a valve report before a later
        one. A batch committed early waits here for the batches formed before it (its acks are
        already out); ``None`` releases the place of a batch that was given back unfinished."""
        self._committed[sequence] = committed
        if committed is not None:
            self._held += len(committed[0])
        while self._next_in_order in self._committed:
            done = self._committed.pop(self._next_in_order)
            self._next_in_order += 1
            if done is not None:
                self._held -= len(done[0])
                self._after_commit(*done)

    def _acknowledge(self, batch: list[Pending], result: BatchResult) -> None:
        """Write the acks of a committed batch at once (one socket write per connection)."""
        metrics = self.metrics
        metrics.inc("totalcap_gateway_samples_stored_total", result.stored)
        metrics.inc("totalcap_gateway_samples_duplicate_total", max(result.duplicates, 0))
        now = datetime.now(UTC)
        mono = time.monotonic()
        acks: list[Pending] = []
        # one socket write per connection and batch (a logger with several frames in the batch gets
        # its acks together, in order)
        owed: dict[AckTarget, list[Pending]] = {}
        for p in batch:
            if p.ack is not None and p.target is not None:
                owed.setdefault(p.target, []).append(p)
        store = self.config.store_acks
        written = 0
        for target, items in owed.items():
            if not target.write_acks([(p.ack, p.ack_cn) for p in items if p.ack is not None]):
                continue
            written += len(items)
            for p in items:
                metrics.observe("totalcap_gateway_ack_latency_seconds", mono - p.mono)
                if store and p.ack is not None:
                    acks.append(
                        Pending(now, mono, "o", "sent", p.ack, p.mn, p.peer, p.connection_id, p.logger_id,
                                p.outlet_id, p.ack_cn, p.qn)
                    )  # fmt: skip
        metrics.inc("totalcap_gateway_acks_total", written)
        for ack in acks:
            self.submit(ack)

    def _after_commit(self, batch: list[Pending], result: BatchResult) -> None:
        """The post-commit actions of a batch's frames and the hooks, in batch order (:meth:`_in_order`)."""
        for p in batch:
            if p.after_commit:
                for action in p.after_commit:
                    try:
                        action(p.frame_id)
                    except Exception:
                        log.exception("post-commit action failed")
        if hooks.registered():
            self._dispatch_hooks(batch, result, datetime.now(UTC))

    def _dispatch_hooks(self, batch: list[Pending], result: BatchResult, now: datetime) -> None:
        # frames with at least one newly stored value (a re-sent frame's outlet is not announced)
        new = [
            p
            for p in batch
            if p.sample_meta
            and p.logger_id is not None
            and p.outlet_id is not None
            and p.data_time is not None
            and (p.frame_id in result.all_new or any(result.is_new(p.frame_id, m[0]) for m in p.sample_meta))
        ]
        outlets = frozenset(p.outlet_id for p in new if p.outlet_id is not None)
        messages = tuple(
            hooks.DeviceMessage(p.logger_id, p.outlet_id, p.cn, p.message, p.frame_id, p.received_at)
            for p in batch
            if p.message is not None and p.logger_id is not None and p.outlet_id is not None
        )

        def build(wanted: frozenset[int] | None) -> tuple[hooks.SampleRecord, ...]:
            return _sample_records(new, result, wanted)

        batch_summary = hooks.CommittedBatch(
            self.config.name,
            now,
            result.frames,
            result.duplicates,
            (),
            messages,
            outlets=outlets,
            build=build,
        )
        self.metrics.inc("totalcap_gateway_hook_batches_total")
        for task in hooks.dispatch(batch_summary):
            self.hook_tasks.add(task)
            task.add_done_callback(self.hook_tasks.discard)

    # ------------------------------------------------------------------------------ connection

    async def _connect(self, slot: Slot, once: bool = False) -> None:
        delay = 0.2
        while True:
            try:
                conn = await psycopg.AsyncConnection.connect(
                    self.dsn, autocommit=True, application_name="totalcap-gateway"
                )
                # the NOTIFY literal is rendered as plain text (see _notify_and_commit)
                await conn.execute("SET standard_conforming_strings = on")
                async with conn.transaction():
                    await conn.execute(
                        "CREATE TEMP TABLE IF NOT EXISTS ingest_stage "
                        "(LIKE monitoring_sample INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
                    )
                    cur = await conn.execute("SELECT to_regclass('monitoring_device_state') IS NOT NULL")
                    row = await cur.fetchone()
                    self.device_state_table = bool(row and row[0])
                slot.conn = conn
                self.database_up = True
                if not once:
                    log.info("writer connection %s connected", slot.index)
                return
            except psycopg.Error as exc:
                self.database_up = False
                if once:
                    log.warning("reconnect failed: %s", exc)
                    return
                log.warning("cannot connect to the database (%s); retrying in %.1fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def _connection(self, slot: Slot) -> psycopg.AsyncConnection[Any]:
        if slot.conn is None or slot.conn.closed or slot.conn.broken:
            await self._drop_connection(slot)
            await self._connect(slot, once=True)
        if slot.conn is None:
            raise ConnectionLost("no database connection")
        return slot.conn

    async def _drop_connection(self, slot: Slot) -> None:
        if slot.conn is not None:
            with contextlib.suppress(Exception):
                await slot.conn.close()
        slot.conn = None


def _short(value: str, limit: int) -> str:
    """A short text column (CN, QN): letters and digits as they are, anything else through
    :func:`text_field` (cleaned, escaped, cut to ``limit``)."""
    return value if len(value) <= limit and value.isalnum() else text_field(value, limit)


def _int(value: int | None) -> str:
    return "\\N" if value is None else str(value)


def _merge(a: BatchResult, b: BatchResult) -> BatchResult:
    return BatchResult(
        a.frames + b.frames,
        a.stored + b.stored,
        a.duplicates + b.duplicates,
        a.inserted | b.inserted,
        a.all_new | b.all_new,
    )


def _sample_records(
    frames: list[Pending], result: BatchResult, wanted: frozenset[int] | None
) -> tuple[hooks.SampleRecord, ...]:
    """Hook records of the newly stored values of ``frames`` (of the ``wanted`` outlets only)."""
    records: list[hooks.SampleRecord] = []
    for p in frames:
        if wanted is not None and p.outlet_id not in wanted:
            continue
        assert p.sample_meta is not None and p.data_time is not None
        assert p.logger_id is not None and p.outlet_id is not None
        data_time = _parse_pg_time(p.data_time)
        for pollutant, value, cou, flag in p.sample_meta:
            if not result.is_new(p.frame_id, pollutant):
                continue
            records.append(
                hooks.SampleRecord(
                    p.logger_id, p.outlet_id, p.kind, pollutant, data_time,
                    Decimal(value) if value is not None else None, Decimal(cou) if cou is not None else None,
                    flag, p.frame_id, p.received_at, p.mono,
                )
            )  # fmt: skip
    return tuple(records)


def _parse_pg_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace(" ", "T")).astimezone(UTC)


_STATE_PREFIXES = ("i12", "i22", "i32")


def _is_state(code: str) -> bool:
    return code.startswith(_STATE_PREFIXES) or code.endswith("-RS")


def _state_params(row: tuple[Any, ...]) -> tuple[Any, ...]:
    logger_id, outlet_id, _source, pollutant, code, value, _text, observed, frame_id, received = row
    return (logger_id, outlet_id, pollutant, code, value[:32], observed, "2021" if code.endswith("-RS") else "3020",
            frame_id, received)  # fmt: skip


def _notify_and_commit(payload: str) -> str:
    """``NOTIFY ingest_batch, '<payload>'; COMMIT`` — one simple-protocol round trip. Built as plain
    text (a ``sql.Composed`` costs more to render than the rest of a small batch's statements): the
    channel is a constant identifier and the payload a standard-conforming literal (the writer's
    connections set ``standard_conforming_strings`` when they connect)."""
    return f"NOTIFY {hooks.NOTIFY_CHANNEL}, '{payload.replace(chr(39), chr(39) * 2)}'; COMMIT"


def _notify_payload(writer: GroupWriter, batch: list[Pending], result: BatchResult) -> str:
    ids = [p.frame_id for p in batch]
    outlets = sorted({p.outlet_id for p in batch if p.outlet_id is not None and p.sample_lines})
    payload = {
        "gateway": writer.config.name,
        "frames": result.frames,
        "first_id": min(ids),
        "last_id": max(ids),
        "samples": result.stored,
        "outlets": outlets[:500],
    }
    return json.dumps(payload, separators=(",", ":"))


_COLS = ", ".join(f'"{c}"' for c in SAMPLE_COLUMNS)
_RAW_COPY = "COPY ingest_rawframe ({}) FROM STDIN".format(", ".join(f'"{c}"' for c in RAW_COLUMNS))
_SAMPLE_COPY = f"COPY monitoring_sample ({_COLS}) FROM STDIN"
_REALTIME_COPY = f"COPY monitoring_sample_r ({_COLS}) FROM STDIN"
_STAGE_COPY = f"COPY ingest_stage ({_COLS}) FROM STDIN"
_INSERT_SAMPLES = (
    f"INSERT INTO monitoring_sample ({_COLS}) SELECT {_COLS} FROM ingest_stage ON CONFLICT DO NOTHING"
)
_INSERT_INFO = (
    "INSERT INTO ingest_siteinfo (logger_id, outlet_id, source, pollutant, code, value, text, observed_at, frame_id, "
    "received_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING"
)
_INSERT_STATE = (
    "INSERT INTO monitoring_device_state (logger_id, outlet_id, pollutant, code, value, observed_at, source, frame_id, "
    "received_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING"
)

__all__ = ["AckTarget", "GroupWriter", "Pending", "copy_text"]
