"""Monthly range partitions of PostgreSQL tables (native declarative partitioning).

Partitions follow Beijing-time months (``[YYYY-MM-01 00:00+08, next month)``) because reports,
quotas and accounting are by Beijing month. Every partitioned table also has a DEFAULT partition so
that no row is ever refused for want of a partition (a logger whose clock says 2035, a history
re-upload from years ago); creating a month's partition moves such rows out of the default first.

Used by the periodic job ``base.maintain_partitions`` (partitions ahead, retention) and by migrations.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db import connection, transaction

logger = logging.getLogger("totalcap.partitions")

BEIJING = ZoneInfo("Asia/Shanghai")
_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


def _check(name: str) -> str:
    if not _NAME.match(name):
        raise ValueError(f"bad table name {name!r}")
    return name


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def bound(day: dt.date) -> dt.datetime:
    """Beijing midnight at the start of ``day`` as an aware datetime."""
    return dt.datetime(day.year, day.month, day.day, tzinfo=BEIJING)


def partition_name(parent: str, month: dt.date) -> str:
    return f"{parent}_y{month.year:04d}m{month.month:02d}"


@dataclass(frozen=True)
class Partition:
    name: str
    start: dt.datetime
    end: dt.datetime


def existing_partitions(parent: str) -> list[Partition]:
    """Monthly partitions of ``parent`` (the default partition excluded)."""
    _check(parent)
    with connection.cursor() as cur:
        cur.execute(
            """
            SELECT c.relname, pg_get_expr(c.relpartbound, c.oid)
            FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
            WHERE p.relname = %s
            """,
            [parent],
        )
        rows = cur.fetchall()
    result = []
    for name, expr in rows:
        match = re.search(r"FROM \('([^']+)'\) TO \('([^']+)'\)", expr or "")
        if not match:
            continue
        start = dt.datetime.fromisoformat(match.group(1))
        end = dt.datetime.fromisoformat(match.group(2))
        result.append(Partition(name, start, end))
    return sorted(result, key=lambda p: p.start)


def ensure_month(parent: str, month: dt.date, column: str) -> bool:
    """Create the partition of ``parent`` for ``month`` unless it exists; returns True if created.

    Rows of that month waiting in the default partition are moved into the new partition in the
    same transaction.
    """
    _check(parent)
    _check(column)
    month = month_start(month)
    name = partition_name(parent, month)
    start, end = bound(month), bound(add_months(month, 1))
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"partition:{parent}"])
        cur.execute("SELECT to_regclass(%s)", [name])
        if cur.fetchone()[0] is not None:
            return False
        default = f"{parent}_default"
        cur.execute(f'CREATE TABLE "{name}" (LIKE "{parent}" INCLUDING DEFAULTS INCLUDING CONSTRAINTS)')
        cur.execute("SELECT to_regclass(%s)", [default])
        if cur.fetchone()[0] is not None:
            cur.execute(
                f'WITH moved AS (DELETE FROM "{default}" WHERE "{column}" >= %s AND "{column}" < %s RETURNING *) '
                f'INSERT INTO "{name}" SELECT * FROM moved',
                [start, end],
            )
            if cur.rowcount:
                logger.info("moved %s rows of %s into %s", cur.rowcount, default, name)
        cur.execute(
            f'ALTER TABLE "{parent}" ATTACH PARTITION "{name}" FOR VALUES FROM (%s) TO (%s)',
            [start.isoformat(), end.isoformat()],
        )
    logger.info("created partition %s", name)
    return True


def ensure_range(parent: str, column: str, first: dt.date, last: dt.date) -> int:
    """Create the monthly partitions from ``first`` to ``last`` (inclusive); returns how many."""
    created = 0
    month = month_start(first)
    while month <= month_start(last):
        created += int(ensure_month(parent, month, column))
        month = add_months(month, 1)
    return created


def drop_before(parent: str, cutoff: dt.datetime) -> list[str]:
    """Drop partitions of ``parent`` that end at or before ``cutoff`` (retention); returns names."""
    dropped = []
    for part in existing_partitions(parent):
        if part.end <= cutoff:
            with transaction.atomic(), connection.cursor() as cur:
                cur.execute(f'ALTER TABLE "{parent}" DETACH PARTITION "{_check(part.name)}"')
                cur.execute(f'DROP TABLE "{part.name}"')
            dropped.append(part.name)
            logger.info("dropped partition %s (retention, before %s)", part.name, cutoff)
    return dropped


def today_beijing() -> dt.date:
    return dt.datetime.now(BEIJING).date()
