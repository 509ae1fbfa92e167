"""Total-control jobs: the valve-order sweep, month-end and year-end settlement, swipe side effects."""

from __future__ import annotations

import logging

from totalcap.base.jobs import job, periodic

logger = logging.getLogger("totalcap.quotas")


@periodic("*/15 * * * * *", name="quotas.advance_valve_orders")
def advance_valve_orders(timestamp: int) -> None:
    """Every 15 s: dispatch due orders (grace periods), follow commands, confirm by evidence, expire."""
    from totalcap.quotas.services.valves import advance_all

    advance_all()


@periodic("10 0 1 * *", name="quotas.settle_previous_month")
def settle_previous_month(timestamp: int) -> None:
    """On the 1st at 00:10 Beijing time: settle last month's accounts and reopen valves closed for it."""
    import datetime as dt

    from totalcap.quotas.services.common import BEIJING
    from totalcap.quotas.services.settlement import settle_months

    today = dt.datetime.fromtimestamp(timestamp, BEIJING).date()
    last = today.replace(day=1) - dt.timedelta(days=1)
    settled = settle_months(last.year, last.month)
    logger.info("settled %s monthly accounts of %s-%02d", len(settled), last.year, last.month)


@job("quotas.push_allowance", queue="devices")
def push_allowance(swipe_id: int) -> None:
    """After a swipe: send the logger its remaining allowance (signed)."""
    from totalcap.quotas.services.cards import push_after_swipe

    push_after_swipe(swipe_id)
