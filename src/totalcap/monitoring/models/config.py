"""Rule sets (versioned reference data) and per-outlet monitoring and accounting settings."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pghistory
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from totalcap.base.models import ScopedModel
from totalcap.monitoring.choices import ConcentrationBasis, FlowBasis, RuleKind, RuleMedium
from totalcap.monitoring.models.samples import outlet_event_scope

MINUTE_INTERVALS = (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30)


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class RuleSet(ScopedModel):
    """One version of a rule set. Versions are immutable once created: a change is a new version,
    so every computed value can name the exact rules it was computed with."""

    kind = models.CharField(_("规则类型"), max_length=16, choices=RuleKind.choices)
    code = models.CharField(_("规则编码"), max_length=48)
    version = models.PositiveIntegerField(_("版本"), default=1)
    name = models.CharField(_("名称"), max_length=128)
    medium = models.CharField(_("介质"), max_length=8, choices=RuleMedium.choices)
    params = models.JSONField(_("参数"), default=dict)
    is_default = models.BooleanField(
        _("该介质的默认规则"), default=False, help_text=_("排放口未指定规则时使用")
    )
    source = models.CharField(_("依据"), max_length=255, blank=True)
    note = models.TextField(_("说明"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    scope_public = True

    class Meta:
        db_table = "monitoring_ruleset"
        verbose_name = _("规则集")
        verbose_name_plural = _("规则集")
        ordering = ["kind", "medium", "code", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "code", "version"], name="uniq_ruleset_version")
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.code} v{self.version}）"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class OutletMonitoringConfig(ScopedModel):
    """How an outlet's data are to be read: rule sets, minute interval, measurement bases, ranges."""

    outlet = models.OneToOneField(
        "registry.Outlet",
        verbose_name=_("排放口"),
        on_delete=models.CASCADE,
        related_name="monitoring_config",
    )
    validity_rules = models.ForeignKey(
        RuleSet,
        verbose_name=_("有效性规则"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"kind": RuleKind.VALIDITY},
        help_text=_("留空则使用该介质的默认规则"),
    )
    substitution_rules = models.ForeignKey(
        RuleSet,
        verbose_name=_("修约替代规则"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"kind": RuleKind.SUBSTITUTION},
    )
    screening_rules = models.ForeignKey(
        RuleSet,
        verbose_name=_("异常筛查阈值"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"kind": RuleKind.SCREENING},
    )
    minute_interval = models.PositiveSmallIntegerField(
        _("分钟数据间隔(分钟)"),
        default=1,
        choices=[(m, f"{m}") for m in MINUTE_INTERVALS],
        help_text=_("HJ 212 MinInterval；每条分钟数据代表的分钟数"),
    )
    concentration_basis = models.CharField(
        _("浓度基准"), max_length=8, choices=ConcentrationBasis.choices, default=ConcentrationBasis.DRY
    )
    flow_basis = models.CharField(
        _("流量基准"), max_length=16, choices=FlowBasis.choices, default=FlowBasis.STANDARD_DRY
    )
    reference_o2 = models.DecimalField(
        _("基准氧含量(%)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("20.99"))],
        help_text=_("留空则取执行标准中的基准氧含量"),
    )
    atmospheric_kpa = models.DecimalField(
        _("大气压(kPa)"),
        max_digits=7,
        decimal_places=3,
        default=Decimal("101.325"),
        help_text=_("工况流量换算标干流量时使用（无大气压监测时）"),
    )
    measuring_ranges = models.JSONField(
        _("量程"), default=dict, blank=True, help_text=_('如 {"a21026": [0, 500]}，用于超量程和恒值筛查')
    )
    ppm_pollutants = models.JSONField(
        _("以ppm上报的因子"),
        default=list,
        blank=True,
        help_text=_('如 ["a21026"]，平台按 M/22.414 换算为 mg/m³'),
    )
    note = models.CharField(_("备注"), max_length=255, blank=True)

    scope_jurisdiction = "outlet__enterprise__jurisdiction__path"
    scope_enterprise = "outlet__enterprise"

    class Meta:
        db_table = "monitoring_outlet_config"
        verbose_name = _("排放口监测设置")
        verbose_name_plural = _("排放口监测设置")
        ordering = ["outlet"]

    def __str__(self) -> str:
        return str(self.outlet)

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        if not isinstance(self.measuring_ranges, dict):
            errors["measuring_ranges"] = _('量程应为对象，如 {"a21026": [0, 500]}。')
        else:
            for code, pair in self.measuring_ranges.items():
                if not (isinstance(pair, list | tuple) and len(pair) == 2):
                    errors["measuring_ranges"] = _("因子「%(c)s」的量程应为 [下限, 上限]。") % {"c": code}
                    break
                try:
                    low, high = Decimal(str(pair[0])), Decimal(str(pair[1]))
                except Exception:
                    errors["measuring_ranges"] = _("因子「%(c)s」的量程不是数字。") % {"c": code}
                    break
                if high <= low:
                    errors["measuring_ranges"] = _("因子「%(c)s」的量程上限应大于下限。") % {"c": code}
                    break
        if not isinstance(self.ppm_pollutants, list) or not all(
            isinstance(x, str) for x in self.ppm_pollutants
        ):
            errors["ppm_pollutants"] = _('应为因子编码列表，如 ["a21026"]。')
        for name, kind in (
            ("validity_rules", RuleKind.VALIDITY),
            ("substitution_rules", RuleKind.SUBSTITUTION),
            ("screening_rules", RuleKind.SCREENING),
        ):
            rules = getattr(self, name)
            if rules is not None and rules.kind != kind:
                errors[name] = _("规则类型不符。")
            elif rules is not None and self.outlet_id and rules.medium != self.outlet.medium:
                errors[name] = _("规则适用介质与排放口类型不符。")
        if errors:
            raise ValidationError(errors)

    def event_scope(self) -> tuple[str, int | None]:
        return outlet_event_scope(self)


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class AccountingPlan(ScopedModel):
    """How one pollutant of one outlet is accounted when automatic data are not available.

    Without a plan, a total-control pollutant monitored by the outlet's logger is accounted from
    automatic data with the default priority; a plan adds the permit's requirement and the rates of
    the fall-back methods (material balance, emission factor, penalised untreated discharge).
    """

    outlet = models.ForeignKey(
        "registry.Outlet", verbose_name=_("排放口"), on_delete=models.CASCADE, related_name="accounting_plans"
    )
    pollutant = models.ForeignKey(
        "registry.Pollutant",
        verbose_name=_("污染物"),
        to_field="code",
        db_column="pollutant",
        on_delete=models.PROTECT,
        related_name="+",
    )
    automatic_required = models.BooleanField(
        _("许可要求自动监测"), default=True, help_text=_("要求自动监测但未安装时按直排核算")
    )
    manual_validity_days = models.PositiveSmallIntegerField(
        _("手工监测结果代表天数"), default=31, help_text=_("未填写代表时段时，一次手工监测结果代表的天数")
    )
    material_balance_kg_h = models.DecimalField(
        _("物料衡算排放速率(kg/h)"), max_digits=18, decimal_places=6, null=True, blank=True
    )
    emission_factor_kg_h = models.DecimalField(
        _("排放系数法排放速率(kg/h)"), max_digits=18, decimal_places=6, null=True, blank=True
    )
    untreated_kg_h = models.DecimalField(
        _("产污系数直排速率(kg/h)"),
        max_digits=18,
        decimal_places=6,
        null=True,
        blank=True,
        help_text=_("按直排核算时使用的产污量速率（无去除效率）"),
    )
    manual_before_substitution = models.BooleanField(
        _("手工监测优先于修约替代"), default=False, help_text=_("HJ 75 允许CEMS维修期间以参比方法数据替代")
    )
    take_larger = models.BooleanField(
        _("多种方法取大"), default=False, help_text=_("有多种可用方法时取核算量较大者（总量管理要求时）")
    )
    note = models.CharField(_("备注"), max_length=255, blank=True)

    scope_jurisdiction = "outlet__enterprise__jurisdiction__path"
    scope_enterprise = "outlet__enterprise"

    class Meta:
        db_table = "monitoring_accounting_plan"
        verbose_name = _("核算方案")
        verbose_name_plural = _("核算方案")
        ordering = ["outlet", "pollutant"]
        constraints = [models.UniqueConstraint(fields=["outlet", "pollutant"], name="uniq_accounting_plan")]

    def __str__(self) -> str:
        return f"{self.outlet} {self.pollutant_id}"

    def clean(self) -> None:
        for name in ("material_balance_kg_h", "emission_factor_kg_h", "untreated_kg_h"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValidationError({name: _("排放速率不能为负数。")})

    def event_scope(self) -> tuple[str, int | None]:
        return outlet_event_scope(self)
