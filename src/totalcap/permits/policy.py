"""Permit policy parameters, read from ``permits/data/policy.json`` (reference data are data)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from importlib import resources


@dataclass(frozen=True)
class Policy:
    validity_years: int
    change_due_days: int
    renewal_lead_days: int
    renewal_reminder_days: tuple[int, ...]
    change_reminder_days: tuple[int, ...]
    report_reminder_days: tuple[int, ...]
    report_lookahead_days: int
    daily_max_cap: Decimal
    permit_number_suffix: dict[str, str]


def data_text(name: str) -> str:
    return resources.files("totalcap.permits").joinpath(f"data/{name}").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def policy() -> Policy:
    raw = json.loads(data_text("policy.json"))
    return Policy(
        validity_years=int(raw["validity_years"]),
        change_due_days=int(raw["change_due_days"]),
        renewal_lead_days=int(raw["renewal_lead_days"]),
        renewal_reminder_days=tuple(sorted(int(d) for d in raw["renewal_reminder_days"])),
        change_reminder_days=tuple(sorted(int(d) for d in raw["change_reminder_days"])),
        report_reminder_days=tuple(sorted(int(d) for d in raw["report_reminder_days"])),
        report_lookahead_days=int(raw["report_lookahead_days"]),
        daily_max_cap=Decimal(str(raw["daily_max_cap"])),
        permit_number_suffix={str(k): str(v) for k, v in raw["permit_number_suffix"].items()},
    )


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later, clamped to the month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return dt.date(year, month + 1, min(day.day, month_length(year, month + 1)))


def month_length(year: int, month: int) -> int:
    first_next = dt.date(year + (month == 12), month % 12 + 1, 1)
    return (first_next - dt.timedelta(days=1)).day


def add_years(day: dt.date, years: int) -> dt.date:
    return add_months(day, 12 * years)


def term_end(start: dt.date, years: int | None = None) -> dt.date:
    """The last day of a validity term of ``years`` (default: the policy's 5) starting on ``start``."""
    return add_years(start, years if years is not None else policy().validity_years) - dt.timedelta(days=1)
