"""Building blocks for total-control tests: a region total, an allocation, an approved plan, a card."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils import timezone

from totalcap.accounts.models import User
from totalcap.permits.models import Permit
from totalcap.quotas.choices import AllocationMethod
from totalcap.quotas.models import Card, PeriodPlan, QuotaAccount, RegionTotal
from totalcap.quotas.services import cards, plans, totals
from totalcap.quotas.services.common import BEIJING, monthly_account
from totalcap.registry.models import DataLogger, Enterprise, Jurisdiction, Pollutant

NOW = timezone.now()
YEAR = NOW.astimezone(BEIJING).year
MONTH = NOW.astimezone(BEIJING).month


def moment(day: int = 10, hour: int = 10, month: int | None = None) -> dt.datetime:
    return dt.datetime(YEAR, month or MONTH, day, hour, 0, tzinfo=BEIJING)


@dataclass
class Quota:
    enterprise: Enterprise
    pollutant: Pollutant
    total: RegionTotal
    plan: PeriodPlan
    card: Card
    logger: DataLogger

    def monthly(self, month: int | None = None) -> QuotaAccount:
        return monthly_account(self.enterprise, self.pollutant, YEAR, month or MONTH)


def setup_quota(
    enterprise: Enterprise,
    *,
    code: str = "w00000",
    annual: Decimal = Decimal("120000"),
    region_total: Decimal = Decimal("1000000"),
    regulator: str = "county",
    approver: str = "city",
    uid: str = "A1B2C3D4",
) -> Quota:
    """A region total activated, ``annual`` allocated to the enterprise, split evenly, approved,
    a valid permit and an active card."""
    county = User.objects.get(username=regulator)
    city = User.objects.get(username=approver)
    pollutant = Pollutant.objects.get(code=code)
    jurisdiction = Jurisdiction.objects.get(pk=enterprise.jurisdiction_id)
    total = RegionTotal.objects.create(
        jurisdiction=jurisdiction,
        pollutant=pollutant,
        year=YEAR,
        total=region_total,
        unit="m³" if code == "w00000" else "kg",
    )
    totals.activate(county, total)
    proposal = totals.propose(
        county,
        total,
        AllocationMethod.MANUAL,
        {enterprise.pk: (annual, "申请量")},
        keep_reserve_pct=Decimal("0"),
    )
    totals.approve(city, proposal)
    plan = plans.create_plan(county, enterprise, pollutant, YEAR, plans.even_split(annual))
    plans.transition_plan(county, plan, "submit")
    plans.transition_plan(city, plan, "approve", "同意")
    permit = Permit.objects.filter(enterprise=enterprise, status="valid").first() or Permit.objects.create(
        enterprise=enterprise, number=f"9132{enterprise.pk:04d}TEST001P", status="valid"
    )
    card = cards.issue_card(city, enterprise, permit, uid)
    logger = DataLogger.objects.get(outlet__enterprise=enterprise, is_total_control=True)
    return Quota(enterprise, pollutant, total, plan, card, logger)


def swipe(q: Quota, actor: Any = None, at: dt.datetime | None = None) -> Any:
    return cards.swipe(actor, q.logger, q.card.uid, at=at or moment(day=1, hour=8))
