"""Permits: the certificate, its versions (applications), their contents per outlet × pollutant,
special-period limits, execution reports, reminders, saved limit calculations and report rules.

An issued version never changes. Besides the services' checks, database triggers refuse any
UPDATE or DELETE of an issued version and any INSERT, UPDATE or DELETE of the items and
special-period limits of an issued version — raw SQL included.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pghistory
import pgtrigger
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from totalcap.base.models import ScopedModel
from totalcap.permits import choices as c
from totalcap.registry.choices import ManagementClass, Medium

ZERO = Decimal("0")


def plain_decimal(value: Decimal) -> str:
    """80.0000 → "80", 0.50 → "0.5" (never "8E+1")."""
    return f"{value.normalize():f}"


def amount(label: Any, *, digits: int = 14, places: int = 4, **kwargs: Any) -> models.DecimalField:
    """A non-negative optional quantity."""
    kwargs.setdefault("null", True)
    kwargs.setdefault("blank", True)
    return models.DecimalField(
        label, max_digits=digits, decimal_places=places, validators=[MinValueValidator(ZERO)], **kwargs
    )


def _frozen_children_trigger(table: str) -> pgtrigger.Trigger:
    """Refuse writes to rows that belong to an issued version (checked against the parent row)."""
    check = (
        "SELECT status INTO st FROM permits_permitversion WHERE id = {ref}.version_id; "
        "IF st = 'issued' THEN RAISE EXCEPTION 'permit version % is issued and cannot be changed "
        "(apply for a change instead)', {ref}.version_id USING ERRCODE = 'integrity_constraint_violation'; "
        "END IF; "
    )
    return pgtrigger.Trigger(
        name=f"{table}_issued_frozen",
        operation=pgtrigger.Insert | pgtrigger.Update | pgtrigger.Delete,
        when=pgtrigger.Before,
        declare=[("st", "text")],
        func=(
            "IF TG_OP IN ('UPDATE', 'DELETE') THEN "
            + check.format(ref="OLD")
            + "END IF; IF TG_OP IN ('INSERT', 'UPDATE') THEN "
            + check.format(ref="NEW")
            + "END IF; IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; RETURN NEW;"
        ),
    )


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Permit(ScopedModel):
    """An emission permit (排污许可证) of one enterprise: its number, state and validity.

    Its contents live in versions; ``current_version`` is the version in force.
    """

    enterprise = models.ForeignKey(
        "registry.Enterprise", verbose_name=_("排污单位"), on_delete=models.PROTECT, related_name="permits"
    )
    number = models.CharField(
        _("许可证编号"), max_length=24, unique=True, null=True, blank=True, help_text=_("核发时生成")
    )
    management_class = models.CharField(
        _("管理类别"), max_length=16, choices=ManagementClass.choices, default=ManagementClass.KEY
    )
    status = models.CharField(
        _("许可证状态"), max_length=16, choices=c.PermitStatus.choices, default=c.PermitStatus.PENDING
    )
    current_version = models.ForeignKey(
        "PermitVersion",
        verbose_name=_("现行版本"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    first_issued_on = models.DateField(_("首次发证日期"), null=True, blank=True)
    valid_from = models.DateField(_("有效期自"), null=True, blank=True)
    valid_until = models.DateField(_("有效期至"), null=True, blank=True)
    issuing_authority = models.ForeignKey(
        "registry.Jurisdiction",
        verbose_name=_("发证机关"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    status_reason = models.TextField(_("状态变更原因"), blank=True)

    scope_jurisdiction = "enterprise__jurisdiction__path"
    scope_enterprise = "enterprise"

    class Meta:
        verbose_name = _("排污许可证")
        verbose_name_plural = _("排污许可证")
        ordering = ["enterprise__jurisdiction__code", "enterprise__name", "-id"]
        permissions = [
            ("suspend_permit", "暂停或恢复排污许可证"),
            ("revoke_permit", "撤销或吊销排污许可证"),
            ("cancel_permit", "注销排污许可证"),
        ]

    def __str__(self) -> str:
        return self.number or f"{self.enterprise.name}（申请中）"

    def get_absolute_url(self) -> str:
        return reverse("permits:permit-detail", args=[self.pk])

    def event_scope(self) -> tuple[str, int | None]:
        return self.enterprise.jurisdiction.path, self.enterprise_id

    @property
    def open_version(self) -> PermitVersion | None:
        """The application in progress, if any."""
        return self.versions.filter(status__in=c.OPEN_VERSION_STATES).order_by("-number").first()


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class PermitVersion(ScopedModel):
    """One application and, once issued, one version of the permit (首次申请、变更、延续、重新申请).

    Frozen once issued (database trigger).
    """

    permit = models.ForeignKey(
        Permit, verbose_name=_("排污许可证"), on_delete=models.CASCADE, related_name="versions"
    )
    number = models.PositiveSmallIntegerField(_("版本号"))
    kind = models.CharField(_("申请类型"), max_length=16, choices=c.VersionKind.choices)
    status = models.CharField(
        _("办理状态"), max_length=16, choices=c.VersionStatus.choices, default=c.VersionStatus.DRAFT
    )
    management_class = models.CharField(
        _("管理类别"), max_length=16, choices=ManagementClass.choices, default=ManagementClass.KEY
    )
    reason = models.TextField(_("申请事由"), blank=True, help_text=_("变更、重新申请时说明变化的事项"))
    fact_date = models.DateField(
        _("变更事项发生日期"), null=True, blank=True, help_text=_("变更须在事项发生之日起30日内申请")
    )
    application_due = models.DateField(_("申请期限"), null=True, blank=True)
    based_on = models.ForeignKey(
        "self", verbose_name=_("基于版本"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("申请人"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("受理时间"), null=True, blank=True)
    approved_at = models.DateTimeField(_("批准时间"), null=True, blank=True)
    issued_at = models.DateTimeField(_("核发时间"), null=True, blank=True)
    valid_from = models.DateField(_("有效期自"), null=True, blank=True)
    valid_until = models.DateField(_("有效期至"), null=True, blank=True)
    opinion = models.TextField(_("审查意见"), blank=True)

    scope_jurisdiction = "permit__enterprise__jurisdiction__path"
    scope_enterprise = "permit__enterprise"

    class Meta:
        verbose_name = _("许可证版本")
        verbose_name_plural = _("许可证版本")
        ordering = ["permit", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["permit", "number"], name="uniq_permit_version_number")
        ]
        permissions = [
            ("submit_permitversion", "提交或撤回排污许可申请"),
            ("accept_permitversion", "受理排污许可申请"),
            ("review_permitversion", "技术审查排污许可申请"),
            ("approve_permitversion", "审批排污许可申请"),
            ("issue_permitversion", "核发排污许可证"),
        ]
        triggers = [
            pgtrigger.Protect(
                name="permitversion_issued_immutable",
                operation=pgtrigger.Update | pgtrigger.Delete,
                condition=pgtrigger.Q(old__status="issued"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.permit} 第{self.number}版（{self.get_kind_display()}）"

    def get_absolute_url(self) -> str:
        return reverse("permits:permitversion-detail", args=[self.pk])

    def event_scope(self) -> tuple[str, int | None]:
        return self.permit.enterprise.jurisdiction.path, self.permit.enterprise_id

    @property
    def is_issued(self) -> bool:
        return self.status == c.VersionStatus.ISSUED

    @property
    def enterprise(self) -> Any:
        return self.permit.enterprise


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class PermitItem(ScopedModel):
    """What the permit allows at one outlet for one pollutant (许可排放限值)."""

    version = models.ForeignKey(
        PermitVersion, verbose_name=_("许可证版本"), on_delete=models.CASCADE, related_name="items"
    )
    outlet = models.ForeignKey(
        "registry.Outlet", verbose_name=_("排放口"), on_delete=models.PROTECT, related_name="+"
    )
    pollutant = models.ForeignKey(
        "registry.Pollutant", verbose_name=_("污染物"), on_delete=models.PROTECT, related_name="+"
    )
    # concentration
    concentration_limit = amount(_("许可排放浓度限值"), digits=12, places=4)
    concentration_unit = models.CharField(_("浓度单位"), max_length=16, blank=True)
    standard_limit = models.ForeignKey(
        "registry.StandardLimit",
        verbose_name=_("依据标准限值"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    standard_name = models.CharField(
        _("执行标准"), max_length=160, blank=True, help_text=_("限值来源的标准编号和名称（核发后保持原文）")
    )
    reference_o2 = models.DecimalField(
        _("基准氧含量(%)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    committed_limit = amount(_("承诺更加严格的浓度限值"), digits=12, places=4)
    rate_limit_kg_per_h = amount(_("许可排放速率(kg/h)"), digits=12, places=4)
    # emission-standard method inputs
    annual_volume_m3 = amount(_("年排水（气）量(m³)"), digits=18, places=2)
    design_flow_m3_per_h = amount(_("设计流量(m³/h)"), digits=14, places=2)
    operating_hours = amount(_("年运行小时数(h)"), digits=8, places=1)
    benchmark_m3_per_unit = amount(_("单位产品基准排水（气）量(m³/t)"), digits=14, places=4)
    annual_output = amount(_("产品年产量(t)"), digits=16, places=2)
    # the figures of the methods and the one chosen
    standard_method_t = amount(_("排放标准法(t/a)"))
    eia_t = amount(_("环评批复(t/a)"))
    total_control_t = amount(_("总量控制指标(t/a)"))
    technology_t = amount(_("技术核定(t/a)"))
    annual_t = amount(_("年许可排放量(t/a)"))
    annual_method = models.CharField(_("取值方法"), max_length=16, choices=c.AnnualMethod.choices, blank=True)
    # daily maximum
    beta = models.DecimalField(
        _("日最大系数β"), max_digits=6, decimal_places=4, null=True, blank=True,
        validators=[MinValueValidator(Decimal("1"))],
        help_text=_("填写后日最大许可排放量 = β × 年许可排放量 / 365"),
    )  # fmt: skip
    daily_max_kg = amount(_("日最大许可排放量(kg/d)"), digits=14, places=2)
    # self-monitoring
    monitoring_mode = models.CharField(
        _("监测方式"), max_length=16, choices=c.MonitoringMode.choices, default=c.MonitoringMode.AUTOMATIC
    )
    monitoring_frequency = models.CharField(
        _("监测频次"), max_length=32, blank=True, help_text=_("如：自动监测、1次/日、1次/季度")
    )
    calculation = models.ForeignKey(
        "LimitCalculation",
        verbose_name=_("限值核定记录"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="items",
    )
    note = models.CharField(_("备注"), max_length=255, blank=True)

    scope_jurisdiction = "version__permit__enterprise__jurisdiction__path"
    scope_enterprise = "version__permit__enterprise"

    class Meta:
        verbose_name = _("许可排放限值")
        verbose_name_plural = _("许可排放限值")
        ordering = ["version", "outlet__code", "pollutant__code"]
        constraints = [
            models.UniqueConstraint(fields=["version", "outlet", "pollutant"], name="uniq_permit_item")
        ]
        triggers = [_frozen_children_trigger("permititem")]

    def __str__(self) -> str:
        return f"{self.outlet.code} {self.pollutant.name}"

    def get_absolute_url(self) -> str:
        return reverse("permits:permitversion-detail", args=[self.version_id]) + f"#item-{self.pk}"

    def event_scope(self) -> tuple[str, int | None]:
        return self.version.event_scope()

    @property
    def method_cells(self) -> list[tuple[Decimal | None, str]]:
        """The figure of each method with the method's key, in display order."""
        return [
            (self.standard_method_t, c.AnnualMethod.STANDARD),
            (self.eia_t, c.AnnualMethod.EIA),
            (self.total_control_t, c.AnnualMethod.TOTAL_CONTROL),
            (self.technology_t, c.AnnualMethod.TECHNOLOGY),
        ]

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        outlet = self.outlet if self.outlet_id else None
        pollutant = self.pollutant if self.pollutant_id else None
        if (
            outlet is not None
            and self.version_id
            and outlet.enterprise_id != self.version.permit.enterprise_id
        ):
            errors["outlet"] = _("排放口「%(o)s」不属于本许可证的排污单位。") % {"o": outlet.code}
        if outlet is not None and pollutant is not None:
            if pollutant.is_flow:
                errors["pollutant"] = _("「%(p)s」是流量参数，不是污染物。") % {"p": pollutant.name}
            elif pollutant.medium in (Medium.WATER, Medium.AIR) and pollutant.medium != outlet.medium:
                errors["pollutant"] = _("%(m)s排放口不能许可%(pm)s污染物「%(p)s」。") % {
                    "m": outlet.get_medium_display(),
                    "pm": pollutant.get_medium_display(),
                    "p": pollutant.name,
                }
        if self.reference_o2 is not None:
            if outlet is not None and outlet.medium != Medium.AIR:
                errors["reference_o2"] = _("基准氧含量只适用于废气排放口。")
            elif not (ZERO <= self.reference_o2 < Decimal("21")):
                errors["reference_o2"] = _("基准氧含量应在0至21%之间。")
        if (
            self.committed_limit is not None
            and self.concentration_limit is not None
            and self.committed_limit > self.concentration_limit
        ):
            errors["committed_limit"] = _("承诺限值（%(a)s）不能高于许可浓度限值（%(b)s）。") % {
                "a": plain_decimal(self.committed_limit),
                "b": plain_decimal(self.concentration_limit),
            }
        if self.standard_limit_id and self.concentration_limit is not None:
            std = self.standard_limit
            if std is not None and self.concentration_limit > std.limit_value:
                errors["concentration_limit"] = _(
                    "许可浓度限值（%(a)s）不得高于所执行标准%(s)s的限值（%(b)s %(u)s）。"
                ) % {
                    "a": plain_decimal(self.concentration_limit),
                    "s": std.standard.code,
                    "b": plain_decimal(std.limit_value),
                    "u": std.unit,
                }
            if std is not None and pollutant is not None and std.pollutant_id != pollutant.pk:
                errors["standard_limit"] = _("所选标准限值不是「%(p)s」的限值。") % {"p": pollutant.name}
        partial = [
            (self.design_flow_m3_per_h, self.operating_hours, "operating_hours", _("已填设计流量，还需年运行小时数。")),
            (self.operating_hours, self.design_flow_m3_per_h, "design_flow_m3_per_h", _("已填年运行小时数，还需设计流量。")),
            (self.benchmark_m3_per_unit, self.annual_output, "annual_output", _("已填基准排水（气）量，还需产品年产量。")),
            (self.annual_output, self.benchmark_m3_per_unit, "benchmark_m3_per_unit", _("已填产品年产量，还需单位产品基准排水（气）量。")),
        ]  # fmt: skip
        for given, missing, name, message in partial:
            if given is not None and missing is None:
                errors.setdefault(name, message)
        if self.operating_hours is not None and self.operating_hours > Decimal("8784"):
            errors["operating_hours"] = _("年运行小时数不能超过8784小时。")
        if errors:
            raise ValidationError(errors)


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class SpecialPeriodLimit(ScopedModel):
    """A limit for a special period: a season (heating season …), a heavy-pollution alert level, or
    a dry / normal / wet season of the receiving water. Outlet empty = the plant total."""

    version = models.ForeignKey(
        PermitVersion, verbose_name=_("许可证版本"), on_delete=models.CASCADE, related_name="special_limits"
    )
    outlet = models.ForeignKey(
        "registry.Outlet", verbose_name=_("排放口"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+", help_text=_("留空表示全厂合计"),
    )  # fmt: skip
    pollutant = models.ForeignKey(
        "registry.Pollutant", verbose_name=_("污染物"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("时段类型"), max_length=16, choices=c.SpecialPeriodKind.choices)
    label = models.CharField(
        _("时段名称"), max_length=64, blank=True, help_text=_("如：采暖季、秋冬季攻坚期")
    )
    alert_level = models.CharField(_("预警级别"), max_length=16, choices=c.AlertLevel.choices, blank=True)
    hydro_period = models.CharField(_("水期"), max_length=16, choices=c.HydroPeriod.choices, blank=True)
    start_md = models.CharField(_("开始（月-日）"), max_length=5, blank=True, help_text=_("如 11-15"))
    end_md = models.CharField(_("结束（月-日）"), max_length=5, blank=True, help_text=_("如 03-15，可跨年"))
    concentration_limit = amount(_("浓度限值"), digits=12, places=4)
    daily_kg = amount(_("日许可排放量(kg/d)"), digits=14, places=2)
    monthly_t = amount(_("月许可排放量(t/月)"), digits=14, places=4)
    note = models.CharField(_("备注"), max_length=255, blank=True)

    scope_jurisdiction = "version__permit__enterprise__jurisdiction__path"
    scope_enterprise = "version__permit__enterprise"

    class Meta:
        verbose_name = _("特殊时段限值")
        verbose_name_plural = _("特殊时段限值")
        ordering = ["version", "kind", "outlet__code", "pollutant__code"]
        triggers = [_frozen_children_trigger("specialperiodlimit")]

    def __str__(self) -> str:
        where = self.outlet.code if self.outlet_id and self.outlet else "全厂"
        return f"{self.period_label} {where} {self.pollutant.name}"

    def get_absolute_url(self) -> str:
        return reverse("permits:permitversion-detail", args=[self.version_id]) + f"#special-{self.pk}"

    def event_scope(self) -> tuple[str, int | None]:
        return self.version.event_scope()

    @property
    def period_label(self) -> str:
        if self.kind == c.SpecialPeriodKind.ALERT:
            return str(self.get_alert_level_display() or self.label)
        if self.kind == c.SpecialPeriodKind.HYDRO:
            base = str(self.get_hydro_period_display() or self.label)
        else:
            base = self.label or str(self.get_kind_display())
        if self.start_md and self.end_md:
            return f"{base}（{self.start_md}至{self.end_md}）"
        return base

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        if self.concentration_limit is None and self.daily_kg is None and self.monthly_t is None:
            errors["__all__"] = _("请至少填写浓度限值、日许可排放量或月许可排放量之一。")
        if self.kind == c.SpecialPeriodKind.ALERT and not self.alert_level:
            errors["alert_level"] = _("重污染天气预警时段须选择预警级别。")
        if self.kind == c.SpecialPeriodKind.HYDRO and not self.hydro_period:
            errors["hydro_period"] = _("丰平枯水期时段须选择水期。")
        if self.kind == c.SpecialPeriodKind.SEASON and not self.label:
            errors["label"] = _("季节性时段须填写时段名称。")
        if self.kind in (c.SpecialPeriodKind.SEASON, c.SpecialPeriodKind.HYDRO):
            for name in ("start_md", "end_md"):
                value = getattr(self, name)
                if not value:
                    errors[name] = _("请填写起止月日（如 11-15）。")
                elif not valid_month_day(value):
                    errors[name] = _("「%(v)s」不是有效的月-日（如 11-15）。") % {"v": value}
        if (
            self.outlet_id
            and self.version_id
            and self.outlet is not None
            and self.outlet.enterprise_id != self.version.permit.enterprise_id
        ):
            errors["outlet"] = _("排放口不属于本许可证的排污单位。")
        if errors:
            raise ValidationError(errors)


def valid_month_day(value: str) -> bool:
    """``MM-DD`` naming a real day of a leap year."""
    import datetime as dt

    try:
        dt.date(2024, int(value[:2]), int(value[3:5]))
    except (ValueError, IndexError):
        return False
    return len(value) == 5 and value[2] == "-"


class ReportRule(ScopedModel):
    """When execution reports are due, per industry and management class (reference data)."""

    industry_prefix = models.CharField(
        _("行业代码前缀"), max_length=8, blank=True, help_text=_("GB/T 4754代码前缀；留空适用于所有行业")
    )
    management_class = models.CharField(_("管理类别"), max_length=16, choices=ManagementClass.choices)
    kind = models.CharField(_("报告类型"), max_length=16, choices=c.ReportKind.choices)
    periods = models.CharField(
        _("需报告的期次"),
        max_length=32,
        blank=True,
        help_text=_("如季报填 1,2,3（第四季度并入年报）；留空为全部"),
    )
    months_after = models.PositiveSmallIntegerField(_("期末后第几个月"), default=1)
    due_day = models.PositiveSmallIntegerField(_("截止日"), default=15, help_text=_("0表示该月最后一天"))
    min_days_held = models.PositiveSmallIntegerField(
        _("最少持证天数"), default=0, help_text=_("持证不足该天数的期次并入下一次报告")
    )
    note = models.CharField(_("依据"), max_length=255, blank=True)

    scope_public = True

    class Meta:
        verbose_name = _("执行报告期限规则")
        verbose_name_plural = _("执行报告期限规则")
        ordering = ["industry_prefix", "management_class", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["industry_prefix", "management_class", "kind"], name="uniq_report_rule"
            )
        ]

    def __str__(self) -> str:
        return f"{self.industry_prefix or '通用'} {self.get_management_class_display()} {self.get_kind_display()}"

    def period_numbers(self) -> set[int] | None:
        if not self.periods.strip():
            return None
        return {int(p) for p in self.periods.replace("，", ",").split(",") if p.strip()}

    def clean(self) -> None:
        try:
            numbers = self.period_numbers()
        except ValueError:
            raise ValidationError({"periods": _("期次应为以逗号分隔的数字，如 1,2,3。")}) from None
        top = c.REPORT_MONTHS[c.ReportKind(self.kind)] if self.kind else 12
        if numbers and any(not (1 <= n <= 12 // top) for n in numbers):
            raise ValidationError(
                {"periods": _("期次超出范围（该报告类型每年%(n)d期）。") % {"n": 12 // top}}
            )
        if self.due_day > 31:
            raise ValidationError({"due_day": _("截止日应在0至31之间。")})


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class ExecutionReport(ScopedModel):
    """An execution report (执行报告) due for one period of a permit."""

    permit = models.ForeignKey(
        Permit, verbose_name=_("排污许可证"), on_delete=models.PROTECT, related_name="reports"
    )
    version = models.ForeignKey(
        PermitVersion, verbose_name=_("执行的许可证版本"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    kind = models.CharField(_("报告类型"), max_length=16, choices=c.ReportKind.choices)
    period_start = models.DateField(_("报告期起"))
    period_end = models.DateField(_("报告期止"))
    due_date = models.DateField(_("提交期限"))
    status = models.CharField(
        _("状态"), max_length=16, choices=c.ReportStatus.choices, default=c.ReportStatus.PENDING
    )
    summary = models.TextField(_("执行情况说明"), blank=True)
    all_compliant = models.BooleanField(_("报告期内全部达标"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    opinion = models.TextField(_("审核意见"), blank=True)

    scope_jurisdiction = "permit__enterprise__jurisdiction__path"
    scope_enterprise = "permit__enterprise"

    class Meta:
        verbose_name = _("执行报告")
        verbose_name_plural = _("执行报告")
        ordering = ["due_date", "permit"]
        constraints = [
            models.UniqueConstraint(fields=["permit", "kind", "period_start"], name="uniq_execution_report")
        ]
        permissions = [
            ("submit_executionreport", "提交执行报告"),
            ("review_executionreport", "审核执行报告"),
        ]

    def __str__(self) -> str:
        return f"{self.permit} {self.get_kind_display()}（{self.period_start:%Y-%m-%d}至{self.period_end:%Y-%m-%d}）"

    def get_absolute_url(self) -> str:
        return reverse("permits:executionreport-detail", args=[self.pk])

    def event_scope(self) -> tuple[str, int | None]:
        return self.permit.event_scope()

    @property
    def is_late(self) -> bool:
        if self.submitted_at is None:
            return False
        from django.utils import timezone

        return timezone.localtime(self.submitted_at).date() > self.due_date


class Reminder(ScopedModel):
    """A reminder raised by the daily job (renewal, change deadline, execution report), once per key."""

    permit = models.ForeignKey(
        Permit, verbose_name=_("排污许可证"), on_delete=models.CASCADE, related_name="reminders"
    )
    kind = models.CharField(_("提醒类型"), max_length=24, choices=c.ReminderKind.choices)
    key = models.CharField(_("去重键"), max_length=64)
    due_date = models.DateField(_("期限"), null=True, blank=True)
    message = models.CharField(_("内容"), max_length=255)
    resolved_at = models.DateTimeField(_("处理时间"), null=True, blank=True)

    scope_jurisdiction = "permit__enterprise__jurisdiction__path"
    scope_enterprise = "permit__enterprise"

    class Meta:
        verbose_name = _("许可提醒")
        verbose_name_plural = _("许可提醒")
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["permit", "key"], name="uniq_permit_reminder")]

    def __str__(self) -> str:
        return self.message

    def get_absolute_url(self) -> str:
        return reverse("permits:permit-detail", args=[self.permit_id]) + "#reminders"

    def event_scope(self) -> tuple[str, int | None]:
        return self.permit.event_scope()


class LimitCalculation(ScopedModel):
    """A saved run of the technology-based limit calculator (seed 004): input, result, who, for what."""

    enterprise = models.ForeignKey(
        "registry.Enterprise", verbose_name=_("排污单位"), on_delete=models.PROTECT, related_name="+"
    )
    outlet = models.ForeignKey(
        "registry.Outlet",
        verbose_name=_("排放口"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    pollutant = models.ForeignKey(
        "registry.Pollutant", verbose_name=_("污染物"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    inputs = models.JSONField(_("输入"))
    result = models.JSONField(_("计算结果"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("核定人"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip

    scope_jurisdiction = "enterprise__jurisdiction__path"
    scope_enterprise = "enterprise"

    class Meta:
        verbose_name = _("限值核定记录")
        verbose_name_plural = _("限值核定记录")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        what = f"{self.outlet.code} {self.pollutant.name}" if self.outlet and self.pollutant else ""
        return f"核定#{self.pk} {self.enterprise.name} {what}".strip()

    def get_absolute_url(self) -> str:
        return reverse("permits:limitcalculation-detail", args=[self.pk])

    def event_scope(self) -> tuple[str, int | None]:
        return self.enterprise.jurisdiction.path, self.enterprise_id
