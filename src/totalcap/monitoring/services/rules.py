"""Rule sets: defaults from ``data/rules.json``, per-outlet resolution, and publishing new versions.

A rule set is immutable once stored; :func:`publish_ruleset` writes a new version. The typed views
(:class:`ValidityRules`, :class:`SubstitutionRules`, :class:`ScreeningRules`) read the parameters
with the shipped defaults filled in, so an older version lacking a newer parameter still works.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from totalcap.base import events
from totalcap.base.exceptions import PermissionRefused, ServiceError
from totalcap.monitoring.choices import RuleKind
from totalcap.monitoring.models import OutletMonitoringConfig, RuleSet
from totalcap.registry.models import Outlet

MINUTE_CLASSES = ("valid", "stopped", "process", "invalid")


@lru_cache(maxsize=1)
def shipped_rulesets() -> list[dict[str, Any]]:
    """The default rule sets shipped with TotalCap."""
    text = resources.files("totalcap.monitoring").joinpath("data/rules.json").read_text(encoding="utf-8")
    rows: list[dict[str, Any]] = json.loads(text)["rulesets"]
    return rows


def shipped_params(kind: str, medium: str) -> dict[str, Any]:
    """Parameters of the shipped default of ``kind`` for ``medium`` (the fallback of every key)."""
    for row in shipped_rulesets():
        if row["kind"] == kind and row["medium"] == medium and row.get("is_default"):
            return dict(row["params"])
    raise LookupError(f"no shipped default {kind} rule set for {medium}")


def ensure_default_rulesets() -> int:
    """Create the shipped rule sets that are missing (version 1); returns how many were created."""
    created = 0
    for row in shipped_rulesets():
        _obj, was_created = RuleSet.objects.get_or_create(
            kind=row["kind"],
            code=row["code"],
            version=1,
            defaults={
                "name": row["name"],
                "medium": row["medium"],
                "params": row["params"],
                "is_default": bool(row.get("is_default")),
                "source": row.get("source", ""),
            },
        )
        created += int(was_created)
    return created


def default_ruleset(kind: str, medium: str) -> RuleSet:
    """The newest default rule set of ``kind`` for ``medium`` (created from the shipped file if absent)."""
    found = (
        RuleSet.objects.filter(kind=kind, medium=medium, is_default=True).order_by("-version", "-id").first()
    )
    if found is None:
        ensure_default_rulesets()
        found = RuleSet.objects.filter(kind=kind, medium=medium, is_default=True).order_by("-version").first()
    if found is None:  # pragma: no cover - the shipped file has a default for every kind and medium
        raise ServiceError(_("缺少默认规则集。"), code="no_ruleset")
    return found


def latest_version(ruleset: RuleSet) -> RuleSet:
    """The newest version of the same rule set code."""
    newest = RuleSet.objects.filter(kind=ruleset.kind, code=ruleset.code).order_by("-version").first()
    return newest or ruleset


def outlet_config(outlet: Outlet) -> OutletMonitoringConfig:
    """The outlet's monitoring settings (an unsaved default when none were entered)."""
    config = OutletMonitoringConfig.objects.filter(outlet=outlet).first()
    return config if config is not None else OutletMonitoringConfig(outlet=outlet)


def ruleset_for(outlet: Outlet, kind: str, config: OutletMonitoringConfig | None = None) -> RuleSet:
    """The rule set of ``kind`` that applies to ``outlet``: its own choice (newest version of that
    code), else the medium's default."""
    config = config or outlet_config(outlet)
    chosen = {
        RuleKind.VALIDITY: config.validity_rules,
        RuleKind.SUBSTITUTION: config.substitution_rules,
        RuleKind.SCREENING: config.screening_rules,
    }.get(RuleKind(kind))
    if chosen is not None:
        return latest_version(chosen)
    return default_ruleset(kind, outlet.medium)


class _Params:
    """Parameters of one rule set with the shipped defaults filled in."""

    kind: str = ""

    def __init__(self, ruleset: RuleSet) -> None:
        self.ruleset = ruleset
        merged = shipped_params(self.kind, ruleset.medium)
        merged.update(ruleset.params or {})
        self.params = merged

    @property
    def id(self) -> int:
        return int(self.ruleset.pk)

    def get(self, key: str, default: Any = None) -> Any:
        return self.params.get(key, default)


class ValidityRules(_Params):
    """Validity and aggregation rules (monitoring-data.md §1–2, §7–8)."""

    kind = RuleKind.VALIDITY

    @property
    def min_valid_minutes(self) -> int:
        return int(self.params["min_valid_minutes_per_hour"])

    @property
    def min_state_minutes(self) -> int:
        return int(self.params.get("min_state_minutes_per_hour", self.min_valid_minutes))

    @property
    def min_valid_hours(self) -> int:
        return int(self.params["min_valid_hours_per_day"])

    def min_valid_days(self, month: int) -> int:
        key = "min_valid_days_february" if month == 2 else "min_valid_days_per_month"
        return int(self.params[key])

    @property
    def flag_classes(self) -> dict[str, str]:
        return {str(k): str(v) for k, v in self.params["flag_classes"].items()}

    @property
    def unknown_flag_class(self) -> str:
        return str(self.params.get("unknown_flag_class", "invalid"))

    @property
    def empty_flag_class(self) -> str:
        return str(self.params.get("empty_flag_class", "valid"))

    @property
    def device_states(self) -> dict[str, dict[str, str]]:
        return {
            str(k): {str(a): str(b) for a, b in v.items()} for k, v in self.params["device_states"].items()
        }

    @property
    def device_state_hold_minutes(self) -> int:
        return int(self.params.get("device_state_hold_minutes", 120))

    @property
    def label_classes(self) -> dict[str, str]:
        return {str(k): str(v) for k, v in self.params["label_classes"].items()}

    @property
    def aggregate_rule(self) -> str:
        return str(self.params["aggregate_flag"]["rule"])

    @property
    def normal_share(self) -> Decimal:
        return Decimal(str(self.params["aggregate_flag"].get("normal_share", "0.75")))

    @property
    def abnormal_flag(self) -> str:
        return str(self.params["aggregate_flag"].get("abnormal_flag", "D"))

    @property
    def negative_invalid(self) -> bool:
        return bool(self.params.get("negative_invalid", False))

    @property
    def flow_weighted(self) -> bool:
        return bool(self.params.get("flow_weighted", False))

    @property
    def arithmetic_pollutants(self) -> list[str]:
        return [str(x) for x in self.params.get("arithmetic_mean_pollutants", [])]

    @property
    def accept_logger_hours(self) -> bool:
        return bool(self.params.get("accept_logger_hours", True))

    @property
    def relative_tolerance(self) -> Decimal:
        return Decimal(str(self.params["compare"]["relative_tolerance"]))

    @property
    def absolute_tolerance(self) -> Decimal:
        return Decimal(str(self.params["compare"]["absolute_tolerance"]))

    @property
    def flow_code(self) -> str:
        return str(self.params["flow_code"])

    @property
    def o2_code(self) -> str:
        return str((self.params.get("o2") or {}).get("code", "a19001"))

    @property
    def o2_guard(self) -> Decimal:
        return Decimal(str((self.params.get("o2") or {}).get("guard_percent", "19")))

    @property
    def o2_missing_policy(self) -> str:
        return str((self.params.get("o2") or {}).get("missing", "flag"))

    @property
    def process_in_capture(self) -> str:
        value = str(self.params.get("process_hours_in_capture", "exclude"))
        return value if value in ("exclude", "valid", "invalid") else "exclude"


class SubstitutionRules(_Params):
    """Substitution rules (monitoring-data.md §4, §5.3)."""

    kind = RuleKind.SUBSTITUTION

    def applies_to(self, pollutant: str) -> bool:
        pollutants = self.params.get("pollutants", "*")
        return pollutants == "*" or pollutant in pollutants

    @property
    def min_capture_rate(self) -> Decimal | None:
        value = self.params.get("min_capture_rate")
        return None if value is None else Decimal(str(value))

    @property
    def capture_rate_basis(self) -> str:
        return str(self.params.get("capture_rate_basis", "quarter_to_date"))

    @property
    def capture_rate_hours(self) -> int:
        return int(self.params.get("capture_rate_hours", 2160))

    @property
    def bands(self) -> list[dict[str, Any]]:
        return list(self.params.get("bands", []))

    def labels(self, key: str) -> set[str]:
        return {str(x) for x in self.params.get(key, [])}

    @property
    def water_method(self) -> str:
        return str(self.params.get("method", "mean"))

    @property
    def median_pollutants(self) -> set[str]:
        return {str(x) for x in self.params.get("median_pollutants", [])}

    @property
    def window(self) -> str | int:
        value = self.params.get("window", "gap_length")
        return value if value == "gap_length" else int(value)

    @property
    def max_window(self) -> int:
        return int(self.params.get("max_window", 720))

    @property
    def round_places(self) -> int | None:
        value = self.params.get("round")
        return None if value is None else int(value)


class ScreeningRules(_Params):
    """Screening thresholds (monitoring-data.md §6)."""

    kind = RuleKind.SCREENING

    def section(self, name: str) -> dict[str, Any]:
        return dict(self.params.get(name) or {})


@dataclass(frozen=True)
class OutletRules:
    """Everything the pipeline needs to know about one outlet's rules."""

    outlet_id: int
    medium: str
    config: OutletMonitoringConfig
    validity: ValidityRules
    substitution: SubstitutionRules
    screening: ScreeningRules


def rules_for(outlet: Outlet) -> OutletRules:
    config = outlet_config(outlet)
    return OutletRules(
        outlet_id=int(outlet.pk),
        medium=outlet.medium,
        config=config,
        validity=ValidityRules(ruleset_for(outlet, RuleKind.VALIDITY, config)),
        substitution=SubstitutionRules(ruleset_for(outlet, RuleKind.SUBSTITUTION, config)),
        screening=ScreeningRules(ruleset_for(outlet, RuleKind.SCREENING, config)),
    )


def _check_params(kind: str, medium: str, params: dict[str, Any]) -> None:
    """Refuse parameters the pipeline could not use (Chinese message naming the parameter)."""
    if not isinstance(params, dict):
        raise ServiceError(_("规则参数应为JSON对象。"), code="invalid", field="params")
    merged = shipped_params(kind, medium)
    merged.update(params)
    if kind == RuleKind.VALIDITY:
        for key in ("min_valid_minutes_per_hour", "min_valid_hours_per_day", "min_valid_days_per_month"):
            try:
                value = int(merged[key])
            except (TypeError, ValueError) as exc:
                raise ServiceError(
                    _("参数「%(k)s」应为整数。") % {"k": key}, code="invalid", field="params"
                ) from exc
            if value <= 0:
                raise ServiceError(
                    _("参数「%(k)s」应为正整数。") % {"k": key}, code="invalid", field="params"
                )
        if int(merged["min_valid_minutes_per_hour"]) > 60:
            raise ServiceError(_("每小时有效分钟数不能超过60。"), code="invalid", field="params")
        if int(merged["min_valid_hours_per_day"]) > 24:
            raise ServiceError(_("每日有效小时数不能超过24。"), code="invalid", field="params")
        for flag, cls in merged["flag_classes"].items():
            if cls not in MINUTE_CLASSES:
                raise ServiceError(
                    _("数据标记「%(f)s」的类别「%(c)s」无效，应为 valid/stopped/process/invalid。")
                    % {"f": flag, "c": cls},
                    code="invalid",
                    field="params",
                )
    if kind == RuleKind.SUBSTITUTION and medium == "air":
        for band in merged.get("bands", []):
            if band.get("method") not in ("max", "before_after_mean"):
                raise ServiceError(
                    _("修约档位「%(c)s」的方法应为 max 或 before_after_mean。") % {"c": band.get("code")},
                    code="invalid",
                    field="params",
                )
            if band.get("method") == "max" and int(band.get("window", 0)) <= 0:
                raise ServiceError(
                    _("修约档位「%(c)s」缺少回溯小时数。") % {"c": band.get("code")},
                    code="invalid",
                    field="params",
                )


def publish_ruleset(
    actor: Any,
    *,
    kind: str,
    code: str,
    name: str,
    medium: str,
    params: dict[str, Any],
    is_default: bool = False,
    source: str = "",
    note: str = "",
) -> RuleSet:
    """Store a new version of rule set ``code`` (version 1 when new). The pipeline recomputes
    outlets that use it from their next run; past results keep naming the version they used."""
    if actor is not None and not isinstance(actor, str) and not actor.has_perm("monitoring.add_ruleset"):
        raise PermissionRefused(_("您没有发布规则集的权限。"))
    if kind not in RuleKind.values:
        raise ServiceError(_("规则类型「%(k)s」无效。") % {"k": kind}, code="invalid", field="kind")
    if medium not in ("air", "water"):
        raise ServiceError(_("介质「%(m)s」无效。") % {"m": medium}, code="invalid", field="medium")
    _check_params(kind, medium, params)
    with transaction.atomic():
        previous = (
            RuleSet.objects.select_for_update(no_key=True)
            .filter(kind=kind, code=code)
            .order_by("-version")
            .first()
        )
        if previous is not None and previous.medium != medium:
            raise ServiceError(_("同一规则编码的介质不能改变。"), code="invalid", field="medium")
        if is_default:
            RuleSet.objects.filter(kind=kind, medium=medium, is_default=True).exclude(code=code).update(
                is_default=False
            )
        ruleset = RuleSet.objects.create(
            kind=kind,
            code=code,
            version=(previous.version + 1) if previous else 1,
            name=name,
            medium=medium,
            params=params,
            is_default=is_default or bool(previous and previous.is_default),
            source=source,
            note=note,
            created_by=actor if actor is not None and not isinstance(actor, str) else None,
        )
        events.record(actor, ruleset, "ruleset_published", {"code": code, "version": ruleset.version})
    return ruleset
