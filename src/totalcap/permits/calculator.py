"""Seed 004: technology-based permit limits for one pollutant of one outlet.

Pure functions, no Django and no database, so that ``totalcap limits compute`` runs anywhere and the
UI wizard, the API and the CLI share one implementation. Masses and volumes are ``Decimal``; the
lognormal statistics (σ, β, TSD multipliers) are floats and rounded when reported.

The method (DOMAIN.md, "Formulas that the seeds fix"; permits-and-accounting.md §3, §6, §7.1):

1. concentration limit: the applicable standard by precedence — local before industry before national
   integrated; within one level the strictest value;
2. annual discharge volume T (m³): from the EIA, from daily volume × production days, or T = S × P;
3. long-term mean concentration C = ΣXᵢ / n over valid values (invalid ones removed first);
4. annual limit Ly by every available way — monitoring, survey … (entered), the standard-based way
   T × C, and limit × T when the history does not comply — chosen by a rule (median, min, or a way);
5. β from the CV of daily loads: σ² = ln(1 + CV²), β = exp(z·σ − σ²/2), capped (default 2);
   Ld = β · Ly / 365;
6. beside it, the US TSD multipliers: MDL exp(z·σ − σ²/2) at the 99th and 95th percentiles, AML with
   n samples a month using σₙ² = ln(1 + CV²/n) in both terms.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from statistics import NormalDist, fmean, stdev
from typing import Any

LEVELS: tuple[str, ...] = ("local", "industry", "national")
LEVEL_LABELS: dict[str, str] = {"local": "地方标准", "industry": "行业标准", "national": "国家综合标准"}
VOLUME_SOURCES: tuple[str, ...] = ("eia", "daily", "benchmark")
VOLUME_LABELS: dict[str, str] = {
    "eia": "环评批复年排水量",
    "daily": "日排水量×生产天数",
    "benchmark": "单位产品基准排水量×年产量（T=S×P）",
}
#: Ways of the annual limit the calculator computes itself (not accepted as input).
COMPUTED_WAYS: tuple[str, ...] = ("standard", "limit")
WAY_LABELS: dict[str, str] = {
    "monitoring": "在线监测数据",
    "survey": "企业调查表",
    "statistics": "环境统计数据",
    "eia": "环评批复",
    "standard": "标准法（T×C）",
    "limit": "限值法（浓度限值×T）",
}
RULES: tuple[str, ...] = ("median", "min")
RULE_LABELS: dict[str, str] = {"median": "取中间值", "min": "取最小值"}
MEDIA: tuple[str, ...] = ("water", "air")

DEFAULT_PERCENTILE = 0.95
DEFAULT_BETA_CAP = 2.0
DEFAULT_TSD_SAMPLES = 4
DAYS_PER_YEAR = Decimal(365)
#: t per (concentration unit × m³): mg/L × m³ = g → 10⁻⁶ t; mg/m³ × m³ = mg → 10⁻⁹ t.
TONNES_PER_CONC_M3: dict[str, Decimal] = {"water": Decimal("1e-6"), "air": Decimal("1e-9")}
CONCENTRATION_UNITS: dict[str, str] = {"water": "mg/L", "air": "mg/m³"}

T_QUANTUM = Decimal("0.0001")  # tonnes: 0.1 kg
KG_QUANTUM = Decimal("0.01")
M3_QUANTUM = Decimal("0.01")
CONC_QUANTUM = Decimal("0.0001")
FLOAT_DIGITS = 4


class CaseError(ValueError):
    """Bad input: ``field`` names the input key (``standards[1].limit_mg_per_l``)."""

    def __init__(self, field: str, message: str, english: str) -> None:
        super().__init__(f"{field}: {english}")
        self.field = field
        self.message = message  # Chinese, for people
        self.english = english  # English, for logs and the CLI


# --- small helpers ---------------------------------------------------------------------------


def _decimal(raw: Any, name: str, *, minimum: Decimal | None = Decimal(0), positive: bool = False) -> Decimal:
    if isinstance(raw, bool) or raw is None:
        raise CaseError(name, f"「{name}」应为数字。", "must be a number")
    try:
        value = Decimal(str(raw).strip())
    except (InvalidOperation, ValueError) as exc:
        raise CaseError(name, f"「{name}」的值「{raw}」不是数字。", f"{raw!r} is not a number") from exc
    if not value.is_finite():
        raise CaseError(name, f"「{name}」应为有限数值。", "must be a finite number")
    if positive and value <= 0:
        raise CaseError(name, f"「{name}」应大于0（当前为{value}）。", f"must be greater than 0, got {value}")
    if minimum is not None and value < minimum:
        raise CaseError(
            name, f"「{name}」不能为负数（当前为{value}）。", f"must not be negative, got {value}"
        )
    return value


def _optional_decimal(data: Mapping[str, Any], key: str, **kwargs: Any) -> Decimal | None:
    raw = data.get(key)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    return _decimal(raw, key, **kwargs)


def _float(raw: Any, name: str) -> float:
    value = _decimal(raw, name, minimum=None)
    return float(value)


def _number_list(raw: Any, name: str) -> list[Any]:
    if isinstance(raw, str):
        raw = [part for part in raw.replace("，", ",").replace("\n", ",").split(",") if part.strip()]
    if not isinstance(raw, list | tuple):
        raise CaseError(name, f"「{name}」应为数值列表。", "must be a list of numbers")
    return list(raw)


def quantize(value: Decimal, quantum: Decimal) -> Decimal:
    return value.quantize(quantum, rounding=ROUND_HALF_UP)


def plain(value: Decimal) -> int | float:
    """A Decimal as a JSON number: an int when integral, else a float."""
    normalised = value.normalize()
    if normalised == normalised.to_integral_value():
        return int(normalised)
    return float(normalised)


def _round(value: float) -> float:
    return round(value, FLOAT_DIGITS)


# --- 1. concentration limit --------------------------------------------------------------------


@dataclass(frozen=True)
class StandardEntry:
    """One candidate standard: name, level (local / industry / national) and its limit."""

    name: str
    level: str
    limit: Decimal
    ref: int | None = None  # registry StandardLimit id, when the entry came from the standard library

    @property
    def precedence(self) -> int:
        return LEVELS.index(self.level)


def parse_standards(raw: Any) -> list[StandardEntry]:
    if not isinstance(raw, list) or not raw:
        raise CaseError(
            "standards",
            "请至少提供一项排放标准（名称、级别、浓度限值）。",
            "at least one standard {name, level, limit_mg_per_l} is required",
        )
    result = []
    for i, item in enumerate(raw):
        prefix = f"standards[{i}]"
        if not isinstance(item, Mapping):
            raise CaseError(prefix, f"「{prefix}」应为对象。", "must be an object")
        name = str(item.get("name") or "").strip()
        if not name:
            raise CaseError(f"{prefix}.name", f"第{i + 1}项标准缺少名称。", "the standard needs a name")
        level = str(item.get("level") or "").strip()
        if level not in LEVELS:
            raise CaseError(
                f"{prefix}.level",
                f"标准「{name}」的级别「{level}」无效，应为 local（地方）、industry（行业）或 national（国家综合）。",
                f"level {level!r} is not one of local, industry, national",
            )
        limit = _decimal(item.get("limit_mg_per_l"), f"{prefix}.limit_mg_per_l", positive=True)
        ref = item.get("id")
        result.append(StandardEntry(name, level, limit, int(ref) if isinstance(ref, int) else None))
    return result


def select_concentration_limit(standards: Sequence[StandardEntry]) -> StandardEntry:
    """Local before industry before national integrated; within a level the strictest."""
    return min(standards, key=lambda s: (s.precedence, s.limit))


# --- 2. annual volume T ------------------------------------------------------------------------


@dataclass(frozen=True)
class VolumeInput:
    eia_m3: Decimal | None = None
    daily_m3: Decimal | None = None
    production_days: Decimal | None = None
    benchmark_m3_per_t: Decimal | None = None
    production_t: Decimal | None = None
    source: str | None = None  # None: the first available in VOLUME_SOURCES order


def parse_volume(data: Mapping[str, Any]) -> VolumeInput:
    days = _optional_decimal(data, "production_days")
    if days is not None and not (Decimal(0) < days <= Decimal(366)):
        raise CaseError(
            "production_days", f"生产天数应在1至366之间（当前为{days}）。", "must be between 1 and 366"
        )
    source = data.get("volume_source") or None
    if source is not None and source not in VOLUME_SOURCES:
        raise CaseError(
            "volume_source",
            f"年排水量来源「{source}」无效，应为 eia、daily 或 benchmark。",
            "must be one of eia, daily, benchmark",
        )
    return VolumeInput(
        eia_m3=_optional_decimal(data, "annual_volume_m3"),
        daily_m3=_optional_decimal(data, "daily_volume_m3"),
        production_days=days,
        benchmark_m3_per_t=_optional_decimal(data, "benchmark_m3_per_t"),
        production_t=_optional_decimal(data, "annual_production_t"),
        source=str(source) if source else None,
    )


def volume_candidates(v: VolumeInput) -> dict[str, Decimal]:
    """Every way T can be computed from the input, in order of preference."""
    ways: dict[str, Decimal] = {}
    if v.eia_m3 is not None:
        ways["eia"] = v.eia_m3
    if v.daily_m3 is not None and v.production_days is not None:
        ways["daily"] = v.daily_m3 * v.production_days
    if v.benchmark_m3_per_t is not None and v.production_t is not None:
        ways["benchmark"] = v.benchmark_m3_per_t * v.production_t
    return ways


def annual_volume(v: VolumeInput) -> tuple[str, Decimal, dict[str, Decimal]]:
    """(source, T, all candidates); refuses when T cannot be computed, naming what is missing."""
    ways = volume_candidates(v)
    if v.source is not None:
        if v.source not in ways:
            raise CaseError(
                "volume_source",
                f"选定的年排水量来源「{VOLUME_LABELS[v.source]}」缺少数据。",
                f"the chosen source {v.source!r} lacks its inputs",
            )
        return v.source, ways[v.source], ways
    if ways:
        source = next(iter(ways))
        return source, ways[source], ways
    if v.daily_m3 is not None and v.production_days is None:
        raise CaseError(
            "production_days", "已填日排水量，还需生产天数。", "daily_volume_m3 needs production_days"
        )
    if v.benchmark_m3_per_t is not None and v.production_t is None:
        raise CaseError(
            "annual_production_t",
            "已填基准排水量，还需产品年产量。",
            "benchmark_m3_per_t needs annual_production_t",
        )
    if v.production_t is not None and v.benchmark_m3_per_t is None:
        raise CaseError(
            "benchmark_m3_per_t",
            "已填产品年产量，还需单位产品基准排水量。",
            "annual_production_t needs benchmark_m3_per_t",
        )
    raise CaseError(
        "annual_volume_m3",
        "无法确定年排水量T：请填写环评年排水量，或日排水量与生产天数，或单位产品基准排水量与年产量。",
        "no way to compute the annual volume T: give annual_volume_m3, or daily_volume_m3 and production_days, "
        "or benchmark_m3_per_t and annual_production_t",
    )


# --- 3. long-term mean concentration C --------------------------------------------------------


@dataclass(frozen=True)
class MeanResult:
    value: Decimal
    source: str  # "entered" or "series"
    count: int = 0
    removed: int = 0
    exceedances: int = 0


def long_term_mean(values: Sequence[Any], name: str = "concentrations_mg_per_l") -> tuple[Decimal, int, int]:
    """Mean of the valid values; ``None``, blanks and negative values are invalid and removed.

    Returns (mean, number of valid values, number removed). Refuses when nothing valid remains.
    """
    valid: list[Decimal] = []
    removed = 0
    for i, raw in enumerate(values):
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            removed += 1
            continue
        value = _decimal(raw, f"{name}[{i}]", minimum=None)
        if value < 0:
            removed += 1
            continue
        valid.append(value)
    if not valid:
        raise CaseError(name, "浓度序列中没有有效的监测值。", "the series holds no valid value")
    return sum(valid, Decimal(0)) / Decimal(len(valid)), len(valid), removed


def parse_mean(data: Mapping[str, Any], limit: Decimal | None = None) -> MeanResult:
    entered = data.get("long_term_mean_mg_per_l")
    series = data.get("concentrations_mg_per_l")
    has_entered = entered is not None and not (isinstance(entered, str) and not entered.strip())
    has_series = series is not None and series not in ([], "")
    if has_entered and has_series:
        raise CaseError(
            "long_term_mean_mg_per_l",
            "长期平均浓度与浓度序列只能提供其一。",
            "give either long_term_mean_mg_per_l or concentrations_mg_per_l, not both",
        )
    if has_entered:
        return MeanResult(_decimal(entered, "long_term_mean_mg_per_l"), "entered")
    if has_series:
        values = _number_list(series, "concentrations_mg_per_l")
        mean, count, removed = long_term_mean(values)
        over = 0
        if limit is not None:
            over = sum(
                1 for v in values if v is not None and str(v).strip() and Decimal(str(v).strip()) > limit
            )
        return MeanResult(mean, "series", count, removed, over)
    raise CaseError(
        "long_term_mean_mg_per_l",
        "请填写长期平均浓度C，或提供浓度监测序列。",
        "give long_term_mean_mg_per_l or concentrations_mg_per_l",
    )


def annual_load_t(volume_m3: Decimal, concentration: Decimal, medium: str = "water") -> Decimal:
    """Tonnes discharged by ``volume_m3`` at ``concentration`` (mg/L for water, mg/m³ for air)."""
    return volume_m3 * concentration * TONNES_PER_CONC_M3[medium]


# --- 4. annual limit Ly ------------------------------------------------------------------------


def parse_candidates(raw: Any) -> dict[str, Decimal]:
    if raw is None or raw == {}:
        return {}
    if not isinstance(raw, Mapping):
        raise CaseError(
            "candidate_annual_t",
            "「candidate_annual_t」应为“途径→吨”的对象。",
            "must be an object way → tonnes",
        )
    result: dict[str, Decimal] = {}
    for way, value in raw.items():
        key = str(way).strip()
        name = f"candidate_annual_t.{key}"
        if not key:
            raise CaseError("candidate_annual_t", "途径名称不能为空。", "a way needs a name")
        if key in COMPUTED_WAYS:
            raise CaseError(
                name,
                f"途径「{key}」由计算器根据T、C和浓度限值计算，不能直接填写。",
                f"{key!r} is computed from T, C and the limit and cannot be entered",
            )
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        result[key] = _decimal(value, name)
    return result


def select_annual(candidates: Mapping[str, Decimal], rule: str) -> tuple[str, Decimal]:
    """The chosen way and value. ``median``: the middle value (for an even count the lower of the
    two middle values, the stricter one); ``min``: the smallest; otherwise the named way."""
    if not candidates:
        raise CaseError("candidate_annual_t", "没有可比较的年排放量。", "no annual figure to choose from")
    ordered = sorted(candidates.items(), key=lambda kv: (kv[1], kv[0]))
    if rule == "min":
        return ordered[0]
    if rule == "median":
        return ordered[(len(ordered) - 1) // 2]
    if rule in candidates:
        return rule, candidates[rule]
    known = "、".join(candidates)
    raise CaseError(
        "selection",
        f"选取规则「{rule}」无效：应为 median、min 或已有途径之一（{known}）。",
        f"selection {rule!r} is neither median, min nor one of the ways ({', '.join(candidates)})",
    )


# --- 5. variability: CV, σ, β, TSD --------------------------------------------------------------


def cv_of(loads: Sequence[float]) -> float:
    """Coefficient of variation of daily loads: sample standard deviation / mean."""
    mean = fmean(loads)
    if mean <= 0:
        raise CaseError(
            "daily_loads_kg", "日排放量的均值应大于0。", "the mean daily load must be greater than 0"
        )
    return stdev(loads) / mean


def sigma_squared(cv: float, n: int = 1) -> float:
    """Log-variance of a lognormal variable (n = 1) or of the mean of n samples: ln(1 + CV²/n)."""
    if cv < 0:
        raise CaseError("cv", "变异系数CV不能为负数。", "CV must not be negative")
    if n < 1:
        raise CaseError("tsd_samples_per_month", "每月样本数应不少于1。", "n must be at least 1")
    return math.log1p(cv * cv / n)


def z_score(percentile: float) -> float:
    return NormalDist().inv_cdf(percentile)


def lognormal_multiplier(cv: float, percentile: float, n: int = 1) -> float:
    """exp(z·σₙ − σₙ²/2) with σₙ² = ln(1 + CV²/n): the ratio of the percentile of the n-sample mean
    to the long-term mean. n = 1 is the maximum-daily (MDL) multiplier and the seed's β."""
    s2 = sigma_squared(cv, n)
    return math.exp(z_score(percentile) * math.sqrt(s2) - s2 / 2)


def mdl_multiplier(cv: float, percentile: float = 0.99) -> float:
    return lognormal_multiplier(cv, percentile, 1)


def aml_multiplier(cv: float, percentile: float = 0.95, n: int = DEFAULT_TSD_SAMPLES) -> float:
    """Average monthly limit multiplier: σₙ² in both terms (not the single-sample σ² in the second)."""
    return lognormal_multiplier(cv, percentile, n)


def beta(
    cv: float, percentile: float = DEFAULT_PERCENTILE, cap: float | None = DEFAULT_BETA_CAP
) -> tuple[float, float]:
    """(β before the cap, β after the cap)."""
    raw = lognormal_multiplier(cv, percentile, 1)
    return raw, (min(raw, cap) if cap is not None else raw)


def daily_max_kg(beta_value: float | Decimal, annual_t: Decimal) -> Decimal:
    """Ld = β · Ly / 365, in kg/d."""
    b = beta_value if isinstance(beta_value, Decimal) else Decimal(repr(beta_value))
    return b * annual_t * Decimal(1000) / DAYS_PER_YEAR


@dataclass(frozen=True)
class Variability:
    cv: float
    source: str  # "entered" or "series"
    count: int = 0
    percentile: float = DEFAULT_PERCENTILE
    cap: float | None = DEFAULT_BETA_CAP
    tsd_n: int = DEFAULT_TSD_SAMPLES


def parse_variability(data: Mapping[str, Any]) -> Variability:
    percentile = DEFAULT_PERCENTILE
    if data.get("percentile") not in (None, ""):
        percentile = _float(data["percentile"], "percentile")
        if not (0.5 < percentile < 1):
            raise CaseError(
                "percentile",
                f"百分位应大于0.5且小于1（当前为{percentile}）。",
                "must be greater than 0.5 and less than 1",
            )
    cap: float | None = DEFAULT_BETA_CAP
    if "beta_cap" in data:
        if data["beta_cap"] is None:
            cap = None
        elif data["beta_cap"] != "":
            cap = _float(data["beta_cap"], "beta_cap")
            if cap < 1:
                raise CaseError(
                    "beta_cap",
                    f"β上限不能小于1（当前为{cap}），否则日最大排放量低于年均日排放量。",
                    "must be at least 1",
                )
    n = DEFAULT_TSD_SAMPLES
    if data.get("tsd_samples_per_month") not in (None, ""):
        raw_n = _decimal(data["tsd_samples_per_month"], "tsd_samples_per_month")
        if raw_n != raw_n.to_integral_value() or raw_n < 1:
            raise CaseError(
                "tsd_samples_per_month", "每月样本数应为不小于1的整数。", "must be an integer of at least 1"
            )
        n = int(raw_n)
    entered = data.get("cv")
    loads = data.get("daily_loads_kg")
    has_cv = entered is not None and entered != ""
    has_loads = loads is not None and loads not in ([], "")
    if has_cv and has_loads:
        raise CaseError(
            "cv", "变异系数与日排放量序列只能提供其一。", "give either cv or daily_loads_kg, not both"
        )
    if has_cv:
        cv = _float(entered, "cv")
        if cv < 0:
            raise CaseError(
                "cv", f"变异系数CV不能为负数（当前为{cv}）。", f"CV must not be negative, got {cv}"
            )
        return Variability(cv, "entered", 0, percentile, cap, n)
    if has_loads:
        values = [
            float(_decimal(v, f"daily_loads_kg[{i}]"))
            for i, v in enumerate(_number_list(loads, "daily_loads_kg"))
        ]
        if len(values) < 2:
            raise CaseError(
                "daily_loads_kg", "计算变异系数至少需要2个日排放量。", "at least 2 daily loads are needed"
            )
        return Variability(cv_of(values), "series", len(values), percentile, cap, n)
    raise CaseError(
        "cv",
        "请填写变异系数CV，或提供日排放量序列。",
        "give cv or daily_loads_kg to compute the daily maximum",
    )


# --- the whole case -------------------------------------------------------------------------------


@dataclass
class Case:
    """A validated calculator input."""

    standards: list[StandardEntry]
    volume: VolumeInput
    mean: MeanResult
    candidates: dict[str, Decimal]
    history_complies: bool
    selection: str
    selection_reason: str
    variability: Variability
    medium: str = "water"
    notes: list[str] = field(default_factory=list)


def _bool(raw: Any, name: str, default: bool) -> bool:
    if raw is None or raw == "":
        return default
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in {"true", "1", "yes", "on", "是"}:
        return True
    if isinstance(raw, str) and raw.strip().lower() in {"false", "0", "no", "off", "否"}:
        return False
    raise CaseError(name, f"「{name}」应为是或否（true/false）。", "must be true or false")


def parse_case(data: Any) -> Case:
    """Validate a calculator input (the CLI's JSON keys); raises :class:`CaseError` naming the field."""
    if not isinstance(data, Mapping):
        raise CaseError("(input)", "输入应为JSON对象。", "the input must be a JSON object")
    medium = str(data.get("medium") or "water")
    if medium not in MEDIA:
        raise CaseError("medium", f"介质「{medium}」无效，应为 water 或 air。", "must be water or air")
    standards = parse_standards(data.get("standards"))
    limit = select_concentration_limit(standards).limit
    volume = parse_volume(data)
    annual_volume(volume)  # refuse early when T cannot be computed
    mean = parse_mean(data, limit)
    candidates = parse_candidates(data.get("candidate_annual_t"))
    complies = _bool(data.get("history_complies"), "history_complies", True)
    selection = str(data.get("selection") or "median").strip()
    variability = parse_variability(data)
    return Case(
        standards=standards,
        volume=volume,
        mean=mean,
        candidates=candidates,
        history_complies=complies,
        selection=selection,
        selection_reason=str(data.get("selection_reason") or "").strip(),
        variability=variability,
        medium=medium,
    )


def compute(data: Any) -> dict[str, Any]:
    """Validate ``data`` and compute the whole case; the result is plain JSON."""
    return evaluate(parse_case(data))


def evaluate(case: Case) -> dict[str, Any]:
    unit = CONCENTRATION_UNITS[case.medium]
    chosen_std = select_concentration_limit(case.standards)
    source, volume, volume_ways = annual_volume(case.volume)
    c = case.mean.value
    candidates: dict[str, Decimal] = dict(case.candidates)
    candidates["standard"] = quantize(annual_load_t(volume, c, case.medium), T_QUANTUM)
    if not case.history_complies:
        candidates["limit"] = quantize(annual_load_t(volume, chosen_std.limit, case.medium), T_QUANTUM)
    way, ly = select_annual(candidates, case.selection)
    rule = case.selection if case.selection in RULES else "named"
    var = case.variability
    s2 = sigma_squared(var.cv)
    sigma = math.sqrt(s2)
    z = z_score(var.percentile)
    beta_raw, beta_used = beta(var.cv, var.percentile, var.cap)
    beta_rounded = Decimal(repr(_round(beta_used)))
    ld = quantize(daily_max_kg(beta_rounded, ly), KG_QUANTUM)
    notes = list(case.notes)
    if var.source == "series" and var.count < 10:
        notes.append(f"日排放量仅{var.count}个（少于10个），变异系数的代表性有限；美国TSD此时建议取CV=0.6。")
    if var.tsd_n < 4:
        notes.append("每月样本少于4个；美国TSD建议此时按n=4计算月均限值乘数。")
    if case.mean.source == "series" and case.mean.removed:
        notes.append(f"浓度序列中剔除了{case.mean.removed}个无效值。")
    if case.mean.source == "series" and case.mean.exceedances and case.history_complies:
        notes.append(
            f"浓度序列中有{case.mean.exceedances}个值超过浓度限值{plain(chosen_std.limit)} {unit}；"
            "如历史排放总体不达标，应勾选“历史不达标”，按浓度限值×T计算。"
        )
    result: dict[str, Any] = {
        "medium": case.medium,
        "concentration_unit": unit,
        "concentration_limit": {
            "value": plain(chosen_std.limit),
            "standard": chosen_std.name,
            "level": chosen_std.level,
            "standard_id": chosen_std.ref,
            "candidates": [
                {"name": s.name, "level": s.level, "limit_mg_per_l": plain(s.limit), "id": s.ref}
                for s in sorted(case.standards, key=lambda s: (s.precedence, s.limit))
            ],
        },
        "annual_volume_m3": plain(quantize(volume, M3_QUANTUM)),
        "annual_volume_source": source,
        "annual_volume_candidates": {k: plain(quantize(v, M3_QUANTUM)) for k, v in volume_ways.items()},
        "long_term_mean_mg_per_l": plain(quantize(c, CONC_QUANTUM)),
        "long_term_mean_source": case.mean.source,
        "concentration_count": case.mean.count,
        "concentration_removed": case.mean.removed,
        "history_complies": case.history_complies,
        "annual_limit_t": {
            "candidates": {k: plain(v) for k, v in sorted(candidates.items(), key=lambda kv: kv[1])},
            "chosen": plain(ly),
            "chosen_way": way,
            "rule": rule if rule != "named" else case.selection,
            "reason": case.selection_reason,
        },
        "cv": _round(var.cv),
        "cv_source": var.source,
        "daily_loads_count": var.count,
        "percentile": var.percentile,
        "z": _round(z),
        "sigma": _round(sigma),
        "beta_raw": _round(beta_raw),
        "beta_cap": var.cap,
        "beta": _round(beta_used),
        "beta_capped": var.cap is not None and beta_raw > var.cap,
        "daily_max_kg": plain(ld),
        "tsd": {
            "samples_per_month": var.tsd_n,
            "mdl_99": _round(mdl_multiplier(var.cv, 0.99)),
            "mdl_95": _round(mdl_multiplier(var.cv, 0.95)),
            "aml_95": _round(aml_multiplier(var.cv, 0.95, var.tsd_n)),
            "aml_99": _round(aml_multiplier(var.cv, 0.99, var.tsd_n)),
        },
        "notes": notes,
    }
    result["steps"] = worksheet_steps(result)
    return result


def way_label(way: str) -> str:
    return WAY_LABELS.get(way, way)


def worksheet_steps(r: Mapping[str, Any]) -> list[dict[str, str]]:
    """The calculation step by step, in the permit writer's words (for the page, Excel and PDF)."""
    unit = r["concentration_unit"]
    cl = r["concentration_limit"]
    cands = "；".join(
        f"{c['name']}（{LEVEL_LABELS[c['level']]}）{c['limit_mg_per_l']} {unit}" for c in cl["candidates"]
    )
    vols = "；".join(f"{VOLUME_LABELS[k]} {v} m³" for k, v in r["annual_volume_candidates"].items())
    ly = r["annual_limit_t"]
    ways = "；".join(f"{way_label(k)} {v} t/a" for k, v in ly["candidates"].items())
    rule = RULE_LABELS.get(ly["rule"], f"指定途径「{way_label(ly['rule'])}」")
    factor = "10⁻⁶" if r["medium"] == "water" else "10⁻⁹"
    c_detail = (
        f"{r['concentration_count']}个有效监测值的算术平均（剔除无效值{r['concentration_removed']}个）"
        if r["long_term_mean_source"] == "series"
        else "直接填写"
    )
    cv_detail = f"由{r['daily_loads_count']}个日排放量计算" if r["cv_source"] == "series" else "直接填写"
    cap = r["beta_cap"]
    beta_detail = f"β = exp({r['z']}×{r['sigma']} − {r['sigma']}²/2) = {r['beta_raw']}" + (
        f"，超过上限{cap}，取{r['beta']}" if r["beta_capped"] else ""
    )
    tsd = r["tsd"]
    return [
        {
            "no": "1",
            "title": "浓度限值",
            "formula": "地方标准优先于行业标准，行业标准优先于国家综合标准；同级取最严",
            "detail": cands,
            "result": f"{cl['value']} {unit}（{cl['standard']}）",
        },
        {
            "no": "2",
            "title": "年排水量T",
            "formula": "环评批复；或 日排水量×生产天数；或 T = S×P",
            "detail": f"{vols}；采用：{VOLUME_LABELS[r['annual_volume_source']]}",
            "result": f"{r['annual_volume_m3']} m³/a",
        },
        {
            "no": "3",
            "title": "长期平均浓度C",
            "formula": "C = ΣXᵢ / n（有效监测值）",
            "detail": c_detail,
            "result": f"{r['long_term_mean_mg_per_l']} {unit}",
        },
        {
            "no": "4",
            "title": "年排放量限值Ly",
            "formula": f"标准法 Ly = T×C×{factor}"
            + ("" if r["history_complies"] else f"；历史不达标：Ly = 浓度限值×T×{factor}"),
            "detail": f"{ways}；规则：{rule}" + (f"；理由：{ly['reason']}" if ly["reason"] else ""),
            "result": f"{ly['chosen']} t/a（{way_label(ly['chosen_way'])}）",
        },
        {
            "no": "5",
            "title": "变异系数与σ",
            "formula": "CV = σ/μ（日排放量）；σ² = ln(1 + CV²)",
            "detail": f"CV = {r['cv']}（{cv_detail}）",
            "result": f"σ = {r['sigma']}",
        },
        {
            "no": "6",
            "title": "系数β",
            "formula": f"β = exp(z·σ − σ²/2)，z为第{round(r['percentile'] * 100, 2):g}百分位（z = {r['z']}）",
            "detail": beta_detail,
            "result": f"β = {r['beta']}",
        },
        {
            "no": "7",
            "title": "日最大排放量Ld",
            "formula": "Ld = β × Ly / 365",
            "detail": f"{r['beta']} × {ly['chosen']} t × 1000 / 365",
            "result": f"{r['daily_max_kg']} kg/d",
        },
        {
            "no": "8",
            "title": "美国TSD乘数（参考）",
            "formula": "MDL = exp(z·σ − σ²/2)；AML = exp(z·σₙ − σₙ²/2)，σₙ² = ln(1 + CV²/n)",
            "detail": f"n = {tsd['samples_per_month']}",
            "result": f"MDL99 {tsd['mdl_99']}；MDL95 {tsd['mdl_95']}；AML95 {tsd['aml_95']}；AML99 {tsd['aml_99']}",
        },
    ]
