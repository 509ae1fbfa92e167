"""Sending reverse-control commands and following them to their end.

One request in flight per logger (a logger answers one request at a time); the others wait in
order. New commands arrive by ``LISTEN ingest_command`` (other processes), by an in-process
listener (commands created inside the gateway, e.g. by a quotas hook: no round trip) and by a
periodic sweep (the safety net, and the recovery after a restart). Timing follows HJ 212 §6.2: no
9011 within OverTime → resend with the same QN, up to ReCount times, then *timed out*; after the
9011, no 9012 (or data) within the execution timeout → *timed out*. Bytes are written to the
socket first and the *sent* transition is recorded right after (in the Django thread, in order), so
a close-valve command leaves the gateway without waiting for the database.
"""

from __future__ import annotations

import asyncio
import bisect
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import psycopg

from hj212 import Frame, build
from hj212.errors import HJ212Error
from hj212.messages import ExecutionResult, RequestAnswer, parse_message
from totalcap.ingest.catalogue import BY_NAME, CommandSpec
from totalcap.ingest.gateway.registry import LoggerProfile
from totalcap.ingest.gateway.writer import Pending

if TYPE_CHECKING:
    from totalcap.ingest.gateway.server import Gateway

log = logging.getLogger("totalcap.ingest.dispatcher")

#: Minimum execution time allowed after a 9011 for commands that take long on the device.
LONG_RUNNING = {
    "calibrate": 1800.0, "sample_now": 1800.0, "start_cleaning": 1800.0, "comparison_sampling": 1800.0,
    "retention_sampling": 1800.0, "start_retention_task": 1800.0, "start_standard_check": 1800.0,
    "close_valve": 120.0, "open_valve": 120.0,
}  # fmt: skip


@dataclass
class InFlight:
    """A command sent to a connected logger and not finished."""

    command_id: int
    logger_id: int
    spec: CommandSpec
    qn: str
    wire: bytes
    overtime: float
    recount: int
    attempts: int
    accepted: bool = False
    deadline: float = 0.0
    records: int = 0
    first: str = ""
    last: str = ""
    sent_mono: float = 0.0


@dataclass
class LoggerQueue:
    pending: list[int] = field(default_factory=list)  # command ids, oldest first (= order requested)
    in_flight: InFlight | None = None
    preparing: bool = False  # a _next() is loading the next command: no second one may start
    loaded: bool = True  # False until the open commands were read after a (re)connect


class Dispatcher:
    """Per-logger command queues of one gateway."""

    def __init__(self, gateway: Gateway) -> None:
        self.gw = gateway
        self.queues: dict[int, LoggerQueue] = {}
        self.by_qn: dict[tuple[int, str], InFlight] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._known: set[int] = set()
        self._prepared: dict[int, tuple[Any, ...]] = {}

    # ------------------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._listen(), name="command-listen"),
            loop.create_task(self._sweep_loop(), name="command-sweep"),
            loop.create_task(self._timer_loop(), name="command-timers"),
        ]
        from totalcap.ingest import services

        services.add_command_listener(self._local_listener)

    async def stop(self) -> None:
        from totalcap.ingest import services

        services.remove_command_listener(self._local_listener)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _local_listener(self, command_id: int, logger_id: int, prepared: tuple[Any, ...]) -> None:
        try:
            loop = self.gw.loop
            loop.call_soon_threadsafe(self.enqueue, command_id, logger_id, prepared)
        except RuntimeError:  # pragma: no cover - loop closed during shutdown
            pass

    async def _listen(self) -> None:
        from totalcap.ingest.services import COMMAND_CHANNEL

        delay = 0.5
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self.gw.dsn, autocommit=True, application_name="totalcap-gateway-listen"
                ) as conn:
                    await conn.execute(f"LISTEN {COMMAND_CHANNEL}")
                    await conn.execute("LISTEN ingest_session")
                    delay = 0.5
                    await self.sweep()  # whatever was announced while we were not listening
                    async for note in conn.notifies():
                        if note.channel == COMMAND_CHANNEL:
                            await self._announced(note.payload)
                        else:
                            self.gw.session_claimed(note.payload)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("command listener lost its connection (%s); retrying in %.1fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def _announced(self, payload: str) -> None:
        try:
            command_id = int(payload)
        except ValueError:
            return
        row = await self.gw.django(_logger_of, command_id)
        if row is not None:
            self.enqueue(command_id, row)

    # ------------------------------------------------------------------------------ queueing

    def enqueue(self, command_id: int, logger_id: int, prepared: tuple[Any, ...] | None = None) -> None:
        """A requested command for ``logger_id``; sent now if the logger is connected here and idle.

        ``prepared`` (from an in-process ``send_command``) spares reading the command back.
        """
        if logger_id not in self.gw.sessions or not self.gw.sessions[logger_id].online:
            return
        if command_id in self._known:
            return
        self._known.add(command_id)
        if prepared is not None:
            self._prepared[command_id] = prepared
        queue = self.queues.setdefault(logger_id, LoggerQueue())
        bisect.insort(queue.pending, command_id)
        if queue.in_flight is None and not queue.preparing and queue.loaded:
            self.gw.loop.create_task(self._next(logger_id))

    def on_connect(self, logger_id: int) -> None:
        """A logger (re)connected: send what waits for it, oldest first (loaded by :meth:`load_pending`,
        which the gateway calls for all loggers bound in the last moment at once)."""
        queue = self.queues.setdefault(logger_id, LoggerQueue())
        queue.loaded = False

    def on_disconnect(self, logger_id: int) -> None:
        queue = self.queues.pop(logger_id, None)
        if queue is None:
            return
        for command_id in queue.pending:
            self._known.discard(command_id)
            self._prepared.pop(command_id, None)
        if queue.in_flight is not None:
            self.by_qn.pop((logger_id, queue.in_flight.qn), None)
            self._known.discard(queue.in_flight.command_id)

    async def load_pending(self, logger_ids: list[int]) -> None:
        """Queue the open commands of newly (re)connected loggers (one query for all of them)."""
        try:
            for command_id, lid, _state in await self.gw.django(_open_commands, logger_ids):
                self.enqueue(command_id, lid)
        finally:
            for logger_id in logger_ids:
                queue = self.queues.get(logger_id)
                if queue is not None and not queue.loaded:
                    queue.loaded = True
                    if queue.pending and queue.in_flight is None and not queue.preparing:
                        self.gw.loop.create_task(self._next(logger_id))

    async def _next(self, logger_id: int) -> None:
        queue = self.queues.get(logger_id)
        session = self.gw.sessions.get(logger_id)
        if queue is None or session is None or not session.online or queue.in_flight is not None:
            return
        if queue.preparing:
            return
        queue.preparing = True
        try:
            await self._prepare_next(logger_id, queue)
        finally:
            queue.preparing = False

    async def _prepare_next(self, logger_id: int, queue: LoggerQueue) -> None:
        while queue.pending and queue.in_flight is None:
            command_id = queue.pending.pop(0)
            prepared = self._prepared.pop(command_id, None)
            if prepared is None:
                prepared = await self.gw.django(_prepare, command_id, self.gw.config.name)
            if prepared is None:
                self._known.discard(command_id)
                continue
            name, qn, params, attempts, overtime, recount, state = prepared
            spec = BY_NAME.get(name)
            profile = self.gw.registry.by_id.get(logger_id)
            if spec is None or profile is None:
                self._known.discard(command_id)
                continue
            if state != "requested" and attempts >= recount:
                await self._finish(
                    logger_id, command_id, "timed_out", reason=f"no answer after {attempts} tries"
                )
                continue
            try:
                frame = spec.frame(profile.peer, params, qn)
                wire = build(frame, profile.profile)
            except Exception as exc:  # the registry changed since the command was accepted
                log.warning("command %s cannot be built any more: %s", command_id, exc)
                await self._finish(logger_id, command_id, "timed_out", reason=f"cannot build: {exc}")
                continue
            flight = InFlight(command_id, logger_id, spec, qn, wire, float(overtime), recount, attempts,
                              accepted=state == "accepted")  # fmt: skip
            queue.in_flight = flight
            self.by_qn[(logger_id, qn)] = flight
            if state == "accepted":
                flight.deadline = time.monotonic() + self._exec_timeout(flight)
            else:
                self._send(flight)
            return

    def _send(self, flight: InFlight) -> None:
        session = self.gw.sessions.get(flight.logger_id)
        conn = session.connection if session is not None else None
        if conn is None or conn.closed:
            return
        now = time.monotonic()
        if not conn.write_ack(flight.wire, now, flight.spec.cn):
            return
        flight.attempts += 1
        flight.sent_mono = now
        flight.deadline = now + flight.overtime
        wall = datetime.now(UTC)
        profile = session.profile if session is not None else None
        self.gw.writer.submit(
            Pending(wall, now, "o", "sent", flight.wire, profile.mn if profile else "", conn.peer, conn.id,
                    flight.logger_id, profile.outlet_id if profile else None, flight.spec.cn, flight.qn)
        )  # fmt: skip
        self.gw.metrics.inc(
            "totalcap_gateway_commands_total", action="send" if flight.attempts == 1 else "resend"
        )
        self.gw.defer_django(_record, "sent", flight.command_id, self.gw.config.name, wall, None)

    def _exec_timeout(self, flight: InFlight) -> float:
        base = max(flight.overtime * max(flight.recount, 1), flight.overtime)
        if flight.spec.history:
            return max(flight.overtime * 3, 60.0)
        return max(base, LONG_RUNNING.get(flight.spec.name, 0.0))

    async def _finish(self, logger_id: int, command_id: int, outcome: str, **info: Any) -> None:
        queue = self.queues.get(logger_id)
        if queue is not None and queue.in_flight is not None and queue.in_flight.command_id == command_id:
            self.by_qn.pop((logger_id, queue.in_flight.qn), None)
            queue.in_flight = None
        self._known.discard(command_id)
        self.gw.metrics.inc("totalcap_gateway_commands_total", action=outcome)
        self.gw.defer_django(_record, outcome, command_id, self.gw.config.name, datetime.now(UTC), info)
        if queue is not None and queue.pending and not queue.preparing:
            self.gw.loop.create_task(self._next(logger_id))

    # ------------------------------------------------------------------------------ answers

    def answers(self, logger_id: int, qn: str | None) -> bool:
        return qn is not None and (logger_id, qn) in self.by_qn

    def on_reply(self, profile: LoggerProfile, frame: Frame, cn: str) -> None:
        """9011 / 9012 / 9013 from the device."""
        try:
            message = parse_message(frame)
        except HJ212Error as exc:
            log.warning("unreadable %s from %s: %s", cn, profile.mn, exc)
            return
        qn = frame.answered_qn
        flight = self.by_qn.get((profile.id, qn or ""))
        if flight is None:
            log.info("%s from %s for unknown QN %s", cn, profile.mn, qn)
            return
        loop = self.gw.loop
        if isinstance(message, RequestAnswer):
            if message.accepted:
                flight.accepted = True
                flight.deadline = time.monotonic() + self._exec_timeout(flight)
                self.gw.metrics.inc("totalcap_gateway_commands_total", action="accept")
                self.gw.defer_django(_record, "accepted", flight.command_id, self.gw.config.name,
                                     datetime.now(UTC), {"qn_rtn": 1})  # fmt: skip
            else:
                loop.create_task(
                    self._finish(profile.id, flight.command_id, "rejected", qn_rtn=message.qn_rtn)
                )
        elif isinstance(message, ExecutionResult):
            info: dict[str, Any] = {"exe_rtn": message.exe_rtn}
            if flight.spec.history:
                info["summary"] = {"records": flight.records, "first": flight.first, "last": flight.last}
            outcome = "executed" if message.success else "failed"
            loop.create_task(self._finish(profile.id, flight.command_id, outcome, **info))
        elif cn == "9013" and flight.spec.kind == "notification":
            loop.create_task(self._finish(profile.id, flight.command_id, "executed", exe_rtn=None))

    def on_result(self, profile: LoggerProfile, frame: Frame, cn: str) -> None:
        """A "get" answer carrying the request's QN (1011, 1061, 3017, 3020 …)."""
        flight = self.by_qn.get((profile.id, frame.qn or ""))
        if flight is None:
            return
        flight.records += 1
        flight.deadline = time.monotonic() + self._exec_timeout(flight)
        items = dict(zip(frame.cp.keys, frame.cp.values, strict=True))
        self.gw.defer_django(_record, "result", flight.command_id, self.gw.config.name, datetime.now(UTC),
                             {"cn": cn, "items": items})  # fmt: skip

    def on_data(self, profile: LoggerProfile, frame: Frame, cn: str, stamp: str) -> bool:
        """A data upload: True when it answers the logger's in-flight history query (not live data)."""
        queue = self.queues.get(profile.id)
        flight = queue.in_flight if queue is not None else None
        if flight is None or cn not in flight.spec.result_cns:
            return False
        if not flight.spec.history and frame.qn != flight.qn:
            return False
        flight.records += 1
        flight.first = min(flight.first or stamp, stamp)
        flight.last = max(flight.last, stamp)
        flight.deadline = time.monotonic() + self._exec_timeout(flight)
        return True

    def time_sync(self, profile: LoggerProfile) -> None:
        """The logger asked for the time (1013): send 1012 as a recorded command."""
        self.gw.defer_django(_system_command, profile.id, "set_time", {}, None, timedelta(minutes=5))

    # ------------------------------------------------------------------------------ timers

    async def _timer_loop(self) -> None:
        while True:
            await asyncio.sleep(0.2)
            now = time.monotonic()
            # the commands in flight (by_qn), not every connected logger's queue
            for flight in list(self.by_qn.values()):
                if not flight.deadline or now < flight.deadline:
                    continue
                queue = self.queues.get(flight.logger_id)
                if queue is None or queue.in_flight is not flight:
                    continue
                if flight.accepted:
                    await self._finish(flight.logger_id, flight.command_id, "timed_out",
                                       reason=f"no 9012 within {self._exec_timeout(flight):.0f} s after 9011")  # fmt: skip
                elif flight.attempts < flight.recount:
                    self._send(flight)
                else:
                    await self._finish(flight.logger_id, flight.command_id, "timed_out",
                                       reason=f"no 9011 after {flight.attempts} tries of {flight.overtime:.0f} s")  # fmt: skip

    async def _sweep_loop(self) -> None:
        while True:
            await asyncio.sleep(self.gw.config.command_sweep_interval)
            try:
                await self.sweep()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("command sweep failed")

    async def sweep(self) -> None:
        """Expire what waited too long; (re)queue open commands of loggers connected here."""
        await self.gw.django(_expire)
        online = {lid for lid, s in self.gw.sessions.items() if s.online}
        if not online:
            return
        # all open commands (few, by the (state, expires_at) index), filtered here: a query with the
        # ids of thousands of online loggers cost more to build and bind than to answer
        for command_id, logger_id, _state in await self.gw.django(_open_commands, None):
            if logger_id in online:
                self.enqueue(command_id, logger_id)


# ---------------------------------------------------------------------------------- Django side


def _logger_of(command_id: int) -> int | None:
    from totalcap.ingest.models import Command

    return (
        Command.objects.filter(pk=command_id, state="requested").values_list("logger_id", flat=True).first()
    )


def _open_commands(logger_ids: list[int] | None) -> list[tuple[int, int, str]]:
    """Open commands (requested, sent, accepted) of these loggers, or of all loggers (None)."""
    from totalcap.ingest.models import Command

    rows = Command.objects.filter(state__in=["requested", "sent", "accepted"])
    if logger_ids is not None:
        rows = rows.filter(logger_id__in=logger_ids)
    return list(rows.order_by("pk").values_list("pk", "logger_id", "state"))


def _prepare(command_id: int, gateway: str) -> tuple[str, str, dict[str, Any], int, int, int, str] | None:
    from django.utils import timezone

    from totalcap.ingest import services
    from totalcap.ingest.models import Command

    cmd = Command.objects.filter(pk=command_id).first()
    if cmd is None or cmd.state not in ("requested", "sent", "accepted"):
        return None
    if cmd.state == "requested" and cmd.expires_at <= timezone.now():
        services.expire_commands()
        return None
    return cmd.name, cmd.qn, cmd.params, cmd.attempts, cmd.overtime_seconds, cmd.recount, cmd.state


def _record(outcome: str, command_id: int, gateway: str, at: datetime, info: dict[str, Any] | None) -> None:
    from totalcap.base.exceptions import ServiceError
    from totalcap.ingest import services

    info = info or {}
    try:
        if outcome == "sent":
            services.command_sent(command_id, gateway=gateway, at=at)
        elif outcome == "accepted":
            services.command_answered(command_id, 1, gateway=gateway, at=at)
        elif outcome == "rejected":
            services.command_answered(command_id, int(info["qn_rtn"]), gateway=gateway, at=at)
        elif outcome in ("executed", "failed"):
            summary = info.get("summary")
            if summary:
                services.command_history_summary(
                    command_id, records=int(summary["records"]), first=summary["first"], last=summary["last"]
                )
            services.command_executed(command_id, info.get("exe_rtn"), gateway=gateway, at=at)
        elif outcome == "timed_out":
            services.command_timed_out(command_id, str(info.get("reason", "timeout")), gateway=gateway, at=at)
        elif outcome == "result":
            services.command_result(command_id, str(info["cn"]), dict(info["items"]), history=False, at=at)
    except ServiceError as exc:
        log.warning("command %s: %s refused: %s", command_id, outcome, exc.message)


def _expire() -> None:
    from totalcap.ingest import services

    services.expire_commands()


def _system_command(
    logger_id: int, name: str, params: dict[str, Any], dedupe: str | None, expires: timedelta | None
) -> int | None:
    from totalcap.base.exceptions import ServiceError
    from totalcap.ingest import services
    from totalcap.registry.models import DataLogger

    logger = DataLogger.objects.filter(pk=logger_id).first()
    if logger is None:
        return None
    try:
        return services.send_command("gateway", logger, name, params, expires_in=expires, source="gateway",
                                     dedupe_key=dedupe).pk  # fmt: skip
    except ServiceError as exc:
        log.warning("cannot queue %s for %s: %s", name, logger.mn, exc.message)
        return None
