"""Unit and basis conversions of monitoring data, in one place (house rule 8).

Python functions for single values (tests, pages, manual data) and the SQL fragments the set-based
aggregation uses, so both follow the same formulas. Sources: monitoring-data.md §7–9, HJ 212
Appendix D.
"""

from __future__ import annotations

from decimal import Decimal

#: Molar volume at 273.15 K and 101.325 kPa in L/mol (monitoring-data.md §8; 22.4 is the rounded form).
MOLAR_VOLUME = Decimal("22.414")
#: Molar masses in g/mol for ppm → mg/m³.
MOLAR_MASS = {
    "a21026": Decimal("64.066"),  # SO2
    "a21003": Decimal("30.006"),  # NO
    "a21004": Decimal("46.006"),  # NO2
    "a21002": Decimal("46.006"),  # NOx as NO2
    "a21005": Decimal("28.010"),  # CO
    "a21001": Decimal("17.031"),  # NH3
    "a21024": Decimal("36.461"),  # HCl
    "a21028": Decimal("34.081"),  # H2S
}
#: NOx as NO2 from NO: 46 / 30 (monitoring-data.md §8).
NO_TO_NO2 = Decimal("46") / Decimal("30")

#: Flow units → factor to m³/s.
FLOW_TO_M3_PER_S = {
    "L/s": Decimal("0.001"),
    "l/s": Decimal("0.001"),
    "m³/s": Decimal("1"),
    "m3/s": Decimal("1"),
    "m³/h": Decimal("1") / Decimal("3600"),
    "m3/h": Decimal("1") / Decimal("3600"),
    "m³/min": Decimal("1") / Decimal("60"),
    "m3/min": Decimal("1") / Decimal("60"),
    "t/h": Decimal("1") / Decimal("3600"),
}
#: Default flow unit per medium (HJ 212 Table B.1/B.2: w00000 in L/s, a00000 in m³/s).
DEFAULT_FLOW_UNIT = {"water": "L/s", "air": "m³/s"}

#: Concentration × volume → kg: water mg/L × m³ × 10⁻³; flue gas mg/m³ × m³ × 10⁻⁶.
KG_FACTOR = {"water": Decimal("0.001"), "air": Decimal("0.000001")}

STANDARD_KELVIN = Decimal("273.15")
STANDARD_PA = Decimal("101325")


def flow_factor(unit: str, medium: str) -> Decimal:
    """Factor turning a flow in ``unit`` into m³/s (the medium's default unit when unknown)."""
    unit = (unit or "").strip()
    if unit in FLOW_TO_M3_PER_S:
        return FLOW_TO_M3_PER_S[unit]
    return FLOW_TO_M3_PER_S[DEFAULT_FLOW_UNIT[medium]]


def ppm_to_mg_m3(ppm: Decimal, pollutant: str) -> Decimal:
    """mg/m³ = ppm × M / 22.414."""
    return ppm * MOLAR_MASS[pollutant] / MOLAR_VOLUME


def nox_as_no2(no_mg: Decimal | None, no2_mg: Decimal | None) -> Decimal | None:
    """NOx (as NO2) = NO × 46/30 + NO2 (mg/m³); None when NO is missing."""
    if no_mg is None:
        return None
    return no_mg * NO_TO_NO2 + (no2_mg or Decimal("0"))


def dry_concentration(wet: Decimal, moisture_fraction: Decimal) -> Decimal:
    """C_dry = C_wet / (1 − X_sw)."""
    return wet / (Decimal("1") - moisture_fraction)


def standard_dry_flow(
    actual_m3_s: Decimal,
    temperature_c: Decimal,
    static_pa: Decimal,
    atmospheric_pa: Decimal,
    moisture_fraction: Decimal,
) -> Decimal:
    """Q_sn = Q_s × 273.15 / (273.15 + t_s) × (B_a + P_s) / 101325 × (1 − X_sw) (GB/T 16157)."""
    return (
        actual_m3_s
        * STANDARD_KELVIN
        / (STANDARD_KELVIN + temperature_c)
        * (atmospheric_pa + static_pa)
        / STANDARD_PA
        * (Decimal("1") - moisture_fraction)
    )


def o2_factor(o2_measured: Decimal, o2_reference: Decimal) -> Decimal:
    """(21 − O2_ref) / (21 − O2_meas) — the caller guards O2_meas near 21 %."""
    return (Decimal("21") - o2_reference) / (Decimal("21") - o2_measured)


def reference_o2_concentration(measured: Decimal, o2_measured: Decimal, o2_reference: Decimal) -> Decimal:
    """C_ref = C_meas × (21 − O2_ref) / (21 − O2_meas)."""
    return measured * o2_factor(o2_measured, o2_reference)


def amount_kg(concentration: Decimal, volume_m3: Decimal, medium: str) -> Decimal:
    """Emission amount: concentration × volume × 10⁻³ (water) or × 10⁻⁶ (flue gas)."""
    return concentration * volume_m3 * KG_FACTOR[medium]


def flow_weighted_mean(pairs: list[tuple[Decimal, Decimal]]) -> Decimal | None:
    """Σ(Cᵢ·Vᵢ) / ΣVᵢ over (concentration, volume) pairs; arithmetic mean when ΣV = 0."""
    if not pairs:
        return None
    volume = sum((v for _c, v in pairs), Decimal("0"))
    if volume == 0:
        return sum((c for c, _v in pairs), Decimal("0")) / len(pairs)
    return sum((c * v for c, v in pairs), Decimal("0")) / volume
