"""Total control for the Taizhou demo (``totalcap quotas demo``; ``totalcap run`` does it too).

For the wastewater (w00000) of a few 海陵 enterprises with a total-control logger: the district's
region total (activated), an approved allocation, an approved plan split evenly over the months, a
policy that closes at once (grace 0), an active IC card (its UID is swiped by the simulated logger
over HJ 212 on connection) and a swipe that loads this month. The first enterprise gets a tiny
allowance (60 m³ a month), so the simulator's replay of the last hours uses it up within a few
minutes of ``make run`` and its valve closes; the others stay in the green.

Deterministic and idempotent: everything is found by its natural key; a second run creates
nothing (a swipe in a month already loaded loads nothing).
"""

from __future__ import annotations

import logging
import zlib
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from totalcap.quotas.choices import (
    AllocationMethod,
    CardStatus,
    PlanStatus,
    RegionTotalStatus,
    SwipeChannel,
    SwipeOutcome,
)
from totalcap.quotas.models import Card, CardSwipe, PeriodPlan, QuotaPolicy, RegionTotal
from totalcap.quotas.services import cards, plans, totals
from totalcap.quotas.services.common import period_of

logger = logging.getLogger("totalcap.quotas")

DISTRICT = "321202"  # 海陵区
REGION_TOTAL_M3 = Decimal("2000000")
#: Monthly wastewater allowance (m³) of the demo enterprises, in order: the first runs out.
MONTHLY_M3 = (Decimal("60"), Decimal("3000"), Decimal("6000"))
COUNTY_USER, CITY_USER = "hailing", "taizhou"


@dataclass
class DemoQuotas:
    enterprises: list[str] = field(default_factory=list)
    created: dict[str, int] = field(default_factory=dict)
    swipes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def count(self, what: str) -> None:
        self.created[what] = self.created.get(what, 0) + 1


def _card_uid(enterprise: Any) -> str:
    """A deterministic hexadecimal card UID (HJ 212 3811 carries hex UIDs)."""
    return f"D3{int(enterprise.pk):06X}{zlib.crc32(enterprise.credit_code.encode()) & 0xFFFFFF:06X}"


def _candidates() -> list[tuple[Any, Any, Any]]:
    """(enterprise, permit in force, total-control logger) of the district, in a stable order."""
    from totalcap.permits.choices import IN_FORCE, PermitStatus
    from totalcap.permits.models import Permit
    from totalcap.registry.models import DataLogger

    found = []
    loggers = (
        DataLogger.objects.filter(is_total_control=True, outlet__enterprise__jurisdiction__code=DISTRICT)
        .exclude(valves=None)
        .select_related("outlet", "outlet__enterprise", "outlet__enterprise__jurisdiction")
        .order_by("outlet__enterprise__credit_code", "pk")
    )
    seen: set[int] = set()
    for data_logger in loggers:
        enterprise = data_logger.outlet.enterprise
        if enterprise.pk in seen:
            continue
        permits = Permit.objects.filter(enterprise=enterprise, status__in=IN_FORCE)
        permit = permits.filter(status=PermitStatus.VALID).first() or permits.first()
        if permit is None:
            continue
        seen.add(enterprise.pk)
        found.append((enterprise, permit, data_logger))
    return found


def _ensure_permits(result: DemoQuotas) -> None:
    """Cards need permits in force: issue the demo permits when the district has none yet."""
    if len(_candidates()) >= len(MONTHLY_M3):
        return
    from totalcap.permits.demo import load_demo_permits

    issued = load_demo_permits()
    result.notes.append(f"demo permits issued: {issued.created}")


def _region_total(pollutant: Any, year: int, county: Any, result: DemoQuotas) -> RegionTotal:
    from totalcap.registry.models import Jurisdiction

    total, created = RegionTotal.objects.get_or_create(
        jurisdiction=Jurisdiction.objects.get(code=DISTRICT),
        pollutant=pollutant,
        year=year,
        defaults={"total": REGION_TOTAL_M3, "unit": "m³", "note": "演示：海陵区废水排放总量"},
    )
    if created:
        result.count("region_totals")
    if total.status == RegionTotalStatus.DRAFT:
        totals.activate(county, total)
        total.refresh_from_db()
    return total


def setup_demo_quotas() -> DemoQuotas:
    """Set up total control for the demo (idempotent); see the module docstring."""
    from totalcap.accounts.models import User
    from totalcap.registry.models import Pollutant

    result = DemoQuotas()
    county = User.objects.filter(username=COUNTY_USER).first()
    city = User.objects.filter(username=CITY_USER).first()
    if county is None or city is None:
        result.notes.append("demo users missing: run `totalcap demo-data` first")
        return result
    _ensure_permits(result)
    now = timezone.now()
    year, month = period_of(now)
    pollutant = Pollutant.objects.get(code="w00000")
    chosen = _candidates()[: len(MONTHLY_M3)]
    if not chosen:
        result.notes.append("no enterprise of the district has a permit in force and a valve")
        return result
    total = _region_total(pollutant, year, county, result)
    wanted = {
        enterprise.pk: (monthly * 12, "演示：按生产计划申请")
        for (enterprise, _permit, _logger), monthly in zip(chosen, MONTHLY_M3, strict=False)
        if totals.allocated_to(enterprise, pollutant, year) is None
    }
    if wanted:
        with transaction.atomic():
            proposal = totals.propose(
                county, total, AllocationMethod.MANUAL, wanted, keep_reserve_pct=Decimal("0")
            )
            totals.approve(city, proposal)
        result.count("allocations")
    for (enterprise, permit, data_logger), monthly in zip(chosen, MONTHLY_M3, strict=False):
        result.enterprises.append(f"{enterprise.name}: {monthly} m³/月")
        with transaction.atomic():
            if not PeriodPlan.objects.filter(
                enterprise=enterprise, pollutant=pollutant, year=year, outlet=None, status=PlanStatus.APPROVED
            ).exists():
                plan = PeriodPlan.objects.filter(
                    enterprise=enterprise, pollutant=pollutant, year=year, outlet=None
                ).exclude(status=PlanStatus.REJECTED).first() or plans.create_plan(
                    county, enterprise, pollutant, year, plans.even_split(monthly * 12)
                )
                if plan.status == PlanStatus.DRAFT:
                    plan = plans.transition_plan(county, plan, "submit")
                if plan.status == PlanStatus.SUBMITTED:
                    plans.transition_plan(city, plan, "approve", "演示：同意")
                result.count("plans")
            _policy, created = QuotaPolicy.objects.get_or_create(
                enterprise=enterprise, defaults={"close_grace_minutes": 0}
            )
            if created:
                result.count("policies")
            card = Card.objects.filter(enterprise=enterprise, permit=permit, status=CardStatus.ACTIVE).first()
            if card is None:
                card = cards.issue_card(city, enterprise, permit, _card_uid(enterprise), note="演示卡")
                result.count("cards")
        if CardSwipe.objects.filter(
            enterprise=enterprise, year=year, month=month, outcome=SwipeOutcome.LOADED
        ).exists():
            continue  # this month is loaded (the simulated logger swipes again on connection)
        swiped = cards.swipe(city, data_logger, card.uid, at=now, channel=SwipeChannel.MANUAL)
        result.count("swipes")
        result.swipes.append(
            f"{enterprise.short_name} {year}-{month:02d}: {swiped.swipe.get_outcome_display()}"
        )
    return result
