"""Valid-data capture rate (有效数据捕集率) and transmission rate (传输率) per outlet and enterprise.

* capture rate α = valid hours / (hours − stopped hours [− process hours]) (monitoring-data.md §3);
* transmission rate = hours with data received / hours expected.

Both come from the platform's day rows (``monitoring_day``), so a month for a thousand outlets is
one small query.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection

from totalcap.base.partitions import add_months


@dataclass(frozen=True)
class Rate:
    """Rates of one outlet (or enterprise) and pollutant (``""`` = all its monitored parameters)."""

    key: int
    pollutant: str
    hours_expected: int
    hours_received: int
    hours_valid: int
    hours_stopped: int
    hours_process: int

    @property
    def capture_rate(self) -> Decimal | None:
        denominator = self.hours_expected - self.hours_stopped - self.hours_process
        if denominator <= 0:
            return None
        return (Decimal(self.hours_valid) / Decimal(denominator)).quantize(Decimal("0.0001"))

    @property
    def transmission_rate(self) -> Decimal | None:
        if self.hours_expected <= 0:
            return None
        return (Decimal(self.hours_received) / Decimal(self.hours_expected)).quantize(Decimal("0.0001"))


def _rates(group: str, ids: Sequence[int], first: dt.date, end: dt.date, by_pollutant: bool) -> list[Rate]:
    key = "o.enterprise_id" if group == "enterprise" else "d.outlet_id"
    pollutant = "d.pollutant" if by_pollutant else "''"
    with connection.cursor() as cur:
        cur.execute(
            f"""
            SELECT {key}, {pollutant}, sum(d.hours_expected), sum(d.hours_received), sum(d.hours_valid),
                   sum(d.hours_stopped), sum(d.hours_process)
            FROM monitoring_day d JOIN registry_outlet o ON o.id = d.outlet_id
            WHERE {key} = ANY(%s) AND d.day >= %s AND d.day < %s
            GROUP BY 1, 2 ORDER BY 1, 2
            """,
            [list(ids), first, end],
        )
        return [
            Rate(int(r[0]), r[1], int(r[2]), int(r[3]), int(r[4]), int(r[5]), int(r[6]))
            for r in cur.fetchall()
        ]


def outlet_rates(outlet_ids: Sequence[int], month: dt.date, *, by_pollutant: bool = False) -> list[Rate]:
    """Rates of each outlet for a Beijing month."""
    month = month.replace(day=1)
    return _rates("outlet", outlet_ids, month, add_months(month, 1), by_pollutant)


def enterprise_rates(enterprise_ids: Sequence[int], month: dt.date) -> list[Rate]:
    """Rates of each enterprise (all its outlets) for a Beijing month."""
    month = month.replace(day=1)
    return _rates("enterprise", enterprise_ids, month, add_months(month, 1), False)
