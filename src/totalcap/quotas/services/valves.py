"""Valve orders: requested → approved → sent → accepted → executed → confirmed by physical evidence.

* Automatic close when the month's quota is exhausted, after the policy's grace period and a last
  warning; automatic reopen after a recharge (adjustment, transfer) or at the new month.
* Manual orders (and closes of sources under suspension) need a second authorised regulator; the
  requester can never approve their own order.
* The device side is the gateway's command service (:mod:`totalcap.quotas.devices`); an order
  follows its command's states and is *confirmed* only when the logger reports the valve state and
  the next flow data agree (flow zero after a close, flowing after an open).
* Gas outlets have no valve: exhaustion raises an enforcement alarm instead.
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from totalcap.alarms.choices import Severity
from totalcap.alarms.services import raise_alarm
from totalcap.base import events
from totalcap.base.exceptions import PermissionRefused, ServiceError
from totalcap.base.transitions import Transition, TransitionTable, apply_transition
from totalcap.quotas import devices
from totalcap.quotas.choices import (
    FINAL_VALVE_STATES,
    AlertLevel,
    ValveAction,
    ValveOrderOrigin,
    ValveOrderState,
)
from totalcap.quotas.models import QuotaAccount, QuotaPolicy, ValveOrder
from totalcap.registry.choices import Medium, ValveState
from totalcap.registry.models import Valve

logger = logging.getLogger("totalcap.quotas")

S = ValveOrderState
#: How long an order may wait (logger offline …) before it expires.
ORDER_LIFETIME = dt.timedelta(hours=24)
#: Flow at or below this (L/s) counts as "no discharge" when confirming a close.
NO_FLOW = Decimal("0.05")
#: How long after execution the physical evidence may take before the order is failed.
EVIDENCE_WINDOW = dt.timedelta(minutes=30)


def _approver_differs(order: ValveOrder, actor: Any, params: dict[str, Any]) -> str | None:
    if order.requested_by_id is not None and getattr(actor, "pk", None) == order.requested_by_id:
        return _("发起人不能审批自己发起的阀门指令，须由另一名有权限的监管人员审批。")
    return None


def _set_approver(order: ValveOrder, actor: Any, params: dict[str, Any]) -> None:
    order.approved_by = actor if getattr(actor, "pk", None) else None
    order.approved_at = timezone.now()


def _set_failure(order: ValveOrder, actor: Any, params: dict[str, Any]) -> None:
    order.failure = str(params.get("reason", ""))[:255]


def _needs_reason(order: ValveOrder, actor: Any, params: dict[str, Any]) -> str | None:
    return None if str(params.get("reason", "")).strip() else _("请填写原因。")


VALVE_ORDER_LIFE_CYCLE = TransitionTable(
    ValveOrder,
    "state",
    [
        Transition((S.REQUESTED,), "approve", S.APPROVED, "审批通过", permission="quotas.approve_valveorder",
                   guard=_approver_differs, effect=_set_approver),
        Transition((S.REQUESTED,), "reject", S.REJECTED, "驳回", permission="quotas.approve_valveorder",
                   guard=_needs_reason, effect=_set_failure),
        Transition((S.REQUESTED, S.APPROVED), "cancel", S.CANCELLED, "撤销", permission="quotas.request_valveorder",
                   guard=_needs_reason, effect=_set_failure),
        Transition((S.APPROVED,), "sent", S.SENT, "已下发", system_only=True),
        Transition((S.SENT,), "accepted", S.ACCEPTED, "设备受理", system_only=True),
        Transition((S.SENT, S.ACCEPTED), "executed", S.EXECUTED, "设备执行", system_only=True),
        Transition((S.EXECUTED,), "confirmed", S.CONFIRMED, "现场确认", system_only=True),
        Transition((S.APPROVED, S.SENT, S.ACCEPTED, S.EXECUTED), "failed", S.FAILED, "失败", system_only=True,
                   effect=_set_failure),
        Transition((S.APPROVED, S.SENT, S.ACCEPTED), "timed_out", S.TIMED_OUT, "超时", system_only=True,
                   effect=_set_failure),
        Transition((S.REQUESTED, S.APPROVED, S.SENT, S.ACCEPTED), "expired", S.EXPIRED, "过期", system_only=True,
                   effect=_set_failure),
    ],
)  # fmt: skip


def _step(order: ValveOrder, action: str, actor: Any = None, **params: Any) -> ValveOrder:
    result: ValveOrder = apply_transition(VALVE_ORDER_LIFE_CYCLE, order, action, actor, params)
    return result


def request_order(
    actor: Any,
    valve: Valve,
    action: str,
    reason: str,
    *,
    origin: str = ValveOrderOrigin.MANUAL,
) -> ValveOrder:
    """A regulator asks to close or open a valve; a second regulator must approve it."""
    if not actor.has_perm("quotas.request_valveorder"):
        raise PermissionRefused(_("您没有发起阀门指令的权限。"))
    if action not in ValveAction.values:
        raise ServiceError(_("动作应为关阀或开阀。"), field="action")
    if not reason.strip():
        raise ServiceError(_("请填写原因。"), field="reason")
    if origin not in (ValveOrderOrigin.MANUAL, ValveOrderOrigin.SUSPENSION):
        raise ServiceError(_("人工指令的来源应为人工指令或停产整治。"), field="origin")
    if not Valve.objects.restrict(actor, "view").filter(pk=valve.pk).exists():
        raise PermissionRefused(_("该阀门不在您的管辖范围内。"))
    with transaction.atomic():
        order = ValveOrder.objects.create(
            valve=valve,
            enterprise=valve.outlet.enterprise,
            action=action,
            origin=origin,
            reason=reason[:255],
            requested_by=actor,
            expires_at=timezone.now() + ORDER_LIFETIME,
        )
        events.record(
            actor, order, "valve_order_requested", {"action": action, "origin": origin, "reason": reason}
        )
    return order


def approve(actor: Any, order: ValveOrder) -> ValveOrder:
    approved = _step(order, "approve", actor)
    transaction.on_commit(lambda: dispatch_due(approved.pk))
    return approved


def reject(actor: Any, order: ValveOrder, reason: str) -> ValveOrder:
    return _step(order, "reject", actor, reason=reason)


def cancel(actor: Any, order: ValveOrder, reason: str) -> ValveOrder:
    return _step(order, "cancel", actor, reason=reason)


def fail(order: ValveOrder, reason: str) -> ValveOrder:
    """The system gives up on an order (e.g. an executed close whose valve is reported open again)."""
    return _step(order, "failed", None, reason=reason)


def _system_order(
    valve: Valve,
    action: str,
    origin: str,
    reason: str,
    account: QuotaAccount | None,
    not_before: dt.datetime | None,
) -> ValveOrder | None:
    """An automatic order (approved by the system) unless an equivalent one is already open."""
    open_orders = list(ValveOrder.objects.filter(valve=valve).exclude(state__in=FINAL_VALVE_STATES))
    if any(other.action == action for other in open_orders):
        return None
    for other in open_orders:  # a pending open is moot once we must close, and vice versa
        _step(other, "expired", None, reason=_("被新的%(a)s指令取代") % {"a": ValveAction(action).label})
    order = ValveOrder.objects.create(
        valve=valve,
        enterprise=valve.outlet.enterprise,
        action=action,
        origin=origin,
        reason=reason[:255],
        account=account,
        state=S.APPROVED,
        approved_at=timezone.now(),
        not_before=not_before,
        expires_at=timezone.now() + ORDER_LIFETIME,
    )
    events.record(None, order, "valve_order_created", {"action": action, "origin": origin, "reason": reason})
    return order


def _valves_for(account: QuotaAccount) -> list[Valve]:
    """The valves an account's month acts on (its outlet's, or every water outlet's of the plant),
    in one query, linked to the account's outlet and enterprise as already read, so that their
    orders, commands and events load nothing lazily (the logger's outlet is the valve's)."""
    valves = Valve.objects.select_related("logger").order_by("outlet_id", "code")
    if account.outlet_id:
        found = list(valves.filter(outlet_id=account.outlet_id))
        for valve in found:
            valve.outlet = account.outlet
    else:
        found = list(
            valves.select_related("outlet").filter(
                outlet__enterprise_id=account.enterprise_id, outlet__medium=Medium.WATER
            )
        )
    for valve in found:
        valve.outlet.enterprise = account.enterprise
        if valve.logger.outlet_id == valve.outlet_id:
            valve.logger.outlet = valve.outlet
    return found


def on_level_reached(account: QuotaAccount, level: int, policy: QuotaPolicy) -> None:
    """Called by the threshold evaluation for each level crossed upwards."""
    if level == AlertLevel.RED:
        for valve in _valves_for(account):
            devices.indicate_alarm(valve.logger, level=2, text=_("总量配额已用90%，请控制排放"))
    if level != AlertLevel.EXHAUSTED:
        return
    valves = _valves_for(account)
    if (account.outlet is not None and account.outlet.medium == Medium.AIR) or not valves:
        raise_alarm(
            type="quota_exhausted_enforcement",
            source=f"quotas.account:{account.pk}",
            title="超总量排放，需执法处置",
            message=f"{account} 配额已用尽；该排放口无电动阀门（废气排放口），请现场执法处置。",
            severity=Severity.CRITICAL,
            enterprise=account.enterprise,
            outlet=account.outlet,
        )
        return
    grace = dt.timedelta(minutes=policy.close_grace_minutes)
    not_before = timezone.now() + grace if grace else None
    for valve in valves:
        order = _system_order(
            valve, ValveAction.CLOSE, ValveOrderOrigin.AUTO, _("月度配额用尽，自动关阀"), account, not_before
        )
        if order is None:
            continue
        if grace:
            devices.indicate_alarm(valve.logger, level=3, text=_("总量配额已用尽，即将关阀"))
            raise_alarm(
                type="quota_close_pending",
                source=f"registry.valve:{valve.pk}",
                title="最后警告：即将自动关阀",
                message=f"{valve} 将于 {timezone.localtime(not_before):%H:%M} 关闭，除非及时获得配额（调剂或交易）。",
                severity=Severity.CRITICAL,
                enterprise=account.enterprise,
                outlet=valve.outlet,
            )
        else:
            # The close command is committed with the order and leaves the gateway on commit;
            # the sound-and-light indication follows it (a logger executes one command at a
            # time, so the order decides which one waits), outside this transaction; robust: an
            # indication the logger cannot get must not stop the callbacks behind it.
            _dispatch_now(order, valve)
            logger_obj = valve.logger
            transaction.on_commit(
                lambda lg=logger_obj: devices.indicate_alarm(lg, level=3, text=_("总量配额已用尽，阀门关闭")),
                robust=True,
            )


def on_recharged(account: QuotaAccount, policy: QuotaPolicy) -> None:
    """The month's quota is no longer exhausted: withdraw pending closes and reopen closed valves."""
    for valve in _valves_for(account):
        pending = ValveOrder.objects.filter(
            valve=valve, action=ValveAction.CLOSE, state=S.APPROVED, sent_at__isnull=True
        )
        for order in pending:
            _step(order, "expired", None, reason=_("配额已补充，关阀取消"))
        if policy.auto_reopen and (valve.state == ValveState.CLOSED or ValveOrder.objects.filter(
            valve=valve, action=ValveAction.CLOSE, origin=ValveOrderOrigin.AUTO
        ).exclude(state__in=[S.EXPIRED, S.CANCELLED, S.REJECTED]).exists()):  # fmt: skip
            order = _system_order(
                valve, ValveAction.OPEN, ValveOrderOrigin.REOPEN, _("配额已补充，自动开阀"), account, None
            )
            if order is not None:
                _dispatch_now(order, valve)


def system_close(valve: Valve, account: QuotaAccount | None, reason: str) -> ValveOrder | None:
    """An automatic close dispatched at once (reconciliation: a valve found open while its month's
    quota is exhausted); None when a close is already open."""
    order = _system_order(valve, ValveAction.CLOSE, ValveOrderOrigin.AUTO, reason, account, None)
    if order is not None:
        _dispatch_now(order, valve)
    return order


def _dispatch(order: ValveOrder, valve: Valve) -> None:
    """Queue the order's command for the valve's logger and record it on the order, in the
    caller's transaction: the command is committed with the order, and the gateway sends it only
    after that commit (``send_command`` announces it then). Sent is never executed: the order
    follows the command's states (:func:`sync_order`)."""
    command_id = devices.valve_command(valve, order.action, order.expires_at, order.reason)
    order.command_id = command_id
    order.save(update_fields=["command_id", "updated_at"])
    events.record(None, order, "valve_order_dispatched", {"command": command_id})


def _dispatch_now(order: ValveOrder, valve: Valve) -> None:
    """Dispatch an approved system order in the transaction that created it. A command the
    gateway's service refuses (logger disabled …) leaves the order approved and undispatched, as
    :func:`dispatch_due` would: the periodic sweep tries again until the order expires."""
    # No savepoint needed: ``send_command`` refuses before it writes, or inside its own atomic
    # block, and nothing else here raises a ServiceError.
    try:
        _dispatch(order, valve)
    except ServiceError as exc:
        logger.warning("valve order %s not dispatched: %s", order.pk, exc)


def dispatch_due(order_id: int | None = None, now: dt.datetime | None = None) -> list[ValveOrder]:
    """Hand approved, due orders to the device command service (all due orders, or one)."""
    now = now or timezone.now()
    due = ValveOrder.objects.filter(state=S.APPROVED, command_id__isnull=True)
    if order_id is not None:
        due = due.filter(pk=order_id)
    sent = []
    for pk in list(due.values_list("pk", flat=True)):
        with transaction.atomic():
            order: ValveOrder = (
                ValveOrder.objects.select_for_update(no_key=True, of=("self",))
                .select_related("valve", "valve__logger")
                .get(pk=pk)
            )
            if order.state != S.APPROVED or order.command_id is not None:
                continue
            if order.not_before and order.not_before > now:
                continue
            if order.expires_at <= now:
                _step(order, "expired", None, reason=_("未能在有效期内下发"))
                continue
            _dispatch(order, order.valve)
            sent.append(order)
    return sent


#: Device command states → the order action that follows them.
COMMAND_TO_ORDER = {
    "sent": "sent",
    "accepted": "accepted",
    "executed": "executed",
    "rejected": "failed",
    "failed": "failed",
    "timed_out": "timed_out",
    "expired": "expired",
}
ORDER_PATH = {  # the steps an order passes through to reach a state, in order
    "sent": ["sent"],
    "accepted": ["sent", "accepted"],
    "executed": ["sent", "accepted", "executed"],
}


def sync_order(order: ValveOrder) -> ValveOrder:
    """Follow the command's state (sent, accepted, executed, or a failure) — never skipping ahead."""
    if order.command_id is None or order.state in FINAL_VALVE_STATES:
        return order
    status = devices.command_status(order.command_id)
    if status is None:
        return order
    target = COMMAND_TO_ORDER.get(status.state)
    if target is None:
        return order
    current = order
    if target in ("failed", "timed_out", "expired"):
        if VALVE_ORDER_LIFE_CYCLE.find(current.state, target):
            current = _step(current, target, None, reason=status.detail or status.state)
        return current
    for step in ORDER_PATH[target]:
        if VALVE_ORDER_LIFE_CYCLE.find(current.state, step):
            current = _step(current, step, None)
            if step == "sent":
                ValveOrder.objects.filter(pk=current.pk).update(sent_at=status.sent_at or timezone.now())
            if step == "executed":
                ValveOrder.objects.filter(pk=current.pk).update(
                    executed_at=status.finished_at or timezone.now()
                )
    current.refresh_from_db()
    return current


def confirm_by_evidence(order: ValveOrder, now: dt.datetime | None = None) -> ValveOrder:
    """An executed order is confirmed when the reported valve state and the next flow data agree;
    without that evidence within :data:`EVIDENCE_WINDOW` it fails."""
    now = now or timezone.now()
    if order.state != S.EXECUTED:
        return order
    valve = Valve.objects.get(pk=order.valve_id)
    since = order.sent_at or order.executed_at or order.created_at
    wanted = ValveState.CLOSED if order.action == ValveAction.CLOSE else ValveState.OPEN
    # The state must have been reported after the order was sent (platform clock: when the report
    # arrived), and the flow evidence is the first flow value the logger measured at or after that
    # report (its own clock) that reached the platform after the order was executed — so neither
    # a re-sent old record nor a logger clock running ahead or behind can confirm an order.
    report = devices.valve_report_after(valve, since)
    state_ok = report is not None and report.state == wanted
    flow = devices.flow_after(
        valve.outlet,
        report.observed_at if report is not None and state_ok else since,
        received_after=order.executed_at or since,
    )
    flow_ok = flow is not None and (
        (flow[1] <= NO_FLOW) if order.action == ValveAction.CLOSE else flow[1] > NO_FLOW
    )
    if state_ok and flow_ok:
        assert flow is not None
        assert report is not None
        evidence = {
            "valve_state": report.state,
            "state_reported_at": report.observed_at.isoformat(),
            "state_received_at": report.received_at.isoformat(),
            "flow_time": flow[0].isoformat(),
            "flow_l_per_s": str(flow[1]),
        }
        with transaction.atomic():
            ValveOrder.objects.filter(pk=order.pk).update(evidence=evidence, confirmed_at=now)
            order.refresh_from_db()
            confirmed = _step(order, "confirmed", None)
        return confirmed
    if order.executed_at and now - order.executed_at > EVIDENCE_WINDOW:
        detail = []
        if not state_ok:
            detail.append(_("未收到阀门状态上报"))
        if not flow_ok:
            detail.append(_("流量数据与阀门动作不符或缺失"))
        return _step(order, "failed", None, reason=_("设备报告已执行，但缺少现场证据：") + "、".join(detail))
    return order


def _advance_one(order_id: int, now: dt.datetime) -> ValveOrder:
    """Follow one order's command and look for its evidence, holding the order's row lock (the
    gateway hook and the periodic sweep may look at the same order at the same time)."""
    with transaction.atomic():
        order: ValveOrder = ValveOrder.objects.select_for_update(no_key=True).get(pk=order_id)
        return confirm_by_evidence(sync_order(order), now)


def advance_valves(valve_ids: list[int], now: dt.datetime | None = None) -> list[ValveOrder]:
    """Move the open orders of some valves on at once (after the logger reported their state or
    sent data): follow the command, look for the evidence. Returns the orders after the step."""
    now = now or timezone.now()
    pending = (
        ValveOrder.objects.filter(valve_id__in=valve_ids)
        .exclude(state__in=FINAL_VALVE_STATES)
        .exclude(state=S.REQUESTED)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return [_advance_one(pk, now) for pk in list(pending)]


def advance_all(now: dt.datetime | None = None) -> None:
    """Periodic sweep: dispatch due orders, follow commands, look for evidence, expire stale orders."""
    now = now or timezone.now()
    dispatch_due(now=now)
    for pk in list(
        ValveOrder.objects.exclude(state__in=FINAL_VALVE_STATES)
        .exclude(state=S.REQUESTED)
        .order_by("pk")
        .values_list("pk", flat=True)
    ):
        _advance_one(pk, now)
    for order in ValveOrder.objects.filter(state__in=[S.REQUESTED, S.APPROVED], expires_at__lte=now):
        _step(order, "expired", None, reason=_("超过有效期仍未执行"))
