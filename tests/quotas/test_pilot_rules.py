"""The pilots' rules: thresholds 80/90/100 %, an even split, adjustments within the year."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.quotas.factory import MONTH, YEAR, moment, setup_quota, swipe
from totalcap.alarms.models import Alarm
from totalcap.quotas.choices import AlertLevel, ValveAction, ValveOrderState
from totalcap.quotas.models import ValveOrder
from totalcap.quotas.services import plans, transfers
from totalcap.quotas.services.common import annual_account, monthly_account, usage
from totalcap.quotas.services.consumption import Increment, post_increments


def _consume(q: Any, amount: str, n: int) -> None:
    outlet = q.logger.outlet
    post_increments(
        [Increment(outlet.pk, "w00000", moment(day=2, hour=n % 24), Decimal(amount), f"test:{n}", {})]
    )


def test_even_split_of_120000_gives_10000_a_month() -> None:
    months = plans.even_split(Decimal("120000"))
    assert set(months.values()) == {Decimal("10000")} and sum(months.values()) == Decimal("120000")
    odd = plans.even_split(Decimal("100"))
    assert sum(odd.values()) == Decimal("100") and odd[1] == Decimal("8.3333")


def test_thresholds_warn_at_8000_red_at_9000_close_above_10000(world: Any) -> None:
    q = setup_quota(world.e_own)
    loaded = swipe(q)
    assert loaded.loaded == {"w00000": Decimal("10000")}
    _consume(q, "7999", 1)
    monthly = q.monthly()
    monthly.refresh_from_db()
    assert monthly.alert_level == AlertLevel.NONE
    _consume(q, "1", 2)  # 8,000
    types = list(Alarm.objects.filter(source=f"quotas.account:{monthly.pk}").values_list("type", flat=True))
    assert types == ["quota_warning"]
    for n in range(3, 13):
        _consume(q, "10", n)  # more frames in the same band: no new alarm
    assert Alarm.objects.filter(source=f"quotas.account:{monthly.pk}").count() == 1
    _consume(q, "900", 20)  # 9,000
    assert set(Alarm.objects.filter(source=f"quotas.account:{monthly.pk}").values_list("type", flat=True)) == {
        "quota_warning", "quota_red"
    }  # fmt: skip
    _consume(q, "999.99", 21)  # 9,999.99: not yet
    assert not ValveOrder.objects.filter(valve__logger=q.logger).exists()
    _consume(q, "0.51", 22)  # 10,000.50: above 10,000 → close
    monthly.refresh_from_db()
    assert monthly.alert_level == AlertLevel.EXHAUSTED
    order = ValveOrder.objects.get(valve__logger=q.logger)
    assert (
        order.action == ValveAction.CLOSE
        and order.state == ValveOrderState.APPROVED
        and order.origin == "auto"
    )
    use = usage(monthly)
    assert use.used == Decimal("10000.50") and use.remaining == Decimal("-0.50")
    assert Alarm.objects.filter(source=f"quotas.account:{monthly.pk}", type="quota_exhausted").count() == 1


def test_adjustment_moves_monthly_balances_and_keeps_the_annual_total(world: Any) -> None:
    q = setup_quota(world.e_own)
    swipe(q)
    other_month = MONTH % 12 + 1
    before_annual = annual_account(q.enterprise, q.pollutant, YEAR).balance
    this = q.monthly()
    total_before = before_annual + this.balance
    adjustment = transfers.request_transfer(
        world.user("ent"), from_enterprise=q.enterprise, to_enterprise=q.enterprise, pollutant=q.pollutant, year=YEAR,
        from_month=MONTH, to_month=other_month, amount=Decimal("2500"), reason="检修停产，调剂到下月",
    )  # fmt: skip
    transfers.review(world.user("county"), adjustment, "approve", "同意")
    this.refresh_from_db()
    target = monthly_account(q.enterprise, q.pollutant, YEAR, other_month)
    assert this.balance == Decimal("7500") and target.balance == Decimal("2500")
    annual = annual_account(q.enterprise, q.pollutant, YEAR)
    assert annual.balance + this.balance + target.balance == total_before


def test_transfer_withdraws_a_pending_close_and_reopens_a_closed_valve(
    world: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from totalcap.registry.choices import ValveState
    from totalcap.registry.models import Valve

    q = setup_quota(world.e_own)
    other = setup_quota(world.e_other, regulator="county_other", approver="city", uid="FFEE0011")
    swipe(q)
    swipe(other)
    _consume(q, "10000", 1)
    monthly = q.monthly()
    monthly.refresh_from_db()
    assert monthly.alert_level == AlertLevel.EXHAUSTED
    close = ValveOrder.objects.get(valve__logger=q.logger, action=ValveAction.CLOSE)
    assert close.state == ValveOrderState.APPROVED
    # The valve had been closed (the order executed): a recharge must reopen it.
    Valve.objects.filter(logger=q.logger).update(state=ValveState.CLOSED)
    purchase = transfers.request_transfer(
        world.user("ent"), from_enterprise=other.enterprise, to_enterprise=q.enterprise, pollutant=q.pollutant,
        year=YEAR, from_month=MONTH, to_month=MONTH, amount=Decimal("3000"), reason="购买排污权", price=Decimal("6000"),
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        transfers.review(world.user("city"), purchase, "approve", "同意")
    monthly.refresh_from_db()
    assert monthly.alert_level == AlertLevel.NONE  # 10,000 of 13,000: 76.9 %
    close.refresh_from_db()
    assert close.state == ValveOrderState.EXPIRED and "配额已补充" in close.failure
    reopen = ValveOrder.objects.get(valve__logger=q.logger, action=ValveAction.OPEN)
    assert reopen.origin == "reopen" and reopen.state == ValveOrderState.APPROVED
    assert not Alarm.objects.filter(
        source=f"quotas.account:{monthly.pk}", status__in=["active", "acknowledged"]
    ).exists()
