"""Periodic jobs of the ingest app."""

from __future__ import annotations

import logging

from totalcap.base.jobs import periodic

logger = logging.getLogger("totalcap.ingest.jobs")


@periodic("7 2 * * *", name="ingest.maintain_partitions")
def maintain_partitions(timestamp: int) -> None:
    """Nightly: raw-frame partitions for the next three months (rows never wait in the default)."""
    from totalcap.base import partitions

    today = partitions.today_beijing()
    created = partitions.ensure_range(
        "ingest_rawframe", "received_at", today, partitions.add_months(today, 3)
    )
    if created:
        logger.info("created %s raw-frame partitions", created)


@periodic("*/5 * * * *", name="ingest.expire_commands")
def expire_commands(timestamp: int) -> None:
    """Commands nobody could send before their expiry (also done by every gateway's sweep)."""
    from totalcap.ingest.services import expire_commands as expire

    expired = expire()
    if expired:
        logger.info("expired %s commands", len(expired))
