"""Review of monitoring data, manual monitoring results, and suspicions raised by screening.

A review action never touches a sample: it is an overlay the pipeline applies when it recomputes,
so the original value stays where the logger put it and a reverted action restores it exactly.
"""

from __future__ import annotations

from typing import Any

import pghistory
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from totalcap.base.models import ScopedModel
from totalcap.monitoring.choices import (
    Detector,
    ManualKind,
    ReviewKind,
    ReviewLevel,
    ReviewStatus,
    SuspicionStatus,
)
from totalcap.monitoring.models.samples import outlet_event_scope

OUTLET_SCOPE = {
    "scope_jurisdiction": "outlet__enterprise__jurisdiction__path",
    "scope_enterprise": "outlet__enterprise",
}


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class ReviewAction(ScopedModel):
    """A reviewer's decision on minute or hour values of an outlet: invalid, or corrected."""

    outlet = models.ForeignKey(
        "registry.Outlet", verbose_name=_("排放口"), on_delete=models.PROTECT, related_name="+"
    )
    pollutant = models.ForeignKey(
        "registry.Pollutant",
        verbose_name=_("监测因子"),
        to_field="code",
        db_column="pollutant",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("留空表示该排放口的全部因子（仅限判为无效）"),
    )
    level = models.CharField(
        _("数据级别"), max_length=8, choices=ReviewLevel.choices, default=ReviewLevel.HOUR
    )
    kind = models.CharField(_("复核结论"), max_length=12, choices=ReviewKind.choices)
    start = models.DateTimeField(_("起始时间"))
    end = models.DateTimeField(_("结束时间"), help_text=_("不含；小时数据为最后一小时的下一小时"))
    value = models.DecimalField(
        _("修正值"), max_digits=20, decimal_places=6, null=True, blank=True, help_text=_("修正数值时必填")
    )
    reason = models.TextField(_("理由"))
    status = models.CharField(
        _("状态"), max_length=12, choices=ReviewStatus.choices, default=ReviewStatus.ACTIVE
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("复核人"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    by_enterprise = models.BooleanField(_("企业自行复核"), default=False)
    reverted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("撤销人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reverted_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    revert_reason = models.CharField(_("撤销理由"), max_length=255, blank=True)

    scope_jurisdiction = OUTLET_SCOPE["scope_jurisdiction"]
    scope_enterprise = OUTLET_SCOPE["scope_enterprise"]

    class Meta:
        db_table = "monitoring_review"
        verbose_name = _("数据复核")
        verbose_name_plural = _("数据复核")
        ordering = ["-created_at"]
        default_permissions = ("view", "add", "change")
        indexes = [models.Index(fields=["outlet", "start"], name="review_outlet_start_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.pollutant_id or '全部因子'} {self.start:%Y-%m-%d %H:%M}"

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        if self.start and self.end and self.end <= self.start:
            errors["end"] = _("结束时间应晚于起始时间。")
        if self.kind == ReviewKind.CORRECT:
            if self.value is None:
                errors["value"] = _("修正数值时须填写修正值。")
            if not self.pollutant_id:
                errors["pollutant"] = _("修正数值时须指定监测因子。")
        elif self.value is not None:
            errors["value"] = _("判为无效时不应填写修正值。")
        if self.start and self.end and self.level == ReviewLevel.HOUR:
            for name, moment in (("start", self.start), ("end", self.end)):
                if moment.minute or moment.second or moment.microsecond:
                    errors[name] = _("小时数据的复核时间应为整点。")
        if not (self.reason or "").strip():
            errors["reason"] = _("请填写复核理由。")
        if errors:
            raise ValidationError(errors)

    def event_scope(self) -> tuple[str, int | None]:
        return outlet_event_scope(self)


def evidence_path(instance: ReviewEvidence, filename: str) -> str:
    return f"monitoring/evidence/{instance.review_id}/{filename}"


class ReviewEvidence(ScopedModel):
    """A file supporting a review decision (photos, O&M records, reports), with its hash."""

    review = models.ForeignKey(
        ReviewAction, verbose_name=_("复核记录"), on_delete=models.PROTECT, related_name="evidence"
    )
    file = models.FileField(_("文件"), upload_to=evidence_path, max_length=255)
    original_name = models.CharField(_("文件名"), max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    size = models.BigIntegerField(_("大小(字节)"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    scope_jurisdiction = "review__outlet__enterprise__jurisdiction__path"
    scope_enterprise = "review__outlet__enterprise"

    class Meta:
        db_table = "monitoring_review_evidence"
        verbose_name = _("复核证据")
        verbose_name_plural = _("复核证据")
        ordering = ["review", "id"]
        default_permissions = ("view", "add")

    def __str__(self) -> str:
        return self.original_name

    def event_scope(self) -> tuple[str, int | None]:
        outlet = self.review.outlet
        return outlet.enterprise.jurisdiction.path, outlet.enterprise_id


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class ManualMeasurement(ScopedModel):
    """A laboratory or enforcement result for one pollutant of one outlet."""

    outlet = models.ForeignKey(
        "registry.Outlet", verbose_name=_("排放口"), on_delete=models.PROTECT, related_name="+"
    )
    pollutant = models.ForeignKey(
        "registry.Pollutant",
        verbose_name=_("污染物"),
        to_field="code",
        db_column="pollutant",
        on_delete=models.PROTECT,
        related_name="+",
    )
    kind = models.CharField(_("监测类型"), max_length=16, choices=ManualKind.choices, default=ManualKind.SELF)
    sampled_at = models.DateTimeField(_("采样时间"))
    period_start = models.DateTimeField(_("代表时段起"), null=True, blank=True)
    period_end = models.DateTimeField(
        _("代表时段止"), null=True, blank=True, help_text=_("留空则按核算方案的代表天数")
    )
    concentration = models.DecimalField(_("浓度"), max_digits=20, decimal_places=6)
    unit = models.CharField(_("单位"), max_length=16, blank=True)
    flow_m3_h = models.DecimalField(
        _("流量(m³/h)"),
        max_digits=18,
        decimal_places=6,
        null=True,
        blank=True,
        help_text=_("废气为标干流量；留空则取同时段自动监测流量"),
    )
    lab = models.CharField(_("监测机构"), max_length=128, blank=True)
    report_no = models.CharField(_("报告编号"), max_length=64, blank=True)
    note = models.CharField(_("备注"), max_length=255, blank=True)
    source = models.CharField(_("来源"), max_length=128, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("录入人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )

    scope_jurisdiction = OUTLET_SCOPE["scope_jurisdiction"]
    scope_enterprise = OUTLET_SCOPE["scope_enterprise"]

    class Meta:
        db_table = "monitoring_manual"
        verbose_name = _("手工监测数据")
        verbose_name_plural = _("手工监测数据")
        ordering = ["-sampled_at"]
        indexes = [models.Index(fields=["outlet", "pollutant", "sampled_at"], name="manual_outlet_time_idx")]

    def __str__(self) -> str:
        return f"{self.pollutant_id} {self.concentration.normalize()} {self.sampled_at:%Y-%m-%d}"

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        if self.concentration is not None and self.concentration < 0:
            errors["concentration"] = _("浓度不能为负数。")
        if self.flow_m3_h is not None and self.flow_m3_h < 0:
            errors["flow_m3_h"] = _("流量不能为负数。")
        if self.period_start and self.period_end and self.period_end <= self.period_start:
            errors["period_end"] = _("代表时段止应晚于代表时段起。")
        if (
            self.outlet_id
            and self.pollutant_id
            and self.pollutant.medium in ("air", "water")
            and self.pollutant.medium != self.outlet.medium
        ):
            errors["pollutant"] = _("污染物「%(p)s」与排放口类型不符。") % {"p": self.pollutant}
        if errors:
            raise ValidationError(errors)

    def event_scope(self) -> tuple[str, int | None]:
        return outlet_event_scope(self)


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class Suspicion(ScopedModel):
    """A screening detector's suspicion about an outlet's data, with its evidence.

    A suspicion changes no validity by itself; a person confirms or dismisses it (and may then
    review the data).
    """

    detector = models.CharField(_("筛查规则"), max_length=16, choices=Detector.choices)
    outlet = models.ForeignKey(
        "registry.Outlet", verbose_name=_("排放口"), on_delete=models.PROTECT, related_name="+"
    )
    pollutant = models.CharField(_("监测因子"), max_length=16, blank=True)
    start = models.DateTimeField(_("起始时间"))
    end = models.DateTimeField(_("结束时间"))
    evidence = models.JSONField(_("证据"), default=dict)
    params = models.JSONField(_("阈值参数"), default=dict)
    ruleset = models.ForeignKey(
        "monitoring.RuleSet", verbose_name=_("规则集"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        _("状态"), max_length=12, choices=SuspicionStatus.choices, default=SuspicionStatus.OPEN
    )
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("处理人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    handled_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    handling_note = models.CharField(_("处理说明"), max_length=255, blank=True)

    scope_jurisdiction = OUTLET_SCOPE["scope_jurisdiction"]
    scope_enterprise = OUTLET_SCOPE["scope_enterprise"]

    class Meta:
        db_table = "monitoring_suspicion"
        verbose_name = _("可疑数据")
        verbose_name_plural = _("可疑数据")
        ordering = ["-start"]
        default_permissions = ("view", "change")
        constraints = [
            models.UniqueConstraint(
                fields=["detector", "outlet", "pollutant", "start"], name="uniq_suspicion"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_detector_display()} {self.pollutant} {self.start:%Y-%m-%d %H:%M}"

    def event_scope(self) -> tuple[str, int | None]:
        return outlet_event_scope(self)
