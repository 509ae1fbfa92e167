"""Cards, swipes, plans, special periods, region totals and allocation, settlement."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from tests.quotas.factory import MONTH, YEAR, moment, setup_quota, swipe
from totalcap.alarms.models import Alarm
from totalcap.base.exceptions import PermissionRefused, ServiceError, TransitionRefused
from totalcap.permits import hooks
from totalcap.quotas.choices import AllocationMethod, CardStatus, SwipeOutcome
from totalcap.quotas.models import Card, CardSwipe, LedgerTransaction, RegionTotal, SpecialPeriod
from totalcap.quotas.services import cards, plans, settlement, totals
from totalcap.quotas.services.common import annual_account
from totalcap.registry.models import Jurisdiction, Pollutant


def test_second_swipe_in_the_same_month_loads_nothing(world: Any) -> None:
    q = setup_quota(world.e_own)
    first = swipe(q)
    second = swipe(q, at=moment(day=15))
    assert first.swipe.outcome == SwipeOutcome.LOADED and first.loaded == {"w00000": Decimal("10000")}
    assert second.swipe.outcome == SwipeOutcome.ALREADY_LOADED and second.loaded == {}
    assert q.monthly().balance == Decimal("10000")
    assert LedgerTransaction.objects.filter(kind="loading", key__startswith=f"load:{q.plan.pk}:").count() == 1
    assert CardSwipe.objects.filter(card=q.card).count() == 2


def test_revoked_card_is_refused_and_raises_an_alarm(world: Any) -> None:
    q = setup_quota(world.e_own)
    cards.card_action(world.user("county"), q.card, "revoke")
    result = swipe(q)
    assert result.swipe.outcome == SwipeOutcome.REFUSED_INACTIVE and not result.accepted
    assert q.monthly().balance == Decimal("0")
    alarm = Alarm.objects.get(type="card_refused")
    assert q.card.uid in alarm.message and alarm.enterprise == q.enterprise


def test_unknown_and_foreign_cards_are_refused(world: Any) -> None:
    q = setup_quota(world.e_own)
    other = setup_quota(world.e_other, regulator="county_other", uid="BEEF0001")
    assert cards.swipe(None, q.logger, "DEAD0000").swipe.outcome == SwipeOutcome.REFUSED_UNKNOWN
    assert cards.swipe(None, q.logger, other.card.uid).swipe.outcome == SwipeOutcome.REFUSED_MISMATCH
    assert (
        Alarm.objects.filter(type="card_refused", source=f"registry.datalogger:{q.logger.pk}").count() == 1
    )  # de-duplicated


def test_card_life_cycle_one_active_card_per_permit(world: Any) -> None:
    q = setup_quota(world.e_own)
    with pytest.raises(ServiceError, match="一企一证一卡"):
        cards.issue_card(world.user("county"), q.enterprise, q.card.permit, "ABCD9999")
    lost = cards.card_action(world.user("ent"), q.card, "report_lost")
    assert lost.status == CardStatus.LOST
    with pytest.raises(PermissionRefused):
        cards.card_action(world.user("ent"), lost, "replace", new_uid="1234ABCD")
    with pytest.raises(TransitionRefused, match="新卡号"):
        cards.card_action(world.user("county"), lost, "replace", new_uid="")
    replaced = cards.card_action(world.user("county"), lost, "replace", new_uid="1234ABCD")
    assert replaced.status == CardStatus.REPLACED and replaced.replaced_by is not None
    new = Card.objects.get(uid="1234ABCD")
    assert new.status == CardStatus.ACTIVE and cards.swipe(None, q.logger, "1234abcd").accepted


def test_plan_over_the_annual_total_is_refused(world: Any) -> None:
    q = setup_quota(world.e_own)
    too_much = plans.create_plan(world.user("county"), q.enterprise, Pollutant.objects.get(code="w01018"), YEAR,
                                 plans.even_split(Decimal("500")))  # fmt: skip
    plans.transition_plan(world.user("county"), too_much, "submit")
    with pytest.raises(TransitionRefused, match="超过年度总量指标"):
        plans.transition_plan(world.user("city"), too_much, "approve")
    with pytest.raises(TransitionRefused, match="审批意见"):
        plans.transition_plan(world.user("city"), too_much, "reject")
    assert plans.transition_plan(world.user("city"), too_much, "reject", "超出分配").status == "rejected"
    with pytest.raises(ServiceError, match="1至12月"):
        plans.create_plan(world.user("county"), q.enterprise, q.pollutant, YEAR, {1: Decimal("1")})
    del q


def test_special_period_lowers_the_days_it_covers(world: Any) -> None:
    q = setup_quota(world.e_own)
    days = __import__("calendar").monthrange(YEAR, MONTH)[1]
    period = SpecialPeriod.objects.create(
        jurisdiction=Jurisdiction.objects.get(code="321200"), kind="heavy_pollution", label="橙色预警",
        start=dt.date(YEAR, MONTH, 1), end=dt.date(YEAR, MONTH, 10), reduction_pct=Decimal("30"),
    )  # fmt: skip
    planned, allowance = plans.effective_allowance(q.plan, MONTH)
    expected = Decimal("10000") - (Decimal("10000") * Decimal("0.3") * 10 / days).quantize(
        Decimal("0.0001"), rounding="ROUND_DOWN"
    )
    assert planned == Decimal("10000") and allowance == expected
    loaded = swipe(q)
    assert loaded.loaded["w00000"] == expected
    del period


def test_special_period_declared_after_loading_is_applied(world: Any) -> None:
    q = setup_quota(world.e_own)
    swipe(q)
    period = SpecialPeriod.objects.create(
        jurisdiction=Jurisdiction.objects.get(code="321202"), kind="dry_season", label="枯水期",
        start=dt.date(YEAR, MONTH, 1), end=dt.date(YEAR, MONTH, 28), reduction_pct=Decimal("10"),
    )  # fmt: skip
    touched = plans.apply_special_period(world.user("county"), period)
    assert [a.pk for a in touched] == [q.monthly().pk]
    assert q.monthly().balance < Decimal("10000")
    assert plans.apply_special_period(world.user("county"), period) == []  # once


def test_region_cap_and_reserve(world: Any) -> None:
    cod = Pollutant.objects.get(code="w01018")
    total = RegionTotal.objects.create(
        jurisdiction=Jurisdiction.objects.get(code="321202"), pollutant=cod, year=YEAR, total=Decimal("1000"),
        quality_factor_pct=Decimal("10"),
    )  # fmt: skip
    totals.activate(world.user("county"), total)
    with pytest.raises(TransitionRefused):
        totals.activate(world.user("county"), total)
    plan = totals.propose(world.user("county"), total, AllocationMethod.HISTORY,
                          {world.e_own.pk: (Decimal("300"), "上年"), }, keep_reserve_pct=Decimal("5"))  # fmt: skip
    line = plan.lines.get()
    assert line.proposed == Decimal("855.0000")  # 1000 × 0.9 × 0.95, all to the only enterprise
    totals.edit_line(world.user("county"), line, Decimal("1200"))
    with pytest.raises(PermissionRefused):
        totals.approve(world.user("county"), plan)
    with pytest.raises(ServiceError, match="不得超过总量"):
        totals.approve(world.user("city"), plan)
    totals.edit_line(world.user("county"), line, Decimal("900"))
    totals.approve(world.user("city"), plan)
    assert totals.allocated(total) == Decimal("900") and totals.reserve_account(total).balance == Decimal(
        "100"
    )
    with pytest.raises(ServiceError, match="不足"):
        totals.draw_from_reserve(world.user("county"), total, world.e_own, Decimal("150"), "扩建项目")
    totals.draw_from_reserve(world.user("county"), total, world.e_own, Decimal("50"), "扩建项目")
    assert annual_account(world.e_own, cod, YEAR).balance == Decimal("950")
    assert hooks.total_control_allocation(world.e_own, cod, YEAR) == Decimal("0.9500")
    returned = totals.return_to_reserve(world.user("county"), total, world.e_own, "企业关停")
    assert returned == Decimal("950") and totals.reserve_account(total).balance == Decimal("1000")


def test_proposals_outside_the_region_are_refused(world: Any) -> None:
    total = RegionTotal.objects.create(
        jurisdiction=Jurisdiction.objects.get(code="321202"), pollutant=Pollutant.objects.get(code="w01018"), year=YEAR,
        total=Decimal("1000"),
    )  # fmt: skip
    with pytest.raises(ServiceError, match="不在该区域内"):
        totals.propose(
            world.user("county"), total, AllocationMethod.MANUAL, {world.e_other.pk: (Decimal("1"), "")}
        )


def test_month_end_settlement_carries_over_and_penalises(world: Any) -> None:
    from totalcap.quotas.services.consumption import Increment, post_increments

    q = setup_quota(world.e_own)
    swipe(q)
    post_increments([Increment(q.logger.outlet_id, "w00000", moment(day=3), Decimal("12000"), "s:1", {})])
    result = settlement.settle_month(q.monthly())
    assert (
        result.used == Decimal("12000")
        and result.overrun == Decimal("2000")
        and result.penalty == Decimal("2000")
    )
    assert settlement.settle_month(q.monthly()).pk == result.pk  # idempotent
    if MONTH < 12:
        from totalcap.quotas.services.common import monthly_account

        assert monthly_account(q.enterprise, q.pollutant, YEAR, MONTH + 1).balance == Decimal("-2000")
