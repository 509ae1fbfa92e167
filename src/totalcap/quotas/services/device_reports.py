"""What the total-control logger reports, turned into quota actions (called by the gateway hook).

* **3811 card swipe** → :func:`totalcap.quotas.services.cards.swipe` (channel HJ 212); a re-sent
  swipe frame (same logger, card and swipe time) is handled once.
* **3020 valve state** (``i32101``) → the valve's state (the ingest service, idempotent), then the
  open valve orders of that valve follow their command and look for their physical evidence.
* **3813 offline valve action** → the valve's state, a domain event on the valve, and a
  reconciliation with the ledger: a valve opened while the month's quota is exhausted is closed
  again by a new automatic order and raises an alarm; a close the platform did not ask for (and
  the quota is not exhausted) raises an alarm.
* **Hourly accounting** → :func:`totalcap.quotas.services.consumption.true_up_hour` for hours of
  outlets under total control.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hj212.errors import HJ212Error
from hj212.values import parse_datetime
from totalcap.alarms.choices import Severity
from totalcap.alarms.services import raise_alarm
from totalcap.base import events
from totalcap.base.exceptions import ServiceError
from totalcap.ingest.services import VALVE_STATE_CODE, VALVE_STATES
from totalcap.quotas.choices import (
    FINAL_VALVE_STATES,
    AccountKind,
    AlertLevel,
    PlanStatus,
    SwipeChannel,
    ValveAction,
    ValveOrderState,
)
from totalcap.quotas.models import CardSwipe, PeriodPlan, QuotaAccount, ValveOrder
from totalcap.quotas.services.common import period_of
from totalcap.registry.choices import ValveState
from totalcap.registry.models import DataLogger, Valve

logger = logging.getLogger("totalcap.quotas")

#: 3813 ``Source``: 0 local operation on the logger, 1 host command, 2 automatic (allowance).
OFFLINE_SOURCES = {0: "现场手动操作", 1: "平台指令", 2: "数采仪按剩余排放量自动动作"}


def _time(items: Mapping[str, str], key: str, default: dt.datetime) -> dt.datetime:
    try:
        return parse_datetime(items[key]) if items.get(key) else default
    except HJ212Error:
        return default


def _int(value: str | None, default: int | None = None) -> int | None:
    try:
        return int(str(value).strip()) if value is not None else default
    except ValueError:
        return default


def _actor(data_logger: DataLogger) -> str:
    return f"logger:{data_logger.mn}"


# --- card swipe (3811) ---------------------------------------------------------------------------


def swipe_reported(logger_id: int, items: Mapping[str, str], received_at: dt.datetime) -> CardSwipe | None:
    """A 3811 swipe from a total-control logger: load the month through the card service (once;
    a refused card raises its alarm there). Returns the swipe record, or None when ignored."""
    from totalcap.quotas.services import cards

    uid = str(items.get("CardUid", "")).strip().upper()
    data_logger = (
        DataLogger.objects.select_related("outlet", "outlet__enterprise", "outlet__enterprise__jurisdiction")
        .filter(pk=logger_id)
        .first()
    )
    if data_logger is None or not data_logger.is_total_control or not uid:
        return None
    at = _time(items, "SwipeTime", received_at)
    earlier: CardSwipe | None = CardSwipe.objects.filter(
        logger=data_logger, card_uid=uid, swiped_at=at
    ).first()
    if earlier is not None:  # the same frame re-sent (its ack was lost): handled already
        return earlier
    try:
        result = cards.swipe(_actor(data_logger), data_logger, uid, at=at, channel=SwipeChannel.HJ212)
        return result.swipe
    except ServiceError as exc:
        logger.warning("swipe %s at %s not handled: %s", uid, data_logger.mn, exc)
        return None


# --- valve state (3020) and offline actions (3813) ------------------------------------------------


def _exhausted_accounts(valve: Valve, at: dt.datetime) -> list[QuotaAccount]:
    """This month's accounts the valve's outlet consumes from that have reached the close level."""
    year, month = period_of(at)
    outlet = valve.outlet
    own_plan = PeriodPlan.objects.filter(
        enterprise_id=outlet.enterprise_id, outlet=outlet, year=year, status=PlanStatus.APPROVED
    ).exists()
    accounts = QuotaAccount.objects.filter(
        kind=AccountKind.MONTHLY,
        enterprise_id=outlet.enterprise_id,
        year=year,
        month=month,
        alert_level=AlertLevel.EXHAUSTED,
    )
    accounts = accounts.filter(outlet=outlet) if own_plan else accounts.filter(outlet__isnull=True)
    return list(accounts.select_related("enterprise", "outlet", "pollutant"))


def _open_orders(valve: Valve) -> Any:
    return ValveOrder.objects.filter(valve=valve).exclude(state__in=FINAL_VALVE_STATES)


def _close_again(valve: Valve, account: QuotaAccount, why: str) -> ValveOrder | None:
    """The quota is exhausted but the valve is open: a new automatic close (dispatched at once)."""
    from totalcap.quotas.services import valves

    for executed in _open_orders(valve).filter(action=ValveAction.CLOSE, state=ValveOrderState.EXECUTED):
        # the logger said it closed, and now reports the valve open: that close did not hold
        valves.fail(executed, _("设备报告已关阀，但随后上报阀门开启"))
    if _open_orders(valve).filter(action=ValveAction.CLOSE).exists():
        return None  # a close is already on its way
    if _open_orders(valve).filter(action=ValveAction.OPEN).exists():
        return None  # a reopen was ordered (a recharge): the valve is meant to be open
    return valves.system_close(valve, account, why)


def valve_state_reported(
    logger_id: int,
    valve_id: int,
    state: int | None,
    at: dt.datetime,
    frame_id: int | None = None,
    received_at: dt.datetime | None = None,
) -> Valve | None:
    """A valve state from the logger (3020 ``i32101``; ``at`` by its clock, ``received_at`` the
    frame's arrival): update the valve (idempotent), move its open orders on (command state,
    evidence), and re-close a valve found open while the month's quota is exhausted."""
    from totalcap.ingest.services import report_valve_state
    from totalcap.quotas.services import valves

    received_at = received_at or timezone.now()
    reported = report_valve_state(
        logger_id, valve_id, state, at=at, received_at=received_at, frame_id=frame_id, live=True
    )
    if reported is None:
        return None
    valve: Valve = Valve.objects.select_related("outlet", "logger").get(pk=reported.pk)
    valves.advance_valves([valve.pk])
    if reported.state_reported_at != at or reported.state_received_at != received_at:
        # not applied (a re-sent old report, or one that arrived before the valve's last report):
        # the valve is no longer in that state
        return valve
    # Act on what the logger says now: open while the quota is exhausted → close.
    if state is not None and VALVE_STATES.get(state) == ValveState.OPEN:
        for account in _exhausted_accounts(valve, at):
            order = _close_again(valve, account, _("配额用尽期间阀门处于开启状态，重新关阀"))
            if order is not None:
                raise_alarm(
                    type="valve_open_while_exhausted",
                    source=f"registry.valve:{valve.pk}",
                    title="配额用尽期间阀门被开启",
                    message=f"{valve} 上报为开启，但 {account} 配额已用尽；已重新下达关阀指令。",
                    severity=Severity.CRITICAL,
                    enterprise=account.enterprise,
                    outlet=valve.outlet,
                    payload={"order": order.pk, "reported_at": at.isoformat()},
                )
            break
    return valve


def offline_action_reported(
    logger_id: int, items: Mapping[str, str], received_at: dt.datetime, frame_id: int | None = None
) -> Valve | None:
    """A valve action the logger took while offline (3813), reconciled with the platform's view."""
    valve_id = _int(items.get("ValveId"), 1) or 1
    closed = str(items.get("Action", "")).strip() == "1"
    source = _int(items.get("Source"), 0)
    at = _time(items, "DataTime", received_at)
    from totalcap.ingest.services import report_valve_state

    reported = report_valve_state(
        logger_id, valve_id, 1 if closed else 0, at=at, received_at=received_at, frame_id=frame_id
    )
    if reported is None:
        return None
    valve: Valve = Valve.objects.select_related("outlet", "outlet__enterprise", "logger").get(pk=reported.pk)
    payload = {
        "action": "close" if closed else "open",
        "source": source,
        "source_label": OFFLINE_SOURCES.get(source or 0, str(source)),
        "at": at.isoformat(),
        "cmd_qn": items.get("CmdQN", ""),
        "frame_id": frame_id,
    }
    from totalcap.base.models import DomainEvent

    seen = DomainEvent.objects.filter(
        object_type="registry.valve", object_id=str(valve.pk), action="offline_valve_action"
    ).filter(payload__at=payload["at"], payload__action=payload["action"])
    if seen.exists():
        return valve  # the same report re-sent
    with transaction.atomic():
        events.record(f"logger:{valve.logger.mn}", valve, "offline_valve_action", payload)
        exhausted = _exhausted_accounts(valve, at)
        if not closed and exhausted:
            order = _close_again(valve, exhausted[0], _("离线期间阀门被开启且配额已用尽，重新关阀"))
            raise_alarm(
                type="valve_open_while_exhausted",
                source=f"registry.valve:{valve.pk}",
                title="配额用尽期间阀门被开启",
                message=(
                    f"{valve} 离线期间于 {timezone.localtime(at):%m-%d %H:%M} 开启"
                    f"（{payload['source_label']}），但 {exhausted[0]} 配额已用尽"
                    + ("；已重新下达关阀指令。" if order else "。")
                ),
                severity=Severity.CRITICAL,
                enterprise=valve.outlet.enterprise,
                outlet=valve.outlet,
                payload=payload,
            )
        elif closed and not exhausted and not _open_orders(valve).filter(action=ValveAction.CLOSE).exists():
            raise_alarm(
                type="valve_closed_offline",
                source=f"registry.valve:{valve.pk}",
                title="数采仪离线期间自行关阀",
                message=(
                    f"{valve} 离线期间于 {timezone.localtime(at):%m-%d %H:%M} 关闭"
                    f"（{payload['source_label']}），而平台账户配额未用尽，请核对数采仪余量与台账。"
                ),
                severity=Severity.WARNING,
                enterprise=valve.outlet.enterprise,
                outlet=valve.outlet,
                payload=payload,
            )
    from totalcap.quotas.services import valves

    valves.advance_valves([valve.pk])
    return valve


def handle_messages(messages: Iterable[Any]) -> None:
    """Dispatch committed device messages (``ingest.hooks.DeviceMessage``) of total-control loggers."""
    for message in messages:
        items: Mapping[str, str] = message.items or {}
        try:
            if message.cn == "3811":
                swipe_reported(message.logger_id, items, message.received_at)
            elif message.cn == "3813":
                offline_action_reported(message.logger_id, items, message.received_at, message.frame_id)
            elif message.cn == "3020" and f"{VALVE_STATE_CODE}-Info" in items:
                state = _int(items.get(f"{VALVE_STATE_CODE}-Info"))
                valve_state_reported(
                    message.logger_id,
                    _int(items.get("ValveId"), 1) or 1,
                    state if state in VALVE_STATES else None,
                    _time(items, "DataTime", message.received_at),
                    message.frame_id,
                    message.received_at,
                )
        except Exception:
            logger.exception("device message %s of logger %s not handled", message.cn, message.logger_id)


# --- hourly accounting --------------------------------------------------------------------------


def true_up_accounted(hours: Iterable[Any]) -> int:
    """Hourly-accounting listener: true every newly accounted hour of a controlled outlet up to its
    accounted amount (only the difference to what real-time consumption posted). Returns the count
    of hours looked at."""
    from totalcap.quotas.services.consumption import true_up_hour
    from totalcap.registry.models import Outlet, Pollutant

    hours = list(hours)
    if not hours:
        return 0
    years = {period_of(h.data_time)[0] for h in hours}
    controlled = set(
        PeriodPlan.objects.filter(status=PlanStatus.APPROVED, year__in=years).values_list(
            "enterprise_id", flat=True
        )
    )
    outlets = {
        o.pk: o
        for o in Outlet.objects.filter(
            pk__in={h.outlet_id for h in hours}, enterprise_id__in=controlled
        ).select_related("enterprise", "enterprise__jurisdiction")
    }
    if not outlets:
        return 0
    pollutants = {p.code: p for p in Pollutant.objects.filter(code__in={h.pollutant for h in hours})}
    done = 0
    for hour in hours:
        outlet, pollutant = outlets.get(hour.outlet_id), pollutants.get(hour.pollutant)
        if outlet is None or pollutant is None:
            continue
        try:
            true_up_hour(outlet, pollutant, hour.data_time, hour.kg, hour.version)
            done += 1
        except Exception:
            logger.exception("true-up of %s %s %s failed", outlet.pk, pollutant.code, hour.data_time)
    return done


#: Order states that wait for the device (dispatch, command answers) or for physical evidence.
WAITING = [ValveOrderState.APPROVED, ValveOrderState.SENT, ValveOrderState.ACCEPTED, ValveOrderState.EXECUTED]


def pending_valve_outlets(outlet_ids: Iterable[int]) -> list[int]:
    """Valves of these outlets with orders that wait for the device or for evidence."""
    return list(
        ValveOrder.objects.filter(valve__outlet_id__in=list(outlet_ids), state__in=WAITING)
        .values_list("valve_id", flat=True)
        .distinct()
    )


def waiting_outlets() -> set[int]:
    """Outlets whose valves have orders waiting for the device or for evidence."""
    return set(ValveOrder.objects.filter(state__in=WAITING).values_list("valve__outlet_id", flat=True))
