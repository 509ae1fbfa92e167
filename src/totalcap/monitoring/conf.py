"""Operational settings of the monitoring pipeline.

Each value comes from ``settings.TOTALCAP_MONITORING`` (a dict, if the deployment defines one), then
from the environment, then from the default below. Retention has floors the standards impose:
minute data at least one year, hour and day data at least five years; a shorter setting is raised
to the floor (and logged).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

from django.conf import settings

logger = logging.getLogger("totalcap.monitoring")

#: Minimum retention per sample kind, in days (minute ≥ 1 year; hour and day ≥ 5 years).
RETENTION_FLOOR_DAYS = {"r": 1, "m": 366, "h": 5 * 366, "d": 5 * 366}
RETENTION_DEFAULT_DAYS = {"r": 90, "m": 400, "h": 5 * 366 + 31, "d": 5 * 366 + 31}
RETENTION_ENV = {
    "r": "TOTALCAP_RETENTION_REALTIME_DAYS",
    "m": "TOTALCAP_RETENTION_MINUTE_DAYS",
    "h": "TOTALCAP_RETENTION_HOUR_DAYS",
    "d": "TOTALCAP_RETENTION_DAY_DAYS",
}


def _setting(name: str, env: str, default: int) -> int:
    configured = getattr(settings, "TOTALCAP_MONITORING", {}) or {}
    if name in configured:
        return int(configured[name])
    value = os.environ.get(env)
    return int(value) if value else default


@dataclass(frozen=True)
class PipelineSettings:
    """Knobs of the periodic pipeline (see docs/monitoring.md, "Operations")."""

    settle_minutes: int
    backfill_hours: int
    max_hours_per_run: int
    batch_outlets: int
    ripple_days: int
    partitions_ahead_months: int


def pipeline_settings() -> PipelineSettings:
    return PipelineSettings(
        settle_minutes=_setting("settle_minutes", "TOTALCAP_MONITORING_SETTLE_MINUTES", 20),
        backfill_hours=_setting("backfill_hours", "TOTALCAP_MONITORING_BACKFILL_HOURS", 48),
        max_hours_per_run=_setting("max_hours_per_run", "TOTALCAP_MONITORING_MAX_HOURS_PER_RUN", 24 * 7),
        batch_outlets=_setting("batch_outlets", "TOTALCAP_MONITORING_BATCH_OUTLETS", 200),
        ripple_days=_setting("ripple_days", "TOTALCAP_MONITORING_RIPPLE_DAYS", 120),
        partitions_ahead_months=_setting("partitions_ahead_months", "TOTALCAP_PARTITIONS_AHEAD_MONTHS", 3),
    )


def retention_days(kind: str) -> int:
    """Days of ``kind`` samples to keep (never below the floor of that kind)."""
    wanted = _setting(f"retention_{kind}_days", RETENTION_ENV[kind], RETENTION_DEFAULT_DAYS[kind])
    floor = RETENTION_FLOOR_DAYS[kind]
    if wanted < floor:
        logger.warning("retention of kind %s raised from %s to the floor of %s days", kind, wanted, floor)
        return floor
    return wanted
