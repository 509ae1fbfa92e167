"""Region totals, allocation proposals and their approval, reserve draws and returns.

The region's permitted emissions may not exceed its total: the total is issued into the region's
reserve account, allocations move it from the reserve to enterprises' annual accounts, and a
reserve can never go below zero.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from totalcap.base import events
from totalcap.base.exceptions import ServiceError, TransitionRefused
from totalcap.quotas import ledger
from totalcap.quotas.choices import (
    AccountKind,
    AllocationMethod,
    PlanStatus,
    RegionTotalStatus,
    TransactionKind,
)
from totalcap.quotas.models import (
    ZERO,
    AllocationLine,
    AllocationPlan,
    LedgerEntry,
    QuotaAccount,
    RegionTotal,
)
from totalcap.quotas.services.common import annual_account
from totalcap.registry.models import Enterprise, Pollutant

QUANT = Decimal("0.0001")


def reserve_account(total: RegionTotal) -> QuotaAccount:
    return ledger.account(
        AccountKind.RESERVE, jurisdiction=total.jurisdiction, pollutant=total.pollutant, year=total.year
    )


def issue_account(total: RegionTotal) -> QuotaAccount:
    return ledger.account(
        AccountKind.ISSUE, jurisdiction=total.jurisdiction, pollutant=total.pollutant, year=total.year
    )


def activate(actor: Any, total: RegionTotal) -> RegionTotal:
    """Issue a draft region total into the region's reserve."""
    with transaction.atomic():
        locked: RegionTotal = RegionTotal.objects.select_for_update(no_key=True).get(pk=total.pk)
        if locked.status != RegionTotalStatus.DRAFT:
            raise TransitionRefused(_("该区域总量已下达。"))
        ledger.post(
            TransactionKind.REGION_TOTAL,
            f"region_total:{locked.pk}",
            [(issue_account(locked), -locked.total), (reserve_account(locked), locked.total)],
            memo=f"{locked} 下达",
            actor=actor,
        )
        locked.status = RegionTotalStatus.ACTIVE
        locked.save(update_fields=["status", "updated_at"])
        events.record(actor, locked, "region_total_activated", {"total": locked.total})
    return locked


def allocated(total: RegionTotal) -> Decimal:
    """How much of the total sits in enterprises' annual accounts (allocated minus returned)."""
    status = RegionTotal.objects.filter(pk=total.pk).values_list("status", flat=True).first()
    if status != RegionTotalStatus.ACTIVE:
        return ZERO
    return Decimal(total.total - reserve_account(total).balance)


def distributable(total: RegionTotal, keep_reserve_pct: Decimal) -> Decimal:
    """The part of the total an allocation may hand out: after the stricter quality factor
    (一区一策) and the reserve kept for new projects."""
    factor = (1 - total.quality_factor_pct / 100) * (1 - keep_reserve_pct / 100)
    return Decimal(total.total * factor).quantize(QUANT, rounding=ROUND_DOWN)


def _proportional(amount: Decimal, bases: dict[int, Decimal]) -> dict[int, Decimal]:
    """Split ``amount`` in proportion to ``bases`` (rounded down; the remainder stays in reserve)."""
    weight = sum(bases.values(), ZERO)
    if weight <= ZERO:
        return dict.fromkeys(bases, ZERO)
    return {k: (amount * v / weight).quantize(QUANT, rounding=ROUND_DOWN) for k, v in bases.items()}


def propose(
    actor: Any,
    total: RegionTotal,
    method: str,
    bases: dict[int, tuple[Decimal, str]],
    *,
    keep_reserve_pct: Decimal = Decimal("5"),
) -> AllocationPlan:
    """Create an allocation proposal from a basis per enterprise.

    ``bases`` maps enterprise id → (basis value, note): last year's emissions for the history
    method, the emission-standard permitted amount for the standard method, capacity × performance
    value for the performance method, the requested figure for the manual method. For the
    standard and performance methods a basis larger than the distributable share is scaled down
    proportionally; for the history method the share is proportional.
    """
    if method not in AllocationMethod.values:
        raise ServiceError(_("未知的分配方法。"), field="method")
    if not bases:
        raise ServiceError(_("分配方案至少需要一个排污单位。"), field="lines")
    if any(value < ZERO for value, _note in bases.values()):
        raise ServiceError(_("分配依据值不能为负数。"), field="lines")
    in_region = set(
        Enterprise.objects.filter(
            pk__in=bases, jurisdiction__path__startswith=total.jurisdiction.path
        ).values_list("pk", flat=True)
    )
    outside = set(bases) - in_region
    if outside:
        raise ServiceError(_("排污单位不在该区域内：%(ids)s。") % {"ids": sorted(outside)}, field="lines")
    share = distributable(total, keep_reserve_pct)
    values = {k: v for k, (v, _n) in bases.items()}
    if method == AllocationMethod.HISTORY:
        proposed = _proportional(share, values)
    else:
        demand = sum(values.values(), ZERO)
        proposed = values if demand <= share else _proportional(share, values)
    with transaction.atomic():
        plan = AllocationPlan.objects.create(
            region_total=total,
            method=method,
            keep_reserve_pct=keep_reserve_pct,
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        AllocationLine.objects.bulk_create(
            AllocationLine(
                plan=plan,
                enterprise_id=k,
                basis=values[k],
                basis_note=bases[k][1][:255],
                proposed=proposed[k],
                final=proposed[k],
            )
            for k in sorted(bases)
        )
        events.record(
            actor, plan, "allocation_proposed", {"method": method, "share": share, "lines": len(bases)}
        )
    return plan


def edit_line(actor: Any, line: AllocationLine, final: Decimal) -> AllocationLine:
    if final < ZERO:
        raise ServiceError(_("核定分配量不能为负数。"), field="final")
    with transaction.atomic():
        locked: AllocationLine = (
            AllocationLine.objects.select_for_update(no_key=True).select_related("plan").get(pk=line.pk)
        )
        if locked.plan.status != PlanStatus.DRAFT:
            raise TransitionRefused(_("方案已批准，不能修改。"))
        before = locked.final
        locked.final = final
        locked.save(update_fields=["final", "updated_at"])
        events.record(
            actor,
            locked.plan,
            "allocation_line_edited",
            {"enterprise": locked.enterprise_id, "from": before, "to": final},
        )
    return locked


def approve(actor: Any, plan: AllocationPlan) -> AllocationPlan:
    """Approve a plan: move each line's final figure from the reserve to the enterprise's annual
    account. The requester of a plan may approve it (allocation is a collective decision recorded
    with the approver); the reserve may not go negative."""
    if not actor.has_perm("quotas.approve_allocationplan"):
        from totalcap.base.exceptions import PermissionRefused

        raise PermissionRefused(_("您没有批准分配方案的权限。"))
    with transaction.atomic():
        locked: AllocationPlan = (
            AllocationPlan.objects.select_for_update(no_key=True)
            .select_related("region_total")
            .get(pk=plan.pk)
        )
        total = locked.region_total
        if locked.status != PlanStatus.DRAFT:
            raise TransitionRefused(_("只有草稿状态的方案可以批准。"))
        if total.status != RegionTotalStatus.ACTIVE:
            raise TransitionRefused(_("区域总量尚未下达，不能批准分配。"))
        lines = list(locked.lines.select_related("enterprise").order_by("enterprise_id"))
        need = sum((ln.final for ln in lines), ZERO)
        reserve = ledger.lock([reserve_account(total)])
        available = next(iter(reserve.values())).balance
        if need > available:
            raise ServiceError(
                _("分配合计 %(need)s 超过区域储备余额 %(have)s：区域许可排放量不得超过总量。")
                % {"need": need, "have": available},
                code="over_total",
            )
        reserve_acc = reserve_account(total)
        for line in lines:
            if line.final <= ZERO:
                continue
            ledger.post(
                TransactionKind.ALLOCATION,
                f"allocation:{locked.pk}:{line.enterprise_id}",
                [
                    (reserve_acc, -line.final),
                    (annual_account(line.enterprise, total.pollutant, total.year), line.final),
                ],
                memo=f"{total} 分配给 {line.enterprise.name}（{locked.get_method_display()}）",
                actor=actor,
                enterprise=line.enterprise,
            )
        locked.status = PlanStatus.APPROVED
        locked.approved_by = actor
        locked.approved_at = timezone.now()
        locked.save(update_fields=["status", "approved_by", "approved_at", "updated_at"])
        events.record(actor, locked, "allocation_approved", {"total": need, "lines": len(lines)})
    return locked


def draw_from_reserve(
    actor: Any, total: RegionTotal, enterprise: Enterprise, amount: Decimal, reason: str
) -> None:
    """A new, changed or expanded project takes quota from the region's reserve."""
    if amount <= ZERO:
        raise ServiceError(_("使用量必须大于0。"), field="amount")
    if not reason.strip():
        raise ServiceError(_("请说明项目（新建、改建或扩建）。"), field="reason")
    with transaction.atomic():
        reserve = reserve_account(total)
        fresh = ledger.lock([reserve])[reserve.pk]
        if fresh.balance < amount:
            raise ServiceError(
                _("区域储备余额 %(have)s 不足 %(need)s；请通过排污权交易获得。")
                % {"have": fresh.balance, "need": amount},
                code="reserve_insufficient",
            )
        ledger.post(
            TransactionKind.RESERVE_DRAW,
            f"reserve_draw:{total.pk}:{enterprise.pk}:{timezone.now().timestamp()}",
            [(reserve, -amount), (annual_account(enterprise, total.pollutant, total.year), amount)],
            memo=reason,
            actor=actor,
            enterprise=enterprise,
        )
        events.record(
            actor, enterprise, "reserve_drawn", {"total": total.pk, "amount": amount, "reason": reason}
        )


def return_to_reserve(actor: Any, total: RegionTotal, enterprise: Enterprise, reason: str) -> Decimal:
    """A closure returns the enterprise's unused annual quota to the region's reserve."""
    with transaction.atomic():
        annual = annual_account(enterprise, total.pollutant, total.year)
        fresh = ledger.lock([annual])[annual.pk]
        amount = Decimal(fresh.balance)
        if amount <= ZERO:
            return ZERO
        ledger.post(
            TransactionKind.RESERVE_RETURN,
            f"reserve_return:{total.pk}:{enterprise.pk}:{timezone.now().timestamp()}",
            [(annual, -amount), (reserve_account(total), amount)],
            memo=reason or "关停收回",
            actor=actor,
            enterprise=enterprise,
        )
        events.record(actor, enterprise, "reserve_returned", {"total": total.pk, "amount": amount})
    return amount


def allocated_to(enterprise: Enterprise, pollutant: Pollutant, year: int) -> Decimal | None:
    """The enterprise's approved allocation for a year (None when the region has none)."""
    total = LedgerEntry.objects.filter(
        transaction__kind__in=[
            TransactionKind.ALLOCATION,
            TransactionKind.RESERVE_DRAW,
            TransactionKind.RESERVE_RETURN,
        ],
        account__kind=AccountKind.ANNUAL,
        account__enterprise=enterprise,
        account__pollutant=pollutant,
        account__year=year,
    ).aggregate(total=Sum("amount"))["total"]
    return None if total is None else Decimal(total)


def allocation_in_tonnes(enterprise: Any, pollutant: Any, year: int) -> Decimal | None:
    """The permits app's total-control method: the approved allocation in t/a (None if none)."""
    kg = allocated_to(enterprise, pollutant, year)
    if kg is None or pollutant.code in ("w00000", "a00000"):
        return None
    return Decimal(kg / 1000).quantize(Decimal("0.0001"))
