"""``totalcap quotas reconcile``: prove every cached balance equals the sum of its ledger entries."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from totalcap.quotas.ledger import reconcile


class Command(BaseCommand):
    help = "Quota ledger tools. 'reconcile' compares cached balances with the sum of entries."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["reconcile"])

    def handle(self, *args: Any, **options: Any) -> None:
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
