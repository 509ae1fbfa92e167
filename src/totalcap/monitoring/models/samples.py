"""Monitoring data as reported: samples, device states, and the pipeline's bookkeeping.

``Sample`` is the store the gateway writes: one row per (logger, kind, pollutant, data time) with the
values exactly as the logger reported them. It is a native PostgreSQL table partitioned by kind (LIST)
and then by Beijing-time month (RANGE), created by migration SQL (the model is unmanaged). The
primary key is the de-duplication key: a re-sent or re-uploaded value is stored once. A
statement-level trigger marks the hours a write touches as "dirty" so the pipeline recomputes them.

``DeviceState`` holds point observations of instrument, logger and facility states (HJ 212 3020
site information such as ``i12001``, 2021 facility run states ``SBxxx-RS``); intervals are derived
at read time (:mod:`totalcap.monitoring.services.states`).
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from totalcap.base.scope import ScopedModelMixin, ScopedQuerySet
from totalcap.monitoring.choices import SampleKind, StateSource

ScopedManager = models.Manager.from_queryset(ScopedQuerySet)


class Sample(ScopedModelMixin, models.Model):
    """One reported value (or interval aggregate) of one pollutant from one logger."""

    pk = models.CompositePrimaryKey("logger_id", "kind", "pollutant", "data_time")
    logger = models.ForeignKey(
        "registry.DataLogger",
        verbose_name=_("数采仪"),
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    outlet = models.ForeignKey(
        "registry.Outlet",
        verbose_name=_("排放口"),
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    kind = models.CharField(_("数据类型"), max_length=1, choices=SampleKind.choices)
    pollutant = models.CharField(_("污染物编码"), max_length=16)
    data_time = models.DateTimeField(_("数据时间"))
    value = models.DecimalField(_("值（实时值/均值）"), max_digits=20, decimal_places=6, null=True)
    min = models.DecimalField(_("最小值"), max_digits=20, decimal_places=6, null=True)
    max = models.DecimalField(_("最大值"), max_digits=20, decimal_places=6, null=True)
    cou = models.DecimalField(_("累计值"), max_digits=24, decimal_places=6, null=True)
    zs_value = models.DecimalField(_("折算值"), max_digits=20, decimal_places=6, null=True)
    zs_min = models.DecimalField(_("折算最小值"), max_digits=20, decimal_places=6, null=True)
    zs_max = models.DecimalField(_("折算最大值"), max_digits=20, decimal_places=6, null=True)
    flag = models.CharField(_("数据标记"), max_length=4, blank=True)
    eflag = models.CharField(_("扩展标记"), max_length=8, blank=True)
    sample_time = models.DateTimeField(_("采样时间"), null=True)
    extra = models.JSONField(_("其他字段"), null=True)
    frame_id = models.BigIntegerField(_("原始报文ID"), null=True)
    received_at = models.DateTimeField(_("接收时间"))

    objects = ScopedManager()

    scope_jurisdiction = "outlet__enterprise__jurisdiction__path"
    scope_enterprise = "outlet__enterprise"
    scope_logger = "logger"

    class Meta:
        managed = False
        db_table = "monitoring_sample"
        verbose_name = _("监测数据")
        verbose_name_plural = _("监测数据")
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"{self.logger_id} {self.kind} {self.pollutant} {self.data_time:%Y-%m-%d %H:%M:%S}"


KIND_TABLES = {kind.value: f"monitoring_sample_{kind.value}" for kind in SampleKind}


class DeviceState(ScopedModelMixin, models.Model):
    """One observation of a state code of an instrument, the logger or a treatment facility.

    The gateway inserts one row per reported item (``INSERT … ON CONFLICT DO NOTHING``):
    ``code`` is the HJ 212 item (``i12001`` instrument working state, ``i12002`` analyser
    communication, ``i22001`` logger state, ``SB1-RS`` facility run state …), ``value`` its raw
    value, ``pollutant`` the ``PolId`` of the instrument (empty for the logger or a facility),
    ``observed_at`` the ``DataTime`` of the frame. A state holds from its observation until the next
    observation of the same (logger, pollutant, code), at most ``device_state_hold_minutes`` of the
    validity rule set.
    """

    logger = models.ForeignKey(
        "registry.DataLogger", verbose_name=_("数采仪"), on_delete=models.CASCADE, related_name="+"
    )
    outlet = models.ForeignKey(
        "registry.Outlet", verbose_name=_("排放口"), on_delete=models.CASCADE, related_name="+"
    )
    pollutant = models.CharField(
        _("监测因子"), max_length=16, blank=True, help_text=_("PolId；数采仪或设施为空")
    )
    code = models.CharField(_("状态编码"), max_length=24, help_text=_("如 i12001、i22001、SB1-RS"))
    value = models.CharField(_("状态值"), max_length=32)
    observed_at = models.DateTimeField(_("观测时间"))
    source = models.CharField(
        _("来源"), max_length=8, choices=StateSource.choices, default=StateSource.SITE_INFO
    )
    frame_id = models.BigIntegerField(_("原始报文ID"), null=True, blank=True)
    received_at = models.DateTimeField(_("接收时间"), auto_now_add=True)

    objects = ScopedManager()

    scope_jurisdiction = "outlet__enterprise__jurisdiction__path"
    scope_enterprise = "outlet__enterprise"
    scope_logger = "logger"

    class Meta:
        db_table = "monitoring_device_state"
        verbose_name = _("设备状态")
        verbose_name_plural = _("设备状态")
        default_permissions = ("view",)
        ordering = ["logger", "observed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["logger", "pollutant", "code", "observed_at"], name="uniq_device_state_observation"
            )
        ]
        indexes = [models.Index(fields=["outlet", "observed_at"], name="device_state_outlet_time")]

    def __str__(self) -> str:
        return f"{self.code}={self.value} @ {self.observed_at:%Y-%m-%d %H:%M}"

    def get_absolute_url(self) -> str:
        return reverse("monitoring:devicestate-detail", args=[self.pk])

    def event_scope(self) -> tuple[str, int | None]:
        return self.outlet.enterprise.jurisdiction.path, self.outlet.enterprise_id


class PipelineCursor(models.Model):
    """How far the pipeline has settled (computed and accounted) each outlet's hours."""

    outlet = models.OneToOneField(
        "registry.Outlet",
        verbose_name=_("排放口"),
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="+",
    )
    settled_until = models.DateTimeField(_("已核算至"))
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        db_table = "monitoring_cursor"
        verbose_name = _("核算进度")
        verbose_name_plural = _("核算进度")
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.outlet_id} → {self.settled_until:%Y-%m-%d %H:%M}"


def outlet_event_scope(obj: Any) -> tuple[str, int | None]:
    """``event_scope`` of a row that belongs to an outlet."""
    outlet = obj.outlet
    return outlet.enterprise.jurisdiction.path, outlet.enterprise_id
