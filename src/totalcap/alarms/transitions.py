"""Alarm life cycle: active (unacknowledged) → acknowledged → cleared."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from totalcap.alarms.choices import AlarmStatus
from totalcap.alarms.models import Alarm
from totalcap.base.transitions import Transition, TransitionTable


def _person(actor: Any) -> Any:
    return actor if getattr(actor, "pk", None) and hasattr(actor, "get_username") else None


def _on_acknowledge(alarm: Any, actor: Any, params: dict[str, Any]) -> None:
    alarm.acknowledged_by = _person(actor)
    alarm.acknowledged_at = timezone.now()


def _on_clear(alarm: Any, actor: Any, params: dict[str, Any]) -> None:
    alarm.cleared_by = _person(actor)
    alarm.cleared_at = timezone.now()
    alarm.clear_reason = str(params.get("reason", ""))[:255]
    if alarm.acknowledged_at is None:
        alarm.acknowledged_at = alarm.cleared_at
        alarm.acknowledged_by = alarm.cleared_by


def _needs_reason(alarm: Any, actor: Any, params: dict[str, Any]) -> str | None:
    if actor is None or isinstance(actor, str):
        return None  # the system clears when the condition is gone
    return None if str(params.get("reason", "")).strip() else "人工解除报警须填写原因。"


ALARM_LIFE_CYCLE = TransitionTable(
    Alarm,
    "status",
    [
        Transition(
            (AlarmStatus.ACTIVE,), "acknowledge", AlarmStatus.ACKNOWLEDGED, "确认",
            permission="alarms.acknowledge_alarm", effect=_on_acknowledge,
        ),
        Transition(
            (AlarmStatus.ACTIVE, AlarmStatus.ACKNOWLEDGED), "clear", AlarmStatus.CLEARED, "解除",
            permission="alarms.clear_alarm", guard=_needs_reason, effect=_on_clear,
        ),
    ],
)  # fmt: skip
