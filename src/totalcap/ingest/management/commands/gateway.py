"""``totalcap gateway``: run the HJ 212 gateway (see docs/gateway.md)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from totalcap.ingest.gateway.config import GatewayConfig, loop_factory
from totalcap.ingest.gateway.server import Gateway


class Command(BaseCommand):
    help = "Run the HJ 212 gateway: a TCP server for data loggers (default port 9212)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", help="listen address (default 0.0.0.0)")
        parser.add_argument("--port", type=int, help="listen port (default 9212)")
        parser.add_argument("--name", help="gateway name, unique behind a load balancer (default host-port)")
        parser.add_argument(
            "--metrics-port", type=int, help="HTTP port for GET /metrics (0: none; default 9213)"
        )
        parser.add_argument("--metrics-host", help="address of the metrics endpoint (default 127.0.0.1)")
        parser.add_argument("--max-connections", type=int)
        parser.add_argument("--idle-timeout", type=float)
        parser.add_argument("--rate-limit", type=float, help="frames per second per connection")
        parser.add_argument(
            "--no-backfill", action="store_true", help="do not request missing minute/hour data"
        )
        parser.add_argument("--dsn", help="psycopg conninfo (default: Django's database)")
        parser.add_argument("--wait-for-port", action="store_true", help="retry while the port is taken")
        parser.add_argument(
            "--event-loop", choices=("uvloop", "asyncio"), help="event loop implementation (default uvloop)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        logging.getLogger("totalcap").setLevel(logging.INFO)
        try:
            config = GatewayConfig.from_env(
                host=options.get("host"),
                port=options.get("port"),
                name=options.get("name"),
                metrics_port=options.get("metrics_port"),
                metrics_host=options.get("metrics_host"),
                max_connections=options.get("max_connections"),
                idle_timeout=options.get("idle_timeout"),
                rate_limit=options.get("rate_limit"),
                backfill=False if options.get("no_backfill") else None,
                wait_for_port=True if options.get("wait_for_port") else None,
                event_loop=options.get("event_loop"),
            )
        except ValueError as exc:  # a TOTALCAP_GATEWAY_* value of the wrong type or choice
            raise CommandError(f"gateway settings: {exc}") from exc
        gateway = Gateway(config, dsn=options.get("dsn"))
        with asyncio.Runner(loop_factory=loop_factory(config.event_loop)) as runner:
            runner.run(gateway.run())
