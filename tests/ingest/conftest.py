"""Gateway fixtures: a gateway on the committed test database, in a thread of this process (fast,
for behaviour tests) or as a separate process (for kill -9 and restarts), and a small HJ 212 client.

The gateway needs committed data (it is another connection), so tests use ``tx_world``.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from hj212 import Peer, StreamDecoder, build, parse_frame
from hj212 import commands as c
from hj212.frame import Frame
from hj212.values import BEIJING
from totalcap.ingest.gateway.config import GatewayConfig
from totalcap.ingest.gateway.server import Gateway

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_dsn() -> str:
    from django.db import connection

    from totalcap.ingest.gateway.server import django_dsn

    connection.ensure_connection()
    return django_dsn()


class ThreadedGateway:
    """A gateway running its own event loop in a thread of the test process."""

    def __init__(self, **options: Any) -> None:
        defaults: dict[str, Any] = {
            "host": "127.0.0.1", "port": 0, "name": f"test-{os.getpid()}-{free_port()}", "metrics_port": 0,
            "session_flush_interval": 0.2, "session_soft_interval": 0.5, "command_sweep_interval": 0.5,
            "metrics_snapshot_interval": 0.5,
            "batch_max_delay": 0.001, "backfill": False, "registry_refresh": 3600,
            "unknown_refresh_interval": 0.1,
        }  # fmt: skip
        defaults.update(options)
        self.config = GatewayConfig(**defaults)
        self.gateway = Gateway(self.config, dsn=test_dsn())
        self.loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True, name="test-gateway")

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._main())
        except BaseException as exc:  # pragma: no cover - reported by start()
            self._error = exc
            self._started.set()

    async def _main(self) -> None:
        await self.gateway.start()
        self._started.set()
        await self.gateway._stop.wait()
        await self.gateway.shutdown()

    def start(self) -> ThreadedGateway:
        self.thread.start()
        self._started.wait(30)
        if self._error is not None:
            raise self._error
        return self

    @property
    def port(self) -> int:
        return self.gateway.bound_port

    def call(self, fn: Any, *args: Any) -> Any:
        """Run ``fn(*args)`` on the gateway's loop and wait for it."""

        async def run() -> Any:
            return fn(*args)

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(10)

    def stop(self) -> None:
        if self.thread.is_alive():
            self.loop.call_soon_threadsafe(self.gateway.request_stop)
            self.thread.join(60)


@pytest.fixture
def gateway(tx_world: Any) -> Iterator[ThreadedGateway]:
    gw = ThreadedGateway().start()
    yield gw
    gw.stop()


@pytest.fixture
def make_gateway(tx_world: Any) -> Iterator[Any]:
    started: list[ThreadedGateway] = []

    def make(**options: Any) -> ThreadedGateway:
        gw = ThreadedGateway(**options).start()
        started.append(gw)
        return gw

    yield make
    for gw in started:
        gw.stop()


class GatewayProcess:
    """``totalcap gateway`` as a child process on the test database (for kill -9)."""

    def __init__(self, port: int, **env: str) -> None:
        from django.db import connection

        self.port = port
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "totalcap.settings",
            "TOTALCAP_DB_NAME": connection.settings_dict["NAME"],
            "TOTALCAP_GATEWAY_BATCH_MAX_DELAY": "0.001",
            "TOTALCAP_GATEWAY_SESSION_FLUSH_INTERVAL": "0.5",
            **env,
        }
        external = os.environ.get("TOTALCAP_TEST_DATABASE_URL")
        if external:  # the suite runs on an external server: the child must use the same test database
            from urllib.parse import urlsplit, urlunsplit

            parts = urlsplit(external)
            self.env["DATABASE_URL"] = urlunsplit(parts._replace(path="/" + connection.settings_dict["NAME"]))
        self.process: subprocess.Popen[bytes] | None = None
        self.metrics_port = free_port()
        self.log = ROOT / "var" / f"test-gateway-{port}.log"

    def start(self) -> GatewayProcess:
        args = [sys.executable, "-m", "totalcap", "gateway", "--host", "127.0.0.1", "--port", str(self.port),
                "--metrics-port", str(self.metrics_port), "--name", f"proc-{self.port}", "--no-backfill"]  # fmt: skip
        self.log.parent.mkdir(exist_ok=True)
        with self.log.open("ab") as log:  # the child keeps its own copy of the descriptor
            self.process = subprocess.Popen(args, env=self.env, cwd=ROOT, stdout=log, stderr=log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError(self.log.read_text(errors="replace")[-3000:]) from None
                time.sleep(0.1)
        raise RuntimeError("gateway process did not start")

    def metrics(self) -> str:
        import urllib.request

        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5) as response:
            return str(response.read().decode())

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def terminate(self) -> int:
        assert self.process is not None
        self.process.terminate()
        return self.process.wait(60)


class Device:
    """A minimal synchronous HJ 212 client for tests."""

    def __init__(self, port: int, mn: str, pw: str = "123456", st: str = "32") -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.decoder = StreamDecoder()
        self.peer = Peer(mn=mn, pw=pw, st=st)
        self.inbox: list[Frame] = []

    def send(self, data: bytes | Frame) -> None:
        self.sock.sendall(build(data) if isinstance(data, Frame) else data)

    def realtime(self, values: dict[str, str], at: datetime | None = None, **kw: Any) -> Frame:
        at = at or datetime.now(BEIJING).replace(microsecond=0)
        frame = c.upload_data(
            self.peer, 2011, at, {code: {"Rtd": v, "Flag": "N"} for code, v in values.items()}, **kw
        )
        self.send(frame)
        return frame

    def receive(self, timeout: float = 5.0) -> Frame | None:
        """The next frame from the gateway (None on timeout)."""
        if self.inbox:
            return self.inbox.pop(0)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                return None
            if not data:
                return None
            for event in self.decoder.feed(data):
                if hasattr(event, "frame") and event.frame is not None and hasattr(event, "raw"):
                    self.inbox.append(event.frame)
            if self.inbox:
                return self.inbox.pop(0)
        return None

    def close(self) -> None:
        self.sock.close()


def wait_for(predicate: Any, timeout: float = 10.0, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


def now_utc() -> datetime:
    return datetime.now(UTC)


__all__ = ["Device", "GatewayProcess", "ThreadedGateway", "free_port", "parse_frame", "wait_for"]
