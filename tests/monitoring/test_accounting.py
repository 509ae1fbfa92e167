"""Emission accounting: the priority order of methods, versions, totals, and the quota-ledger API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from tests.monitoring.conftest import at, emission, feed_hours, recompute, totals
from totalcap.base.models import DomainEvent
from totalcap.monitoring.models import (
    AccountingPlan,
    EmissionHourLog,
    EmissionTotal,
    EmissionTotalRevision,
    ManualMeasurement,
)
from totalcap.monitoring.services import accounting, review
from totalcap.registry.models import Outlet

HOUR = dt.timedelta(hours=1)
G = at(14, 10)
DAY = dt.date(2026, 10, 14)


def plan(outlet: Outlet, pollutant: str, **fields: Any) -> AccountingPlan:
    obj, _ = AccountingPlan.objects.update_or_create(outlet=outlet, pollutant_id=pollutant, defaults=fields)
    return obj


def manual(
    outlet: Outlet, pollutant: str, conc: str, flow: str | None = "100", kind: str = "self", **kw: Any
) -> ManualMeasurement:
    return ManualMeasurement.objects.create(
        outlet=outlet, pollutant_id=pollutant, kind=kind, sampled_at=at(13, 9), concentration=Decimal(conc),
        flow_m3_h=None if flow is None else Decimal(flow), **kw,
    )  # fmt: skip


def run_day(outlet: Outlet) -> None:
    recompute(outlet, at(14), at(15))


# --- the priority order, step by step --------------------------------------------------------------


def test_stopped_hours_account_zero(ww: Outlet) -> None:
    feed_hours(ww, "w01018", at(14), [40] * 24, flags=["N"] * 10 + ["F"] * 14)
    feed_hours(ww, "w00000", at(14), [10] * 24)
    run_day(ww)
    hour = emission(ww, "w01018", G)
    assert (hour.method, hour.kg, hour.hour_status) == ("stopped", 0, "s")


def test_valid_automatic_data_come_first(ww: Outlet) -> None:
    feed_hours(ww, "w01018", at(14), [40] * 24)
    feed_hours(ww, "w00000", at(14), [10] * 24)
    manual(ww, "w01018", "99")
    run_day(ww)
    hour = emission(ww, "w01018", G)
    assert (hour.method, hour.kg) == ("auto_valid", Decimal("1.44"))


def test_required_but_not_installed_is_penalised_as_untreated(ww: Outlet) -> None:
    plan(ww, "w21011", automatic_required=True, untreated_kg_h=Decimal("2.5"))  # TP: no analyser
    manual(ww, "w21011", "0.5")  # not good enough when automatic monitoring is required
    feed_hours(ww, "w00000", at(14), [10] * 24)
    run_day(ww)
    hour = emission(ww, "w21011", G)
    assert (hour.method, hour.kg, hour.hour_status) == ("penalised", Decimal("2.5"), "")


def test_substitution_comes_before_manual_data(ww: Outlet) -> None:
    feed_hours(ww, "w01018", at(14), [40] * 10 + [None] + [40] * 13)
    feed_hours(ww, "w00000", at(14), [10] * 24)
    manual(ww, "w01018", "99")
    run_day(ww)
    assert emission(ww, "w01018", G).method == "auto_substituted"


def test_manual_data_when_nothing_can_be_substituted(ww: Outlet) -> None:
    feed_hours(ww, "w01018", at(14), [None] * 24)  # no valid history to substitute from
    feed_hours(ww, "w00000", at(14), [10] * 24)
    manual(ww, "w01018", "50", flow="120")
    run_day(ww)
    hour = emission(ww, "w01018", G)
    assert (hour.method, hour.kg) == ("manual", Decimal("6"))  # 50 mg/L × 120 m³ × 10⁻³


def test_enforcement_results_win_over_self_monitoring(ww: Outlet) -> None:
    feed_hours(ww, "w00000", at(14), [10] * 24)
    own = manual(ww, "w01018", "50", flow=None)
    official = manual(ww, "w01018", "70", flow=None, kind="enforcement")
    own.sampled_at = at(13, 12)  # the later sample, still loses
    own.save()
    run_day(ww)
    hour = emission(ww, "w01018", G)
    assert (hour.method, hour.manual_id) == ("manual", official.pk)
    assert hour.kg == Decimal("70") * 36 / 1000  # the automatic flow of the hour


def test_material_balance_before_emission_factor(ww: Outlet) -> None:
    plan(ww, "w01018", material_balance_kg_h=Decimal("1.1"), emission_factor_kg_h=Decimal("2.2"))
    run_day(ww)
    assert (emission(ww, "w01018", G).method, emission(ww, "w01018", G).kg) == (
        "material_balance",
        Decimal("1.1"),
    )
    plan(ww, "w01018", material_balance_kg_h=None, emission_factor_kg_h=Decimal("2.2"))
    run_day(ww)
    assert (emission(ww, "w01018", G).method, emission(ww, "w01018", G).kg) == (
        "emission_factor",
        Decimal("2.2"),
    )


def test_penalised_last_when_automatic_monitoring_is_required(ww: Outlet) -> None:
    plan(ww, "w01018", automatic_required=True, untreated_kg_h=Decimal("9"))
    run_day(ww)
    assert emission(ww, "w01018", G).method == "penalised"
    plan(ww, "w01018", automatic_required=False, untreated_kg_h=Decimal("9"))
    run_day(ww)
    assert (emission(ww, "w01018", G).method, emission(ww, "w01018", G).kg) == ("unaccounted", 0)


def test_manual_before_substitution_when_the_plan_says_so(ww: Outlet) -> None:
    plan(ww, "w01018", manual_before_substitution=True)
    feed_hours(ww, "w01018", at(14), [40] * 10 + [None] + [40] * 13)
    feed_hours(ww, "w00000", at(14), [10] * 24)
    manual(ww, "w01018", "99")
    run_day(ww)
    assert emission(ww, "w01018", G).method == "manual"


def test_the_larger_amount_when_the_plan_says_so(ww: Outlet) -> None:
    plan(ww, "w01018", take_larger=True)
    feed_hours(ww, "w01018", at(14), [40] * 24)
    feed_hours(ww, "w00000", at(14), [10] * 24)
    manual(ww, "w01018", "99", flow=None)
    run_day(ww)
    hour = emission(ww, "w01018", G)
    assert (hour.method, hour.kg) == ("manual", Decimal("99") * 36 / 1000)


def test_not_installed_and_not_required_falls_through_manual_then_rates(ww: Outlet) -> None:
    plan(ww, "w21011", automatic_required=False, emission_factor_kg_h=Decimal("0.3"))
    manual(ww, "w21011", "0.5", flow="100", period_start=at(14, 8), period_end=at(14, 12))
    run_day(ww)
    assert emission(ww, "w21011", G).method == "manual"
    assert emission(ww, "w21011", at(14, 13)).method == "emission_factor"


# --- totals, capture rate, versions ------------------------------------------------------------------


def test_totals_sum_hours_and_count_hours_by_method(ww: Outlet) -> None:
    feed_hours(ww, "w01018", at(14), [40] * 10 + [None] * 2 + [40] * 10 + ["null", "null"], flags="N")
    feed_hours(ww, "w00000", at(14), [10] * 24)
    run_day(ww)
    day = EmissionTotal.objects.get(outlet=ww, pollutant="w01018", period="day", period_start=DAY)
    assert (day.hours_expected, day.hours_auto_valid, day.hours_auto_substituted) == (24, 20, 4)
    assert (day.status_valid, day.status_invalid, day.status_missing) == (20, 2, 2)
    assert day.capture_rate == Decimal("0.8333")
    assert day.kg == Decimal("1.44") * 24 and day.kg == day.kg_auto_valid + day.kg_auto_substituted
    assert day.method == "auto_valid" and day.version == 1
    month = EmissionTotal.objects.get(outlet=ww, pollutant="w01018", period="month")
    year = EmissionTotal.objects.get(outlet=ww, pollutant="w01018", period="year")
    assert month.kg == year.kg == day.kg


def test_a_late_correction_makes_a_new_version_with_a_diff(ww: Outlet, world: Any) -> None:
    feed_hours(ww, "w01018", at(14), [40] * 24)
    feed_hours(ww, "w00000", at(14), [10] * 24)
    run_day(ww)
    before = totals(ww, "w01018")
    county = world.user("county")
    action = review.create_review(
        county, outlet=ww, pollutant="w01018", kind="correct", start=G, end=G + HOUR, value=Decimal("140"),
        reason="比对监测确认该小时实际浓度为140 mg/L",
    )  # fmt: skip
    hour = emission(ww, "w01018", G)
    assert (hour.version, hour.kg) == (2, Decimal("5.04"))
    versions = list(
        EmissionHourLog.objects.filter(outlet_id=ww.pk, pollutant="w01018", data_time=G).order_by("version")
    )
    assert [v.version for v in versions] == [1, 2]
    assert versions[1].delta_kg == Decimal("3.6") and versions[1].previous["kg"] == "1.440000000"
    assert versions[1].diff == {"kg": ["1.440000000", "5.040000000"]}
    assert versions[1].cause == f"review #{action.pk}"
    day = EmissionTotal.objects.get(outlet=ww, pollutant="w01018", period="day", period_start=DAY)
    assert day.version == 2 and day.kg == before[("day", DAY)] + Decimal("3.6")
    revision = EmissionTotalRevision.objects.get(total=day, version=2)
    assert revision.diff["kg"] == [str(before[("day", DAY)]), str(day.kg)]
    assert DomainEvent.objects.filter(action="emission_recalculated", object_id=str(ww.pk)).exists()
    assert DomainEvent.objects.filter(action="review_created", object_id=str(action.pk)).exists()


def test_recomputing_unchanged_data_makes_no_version(ww: Outlet) -> None:
    feed_hours(ww, "w01018", at(14), [40] * 24)
    feed_hours(ww, "w00000", at(14), [10] * 24)
    run_day(ww)
    logs = EmissionHourLog.objects.count()
    revisions = EmissionTotalRevision.objects.count()
    run_day(ww)
    assert (EmissionHourLog.objects.count(), EmissionTotalRevision.objects.count()) == (logs, revisions)


# --- the API the quota ledger calls ------------------------------------------------------------------


def test_hourly_amounts_and_committed_increments(ww: Outlet, world: Any) -> None:
    seen: list[list[accounting.AccountedHour]] = []
    accounting.register_hour_listener(seen.append)
    try:
        feed_hours(ww, "w01018", at(14), [40] * 24)
        feed_hours(ww, "w00000", at(14), [10] * 24)
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr("django.db.transaction.on_commit", lambda fn, using=None, robust=False: fn())
            run_day(ww)
            review.create_review(
                world.user("county"), outlet=ww, pollutant="w01018", kind="invalidate", start=G, end=G + HOUR,
                reason="仪器故障期间数据",
            )  # fmt: skip
    finally:
        accounting.unregister_hour_listener(seen.append)
    amounts = accounting.hourly_amounts(ww, "w01018", at(14), at(15))
    assert len(amounts) == 24 and amounts[10].method == "auto_substituted" and amounts[10].version == 2
    feed = accounting.increments_since(0, outlet_ids=[ww.pk])
    cod = [h for h in feed if h.pollutant == "w01018"]
    assert sum(h.delta_kg for h in cod) == sum(a.kg for a in amounts)
    assert [h.log_id for h in feed] == sorted(h.log_id for h in feed)
    assert seen and any(h.version == 2 for batch in seen for h in batch)
    last = feed[-1].log_id
    assert accounting.increments_since(last, outlet_ids=[ww.pk]) == []
