"""Review of monitoring data and manual monitoring results.

A review action is an overlay: samples are never changed, the pipeline applies active actions when
it recomputes, and reverting an action restores the previous result exactly. Every action is a
domain event; the affected hours are recomputed at once, so the reviewer sees the new totals (and
their new versions) immediately.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from totalcap.base import events
from totalcap.base.exceptions import PermissionRefused, ScopeViolation, ServiceError, TransitionRefused
from totalcap.base.services import assert_in_scope, snapshot
from totalcap.monitoring.choices import ManualKind, ReviewLevel, ReviewStatus, SuspicionStatus
from totalcap.monitoring.models import ManualMeasurement, ReviewAction, ReviewEvidence, Suspicion
from totalcap.monitoring.services import pipeline
from totalcap.monitoring.services.context import BEIJING
from totalcap.registry.models import Enterprise, Outlet, Pollutant

MAX_EVIDENCE_BYTES = 20 * 1024 * 1024
EVIDENCE_TYPES = {".jpg", ".jpeg", ".png", ".pdf", ".doc", ".docx", ".xls", ".xlsx", ".txt", ".zip", ".mp4"}
HOUR = dt.timedelta(hours=1)


def _is_enterprise_user(actor: Any) -> bool:
    return bool(getattr(actor, "enterprise_id", None)) or getattr(actor, "role", "") in (
        "enterprise",
        "om_contractor",
    )


def _visible_outlet(actor: Any, outlet: Outlet) -> Outlet:
    if not Outlet.objects.restrict(actor, None).filter(pk=outlet.pk).exists():
        raise ScopeViolation(_("该排放口不在您的管辖范围内。"))
    return outlet


def _hours_of(review: ReviewAction) -> tuple[dt.datetime, dt.datetime]:
    start = review.start.replace(minute=0, second=0, microsecond=0)
    end = review.end
    if end.minute or end.second or end.microsecond:
        end = end.replace(minute=0, second=0, microsecond=0) + HOUR
    return start, end


def add_evidence(actor: Any, review: ReviewAction, upload: UploadedFile[Any]) -> ReviewEvidence:
    """Attach a file to a review (stored under MEDIA_ROOT with its SHA-256)."""
    name = upload.name or "evidence"
    suffix = ("." + name.rsplit(".", 1)[-1].lower()) if "." in name else ""
    if suffix not in EVIDENCE_TYPES:
        raise ServiceError(
            _("证据文件「%(n)s」的类型不受支持（支持图片、PDF、Office文档、文本、ZIP、MP4）。") % {"n": name},
            code="invalid",
            field="evidence",
        )
    if upload.size is not None and upload.size > MAX_EVIDENCE_BYTES:
        raise ServiceError(_("证据文件「%(n)s」超过20MB。") % {"n": name}, code="invalid", field="evidence")
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    evidence = ReviewEvidence(
        review=review,
        original_name=name[:255],
        sha256=digest.hexdigest(),
        size=upload.size or 0,
        uploaded_by=actor,
    )
    evidence.file.save(name, upload, save=False)
    evidence.save()
    events.record(actor, review, "review_evidence_added", {"file": name, "sha256": evidence.sha256})
    return evidence


def create_review(
    actor: Any,
    *,
    outlet: Outlet,
    kind: str,
    start: dt.datetime,
    end: dt.datetime,
    reason: str,
    level: str = ReviewLevel.HOUR,
    pollutant: str | None = None,
    value: Decimal | None = None,
    files: Sequence[UploadedFile[Any]] = (),
    recompute: bool = True,
) -> ReviewAction:
    """Mark values of an outlet invalid, or correct them, with a reason and evidence files."""
    if not actor.has_perm("monitoring.add_reviewaction"):
        raise PermissionRefused(_("您没有复核监测数据的权限。"))
    _visible_outlet(actor, outlet)
    review = ReviewAction(
        outlet=outlet,
        pollutant=Pollutant.objects.filter(code=pollutant).first() if pollutant else None,
        level=level,
        kind=kind,
        start=start,
        end=end,
        value=value,
        reason=(reason or "").strip(),
        created_by=actor,
        by_enterprise=_is_enterprise_user(actor),
    )
    if pollutant and review.pollutant is None:
        raise ServiceError(
            _("监测因子「%(p)s」不存在。") % {"p": pollutant}, code="invalid", field="pollutant"
        )
    try:
        review.full_clean()
    except ValidationError as exc:
        raise ServiceError.from_validation(exc) from exc
    with transaction.atomic():
        review.save()
        for upload in files:
            add_evidence(actor, review, upload)
        events.record(actor, review, "review_created", {"review": snapshot(review)})
        assert_in_scope(actor, review)
        if recompute:
            hour_start, hour_end = _hours_of(review)
            pipeline.recompute([outlet.pk], hour_start, hour_end, cause=f"review #{review.pk}", actor=actor)
    return review


def revert_review(actor: Any, review: ReviewAction, reason: str, *, recompute: bool = True) -> ReviewAction:
    """Withdraw a review action; the values it changed return to what the data say."""
    if not actor.has_perm("monitoring.change_reviewaction"):
        raise PermissionRefused(_("您没有撤销复核的权限。"))
    if not ReviewAction.objects.restrict(actor, None).filter(pk=review.pk).exists():
        raise ScopeViolation(_("该复核记录不在您的管辖范围内。"))
    if not (reason or "").strip():
        raise ServiceError(_("请填写撤销理由。"), code="invalid", field="reason")
    with transaction.atomic():
        locked = ReviewAction.objects.select_for_update(no_key=True).get(pk=review.pk)
        if locked.status != ReviewStatus.ACTIVE:
            raise TransitionRefused(_("该复核已撤销，不能再次撤销。"))
        if _is_enterprise_user(actor) and not locked.by_enterprise:
            raise PermissionRefused(_("企业用户只能撤销本企业作出的复核。"))
        locked.status = ReviewStatus.REVERTED
        locked.reverted_by = actor
        locked.reverted_at = timezone.now()
        locked.revert_reason = reason.strip()[:255]
        locked.save(update_fields=["status", "reverted_by", "reverted_at", "revert_reason", "updated_at"])
        events.record(actor, locked, "review_reverted", {"reason": locked.revert_reason})
        if recompute:
            hour_start, hour_end = _hours_of(locked)
            pipeline.recompute([locked.outlet_id], hour_start, hour_end, cause=f"review #{locked.pk} reverted",
                               actor=actor)  # fmt: skip
    return locked


# --- suspicions ------------------------------------------------------------------------------------


def handle_suspicion(actor: Any, suspicion: Suspicion, action: str, note: str = "") -> Suspicion:
    """Confirm or dismiss an open suspicion (it changes no data; a review may follow)."""
    if not actor.has_perm("monitoring.change_suspicion"):
        raise PermissionRefused(_("您没有处理可疑数据的权限。"))
    if not Suspicion.objects.restrict(actor, None).filter(pk=suspicion.pk).exists():
        raise ScopeViolation(_("该记录不在您的管辖范围内。"))
    target = {"confirm": SuspicionStatus.CONFIRMED, "dismiss": SuspicionStatus.DISMISSED}.get(action)
    if target is None:
        raise ServiceError(_("操作「%(a)s」无效。") % {"a": action}, code="invalid")
    with transaction.atomic():
        locked = Suspicion.objects.select_for_update(no_key=True).get(pk=suspicion.pk)
        if locked.status != SuspicionStatus.OPEN:
            raise TransitionRefused(
                _("当前状态「%(s)s」不允许执行该操作。") % {"s": locked.get_status_display()}
            )
        locked.status = target
        locked.handled_by = actor
        locked.handled_at = timezone.now()
        locked.handling_note = (note or "").strip()[:255]
        locked.save(update_fields=["status", "handled_by", "handled_at", "handling_note", "updated_at"])
        events.record(actor, locked, f"suspicion_{target}", {"note": locked.handling_note})
    return locked


# --- manual monitoring data ---------------------------------------------------------------------------


def _check_manual(actor: Any, obj: ManualMeasurement) -> None:
    if obj.kind == ManualKind.ENFORCEMENT and _is_enterprise_user(actor):
        raise PermissionRefused(_("执法监测结果只能由生态环境部门录入。"))


def coverage(obj: ManualMeasurement, days: int = 31) -> tuple[dt.datetime, dt.datetime]:
    """The hours a manual result may account for."""
    local = obj.sampled_at.astimezone(BEIJING)
    start = obj.period_start or dt.datetime(local.year, local.month, local.day, tzinfo=BEIJING)
    end = obj.period_end or start + dt.timedelta(days=days)
    return start, end


def manual_changed(actor: Any, obj: ManualMeasurement, before: dict[str, Any] | None = None) -> None:
    """Queue the hours a manual result covers (and covered, before an edit) for re-accounting."""
    from totalcap.monitoring.models import AccountingPlan

    plan = AccountingPlan.objects.filter(outlet_id=obj.outlet_id, pollutant_id=obj.pollutant_id).first()
    days = plan.manual_validity_days if plan else 31
    start, end = coverage(obj, days)
    pipeline.mark_dirty(obj.outlet_id, start, end)
    if before and before.get("outlet_id"):
        old = ManualMeasurement(
            outlet_id=before["outlet_id"], sampled_at=before["sampled_at"], period_start=before.get("period_start"),
            period_end=before.get("period_end"),
        )  # fmt: skip
        old_start, old_end = coverage(old, days)
        pipeline.mark_dirty(before["outlet_id"], old_start, old_end)


def save_manual(actor: Any, obj: ManualMeasurement, *, write: Any = None) -> ManualMeasurement:
    """Create or update a manual result through the base save service, then queue re-accounting."""
    from totalcap.base.services import save_object

    _check_manual(actor, obj)
    before = None
    if obj.pk:
        current = ManualMeasurement.objects.filter(pk=obj.pk).values().first()
        before = dict(current) if current else None
    if obj.pk is None:
        obj.created_by = actor if not isinstance(actor, str) else None
    with transaction.atomic():
        saved = save_object(actor, obj, write=write)
        manual_changed(actor, saved, before)
    return saved


def delete_manual(actor: Any, obj: ManualMeasurement) -> None:
    from totalcap.base.services import delete_object

    _check_manual(actor, obj)
    with transaction.atomic():
        manual_changed(actor, obj)
        delete_object(actor, obj)


#: Columns of the Excel import (header text → field); the template has exactly these headers.
MANUAL_COLUMNS = [
    ("统一社会信用代码", "credit_code", True),
    ("排放口编码", "outlet", True),
    ("污染物编码", "pollutant", True),
    ("监测类型", "kind", True),
    ("采样时间", "sampled_at", True),
    ("浓度", "concentration", True),
    ("单位", "unit", False),
    ("流量(m³/h)", "flow_m3_h", False),
    ("代表时段起", "period_start", False),
    ("代表时段止", "period_end", False),
    ("监测机构", "lab", False),
    ("报告编号", "report_no", False),
    ("备注", "note", False),
]
KIND_BY_LABEL = {str(label): value for value, label in ManualKind.choices} | {v: v for v in ManualKind.values}


@dataclass
class ImportReport:
    created: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def manual_template() -> bytes:
    """An empty workbook with the import headers and one example row."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "手工监测数据"
    sheet.append([c[0] for c in MANUAL_COLUMNS])
    sheet.append(
        ["91321202MA1X2Y3K0X", "DW001", "w01018", "自行监测（手工）", "2026-10-14 10:00", 35.2, "mg/L", 120, "", "",
         "某某检测有限公司", "JC-2026-001", ""]
    )  # fmt: skip
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _parse_time(value: Any) -> dt.datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime(value.year, value.month, value.day)
    else:
        text = str(value).strip().replace("/", "-")
        for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%Y%m%d%H%M%S"):
            try:
                moment = dt.datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        else:
            raise ValueError(text)
    return moment.replace(tzinfo=BEIJING) if moment.tzinfo is None else moment


def _decimal(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise ValueError(str(value)) from exc


def import_manual_excel(actor: Any, content: bytes, filename: str = "import.xlsx") -> ImportReport:
    """Import manual results from an Excel workbook: every row is checked, and nothing is stored
    unless every row is valid (the report names each wrong row and column)."""
    from openpyxl import load_workbook

    if not actor.has_perm("monitoring.add_manualmeasurement"):
        raise PermissionRefused(_("您没有录入手工监测数据的权限。"))
    report = ImportReport()
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:
        raise ServiceError(_("无法读取文件「%(f)s」：请上传Excel（.xlsx）文件。") % {"f": filename}, code="invalid",
                           field="file") from exc  # fmt: skip
    sheet = book.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    if not rows:
        raise ServiceError(_("文件「%(f)s」是空的。") % {"f": filename}, code="invalid", field="file")
    header = [str(c).strip() if c is not None else "" for c in rows[0]]
    index: dict[str, int] = {}
    for title, name, required in MANUAL_COLUMNS:
        if title in header:
            index[name] = header.index(title)
        elif required:
            report.errors.append(_("缺少列「%(c)s」。") % {"c": title})
    if report.errors:
        return report
    outlets = Outlet.objects.restrict(actor, None).select_related("enterprise")
    pollutants = {p.code: p for p in Pollutant.objects.all()}
    enterprises = {e.credit_code: e for e in Enterprise.objects.restrict(actor, None)}
    objects: list[ManualMeasurement] = []
    for number, row in enumerate(rows[1:], start=2):
        if all(c in (None, "") for c in row):
            continue
        cell = {name: (row[i] if i < len(row) else None) for name, i in index.items()}
        problems: list[str] = []
        enterprise = enterprises.get(str(cell.get("credit_code") or "").strip())
        outlet = None
        if enterprise is None:
            problems.append(
                _("「统一社会信用代码」%(v)s 不存在或不在您的管辖范围内") % {"v": cell.get("credit_code")}
            )
        else:
            outlet = outlets.filter(enterprise=enterprise, code=str(cell.get("outlet") or "").strip()).first()
            if outlet is None:
                problems.append(_("「排放口编码」%(v)s 在该单位下不存在") % {"v": cell.get("outlet")})
        pollutant = pollutants.get(str(cell.get("pollutant") or "").strip())
        if pollutant is None:
            problems.append(_("「污染物编码」%(v)s 不存在") % {"v": cell.get("pollutant")})
        kind = KIND_BY_LABEL.get(str(cell.get("kind") or "").strip())
        if kind is None:
            problems.append(_("「监测类型」应为 执法监测/自行监测（手工）/比对监测"))
        values: dict[str, Any] = {}
        for name, title in (
            ("sampled_at", "采样时间"),
            ("period_start", "代表时段起"),
            ("period_end", "代表时段止"),
        ):
            try:
                values[name] = _parse_time(cell.get(name))
            except ValueError:
                problems.append(
                    _("「%(t)s」%(v)s 不是有效时间（如 2026-10-14 10:00）")
                    % {"t": title, "v": cell.get(name)}
                )
        for name, title in (("concentration", "浓度"), ("flow_m3_h", "流量(m³/h)")):
            try:
                values[name] = _decimal(cell.get(name))
            except ValueError:
                problems.append(_("「%(t)s」%(v)s 不是数字") % {"t": title, "v": cell.get(name)})
        if not problems and values.get("sampled_at") is None:
            problems.append(_("「采样时间」不能为空"))
        if not problems and values.get("concentration") is None:
            problems.append(_("「浓度」不能为空"))
        if problems:
            report.errors.append(_("第%(n)s行：%(p)s。") % {"n": number, "p": "；".join(problems)})
            continue
        assert outlet is not None and pollutant is not None and kind is not None
        obj = ManualMeasurement(
            outlet=outlet, pollutant=pollutant, kind=kind, sampled_at=values["sampled_at"],
            period_start=values["period_start"], period_end=values["period_end"],
            concentration=values["concentration"], flow_m3_h=values["flow_m3_h"],
            unit=str(cell.get("unit") or pollutant.concentration_unit or "")[:16],
            lab=str(cell.get("lab") or "")[:128], report_no=str(cell.get("report_no") or "")[:64],
            note=str(cell.get("note") or "")[:255], source=f"excel:{filename}"[:128],
            created_by=actor,
        )  # fmt: skip
        try:
            obj.full_clean()
            _check_manual(actor, obj)
        except ValidationError as exc:
            messages = "；".join(f"{k}: {'、'.join(v)}" for k, v in exc.message_dict.items())
            report.errors.append(_("第%(n)s行：%(p)s。") % {"n": number, "p": messages})
            continue
        except PermissionRefused as exc:
            report.errors.append(_("第%(n)s行：%(p)s") % {"n": number, "p": exc.message})
            continue
        objects.append(obj)
    if report.errors:
        return report
    if not objects:
        report.errors.append(_("文件中没有数据行。"))
        return report
    with transaction.atomic():
        for obj in objects:
            obj.save()
            manual_changed(actor, obj)
        events.record(
            actor,
            ("monitoring.manualmeasurement", "import"),
            "manual_imported",
            {"file": filename, "rows": len(objects), "ids": [o.pk for o in objects][:500]},
            jurisdiction_path=objects[0].outlet.enterprise.jurisdiction.path,
            enterprise_id=objects[0].outlet.enterprise_id
            if len({o.outlet.enterprise_id for o in objects}) == 1
            else None,
        )
    report.created = len(objects)
    return report


def reviews_for_hours(
    outlet_id: int, pollutant: str, start: dt.datetime, end: dt.datetime
) -> Iterable[ReviewAction]:
    """Review actions touching an hour range (drill-down pages)."""
    return (
        ReviewAction.objects.filter(outlet_id=outlet_id, start__lt=end, end__gt=start)
        .filter(models_q_pollutant(pollutant))
        .select_related("created_by", "reverted_by")
        .prefetch_related("evidence")
        .order_by("-created_at")
    )


def models_q_pollutant(pollutant: str) -> Any:
    from django.db.models import Q

    return Q(pollutant__isnull=True) | Q(pollutant_id=pollutant)


__all__ = [
    "MANUAL_COLUMNS",
    "ImportReport",
    "add_evidence",
    "create_review",
    "delete_manual",
    "handle_suspicion",
    "import_manual_excel",
    "manual_template",
    "revert_review",
    "save_manual",
]
