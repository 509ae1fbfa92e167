"""Validity and aggregation rules, one test per rule of the standards digest (monitoring-data.md)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from tests.monitoring.conftest import at, configure, feed, feed_hours, hour_row, recompute
from totalcap.monitoring.models import DayValue, DeviceState, MonthValue
from totalcap.monitoring.services import states
from totalcap.monitoring.services.rules import publish_ruleset
from totalcap.monitoring.units import NO_TO_NO2, reference_o2_concentration
from totalcap.registry.models import Industry, Outlet

H = at(14, 10)  # 10:00 Beijing
NEXT = at(14, 11)


def minutes(outlet: Outlet, code: str, value: Any, flags: list[str]) -> None:
    feed(outlet, code, H, [value] * len(flags), flags=flags)


# --- 45-minute hour --------------------------------------------------------------------------------


def test_hour_is_valid_with_45_valid_minutes(ww: Outlet) -> None:
    minutes(ww, "w01018", 40, ["N"] * 45 + ["M"] * 15)
    recompute(ww, H, NEXT)
    h = hour_row(ww, "w01018", H)
    assert (h.status, h.label, h.n_valid, h.valid_minutes) == ("v", "N", 45, 45)


def test_hour_is_invalid_with_44_valid_minutes(ww: Outlet) -> None:
    minutes(ww, "w01018", 40, ["N"] * 44 + ["M"] * 16)
    recompute(ww, H, NEXT)
    h = hour_row(ww, "w01018", H)
    assert (h.status, h.label) == ("i", "M")
    assert h.flag_counts == {"N": 44, "M": 16}


def test_missing_minutes_count_against_the_hour(ww: Outlet) -> None:
    feed(ww, "w01018", H, [40] * 44)
    recompute(ww, H, NEXT)
    h = hour_row(ww, "w01018", H)
    assert (h.status, h.label, h.n_records) == ("i", "Md", 44)


def test_an_hour_without_any_record_is_missing(ww: Outlet) -> None:
    recompute(ww, H, NEXT)
    h = hour_row(ww, "w01018", H)
    assert (h.status, h.label, h.source) == ("m", "Md", "x")


def test_minute_interval_turns_records_into_minutes(ww: Outlet) -> None:
    configure(ww, minute_interval=5)
    feed(ww, "w01018", H, [40] * 9, step=dt.timedelta(minutes=5))
    recompute(ww, H, NEXT)
    assert hour_row(ww, "w01018", H).status == "v"  # 9 × 5 = 45 minutes
    feed(ww, "w21003", H, [4] * 8, step=dt.timedelta(minutes=5))
    recompute(ww, H, NEXT)
    assert hour_row(ww, "w21003", H).status == "i"  # 8 × 5 = 40 minutes


def test_stopped_for_45_minutes_is_a_stopped_hour(ww: Outlet) -> None:
    minutes(ww, "w01018", 0, ["F"] * 45 + ["N"] * 15)
    recompute(ww, H, NEXT)
    h = hour_row(ww, "w01018", H)
    assert (h.status, h.label, h.stopped_minutes) == ("s", "F", 45)


def test_flag_classes_and_unknown_flags(ww: Outlet) -> None:
    minutes(ww, "w01018", 40, ["N"] * 30 + ["Q"] * 30)  # Q: not a known flag → invalid
    minutes(ww, "w21003", 4, [""] * 60)  # no flag (2005 loggers): valid by default
    recompute(ww, H, NEXT)
    assert hour_row(ww, "w01018", H).label == "X"
    assert hour_row(ww, "w21003", H).status == "v"


def test_negative_values_are_invalid_for_wastewater_only(ww: Outlet, aa: Outlet) -> None:
    feed(ww, "w01018", H, [-1] * 20 + [40] * 40)
    feed(aa, "a21026", H, [-1] * 20 + [40] * 40)
    recompute(ww, H, NEXT)
    recompute(aa, H, NEXT)
    water = hour_row(ww, "w01018", H)
    air = hour_row(aa, "a21026", H)
    assert (water.status, water.label, water.n_negative) == ("i", "NV", 20)
    assert (air.status, air.n_negative) == ("v", 20)


def test_device_state_invalidates_the_minutes_it_covers(ww: Outlet) -> None:
    logger = ww.loggers.get()
    states.record_device_states(
        logger,
        [
            states.StateObservation("i12001", "1", at(14, 10, 30), pollutant="w01018"),  # maintenance
            states.StateObservation("i12001", "0", at(14, 10, 50), pollutant="w01018"),  # running again
        ],
    )
    minutes(ww, "w01018", 40, ["N"] * 60)
    minutes(ww, "w21003", 4, ["N"] * 60)
    recompute(ww, H, NEXT)
    cod = hour_row(ww, "w01018", H)
    assert (cod.status, cod.label, cod.n_valid) == ("i", "M", 40)
    assert hour_row(ww, "w21003", H).status == "v"  # another instrument


def test_device_states_are_read_as_intervals(ww: Outlet) -> None:
    logger = ww.loggers.get()
    n = states.record_device_states(
        logger,
        [
            states.StateObservation("i12001", "2", at(14, 9)),
            states.StateObservation("i12001", "0", at(14, 9, 20)),
        ],
    )
    again = states.record_device_states(logger, [states.StateObservation("i12001", "2", at(14, 9))])
    assert (n, again) == (2, 0)
    found = states.device_states(logger.pk, at(14, 9), at(14, 10), hold_minutes=120)
    assert [(i.value, i.start, i.end) for i in found] == [
        ("2", at(14, 9), at(14, 9, 20)),
        ("0", at(14, 9, 20), at(14, 11, 20)),
    ]
    assert DeviceState.objects.filter(logger=logger).count() == 2


def test_enterprise_labels_through_the_hook(ww: Outlet) -> None:
    def provider(outlet_ids: Any, start: dt.datetime, end: dt.datetime) -> list[states.StateInterval]:
        return [states.StateInterval(None, ww.pk, "", "label", "F", at(14, 10), at(14, 11), "label")]

    states.register_label_provider(provider)
    try:
        minutes(ww, "w01018", 40, ["N"] * 60)
        recompute(ww, H, NEXT)
    finally:
        states.unregister_label_provider(provider)
    h = hour_row(ww, "w01018", H)
    assert (h.status, h.label) == ("s", "F")


# --- 20-hour day, 25/23-day month -------------------------------------------------------------------


def _day_with_valid_hours(outlet: Outlet, day: int, valid: int, month: int = 10) -> None:
    flags = ["N"] * valid + ["D"] * (24 - valid)
    feed_hours(outlet, "w01018", at(day, 0, month=month), [40] * 24, flags=flags)


def test_day_is_valid_with_20_valid_hours(ww: Outlet) -> None:
    _day_with_valid_hours(ww, 14, 20)
    _day_with_valid_hours(ww, 15, 19)
    recompute(ww, at(14), at(16))
    days = {d.day.day: d for d in DayValue.objects.filter(outlet_id=ww.pk, pollutant="w01018")}
    assert (days[14].status, days[14].hours_valid) == ("v", 20)
    assert (days[15].status, days[15].hours_valid) == ("i", 19)


@pytest.mark.parametrize(
    ("month", "valid_days", "status"),
    [(10, 25, "v"), (10, 24, "i"), (2, 23, "v"), (2, 22, "i")],
    ids=["october-25", "october-24", "february-23", "february-22"],
)
def test_month_is_valid_with_25_valid_days_or_23_in_february(
    ww: Outlet, month: int, valid_days: int, status: str
) -> None:
    year = 2026
    for day in range(1, valid_days + 1):
        feed_hours(ww, "w01018", at(day, 0, month=month, year=year), [40] * 24)
    first = at(1, month=month, year=year)
    end = at(1, month=month + 1, year=year)
    recompute(ww, first, end)
    m = MonthValue.objects.get(outlet_id=ww.pk, pollutant="w01018", month=dt.date(year, month, 1))
    assert (m.status, m.days_valid) == (status, valid_days)


# --- HJ 212 aggregate flags ---------------------------------------------------------------------------


def test_flue_gas_aggregate_flag_is_normal_with_75_percent_normal(aa: Outlet) -> None:
    minutes(aa, "a21026", 30, ["N"] * 45 + ["C"] * 15)
    minutes(aa, "a21002", 60, ["N"] * 44 + ["C"] * 16)
    recompute(aa, H, NEXT)
    assert hour_row(aa, "a21026", H).agg_flag == "N"
    assert hour_row(aa, "a21002", H).agg_flag == "D"


def test_wastewater_aggregate_flag_is_abnormal_if_any_value_is(ww: Outlet) -> None:
    minutes(ww, "w01018", 40, ["N"] * 59 + ["M"])
    recompute(ww, H, NEXT)
    h = hour_row(ww, "w01018", H)
    assert (h.status, h.agg_flag) == ("v", "M")


def test_daily_aggregate_flag_follows_the_same_rules(aa: Outlet) -> None:
    flags = ["N"] * 18 + ["D"] * 6  # 75 % normal hours
    feed_hours(aa, "a21026", at(14), [30] * 24, flags=flags)
    recompute(aa, at(14), at(15))
    assert DayValue.objects.get(outlet_id=aa.pk, pollutant="a21026").agg_flag == "N"


# --- reference O2, dry basis, flow weighting, NOx, units -------------------------------------------


def _power_plant(aa: Outlet) -> None:
    enterprise = aa.enterprise
    enterprise.industry = Industry.objects.get(code="4411")
    enterprise.save()


def test_reference_o2_conversion_uses_the_outlets_standard(aa: Outlet) -> None:
    _power_plant(aa)  # GB 13223-2011, coal-fired boiler: reference O2 6 %
    minutes(aa, "a21026", 80, ["N"] * 60)
    minutes(aa, "a19001", 9, ["N"] * 60)
    minutes(aa, "a00000", 100, ["N"] * 60)
    recompute(aa, H, NEXT)
    h = hour_row(aa, "a21026", H)
    assert (h.zs_status, h.o2, h.o2_ref) == ("ok", Decimal("9.000"), Decimal("6.00"))
    assert h.zs_factor == Decimal("1.250000")  # (21 − 6) / (21 − 9)
    assert h.zs_value == reference_o2_concentration(Decimal(80), Decimal(9), Decimal(6)) == Decimal("100")
    assert h.value == Decimal("80")  # the measured value stays
    assert h.limit_value == Decimal("100") and not h.over_limit


def test_reference_o2_guard_near_21_percent(aa: Outlet) -> None:
    _power_plant(aa)
    minutes(aa, "a21026", 5, ["N"] * 60)
    minutes(aa, "a19001", Decimal("20.2"), ["N"] * 60)
    recompute(aa, H, NEXT)
    h = hour_row(aa, "a21026", H)
    assert (h.zs_status, h.zs_value, h.zs_factor) == ("guard", None, None)
    assert not h.over_limit


def test_missing_o2_is_flagged_not_silently_factor_one(aa: Outlet) -> None:
    _power_plant(aa)
    minutes(aa, "a21026", 50, ["N"] * 60)
    recompute(aa, H, NEXT)
    h = hour_row(aa, "a21026", H)
    assert (h.zs_status, h.zs_value) == ("no_o2", None)


def test_no_conversion_outside_normal_operation(aa: Outlet) -> None:
    _power_plant(aa)
    minutes(aa, "a21026", 50, ["N"] * 40 + ["C"] * 20)
    minutes(aa, "a19001", 9, ["N"] * 60)
    recompute(aa, H, NEXT)
    assert hour_row(aa, "a21026", H).zs_status == "not_normal"


def test_exceedance_is_judged_on_the_converted_hourly_mean(aa: Outlet) -> None:
    _power_plant(aa)
    minutes(aa, "a21026", 90, ["N"] * 60)  # 90 × 1.25 = 112.5 > 100
    minutes(aa, "a19001", 9, ["N"] * 60)
    recompute(aa, H, NEXT)
    assert hour_row(aa, "a21026", H).over_limit


def test_wet_concentrations_are_converted_to_a_dry_basis(aa: Outlet) -> None:
    configure(aa, concentration_basis="wet")
    minutes(aa, "a21026", 90, ["N"] * 60)
    minutes(aa, "a01014", 10, ["N"] * 60)  # 10 % moisture
    recompute(aa, H, NEXT)
    h = hour_row(aa, "a21026", H)
    assert h.value == Decimal("100")  # 90 / (1 − 0.10)
    assert h.moisture == Decimal("0.10000")


def test_actual_flue_gas_flow_is_converted_to_standard_dry(aa: Outlet) -> None:
    configure(aa, flow_basis="actual", atmospheric_kpa=Decimal("101.325"))
    minutes(aa, "a00000", 100, ["N"] * 60)  # m³/s actual
    minutes(aa, "a01012", Decimal("136.575"), ["N"] * 60)  # 273.15 / (273.15 + 136.575) = 2/3
    minutes(aa, "a01013", 0, ["N"] * 60)
    minutes(aa, "a01014", 10, ["N"] * 60)
    minutes(aa, "a21026", 50, ["N"] * 60)
    recompute(aa, H, NEXT)
    flow = hour_row(aa, "a00000", H)
    expected = Decimal(100) * 3600 * Decimal(2) / 3 * Decimal("0.9")
    assert abs(flow.volume_m3 - expected) < Decimal("0.01")
    so2 = hour_row(aa, "a21026", H)
    assert abs(so2.amount_kg - Decimal(50) * expected / 1_000_000) < Decimal("0.0001")


def test_wastewater_hourly_concentration_is_flow_weighted(ww: Outlet) -> None:
    feed(ww, "w00000", H, [10] * 30 + [30] * 30)  # L/s
    feed(ww, "w01018", H, [20] * 30 + [60] * 30)
    feed(ww, "w01001", H, [6] * 30 + [8] * 30)  # pH: arithmetic mean
    recompute(ww, H, NEXT)
    cod = hour_row(ww, "w01018", H)
    assert cod.value == Decimal("50")  # (20·10 + 60·30) / 40, not the arithmetic 40
    assert cod.weighting == "flow"
    assert hour_row(ww, "w01001", H).value == Decimal("7")
    flow = hour_row(ww, "w00000", H)
    assert flow.volume_m3 == Decimal("72")  # mean 20 L/s × 3600 s
    assert cod.amount_kg == Decimal("3.6")  # 50 mg/L × 72 m³ × 10⁻³


def test_flue_gas_hourly_amount_uses_the_measured_dry_concentration(aa: Outlet) -> None:
    _power_plant(aa)
    minutes(aa, "a00000", 50, ["N"] * 60)
    minutes(aa, "a21026", 80, ["N"] * 60)
    minutes(aa, "a19001", 9, ["N"] * 60)
    recompute(aa, H, NEXT)
    h = hour_row(aa, "a21026", H)
    assert h.amount_kg == Decimal("14.4")  # 80 mg/m³ × 180 000 m³ × 10⁻⁶, never the converted 100


def test_nox_is_derived_as_no2_from_no_and_no2(aa: Outlet) -> None:
    minutes(aa, "a21003", 30, ["N"] * 60)
    minutes(aa, "a21004", 4, ["N"] * 60)
    recompute(aa, H, NEXT)
    h = hour_row(aa, "a21002", H)
    assert h.status == "v"
    assert abs(h.value - (Decimal(30) * NO_TO_NO2 + 4)) < Decimal("0.01")


def test_ppm_values_are_converted_to_mg_per_cubic_metre(aa: Outlet) -> None:
    configure(aa, ppm_pollutants=["a21026"])
    minutes(aa, "a21026", 100, ["N"] * 60)
    recompute(aa, H, NEXT)
    assert abs(hour_row(aa, "a21026", H).value - Decimal("285.83")) < Decimal("0.01")


# --- logger aggregates kept and compared ----------------------------------------------------------------


def test_logger_hour_is_kept_and_a_disagreement_flagged(ww: Outlet) -> None:
    minutes(ww, "w01018", 40, ["N"] * 60)
    minutes(ww, "w21003", 4, ["N"] * 60)
    feed_hours(ww, "w01018", H, [Decimal("40.5")])  # within 2 %
    feed_hours(ww, "w21003", H, [5])  # 25 % off
    recompute(ww, H, NEXT)
    cod, nh3 = hour_row(ww, "w01018", H), hour_row(ww, "w21003", H)
    assert (cod.value, cod.logger_value, cod.mismatch) == (Decimal("40"), Decimal("40.5"), False)
    assert (nh3.value, nh3.logger_value, nh3.mismatch) == (Decimal("4"), Decimal("5"), True)
    assert nh3.mismatch_detail == {"value": ["4.000000", "5.000000"]}


def test_logger_day_is_kept_and_compared(ww: Outlet) -> None:
    feed_hours(ww, "w01018", at(14), [40] * 24)
    feed(ww, "w01018", at(14), [50], kind="d")
    recompute(ww, at(14), at(15))
    day = DayValue.objects.get(outlet_id=ww.pk, pollutant="w01018", day=dt.date(2026, 10, 14))
    assert (day.value, day.logger_value, day.mismatch) == (Decimal("40"), Decimal("50"), True)


def test_hours_known_only_from_the_logger_are_used(ww: Outlet) -> None:
    feed_hours(ww, "w01018", H, [40], flags="N")
    feed_hours(ww, "w21003", H, [4], flags="D")
    recompute(ww, H, NEXT)
    assert (hour_row(ww, "w01018", H).source, hour_row(ww, "w01018", H).status) == ("h", "v")
    assert (hour_row(ww, "w21003", H).status, hour_row(ww, "w21003", H).label) == ("i", "D")


# --- rule sets are versioned and configurable --------------------------------------------------------


def test_a_new_rule_version_changes_the_threshold(ww: Outlet, world: Any) -> None:
    admin = world.user("admin")
    minutes(ww, "w01018", 40, ["N"] * 40 + ["M"] * 20)
    recompute(ww, H, NEXT)
    assert hour_row(ww, "w01018", H).status == "i"
    published = publish_ruleset(
        admin,
        kind="validity",
        code="hj356-2019",
        name="试行：40分钟",
        medium="water",
        params={"min_valid_minutes_per_hour": 40},
    )
    assert published.version == 2 and published.is_default
    recompute(ww, H, NEXT)
    h = hour_row(ww, "w01018", H)
    assert (h.status, h.rules_id) == ("v", published.pk)


def test_rule_parameters_are_checked(world: Any) -> None:
    from totalcap.base.exceptions import ServiceError

    with pytest.raises(ServiceError, match="不能超过60"):
        publish_ruleset(
            world.user("admin"), kind="validity", code="x", name="x", medium="water",
            params={"min_valid_minutes_per_hour": 75},
        )  # fmt: skip
