"""Per-outlet context of a pipeline batch: rules, units, limits, and the temporary parameter tables
the set-based SQL joins.

Loading is bulk (a few queries for a whole batch, whatever its size), because the pipeline works on
hundreds of outlets at a time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection

from totalcap.monitoring import units
from totalcap.monitoring.choices import RuleKind
from totalcap.monitoring.models import AccountingPlan, OutletMonitoringConfig, RuleSet
from totalcap.monitoring.services.rules import (
    ScreeningRules,
    SubstitutionRules,
    ValidityRules,
    default_ruleset,
)
from totalcap.registry.models import DataLogger, Outlet, Pollutant
from totalcap.registry.services import applicable_limit

BEIJING = ZoneInfo("Asia/Shanghai")
UTC = dt.UTC

#: Parameters that are not pollutants: never accounted, never O2-converted.
AIR_PARAMETERS = {
    "a00000",
    "a19001",
    "a01011",
    "a01012",
    "a01013",
    "a01014",
    "a01015",
    "a01016",
    "a01017",
    "a01006",
}
WATER_PARAMETERS = {"w00000", "w01001", "w01010", "w01014", "w01009", "w01002"}


@dataclass(frozen=True)
class Limit:
    value: Decimal | None
    reference_o2: Decimal | None
    averaging: str


@dataclass
class OutletContext:
    """What the pipeline knows about one outlet for one batch."""

    outlet: Outlet
    config: OutletMonitoringConfig
    validity: ValidityRules
    substitution: SubstitutionRules
    screening: ScreeningRules
    logger_pollutants: set[str] = field(default_factory=set)
    logger_ids: list[int] = field(default_factory=list)
    plans: dict[str, AccountingPlan] = field(default_factory=dict)
    limits: dict[str, Limit] = field(default_factory=dict)

    @property
    def id(self) -> int:
        return int(self.outlet.pk)

    @property
    def medium(self) -> str:
        return str(self.outlet.medium)

    @property
    def flow_code(self) -> str:
        return self.validity.flow_code

    def is_parameter(self, code: str) -> bool:
        """Flow, O2, temperature … — monitored but not an emitted pollutant."""
        return (
            code in (AIR_PARAMETERS if self.medium == "air" else WATER_PARAMETERS) or code == self.flow_code
        )

    def accounted_pollutants(self, total_control: set[str], seen: Iterable[str] = ()) -> list[str]:
        """Pollutants this outlet's amounts are accounted for: total-control pollutants it monitors
        (or has data for) and every pollutant with an accounting plan."""
        codes = {
            c for c in self.logger_pollutants | set(seen) if c in total_control and not self.is_parameter(c)
        }
        codes |= set(self.plans)
        return sorted(codes)

    def automatic_installed(self, pollutant: str) -> bool:
        return pollutant in self.logger_pollutants

    def limit(self, pollutant: str) -> Limit:
        return self.limits.get(pollutant, Limit(None, None, ""))

    def reference_o2(self, pollutant: str) -> Decimal | None:
        if self.medium != "air" or self.is_parameter(pollutant):
            return None
        if self.config.reference_o2 is not None:
            return Decimal(self.config.reference_o2)
        return self.limit(pollutant).reference_o2


def load_contexts(outlet_ids: Sequence[int]) -> dict[int, OutletContext]:
    """Contexts of ``outlet_ids`` with a handful of bulk queries."""
    outlets = {
        o.pk: o
        for o in Outlet.objects.filter(pk__in=list(outlet_ids)).select_related(
            "enterprise", "enterprise__industry", "enterprise__jurisdiction"
        )
    }
    configs = {
        c.outlet_id: c
        for c in OutletMonitoringConfig.objects.filter(outlet_id__in=list(outlets)).select_related(
            "validity_rules", "substitution_rules", "screening_rules"
        )
    }
    newest: dict[tuple[str, str], RuleSet] = {}
    for rs in RuleSet.objects.order_by("kind", "code", "version"):
        newest[(rs.kind, rs.code)] = rs
    defaults: dict[tuple[str, str], RuleSet] = {}

    def resolve(kind: str, chosen: RuleSet | None, medium: str) -> RuleSet:
        if chosen is not None:
            return newest.get((kind, chosen.code), chosen)
        key = (kind, medium)
        if key not in defaults:
            defaults[key] = default_ruleset(kind, medium)
        return defaults[key]

    loggers: dict[int, set[str]] = {}
    logger_ids: dict[int, list[int]] = {}
    through = DataLogger.pollutants.through
    for logger_id, outlet_id in DataLogger.objects.filter(
        outlet_id__in=list(outlets), status="active"
    ).values_list("pk", "outlet_id"):
        logger_ids.setdefault(outlet_id, []).append(logger_id)
        loggers.setdefault(outlet_id, set())
    for outlet_id, code in through.objects.filter(
        datalogger__outlet_id__in=list(outlets), datalogger__status="active"
    ).values_list("datalogger__outlet_id", "pollutant__code"):
        loggers.setdefault(outlet_id, set()).add(code)
    plans: dict[int, dict[str, AccountingPlan]] = {}
    for plan in AccountingPlan.objects.filter(outlet_id__in=list(outlets)):
        plans.setdefault(plan.outlet_id, {})[plan.pollutant_id] = plan

    result: dict[int, OutletContext] = {}
    for pk, outlet in outlets.items():
        config = configs.get(pk) or OutletMonitoringConfig(outlet=outlet)
        v = resolve(RuleKind.VALIDITY, config.validity_rules, outlet.medium)
        s = resolve(RuleKind.SUBSTITUTION, config.substitution_rules, outlet.medium)
        k = resolve(RuleKind.SCREENING, config.screening_rules, outlet.medium)
        ctx = OutletContext(
            outlet=outlet,
            config=config,
            validity=ValidityRules(v),
            substitution=SubstitutionRules(s),
            screening=ScreeningRules(k),
            logger_pollutants=loggers.get(pk, set()),
            logger_ids=sorted(logger_ids.get(pk, [])),
            plans=plans.get(pk, {}),
        )
        result[pk] = ctx
    _load_limits(result.values())
    return result


def _load_limits(contexts: Iterable[OutletContext]) -> None:
    """Applicable limits and reference O2 per (outlet, pollutant), memoised across equal outlets."""
    pollutants = {p.code: p for p in Pollutant.objects.all()}
    memo: dict[tuple[Any, ...], Limit] = {}
    for ctx in contexts:
        enterprise = ctx.outlet.enterprise
        for code in sorted(ctx.logger_pollutants | set(ctx.plans)):
            pollutant = pollutants.get(code)
            if pollutant is None or ctx.is_parameter(code):
                continue
            key = (
                code,
                enterprise.industry_id,
                enterprise.jurisdiction_id,
                ctx.outlet.discharge_mode,
                ctx.outlet.source_type,
            )
            if key not in memo:
                found = applicable_limit(
                    pollutant,
                    industry=enterprise.industry,
                    jurisdiction=enterprise.jurisdiction,
                    discharge_mode=ctx.outlet.discharge_mode,
                    source_type=ctx.outlet.source_type,
                )
                memo[key] = (
                    Limit(found.limit.limit_value, found.limit.reference_o2, found.limit.averaging)
                    if found is not None
                    else Limit(None, None, "")
                )
            ctx.limits[code] = memo[key]


# --- temporary tables ----------------------------------------------------------------------------


def temp_table(name: str, columns: str) -> None:
    """(Re)create a temporary table dropped at commit."""
    with connection.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {name}")
        cur.execute(f"CREATE TEMP TABLE {name} ({columns}) ON COMMIT DROP")


def fill(name: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Bulk-load rows into a temporary table (COPY)."""
    if not rows:
        return
    with connection.cursor() as cur:
        raw = cur.cursor  # the psycopg cursor
        with raw.copy(f"COPY {name} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cur.execute(f"ANALYZE {name}")


OUTLET_PARAM_COLUMNS = (
    "outlet_id", "medium", "rules_id", "minute_interval", "min_valid_minutes", "min_state_minutes",
    "flow_code", "flow_factor", "kg_factor", "flow_actual", "wet_basis", "atm_kpa", "o2_code", "o2_guard",
    "o2_missing_factor_one", "agg_share", "normal_share", "abnormal_flag", "rel_tol", "abs_tol",
    "accept_logger_hours", "moisture_code", "temperature_code", "pressure_code", "atmospheric_code",
    "min_valid_hours", "process_policy", "arithmetic_codes", "negative_invalid", "logger_id",
)  # fmt: skip


def load_outlet_params(contexts: Iterable[OutletContext]) -> None:
    """``tmp_outlet`` (one row per outlet) and ``tmp_outlet_pollutant`` (per outlet and pollutant)."""
    temp_table(
        "tmp_outlet",
        """outlet_id bigint PRIMARY KEY, medium text, rules_id bigint, minute_interval int,
        min_valid_minutes int, min_state_minutes int, flow_code text, flow_factor numeric, kg_factor numeric,
        flow_actual boolean, wet_basis boolean, atm_kpa numeric, o2_code text, o2_guard numeric,
        o2_missing_factor_one boolean, agg_share boolean, normal_share numeric, abnormal_flag text,
        rel_tol numeric, abs_tol numeric, accept_logger_hours boolean, moisture_code text,
        temperature_code text, pressure_code text, atmospheric_code text, min_valid_hours int,
        process_policy text, arithmetic_codes text[], negative_invalid boolean, logger_id bigint""",
    )
    temp_table(
        "tmp_outlet_pollutant",
        """outlet_id bigint, pollutant text, o2_ref numeric, limit_value numeric, limit_averaging text,
        ppm_factor numeric, arithmetic boolean, is_parameter boolean, PRIMARY KEY (outlet_id, pollutant)""",
    )
    outlet_rows = []
    pollutant_rows = []
    flow_units = dict(Pollutant.objects.filter(is_flow=True).values_list("code", "concentration_unit"))
    for ctx in contexts:
        v = ctx.validity
        cfg = ctx.config
        outlet_rows.append(
            (
                ctx.id,
                ctx.medium,
                v.id,
                int(cfg.minute_interval or 1),
                v.min_valid_minutes,
                v.min_state_minutes,
                v.flow_code,
                units.flow_factor(flow_units.get(v.flow_code, ""), ctx.medium),
                units.KG_FACTOR[ctx.medium],
                cfg.flow_basis == "actual",
                cfg.concentration_basis == "wet",
                Decimal(cfg.atmospheric_kpa or Decimal("101.325")),
                v.o2_code,
                v.o2_guard,
                v.o2_missing_policy == "factor_one",
                v.aggregate_rule == "share",
                v.normal_share,
                v.abnormal_flag,
                v.relative_tolerance,
                v.absolute_tolerance,
                v.accept_logger_hours,
                v.get("moisture_code", "a01014"),
                v.get("temperature_code", "a01012"),
                v.get("pressure_code", "a01013"),
                v.get("atmospheric_code", "a01006"),
                v.min_valid_hours,
                v.process_in_capture,
                v.arithmetic_pollutants,
                v.negative_invalid,
                ctx.logger_ids[0] if ctx.logger_ids else None,
            )
        )
        codes = set(ctx.logger_pollutants) | set(ctx.limits) | set(ctx.plans) | set(cfg.ppm_pollutants or [])
        for code in sorted(codes):
            limit = ctx.limit(code)
            ppm = (
                units.MOLAR_MASS[code] / units.MOLAR_VOLUME
                if code in (cfg.ppm_pollutants or []) and code in units.MOLAR_MASS
                else None
            )
            pollutant_rows.append(
                (
                    ctx.id,
                    code,
                    ctx.reference_o2(code),
                    limit.value,
                    limit.averaging,
                    ppm,
                    code in v.arithmetic_pollutants,
                    ctx.is_parameter(code),
                )
            )
    fill("tmp_outlet", OUTLET_PARAM_COLUMNS, outlet_rows)
    fill(
        "tmp_outlet_pollutant",
        (
            "outlet_id",
            "pollutant",
            "o2_ref",
            "limit_value",
            "limit_averaging",
            "ppm_factor",
            "arithmetic",
            "is_parameter",
        ),
        pollutant_rows,
    )


def hour_floor(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def beijing_day_start(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=BEIJING)


def beijing_date(moment: dt.datetime) -> dt.date:
    return moment.astimezone(BEIJING).date()
