"""Ingest: raw frames, live logger sessions, reverse-control commands, site information, gateway
metrics snapshots.

``RawFrame`` is a native PostgreSQL table partitioned by Beijing month of ``received_at`` (created
by migration SQL, the model is unmanaged), append-only (a trigger refuses UPDATE and DELETE; old
months are dropped whole by retention). Every frame the gateway receives is stored there, whatever
its status, and so is every frame it sends.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from totalcap.base.scope import ScopedModelMixin, ScopedQuerySet
from totalcap.ingest import choices as ch

ScopedManager = models.Manager.from_queryset(ScopedQuerySet)


def _logger_scope(obj: Any) -> tuple[str, int | None]:
    logger = obj.logger
    if logger is None:
        return "", None
    return logger.outlet.enterprise.jurisdiction.path, logger.outlet.enterprise_id


class RawFrame(ScopedModelMixin, models.Model):
    """One frame as received (or sent), byte for byte, with what the gateway made of it."""

    id = models.BigIntegerField(primary_key=True)
    received_at = models.DateTimeField(_("时间"))
    direction = models.CharField(_("方向"), max_length=1, choices=ch.Direction.choices)
    logger = models.ForeignKey(
        "registry.DataLogger",
        verbose_name=_("数采仪"),
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    mn = models.CharField(_("MN"), max_length=64, blank=True)
    peer = models.CharField(_("对端地址"), max_length=64, blank=True)
    gateway = models.CharField(_("网关"), max_length=64, blank=True)
    connection_id = models.BigIntegerField(_("连接ID"), null=True)
    cn = models.CharField(_("命令编码CN"), max_length=8, blank=True)
    qn = models.CharField(_("请求编码QN"), max_length=24, blank=True)
    data_time = models.DateTimeField(_("数据时间"), null=True)
    status = models.CharField(_("处理结果"), max_length=16, choices=ch.FrameStatus.choices)
    warnings = models.JSONField(_("告警"), null=True)
    raw = models.BinaryField(_("原始报文"))

    objects = ScopedManager()

    scope_jurisdiction = "logger__outlet__enterprise__jurisdiction__path"
    scope_enterprise = "logger__outlet__enterprise"
    scope_logger = "logger"

    class Meta:
        managed = False
        db_table = "ingest_rawframe"
        verbose_name = _("原始报文")
        verbose_name_plural = _("原始报文")
        default_permissions = ("view",)
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.cn} {self.mn}"

    def get_absolute_url(self) -> str:
        return reverse("ingest:rawframe-detail", args=[self.pk])

    def text(self) -> str:
        """The frame as text (invalid UTF-8 shown with replacement characters)."""
        return bytes(self.raw).decode("utf-8", "replace")

    event_scope = _logger_scope


class LoggerSession(ScopedModelMixin, models.Model):
    """The live state of one logger's connection, kept up to date (throttled) by the gateway."""

    logger = models.OneToOneField(
        "registry.DataLogger",
        verbose_name=_("数采仪"),
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="ingest_session",
    )
    online = models.BooleanField(_("在线"), default=False)
    gateway = models.CharField(_("网关"), max_length=64, blank=True)
    connection_id = models.BigIntegerField(_("连接ID"), null=True, blank=True)
    peer = models.CharField(_("对端地址"), max_length=64, blank=True)
    connected_at = models.DateTimeField(_("连接时间"), null=True, blank=True)
    disconnected_at = models.DateTimeField(_("断开时间"), null=True, blank=True)
    last_frame_at = models.DateTimeField(_("最后报文时间"), null=True, blank=True)
    last_cn = models.CharField(_("最后CN"), max_length=8, blank=True)
    frames = models.BigIntegerField(_("本次连接报文数"), default=0)
    bad_frames = models.BigIntegerField(_("本次连接错误报文数"), default=0)
    last_error = models.CharField(_("最近错误"), max_length=255, blank=True)
    last_error_at = models.DateTimeField(_("最近错误时间"), null=True, blank=True)
    clock_drift_seconds = models.FloatField(
        _("时钟偏差(秒)"), null=True, blank=True, help_text=_("设备时间减平台接收时间；正数表示设备时钟偏快")
    )
    restart_time = models.DateTimeField(_("最近重启时间(2081)"), null=True, blank=True)
    protocol_seen = models.CharField(_("报文协议版本"), max_length=8, blank=True)
    initialised_at = models.DateTimeField(_("初始化时间"), null=True, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = ScopedManager()

    scope_jurisdiction = "logger__outlet__enterprise__jurisdiction__path"
    scope_enterprise = "logger__outlet__enterprise"
    scope_logger = "logger"

    class Meta:
        verbose_name = _("数采仪连接")
        verbose_name_plural = _("数采仪连接")
        default_permissions = ("view",)
        ordering = ["logger__mn"]

    def __str__(self) -> str:
        return f"{self.logger} {'在线' if self.online else '离线'}"

    event_scope = _logger_scope


class Command(ScopedModelMixin, models.Model):
    """A reverse-control command to one logger, from request to its final state.

    ``sent`` only means the bytes left the gateway; ``executed`` needs the device's 9012 ExeRtn=1
    (or 9013 for the notifications 2012 / 2022).
    """

    logger = models.ForeignKey(
        "registry.DataLogger", verbose_name=_("数采仪"), on_delete=models.PROTECT, related_name="commands"
    )
    name = models.CharField(_("命令"), max_length=32)
    cn = models.CharField(_("CN"), max_length=8)
    params = models.JSONField(_("参数"), default=dict, blank=True)
    state = models.CharField(
        _("状态"), max_length=16, choices=ch.CommandState.choices, default=ch.CommandState.REQUESTED
    )
    qn = models.CharField(_("请求编码QN"), max_length=24, db_index=True)
    source = models.CharField(
        _("来源"), max_length=32, blank=True, help_text=_("发起的模块，如 quotas、web、api")
    )
    dedupe_key = models.CharField(
        _("幂等键"), max_length=128, null=True, blank=True, unique=True, help_text=_("同一键只创建一条命令")
    )
    requested_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("发起人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    requested_by_label = models.CharField(_("发起人"), max_length=150, blank=True)
    requested_at = models.DateTimeField(_("发起时间"))
    expires_at = models.DateTimeField(_("过期时间"))
    overtime_seconds = models.PositiveSmallIntegerField(_("超时时间(秒)"), default=10)
    recount = models.PositiveSmallIntegerField(_("重发次数"), default=3)
    attempts = models.PositiveSmallIntegerField(_("已发送次数"), default=0)
    sent_at = models.DateTimeField(_("首次发送时间"), null=True, blank=True)
    last_sent_at = models.DateTimeField(_("最近发送时间"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("接受时间"), null=True, blank=True)
    qn_rtn = models.SmallIntegerField(_("请求应答QnRtn"), null=True, blank=True)
    completed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    exe_rtn = models.SmallIntegerField(_("执行结果ExeRtn"), null=True, blank=True)
    result = models.JSONField(_("返回数据"), null=True, blank=True)
    records = models.PositiveIntegerField(_("返回记录数"), default=0)
    error = models.CharField(_("说明"), max_length=255, blank=True)
    gateway = models.CharField(_("发送网关"), max_length=64, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = ScopedManager()

    scope_jurisdiction = "logger__outlet__enterprise__jurisdiction__path"
    scope_enterprise = "logger__outlet__enterprise"
    scope_logger = "logger"

    class Meta:
        verbose_name = _("反控命令")
        verbose_name_plural = _("反控命令")
        default_permissions = ("view",)
        permissions = [
            ("send_command", _("可以下发反控命令")),
            ("control_valve", _("可以控制阀门和下发剩余排放量")),
        ]
        ordering = ["-requested_at", "-id"]
        indexes = [
            models.Index(fields=["logger", "state"], name="ingest_cmd_logger_state"),
            models.Index(fields=["state", "expires_at"], name="ingest_cmd_state_expiry"),
        ]
        constraints = [models.UniqueConstraint(fields=["logger", "qn"], name="uniq_ingest_cmd_qn")]

    def __str__(self) -> str:
        return f"{self.cn} {self.get_label()} → {self.logger}"

    def get_absolute_url(self) -> str:
        return reverse("ingest:command-detail", args=[self.pk])

    def get_label(self) -> str:
        from totalcap.ingest.catalogue import BY_NAME

        spec = BY_NAME.get(self.name)
        return spec.label if spec else self.name

    event_scope = _logger_scope


class SiteInfo(ScopedModelMixin, models.Model):
    """One reported item of site information or equipment state.

    3020 i-codes (``i12001`` instrument state, ``i13004`` digestion temperature, ``i32101`` valve
    state …), 2021 facility run states (``SB1-RS``), 2041 run times (``SB1-RT``), 3019 instrument
    ids (``SN``), 3813 offline valve actions. ``pollutant`` is the ``PolId`` the item belongs to
    (empty for the logger itself or a facility), ``observed_at`` the frame's ``DataTime`` (the
    receive time when absent). Re-sent items are stored once (unique key).
    """

    logger = models.ForeignKey(
        "registry.DataLogger", verbose_name=_("数采仪"), on_delete=models.CASCADE, related_name="+"
    )
    outlet_id = models.BigIntegerField(_("排放口ID"))
    source = models.CharField(_("来源"), max_length=8, choices=ch.InfoSource.choices)
    pollutant = models.CharField(_("监测因子"), max_length=16, blank=True)
    code = models.CharField(_("编码"), max_length=24, help_text=_("如 i12001、SB1-RS、a21026-SN"))
    value = models.CharField(_("值"), max_length=255, blank=True)
    text = models.TextField(_("日志文本"), blank=True)
    observed_at = models.DateTimeField(_("数据时间"))
    frame_id = models.BigIntegerField(_("原始报文ID"), null=True, blank=True)
    received_at = models.DateTimeField(_("接收时间"))

    objects = ScopedManager()

    scope_jurisdiction = "logger__outlet__enterprise__jurisdiction__path"
    scope_enterprise = "logger__outlet__enterprise"
    scope_logger = "logger"

    class Meta:
        verbose_name = _("现场端信息")
        verbose_name_plural = _("现场端信息")
        default_permissions = ("view",)
        ordering = ["-observed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["logger", "pollutant", "code", "observed_at"], name="uniq_ingest_siteinfo"
            )
        ]
        indexes = [
            models.Index(fields=["logger", "code", "observed_at"], name="ingest_siteinfo_code_time"),
            models.Index(fields=["outlet_id", "observed_at"], name="ingest_siteinfo_outlet_time"),
        ]

    def __str__(self) -> str:
        return f"{self.code}={self.value}"

    event_scope = _logger_scope


class GatewayStatus(models.Model):
    """The latest metrics snapshot of one gateway process (written every few seconds), so that the
    web ``/ingest/metrics`` can render the whole fleet behind a load balancer."""

    name = models.CharField(_("网关"), max_length=64, primary_key=True)
    host = models.CharField(_("主机"), max_length=128, blank=True)
    pid = models.IntegerField(_("进程号"), default=0)
    started_at = models.DateTimeField(_("启动时间"))
    updated_at = models.DateTimeField(_("更新时间"))
    metrics = models.JSONField(_("指标"), default=dict)

    class Meta:
        verbose_name = _("网关状态")
        verbose_name_plural = _("网关状态")
        default_permissions = ("view",)

    def __str__(self) -> str:
        return self.name
