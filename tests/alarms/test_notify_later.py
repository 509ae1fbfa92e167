"""Alarms whose notifications are queued after the commit (behind a valve close): queued once,
by the commit callback or — when the process stopped before it ran — by the minute sweep."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from totalcap.alarms import services
from totalcap.alarms.choices import ChannelKind, Severity
from totalcap.alarms.models import Alarm, Delivery, NotificationChannel
from totalcap.base.models import DomainEvent


@pytest.fixture
def console(tmp_path: Path) -> NotificationChannel:
    return NotificationChannel.objects.create(
        name="开发短信", kind=ChannelKind.SMS_CONSOLE, config={"path": str(tmp_path / "sms.log")}
    )


def _raise_later(world: Any, **kw: Any) -> services.Raised:
    fields = {
        "type": "quota_exhausted", "source": f"quotas.account:{world.e_own.pk}", "title": "月度配额已用尽",
        "message": "本月配额已用尽。", "severity": Severity.CRITICAL, "enterprise": world.e_own,
        "notify_later": True,
    }  # fmt: skip
    fields.update(kw)
    return services.raise_alarm(**fields)


def test_deliveries_are_queued_after_the_commit(
    world: Any, console: NotificationChannel, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        raised = _raise_later(world)
        assert raised.created and raised.alarm.notify_pending
        assert not Delivery.objects.filter(alarm=raised.alarm).exists()  # nothing before the commit
        services.notify_after_commit([raised.alarm])
    assert DomainEvent.objects.filter(action="alarm_raised", object_id=str(raised.alarm.pk)).count() == 1
    for callback in callbacks:
        callback()
    alarm = Alarm.objects.get(pk=raised.alarm.pk)
    assert not alarm.notify_pending
    deliveries = Delivery.objects.filter(alarm=alarm)
    assert deliveries.exists() and {d.reason for d in deliveries} == {"raised"}
    count = deliveries.count()
    for callback in callbacks:  # a second run queues nothing more
        callback()
    assert services.queue_pending_notifications(now=timezone.now() + timedelta(hours=1)) == 0
    assert Delivery.objects.filter(alarm=alarm).count() == count


def test_a_repeat_is_counted_and_notifies_nobody(world: Any, console: NotificationChannel) -> None:
    first = _raise_later(world)
    again = _raise_later(world)
    assert not again.created and again.alarm.pk == first.alarm.pk
    services.notify_after_commit([again.alarm])  # nothing pending on the repeat's instance
    assert Alarm.objects.get(pk=first.alarm.pk).occurrences == 2


def test_the_sweep_queues_what_the_callback_never_did(world: Any, console: NotificationChannel) -> None:
    raised = _raise_later(world)  # the process stopped before its commit callback ran
    assert services.queue_pending_notifications() == 0  # within the grace period: left to the callback
    later = timezone.now() + services.NOTIFY_GRACE + timedelta(seconds=1)
    assert services.queue_pending_notifications(now=later) == 1
    alarm = Alarm.objects.get(pk=raised.alarm.pk)
    assert not alarm.notify_pending and Delivery.objects.filter(alarm=alarm).exists()
    assert services.queue_pending_notifications(now=later) == 0
    # The flag is technical: its change leaves no field history and no domain event.
    from totalcap.alarms.models import AlarmEvent  # type: ignore[attr-defined]

    assert AlarmEvent.objects.filter(pgh_obj_id=alarm.pk, pgh_label="update").count() == 0
    assert DomainEvent.objects.filter(object_type="alarms.alarm", object_id=str(alarm.pk)).count() == 1


def test_without_notify_later_deliveries_come_with_the_alarm(
    world: Any, console: NotificationChannel
) -> None:
    raised = _raise_later(world, notify_later=False)
    assert not raised.alarm.notify_pending and Delivery.objects.filter(alarm=raised.alarm).exists()
