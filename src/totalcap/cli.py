"""The ``totalcap`` console script.

``totalcap hj212 …`` runs the HJ 212 codec tools without Django or a database; every other
command is a Django management command (``totalcap migrate``, ``totalcap createsuperuser``,
``totalcap run``, ``totalcap demo-data``, ``totalcap audit verify`` …). Hyphens in a command name
are accepted for underscores.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "hj212":
        from hj212.cli import main as hj212_main

        return hj212_main(args[1:])
    if args and not args[0].startswith("-"):
        args[0] = args[0].replace("-", "_")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "totalcap.settings")
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(["totalcap", *args])
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
