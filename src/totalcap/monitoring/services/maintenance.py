"""Partition maintenance: create monthly partitions ahead, drop whole months past retention.

Sample kinds keep their own retention (real-time N days, minute at least a year, hour and day at
least five years — :mod:`totalcap.monitoring.conf`); the platform's hourly tables follow the hour
data. Only whole months are dropped (a partition is dropped once its end is older than the
cutoff); rows parked in a DEFAULT partition past the cutoff are deleted too.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.db import connection

from totalcap.base import partitions
from totalcap.monitoring.conf import pipeline_settings, retention_days

logger = logging.getLogger("totalcap.monitoring")

#: Partitioned parent → the sample kind whose retention it follows.
PARENTS = {
    "monitoring_sample_r": "r",
    "monitoring_sample_m": "m",
    "monitoring_sample_h": "h",
    "monitoring_sample_d": "d",
    "monitoring_hour": "h",
    "monitoring_emission_hour": "h",
}


@dataclass
class MaintenanceReport:
    created: int = 0
    dropped: list[str] = field(default_factory=list)
    default_rows_deleted: int = 0


def cutoff_for(kind: str, today: dt.date) -> dt.datetime:
    """The start of the oldest month to keep for ``kind``."""
    oldest = today - dt.timedelta(days=retention_days(kind))
    return partitions.bound(partitions.month_start(oldest))


def maintain(today: dt.date | None = None) -> MaintenanceReport:
    """Create partitions for this month and ``partitions_ahead_months`` ahead; apply retention."""
    today = today or partitions.today_beijing()
    ahead = pipeline_settings().partitions_ahead_months
    report = MaintenanceReport()
    for parent, kind in PARENTS.items():
        report.created += partitions.ensure_range(
            parent, "data_time", partitions.add_months(today, -1), partitions.add_months(today, ahead)
        )
        cutoff = cutoff_for(kind, today)
        report.dropped += partitions.drop_before(parent, cutoff)
        with connection.cursor() as cur:
            cur.execute(f'DELETE FROM "{parent}_default" WHERE data_time < %s', [cutoff])
            report.default_rows_deleted += int(cur.rowcount or 0)
    logger.info(
        "partition maintenance: %s created, %s dropped, %s rows deleted from default partitions",
        report.created, len(report.dropped), report.default_rows_deleted,
    )  # fmt: skip
    return report
