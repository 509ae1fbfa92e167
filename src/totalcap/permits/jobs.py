"""Periodic jobs of the permits app."""

from __future__ import annotations

import logging

from totalcap.base.jobs import periodic

logger = logging.getLogger("totalcap.permits")


@periodic("10 1 * * *", name="permits.daily")
def daily(timestamp: int) -> None:
    """Every night (Beijing time): expire permits past their term, schedule execution reports, raise
    renewal, change and report reminders, resolve those whose cause is gone."""
    from totalcap.permits.schedule import run_daily

    result = run_daily()
    logger.info(
        "permits daily: %s expired, %s reports scheduled, %s reminders raised, %s resolved",
        result.expired,
        result.reports,
        result.reminders,
        result.resolved,
    )
