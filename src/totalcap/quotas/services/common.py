"""Shared helpers: periods in Beijing time, the month's usage of an account, policies."""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from totalcap.quotas import ledger
from totalcap.quotas.choices import AccountKind
from totalcap.quotas.models import ZERO, QuotaAccount, QuotaPolicy
from totalcap.registry.models import Enterprise, Outlet, Pollutant

BEIJING = ZoneInfo("Asia/Shanghai")


def beijing(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(BEIJING)


def period_of(moment: dt.datetime) -> tuple[int, int]:
    local = beijing(moment)
    return local.year, local.month


def days_in(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def month_bounds(year: int, month: int) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime(year, month, 1, tzinfo=BEIJING)
    end = dt.datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=BEIJING)
    return start, end


def monthly_account(
    enterprise: Enterprise, pollutant: Pollutant, year: int, month: int, outlet: Outlet | None = None
) -> QuotaAccount:
    return ledger.account(
        AccountKind.MONTHLY, enterprise=enterprise, outlet=outlet, pollutant=pollutant, year=year, month=month
    )


def annual_account(
    enterprise: Enterprise, pollutant: Pollutant, year: int, outlet: Outlet | None = None
) -> QuotaAccount:
    return ledger.account(
        AccountKind.ANNUAL, enterprise=enterprise, outlet=outlet, pollutant=pollutant, year=year
    )


def emitted_account(monthly: QuotaAccount) -> QuotaAccount:
    """The sink that collects the month's consumption of a monthly account."""
    return ledger.account(
        AccountKind.EMITTED,
        enterprise=monthly.enterprise,
        outlet=monthly.outlet,
        jurisdiction=monthly.jurisdiction,
        pollutant=monthly.pollutant,
        year=monthly.year,
        month=monthly.month,
    )


def month_accounts(
    enterprise: Enterprise, pollutant: Pollutant, year: int, month: int, outlet: Outlet | None = None
) -> tuple[QuotaAccount, QuotaAccount]:
    """The monthly account and its emitted sink (what :func:`monthly_account` and
    :func:`emitted_account` return) read in one query, created on first use, with their
    enterprise, jurisdiction, outlet and pollutant attached so that nothing is loaded lazily later."""
    jurisdiction = enterprise.jurisdiction
    found = {
        acc.kind: acc
        for acc in QuotaAccount.objects.filter(
            kind__in=[AccountKind.MONTHLY, AccountKind.EMITTED],
            jurisdiction=jurisdiction,
            enterprise=enterprise,
            outlet=outlet,
            pollutant=pollutant,
            year=year,
            month=month,
        ).order_by()
    }
    pair = []
    for kind in (AccountKind.MONTHLY, AccountKind.EMITTED):
        acc = found.get(kind) or ledger.account(
            kind, enterprise=enterprise, outlet=outlet, jurisdiction=jurisdiction, pollutant=pollutant,
            year=year, month=month,
        )  # fmt: skip
        acc.enterprise, acc.jurisdiction = enterprise, jurisdiction
        acc.outlet, acc.pollutant = outlet, pollutant
        pair.append(acc)
    return pair[0], pair[1]


@dataclass(frozen=True)
class Usage:
    """A month's quota: what was granted (used + remaining), used, remaining, and the share used."""

    allowance: Decimal
    used: Decimal
    remaining: Decimal

    @property
    def percent(self) -> Decimal:
        """The share used, rounded to 0.01 % for display (thresholds use :meth:`reached`)."""
        if self.allowance <= ZERO:
            return Decimal("100") if self.used > ZERO else ZERO
        return (self.used / self.allowance * 100).quantize(Decimal("0.01"))

    def reached(self, threshold_pct: Decimal) -> bool:
        """Whether usage has reached ``threshold_pct`` % of the allowance (exact, no rounding)."""
        if self.allowance <= ZERO:
            return self.used > ZERO or threshold_pct <= ZERO
        return self.used * 100 >= threshold_pct * self.allowance


def usage(monthly: QuotaAccount, emitted: QuotaAccount | None = None) -> Usage:
    emitted = emitted or emitted_account(monthly)
    return Usage(allowance=emitted.balance + monthly.balance, used=emitted.balance, remaining=monthly.balance)


def policy_for(enterprise: Enterprise) -> QuotaPolicy:
    """The enterprise's policy, else the default policy (created with the standard 80/90/100 %)."""
    own: QuotaPolicy | None = QuotaPolicy.objects.filter(enterprise=enterprise).first()
    if own is not None:
        return own
    default: QuotaPolicy = QuotaPolicy.objects.get_or_create(enterprise=None)[0]
    return default
