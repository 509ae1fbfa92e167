"""``totalcap quotas reconcile``: prove every cached balance equals the sum of its ledger entries.
``totalcap quotas demo``: set up total control for the demo enterprises (idempotent)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from totalcap.quotas.ledger import reconcile


class Command(BaseCommand):
    help = (
        "Quota tools. 'reconcile' compares cached balances with the sum of entries; "
        "'demo' sets up total control for the demo enterprises (idempotent)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["reconcile", "demo"])

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "demo":
            from totalcap.quotas.demo import setup_demo_quotas

            result = setup_demo_quotas()
            for line in result.enterprises:
                self.stdout.write(line)
            for line in result.swipes:
                self.stdout.write(f"swipe {line}")
            for note in result.notes:
                self.stdout.write(note)
            self.stdout.write(f"created: {result.created or 'nothing (already set up)'}")
            return
        report = reconcile()
        if report.ok:
            self.stdout.write(
                f"OK: {report.accounts} accounts; every cached balance equals the sum of its entries."
            )
            return
        for diff in report.differences:
            self.stdout.write(
                f"account #{diff.account_id} {diff.label}: cached {diff.cached}, entries {diff.entries}, "
                f"difference {diff.cached - diff.entries}"
            )
        for tx in report.unbalanced_transactions:
            self.stdout.write(f"transaction #{tx}: entries do not sum to zero")
        raise CommandError(
            f"{len(report.differences)} account(s) differ from their entries; "
            f"{len(report.unbalanced_transactions)} unbalanced transaction(s)."
        )
