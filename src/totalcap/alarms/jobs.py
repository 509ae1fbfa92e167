"""Alarm jobs: deliver one notification; escalate overdue alarms every minute."""

from __future__ import annotations

from totalcap.base.jobs import job, periodic


@job("alarms.deliver", queue="notify", retry=0)
def deliver(delivery_id: int) -> None:
    from totalcap.alarms.services import deliver as deliver_now

    deliver_now(delivery_id)


@periodic("* * * * *", name="alarms.escalate")
def escalate(timestamp: int) -> None:
    from totalcap.alarms.services import escalate_due

    escalate_due()
