"""The live quota board: each enterprise's month — allowance, used, remaining, level, valve state."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils import timezone

from totalcap.quotas.choices import AccountKind
from totalcap.quotas.models import ZERO, QuotaAccount
from totalcap.quotas.services.common import period_of
from totalcap.registry.models import Valve


@dataclass
class BoardRow:
    account: QuotaAccount
    allowance: Decimal
    used: Decimal
    remaining: Decimal
    percent: Decimal
    valves: list[Valve]

    @property
    def bar(self) -> str:
        return (
            "success"
            if self.account.alert_level == 0
            else ("warning" if self.account.alert_level == 1 else "danger")
        )

    @property
    def width(self) -> Decimal:
        return min(self.percent, Decimal("100"))


def board_rows(
    user: Any, year: int | None = None, month: int | None = None
) -> tuple[int, int, list[BoardRow]]:
    """The monthly accounts the user may see for a month (default: the current Beijing month)."""
    if year is None or month is None:
        year, month = period_of(timezone.now())
    accounts = list(
        QuotaAccount.objects.restrict(user, "view")
        .filter(kind=AccountKind.MONTHLY, year=year, month=month)
        .select_related("enterprise", "outlet", "pollutant")
        .order_by("-alert_level", "enterprise__name", "pollutant__code")
    )
    emitted = {
        (a.enterprise_id, a.outlet_id, a.pollutant_id): a.balance
        for a in QuotaAccount.objects.filter(
            kind=AccountKind.EMITTED,
            year=year,
            month=month,
            enterprise_id__in={a.enterprise_id for a in accounts},
        )
    }
    valves: dict[int, list[Valve]] = {}
    for valve in Valve.objects.filter(
        outlet__enterprise_id__in={a.enterprise_id for a in accounts}
    ).select_related("outlet"):
        valves.setdefault(valve.outlet.enterprise_id, []).append(valve)
    rows = []
    for acc in accounts:
        used = emitted.get((acc.enterprise_id, acc.outlet_id, acc.pollutant_id), ZERO)
        allowance = used + acc.balance
        percent = (
            (used / allowance * 100).quantize(Decimal("0.1"))
            if allowance > ZERO
            else (Decimal("100") if used else ZERO)
        )
        own_valves = [
            v for v in valves.get(acc.enterprise_id or 0, []) if acc.outlet_id in (None, v.outlet_id)
        ]
        rows.append(BoardRow(acc, allowance, used, acc.balance, percent, own_valves))
    return year, month, rows
