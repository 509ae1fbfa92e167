"""Gap back-fill: after a gap in a logger's live minute or hour data, ask it for the missing range
(2051 / 2061 with BeginTime / EndTime) — at most one request per logger per
``backfill_logger_interval`` and ``backfill_global_rate`` requests per second over all loggers,
so a city-wide network outage does not turn into a request storm.

A gap is seen (a) between two live uploads further apart than the smallest step seen so far, and
(b) when a logger's first live upload after (re)connecting is far from the newest value already
stored. The requests are ordinary commands (``get_minute_data`` / ``get_hour_data``, source
``gateway``) with a de-duplication key per window, so several gateways never ask twice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from hj212.values import BEIJING, format_datetime

if TYPE_CHECKING:
    from totalcap.ingest.gateway.server import Gateway
    from totalcap.ingest.gateway.session import LiveSession

log = logging.getLogger("totalcap.ingest.backfill")

COMMAND_OF_KIND = {"m": "get_minute_data", "h": "get_hour_data"}
WINDOW = {"m": timedelta(hours=24), "h": timedelta(days=7)}


class Backfill:
    """Gap detection per logger and the rate-limited request queue."""

    def __init__(self, gateway: Gateway) -> None:
        self.gw = gateway
        self.queue: deque[tuple[int, str, datetime, datetime]] = deque()
        self.queued: set[tuple[int, str, datetime, datetime]] = set()
        self.last_request: dict[int, float] = {}
        self._task: asyncio.Task[None] | None = None

    def default_step(self, kind: str) -> timedelta:
        return timedelta(minutes=self.gw.config.init_min_interval) if kind == "m" else timedelta(hours=1)

    def observe(self, session: LiveSession, kind: str, data_time: datetime, wall: datetime) -> None:
        """A live (not requested) minute or hour upload arrived."""
        previous = session.last_data.get(kind)
        if previous is None:
            session.last_data[kind] = data_time
            self.gw.loop.create_task(self._seed(session, kind, data_time))
            return
        if data_time <= previous:
            return
        session.last_data[kind] = data_time
        step = data_time - previous
        known = session.step.get(kind)
        session.step[kind] = step if known is None else min(known, step)
        expected = session.step[kind]
        if known is not None and step >= 2 * expected:
            self.request(session.profile.id, kind, previous + expected, data_time - expected, wall)

    async def _seed(self, session: LiveSession, kind: str, data_time: datetime) -> None:
        horizon = data_time - timedelta(hours=self.gw.config.backfill_max_age_hours)
        try:
            last = await self.gw.django(_last_stored, session.profile.id, kind, data_time, horizon)
        except Exception:  # pragma: no cover - database trouble; the next gap will be seen live
            log.exception("cannot read the last stored %s data of logger %s", kind, session.profile.id)
            return
        if last is None:
            return
        step = self.default_step(kind)
        if data_time - last >= 2 * step:
            self.request(session.profile.id, kind, last + step, data_time - step, data_time)

    def request(self, logger_id: int, kind: str, begin: datetime, end: datetime, now: datetime) -> None:
        """Queue requests for [begin, end] (split into windows; older than the age limit dropped)."""
        oldest = now - timedelta(hours=self.gw.config.backfill_max_age_hours)
        begin = max(begin, oldest)
        while begin <= end:
            stop = min(end, begin + WINDOW[kind])
            key = (logger_id, kind, begin, stop)
            if key not in self.queued and len(self.queue) < 100_000:
                self.queued.add(key)
                self.queue.append(key)
            begin = stop + timedelta(seconds=1)

    async def run(self) -> None:
        config = self.gw.config
        interval = 1.0 / max(config.backfill_global_rate, 0.01)
        while True:
            await asyncio.sleep(interval)
            now = time.monotonic()
            for _ in range(len(self.queue)):
                logger_id, kind, begin, end = key = self.queue.popleft()
                session = self.gw.sessions.get(logger_id)
                if session is None or not session.online:
                    self.queued.discard(key)
                    continue
                if now - self.last_request.get(logger_id, -1e9) < config.backfill_logger_interval:
                    self.queue.append(key)
                    continue
                self.queued.discard(key)
                self.last_request[logger_id] = now
                params = {
                    "begin": format_datetime(begin.astimezone(BEIJING)),
                    "end": format_datetime(end.astimezone(BEIJING)),
                }
                dedupe = f"backfill:{logger_id}:{kind}:{params['begin']}:{params['end']}"
                self.gw.metrics.inc(
                    "totalcap_gateway_backfill_requests_total", cn="2051" if kind == "m" else "2061"
                )
                log.info(
                    "gap back-fill for logger %s: %s %s..%s", logger_id, kind, params["begin"], params["end"]
                )
                from totalcap.ingest.gateway.dispatcher import _system_command

                self.gw.defer_django(
                    _system_command, logger_id, COMMAND_OF_KIND[kind], params, dedupe, timedelta(hours=1)
                )
                break


def _last_stored(logger_id: int, kind: str, before: datetime, after: datetime) -> datetime | None:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "SELECT max(data_time) FROM monitoring_sample WHERE logger_id = %s AND kind = %s "
            "AND data_time < %s AND data_time >= %s",
            [logger_id, kind, before, after],
        )
        row = cur.fetchone()
    return row[0] if row else None
