"""``totalcap permits …``: operations of the permits app.

* ``demo`` — issue demo permits for the demo enterprises that have none (after ``totalcap demo-data``);
* ``daily`` — run the daily job now (expire, schedule execution reports, reminders);
* ``load-rules`` — load ``permits/data/execution_reports.json`` into the report rules (updates rows).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Permits operations: 'demo' issues demo permits, 'daily' runs the daily job, 'load-rules' loads report rules."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["demo", "daily", "load-rules", "load_rules"])

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"].replace("_", "-")
        if action == "demo":
            from totalcap.permits.demo import load_demo_permits

            try:
                result = load_demo_permits()
            except RuntimeError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(
                f"Demo permits: {result.created} issued, {result.items} permit items, {result.reports} execution reports."
            )
            for note in result.notes:
                self.stdout.write(f"  note: {note}")
        elif action == "daily":
            from totalcap.permits.schedule import run_daily

            daily = run_daily()
            self.stdout.write(
                f"Daily: {daily.expired} expired, {daily.reports} reports scheduled, "
                f"{daily.reminders} reminders raised, {daily.resolved} resolved."
            )
        else:
            from totalcap.permits.schedule import load_report_rules

            self.stdout.write(f"Report rules loaded: {load_report_rules()} new.")
