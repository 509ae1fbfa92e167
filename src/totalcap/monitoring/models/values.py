"""The platform's own hourly, daily and monthly values, recomputed from the level below.

``HourValue`` is a native partitioned table (RANGE by Beijing month, created by migration SQL) because
it has one row per (outlet, parameter, hour); days and months are ordinary tables. Each row keeps
the platform's recomputation *and* the logger's own aggregate of the same interval (2061 / 2031),
with a ``mismatch`` flag when they disagree beyond the rule set's tolerance.
"""

from __future__ import annotations

from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from totalcap.base.scope import ScopedModelMixin
from totalcap.monitoring.choices import HOUR_LABELS, ValueSource, ValueStatus, ZsStatus
from totalcap.monitoring.models.samples import ScopedManager, outlet_event_scope


def _dec(label: str, digits: int = 20, places: int = 6) -> models.DecimalField:
    return models.DecimalField(_(label), max_digits=digits, decimal_places=places, null=True, blank=True)


KG = {"digits": 30, "places": 9}


class OutletScoped(ScopedModelMixin):
    """Scope declarations of rows that belong to an outlet."""

    scope_jurisdiction = "outlet__enterprise__jurisdiction__path"
    scope_enterprise = "outlet__enterprise"
    scope_logger = "outlet__loggers"

    def event_scope(self) -> tuple[str, int | None]:
        return outlet_event_scope(self)

    def get_absolute_url(self) -> str:
        opts = self._meta  # type: ignore[attr-defined]
        return reverse(f"{opts.app_label}:{opts.model_name}-detail", args=[self.pk])  # type: ignore[attr-defined]


class HourValue(OutletScoped, models.Model):
    """One hour of one parameter of one outlet, as the platform computes it."""

    pk = models.CompositePrimaryKey("outlet_id", "pollutant", "data_time")
    outlet = models.ForeignKey(
        "registry.Outlet",
        verbose_name=_("排放口"),
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    pollutant = models.CharField(_("监测因子"), max_length=16)
    data_time = models.DateTimeField(_("小时"))
    logger_id = models.BigIntegerField(_("数采仪ID"), null=True)
    source = models.CharField(_("来源"), max_length=1, choices=ValueSource.choices)
    n_records = models.SmallIntegerField(_("分钟记录数"), default=0)
    n_valid = models.SmallIntegerField(_("有效分钟记录数"), default=0)
    valid_minutes = models.SmallIntegerField(_("有效分钟数"), default=0)
    stopped_minutes = models.SmallIntegerField(_("停运分钟数"), default=0)
    process_minutes = models.SmallIntegerField(_("工况过程分钟数"), default=0)
    n_negative = models.SmallIntegerField(_("负值个数"), default=0)
    flag_counts = models.JSONField(_("标记统计"), null=True)
    status = models.CharField(_("有效性"), max_length=1, choices=ValueStatus.choices)
    label = models.CharField(_("小时标记"), max_length=4, choices=list(HOUR_LABELS.items()))
    agg_flag = models.CharField(_("汇总数据标记"), max_length=4, blank=True)
    value = _dec("浓度/均值（实测，干基）")
    min = _dec("最小值")
    max = _dec("最大值")
    raw_mean = _dec("全部原始值均值（含无效）")
    weighting = models.CharField(_("均值方式"), max_length=8, blank=True)
    volume_m3 = _dec("小时排放量（体积，m³）", 24, 6)
    amount_kg = _dec("小时排放量（kg）", **KG)
    moisture = _dec("烟气湿度（体积分数）", 8, 5)
    o2 = _dec("氧含量(%)", 8, 3)
    o2_ref = _dec("基准氧含量(%)", 6, 2)
    zs_factor = _dec("折算系数", 14, 6)
    zs_value = _dec("折算浓度")
    zs_status = models.CharField(_("折算状态"), max_length=12, choices=ZsStatus.choices, blank=True)
    limit_value = _dec("限值", 12, 4)
    over_limit = models.BooleanField(_("超标"), default=False)
    logger_value = _dec("数采仪均值")
    logger_min = _dec("数采仪最小值")
    logger_max = _dec("数采仪最大值")
    logger_cou = _dec("数采仪累计值", 24, 6)
    logger_flag = models.CharField(_("数采仪标记"), max_length=4, blank=True)
    logger_frame_id = models.BigIntegerField(_("数采仪小时报文ID"), null=True)
    mismatch = models.BooleanField(_("与数采仪不一致"), default=False)
    mismatch_detail = models.JSONField(_("不一致详情"), null=True)
    rt_checked = models.SmallIntegerField(_("实时值比对分钟数"), default=0)
    rt_mismatch = models.SmallIntegerField(_("实时值不一致分钟数"), default=0)
    review_id = models.BigIntegerField(_("复核记录ID"), null=True)
    rules_id = models.BigIntegerField(_("规则集ID"), null=True)
    computed_at = models.DateTimeField(_("计算时间"))

    objects = ScopedManager()

    class Meta:
        managed = False
        db_table = "monitoring_hour"
        verbose_name = _("小时数据（平台重算）")
        verbose_name_plural = _("小时数据（平台重算）")
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"{self.outlet_id} {self.pollutant} {self.data_time:%Y-%m-%d %H:00}"

    @property
    def weighting_display(self) -> str:
        return WEIGHTINGS.get(self.weighting, self.weighting)


WEIGHTINGS = {
    "flow": "流量加权",
    "arith": "算术平均",
    "logger": "数采仪小时值",
    "review": "复核修正值",
    "no+no2": "由NO和NO2折算",
}


class DayValue(OutletScoped, models.Model):
    """One Beijing day of one parameter of one outlet (valid with at least N valid hours)."""

    outlet = models.ForeignKey(
        "registry.Outlet", verbose_name=_("排放口"), on_delete=models.CASCADE, related_name="+"
    )
    pollutant = models.CharField(_("监测因子"), max_length=16)
    day = models.DateField(_("日期"))
    hours_expected = models.SmallIntegerField(_("应有小时数"), default=24)
    hours_received = models.SmallIntegerField(_("收到小时数"), default=0)
    hours_valid = models.SmallIntegerField(_("有效小时数"), default=0)
    hours_stopped = models.SmallIntegerField(_("停运小时数"), default=0)
    hours_process = models.SmallIntegerField(_("工况过程小时数"), default=0)
    hours_invalid = models.SmallIntegerField(_("无效小时数"), default=0)
    hours_missing = models.SmallIntegerField(_("缺失小时数"), default=0)
    status = models.CharField(_("有效性"), max_length=1, choices=ValueStatus.choices)
    agg_flag = models.CharField(_("汇总数据标记"), max_length=4, blank=True)
    value = _dec("日均值（实测）")
    min = _dec("最小小时值")
    max = _dec("最大小时值")
    zs_value = _dec("折算日均值")
    volume_m3 = _dec("日排放量（体积，m³）", 24, 6)
    amount_kg = _dec("有效小时排放量合计（kg）", **KG)
    over_limit = models.BooleanField(_("日均值超标"), default=False)
    logger_value = _dec("数采仪日均值")
    logger_cou = _dec("数采仪日累计值", 24, 6)
    logger_flag = models.CharField(_("数采仪标记"), max_length=4, blank=True)
    mismatch = models.BooleanField(_("与数采仪不一致"), default=False)
    computed_at = models.DateTimeField(_("计算时间"))

    objects = ScopedManager()

    class Meta:
        db_table = "monitoring_day"
        verbose_name = _("日数据（平台重算）")
        verbose_name_plural = _("日数据（平台重算）")
        default_permissions = ("view",)
        ordering = ["-day", "outlet", "pollutant"]
        constraints = [models.UniqueConstraint(fields=["outlet", "pollutant", "day"], name="uniq_day_value")]

    def __str__(self) -> str:
        return f"{self.outlet_id} {self.pollutant} {self.day}"


class MonthValue(OutletScoped, models.Model):
    """One Beijing month of one parameter (valid with at least 25 valid days, 23 in February)."""

    outlet = models.ForeignKey(
        "registry.Outlet", verbose_name=_("排放口"), on_delete=models.CASCADE, related_name="+"
    )
    pollutant = models.CharField(_("监测因子"), max_length=16)
    month = models.DateField(_("月份"))
    days_expected = models.SmallIntegerField(_("应有天数"), default=0)
    days_valid = models.SmallIntegerField(_("有效天数"), default=0)
    days_stopped = models.SmallIntegerField(_("停运天数"), default=0)
    hours_valid = models.IntegerField(_("有效小时数"), default=0)
    hours_received = models.IntegerField(_("收到小时数"), default=0)
    hours_expected = models.IntegerField(_("应有小时数"), default=0)
    status = models.CharField(_("有效性"), max_length=1, choices=ValueStatus.choices)
    value = _dec("月均值（实测）")
    zs_value = _dec("折算月均值")
    volume_m3 = _dec("月排放量（体积，m³）", 24, 6)
    amount_kg = _dec("有效小时排放量合计（kg）", **KG)
    computed_at = models.DateTimeField(_("计算时间"))

    objects = ScopedManager()

    class Meta:
        db_table = "monitoring_month"
        verbose_name = _("月数据（平台重算）")
        verbose_name_plural = _("月数据（平台重算）")
        default_permissions = ("view",)
        ordering = ["-month", "outlet", "pollutant"]
        constraints = [
            models.UniqueConstraint(fields=["outlet", "pollutant", "month"], name="uniq_month_value")
        ]

    def __str__(self) -> str:
        return f"{self.outlet_id} {self.pollutant} {self.month:%Y-%m}"
