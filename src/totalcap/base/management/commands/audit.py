"""``totalcap audit verify``: recompute the domain-event hash chain."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from totalcap.base.events import verify_chain


class Command(BaseCommand):
    help = "Audit tools. 'verify' recomputes the domain event hash chain and names the first broken link."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["verify"], help="what to do")

    def handle(self, *args: Any, **options: Any) -> None:
        report = verify_chain()
        if report.ok:
            self.stdout.write(f"OK: {report.checked} events verified; chain head {report.head}")
            return
        broken = report.broken
        assert broken is not None
        what = (
            "its content does not match its hash (the row was changed)"
            if broken.reason == "content"
            else "its link to the previous event does not match (an event before it was changed, removed or inserted)"
        )
        raise CommandError(
            f"BROKEN at event #{broken.event_id} ({broken.action} on {broken.object}): {what}; "
            f"stored {broken.stored}, expected {broken.expected}. "
            f"{report.checked} events before it verified."
        )
