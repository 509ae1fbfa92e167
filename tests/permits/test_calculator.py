"""The seed 004 calculator as a pure service: the Tieling case, the TSD anchors, properties, bad input."""

from __future__ import annotations

import copy
import math
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.permits.conftest import TIELING
from totalcap.permits import calculator as calc
from totalcap.permits.calculator import CaseError, compute


def case(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(TIELING)
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


# --- the worked case ------------------------------------------------------------------------------


def test_tieling_case_through_the_service() -> None:
    r = compute(TIELING)
    assert r["concentration_limit"]["value"] == 50
    assert "辽宁" in r["concentration_limit"]["standard"]
    assert r["concentration_limit"]["level"] == "local"
    assert r["annual_volume_m3"] == 150000
    assert r["annual_volume_source"] == "benchmark"
    assert r["long_term_mean_mg_per_l"] == 25
    ly = r["annual_limit_t"]
    assert ly["candidates"] == {"standard": 3.75, "survey": 6.1, "monitoring": 9}
    assert ly["chosen"] == 6.1 and ly["chosen_way"] == "survey" and ly["rule"] == "median"
    assert r["cv"] == 0.71
    assert r["sigma"] == pytest.approx(0.64, abs=0.005)
    assert r["beta_raw"] == pytest.approx(2.33, abs=0.005)
    assert r["beta"] == 2.0 and r["beta_capped"] is True
    assert r["daily_max_kg"] == pytest.approx(33.4, abs=0.05)
    assert set(r["tsd"]) >= {"mdl_99", "mdl_95", "aml_95", "aml_99"}
    assert [s["no"] for s in r["steps"]] == [str(i) for i in range(1, 9)]
    assert "33.42 kg/d" in r["steps"][6]["result"]


def test_history_that_does_not_comply_adds_the_limit_way() -> None:
    r = compute(case(history_complies=False))
    candidates = r["annual_limit_t"]["candidates"]
    assert candidates["limit"] == 7.5  # 50 mg/L × 150 000 m³
    # four ways: 3.75, 6.1, 7.5, 9.0 → the lower of the two middle values
    assert r["annual_limit_t"]["chosen"] == 6.1
    assert "浓度限值×T" in r["steps"][3]["formula"]


def test_selection_rules() -> None:
    assert compute(case(selection="min"))["annual_limit_t"]["chosen"] == 3.75
    named = compute(case(selection="monitoring", selection_reason="在线监测数据最完整"))
    assert named["annual_limit_t"]["chosen"] == 9 and named["annual_limit_t"]["rule"] == "monitoring"
    assert named["annual_limit_t"]["reason"] == "在线监测数据最完整"
    assert compute(case(selection="standard"))["annual_limit_t"]["chosen"] == 3.75


def test_precedence_local_before_industry_before_national_and_strictest_within_a_level() -> None:
    standards = [
        {"name": "国家综合", "level": "national", "limit_mg_per_l": 20},
        {"name": "行业A", "level": "industry", "limit_mg_per_l": 90},
        {"name": "行业B", "level": "industry", "limit_mg_per_l": 60},
    ]
    r = compute(case(standards=standards))
    assert r["concentration_limit"] == {**r["concentration_limit"], "value": 60, "standard": "行业B"}
    r = compute(case(standards=[*standards, {"name": "地方", "level": "local", "limit_mg_per_l": 80}]))
    assert r["concentration_limit"]["standard"] == "地方" and r["concentration_limit"]["value"] == 80


def test_volume_ways_and_preference() -> None:
    both = case(annual_volume_m3=120000, daily_volume_m3=500, production_days=300)
    r = compute(both)
    assert r["annual_volume_source"] == "eia" and r["annual_volume_m3"] == 120000
    assert r["annual_volume_candidates"] == {"eia": 120000, "daily": 150000, "benchmark": 150000}
    chosen = compute({**both, "volume_source": "daily"})
    assert chosen["annual_volume_m3"] == 150000 and chosen["annual_volume_source"] == "daily"
    only_daily = case(
        benchmark_m3_per_t=None, annual_production_t=None, daily_volume_m3=400, production_days=250
    )
    assert compute(only_daily)["annual_volume_m3"] == 100000


def test_mean_from_a_series_removes_invalid_values() -> None:
    r = compute(case(long_term_mean_mg_per_l=None, concentrations_mg_per_l=[20, 30, None, -5, "", 25, 100]))
    assert r["long_term_mean_mg_per_l"] == 43.75  # (20 + 30 + 25 + 100) / 4
    assert r["concentration_count"] == 4 and r["concentration_removed"] == 3
    assert any("剔除了3个无效值" in n for n in r["notes"])
    assert any("超过浓度限值" in n for n in r["notes"])  # 100 > 50


def test_cv_from_daily_loads() -> None:
    loads = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110]
    r = compute(case(cv=None, daily_loads_kg=loads))
    mean = sum(loads) / len(loads)
    sd = math.sqrt(sum((x - mean) ** 2 for x in loads) / (len(loads) - 1))
    assert r["cv"] == pytest.approx(sd / mean, abs=1e-4)
    assert r["cv_source"] == "series" and r["daily_loads_count"] == 11
    few = compute(case(cv=None, daily_loads_kg=[10, 12, 11]))
    assert any("少于10个" in n for n in few["notes"])


def test_air_medium_uses_mg_per_m3_and_1e_9() -> None:
    r = compute(case(medium="air"))
    assert r["concentration_unit"] == "mg/m³"
    assert r["annual_limit_t"]["candidates"]["standard"] == 0.0038  # 150 000 m³ × 25 mg/m³ = 3.75 kg


def test_cap_is_configurable_and_can_be_lifted() -> None:
    assert compute(case(beta_cap=3))["beta"] == pytest.approx(2.3322, abs=1e-4)
    r = compute({**TIELING, "beta_cap": None})
    assert r["beta"] == r["beta_raw"] and r["beta_capped"] is False and r["beta_cap"] is None


# --- the TSD anchors ----------------------------------------------------------------------------------


def test_tsd_anchor_values_for_cv_0_6() -> None:
    assert calc.mdl_multiplier(0.6, 0.99) == pytest.approx(3.11, abs=0.01)
    assert calc.aml_multiplier(0.6, 0.95, 4) == pytest.approx(1.55, abs=0.005)
    assert calc.aml_multiplier(0.6, 0.95, 4) == pytest.approx(
        1.552, abs=0.001
    )  # not 1.390 (the wrong variant)
    wrong = math.exp(calc.z_score(0.95) * math.sqrt(math.log(1 + 0.36 / 4)) - 0.5 * math.log(1 + 0.36))
    assert wrong == pytest.approx(1.390, abs=0.001)
    assert calc.aml_multiplier(0.6, 0.95, 4) != pytest.approx(wrong, abs=0.05)


def test_beta_is_the_mdl_multiplier_at_the_95th_percentile() -> None:
    raw, capped = calc.beta(0.71)
    assert raw == pytest.approx(calc.mdl_multiplier(0.71, 0.95))
    assert capped == 2.0


# --- properties ------------------------------------------------------------------------------------

cvs = st.floats(min_value=0.0, max_value=5.0, allow_nan=False)
percentiles = st.floats(min_value=0.51, max_value=0.999)


@given(st.floats(min_value=0.0, max_value=1e-4), percentiles)
def test_beta_tends_to_1_as_cv_tends_to_0(cv: float, p: float) -> None:
    raw, _ = calc.beta(cv, p, None)
    assert raw == pytest.approx(1.0, abs=1e-3)


@given(
    st.floats(min_value=0.0, max_value=2.0),
    st.floats(min_value=0.0, max_value=2.0),
    st.sampled_from([0.9, 0.95, 0.99]),
)
def test_beta_grows_with_cv(a: float, b: float, p: float) -> None:
    # d/dσ (zσ − σ²/2) = z − σ > 0 for σ < z; CV ≤ 2 keeps σ < 1.27 < z(0.9) = 1.28
    low, high = sorted((a, b))
    if high - low < 1e-6:
        return
    assert calc.beta(high, p, None)[0] > calc.beta(low, p, None)[0]


@given(cvs, percentiles, st.floats(min_value=1.0, max_value=5.0))
def test_the_cap_holds(cv: float, p: float, cap: float) -> None:
    raw, capped = calc.beta(cv, p, cap)
    assert capped <= cap
    assert capped == min(raw, cap)


@given(
    st.decimals(min_value=1, max_value=10**7, places=2),
    st.decimals(min_value=Decimal("0.01"), max_value=10**6, places=2),
    st.decimals(min_value=Decimal("0.01"), max_value=1000, places=3),
)
def test_ly_grows_with_t_and_with_c(volume: Decimal, extra: Decimal, conc: Decimal) -> None:
    assert calc.annual_load_t(volume + extra, conc) > calc.annual_load_t(volume, conc)
    assert calc.annual_load_t(volume, conc + Decimal("0.01")) > calc.annual_load_t(volume, conc)


@settings(max_examples=50)
@given(st.floats(min_value=1, max_value=1e6), st.floats(min_value=1.01, max_value=10))
def test_standard_way_of_the_whole_case_grows_with_t_and_c(t: float, factor: float) -> None:
    base = case(benchmark_m3_per_t=None, annual_production_t=None, annual_volume_m3=round(t, 2))
    low = compute(base)["annual_limit_t"]["candidates"]["standard"]
    more_t = compute({**base, "annual_volume_m3": round(t * factor, 2) + 1})["annual_limit_t"]["candidates"][
        "standard"
    ]
    more_c = compute({**base, "long_term_mean_mg_per_l": 25 * factor + 1})["annual_limit_t"]["candidates"][
        "standard"
    ]
    assert more_t >= low and more_c >= low


@given(cvs, percentiles)
def test_aml_with_one_sample_equals_mdl(cv: float, p: float) -> None:
    assert calc.aml_multiplier(cv, p, 1) == pytest.approx(calc.mdl_multiplier(cv, p), rel=1e-12)


@given(st.floats(min_value=0.05, max_value=3.0), st.integers(min_value=2, max_value=31))
def test_aml_is_below_mdl_for_more_samples(cv: float, n: int) -> None:
    assert calc.aml_multiplier(cv, 0.95, n) < calc.mdl_multiplier(cv, 0.95)


@given(st.lists(st.floats(min_value=0.01, max_value=1e5), min_size=2, max_size=60))
def test_cv_of_loads_is_non_negative_and_scale_free(loads: list[float]) -> None:
    cv = calc.cv_of(loads)
    assert cv >= 0
    assert calc.cv_of([x * 3 for x in loads]) == pytest.approx(cv, rel=1e-6, abs=1e-9)


# --- bad input -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"standards": []}, "standards"),
        ({"standards": [{"name": "x", "level": "city", "limit_mg_per_l": 5}]}, "standards[0].level"),
        ({"standards": [{"name": "", "level": "local", "limit_mg_per_l": 5}]}, "standards[0].name"),
        (
            {"standards": [{"name": "x", "level": "local", "limit_mg_per_l": -5}]},
            "standards[0].limit_mg_per_l",
        ),
        (
            {"standards": [{"name": "x", "level": "local", "limit_mg_per_l": "abc"}]},
            "standards[0].limit_mg_per_l",
        ),
        ({"annual_volume_m3": -1}, "annual_volume_m3"),
        ({"daily_volume_m3": -10, "production_days": 300}, "daily_volume_m3"),
        ({"benchmark_m3_per_t": -10}, "benchmark_m3_per_t"),
        ({"production_days": 400, "daily_volume_m3": 1}, "production_days"),
        ({"benchmark_m3_per_t": None, "annual_production_t": None}, "annual_volume_m3"),
        ({"benchmark_m3_per_t": None}, "benchmark_m3_per_t"),
        ({"annual_production_t": None}, "annual_production_t"),
        ({"volume_source": "eia"}, "volume_source"),
        ({"long_term_mean_mg_per_l": None}, "long_term_mean_mg_per_l"),
        ({"long_term_mean_mg_per_l": -2}, "long_term_mean_mg_per_l"),
        ({"concentrations_mg_per_l": [1, 2]}, "long_term_mean_mg_per_l"),
        ({"long_term_mean_mg_per_l": None, "concentrations_mg_per_l": [None, -1]}, "concentrations_mg_per_l"),
        ({"candidate_annual_t": {"survey": -6.1}}, "candidate_annual_t.survey"),
        ({"candidate_annual_t": {"standard": 1}}, "candidate_annual_t.standard"),
        ({"selection": "nonsense"}, "selection"),
        ({"cv": -0.1}, "cv"),
        ({"cv": None}, "cv"),
        ({"cv": None, "daily_loads_kg": [5]}, "daily_loads_kg"),
        ({"cv": None, "daily_loads_kg": [5, -1]}, "daily_loads_kg[1]"),
        ({"cv": None, "daily_loads_kg": [0, 0]}, "daily_loads_kg"),
        ({"daily_loads_kg": [1, 2]}, "cv"),
        ({"percentile": 1.2}, "percentile"),
        ({"percentile": 0.3}, "percentile"),
        ({"beta_cap": 0.5}, "beta_cap"),
        ({"tsd_samples_per_month": 0}, "tsd_samples_per_month"),
        ({"tsd_samples_per_month": 2.5}, "tsd_samples_per_month"),
        ({"history_complies": "perhaps"}, "history_complies"),
        ({"medium": "soil"}, "medium"),
    ],
)
def test_bad_input_names_the_field(changes: dict[str, Any], field: str) -> None:
    data = copy.deepcopy(TIELING)
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    with pytest.raises(CaseError) as info:
        compute(data)
    assert info.value.field == field
    assert info.value.message and info.value.english


def test_not_an_object() -> None:
    with pytest.raises(CaseError) as info:
        compute([1, 2])
    assert info.value.field == "(input)"
