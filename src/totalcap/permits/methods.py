"""Seed 003: the permitted annual emission of one outlet and pollutant, by several methods.

* **emission-standard method** (排放标准法): concentration limit × annual volume, the volume being
  the design flow × operating hours, or the benchmark volume per unit of product × annual output;
  water: mg/L × m³ × 10⁻⁶ = t, flue gas: mg/m³ × m³ × 10⁻⁹ = t;
* **EIA method** (环评批复): the figure of the EIA approval, entered;
* **total-control method** (总量控制指标): the allocation, entered until the quotas app feeds it
  (see :mod:`totalcap.permits.hooks`);
* **technology-based** (技术核定, seed 004): the calculator's chosen Ly, when it was applied.

The strictest (smallest) available figure applies. Pure functions; Decimal throughout.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from totalcap.permits.calculator import TONNES_PER_CONC_M3

#: Methods in the order they are listed (and preferred on a tie).
METHODS: tuple[str, ...] = ("standard", "eia", "total_control", "technology")
METHOD_LABELS: dict[str, str] = {
    "standard": "排放标准法",
    "eia": "环评批复",
    "total_control": "总量控制指标",
    "technology": "技术核定（种子004）",
}
T_QUANTUM = Decimal("0.0001")
KG_QUANTUM = Decimal("0.01")
DAYS_PER_YEAR = Decimal(365)


def tonnes(concentration: Decimal, volume_m3: Decimal, medium: str) -> Decimal:
    """Mass in t of ``volume_m3`` at ``concentration`` (mg/L for water, mg/m³ for air)."""
    return (concentration * volume_m3 * TONNES_PER_CONC_M3[medium]).quantize(
        T_QUANTUM, rounding=ROUND_HALF_UP
    )


@dataclass(frozen=True)
class VolumeBasis:
    """What the emission-standard method multiplies the limit by."""

    annual_volume_m3: Decimal | None = None
    design_flow_m3_per_h: Decimal | None = None
    operating_hours: Decimal | None = None
    benchmark_m3_per_unit: Decimal | None = None
    annual_output: Decimal | None = None

    def volume(self) -> tuple[Decimal, str] | None:
        """(annual volume m³, how it was obtained), or None when nothing allows it."""
        if self.benchmark_m3_per_unit is not None and self.annual_output is not None:
            return self.benchmark_m3_per_unit * self.annual_output, "benchmark"
        if self.design_flow_m3_per_h is not None and self.operating_hours is not None:
            return self.design_flow_m3_per_h * self.operating_hours, "flow"
        if self.annual_volume_m3 is not None:
            return self.annual_volume_m3, "volume"
        return None


VOLUME_BASIS_LABELS: dict[str, str] = {
    "benchmark": "单位产品基准排水（气）量×年产量",
    "flow": "设计流量×年运行小时数",
    "volume": "年排放量（水/气量）",
}


def standard_method_t(limit: Decimal | None, basis: VolumeBasis, medium: str) -> Decimal | None:
    """Emission-standard method: limit × annual volume; None when either is unknown."""
    volume = basis.volume()
    if limit is None or volume is None:
        return None
    return tonnes(limit, volume[0], medium)


def strictest(figures: Mapping[str, Decimal | None]) -> tuple[str, Decimal] | None:
    """The method with the smallest figure (ties: the first in :data:`METHODS`), or None."""
    available = [(figures[m], i, m) for i, m in enumerate(METHODS) if figures.get(m) is not None]
    if not available:
        return None
    value, _index, method = min(available, key=lambda row: (row[0], row[1]))
    assert value is not None
    return method, value


def daily_mean_kg(annual_t: Decimal) -> Decimal:
    """The daily mean of an annual quantity, kg/d."""
    return annual_t * Decimal(1000) / DAYS_PER_YEAR


def daily_max_from_beta(beta: Decimal, annual_t: Decimal) -> Decimal:
    """Ld = β × Ly / 365 in kg/d, rounded to 0.01 kg."""
    return (beta * daily_mean_kg(annual_t)).quantize(KG_QUANTUM, rounding=ROUND_HALF_UP)


def daily_cap_kg(annual_t: Decimal, cap: Decimal) -> Decimal:
    """The largest daily maximum the policy allows: cap × the daily mean of the annual quantity."""
    return (cap * daily_mean_kg(annual_t)).quantize(KG_QUANTUM, rounding=ROUND_HALF_UP)
