"""Gateway settings: command-line options of ``totalcap gateway`` and ``TOTALCAP_GATEWAY_*``
environment variables (see ``docs/gateway.md``)."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass

EVENT_LOOPS = ("uvloop", "asyncio")


def loop_factory(name: str) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """The event loop factory for ``asyncio.Runner``: uvloop's when asked for and installed."""
    if name == "uvloop":
        try:
            import uvloop
        except ImportError:  # pragma: no cover - a platform without uvloop (Windows)
            return None
        return uvloop.new_event_loop
    return None


@dataclass
class GatewayConfig:
    """Every knob of one gateway process (defaults suit a provincial platform's gateway)."""

    host: str = "0.0.0.0"
    port: int = 9212
    name: str = ""  # unique per process behind a load balancer; default host-port
    dsn: str = ""  # psycopg conninfo; default: Django's database
    # limits
    max_connections: int = 10000
    accept_backlog: int = 4096  # listen backlog (a reconnect storm must not hit SYN retries)
    max_frame: int = 16 * 1024  # bytes; HJ 212 allows 1024 data bytes, field frames reach 1.6 KiB
    idle_timeout: float = 600.0  # s without a complete frame → close
    partial_timeout: float = 60.0  # s a partial frame may stay incomplete → close (slowloris)
    flush_after: float = 1.0  # s of silence before a frame without CRLF is taken as complete
    bad_frame_limit: int = 10  # bad frames in a row (unknown MN, wrong PW, bad CRC, garbage) → close
    rate_limit: float = 50.0  # frames per second per connection (sustained)
    rate_burst: float = 500.0  # frames a connection may send at once
    unbound_store_rate: float = 200.0  # bad frames/s from connections without a logger that are stored
    # group commit
    batch_max_frames: int = 2000
    batch_max_delay: float = 0.005  # s: how long the first frame of a batch may wait for others
    queue_max_frames: int = 50000  # frames waiting for commit before reading pauses (back-pressure)
    writer_connections: int = 2  # batches committed concurrently (PostgreSQL works on several cores)
    store_acks: bool = False  # store the 9014/9013 acks of uploads as raw frames (direction out) too
    # sessions and registry
    registry_refresh: float = 60.0  # s between full reloads of the logger registry
    unknown_refresh_interval: float = 5.0  # s: at most one reload per this interval on unknown MNs
    session_flush_interval: float = 2.0  # s between writes of the live session table (changes)
    session_soft_interval: float = 15.0  # s between writes of a session that only saw more frames
    # initialisation on first connection (loggers with init_on_connect)
    init_rtd_interval: int = 30
    init_min_interval: int = 10
    # gap back-fill
    backfill: bool = True
    backfill_global_rate: float = 2.0  # history requests per second, all loggers
    backfill_logger_interval: float = 300.0  # s between history requests to one logger
    backfill_max_age_hours: float = 72.0  # older gaps are left alone
    # commands
    command_sweep_interval: float = 5.0
    # metrics
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 9213  # 0: no HTTP endpoint (snapshots still go to the database)
    metrics_snapshot_interval: float = 5.0
    shutdown_grace: float = 10.0
    event_loop: str = "uvloop"  # uvloop (libuv: a sixth less gateway CPU at 1,000 frames/s) or asyncio
    wait_for_port: bool = False  # keep retrying when the port is taken (make run) instead of exiting

    def __post_init__(self) -> None:
        if self.event_loop not in EVENT_LOOPS:
            raise ValueError(f"event_loop must be one of {', '.join(EVENT_LOOPS)}, not {self.event_loop!r}")
        if not self.name:
            self.name = f"{socket.gethostname()}-{self.port}"[:64]

    @classmethod
    def from_env(cls, **overrides: object) -> GatewayConfig:
        """Defaults, then ``TOTALCAP_GATEWAY_<FIELD>`` variables, then ``overrides`` (not None)."""
        values: dict[str, object] = {}
        for f in dataclasses.fields(cls):
            raw = os.environ.get(f"TOTALCAP_GATEWAY_{f.name.upper()}")
            if raw is None:
                continue
            kind = type(f.default)
            values[f.name] = raw.strip().lower() in {"1", "true", "yes", "on"} if kind is bool else kind(raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]
