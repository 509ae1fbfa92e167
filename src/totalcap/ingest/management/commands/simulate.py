"""``totalcap simulate``: virtual data loggers for the demo, tests and benchmarks."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from totalcap.ingest.simulator.device import MISBEHAVIOURS
from totalcap.ingest.simulator.runner import registry_specs, run_devices


class Command(BaseCommand):
    help = "Simulate HJ 212 data loggers of the registry against a gateway."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=9212)
        parser.add_argument(
            "--mn", action="append", help="simulate this logger (repeatable; default: all active)"
        )
        parser.add_argument("--speedup", type=float, default=1.0, help="simulated seconds per real second")
        parser.add_argument("--backlog-hours", type=float, default=0.0,
                            help="start this many simulated hours in the past and catch up to now")  # fmt: skip
        parser.add_argument("--misbehave", default="", help=f"comma-separated: {', '.join(MISBEHAVIOURS)}")
        parser.add_argument(
            "--drift-seconds", type=float, default=300.0, help="clock offset for --misbehave drift"
        )
        parser.add_argument("--rtd-interval", type=int, default=30, help="real-time interval (simulated s)")
        parser.add_argument(
            "--min-interval", type=int, default=10, help="minute-data interval (simulated min)"
        )
        parser.add_argument("--log", help="append-only JSON-lines log of what was sent and acknowledged")
        parser.add_argument("--duration", type=float, help="stop after this many real seconds")

    def handle(self, *args: Any, **options: Any) -> None:
        logging.getLogger("totalcap").setLevel(logging.INFO)
        switches = frozenset(s.strip() for s in options["misbehave"].split(",") if s.strip())
        unknown = switches - set(MISBEHAVIOURS)
        if unknown:
            raise CommandError(f"unknown misbehaviour(s): {', '.join(sorted(unknown))}")
        specs = registry_specs(
            options.get("mn"), switches, drift_seconds=options["drift_seconds"],
            rtd_interval=options["rtd_interval"], min_interval=options["min_interval"],
        )  # fmt: skip
        if not specs:
            raise CommandError("no active loggers to simulate (run `totalcap demo-data` first)")
        counts = asyncio.run(
            run_devices(
                specs, options["host"], options["port"], speedup=options["speedup"],
                backlog=timedelta(hours=options["backlog_hours"]), log_path=options.get("log"),
                duration=options.get("duration"),
            )
        )  # fmt: skip
        self.stdout.write(json.dumps(counts))
