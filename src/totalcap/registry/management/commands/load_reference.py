"""``totalcap load-reference``: load jurisdictions, industries, pollutants and standards.

``--jurisdictions FILE`` loads another GB/T 2260 list (CSV ``code,name``), e.g. the full national one.
"""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from totalcap.base.exceptions import ServiceError
from totalcap.registry import services


class Command(BaseCommand):
    help = "Load the reference data shipped with TotalCap (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--jurisdictions", type=Path, help="CSV file code,name (GB/T 2260)")
        parser.add_argument("--standards", type=Path, help="JSON file of standards with limits")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            counts = services.load_reference_data()
            if options["jurisdictions"]:
                counts["jurisdictions"] += services.load_jurisdictions(_read(options["jurisdictions"]))
            if options["standards"]:
                counts["standards"] += services.load_standards(_read(options["standards"]))
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        except (ValueError, KeyError) as exc:
            raise CommandError(f"bad reference file: {exc}") from exc
        self.stdout.write(
            "Reference data loaded (new rows): " + ", ".join(f"{k} {v}" for k, v in counts.items())
        )


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc}") from exc
