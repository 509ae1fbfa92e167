"""Monitoring jobs: the pipeline every minute, partition maintenance every night."""

from __future__ import annotations

from totalcap.base.jobs import periodic


@periodic("* * * * *", name="monitoring.pipeline")
def run_pipeline(timestamp: int) -> None:
    """Settle new hours and recompute dirty ones (see services/pipeline.py)."""
    from totalcap.monitoring.services.pipeline import run

    run()


@periodic("41 2 * * *", name="monitoring.maintain_partitions")
def maintain_partitions(timestamp: int) -> None:
    """Partitions ahead and retention per kind (see services/maintenance.py)."""
    from totalcap.monitoring.services.maintenance import maintain

    maintain()
