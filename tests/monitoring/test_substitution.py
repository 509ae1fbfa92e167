"""Substitution bands (monitoring-data.md §4 flue gas, §5.3 wastewater), one test per band."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from tests.monitoring.conftest import at, configure, emission, feed_hours, recompute
from totalcap.monitoring.models import RuleSet, Substitution
from totalcap.monitoring.services.context import load_contexts
from totalcap.monitoring.services.substitution import fill_concentrations
from totalcap.registry.models import Outlet

HOUR = dt.timedelta(hours=1)
G = at(14, 10)  # the gap starts here (Beijing)
HISTORY = 1100  # hours of history before the gap
FLOW = 10  # m³/s → 36 000 m³/h, so 1 mg/m³ ≈ 0.036 kg/h
KG_PER_MG = Decimal("0.036")


def air_history(
    aa: Outlet,
    *,
    gap_hours: int,
    gap_flag: str = "M",
    invalid_before: int = 0,
    calibration_at: int | None = None,
    after_value: int = 50,
    peaks: dict[int, int] | None = None,
) -> None:
    """SO2 at 50 mg/m³ with peaks (hours before the gap → value), an optional block of invalid hours
    just before the gap's look-back, the gap itself, and valid hours after it."""
    peaks = peaks or {100: 80, 300: 90, 1000: 95}
    values, flags = [], []
    for back in range(HISTORY, 0, -1):
        values.append(peaks.get(back, 50))
        if calibration_at is not None and back == calibration_at:
            flags.append("C")
        elif 400 < back <= 400 + invalid_before:
            flags.append("D")
        else:
            flags.append("N")
    values += [50] * gap_hours + [after_value] * 6
    flags += [gap_flag] * gap_hours + ["N"] * 6
    start = G - HISTORY * HOUR
    feed_hours(aa, "a21026", start, values, flags=flags)
    feed_hours(aa, "a00000", start, [FLOW] * len(values))


def account(aa: Outlet, gap_hours: int) -> Any:
    recompute(aa, G - HISTORY * HOUR, G + (gap_hours + 6) * HOUR)
    return emission(aa, "a21026", G)


def test_band_90_percent_short_gap_takes_the_max_of_180_valid_hours(aa: Outlet) -> None:
    air_history(aa, gap_hours=3)
    hour = account(aa, 3)
    assert hour.method == "auto_substituted"
    assert hour.kg == 80 * KG_PER_MG  # the peak 100 h back; not 90 (300 h back)
    sub = Substitution.objects.get(pk=hour.substitution_id)
    assert sub.rule_code == "other-90-le24"
    assert (
        sub.inputs["gap_hours"] == 3 and sub.inputs["window_hours"] == 180 and sub.inputs["hours_used"] == 180
    )
    assert Decimal(sub.inputs["alpha"]) >= Decimal("0.9")
    assert sub.original["status"] == "i" and sub.original["label"] == "M"
    assert sub.ruleset.code == "hj75-2017"


def test_band_90_percent_long_gap_takes_the_max_of_720_valid_hours(aa: Outlet) -> None:
    air_history(aa, gap_hours=30)
    hour = account(aa, 30)
    assert hour.kg == 90 * KG_PER_MG
    assert Substitution.objects.get(pk=hour.substitution_id).rule_code == "other-90-gt24"


def test_band_75_to_90_percent_takes_the_max_of_2160_valid_hours(aa: Outlet) -> None:
    air_history(aa, gap_hours=3, invalid_before=100)  # α ≈ 85 %
    hour = account(aa, 3)
    sub = Substitution.objects.get(pk=hour.substitution_id)
    assert Decimal("0.75") <= Decimal(sub.inputs["alpha"]) < Decimal("0.9")
    assert sub.rule_code == "other-75"
    assert hour.kg == 95 * KG_PER_MG


def test_below_75_percent_nothing_is_substituted(aa: Outlet) -> None:
    air_history(aa, gap_hours=3, invalid_before=250)  # α ≈ 65 %
    hour = account(aa, 3)
    assert hour.method == "unaccounted" and hour.substitution_id is None


def test_out_of_control_looks_back_from_the_last_calibration(aa: Outlet) -> None:
    air_history(aa, gap_hours=3, gap_flag="T", calibration_at=50, peaks={100: 80, 300: 90, 1000: 95, 10: 99})
    hour = account(aa, 3)
    sub = Substitution.objects.get(pk=hour.substitution_id)
    assert (sub.situation, sub.rule_code) == ("out_of_control", "ooc-90-le24")
    assert sub.inputs["anchor"] == "calibration"
    assert hour.kg == 80 * KG_PER_MG  # the 99 after the calibration is not in the window


def test_maintenance_gap_looks_back_from_the_gap(aa: Outlet) -> None:
    air_history(aa, gap_hours=3, gap_flag="M", calibration_at=50, peaks={100: 80, 300: 90, 1000: 95, 10: 99})
    assert account(aa, 3).kg == 99 * KG_PER_MG


def test_before_after_variant_for_short_maintenance_gaps(aa: Outlet) -> None:
    variant = RuleSet.objects.get(code="hj75-2017-before-after")
    configure(aa, substitution_rules=variant)
    air_history(aa, gap_hours=3, after_value=70)
    hour = account(aa, 3)
    sub = Substitution.objects.get(pk=hour.substitution_id)
    assert sub.rule_code == "mnt-90-le24-ba"
    assert hour.kg == (50 + 70) / Decimal(2) * KG_PER_MG


def test_only_the_listed_pollutants_are_substituted(aa: Outlet) -> None:
    feed_hours(aa, "a21005", G - 48 * HOUR, [10] * 48 + [None, None] + [10] * 4)  # CO: not in the list
    feed_hours(aa, "a00000", G - 48 * HOUR, [FLOW] * 54)
    from totalcap.monitoring.models import AccountingPlan

    AccountingPlan.objects.create(outlet=aa, pollutant_id="a21005", automatic_required=False)
    recompute(aa, G - 48 * HOUR, G + 6 * HOUR)
    assert emission(aa, "a21005", G).method == "unaccounted"


# --- wastewater -----------------------------------------------------------------------------------


def water_history(ww: Outlet, cod: list[Any], flow: list[Any]) -> None:
    start = G - 10 * HOUR
    feed_hours(ww, "w01018", start, cod)
    feed_hours(ww, "w00000", start, flow)


def test_wastewater_concentration_gap_is_filled_with_the_mean_of_the_previous_n_valid_hours(
    ww: Outlet,
) -> None:
    cod = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100] + [None, None, None] + [40] * 3
    water_history(ww, cod, [10] * 16)
    recompute(ww, G - 10 * HOUR, G + 6 * HOUR)
    hour = emission(ww, "w01018", G)
    sub = Substitution.objects.get(pk=hour.substitution_id)
    assert hour.method == "auto_substituted"
    assert hour.concentration == Decimal("90.00")  # mean of 80, 90, 100 (gap of 3 hours → 3 values)
    assert hour.volume_m3 == Decimal("36")  # the measured volume stays
    assert hour.kg == Decimal("90") * 36 / 1000
    assert sub.inputs["concentration"]["window"] == 3 and sub.rule_code == "fill-concentration"


def test_wastewater_flow_gap_is_filled_separately(ww: Outlet) -> None:
    water_history(ww, [40] * 16, [10, 10, 10, 10, 10, 10, 10, 20, 30, 40] + [None] * 2 + [10] * 4)
    recompute(ww, G - 10 * HOUR, G + 6 * HOUR)
    hour = emission(ww, "w01018", G)
    assert hour.concentration == Decimal("40")
    assert hour.volume_m3 == Decimal("126.00")  # mean of 30 and 40 L/s hours: 108 m³ and 144 m³
    assert Substitution.objects.get(pk=hour.substitution_id).rule_code == "fill-volume"


def test_ph_is_filled_with_the_median(ww: Outlet) -> None:
    feed_hours(ww, "w01001", G - 5 * HOUR, [6, 9, 7, 7, 8] + [None] * 5)
    recompute(ww, G - 5 * HOUR, G + 5 * HOUR)
    ctx = load_contexts([ww.pk])[ww.pk]
    filled = fill_concentrations(ctx, "w01001", G, G + 5 * HOUR)
    assert filled[G].concentration == Decimal("7.00")  # median of the 5 values before a 5-hour gap
    assert filled[G].inputs["concentration"]["statistic"] == "median"


def test_a_substitution_is_reused_while_its_inputs_hold(aa: Outlet) -> None:
    air_history(aa, gap_hours=3)
    first = account(aa, 3)
    second = account(aa, 3)
    assert (first.substitution_id, first.version) == (second.substitution_id, second.version)
