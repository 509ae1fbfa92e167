"""Period plans (the enterprise's split of its annual total) and special periods."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_DOWN, Decimal
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from totalcap.base import events
from totalcap.base.exceptions import ServiceError
from totalcap.base.transitions import Transition, TransitionTable, apply_transition
from totalcap.quotas import ledger
from totalcap.quotas.choices import AccountKind, Granularity, PlanStatus, TransactionKind
from totalcap.quotas.models import ZERO, PeriodPlan, PeriodPlanLine, QuotaAccount, SpecialPeriod
from totalcap.quotas.services.common import annual_account, days_in
from totalcap.quotas.services.totals import allocated_to
from totalcap.registry.models import Enterprise, Outlet, Pollutant

QUANT = Decimal("0.0001")


def even_split(annual: Decimal, granularity: str = Granularity.MONTH) -> dict[int, Decimal]:
    """Split an annual amount evenly into 12 months (or 4 quarters spread over their months);
    rounding remainders go to the last month so the months add up exactly."""
    if annual < ZERO:
        raise ServiceError(_("年度总量不能为负数。"), field="annual")
    parts = 12 if granularity == Granularity.MONTH else 4
    each = (annual / parts).quantize(QUANT, rounding=ROUND_DOWN)
    if granularity == Granularity.MONTH:
        months = dict.fromkeys(range(1, 13), each)
    else:
        per_month = (each / 3).quantize(QUANT, rounding=ROUND_DOWN)
        months = dict.fromkeys(range(1, 13), per_month)
    months[12] += annual - sum(months.values(), ZERO)
    return months


def create_plan(
    actor: Any,
    enterprise: Enterprise,
    pollutant: Pollutant,
    year: int,
    months: dict[int, Decimal],
    *,
    outlet: Outlet | None = None,
    granularity: str = Granularity.MONTH,
) -> PeriodPlan:
    """A draft plan with one amount per month (quarter plans give the same amount to each month
    of a quarter)."""
    if set(months) != set(range(1, 13)):
        raise ServiceError(_("排放计划须包含1至12月。"), field="lines")
    if any(v < ZERO for v in months.values()):
        raise ServiceError(_("计划量不能为负数。"), field="lines")
    if outlet is not None and outlet.enterprise_id != enterprise.pk:
        raise ServiceError(_("排放口不属于该排污单位。"), field="outlet")
    if granularity == Granularity.QUARTER:
        for q in range(4):
            trio = [months[3 * q + 1], months[3 * q + 2], months[3 * q + 3]]
            if len(set(trio)) != 1:
                raise ServiceError(_("按季度计划时，同一季度各月计划量应相同。"), field="lines")
    with transaction.atomic():
        plan = PeriodPlan.objects.create(
            enterprise=enterprise, outlet=outlet, pollutant=pollutant, year=year, granularity=granularity
        )
        PeriodPlanLine.objects.bulk_create(
            PeriodPlanLine(plan=plan, month=m, amount=months[m]) for m in range(1, 13)
        )
        events.record(actor, plan, "plan_created", {"total": sum(months.values(), ZERO)})
    return plan


def plan_total(plan: PeriodPlan) -> Decimal:
    return sum((ln.amount for ln in plan.lines.all()), ZERO)


def _within_annual(plan: PeriodPlan, actor: Any, params: dict[str, Any]) -> str | None:
    granted = allocated_to(plan.enterprise, plan.pollutant, plan.year)
    if granted is None:
        granted = annual_account(plan.enterprise, plan.pollutant, plan.year, plan.outlet).balance
    total = plan_total(plan)
    if total > granted:
        return _("计划合计 %(total)s 超过年度总量指标 %(granted)s。") % {"total": total, "granted": granted}
    return None


def _review_note(plan: PeriodPlan, actor: Any, params: dict[str, Any]) -> None:
    plan.reviewed_by = actor if getattr(actor, "pk", None) else None
    plan.review_note = str(params.get("note", ""))[:255]


def _submitted_by(plan: PeriodPlan, actor: Any, params: dict[str, Any]) -> None:
    plan.submitted_by = actor if getattr(actor, "pk", None) else None


def _needs_note(plan: PeriodPlan, actor: Any, params: dict[str, Any]) -> str | None:
    return None if str(params.get("note", "")).strip() else _("退回须填写审批意见。")


PLAN_LIFE_CYCLE = TransitionTable(
    PeriodPlan,
    "status",
    [
        Transition((PlanStatus.DRAFT,), "submit", PlanStatus.SUBMITTED, "提交", permission="quotas.change_periodplan",
                   effect=_submitted_by),
        Transition((PlanStatus.SUBMITTED,), "approve", PlanStatus.APPROVED, "批准", permission="quotas.approve_periodplan",
                   guard=_within_annual, effect=_review_note),
        Transition((PlanStatus.SUBMITTED,), "reject", PlanStatus.REJECTED, "退回", permission="quotas.approve_periodplan",
                   guard=_needs_note, effect=_review_note),
    ],
)  # fmt: skip


def transition_plan(actor: Any, plan: PeriodPlan, action: str, note: str = "") -> PeriodPlan:
    result: PeriodPlan = apply_transition(PLAN_LIFE_CYCLE, plan, action, actor, {"note": note})
    return result


def approved_plan(
    enterprise: Enterprise, pollutant: Pollutant, year: int, outlet: Outlet | None
) -> PeriodPlan | None:
    plan: PeriodPlan | None = PeriodPlan.objects.filter(
        enterprise=enterprise, pollutant=pollutant, year=year, outlet=outlet, status=PlanStatus.APPROVED
    ).first()
    return plan


def special_periods(
    enterprise: Enterprise, pollutant: Pollutant, start: dt.date, end: dt.date
) -> list[SpecialPeriod]:
    """Special periods of the enterprise's jurisdiction (or above) that overlap [start, end]."""
    ancestors = [p + "/" for p in _path_prefixes(enterprise.jurisdiction.path)]
    found = (
        SpecialPeriod.objects.filter(jurisdiction__path__in=ancestors, start__lte=end, end__gte=start)
        .filter(Q(pollutants=pollutant) | Q(pollutants__isnull=True))
        .distinct()
    )
    return list(found)


def _months_between(start: dt.date, end: dt.date) -> set[tuple[int, int]]:
    result = set()
    y, m = start.year, start.month
    while (y, m) <= (end.year, end.month):
        result.add((y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return result


def _path_prefixes(path: str) -> list[str]:
    parts = [p for p in path.split("/") if p]
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def covered_days(period: SpecialPeriod, year: int, month: int) -> int:
    first = dt.date(year, month, 1)
    last = dt.date(year, month, days_in(year, month))
    start, end = max(first, period.start), min(last, period.end)
    return max(0, (end - start).days + 1)


def reduction(planned: Decimal, periods: list[SpecialPeriod], year: int, month: int) -> Decimal:
    """How much a month's planned allowance is lowered by the special periods covering its days."""
    total = ZERO
    n = days_in(year, month)
    for period in periods:
        days = covered_days(period, year, month)
        total += planned * period.reduction_pct / 100 * Decimal(days) / Decimal(n)
    return min(planned, total.quantize(QUANT, rounding=ROUND_DOWN))


def effective_allowance(plan: PeriodPlan, month: int) -> tuple[Decimal, Decimal]:
    """(planned, allowance after special periods) for one month of an approved plan."""
    line = plan.lines.get(month=month)
    first = dt.date(plan.year, month, 1)
    last = dt.date(plan.year, month, days_in(plan.year, month))
    periods = special_periods(plan.enterprise, plan.pollutant, first, last)
    return line.amount, line.amount - reduction(line.amount, periods, plan.year, month)


def apply_special_period(actor: Any, period: SpecialPeriod) -> list[QuotaAccount]:
    """Lower the already-loaded monthly quota of the days a newly declared period covers
    (moved back to the annual account); months loaded later get the reduction at loading."""
    touched: list[QuotaAccount] = []
    with transaction.atomic():
        locked: SpecialPeriod = SpecialPeriod.objects.select_for_update(no_key=True).get(pk=period.pk)
        if locked.applied:
            return touched
        months = _months_between(locked.start, locked.end)
        pollutants = list(locked.pollutants.all())
        accounts = QuotaAccount.objects.filter(
            kind=AccountKind.MONTHLY, enterprise__jurisdiction__path__startswith=locked.jurisdiction.path
        ).select_related("enterprise", "pollutant", "outlet")
        for acc in accounts:
            if (acc.year, acc.month) not in months or (pollutants and acc.pollutant not in pollutants):
                continue
            assert acc.enterprise is not None and acc.month is not None
            plan = approved_plan(acc.enterprise, acc.pollutant, acc.year, acc.outlet)
            if plan is None:
                continue
            planned = plan.lines.get(month=acc.month).amount
            cut = reduction(planned, [locked], acc.year, acc.month)
            if cut <= ZERO:
                continue
            ledger.post(
                TransactionKind.SPECIAL_PERIOD,
                f"special:{locked.pk}:{acc.pk}",
                [(acc, -cut), (annual_account(acc.enterprise, acc.pollutant, acc.year, acc.outlet), cut)],
                memo=f"{locked.label}（{locked.start}～{locked.end}）削减{locked.reduction_pct}%",
                actor=actor,
                enterprise=acc.enterprise,
            )
            touched.append(acc)
        locked.applied = True
        locked.save(update_fields=["applied", "updated_at"])
        events.record(actor, locked, "special_period_applied", {"accounts": [a.pk for a in touched]})
    return touched
