"""Permit contents: the three methods of seed 003 (strictest applies), the daily maximum, validation
with Chinese messages, special-period limits, plant totals, applying the calculator to a draft."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest

from tests.permits.conftest import TIELING, drive, permit_in, user
from totalcap.base.exceptions import PermissionRefused, ServiceError, TransitionRefused
from totalcap.base.models import DomainEvent
from totalcap.permits import hooks, methods, services
from totalcap.permits.models import LimitCalculation, PermitItem, PermitVersion, SpecialPeriodLimit
from totalcap.registry.models import EmissionStandard, Outlet, Pollutant, StandardLimit


@pytest.fixture
def draft(world: Any) -> PermitVersion:
    return permit_in(world.e_own, "draft").versions.get()


def water(world: Any) -> Outlet:
    return world.e_own.outlets.get(code="DW001")


def air(world: Any) -> Outlet:
    return world.e_own.outlets.get(code="DA001")


def pollutant(code: str) -> Pollutant:
    return Pollutant.objects.get(code=code)


def save(version: PermitVersion, outlet: Outlet, code: str, **fields: Any) -> PermitItem:
    existing = PermitItem.objects.filter(version=version, outlet=outlet, pollutant__code=code).first()
    item = existing or PermitItem(version=version, outlet=outlet, pollutant=pollutant(code))
    for key, value in fields.items():
        is_decimal = PermitItem._meta.get_field(key).get_internal_type() == "DecimalField"
        setattr(item, key, Decimal(str(value)) if is_decimal and value is not None else value)
    return services.save_item(user("ent"), item)


# --- methods ---------------------------------------------------------------------------------------


def test_pure_methods() -> None:
    basis = methods.VolumeBasis(benchmark_m3_per_unit=Decimal(10), annual_output=Decimal(15000))
    assert methods.standard_method_t(Decimal(50), basis, "water") == Decimal("7.5000")
    flow = methods.VolumeBasis(design_flow_m3_per_h=Decimal(100000), operating_hours=Decimal(7200))
    assert methods.standard_method_t(Decimal(35), flow, "air") == Decimal("25.2000")  # 35 mg/m³ × 7.2e8 m³
    assert methods.standard_method_t(None, basis, "water") is None
    assert methods.standard_method_t(Decimal(5), methods.VolumeBasis(), "water") is None
    picks = {
        "standard": Decimal("7.5"),
        "eia": Decimal("9"),
        "total_control": None,
        "technology": Decimal("6.1"),
    }
    assert methods.strictest(picks) == ("technology", Decimal("6.1"))
    assert methods.strictest({"standard": Decimal(5), "eia": Decimal(5)}) == ("standard", Decimal(5))
    assert methods.strictest({}) is None
    assert methods.daily_max_from_beta(Decimal(2), Decimal("6.1")) == Decimal("33.42")
    assert methods.daily_cap_kg(Decimal("6.1"), Decimal(2)) == Decimal("33.42")


def test_the_concentration_limit_comes_from_the_applicable_standard(world: Any, draft: PermitVersion) -> None:
    item = save(draft, water(world), "w01018")
    assert item.concentration_limit == Decimal(80)  # GB 3544-2008 造纸企业 (industry 2221)
    assert item.standard_name == "GB 3544-2008 制浆造纸工业水污染物排放标准"
    assert item.concentration_unit == "mg/L"


def test_all_three_methods_are_kept_and_the_strictest_applies(world: Any, draft: PermitVersion) -> None:
    item = save(
        draft,
        water(world),
        "w01018",
        benchmark_m3_per_unit=10,
        annual_output=15000,
        eia_t=9,
        total_control_t=8,
    )
    assert item.annual_volume_m3 == Decimal(150000)
    assert item.standard_method_t == Decimal("12.0000")  # 80 mg/L × 150 000 m³
    assert (item.eia_t, item.total_control_t) == (Decimal(9), Decimal(8))
    assert item.annual_t == Decimal(8) and item.annual_method == "total_control"
    item = save(draft, water(world), "w01018", eia_t=7)
    assert item.annual_t == Decimal(7) and item.annual_method == "eia"
    assert [m for _v, m in item.method_cells] == ["standard", "eia", "total_control", "technology"]


def test_flow_basis_for_flue_gas(world: Any, draft: PermitVersion) -> None:
    item = save(
        draft, air(world), "a21026", concentration_limit=35, design_flow_m3_per_h=100000, operating_hours=7200,
        reference_o2="6",
    )  # fmt: skip
    assert item.annual_volume_m3 == Decimal(720000000)
    assert item.standard_method_t == Decimal("25.2000") and item.annual_method == "standard"


def test_daily_maximum_from_beta_and_the_cap(world: Any, draft: PermitVersion) -> None:
    item = save(draft, water(world), "w01018", eia_t="6.1", beta=2)
    assert item.daily_max_kg == Decimal("33.42")
    with pytest.raises(ServiceError, match="超过年许可排放量日均值的2倍") as info:
        save(draft, water(world), "w01018", beta=None, daily_max_kg=40)
    assert info.value.field == "daily_max_kg"
    with pytest.raises(ServiceError, match="请先确定年许可排放量"):
        save(draft, water(world), "w21011", daily_max_kg=1)
    assert PermitItem.objects.get(pk=item.pk).daily_max_kg == Decimal("33.42")


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"pollutant_code": "a21026"}, "pollutant", "废水排放口不能许可气污染物"),
        ({"pollutant_code": "w00000"}, "pollutant", "流量参数"),
        ({"reference_o2": "6"}, "reference_o2", "只适用于废气"),
        ({"concentration_limit": 50, "committed_limit": 60}, "committed_limit", "不能高于许可浓度限值"),
        ({"concentration_limit": 90}, "concentration_limit", "不得高于所执行标准GB 3544-2008的限值"),
        ({"design_flow_m3_per_h": 10}, "operating_hours", "还需年运行小时数"),
        ({"annual_output": 10}, "benchmark_m3_per_unit", "还需单位产品基准"),
        ({"design_flow_m3_per_h": 10, "operating_hours": 9000}, "operating_hours", "不能超过8784"),
        ({"eia_t": -1}, "eia_t", ""),
    ],
)
def test_item_validation_names_the_field(
    world: Any, draft: PermitVersion, fields: dict[str, Any], field: str, message: str
) -> None:
    code = fields.pop("pollutant_code", "w01018")
    before = PermitItem.objects.filter(version=draft).count()
    with pytest.raises(ServiceError) as info:
        save(draft, water(world), code, **fields)
    assert info.value.field == field
    assert message in info.value.message
    assert PermitItem.objects.filter(version=draft).count() == before


def test_an_outlet_of_another_enterprise_is_refused(world: Any, draft: PermitVersion) -> None:
    other = world.e_other.outlets.get(code="DW001")
    with pytest.raises(ServiceError, match="不属于本许可证的排污单位"):
        save(draft, other, "w01018", eia_t=1)


def test_air_item_takes_reference_oxygen_from_the_standard(world: Any) -> None:
    power = world.e_own
    power.industry_id = (
        __import__("totalcap.registry.models", fromlist=["Industry"]).Industry.objects.get(code="4411").pk
    )
    power.save()
    version = permit_in(power, "draft").versions.get()
    item = save(version, air(world), "a21026", eia_t=20)
    assert item.concentration_limit == Decimal(100) and item.reference_o2 == Decimal(6)
    assert "GB 13223-2011" in item.standard_name


# --- special-period limits -------------------------------------------------------------------------


def special(version: PermitVersion, **fields: Any) -> SpecialPeriodLimit:
    obj = SpecialPeriodLimit(version=version, pollutant=pollutant(fields.pop("code", "w01018")), **fields)
    return services.save_special(user("ent"), obj)


def test_special_periods(world: Any, draft: PermitVersion) -> None:
    save(draft, water(world), "w01018", eia_t="6.1", beta=2)
    heating = special(draft, outlet=water(world), kind="season", label="枯水期加严", start_md="11-15", end_md="03-15",
                      concentration_limit=Decimal(40), daily_kg=Decimal(20), monthly_t=Decimal("0.5"))  # fmt: skip
    assert heating.period_label == "枯水期加严（11-15至03-15）"
    red = special(draft, kind="alert", alert_level="red", daily_kg=Decimal(10))
    assert str(red) == "红色预警 全厂 化学需氧量"
    dry = special(draft, outlet=water(world), kind="hydro", hydro_period="dry", start_md="12-01", end_md="02-28",
                  monthly_t=Decimal("0.3"))  # fmt: skip
    assert "枯水期" in dry.period_label


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"kind": "alert"}, None, "请至少填写"),
        ({"kind": "alert", "daily_kg": Decimal(1)}, "alert_level", "预警级别"),
        ({"kind": "hydro", "daily_kg": Decimal(1), "start_md": "12-01", "end_md": "02-28"}, "hydro_period", "水期"),
        ({"kind": "season", "daily_kg": Decimal(1), "start_md": "11-15", "end_md": "03-15"}, "label", "时段名称"),
        ({"kind": "season", "label": "采暖季", "daily_kg": Decimal(1), "start_md": "13-01", "end_md": "03-15"}, "start_md", "有效的月-日"),
        ({"kind": "season", "label": "采暖季", "daily_kg": Decimal(1)}, "start_md", "起止月日"),
        ({"kind": "alert", "alert_level": "red", "concentration_limit": Decimal(60), "with_outlet": True}, "concentration_limit", "不得高于常规"),
        ({"kind": "alert", "alert_level": "red", "daily_kg": Decimal(50), "with_outlet": True}, "daily_kg", "不得高于常规日最大"),
    ],
)  # fmt: skip
def test_special_period_validation(
    world: Any, draft: PermitVersion, fields: dict[str, Any], field: str | None, message: str
) -> None:
    save(draft, water(world), "w01018", concentration_limit=50, eia_t="6.1", beta=2)
    if fields.pop("with_outlet", False):
        fields["outlet"] = water(world)
    with pytest.raises(ServiceError) as info:
        special(draft, **fields)
    assert info.value.field == field and message in info.value.message
    assert not SpecialPeriodLimit.objects.filter(version=draft).exists()


# --- totals, allocation hook, submission checks --------------------------------------------------------


def test_plant_totals_by_outlet_category(world: Any, draft: PermitVersion) -> None:
    general = Outlet.objects.create(
        enterprise=world.e_own, code="DW002", name="生活污水", medium="water", category="general"
    )
    save(draft, water(world), "w01018", eia_t=5, beta="1.5")
    save(draft, general, "w01018", eia_t="1.5")
    save(draft, water(world), "w21003", eia_t="0.5")
    totals = {row.pollutant.code: row for row in services.plant_totals(draft)}
    cod = totals["w01018"]
    assert (cod.main_t, cod.general_t, cod.total_t) == (Decimal(5), Decimal("1.5"), Decimal("6.5"))
    assert cod.daily_max_kg == Decimal("20.55") and cod.allocation_t is None and not cod.over_allocation
    assert totals["w21003"].total_t == Decimal("0.5")


def test_allocation_provider_hook(world: Any, draft: PermitVersion) -> None:
    save(draft, water(world), "w01018", eia_t=5)

    def provider(enterprise: Any, pol: Any, year: int) -> Decimal | None:
        return Decimal(4) if pol.code == "w01018" else None

    hooks.register_allocation_provider(provider)
    try:
        row = services.plant_totals(draft)[0]
        assert row.allocation_t == Decimal(4) and row.over_allocation
    finally:
        hooks._allocation_providers.remove(provider)


def test_contents_problems_list_what_is_missing(world: Any, draft: PermitVersion) -> None:
    PermitItem.objects.filter(version=draft).delete()
    assert services.contents_problems(draft) == ["尚未填写任何许可排放限值（排放口×污染物）。"]
    save(draft, air(world), "a21026")
    assert services.contents_problems(draft) == [
        "DA001 二氧化硫 缺少许可排放浓度限值。",
        "主要排放口 DA001 二氧化硫 尚未确定年许可排放量。",
    ]


# --- the calculator applied to a draft ---------------------------------------------------------------


def test_apply_the_tieling_case_to_a_draft_in_one_action(world: Any, draft: PermitVersion) -> None:
    local = EmissionStandard.objects.get(code="DB21/1627-2008").limits.get(
        pollutant__code="w01018", discharge_mode="direct"
    )
    case = copy.deepcopy(TIELING)
    case["standards"][0]["id"] = local.pk
    case["selection_reason"] = "三种途径取中间值"
    item = services.apply_calculation(user("ent"), draft, water(world), pollutant("w01018"), case)
    assert item.concentration_limit == Decimal(50) and item.standard_limit_id == local.pk
    assert item.technology_t == Decimal("6.1") and item.beta == Decimal(2)
    assert item.benchmark_m3_per_unit == Decimal(10) and item.annual_output == Decimal(15000)
    assert item.standard_method_t == Decimal("7.5000")  # 50 mg/L × 150 000 m³
    assert item.eia_t == Decimal(50)  # kept from the draft
    assert item.annual_t == Decimal("6.1") and item.annual_method == "technology"
    assert item.daily_max_kg == Decimal("33.42")
    calc = LimitCalculation.objects.get(pk=item.calculation_id)
    assert calc.result["annual_limit_t"]["reason"] == "三种途径取中间值" and calc.created_by == user("ent")
    applied = DomainEvent.objects.filter(action="limits_applied").order_by("id").last()
    assert applied is not None and applied.payload["calculation"] == calc.pk


def test_apply_refused_on_bad_input_frozen_versions_and_without_permission(
    world: Any, draft: PermitVersion
) -> None:
    case = copy.deepcopy(TIELING)
    case["cv"] = -1
    with pytest.raises(ServiceError) as info:
        services.apply_calculation(user("ent"), draft, water(world), pollutant("w01018"), case)
    assert info.value.field == "cv"
    with pytest.raises(PermissionRefused):
        services.apply_calculation(user("auditor"), draft, water(world), pollutant("w01018"), TIELING)
    version = drive(draft, "submitted")
    with pytest.raises(TransitionRefused, match="不可修改"):
        services.apply_calculation(user("ent"), version, water(world), pollutant("w01018"), TIELING)
    assert not LimitCalculation.objects.exists()
    other_outlet = world.e_other.outlets.get(code="DW001")
    fresh = permit_in(world.e_other, "draft").versions.get()
    with pytest.raises(ServiceError, match="不属于"):
        services.apply_calculation(user("ent_other"), fresh, water(world), pollutant("w01018"), TIELING)
    assert services.apply_calculation(
        user("ent_other"), fresh, other_outlet, pollutant("w01018"), TIELING
    ).annual_t


def test_calculator_standards_from_the_library(world: Any) -> None:
    rows = services.calculator_standards(water(world), pollutant("w01018"))
    assert rows[0]["level"] == "industry" and rows[0]["limit_mg_per_l"] == "80"
    assert rows[-1]["level"] == "national"
    assert all(StandardLimit.objects.filter(pk=r["id"]).exists() for r in rows)
