"""``totalcap limits compute --input CASE.json``: the seed 004 calculator on the command line.

Reads a case (JSON, ``-`` for standard input), prints the result as JSON, optionally writes the
worksheet (``--worksheet out.xlsx`` or ``out.pdf``). Touches no database. Bad input exits with
status 2 and a message naming the field.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from totalcap.permits.calculator import CaseError, compute

EXIT_BAD_INPUT = 2


class Command(BaseCommand):
    help = (
        "Technology-based permit limits (seed 004). 'compute' reads a case JSON and prints the result JSON."
    )
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True, parser_class=CommandParser)
        compute_parser = sub.add_parser("compute", help="compute the limits of one case")
        compute_parser.add_argument("--input", "-i", required=True, help="case JSON file, or - for stdin")
        compute_parser.add_argument("--output", "-o", help="write the result JSON here instead of stdout")
        compute_parser.add_argument("--worksheet", "-w", help="also write the worksheet (.xlsx or .pdf)")
        compute_parser.add_argument("--compact", action="store_true", help="one-line JSON")
        compute_parser.add_argument("--no-steps", action="store_true", help="leave the step-by-step list out")

    def handle(self, *args: Any, **options: Any) -> None:
        source = options["input"]
        try:
            text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
        except OSError as exc:
            raise CommandError(
                f"cannot read the input file {source}: {exc.strerror}", returncode=EXIT_BAD_INPUT
            ) from exc
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise CommandError(
                f"invalid input: the file is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})",
                returncode=EXIT_BAD_INPUT,
            ) from exc
        try:
            result = compute(data)
        except CaseError as exc:
            raise CommandError(
                f"invalid input: field {exc.field}: {exc.english} ({exc.message})", returncode=EXIT_BAD_INPUT
            ) from exc
        worksheet = options.get("worksheet")
        if worksheet:
            from totalcap.permits import worksheet as ws

            target = Path(worksheet)
            if target.suffix.lower() == ".xlsx":
                target.write_bytes(ws.to_xlsx(result))
            elif target.suffix.lower() == ".pdf":
                target.write_bytes(ws.to_pdf(result))
            else:
                raise CommandError("--worksheet must end in .xlsx or .pdf", returncode=EXIT_BAD_INPUT)
        if options.get("no_steps"):
            result.pop("steps", None)
        indent = None if options.get("compact") else 2
        out = json.dumps(result, ensure_ascii=False, indent=indent)
        if options.get("output"):
            Path(options["output"]).write_text(out + "\n", encoding="utf-8")
        else:
            self.stdout.write(out)
