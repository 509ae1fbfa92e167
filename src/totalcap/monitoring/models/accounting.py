"""Emission accounting: hourly amounts, period totals, their versions, and substitutions.

Nothing here is overwritten silently. ``EmissionHour`` holds the current version of each accounted
hour; every version (the first included) is appended to ``EmissionHourLog`` with the change against
the previous one, which is also the feed the quota ledger reads. Totals work the same way with
``EmissionTotal`` and ``EmissionTotalRevision``.
"""

from __future__ import annotations

from typing import Any

import pgtrigger
from django.db import models
from django.utils.translation import gettext_lazy as _

from totalcap.monitoring.choices import Method, Period, ValueStatus
from totalcap.monitoring.models.samples import ScopedManager
from totalcap.monitoring.models.values import OutletScoped


def kg_field(label: str, **kwargs: Any) -> models.DecimalField:
    """An amount in kg, kept at full precision (9 decimals)."""
    return models.DecimalField(_(label), max_digits=30, decimal_places=9, **kwargs)


#: Methods that carry an amount, each with a ``kg_<method>`` and an ``hours_<method>`` column on totals.
METHOD_COLUMNS = (
    Method.AUTO_VALID,
    Method.AUTO_SUBSTITUTED,
    Method.MANUAL,
    Method.MATERIAL_BALANCE,
    Method.EMISSION_FACTOR,
    Method.PENALISED,
)


class EmissionHour(OutletScoped, models.Model):
    """The accounted amount of one pollutant of one outlet in one hour (current version)."""

    pk = models.CompositePrimaryKey("outlet_id", "pollutant", "data_time")
    outlet = models.ForeignKey(
        "registry.Outlet",
        verbose_name=_("排放口"),
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    pollutant = models.CharField(_("污染物"), max_length=16)
    data_time = models.DateTimeField(_("小时"))
    version = models.IntegerField(_("版本"))
    kg = kg_field("排放量(kg)")
    method = models.CharField(_("核算方法"), max_length=20, choices=Method.choices)
    hour_status = models.CharField(_("监测有效性"), max_length=1, choices=ValueStatus.choices, blank=True)
    concentration = models.DecimalField(_("核算浓度"), max_digits=20, decimal_places=6, null=True)
    volume_m3 = models.DecimalField(_("核算水量/气量(m³)"), max_digits=24, decimal_places=6, null=True)
    capture_rate = models.DecimalField(_("有效数据捕集率"), max_digits=7, decimal_places=4, null=True)
    substitution_id = models.BigIntegerField(_("修约记录ID"), null=True)
    manual_id = models.BigIntegerField(_("手工监测记录ID"), null=True)
    log_id = models.BigIntegerField(_("版本记录ID"))
    accounted_at = models.DateTimeField(_("核算时间"))

    objects = ScopedManager()

    class Meta:
        managed = False
        db_table = "monitoring_emission_hour"
        verbose_name = _("小时排放量")
        verbose_name_plural = _("小时排放量")
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"{self.outlet_id} {self.pollutant} {self.data_time:%Y-%m-%d %H:00} v{self.version}"


class EmissionHourLog(OutletScoped, models.Model):
    """Every version of every accounted hour, append-only; ``delta_kg`` is the change it brings.

    Ids are assigned under the pipeline's transaction lock, so they increase in commit order and a
    consumer (the quota ledger) can read "everything after the id I last posted".
    """

    outlet = models.ForeignKey(
        "registry.Outlet",
        verbose_name=_("排放口"),
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    pollutant = models.CharField(_("污染物"), max_length=16)
    data_time = models.DateTimeField(_("小时"))
    version = models.IntegerField(_("版本"))
    kg = kg_field("排放量(kg)")
    delta_kg = kg_field("变化量(kg)")
    method = models.CharField(_("核算方法"), max_length=20, choices=Method.choices)
    hour_status = models.CharField(_("监测有效性"), max_length=1, choices=ValueStatus.choices, blank=True)
    previous = models.JSONField(_("上一版本"), null=True)
    diff = models.JSONField(_("差异"), null=True)
    cause = models.CharField(_("原因"), max_length=128, blank=True)
    created_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        db_table = "monitoring_emission_hour_log"
        verbose_name = _("小时排放量版本")
        verbose_name_plural = _("小时排放量版本")
        default_permissions = ("view",)
        ordering = ["id"]
        indexes = [
            models.Index(fields=["outlet", "pollutant", "data_time"], name="emission_log_hour_idx"),
        ]
        triggers = [pgtrigger.Protect(name="emission_hour_log_no_update", operation=pgtrigger.Update)]

    def __str__(self) -> str:
        return f"#{self.pk} {self.pollutant} {self.data_time:%Y-%m-%d %H:00} v{self.version}"


class EmissionTotal(OutletScoped, models.Model):
    """The accounted total of one pollutant of one outlet for a day, month or year (current version)."""

    outlet = models.ForeignKey(
        "registry.Outlet", verbose_name=_("排放口"), on_delete=models.CASCADE, related_name="+"
    )
    pollutant = models.CharField(_("污染物"), max_length=16)
    period = models.CharField(_("周期"), max_length=8, choices=Period.choices)
    period_start = models.DateField(_("起始日期"))
    version = models.IntegerField(_("版本"), default=1)
    kg = kg_field("排放量(kg)")
    method = models.CharField(_("主要核算方法"), max_length=20, choices=Method.choices)
    kg_auto_valid = kg_field("自动监测有效数据排放量(kg)", default=0)
    kg_auto_substituted = kg_field("修约替代排放量(kg)", default=0)
    kg_manual = kg_field("手工监测排放量(kg)", default=0)
    kg_material_balance = kg_field("物料衡算排放量(kg)", default=0)
    kg_emission_factor = kg_field("排放系数排放量(kg)", default=0)
    kg_penalised = kg_field("按直排核算排放量(kg)", default=0)
    hours_expected = models.IntegerField(_("小时数"), default=0)
    hours_auto_valid = models.IntegerField(_("自动监测有效小时"), default=0)
    hours_auto_substituted = models.IntegerField(_("修约替代小时"), default=0)
    hours_manual = models.IntegerField(_("手工监测小时"), default=0)
    hours_material_balance = models.IntegerField(_("物料衡算小时"), default=0)
    hours_emission_factor = models.IntegerField(_("排放系数小时"), default=0)
    hours_penalised = models.IntegerField(_("按直排核算小时"), default=0)
    hours_stopped = models.IntegerField(_("停运小时"), default=0)
    hours_unaccounted = models.IntegerField(_("无法核算小时"), default=0)
    status_valid = models.IntegerField(_("监测有效小时"), default=0)
    status_stopped = models.IntegerField(_("监测停运小时"), default=0)
    status_process = models.IntegerField(_("工况过程小时"), default=0)
    status_invalid = models.IntegerField(_("监测无效小时"), default=0)
    status_missing = models.IntegerField(_("监测缺失小时"), default=0)
    capture_rate = models.DecimalField(_("有效数据捕集率"), max_digits=7, decimal_places=4, null=True)
    computed_at = models.DateTimeField(_("计算时间"))

    objects = ScopedManager()

    class Meta:
        db_table = "monitoring_emission_total"
        verbose_name = _("排放量核算")
        verbose_name_plural = _("排放量核算")
        default_permissions = ("view",)
        ordering = ["-period_start", "outlet", "pollutant"]
        constraints = [
            models.UniqueConstraint(
                fields=["outlet", "pollutant", "period", "period_start"], name="uniq_emission_total"
            )
        ]
        indexes = [models.Index(fields=["period", "period_start"], name="emission_total_period_idx")]

    def __str__(self) -> str:
        return f"{self.outlet_id} {self.pollutant} {self.get_period_display()} {self.period_start}"

    @property
    def kg_by_method(self) -> dict[str, object]:
        """Amount per method (kg), methods with an amount only."""
        result: dict[str, object] = {}
        for method in METHOD_COLUMNS:
            value = getattr(self, f"kg_{method}")
            if value:
                result[method] = value
        return result


class EmissionTotalRevision(OutletScoped, models.Model):
    """One version of a total with its difference against the previous version (append-only)."""

    total = models.ForeignKey(
        EmissionTotal, verbose_name=_("核算记录"), on_delete=models.CASCADE, related_name="revisions"
    )
    outlet = models.ForeignKey(
        "registry.Outlet", verbose_name=_("排放口"), on_delete=models.CASCADE, related_name="+"
    )
    version = models.IntegerField(_("版本"))
    kg = kg_field("排放量(kg)")
    snapshot = models.JSONField(_("本版本内容"))
    diff = models.JSONField(_("与上一版本的差异"), default=dict)
    cause = models.CharField(_("原因"), max_length=128, blank=True)
    created_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        db_table = "monitoring_emission_total_revision"
        verbose_name = _("排放量核算版本")
        verbose_name_plural = _("排放量核算版本")
        default_permissions = ("view",)
        ordering = ["total", "version"]
        constraints = [models.UniqueConstraint(fields=["total", "version"], name="uniq_total_revision")]
        triggers = [pgtrigger.Protect(name="emission_total_revision_no_update", operation=pgtrigger.Update)]

    def __str__(self) -> str:
        return f"{self.total_id} v{self.version}"


class Substitution(OutletScoped, models.Model):
    """A substituted (修约) value: the rule, its inputs and the original it replaces."""

    outlet = models.ForeignKey(
        "registry.Outlet", verbose_name=_("排放口"), on_delete=models.CASCADE, related_name="+"
    )
    pollutant = models.CharField(_("污染物"), max_length=16)
    data_time = models.DateTimeField(_("小时"))
    ruleset = models.ForeignKey(
        "monitoring.RuleSet", verbose_name=_("规则集"), on_delete=models.PROTECT, related_name="+"
    )
    rule_code = models.CharField(_("适用规则"), max_length=48)
    situation = models.CharField(_("情形"), max_length=32)
    inputs = models.JSONField(_("输入"))
    original = models.JSONField(_("原始值"))
    kg = kg_field("替代排放量(kg)")
    concentration = models.DecimalField(_("替代浓度"), max_digits=20, decimal_places=6, null=True)
    volume_m3 = models.DecimalField(_("替代水量/气量(m³)"), max_digits=24, decimal_places=6, null=True)
    created_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        db_table = "monitoring_substitution"
        verbose_name = _("修约替代记录")
        verbose_name_plural = _("修约替代记录")
        default_permissions = ("view",)
        ordering = ["-data_time"]
        indexes = [models.Index(fields=["outlet", "pollutant", "data_time"], name="substitution_hour_idx")]
        triggers = [pgtrigger.Protect(name="substitution_no_update", operation=pgtrigger.Update)]

    def __str__(self) -> str:
        return f"{self.pollutant} {self.data_time:%Y-%m-%d %H:00} {self.rule_code}"
