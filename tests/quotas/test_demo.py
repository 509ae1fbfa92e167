"""The total-control demo of ``make run`` (``totalcap quotas demo``): set up once, idempotent."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO
from typing import Any

from django.core.management import call_command

from totalcap.ingest.simulator.runner import registry_specs
from totalcap.quotas import demo
from totalcap.quotas.choices import CardStatus, PlanStatus, SwipeOutcome
from totalcap.quotas.ledger import reconcile
from totalcap.quotas.models import Card, CardSwipe, PeriodPlan, QuotaPolicy, RegionTotal
from totalcap.quotas.services.common import monthly_account, period_of, usage
from totalcap.registry.demo import load_demo
from totalcap.registry.models import Pollutant


def _counts() -> dict[str, int]:
    return {
        "totals": RegionTotal.objects.count(),
        "plans": PeriodPlan.objects.count(),
        "cards": Card.objects.count(),
        "swipes": CardSwipe.objects.count(),
        "policies": QuotaPolicy.objects.count(),
    }


def test_demo_setup_runs_twice_and_leaves_the_loop_ready(world: Any) -> None:
    load_demo(quiet=True)
    first = demo.setup_demo_quotas()
    assert len(first.enterprises) == 3, first.notes
    assert first.created == {
        "region_totals": 1, "allocations": 1, "plans": 3, "policies": 3, "cards": 3, "swipes": 3,
    }  # fmt: skip
    after_first = _counts()

    out = StringIO()
    call_command("quotas", "demo", stdout=out)  # the second run creates nothing
    assert "nothing (already set up)" in out.getvalue()
    assert _counts() == after_first
    assert reconcile().ok

    year, month = period_of(demo.timezone.now())
    water = Pollutant.objects.get(code="w00000")
    chosen = demo._candidates()[:3]
    for (enterprise, permit, data_logger), allowance in zip(chosen, demo.MONTHLY_M3, strict=True):
        plan = PeriodPlan.objects.get(enterprise=enterprise, pollutant=water, year=year, outlet=None)
        assert plan.status == PlanStatus.APPROVED
        card = Card.objects.get(enterprise=enterprise, permit=permit, status=CardStatus.ACTIVE)
        assert CardSwipe.objects.filter(enterprise=enterprise, outcome=SwipeOutcome.LOADED).count() == 1
        assert QuotaPolicy.objects.get(enterprise=enterprise).close_grace_minutes == 0
        assert usage(monthly_account(enterprise, water, year, month)).allowance == allowance
        # the simulated logger of ``make run`` swipes this card over HJ 212
        (spec,) = registry_specs([data_logger.mn])
        assert spec.total_control and spec.card_uid == card.uid
    assert demo.MONTHLY_M3[0] == Decimal("60")  # the one that runs out within minutes
