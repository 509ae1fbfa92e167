"""Month-end and year-end settlement.

Month end: the month's consumption and overrun are recorded; a remaining balance is carried to the
next month, returned to the annual account or expired, by the enterprise's policy; an overrun is
deducted (× the penalty factor) from the next month's allowance. Year end: the year's consumption
is trued up against the annual permitted emission of the permit.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from totalcap.base import events
from totalcap.quotas import ledger
from totalcap.quotas.choices import AccountKind, CarryOverRule, TransactionKind
from totalcap.quotas.models import ZERO, QuotaAccount, Settlement
from totalcap.quotas.services.common import (
    annual_account,
    emitted_account,
    monthly_account,
    policy_for,
    usage,
)


def _next(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def settle_month(account: QuotaAccount, actor: Any = None) -> Settlement:
    """Settle one monthly account (idempotent: a second run returns the first settlement)."""
    assert (
        account.kind == AccountKind.MONTHLY and account.enterprise is not None and account.month is not None
    )
    existing: Settlement | None = Settlement.objects.filter(account=account).first()
    if existing is not None:
        return existing
    enterprise = account.enterprise
    policy = policy_for(enterprise)
    with transaction.atomic():
        emitted = emitted_account(account)
        fresh = ledger.lock([account, emitted])
        use = usage(fresh[account.pk], fresh[emitted.pk])
        remaining = max(use.remaining, ZERO)
        overrun = max(-use.remaining, ZERO)
        carried = penalty = ZERO
        ny, nm = _next(account.year, account.month)
        if remaining > ZERO:
            if policy.carry_over == CarryOverRule.CARRY and ny == account.year:
                target = monthly_account(enterprise, account.pollutant, ny, nm, account.outlet)
                kind, memo = TransactionKind.CARRY_OVER, _("余量结转下月")
            elif policy.carry_over in (CarryOverRule.CARRY, CarryOverRule.RETURN) and ny == account.year:
                target = annual_account(enterprise, account.pollutant, account.year, account.outlet)
                kind, memo = TransactionKind.CARRY_OVER, _("余量退回年度指标")
            else:
                target = ledger.account(
                    AccountKind.EXPIRED, enterprise=enterprise, outlet=account.outlet, pollutant=account.pollutant,
                    year=account.year, month=account.month,
                )  # fmt: skip
                kind, memo = TransactionKind.EXPIRY, _("余量作废（年末或按策略）")
            ledger.post(kind, f"settle:{account.pk}:rest", [(account, -remaining), (target, remaining)], memo=memo,
                        actor=actor, enterprise=enterprise)  # fmt: skip
            carried = remaining
        if overrun > ZERO and policy.penalty_factor > ZERO:
            penalty = (overrun * policy.penalty_factor).quantize(Decimal("0.0001"))
            source = (
                monthly_account(enterprise, account.pollutant, ny, nm, account.outlet)
                if ny == account.year
                else annual_account(enterprise, account.pollutant, ny, account.outlet)
            )
            sink = ledger.account(
                AccountKind.PENALTY, enterprise=enterprise, outlet=account.outlet, pollutant=account.pollutant,
                year=account.year, month=account.month,
            )  # fmt: skip
            ledger.post(
                TransactionKind.PENALTY,
                f"settle:{account.pk}:penalty",
                [(source, -penalty), (sink, penalty)],
                memo=_("超量 %(o)s × %(f)s 从下期配额扣减") % {"o": overrun, "f": policy.penalty_factor},
                actor=actor,
                enterprise=enterprise,
            )
        settlement = Settlement.objects.create(
            account=account,
            enterprise=enterprise,
            year=account.year,
            month=account.month,
            allowance=use.allowance,
            used=use.used,
            remaining=use.remaining,
            overrun=overrun,
            carried=carried,
            penalty=penalty,
        )
        events.record(actor, settlement, "month_settled", {"used": use.used, "overrun": overrun, "penalty": penalty},
                      enterprise_id=enterprise.pk, jurisdiction_path=enterprise.jurisdiction.path)  # fmt: skip
    return settlement


def settle_months(year: int, month: int, actor: Any = None) -> list[Settlement]:
    accounts = QuotaAccount.objects.filter(kind=AccountKind.MONTHLY, year=year, month=month).order_by("pk")
    return [settle_month(acc, actor) for acc in accounts]


def settle_year(annual: QuotaAccount, permitted: Decimal | None, actor: Any = None) -> Settlement:
    """True the year up: consumption of all months against the annual permitted emission."""
    assert annual.kind == AccountKind.ANNUAL and annual.enterprise is not None
    existing: Settlement | None = Settlement.objects.filter(account=annual).first()
    if existing is not None:
        return existing
    used = sum(
        (
            a.balance
            for a in QuotaAccount.objects.filter(
                kind=AccountKind.EMITTED,
                enterprise=annual.enterprise,
                outlet=annual.outlet,
                pollutant=annual.pollutant,
                year=annual.year,
            )
        ),
        ZERO,
    )
    allowance = permitted if permitted is not None else used + max(annual.balance, ZERO)
    with transaction.atomic():
        settlement = Settlement.objects.create(
            account=annual,
            enterprise=annual.enterprise,
            year=annual.year,
            month=None,
            allowance=allowance,
            used=used,
            remaining=allowance - used,
            overrun=max(used - allowance, ZERO),
            permitted=permitted,
        )
        events.record(actor, settlement, "year_settled", {"used": used, "permitted": permitted},
                      enterprise_id=annual.enterprise_id, jurisdiction_path=annual.enterprise.jurisdiction.path)  # fmt: skip
    return settlement
