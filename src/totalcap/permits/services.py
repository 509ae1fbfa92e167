"""Permit use cases: applications, transitions, contents, the calculator's application, totals and
differences between versions.

Every state change locks its rows, checks its guard, changes state and appends a domain event in one
transaction (``base/transitions.apply_transition`` or ``base/services.save_object``). Reports and
reminders are in :mod:`totalcap.permits.schedule`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from totalcap.base import events
from totalcap.base import services as base_services
from totalcap.base.exceptions import PermissionRefused, ServiceError, TransitionRefused
from totalcap.base.transitions import TransitionTable, apply_transition
from totalcap.permits import calculator, hooks, methods
from totalcap.permits import choices as c
from totalcap.permits.models import (
    LimitCalculation,
    Permit,
    PermitItem,
    PermitVersion,
    SpecialPeriodLimit,
    plain_decimal,
)
from totalcap.permits.policy import policy, term_end
from totalcap.registry.choices import JurisdictionLevel, ManagementClass, Medium, OutletCategory
from totalcap.registry.models import Enterprise, Jurisdiction, Outlet, Pollutant, StandardLimit
from totalcap.registry.services import LimitCandidate, applicable_limit, candidate_limits

V = c.VersionStatus
P = c.PermitStatus


def _is_user(actor: Any) -> bool:
    return actor is not None and not isinstance(actor, str)


def _has(actor: Any, perm: str) -> bool:
    return not _is_user(actor) or bool(actor.has_perm(perm))


def _require(actor: Any, perm: str, label: str) -> None:
    if not _has(actor, perm):
        raise PermissionRefused(_("您没有%(what)s的权限。") % {"what": label})


def _reason(params: Mapping[str, Any]) -> str:
    return str(params.get("reason") or "").strip()


# --- applications -------------------------------------------------------------------------------


def open_application(
    actor: Any, enterprise: Enterprise, *, management_class: str | None = None, reason: str = ""
) -> Permit:
    """Start a permit application: a pending permit with a first draft version (一企一证)."""
    _require(actor, "permits.add_permit", _("申请排污许可证"))
    with transaction.atomic():
        locked = Enterprise.objects.select_for_update(no_key=True).get(pk=enterprise.pk)
        base_services.assert_in_scope(actor, locked)
        existing = (
            Permit.objects.filter(enterprise=locked)
            .exclude(status__in=[P.CANCELLED, P.REVOKED, P.WITHDRAWN])
            .first()
        )
        if existing is not None:
            raise ServiceError(
                _("该排污单位已有排污许可证（%(p)s，%(s)s），请办理变更、延续或重新申请。")
                % {"p": existing, "s": existing.get_status_display()},
                code="permit_exists",
                field="enterprise",
            )
        klass = management_class or locked.management_class
        permit = Permit.objects.create(enterprise=locked, management_class=klass)
        version = PermitVersion.objects.create(
            permit=permit,
            number=1,
            kind=c.VersionKind.INITIAL,
            management_class=klass,
            reason=reason,
            applicant=actor if _is_user(actor) else None,
        )
        events.record(actor, permit, "application_opened", {"version": version.number, "class": klass})
        base_services.assert_in_scope(actor, permit)
    return permit


def _new_version(
    actor: Any,
    permit: Permit,
    kind: str,
    *,
    reason: str = "",
    fact_date: dt.date | None = None,
    due: dt.date | None = None,
    management_class: str | None = None,
) -> PermitVersion:
    """A draft copying the current version's contents (items and special-period limits)."""
    base = permit.current_version
    number = (permit.versions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    version = PermitVersion.objects.create(
        permit=permit,
        number=number,
        kind=kind,
        management_class=management_class or (base.management_class if base else permit.management_class),
        reason=reason,
        fact_date=fact_date,
        application_due=due,
        based_on=base,
        applicant=actor if _is_user(actor) else None,
    )
    if base is not None:
        for item in base.items.all():
            item.pk = None
            item._state.adding = True
            item.version = version
            item.save()
        for special in base.special_limits.all():
            special.pk = None
            special._state.adding = True
            special.version = version
            special.save()
    events.record(
        actor,
        version,
        "created",
        {"kind": kind, "based_on": base.number if base else None, "reason": reason, "due": due},
    )
    return version


def _lock_without_open_application(actor: Any, permit: Permit) -> Permit:
    locked: Permit = Permit.objects.select_for_update(no_key=True).get(pk=permit.pk)
    base_services.assert_in_scope(actor, locked)
    open_version = locked.open_version
    if open_version is not None:
        raise ServiceError(
            _("已有办理中的申请（第%(n)d版，%(s)s），请先完成或撤回。")
            % {"n": open_version.number, "s": open_version.get_status_display()},
            code="application_in_progress",
        )
    return locked


def start_change(
    actor: Any,
    permit: Permit,
    *,
    reason: str,
    fact_date: dt.date,
    management_class: str | None = None,
) -> PermitVersion:
    """Apply for a change (变更): a new draft version; due within 30 days of the changed fact."""
    _require(actor, "permits.add_permitversion", _("申请变更"))
    if not reason.strip():
        raise ServiceError(_("请说明变更事项。"), code="reason_required", field="reason")
    today = timezone.localdate()
    if fact_date > today:
        raise ServiceError(_("变更事项发生日期不能晚于今天。"), code="invalid", field="fact_date")
    with transaction.atomic():
        locked = _lock_without_open_application(actor, permit)
        if locked.status not in c.IN_FORCE:
            raise ServiceError(
                _("许可证状态为「%(s)s」，不能申请变更。") % {"s": locked.get_status_display()},
                code="not_in_force",
            )
        due = fact_date + dt.timedelta(days=policy().change_due_days)
        version = _new_version(
            actor, locked, c.VersionKind.CHANGE, reason=reason, fact_date=fact_date, due=due,
            management_class=management_class,
        )  # fmt: skip
        events.record(
            actor, locked, "change_started", {"version": version.number, "due": due, "late": today > due}
        )
    return version


def renewal_due(permit: Permit) -> dt.date | None:
    """The last day to apply for renewal: 60 days before expiry."""
    if permit.valid_until is None:
        return None
    return permit.valid_until - dt.timedelta(days=policy().renewal_lead_days)


def start_renewal(actor: Any, permit: Permit, *, reason: str = "") -> PermitVersion:
    """Apply for renewal (延续) before expiry; due 60 days before it."""
    _require(actor, "permits.add_permitversion", _("申请延续"))
    with transaction.atomic():
        locked = _lock_without_open_application(actor, permit)
        if locked.status not in c.IN_FORCE or locked.valid_until is None:
            raise ServiceError(
                _("许可证状态为「%(s)s」，不能申请延续。") % {"s": locked.get_status_display()},
                code="not_in_force",
            )
        if timezone.localdate() > locked.valid_until:
            raise ServiceError(_("许可证已到期，不能申请延续，请重新申请。"), code="expired")
        due = renewal_due(locked)
        version = _new_version(
            actor, locked, c.VersionKind.RENEWAL, reason=reason or _("有效期届满延续"), due=due
        )
        events.record(actor, locked, "renewal_started", {"version": version.number, "due": due})
    return version


def start_reapplication(actor: Any, permit: Permit, *, reason: str) -> PermitVersion:
    """Apply again (重新申请): new or expanded capacity, new pollutants, higher quantities, or after
    expiry or a refused first application. The issued version starts a new 5-year term."""
    _require(actor, "permits.add_permitversion", _("重新申请"))
    if not reason.strip():
        raise ServiceError(_("请说明重新申请的原因。"), code="reason_required", field="reason")
    with transaction.atomic():
        locked = _lock_without_open_application(actor, permit)
        if locked.status in (P.REVOKED, P.WITHDRAWN, P.CANCELLED):
            raise ServiceError(
                _("许可证已%(s)s，请重新提出首次申请。") % {"s": locked.get_status_display().lstrip("已")},
                code="closed",
            )
        kind = c.VersionKind.REAPPLY if locked.current_version_id else c.VersionKind.INITIAL
        version = _new_version(actor, locked, kind, reason=reason)
        events.record(actor, locked, "reapplication_started", {"version": version.number})
    return version


def close_open_application(permit: Permit, actor: Any) -> None:
    """When a permit is revoked, withdrawn or cancelled, the application in progress ends with it."""
    open_version = permit.open_version
    if open_version is None:
        return
    locked = PermitVersion.objects.select_for_update(no_key=True).get(pk=open_version.pk)
    previous = locked.status
    locked.status = V.WITHDRAWN
    locked.save(update_fields=["status", "updated_at"])
    events.record(actor, locked, "closed_with_permit", {"from": previous, "to": V.WITHDRAWN})


# --- transitions ---------------------------------------------------------------------------------


def _apply(
    table: TransitionTable, kind: str, actor: Any, obj: Any, action: str, params: Mapping[str, Any] | None
) -> Any:
    from totalcap.permits.transitions import REASON_REQUIRED

    data = dict(params or {})
    reason = _reason(data)
    if action in REASON_REQUIRED[kind] and not reason:
        raise ServiceError(_("请填写原因或意见。"), code="reason_required", field="reason")
    payload: dict[str, Any] = {"reason": reason} if reason else {}
    due = getattr(obj, "application_due", None) or getattr(obj, "due_date", None)
    if action == "submit" and due is not None and timezone.localdate() > due:
        payload["late"] = True
        payload["due"] = due
    return apply_transition(table, obj, action, actor, data, payload=payload)


def transition_version(
    actor: Any, version: PermitVersion, action: str, params: Mapping[str, Any] | None = None
) -> PermitVersion:
    from totalcap.permits.transitions import VERSION_TABLE

    with transaction.atomic():
        # Lock order everywhere: the permit, then its version (issuing changes both; closing a permit
        # ends its open application).
        list(
            Permit.objects.select_for_update(no_key=True)
            .filter(pk=version.permit_id)
            .values_list("pk", flat=True)
        )
        result: PermitVersion = _apply(VERSION_TABLE, "version", actor, version, action, params)
    return result


def transition_permit(
    actor: Any, permit: Permit, action: str, params: Mapping[str, Any] | None = None
) -> Permit:
    from totalcap.permits.transitions import PERMIT_TABLE

    result: Permit = _apply(PERMIT_TABLE, "permit", actor, permit, action, params)
    return result


def _internal_transition(
    table: TransitionTable, obj: Any, action: str, actor: Any, payload: dict[str, Any]
) -> None:
    """Apply a ``system_only`` row on behalf of an outer, already authorised transition, recording
    the outer transition's actor (the caller holds the lock)."""
    state = getattr(obj, table.state_field)
    row = table.find(state, action)
    if row is None:
        raise TransitionRefused(
            _("许可证状态「%(s)s」不允许「%(a)s」。") % {"s": obj.get_status_display(), "a": action},
            code="transition_not_allowed",
        )
    setattr(obj, table.state_field, row.target)
    obj.save()
    events.record(actor, obj, action, {"from": state, "to": row.target, **payload})


def permit_number(enterprise: Enterprise, management_class: str) -> str:
    """Credit code + 3-digit source sequence + identifier letter (HJ 608-2017, e.g. …001P)."""
    suffix = policy().permit_number_suffix.get(management_class, "P")
    taken = set(
        Permit.objects.filter(number__startswith=enterprise.credit_code).values_list("number", flat=True)
    )
    for seq in range(1, 1000):
        candidate = f"{enterprise.credit_code}{seq:03d}{suffix}"
        if candidate not in taken:
            return candidate
    raise ServiceError(_("该排污单位的许可证编号已用尽。"), code="numbers_exhausted")


def _authority(actor: Any, enterprise: Enterprise) -> Jurisdiction:
    """The issuing authority: the acting regulator's node, else the enterprise's city."""
    node = getattr(actor, "jurisdiction", None) if _is_user(actor) else None
    if isinstance(node, Jurisdiction):
        return node
    j = enterprise.jurisdiction
    if j.level == JurisdictionLevel.COUNTY and j.parent is not None:
        return j.parent
    return j


def issue_version(version: PermitVersion, actor: Any) -> None:
    """Effect of ``issue`` / ``register``: number, validity, the permit's current version and state.

    Initial and re-applications start a new 5-year term today; a renewal starts the next term the day
    after the current one ends; a change keeps the term.
    """
    permit = (
        Permit.objects.select_for_update(no_key=True).select_related("enterprise").get(pk=version.permit_id)
    )
    today = timezone.localdate()
    if version.kind == c.VersionKind.CHANGE and permit.valid_until is not None:
        term_from, term_until = permit.valid_from or today, permit.valid_until
    elif version.kind == c.VersionKind.RENEWAL and permit.valid_until is not None:
        term_from = max(today, permit.valid_until + dt.timedelta(days=1))
        term_until = term_end(term_from)
    else:
        term_from, term_until = today, term_end(today)
    version.issued_at = timezone.now()
    version.valid_from = today
    version.valid_until = term_until
    if not permit.number:
        permit.number = permit_number(permit.enterprise, version.management_class)
    previous = permit.current_version_id
    permit.current_version = version
    permit.management_class = version.management_class
    permit.first_issued_on = permit.first_issued_on or today
    permit.valid_from = term_from
    permit.valid_until = term_until
    permit.issuing_authority = _authority(actor, permit.enterprise)
    from totalcap.permits.transitions import PERMIT_TABLE

    _internal_transition(
        PERMIT_TABLE,
        permit,
        "issue_version",
        actor,
        {
            "version": version.number,
            "kind": version.kind,
            "number": permit.number,
            "valid_until": term_until,
            "previous_version_id": previous,
        },
    )


# --- contents --------------------------------------------------------------------------------------


def can_edit_contents(version: PermitVersion, actor: Any) -> str | None:
    """Why ``actor`` may not change the version's items now, or None.

    Drafts and returned applications are edited by the applicant (who may submit); during technical
    review by the reviewer; an issued version never changes.
    """
    if version.status == V.ISSUED:
        return _("已核发的许可证版本不可修改；如需调整，请申请变更。")
    if version.status in c.APPLICANT_EDITABLE:
        if _has(actor, "permits.submit_permitversion"):
            return None
        return _("「%(s)s」阶段的许可内容由申请单位填写。") % {"s": version.get_status_display()}
    if version.status == V.UNDER_REVIEW:
        if _has(actor, "permits.review_permitversion"):
            return None
        return _("技术审查阶段只有审查人员可以修改许可内容。")
    return _("许可证版本处于「%(s)s」状态，内容不可修改。") % {"s": version.get_status_display()}


def _lock_editable(actor: Any, version_id: int) -> PermitVersion:
    version: PermitVersion = (
        PermitVersion.objects.select_for_update(no_key=True)
        .select_related("permit__enterprise")
        .get(pk=version_id)
    )
    problem = can_edit_contents(version, actor)
    if problem:
        raise TransitionRefused(problem, code="version_not_editable")
    return version


def suggest_limit(outlet: Outlet, pollutant: Pollutant) -> LimitCandidate | None:
    """The standard limit that applies to the outlet by precedence (local → industry → national)."""
    enterprise = outlet.enterprise
    return applicable_limit(
        pollutant,
        industry=enterprise.industry,
        jurisdiction=enterprise.jurisdiction,
        discharge_mode=outlet.discharge_mode,
        source_type=outlet.source_type,
    )


def standard_label(limit: StandardLimit) -> str:
    return f"{limit.standard.code} {limit.standard.name}"


def prepare_item(item: PermitItem) -> PermitItem:
    """Fill what follows from the inputs: the standard (when none was chosen), the emission-standard
    method's figure, the strictest annual quantity and the daily maximum from β."""
    outlet, pollutant = item.outlet, item.pollutant
    if item.standard_limit_id is None and item.concentration_limit is None:
        suggestion = suggest_limit(outlet, pollutant)
        if suggestion is not None:
            item.standard_limit = suggestion.limit
            item.concentration_limit = suggestion.limit.limit_value
    std = item.standard_limit if item.standard_limit_id else None
    if std is not None:
        item.standard_name = item.standard_name or standard_label(std)
        item.concentration_unit = item.concentration_unit or std.unit
        if outlet.medium == Medium.AIR and item.reference_o2 is None:
            item.reference_o2 = std.reference_o2
    if not item.concentration_unit:
        item.concentration_unit = (
            pollutant.concentration_unit or calculator.CONCENTRATION_UNITS[outlet.medium]
        )
    basis = methods.VolumeBasis(
        annual_volume_m3=item.annual_volume_m3,
        design_flow_m3_per_h=item.design_flow_m3_per_h,
        operating_hours=item.operating_hours,
        benchmark_m3_per_unit=item.benchmark_m3_per_unit,
        annual_output=item.annual_output,
    )
    volume = basis.volume()
    if volume is not None:
        item.annual_volume_m3 = volume[0].quantize(Decimal("0.01"))
    item.standard_method_t = methods.standard_method_t(item.concentration_limit, basis, outlet.medium)
    chosen = methods.strictest(
        {
            "standard": item.standard_method_t,
            "eia": item.eia_t,
            "total_control": item.total_control_t,
            "technology": item.technology_t,
        }
    )
    if chosen is None:
        item.annual_t, item.annual_method = None, ""
    else:
        item.annual_method, item.annual_t = chosen
    if item.beta is not None and item.annual_t is not None:
        item.daily_max_kg = methods.daily_max_from_beta(item.beta, item.annual_t)
    return item


def check_item(item: PermitItem) -> None:
    """Validation that needs the policy and the computed figures (refuses with a field)."""
    try:
        item.full_clean()
    except ValidationError as exc:
        raise ServiceError.from_validation(exc) from exc
    if item.daily_max_kg is not None:
        if item.annual_t is None:
            raise ServiceError(
                _("请先确定年许可排放量，再填写日最大许可排放量。"), code="invalid", field="daily_max_kg"
            )
        cap = policy().daily_max_cap
        ceiling = methods.daily_cap_kg(item.annual_t, cap)
        if item.daily_max_kg > ceiling:
            raise ServiceError(
                _("日最大许可排放量（%(d)s kg/d）超过年许可排放量日均值的%(c)s倍（%(m)s kg/d）。")
                % {
                    "d": plain_decimal(item.daily_max_kg),
                    "c": plain_decimal(cap),
                    "m": plain_decimal(ceiling),
                },
                code="invalid",
                field="daily_max_kg" if item.beta is None else "beta",
            )


def save_item(
    actor: Any, item: PermitItem, *, write: Callable[[PermitItem], PermitItem] | None = None
) -> PermitItem:
    """Create or change an item of an editable version (computed figures refreshed)."""

    def _write(obj: PermitItem) -> PermitItem:
        prepare_item(obj)
        check_item(obj)
        if write is not None:
            return write(obj)
        obj.save()
        return obj

    with transaction.atomic():
        _lock_editable(actor, item.version_id)
        if (
            item.pk is not None
            and PermitItem.objects.filter(pk=item.pk).exclude(version_id=item.version_id).exists()
        ):
            raise ServiceError(_("许可排放限值不能移到其他版本。"), code="invalid", field="version")
        return base_services.save_object(actor, item, write=_write)


def delete_item(actor: Any, item: PermitItem) -> None:
    with transaction.atomic():
        _lock_editable(actor, item.version_id)
        base_services.delete_object(actor, item)


def save_special(
    actor: Any,
    special: SpecialPeriodLimit,
    *,
    write: Callable[[SpecialPeriodLimit], SpecialPeriodLimit] | None = None,
) -> SpecialPeriodLimit:
    """Create or change a special-period limit of an editable version."""

    def _write(obj: SpecialPeriodLimit) -> SpecialPeriodLimit:
        try:
            obj.full_clean()
        except ValidationError as exc:
            raise ServiceError.from_validation(exc) from exc
        check_special(obj)
        if write is not None:
            return write(obj)
        obj.save()
        return obj

    with transaction.atomic():
        _lock_editable(actor, special.version_id)
        return base_services.save_object(actor, special, write=_write)


def check_special(special: SpecialPeriodLimit) -> None:
    """A special period is stricter than normal: not above the item's concentration or daily maximum."""
    if special.outlet_id is None:
        return
    item = PermitItem.objects.filter(
        version_id=special.version_id, outlet_id=special.outlet_id, pollutant_id=special.pollutant_id
    ).first()
    if item is None:
        return
    if (
        special.concentration_limit is not None
        and item.concentration_limit is not None
        and special.concentration_limit > item.concentration_limit
    ):
        raise ServiceError(
            _("特殊时段浓度限值（%(a)s）不得高于常规许可浓度限值（%(b)s）。")
            % {"a": plain_decimal(special.concentration_limit), "b": plain_decimal(item.concentration_limit)},
            code="invalid",
            field="concentration_limit",
        )
    if (
        special.daily_kg is not None
        and item.daily_max_kg is not None
        and special.daily_kg > item.daily_max_kg
    ):
        raise ServiceError(
            _("特殊时段日许可排放量（%(a)s kg/d）不得高于常规日最大许可排放量（%(b)s kg/d）。")
            % {"a": plain_decimal(special.daily_kg), "b": plain_decimal(item.daily_max_kg)},
            code="invalid",
            field="daily_kg",
        )


def delete_special(actor: Any, special: SpecialPeriodLimit) -> None:
    with transaction.atomic():
        _lock_editable(actor, special.version_id)
        base_services.delete_object(actor, special)


def contents_problems(version: PermitVersion) -> list[str]:
    """What keeps a version from being submitted or approved (empty when complete)."""
    if version.management_class == ManagementClass.REGISTRATION:
        return []
    items = list(version.items.select_related("outlet", "pollutant"))
    if not items:
        return [_("尚未填写任何许可排放限值（排放口×污染物）。")]
    problems = []
    for item in items:
        where = f"{item.outlet.code} {item.pollutant.name}"
        if item.concentration_limit is None:
            problems.append(_("%(w)s 缺少许可排放浓度限值。") % {"w": where})
        if (
            version.management_class == ManagementClass.KEY
            and item.outlet.category == OutletCategory.MAIN
            and item.annual_t is None
        ):
            problems.append(_("主要排放口 %(w)s 尚未确定年许可排放量。") % {"w": where})
    return problems


# --- the calculator (seed 004) ---------------------------------------------------------------------


def calculator_standards(outlet: Outlet, pollutant: Pollutant) -> list[dict[str, Any]]:
    """Candidate standards from the standard library, as calculator ``standards`` entries."""
    enterprise = outlet.enterprise
    rows = []
    for cand in candidate_limits(
        pollutant,
        industry=enterprise.industry,
        jurisdiction=enterprise.jurisdiction,
        discharge_mode=outlet.discharge_mode,
        source_type=outlet.source_type,
    ):
        rows.append(
            {
                "name": standard_label(cand.limit),
                "level": cand.standard.level,
                "limit_mg_per_l": plain_decimal(cand.limit.limit_value),
                "id": cand.limit.pk,
            }
        )
    return rows


def compute_case(data: Mapping[str, Any]) -> dict[str, Any]:
    """The calculator as a service: raises :class:`ServiceError` naming the field on bad input."""
    try:
        return calculator.compute(data)
    except calculator.CaseError as exc:
        raise ServiceError(exc.message, code="invalid_case", field=exc.field) from exc


def save_calculation(
    actor: Any,
    enterprise: Enterprise,
    data: Mapping[str, Any],
    *,
    outlet: Outlet | None = None,
    pollutant: Pollutant | None = None,
) -> LimitCalculation:
    """Keep a calculation (input and result) for the record."""
    _require(actor, "permits.add_limitcalculation", _("保存限值核定"))
    result = compute_case(data)
    if outlet is not None and outlet.enterprise_id != enterprise.pk:
        raise ServiceError(_("排放口不属于所选排污单位。"), code="invalid", field="outlet")
    calc = LimitCalculation(
        enterprise=enterprise,
        outlet=outlet,
        pollutant=pollutant,
        inputs=dict(data),
        result=result,
        created_by=actor if _is_user(actor) else None,
    )
    return base_services.save_object(actor, calc, action="calculated")


def apply_calculation(
    actor: Any, version: PermitVersion, outlet: Outlet, pollutant: Pollutant, data: Mapping[str, Any]
) -> PermitItem:
    """Put a calculation's concentration limit, Ly and β on the version's item for the outlet and
    pollutant (created when missing), in one transaction, keeping the calculation with it."""
    _require(actor, "permits.add_limitcalculation", _("应用限值核定结果"))
    result = compute_case(data)
    with transaction.atomic():
        locked = _lock_editable(actor, version.pk)
        if outlet.enterprise_id != locked.permit.enterprise_id:
            raise ServiceError(_("排放口不属于该许可证的排污单位。"), code="invalid", field="outlet")
        calc = save_calculation(actor, locked.permit.enterprise, data, outlet=outlet, pollutant=pollutant)
        item = PermitItem.objects.filter(version=locked, outlet=outlet, pollutant=pollutant).first()
        if item is None:
            item = PermitItem(version=locked, outlet=outlet, pollutant=pollutant)
        limit = result["concentration_limit"]
        item.concentration_limit = Decimal(str(limit["value"]))
        item.concentration_unit = result["concentration_unit"]
        std_id = limit.get("standard_id")
        std = StandardLimit.objects.filter(pk=std_id, pollutant=pollutant).first() if std_id else None
        item.standard_limit = std
        item.standard_name = limit["standard"]
        item.technology_t = Decimal(str(result["annual_limit_t"]["chosen"]))
        if result["annual_volume_source"] == "benchmark":
            item.benchmark_m3_per_unit = Decimal(str(data.get("benchmark_m3_per_t")))
            item.annual_output = Decimal(str(data.get("annual_production_t")))
        else:
            item.annual_volume_m3 = Decimal(str(result["annual_volume_m3"]))
        item.beta = Decimal(str(result["beta"]))
        item.calculation = calc
        saved = save_item(actor, item)
        events.record(
            actor,
            locked,
            "limits_applied",
            {
                "item": saved.pk,
                "calculation": calc.pk,
                "outlet": outlet.code,
                "pollutant": pollutant.code,
                "annual_t": saved.annual_t,
                "daily_max_kg": saved.daily_max_kg,
                "rule": result["annual_limit_t"]["rule"],
                "reason": result["annual_limit_t"]["reason"],
            },
        )
    return saved


# --- totals and differences ------------------------------------------------------------------------


@dataclass
class TotalRow:
    """Permitted annual quantities of one pollutant: main outlets, general outlets, whole plant."""

    pollutant: Pollutant
    main_t: Decimal = Decimal(0)
    general_t: Decimal = Decimal(0)
    total_t: Decimal = Decimal(0)
    daily_max_kg: Decimal = Decimal(0)
    allocation_t: Decimal | None = None

    @property
    def over_allocation(self) -> bool:
        return self.allocation_t is not None and self.total_t > self.allocation_t


def plant_totals(version: PermitVersion, year: int | None = None) -> list[TotalRow]:
    """Plant totals per pollutant, with the total-control allocation beside them when known."""
    rows: dict[int, TotalRow] = {}
    for item in version.items.select_related("outlet", "pollutant").order_by("pollutant__code"):
        if item.annual_t is None:
            continue
        row = rows.setdefault(item.pollutant_id, TotalRow(item.pollutant))
        if item.outlet.category == OutletCategory.MAIN:
            row.main_t += item.annual_t
        else:
            row.general_t += item.annual_t
        row.total_t += item.annual_t
        row.daily_max_kg += item.daily_max_kg or Decimal(0)
    enterprise = version.permit.enterprise
    for row in rows.values():
        row.allocation_t = hooks.total_control_allocation(
            enterprise, row.pollutant, year or timezone.localdate().year
        )
    return list(rows.values())


ITEM_DIFF_FIELDS = (
    "concentration_limit", "concentration_unit", "standard_name", "reference_o2", "committed_limit",
    "rate_limit_kg_per_h", "annual_volume_m3", "standard_method_t", "eia_t", "total_control_t", "technology_t",
    "annual_t", "annual_method", "beta", "daily_max_kg", "monitoring_mode", "monitoring_frequency", "note",
)  # fmt: skip
SPECIAL_DIFF_FIELDS = ("start_md", "end_md", "concentration_limit", "daily_kg", "monthly_t", "note")
VERSION_DIFF_FIELDS = ("management_class",)


@dataclass
class RowDiff:
    key: str
    status: str  # "added", "removed", "changed"
    changes: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def status_label(self) -> str:
        return {"added": "新增", "removed": "删除", "changed": "修改"}[self.status]


@dataclass
class VersionDiff:
    old: PermitVersion
    new: PermitVersion
    header: list[tuple[str, str, str]]
    items: list[RowDiff]
    specials: list[RowDiff]

    @property
    def empty(self) -> bool:
        return not (self.header or self.items or self.specials)


def display(obj: Any, name: str) -> str:
    getter = getattr(obj, f"get_{name}_display", None)
    value = getter() if callable(getter) else getattr(obj, name)
    if value is None or value == "":
        return "—"
    if isinstance(value, Decimal):
        return plain_decimal(value)
    return str(value)


def _field_label(model: Any, name: str) -> str:
    return str(model._meta.get_field(name).verbose_name)


def _compare(model: Any, old: Any, new: Any, names: tuple[str, ...]) -> list[tuple[str, str, str]]:
    changes = []
    for name in names:
        a, b = display(old, name), display(new, name)
        if a != b:
            changes.append((_field_label(model, name), a, b))
    return changes


def _rows(model: Any, old: dict[str, Any], new: dict[str, Any], names: tuple[str, ...]) -> list[RowDiff]:
    result = []
    for key in sorted(set(old) | set(new)):
        if key not in old:
            result.append(
                RowDiff(
                    key,
                    "added",
                    [
                        (_field_label(model, n), "—", display(new[key], n))
                        for n in names
                        if display(new[key], n) != "—"
                    ],
                )
            )
        elif key not in new:
            result.append(
                RowDiff(
                    key,
                    "removed",
                    [
                        (_field_label(model, n), display(old[key], n), "—")
                        for n in names
                        if display(old[key], n) != "—"
                    ],
                )
            )
        else:
            changes = _compare(model, old[key], new[key], names)
            if changes:
                result.append(RowDiff(key, "changed", changes))
    return result


def _item_key(item: PermitItem) -> str:
    return f"{item.outlet.code} {item.pollutant.name}"


def _special_key(special: SpecialPeriodLimit) -> str:
    where = special.outlet.code if special.outlet is not None else "全厂"
    what = special.alert_level or special.hydro_period or special.label
    return f"{special.get_kind_display()}·{what} {where} {special.pollutant.name}"


def diff_versions(old: PermitVersion, new: PermitVersion) -> VersionDiff:
    """What changed from ``old`` to ``new``: version fields, items and special-period limits."""
    items_old = {_item_key(i): i for i in old.items.select_related("outlet", "pollutant")}
    items_new = {_item_key(i): i for i in new.items.select_related("outlet", "pollutant")}
    sp_old = {_special_key(s): s for s in old.special_limits.select_related("outlet", "pollutant")}
    sp_new = {_special_key(s): s for s in new.special_limits.select_related("outlet", "pollutant")}
    return VersionDiff(
        old=old,
        new=new,
        header=_compare(PermitVersion, old, new, VERSION_DIFF_FIELDS),
        items=_rows(PermitItem, items_old, items_new, ITEM_DIFF_FIELDS),
        specials=_rows(SpecialPeriodLimit, sp_old, sp_new, SPECIAL_DIFF_FIELDS),
    )


def previous_issued(version: PermitVersion) -> PermitVersion | None:
    """The version to compare with: the one it was based on, else the last issued before it."""
    if version.based_on_id is not None:
        return version.based_on
    return (
        version.permit.versions.filter(status=V.ISSUED, number__lt=version.number).order_by("-number").first()
    )
