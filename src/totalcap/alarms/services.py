"""Alarm use cases: raise (de-duplicated), acknowledge, clear, escalate, deliver notifications."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from totalcap.accounts.choices import REGULATOR_LEVELS
from totalcap.accounts.models import User
from totalcap.alarms.channels import ConfigError, Message, adapter_for
from totalcap.alarms.choices import (
    OPEN_STATUSES,
    SEVERITY_RANK,
    AlarmStatus,
    ChannelKind,
    DeliveryStatus,
    RecipientKind,
    Severity,
)
from totalcap.alarms.models import Alarm, Delivery, NotificationChannel
from totalcap.alarms.transitions import ALARM_LIFE_CYCLE
from totalcap.base import events, jobs
from totalcap.base.db import insert_unless_conflict
from totalcap.base.exceptions import ServiceError
from totalcap.base.transitions import apply_transition
from totalcap.registry.models import Enterprise, Jurisdiction, Outlet

logger = logging.getLogger("totalcap.alarms")

#: Minutes to acknowledge an alarm before it is escalated to the next level, by severity.
DEFAULT_ACK_DEADLINES: dict[str, int | None] = {
    Severity.INFO: None,
    Severity.WARNING: 24 * 60,
    Severity.MAJOR: 60,
    Severity.CRITICAL: 15,
}
MAX_ESCALATION_LEVEL = 2  # county → city → province


def ack_deadline_minutes(severity: str) -> int | None:
    configured: dict[str, int | None] = getattr(settings, "ALARM_ACK_DEADLINES", {})
    return configured.get(severity, DEFAULT_ACK_DEADLINES.get(severity))


@dataclass(frozen=True)
class Raised:
    alarm: Alarm
    created: bool


def raise_alarm(
    *,
    type: str,
    source: str,
    title: str,
    message: str,
    severity: str = Severity.WARNING,
    enterprise: Enterprise | None = None,
    outlet: Outlet | None = None,
    jurisdiction: Jurisdiction | None = None,
    payload: dict[str, Any] | None = None,
    actor: Any = None,
    notify_later: bool = False,
) -> Raised:
    """Raise an alarm, or count another occurrence of the open one with the same (source, type).

    Only a new alarm notifies anybody; its deliveries are queued in the same transaction — or,
    with ``notify_later``, after it commits: the caller then passes the alarm to
    :func:`notify_after_commit` once its urgent work (a valve close) is scheduled. Until its
    deliveries are queued such an alarm is marked ``notify_pending``, and the minute sweep
    (:func:`queue_pending_notifications`) queues them should the process stop before it could.
    """
    if jurisdiction is None:
        if enterprise is None:
            raise ValueError("an alarm needs an enterprise or a jurisdiction")
        jurisdiction = enterprise.jurisdiction
    now = timezone.now()
    deadline = ack_deadline_minutes(severity)
    alarm = Alarm(
        type=type,
        severity=severity,
        source=source,
        title=title[:128],
        message=message,
        payload=payload or {},
        enterprise=enterprise,
        outlet=outlet,
        jurisdiction=jurisdiction,
        raised_at=now,
        last_seen_at=now,
        escalate_at=now + timedelta(minutes=deadline) if deadline else None,
        notify_pending=notify_later,
    )
    # No savepoint of its own: an alarm that cannot be raised fails the caller's transaction. A new
    # alarm is one statement: the insert gives way to the open alarm of the same (source, type)
    # (the partial unique index ``alarm_one_open_per_source_type``), which then counts another
    # occurrence — also when another transaction raised it a moment ago.
    with transaction.atomic(savepoint=False):
        for _attempt in range(3):
            if insert_unless_conflict(alarm):
                break
            open_alarm: Alarm | None = (
                Alarm.objects.select_for_update(no_key=True)
                .filter(source=source, type=type, status__in=OPEN_STATUSES)
                .first()
            )
            if open_alarm is None:  # cleared since the insert gave way to it: insert again
                continue
            open_alarm.occurrences += 1
            open_alarm.last_seen_at = now
            if payload:
                open_alarm.payload = {**open_alarm.payload, "last": payload}
            open_alarm.save(update_fields=["occurrences", "last_seen_at", "payload", "updated_at"])
            return Raised(open_alarm, False)
        else:  # pragma: no cover - an open alarm appearing and clearing three times over
            raise ServiceError(f"报警「{title}」暂时无法登记，请重试。", code="alarm_conflict")
        events.record(actor, alarm, "alarm_raised", {"type": type, "severity": severity, "source": source})
        if not notify_later:
            queue_deliveries(alarm, reason="raised")
    logger.info("alarm raised: %s %s (%s)", type, source, severity)
    return Raised(alarm, True)


#: How long an alarm may wait for its notifications to be queued before the sweep does it.
NOTIFY_GRACE = timedelta(seconds=30)


def notify_after_commit(alarms: list[Alarm]) -> None:
    """Queue the deliveries of alarms raised with ``notify_later`` once the transaction commits,
    after the commit callbacks registered before this call (a failure is logged; the sweep retries)."""
    ids = [alarm.pk for alarm in alarms if alarm.notify_pending]
    if ids:
        transaction.on_commit(lambda: queue_pending_notifications(ids), robust=True)


def queue_pending_notifications(alarm_ids: list[int] | None = None, now: Any = None) -> int:
    """Queue the deliveries of alarms still marked ``notify_pending``: these, or (the sweep) every
    one raised more than :data:`NOTIFY_GRACE` ago. Each alarm once, under its row lock. Returns
    how many alarms were handled."""
    if alarm_ids is None:
        now = now or timezone.now()
        alarm_ids = list(
            Alarm.objects.filter(notify_pending=True, raised_at__lte=now - NOTIFY_GRACE)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    handled = 0
    for pk in alarm_ids:
        with transaction.atomic():
            alarm: Alarm | None = (
                Alarm.objects.select_for_update(no_key=True, of=("self",))
                .select_related("enterprise", "jurisdiction")
                .filter(pk=pk, notify_pending=True)
                .first()
            )
            if alarm is None:
                continue
            queue_deliveries(alarm, reason="raised")
            # Not a state change of the alarm: no field history, no domain event.
            Alarm.objects.filter(pk=pk).update(notify_pending=False)
            alarm.notify_pending = False
            handled += 1
    return handled


def acknowledge(actor: Any, alarm: Alarm) -> Alarm:
    result: Alarm = apply_transition(ALARM_LIFE_CYCLE, alarm, "acknowledge", actor)
    return result


def clear(actor: Any, alarm: Alarm, reason: str = "") -> Alarm:
    result: Alarm = apply_transition(ALARM_LIFE_CYCLE, alarm, "clear", actor, {"reason": reason})
    return result


def clear_condition(source: str, type: str, reason: str) -> Alarm | None:
    """The system clears the open alarm of (source, type) because its condition is gone."""
    alarm = Alarm.objects.filter(source=source, type=type, status__in=OPEN_STATUSES).first()
    if alarm is None:
        return None
    return clear(None, alarm, reason)


# --- recipients and deliveries --------------------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    kind: str
    name: str
    phone: str = ""
    email: str = ""
    user_id: int | None = None


def _regulators_at_level(alarm: Alarm, level: int) -> list[User]:
    """Regulators responsible for the alarm's place: level 0 the nearest level with users (county
    first), each escalation one level up (city, then province)."""
    chain = alarm.jurisdiction.ancestors()  # province … county
    regulators = User.objects.filter(is_active=True, role__in=list(REGULATOR_LEVELS), jurisdiction__in=chain)
    by_node: dict[int, list[User]] = {}
    for user in regulators:
        if user.jurisdiction_id is not None:
            by_node.setdefault(user.jurisdiction_id, []).append(user)
    staffed = [node for node in reversed(chain) if node.pk in by_node]  # nearest first
    if not staffed:
        return []
    return by_node[staffed[min(level, len(staffed) - 1)].pk]


def recipients(alarm: Alarm, channel: NotificationChannel, level: int) -> list[Recipient]:
    wanted = set(channel.recipients or [RecipientKind.ENTERPRISE, RecipientKind.REGULATOR])
    result: list[Recipient] = []
    if RecipientKind.ENTERPRISE in wanted and alarm.enterprise_id is not None and level == 0:
        for contact in alarm.enterprise.contacts.filter(receives_alarms=True):  # type: ignore[union-attr]
            result.append(Recipient(RecipientKind.ENTERPRISE, contact.name, contact.phone, contact.email))
        for user in User.objects.filter(enterprise_id=alarm.enterprise_id, is_active=True):
            result.append(Recipient(RecipientKind.ENTERPRISE, str(user), user.phone, user.email, user.pk))
    if RecipientKind.REGULATOR in wanted:
        for user in _regulators_at_level(alarm, level):
            result.append(Recipient(RecipientKind.REGULATOR, str(user), user.phone, user.email, user.pk))
    return result


def _address(kind: str, recipient: Recipient) -> str:
    if kind in (ChannelKind.SMS_HTTP, ChannelKind.SMS_CONSOLE):
        return recipient.phone
    if kind == ChannelKind.EMAIL:
        return recipient.email
    if kind == ChannelKind.IN_APP:
        return str(recipient.user_id) if recipient.user_id else ""
    return "group"


def channel_matches(channel: NotificationChannel, alarm: Alarm) -> bool:
    if not channel.enabled:
        return False
    if SEVERITY_RANK[Severity(alarm.severity)] < SEVERITY_RANK[Severity(channel.min_severity)]:
        return False
    if channel.alarm_types and alarm.type not in channel.alarm_types:
        return False
    return channel.jurisdiction is None or alarm.jurisdiction.path.startswith(channel.jurisdiction.path)


def render_text(alarm: Alarm, reason: str) -> str:
    prefix = "【升级】" if reason.startswith("escalated") else ""
    where = alarm.enterprise.name if alarm.enterprise_id is not None else alarm.jurisdiction.name  # type: ignore[union-attr]
    local = timezone.localtime(alarm.raised_at).strftime("%m-%d %H:%M")
    return f"{prefix}{where}：{alarm.title}。{alarm.message}（{local}，{alarm.get_severity_display()}）"


def queue_deliveries(alarm: Alarm, *, reason: str) -> list[Delivery]:
    """Create the deliveries of ``alarm`` for every matching channel and queue their sending."""
    created: list[Delivery] = []
    text = render_text(alarm, reason)
    for channel in NotificationChannel.objects.filter(enabled=True).select_related("jurisdiction"):
        if not channel_matches(channel, alarm):
            continue
        targets = recipients(alarm, channel, alarm.escalation_level)
        if channel.kind == ChannelKind.WECOM:
            targets = [Recipient(RecipientKind.REGULATOR, "群机器人")] if targets else []
        seen: set[tuple[str, int | None]] = set()
        for target in targets:
            address = _address(channel.kind, target)
            if not address or (address, target.user_id) in seen:
                continue
            seen.add((address, target.user_id))
            delivery, was_created = Delivery.objects.get_or_create(
                alarm=alarm,
                channel=channel,
                address=address,
                reason=reason,
                user_id=target.user_id if channel.kind == ChannelKind.IN_APP else None,
                defaults={"recipient_kind": target.kind, "recipient_name": target.name, "text": text},
            )
            if was_created:
                created.append(delivery)
                jobs.defer("alarms.deliver", delivery_id=delivery.pk)  # in this transaction
    return created


def deliver(delivery_id: int) -> Delivery | None:
    """Send one pending delivery; on failure, retry later with exponential back-off."""
    with transaction.atomic():
        delivery: Delivery | None = (
            Delivery.objects.select_for_update(no_key=True, of=("self",))
            .select_related("channel", "alarm")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None or delivery.status not in (DeliveryStatus.PENDING, DeliveryStatus.FAILED):
            return delivery
        delivery.attempts += 1
        channel = delivery.channel
        try:
            adapter = adapter_for(channel.kind, channel.config)
            result = adapter.send(
                Message(
                    title=delivery.alarm.title,
                    text=delivery.text,
                    address=delivery.address,
                    recipient_name=delivery.recipient_name,
                    severity=delivery.alarm.severity,
                    alarm_id=delivery.alarm_id,
                    user_id=int(delivery.address) if channel.kind == ChannelKind.IN_APP else None,
                )
            )
        except ConfigError as exc:
            delivery.status = DeliveryStatus.GAVE_UP
            delivery.last_error = f"配置错误：{exc}"
            delivery.save()
            return delivery
        if result.ok:
            delivery.status = DeliveryStatus.SENT
            delivery.sent_at = timezone.now()
            delivery.response = result.response[:2000]
            delivery.last_error = ""
        elif result.retry and delivery.attempts < channel.max_attempts:
            delivery.status = DeliveryStatus.FAILED
            delivery.last_error = result.error[:2000]
            delivery.response = result.response[:2000]
            delay = min(3600, 15 * 2 ** (delivery.attempts - 1))
            jobs.defer("alarms.deliver", delivery_id=delivery_id, delay_seconds=delay)
        else:
            delivery.status = DeliveryStatus.GAVE_UP
            delivery.last_error = result.error[:2000]
            delivery.response = result.response[:2000]
        delivery.save()
    return delivery


def escalate_due(now: Any = None) -> list[Alarm]:
    """Escalate every unacknowledged alarm past its deadline by one level and notify that level."""
    now = now or timezone.now()
    escalated: list[Alarm] = []
    due = (
        Alarm.objects.filter(status=AlarmStatus.ACTIVE, escalate_at__lte=now)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for pk in list(due):
        with transaction.atomic():
            alarm: Alarm = Alarm.objects.select_for_update(no_key=True).get(pk=pk)
            if alarm.status != AlarmStatus.ACTIVE or alarm.escalate_at is None or alarm.escalate_at > now:
                continue
            if alarm.escalation_level >= MAX_ESCALATION_LEVEL:
                alarm.escalate_at = None
                alarm.save(update_fields=["escalate_at", "updated_at"])
                continue
            alarm.escalation_level += 1
            deadline = ack_deadline_minutes(alarm.severity)
            alarm.escalate_at = now + timedelta(minutes=deadline) if deadline else None
            alarm.save(update_fields=["escalation_level", "escalate_at", "updated_at"])
            events.record(None, alarm, "alarm_escalated", {"level": alarm.escalation_level})
            queue_deliveries(alarm, reason=f"escalated:{alarm.escalation_level}")
            escalated.append(alarm)
    return escalated
