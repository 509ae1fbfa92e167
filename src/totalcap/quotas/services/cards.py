"""Cards (one enterprise, one permit, one card) and swipes that load the month's quota.

The card is a token: a swipe asks the platform to load the month's approved allowance into the
monthly account, once a month (the posting key makes a second swipe load nothing). The logger is
then sent the remaining allowance so it can close the valve locally while offline.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from totalcap.alarms.choices import Severity
from totalcap.alarms.services import raise_alarm
from totalcap.base import events, jobs
from totalcap.base.exceptions import ServiceError
from totalcap.base.transitions import Transition, TransitionTable, apply_transition
from totalcap.quotas import ledger
from totalcap.quotas.choices import CardStatus, PlanStatus, SwipeChannel, SwipeOutcome, TransactionKind
from totalcap.quotas.models import ZERO, Card, CardSwipe, PeriodPlan
from totalcap.quotas.services.common import annual_account, monthly_account, period_of
from totalcap.quotas.services.plans import effective_allowance
from totalcap.registry.models import DataLogger, Enterprise

logger = logging.getLogger("totalcap.quotas")


def issue_card(actor: Any, enterprise: Enterprise, permit: Any, uid: str, note: str = "") -> Card:
    """Issue the card of an enterprise's permit; refused while another card of that permit is active."""
    from totalcap.permits.choices import IN_FORCE

    uid = uid.strip().upper()
    if not uid or len(uid) > 32 or not uid.isalnum():
        raise ServiceError(_("卡号应为1至32位字母或数字。"), field="uid")
    if permit.enterprise_id != enterprise.pk:
        raise ServiceError(_("排污许可证不属于该排污单位。"), field="permit")
    if permit.status not in IN_FORCE:
        raise ServiceError(_("排污许可证不在有效期内，不能发卡。"), field="permit")
    if Card.objects.filter(uid=uid).exists():
        raise ServiceError(_("卡号「%(uid)s」已被使用。") % {"uid": uid}, field="uid")
    if Card.objects.filter(enterprise=enterprise, permit=permit, status=CardStatus.ACTIVE).exists():
        raise ServiceError(
            _("该许可证已有一张正常使用的卡（一企一证一卡）；请先挂失或注销。"), field="permit"
        )
    with transaction.atomic():
        card = Card.objects.create(
            uid=uid, enterprise=enterprise, permit=permit, issued_at=timezone.now(), note=note
        )
        events.record(actor, card, "card_issued", {"uid": uid, "permit": permit.pk})
    return card


def _replace(card: Card, actor: Any, params: dict[str, Any]) -> None:
    uid = str(params.get("new_uid", "")).strip().upper()
    if Card.objects.filter(uid=uid).exists():
        raise ServiceError(_("卡号「%(uid)s」已被使用。") % {"uid": uid}, field="new_uid")
    card.save(update_fields=["status"])  # leave 'active' before the new card takes the slot
    card.replaced_by = Card.objects.create(
        uid=uid,
        enterprise=card.enterprise,
        permit=card.permit,
        issued_at=timezone.now(),
        note=f"补办，原卡 {card.uid}",
    )


def _new_uid_given(card: Card, actor: Any, params: dict[str, Any]) -> str | None:
    uid = str(params.get("new_uid", "")).strip()
    return None if uid and uid.isalnum() and len(uid) <= 32 else _("补办须提供新卡号（1至32位字母或数字）。")


CARD_LIFE_CYCLE = TransitionTable(
    Card,
    "status",
    [
        Transition((CardStatus.ACTIVE,), "report_lost", CardStatus.LOST, "挂失", permission="quotas.view_card"),
        Transition((CardStatus.LOST,), "found", CardStatus.ACTIVE, "解除挂失", permission="quotas.manage_card"),
        Transition((CardStatus.LOST, CardStatus.ACTIVE), "replace", CardStatus.REPLACED, "补办",
                   permission="quotas.manage_card", guard=_new_uid_given, effect=_replace),
        Transition((CardStatus.ACTIVE, CardStatus.LOST), "revoke", CardStatus.REVOKED, "注销",
                   permission="quotas.manage_card"),
    ],
)  # fmt: skip


def card_action(actor: Any, card: Card, action: str, **params: Any) -> Card:
    result: Card = apply_transition(CARD_LIFE_CYCLE, card, action, actor, params)
    return result


@dataclass
class SwipeResult:
    swipe: CardSwipe
    loaded: dict[str, Decimal] = field(default_factory=dict)
    remaining: dict[str, Decimal] = field(default_factory=dict)

    @property
    def accepted(self) -> bool:
        return self.swipe.outcome in (SwipeOutcome.LOADED, SwipeOutcome.ALREADY_LOADED)


def swipe(
    actor: Any,
    logger_obj: DataLogger,
    card_uid: str,
    *,
    at: dt.datetime | None = None,
    channel: str = SwipeChannel.API,
) -> SwipeResult:
    """Handle a swipe at ``logger_obj``: check the card, load this month's approved allowance once,
    and record the swipe whatever its outcome (a refused card raises an alarm)."""
    at = at or timezone.now()
    uid = card_uid.strip().upper()
    enterprise = logger_obj.outlet.enterprise
    year, month = period_of(at)
    card = Card.objects.filter(uid=uid).first()
    outcome, message = SwipeOutcome.LOADED, ""
    if card is None:
        outcome, message = SwipeOutcome.REFUSED_UNKNOWN, _("未登记的卡号。")
    elif card.status != CardStatus.ACTIVE:
        outcome, message = (
            SwipeOutcome.REFUSED_INACTIVE,
            _("该卡状态为「%(s)s」，不能使用。") % {"s": card.get_status_display()},
        )
    elif card.enterprise_id != enterprise.pk:
        outcome, message = SwipeOutcome.REFUSED_MISMATCH, _("该卡不属于本排污单位。")
    loaded: dict[str, Decimal] = {}
    remaining: dict[str, Decimal] = {}
    with transaction.atomic():
        if outcome == SwipeOutcome.LOADED:
            plans = list(
                PeriodPlan.objects.filter(enterprise=enterprise, year=year, status=PlanStatus.APPROVED)
                .filter(outlet__in=[logger_obj.outlet])
                .select_related("pollutant", "outlet")
            ) + list(
                PeriodPlan.objects.filter(
                    enterprise=enterprise, year=year, status=PlanStatus.APPROVED, outlet__isnull=True
                ).select_related("pollutant")
            )
            if not plans:
                outcome, message = SwipeOutcome.NO_PLAN, _("本年度没有已批准的排放计划。")
            any_new = False
            for plan in plans:
                planned, allowance = effective_allowance(plan, month)
                annual = annual_account(enterprise, plan.pollutant, year, plan.outlet)
                monthly = monthly_account(enterprise, plan.pollutant, year, month, plan.outlet)
                amount = min(allowance, max(annual.balance, ZERO))
                if amount > ZERO:
                    posted = ledger.post(
                        TransactionKind.LOADING,
                        f"load:{plan.pk}:{year}-{month:02d}",
                        [(annual, -amount), (monthly, amount)],
                        memo=f"{year}年{month}月配额加载（卡 {uid}）"
                        + ("" if allowance == planned else f"，特殊时段削减 {planned - allowance}"),
                        actor=actor,
                        occurred_at=at,
                        reference={"card": uid, "logger": logger_obj.mn},
                        enterprise=enterprise,
                    )
                    if posted.created:
                        any_new = True
                        loaded[plan.pollutant.code] = amount
                monthly.refresh_from_db()
                remaining[plan.pollutant.code] = monthly.balance
            if plans and not any_new:
                outcome, message = SwipeOutcome.ALREADY_LOADED, _("本月配额已加载，本次刷卡不重复加载。")
        record = CardSwipe.objects.create(
            card=card,
            card_uid=uid,
            logger=logger_obj,
            enterprise=enterprise,
            swiped_at=at,
            year=year,
            month=month,
            channel=channel,
            outcome=outcome,
            loaded={k: str(v) for k, v in loaded.items()},
            remaining={k: str(v) for k, v in remaining.items()},
            message=message,
        )
        events.record(actor, record, "card_swiped", {"outcome": outcome, "loaded": loaded}, enterprise_id=enterprise.pk,
                      jurisdiction_path=enterprise.jurisdiction.path)  # fmt: skip
        if outcome in (
            SwipeOutcome.REFUSED_INACTIVE,
            SwipeOutcome.REFUSED_UNKNOWN,
            SwipeOutcome.REFUSED_MISMATCH,
        ):
            raise_alarm(
                type="card_refused",
                source=f"registry.datalogger:{logger_obj.pk}",
                title="IC卡刷卡被拒绝",
                message=f"数采仪 {logger_obj.mn} 刷卡 {uid} 被拒绝：{message}",
                severity=Severity.MAJOR,
                enterprise=enterprise,
                outlet=logger_obj.outlet,
                payload={"uid": uid, "outcome": outcome},
            )
        if loaded:
            from totalcap.quotas.services.consumption import evaluate_enterprise

            transaction.on_commit(lambda: evaluate_enterprise(enterprise.pk, year, month))
        if outcome in (SwipeOutcome.LOADED, SwipeOutcome.ALREADY_LOADED) and logger_obj.is_total_control:
            jobs.defer("quotas.push_allowance", swipe_id=record.pk)
    logger.info("swipe %s at %s: %s", uid, logger_obj.mn, outcome)
    return SwipeResult(record, loaded, remaining)


def push_after_swipe(swipe_id: int) -> list[int]:
    """Send the swiping logger its remaining allowance per pollutant (TotalCap CN 3812)."""
    from totalcap.quotas import devices
    from totalcap.quotas.models import unit_of

    record = CardSwipe.objects.select_related("logger").filter(pk=swipe_id).first()
    if record is None:
        return []
    period = f"{record.year:04d}{record.month:02d}"
    sent = []
    for code, remaining in record.remaining.items():
        command_id = devices.push_allowance(record.logger, period, code, Decimal(remaining), unit_of(code))
        if command_id is not None:
            sent.append(command_id)
    return sent
