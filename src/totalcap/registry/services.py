"""Registry use cases: loading reference data, choosing the applicable standard limit."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from importlib import resources
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from totalcap.base import events
from totalcap.base.exceptions import ServiceError
from totalcap.registry import choices as c
from totalcap.registry.models import EmissionStandard, Industry, Jurisdiction, Pollutant, StandardLimit


def _data_text(name: str) -> str:
    return resources.files("totalcap.registry").joinpath(f"data/{name}").read_text(encoding="utf-8")


# --- jurisdictions --------------------------------------------------------------------------


def level_of(code: str) -> str:
    if code.endswith("0000"):
        return c.JurisdictionLevel.PROVINCE
    if code.endswith("00"):
        return c.JurisdictionLevel.CITY
    return c.JurisdictionLevel.COUNTY


def load_jurisdictions(text: str | None = None) -> int:
    """Load a GB/T 2260 list (CSV ``code,name``; the full national list is accepted).

    Parents are inferred from the code: a county ``XXYYZZ`` belongs to the city ``XXYY00`` when
    that city is in the list, else to the province ``XX0000``. Returns the number of new nodes.
    """
    rows = list(csv.DictReader(io.StringIO(text if text is not None else _data_text("jurisdictions.csv"))))
    errors = []
    for i, row in enumerate(rows, start=2):
        code = (row.get("code") or "").strip()
        if not (code.isdigit() and len(code) == 6):
            errors.append(
                _("第%(line)d行：行政区划代码「%(code)s」应为6位数字。") % {"line": i, "code": code}
            )
        if not (row.get("name") or "").strip():
            errors.append(_("第%(line)d行：名称为空。") % {"line": i})
    if errors:
        raise ServiceError("；".join(errors[:10]), code="bad_reference_file")
    codes = {r["code"].strip(): r["name"].strip() for r in rows}
    created = 0
    with transaction.atomic():
        existing = {j.code: j for j in Jurisdiction.objects.all()}
        for code in sorted(codes, key=lambda k: (level_order(k), k)):
            parent_code = None
            level = level_of(code)
            if level == c.JurisdictionLevel.CITY:
                parent_code = code[:2] + "0000"
            elif level == c.JurisdictionLevel.COUNTY:
                city = code[:4] + "00"
                parent_code = city if (city in codes or city in existing) else code[:2] + "0000"
            parent = existing.get(parent_code) if parent_code else None
            node = existing.get(code)
            if node is None:
                node = Jurisdiction(code=code, name=codes[code], level=level, parent=parent)
                node.save()
                existing[code] = node
                created += 1
            elif node.name != codes[code]:
                node.name = codes[code]
                node.save(update_fields=["name", "updated_at"])
    return created


def level_order(code: str) -> int:
    order = {c.JurisdictionLevel.PROVINCE: 0, c.JurisdictionLevel.CITY: 1, c.JurisdictionLevel.COUNTY: 2}
    return order[c.JurisdictionLevel(level_of(code))]


# --- industries and pollutants --------------------------------------------------------------


def load_industries(text: str | None = None) -> int:
    rows = list(csv.DictReader(io.StringIO(text if text is not None else _data_text("industries.csv"))))
    created = 0
    with transaction.atomic():
        known = {i.code: i for i in Industry.objects.all()}
        for row in rows:
            code, name, parent_code = (
                row["code"].strip(),
                row["name"].strip(),
                (row.get("parent") or "").strip(),
            )
            parent = known.get(parent_code) if parent_code else None
            if parent_code and parent is None:
                raise ServiceError(
                    _("行业代码「%(code)s」的上级「%(p)s」不存在。") % {"code": code, "p": parent_code}
                )
            obj, was_created = Industry.objects.update_or_create(
                code=code, defaults={"name": name, "parent": parent}
            )
            known[code] = obj
            created += int(was_created)
    return created


def load_pollutants(rows: list[dict[str, Any]] | None = None) -> int:
    """Load pollutant codes (HJ 524/525) from the codec's code table, or from ``rows``."""
    if rows is None:
        rows = pollutant_rows()
    created = 0
    with transaction.atomic():
        for row in rows:
            _obj, was_created = Pollutant.objects.update_or_create(code=row["code"], defaults=row["defaults"])
            created += int(was_created)
    return created


TOTAL_CONTROL_CODES = {"w01018", "w21003", "w21001", "w21011", "a21026", "a21002", "a34013", "a24088"}
FLOW_CODES = {"w00000", "a00000"}


def pollutant_rows() -> list[dict[str, Any]]:
    text = _data_text("pollutants.csv")
    result = []
    for row in csv.DictReader(io.StringIO(text)):
        code = row["code"].strip()
        result.append(
            {
                "code": code,
                "defaults": {
                    "name": row["name"].strip(),
                    "medium": row["medium"].strip(),
                    "concentration_unit": row["concentration_unit"].strip(),
                    "amount_unit": row["amount_unit"].strip(),
                    "data_type": row["data_type"].strip(),
                    "legacy_code": row["legacy_code"].strip(),
                    "is_total_control": code in TOTAL_CONTROL_CODES,
                    "is_flow": code in FLOW_CODES,
                },
            }
        )
    return result


# --- emission standards ---------------------------------------------------------------------


def load_standards(text: str | None = None) -> int:
    """Load standards with their limit rows from JSON; a standard without limits is refused."""
    data = json.loads(text if text is not None else _data_text("standards.json"))
    created = 0
    with transaction.atomic():
        for entry in data["standards"]:
            limits = entry.get("limits") or []
            if not limits:
                raise ServiceError(
                    _("排放标准「%(code)s」没有任何限值，不能导入。") % {"code": entry.get("code", "?")},
                    code="standard_without_limits",
                )
            region = (
                Jurisdiction.objects.filter(code=entry["region"]).first() if entry.get("region") else None
            )
            std, was_created = EmissionStandard.objects.update_or_create(
                code=entry["code"],
                defaults={
                    "name": entry["name"],
                    "level": entry["level"],
                    "medium": entry["medium"],
                    "region": region,
                },
            )
            std.full_clean()
            std.industries.set(Industry.objects.filter(code__in=entry.get("industries", [])))
            created += int(was_created)
            for row in limits:
                pollutant = Pollutant.objects.filter(code=row["pollutant"]).first()
                if pollutant is None:
                    raise ServiceError(
                        _("排放标准「%(std)s」引用了未知的污染物编码「%(code)s」。")
                        % {"std": entry["code"], "code": row["pollutant"]},
                        code="unknown_pollutant",
                    )
                try:
                    value = Decimal(str(row["value"]))
                except InvalidOperation as exc:
                    raise ServiceError(_("限值「%(v)s」不是数字。") % {"v": row["value"]}) from exc
                limit, _created = StandardLimit.objects.update_or_create(
                    standard=std,
                    pollutant=pollutant,
                    discharge_mode=row.get("discharge_mode", c.LimitDischarge.ANY),
                    source_type=row.get("source_type", ""),
                    defaults={
                        "limit_value": value,
                        "unit": row["unit"].replace("m3", "m³"),
                        "reference_o2": Decimal(row["reference_o2"]) if row.get("reference_o2") else None,
                        "averaging": row.get("averaging", c.AveragingPeriod.HOUR),
                        "note": row.get("note", ""),
                    },
                )
                limit.full_clean()
    return created


def load_reference_data() -> dict[str, int]:
    """Load every reference file shipped with TotalCap (idempotent)."""
    return {
        "jurisdictions": load_jurisdictions(),
        "industries": load_industries(),
        "pollutants": load_pollutants(),
        "standards": load_standards(),
    }


@dataclass(frozen=True)
class LimitCandidate:
    """A limit that could apply, with the reason it ranks where it does."""

    limit: StandardLimit
    precedence: int

    @property
    def standard(self) -> EmissionStandard:
        return self.limit.standard


def candidate_limits(
    pollutant: Pollutant,
    *,
    industry: Industry | None = None,
    jurisdiction: Jurisdiction | None = None,
    discharge_mode: str = c.DischargeMode.DIRECT,
    source_type: str = "",
) -> list[LimitCandidate]:
    """Limits of ``pollutant`` that could apply, in precedence order: local standards of the
    jurisdiction (or an ancestor) first, then industry standards of the industry (or its
    parents), then national integrated standards; within a level, the strictest first."""
    limits = StandardLimit.objects.select_related("standard", "standard__region").filter(pollutant=pollutant)
    limits = limits.filter(discharge_mode__in=[c.LimitDischarge.ANY, discharge_mode])
    if source_type:
        limits = limits.filter(Q(source_type="") | Q(source_type=source_type))
    industry_codes: set[str] = set()
    node = industry
    while node is not None:
        industry_codes.add(node.code)
        node = node.parent
    result = []
    for limit in limits:
        std = limit.standard
        if std.level == c.StandardLevel.LOCAL:
            if (
                jurisdiction is None
                or std.region is None
                or not jurisdiction.path.startswith(std.region.path)
            ):
                continue
        elif std.level == c.StandardLevel.INDUSTRY:
            codes = set(std.industries.values_list("code", flat=True))
            if not (codes & industry_codes):
                continue
        result.append(LimitCandidate(limit, c.STANDARD_PRECEDENCE[c.StandardLevel(std.level)]))
    result.sort(key=lambda cand: (cand.precedence, cand.limit.limit_value))
    return result


def applicable_limit(pollutant: Pollutant, **kwargs: Any) -> LimitCandidate | None:
    """The limit that applies by precedence (local before industry before national integrated)."""
    candidates = candidate_limits(pollutant, **kwargs)
    return candidates[0] if candidates else None


def save_standard_with_limits(
    actor: Any, standard: EmissionStandard, limits: list[StandardLimit]
) -> EmissionStandard:
    """Save a standard and its limits together; a standard must have at least one limit."""
    if not limits:
        raise ServiceError(_("排放标准至少需要一条限值。"), code="standard_without_limits", field="limits")
    with transaction.atomic():
        try:
            standard.full_clean()
        except ValidationError as exc:
            raise ServiceError("；".join(exc.messages), code="invalid") from exc
        standard.save()
        for limit in limits:
            limit.standard = standard
            limit.full_clean()
            limit.save()
        events.record(actor, standard, "standard_saved", {"limits": len(limits)})
    return standard
