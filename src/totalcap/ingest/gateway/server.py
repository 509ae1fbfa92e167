"""The gateway process: the TCP listener, its connections and sessions, the group-commit writer, the
command dispatcher, back-fill, housekeeping, metrics and the graceful shutdown.

Django is set up in this process (it is a management command) but the asyncio loop never touches
the ORM: every ORM call runs in one worker thread (:meth:`Gateway.django`), in submission order,
so the transitions of a command are recorded in the order they happened. The hot path (frames,
samples, acks) uses its own async psycopg connection in the writer.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import json
import logging
import os
import signal
import socket
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, TypeVar

from totalcap.ingest import hooks
from totalcap.ingest.gateway.backfill import Backfill
from totalcap.ingest.gateway.config import GatewayConfig
from totalcap.ingest.gateway.dispatcher import Dispatcher
from totalcap.ingest.gateway.metrics import Metrics, serve
from totalcap.ingest.gateway.registry import LoggerProfile, RegistryCache, load_profiles
from totalcap.ingest.gateway.rows import c_kernels
from totalcap.ingest.gateway.session import Connection, LiveSession

log = logging.getLogger("totalcap.ingest.gateway")

T = TypeVar("T")
SESSION_CHANNEL = "ingest_session"


def django_dsn() -> str:
    """The psycopg conninfo of Django's default database (the embedded server's socket by default)."""
    from django.db import connection
    from psycopg.conninfo import make_conninfo

    params = connection.get_connection_params()
    keep = {"host", "port", "user", "password", "dbname", "sslmode", "sslrootcert", "sslcert", "sslkey"}
    clean = {k: v for k, v in params.items() if k in keep and v not in (None, "")}
    return make_conninfo(**clean)


class Gateway:
    """One gateway process (see the module docstring)."""

    def __init__(self, config: GatewayConfig, dsn: str | None = None) -> None:
        from totalcap.ingest.gateway.writer import GroupWriter

        self.config = config
        self.dsn = dsn or django_dsn()
        self.metrics = Metrics()
        self.registry = RegistryCache(config.unknown_refresh_interval)
        self.writer = GroupWriter(config, self.metrics, self.dsn, on_pressure=self._pressure)
        self.dispatcher = Dispatcher(self)
        self.backfill = Backfill(self)
        self.connections: set[Connection] = set()
        self.sessions: dict[int, LiveSession] = {}
        self.reading_paused = False
        self.started_at = datetime.now(UTC)
        self.bound_port = config.port
        self._ids = itertools.count(int(time.time() * 1000) % 10**12 * 1000)
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="gateway-django")
        self._server: asyncio.Server | None = None
        self._metrics_server: asyncio.Server | None = None
        self._tasks: list[asyncio.Task[Any]] = []
        self._stop = asyncio.Event()
        self._reload_task: asyncio.Task[None] | None = None
        self._deferred: set[asyncio.Future[Any]] = set()
        self._unbound_tokens = config.unbound_store_rate
        self._new_bindings: list[tuple[int, int, int]] = []  # logger, connection, bound at (epoch ms)
        self._unbound_at = time.monotonic()
        self._unknown_logged = 0.0
        self.loop: asyncio.AbstractEventLoop
        self.metrics.gauge("totalcap_gateway_connections", lambda: float(len(self.connections)))
        self.metrics.gauge(
            "totalcap_gateway_loggers_online",
            lambda: float(sum(1 for s in self.sessions.values() if s.online)),
        )
        self.metrics.gauge("totalcap_gateway_reading_paused", lambda: 1.0 if self.reading_paused else 0.0)

    # ------------------------------------------------------------------------------ Django thread

    async def django(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` in the Django thread (ORM calls), retrying once on a lost connection."""
        return await self.loop.run_in_executor(self._executor, _with_connection, fn, args)

    def defer_django(self, fn: Callable[..., Any], *args: Any) -> None:
        """Like :meth:`django` without waiting; failures are logged. Calls run in submission order."""
        future = self.loop.run_in_executor(self._executor, _with_connection, fn, args)
        self._deferred.add(future)
        future.add_done_callback(self._deferred_done)

    def _deferred_done(self, future: asyncio.Future[Any]) -> None:
        self._deferred.discard(future)
        if not future.cancelled() and future.exception() is not None:
            log.error("background database call failed", exc_info=future.exception())

    # ------------------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        await self.django(hooks.warm_up)  # the hooks' lazy imports, before the objects are frozen
        # Long-lived objects (Django, the codec's tables) leave the collector's view, and young
        # collections run less often: fewer pauses of the event loop under load.
        gc.collect()
        gc.freeze()
        gc.set_threshold(50_000, 20, 100)
        self.registry.apply(await self.django(load_profiles))
        await self.writer.start()
        await self.django(_reset_sessions, self.config.name)
        while True:
            try:
                self._server = await self.loop.create_server(
                    lambda: Connection(self),
                    self.config.host,
                    self.config.port,
                    backlog=self.config.accept_backlog,
                    reuse_address=True,
                )
                break
            except OSError as exc:
                if not self.config.wait_for_port:
                    raise
                log.error(
                    "cannot listen on %s:%s (%s); retrying in 10 s", self.config.host, self.config.port, exc
                )
                await asyncio.sleep(10)
        sock = self._server.sockets[0] if self._server.sockets else None
        if sock is not None:
            self.bound_port = sock.getsockname()[1]
        await self.dispatcher.start()
        self._tasks = [
            self.loop.create_task(self._housekeeping(), name="housekeeping"),
            self.loop.create_task(self._flush_sessions_loop(), name="sessions"),
            self.loop.create_task(self._snapshot_loop(), name="metrics-snapshot"),
            self.loop.create_task(self._registry_loop(), name="registry"),
            self.loop.create_task(self._bindings_loop(), name="bindings"),
        ]
        if self.config.backfill:
            self._tasks.append(self.loop.create_task(self.backfill.run(), name="backfill"))
        if self.config.metrics_port:
            try:
                self._metrics_server = await serve(
                    self.metrics,
                    self.config.metrics_host,
                    self.config.metrics_port,
                    {"gateway": self.config.name},
                )
            except OSError as exc:
                log.warning("metrics port %s unavailable: %s", self.config.metrics_port, exc)
        log.info(
            "gateway %s listening on %s:%s (metrics :%s)",
            self.config.name, self.config.host, self.bound_port, self.config.metrics_port or "-",
        )  # fmt: skip
        kernels = c_kernels()
        self.metrics.gauge("totalcap_gateway_c_kernels", float(sum(kernels.values())))
        missing = [name for name, built in kernels.items() if not built]
        if missing:
            log.warning("C kernels not built (%s): the pure-Python hot path runs, slower", ", ".join(missing))

    async def run(self, *, install_signals: bool = True) -> None:
        """Start, serve until SIGTERM / SIGINT (or :meth:`request_stop`), then shut down gracefully."""
        await self.start()
        if install_signals:
            for sig in (signal.SIGTERM, signal.SIGINT):
                self.loop.add_signal_handler(sig, self.request_stop)
        await self._stop.wait()
        await self.shutdown()

    def request_stop(self) -> None:
        self._stop.set()

    async def shutdown(self) -> None:
        """Stop accepting, take in what was received, commit and ack it, then close everything."""
        log.info("gateway %s stopping", self.config.name)
        if self._server is not None:
            self._server.close()
        for conn in list(self.connections):
            conn.pause("shutdown")
            events = conn.decoder.flush()
            if events:
                conn.handle_events(events, time.monotonic())
        if not await self.writer.drain(self.config.shutdown_grace):
            log.error("shutdown: %s frames could not be committed in time (not acked)", self.writer.queued)
        for conn in list(self.connections):
            conn.close("shutdown")
        await self.dispatcher.stop()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.writer.stop()
        if self._deferred:
            await asyncio.wait(set(self._deferred), timeout=self.config.shutdown_grace)
        for session in self.sessions.values():
            if session.connection is not None:
                session.connection = None
                session.disconnected_at = datetime.now(UTC)
                session.urgent = True
        await self.django(_flush_sessions, self.config.name, self._session_rows(all_rows=True))
        await self.django(_snapshot, self.config.name, self.started_at, self.metrics.snapshot(), False)
        if self._metrics_server is not None:
            self._metrics_server.close()
        await self.django(_close_database)
        self._executor.shutdown(wait=True)
        log.info("gateway %s stopped", self.config.name)

    # ------------------------------------------------------------------------------ connections

    def next_connection_id(self) -> int:
        return next(self._ids)

    def accept(self, conn: Connection) -> bool:
        if len(self.connections) >= self.config.max_connections:
            self.metrics.inc("totalcap_gateway_connections_refused_total")
            return False
        self.connections.add(conn)
        self.metrics.inc("totalcap_gateway_connections_total")
        return True

    def forget(self, conn: Connection) -> None:
        if conn not in self.connections:
            return
        self.connections.discard(conn)
        now = datetime.now(UTC)
        for logger_id in conn.loggers:
            session = self.sessions.get(logger_id)
            if session is not None and session.connection is conn:
                session.connection = None
                session.disconnected_at = now
                session.urgent = True
                self.dispatcher.on_disconnect(logger_id)

    def bind(self, conn: Connection, profile: LoggerProfile, wall: datetime) -> None:
        session = self.sessions.get(profile.id)
        if session is None:
            session = self.sessions[profile.id] = LiveSession(profile)
        session.profile = profile
        old = session.connection
        if old is not None and old is not conn and not old.closed:
            old.loggers.pop(profile.id, None)
            session.connection = None
            self.dispatcher.on_disconnect(profile.id)
            if not old.loggers:
                old.close("taken_over")
        session.connection = conn
        session.connected_at = wall
        session.disconnected_at = None
        session.frames = 0
        session.bad_frames = 0
        session.urgent = True
        log.info("logger %s bound to connection %s from %s", profile.mn, conn.id, conn.peer)
        self._new_bindings.append((profile.id, conn.id, _epoch_ms(wall)))
        if profile.init_on_connect and session.initialised_connection != conn.id:
            session.initialised_connection = conn.id
            session.initialised_at = wall
            self.defer_django(
                _initialise, profile.id, self.config.init_rtd_interval, self.config.init_min_interval
            )
        self.dispatcher.on_connect(profile.id)

    def session_claimed(self, payload: str) -> None:
        """Other gateways bound loggers: drop our (stale) connections of them — unless ours was bound
        after theirs (the claim of an older binding can arrive late; the newest binding wins, and the
        other gateway drops its connection when our claim reaches it)."""
        try:
            data = json.loads(payload)
        except ValueError:
            return
        if data.get("gateway") == self.config.name:
            return
        loggers = data.get("loggers", [])
        bound_ms = data.get("bound_ms") or [None] * len(loggers)
        for logger_id, their_ms in zip(loggers, bound_ms, strict=False):
            session = self.sessions.get(int(logger_id))
            if session is None or session.connection is None:
                continue
            if (
                their_ms is not None
                and session.connected_at is not None
                and _epoch_ms(session.connected_at) > their_ms
            ):
                continue
            conn = session.connection
            conn.loggers.pop(session.profile.id, None)
            session.connection = None
            session.dirty = session.urgent = False  # the other gateway owns the row now
            self.dispatcher.on_disconnect(session.profile.id)
            if not conn.loggers:
                conn.close("taken_over")

    def allow_unbound(self) -> bool:
        """Token bucket for storing frames of connections that never identified a logger (scanners,
        attackers): beyond ``unbound_store_rate`` they are only counted, so junk cannot crowd the
        loggers' data out of the commit pipeline."""
        now = time.monotonic()
        rate = self.config.unbound_store_rate
        self._unbound_tokens = min(rate, self._unbound_tokens + (now - self._unbound_at) * rate)
        self._unbound_at = now
        if self._unbound_tokens >= 1.0:
            self._unbound_tokens -= 1.0
            return True
        self.metrics.inc("totalcap_gateway_unbound_dropped_total")
        return False

    def unknown_mn(self, mn: str, peer: str) -> None:
        now = time.monotonic()
        if now - self._unknown_logged >= 1.0:  # at most one line per second (counted in metrics)
            self._unknown_logged = now
            log.warning("frame with unknown MN %r from %s", mn[:40], peer)
        if self.registry.may_reload_for_unknown() and (self._reload_task is None or self._reload_task.done()):
            self._reload_task = self.loop.create_task(self._reload())

    async def _reload(self) -> None:
        try:
            self.registry.apply(await self.django(load_profiles, self.registry.fingerprints))
        except Exception:
            log.exception("registry reload failed")

    def valve_reporter(
        self,
        logger_id: int,
        valve_id: int,
        state: int | None,
        at: datetime,
        received_at: datetime,
        *,
        live: bool,
    ) -> Callable[[int], None]:
        """The post-commit action of a valve report (``live``: a 3020, the state now)."""

        def report(frame_id: int) -> None:
            from totalcap.ingest.services import report_valve_state

            self.defer_django(
                lambda: report_valve_state(
                    logger_id, valve_id, state, at=at, received_at=received_at, frame_id=frame_id, live=live
                )
            )

        return report

    def _pressure(self, paused: bool) -> None:
        self.reading_paused = paused
        log.warning(
            "back-pressure: %s reading (%s frames queued)",
            "pausing" if paused else "resuming",
            self.writer.queued,
        )
        for conn in list(self.connections):
            if paused:
                conn.pause("pressure")
            else:
                conn.resume("pressure")

    # ------------------------------------------------------------------------------ periodic

    async def _housekeeping(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            now = time.monotonic()
            for conn in list(self.connections):
                if not conn.closed:
                    conn.flush_idle(now)

    async def _bindings_loop(self) -> None:
        """Every 100 ms: announce the loggers bound meanwhile to the other gateways and queue their
        open commands — one round trip for a whole reconnect storm instead of two per logger."""
        while True:
            await asyncio.sleep(0.1)
            if not self._new_bindings:
                continue
            bindings, self._new_bindings = self._new_bindings, []
            try:
                await self.django(_claim, bindings, self.config.name)
            except Exception:
                log.exception("bindings not announced")
            await self.dispatcher.load_pending([logger_id for logger_id, _conn, _at in bindings])

    async def _registry_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.registry_refresh)
            await self._reload()

    def _session_rows(self, all_rows: bool = False) -> list[tuple[Any, ...]]:
        """Rows of the sessions to write: changed ones (connect, disconnect, error) at once, those that
        only saw frames every ``session_soft_interval`` — the cost follows changes, not traffic."""
        rows = []
        now = time.monotonic()
        soft = self.config.session_soft_interval
        for session in self.sessions.values():
            if not (all_rows or session.urgent or (session.dirty and now - session.flushed_at >= soft)):
                continue
            session.dirty = session.urgent = False
            session.flushed_at = now
            conn = session.connection
            rows.append(
                (
                    session.profile.id, session.online, self.config.name, conn.id if conn else None,
                    conn.peer if conn else "", session.connected_at, session.disconnected_at, session.last_frame_at,
                    session.last_cn, session.frames, session.bad_frames, session.last_error, session.last_error_at,
                    session.drift, session.restart_time, session.protocol_seen, session.initialised_at,
                )
            )  # fmt: skip
        return rows

    async def _flush_sessions_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.session_flush_interval)
            rows = self._session_rows()
            if rows:
                try:
                    await self.django(_flush_sessions, self.config.name, rows)
                except Exception:
                    log.exception("session state not written")
                    for session in self.sessions.values():
                        session.urgent = True

    async def _snapshot_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.metrics_snapshot_interval)
            try:
                await self.django(_snapshot, self.config.name, self.started_at, self.metrics.snapshot(), True)
            except Exception:
                log.warning("metrics snapshot not written", exc_info=True)


# ---------------------------------------------------------------------------------- Django side


def _with_connection(fn: Callable[..., T], args: tuple[Any, ...]) -> T:
    from django.db import InterfaceError, OperationalError, close_old_connections, connection

    close_old_connections()
    try:
        return fn(*args)
    except (OperationalError, InterfaceError):
        connection.close()
        return fn(*args)


def _close_database() -> None:
    from django.db import connections

    connections.close_all()


def _reset_sessions(gateway: str) -> None:
    """A (re)started gateway holds no connection: its previous sessions are offline."""
    from django.utils import timezone

    from totalcap.ingest.models import LoggerSession

    LoggerSession.objects.filter(gateway=gateway, online=True).update(
        online=False, disconnected_at=timezone.now()
    )


def _epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _claim(bindings: list[tuple[int, int, int]], gateway: str) -> None:
    """``NOTIFY ingest_session`` for newly bound loggers, with when each was bound (chunks of 200 fit
    the 8000-byte payload)."""
    from django.db import connection

    with connection.cursor() as cur:
        for i in range(0, len(bindings), 200):
            chunk = bindings[i : i + 200]
            payload = {"gateway": gateway, "loggers": [lid for lid, _c, _at in chunk],
                       "bound_ms": [at for _lid, _c, at in chunk]}  # fmt: skip
            cur.execute(
                "SELECT pg_notify(%s, %s)", [SESSION_CHANNEL, json.dumps(payload, separators=(",", ":"))]
            )


def _initialise(logger_id: int, rtd: int, minutes: int) -> None:
    """HJ 212 §6.7 first-connection initialisation, as recorded commands."""
    from datetime import timedelta

    from totalcap.ingest.gateway.dispatcher import _system_command
    from totalcap.registry.models import DataLogger

    logger = DataLogger.objects.filter(pk=logger_id).first()
    if logger is None:
        return
    for name, params in (
        ("set_time", {}),
        ("set_timeout", {"overtime": logger.overtime_seconds, "recount": logger.recount}),
        ("set_rtd_interval", {"seconds": rtd}),
        ("set_min_interval", {"minutes": minutes}),
        ("start_realtime", {}),
    ):
        _system_command(logger_id, name, params, None, timedelta(minutes=30))


_SESSION_TYPES = (
    "bigint", "boolean", "text", "bigint", "text", "timestamptz", "timestamptz", "timestamptz", "text", "bigint",
    "bigint", "text", "timestamptz", "float8", "timestamptz", "text", "timestamptz",
)  # fmt: skip
_SESSION_COLUMNS = (
    "logger_id, online, gateway, connection_id, peer, connected_at, disconnected_at, last_frame_at, last_cn, frames, "
    "bad_frames, last_error, last_error_at, clock_drift_seconds, restart_time, protocol_seen, initialised_at"
)
#: One statement for all sessions of a flush (arrays unnested): thousands of loggers cost one round trip.
_UPSERT_SESSIONS = f"""
INSERT INTO ingest_loggersession ({_SESSION_COLUMNS}, updated_at)
SELECT v.*, now() FROM unnest({", ".join(f"%s::{t}[]" for t in _SESSION_TYPES)}) AS v({_SESSION_COLUMNS})
WHERE EXISTS (SELECT 1 FROM registry_datalogger d WHERE d.id = v.logger_id)
ON CONFLICT (logger_id) DO UPDATE SET online = EXCLUDED.online, gateway = EXCLUDED.gateway,
    connection_id = EXCLUDED.connection_id, peer = EXCLUDED.peer, connected_at = EXCLUDED.connected_at,
    disconnected_at = EXCLUDED.disconnected_at, last_frame_at = EXCLUDED.last_frame_at, last_cn = EXCLUDED.last_cn,
    frames = EXCLUDED.frames, bad_frames = EXCLUDED.bad_frames, last_error = EXCLUDED.last_error,
    last_error_at = EXCLUDED.last_error_at, clock_drift_seconds = EXCLUDED.clock_drift_seconds,
    restart_time = COALESCE(EXCLUDED.restart_time, ingest_loggersession.restart_time),
    protocol_seen = EXCLUDED.protocol_seen,
    initialised_at = COALESCE(EXCLUDED.initialised_at, ingest_loggersession.initialised_at), updated_at = now()
WHERE ingest_loggersession.gateway = EXCLUDED.gateway OR EXCLUDED.online OR NOT ingest_loggersession.online
"""


def _flush_sessions(gateway: str, rows: list[tuple[Any, ...]]) -> None:
    from django.db import connection, transaction

    if not rows:
        return
    columns = [list(column) for column in zip(*rows, strict=True)]
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(_UPSERT_SESSIONS, columns)


def _snapshot(name: str, started_at: datetime, metrics: dict[str, Any], running: bool) -> None:
    from totalcap.ingest.models import GatewayStatus

    metrics = {**metrics, "running": running}
    GatewayStatus.objects.update_or_create(
        name=name,
        defaults={
            "host": socket.gethostname()[:128],
            "pid": os.getpid(),
            "started_at": started_at,
            "updated_at": datetime.now(UTC),
            "metrics": metrics,
        },
    )
