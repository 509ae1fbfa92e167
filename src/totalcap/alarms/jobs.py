"""Alarm jobs: deliver one notification; escalate overdue alarms every minute; queue the
notifications of alarms whose post-commit queueing never ran (a process stopped in between)."""

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


@periodic("* * * * *", name="alarms.notify_pending")
def notify_pending(timestamp: int) -> None:
    from totalcap.alarms.services import queue_pending_notifications

    queue_pending_notifications()
