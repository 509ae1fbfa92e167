"""``totalcap worker``: run the background job worker (procrastinate) with periodic jobs."""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Run the job worker: queued jobs and periodic jobs (Ctrl-C stops it cleanly)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--concurrency", type=int, default=2)
        parser.add_argument("--queues", default="", help="comma-separated queues (default: all)")

    def handle(self, *args: Any, **options: Any) -> None:
        argv = ["worker", "--concurrency", str(options["concurrency"])]
        if options["queues"]:
            argv += ["--queues", options["queues"]]
        call_command("procrastinate", *argv)
