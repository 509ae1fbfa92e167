"""``totalcap run`` — the main job of ``make run``.

Migrates the database, loads the demo data (idempotent), then runs in one foreground process:
the web server (gunicorn) and the job worker — later also the HJ 212 gateway and the device
simulator. Prints the URL and the demo logins. Ctrl-C stops everything cleanly, including the
embedded PostgreSQL server when no other TotalCap process uses it.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from totalcap.base.runner import Child, Supervisor


def totalcap_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "totalcap", *args]


class Command(BaseCommand):
    help = "Run TotalCap: migrate, load demo data, start the web server and worker (Ctrl-C stops)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("TOTALCAP_HTTP_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("TOTALCAP_HTTP_PORT", "8000")))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("TOTALCAP_WEB_WORKERS", "2")))
        parser.add_argument("--no-demo", action="store_true", help="do not load the demo data")
        parser.add_argument("--no-worker", action="store_true", help="do not start the job worker")

    def extra_children(self, options: dict[str, Any]) -> list[Child]:
        """Processes added by later subsystems (gateway, simulator)."""
        from totalcap.base.processes import registered_children

        return registered_children(options)

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write("TotalCap: migrating the database …")
        call_command("migrate", interactive=False, verbosity=0)
        logins: list[tuple[str, str, str]] = []
        if not options["no_demo"]:
            from totalcap.registry.demo import load_demo

            self.stdout.write("TotalCap: loading the demo data (泰州市) …")
            logins = load_demo(quiet=True).logins
        bind = f"{options['host']}:{options['port']}"
        children = [
            Child(
                "web",
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "totalcap.wsgi:application",
                    "--bind",
                    bind,
                    "--workers",
                    str(options["workers"]),
                    "--threads",
                    "4",
                    "--worker-class",
                    "gthread",
                    "--graceful-timeout",
                    "10",
                    "--access-logfile",
                    "-",
                ],
            )
        ]
        if not options["no_worker"]:
            children.append(Child("worker", totalcap_argv("worker")))
        children.extend(self.extra_children(options))
        supervisor = Supervisor(children)
        supervisor.start()
        url = f"http://{'127.0.0.1' if options['host'] in ('0.0.0.0', '') else options['host']}:{options['port']}/"
        self.stdout.write("")
        self.stdout.write(f"TotalCap is running at {url}  (API docs: {url}api/docs/)")
        if logins:
            self.stdout.write("Demo logins (user / password / role):")
            for username, password, role in logins:
                self.stdout.write(f"  {username:<22} {password:<16} {role}")
        self.stdout.write(f"Database: {settings.DATABASES['default'].get('HOST') or 'embedded (var/pgdata)'}")
        self.stdout.write("Press Ctrl-C to stop.")
        self.stdout.flush()
        code = supervisor.wait()
        if not os.environ.get("DATABASE_URL"):
            from totalcap.base import embedded

            embedded.forget_dead_processes()  # a killed child must not keep the server running
        if code:
            raise SystemExit(code)
