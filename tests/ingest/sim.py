"""Run the simulator in a thread of the test process and read its append-only log."""

from __future__ import annotations

import asyncio
import json
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

from totalcap.ingest.simulator.device import DeviceSpec
from totalcap.ingest.simulator.runner import run_devices


class SimThread:
    def __init__(self, specs: list[DeviceSpec], port: int, log_path: Path, **options: Any) -> None:
        self.specs = specs
        self.port = port
        self.log_path = log_path
        self.options = options
        self.loop = asyncio.new_event_loop()
        self.stop_event: asyncio.Event | None = None
        self.result: dict[str, int] = {}
        self.devices: list[Any] = []
        self.thread = threading.Thread(target=self._run, daemon=True, name="test-simulator")

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)

        async def main() -> None:
            self.stop_event = asyncio.Event()
            self.result = await run_devices(
                self.specs, "127.0.0.1", self.port, log_path=str(self.log_path), install_signals=False,
                stop=self.stop_event, devices=self.devices, **self.options,
            )  # fmt: skip

        self.loop.run_until_complete(main())

    def start(self) -> SimThread:
        self.thread.start()
        return self

    def stop(self) -> dict[str, int]:
        while self.stop_event is None and self.thread.is_alive():
            self.thread.join(0.05)
        if self.stop_event is not None:
            self.loop.call_soon_threadsafe(self.stop_event.set)
        self.thread.join(30)
        return self.result


def read_log(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def acked_values(path: Path) -> dict[tuple[str, str, str, str], str]:
    """(mn, cn, data_time, pollutant) → value of every data record the simulator saw acknowledged."""
    out: dict[tuple[str, str, str, str], str] = {}
    for entry in read_log(path):
        if entry["event"] != "acked" or "items" not in entry or entry.get("packets", 1) != 1:
            continue
        for code, fields in entry["items"].items():
            value = fields.get("Rtd", fields.get("Avg"))
            out[(entry["mn"], entry["cn"], entry["data_time"], code)] = value
    return out


BACKLOG = timedelta(hours=3)
