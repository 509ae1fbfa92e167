"""Alarms, notification channels, deliveries and in-app notifications."""

from __future__ import annotations

import pghistory
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from totalcap.alarms.choices import AlarmStatus, ChannelKind, DeliveryStatus, RecipientKind, Severity
from totalcap.base.models import ScopedModel


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), exclude=["notify_pending"])
class Alarm(ScopedModel):
    """One alarm condition of one source, from when it is raised until it is cleared.

    De-duplicated per (source, type): while an alarm is open, raising it again only counts another
    occurrence and notifies nobody. ``escalate_at`` is the deadline for acknowledgement; an
    unacknowledged alarm past it is escalated to the next level of regulators.
    """

    type = models.CharField(_("报警类型"), max_length=48, db_index=True)
    severity = models.CharField(_("级别"), max_length=16, choices=Severity.choices, default=Severity.WARNING)
    source = models.CharField(
        _("来源"), max_length=96, help_text=_("如 quotas.account:12、registry.datalogger:5")
    )
    title = models.CharField(_("标题"), max_length=128)
    message = models.TextField(_("内容"))
    payload = models.JSONField(_("详情"), default=dict, blank=True)
    enterprise = models.ForeignKey(
        "registry.Enterprise",
        verbose_name=_("排污单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="alarms",
    )
    outlet = models.ForeignKey(
        "registry.Outlet",
        verbose_name=_("排放口"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    jurisdiction = models.ForeignKey(
        "registry.Jurisdiction", verbose_name=_("行政区划"), on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        _("状态"), max_length=16, choices=AlarmStatus.choices, default=AlarmStatus.ACTIVE
    )
    raised_at = models.DateTimeField(_("报警时间"))
    last_seen_at = models.DateTimeField(_("最近出现"))
    occurrences = models.PositiveIntegerField(_("出现次数"), default=1)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("确认人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    acknowledged_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    cleared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("解除人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    cleared_at = models.DateTimeField(_("解除时间"), null=True, blank=True)
    clear_reason = models.CharField(_("解除原因"), max_length=255, blank=True)
    escalation_level = models.PositiveSmallIntegerField(_("升级级别"), default=0)
    escalate_at = models.DateTimeField(_("确认期限"), null=True, blank=True)
    # Raised with its notifications queued after the commit (behind urgent work such as a valve
    # close); true until they are queued. A technical flag, so not in the field history.
    notify_pending = models.BooleanField(_("通知待排队"), default=False, editable=False)

    scope_jurisdiction = "jurisdiction__path"
    scope_enterprise = "enterprise"

    class Meta:
        verbose_name = _("报警")
        verbose_name_plural = _("报警")
        ordering = ["-raised_at"]
        permissions = [("acknowledge_alarm", "可以确认报警"), ("clear_alarm", "可以解除报警")]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "type"],
                condition=~Q(status="cleared"),
                name="alarm_one_open_per_source_type",
            )
        ]
        indexes = [
            models.Index(fields=["status", "escalate_at"], name="alarm_escalation_idx"),
            models.Index(
                fields=["raised_at"], condition=Q(notify_pending=True), name="alarm_notify_pending_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def event_scope(self) -> tuple[str, int | None]:
        return self.jurisdiction.path, self.enterprise_id


class NotificationChannel(ScopedModel):
    """A configured way to notify people (SMS gateway, WeChat Work robot, e-mail, in-app).

    ``config`` holds the adapter's settings (URL, sender, template …); ``min_severity`` and
    ``alarm_types`` filter which alarms it carries; ``jurisdiction`` limits it to a region (empty:
    everywhere).
    """

    name = models.CharField(_("名称"), max_length=64, unique=True)
    kind = models.CharField(_("类型"), max_length=16, choices=ChannelKind.choices)
    enabled = models.BooleanField(_("启用"), default=True)
    config = models.JSONField(_("配置"), default=dict, blank=True)
    min_severity = models.CharField(
        _("最低级别"), max_length=16, choices=Severity.choices, default=Severity.WARNING
    )
    alarm_types = models.JSONField(_("报警类型"), default=list, blank=True, help_text=_("为空表示全部类型"))
    recipients = models.JSONField(
        _("接收对象"), default=list, blank=True, help_text=_('["enterprise", "regulator"]，为空表示两者')
    )
    jurisdiction = models.ForeignKey(
        "registry.Jurisdiction",
        verbose_name=_("适用行政区划"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    max_attempts = models.PositiveSmallIntegerField(_("最多尝试次数"), default=5)

    scope_public = True

    class Meta:
        verbose_name = _("通知渠道")
        verbose_name_plural = _("通知渠道")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Delivery(ScopedModel):
    """One message of one alarm to one recipient over one channel, with its attempts."""

    alarm = models.ForeignKey(
        Alarm, verbose_name=_("报警"), on_delete=models.CASCADE, related_name="deliveries"
    )
    channel = models.ForeignKey(NotificationChannel, verbose_name=_("渠道"), on_delete=models.PROTECT)
    recipient_kind = models.CharField(_("接收对象类型"), max_length=16, choices=RecipientKind.choices)
    recipient_name = models.CharField(_("接收人"), max_length=64, blank=True)
    address = models.CharField(_("地址"), max_length=255, help_text=_("手机号、邮箱、用户ID或机器人地址"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    text = models.TextField(_("消息内容"))
    reason = models.CharField(_("触发"), max_length=32, default="raised", help_text=_("raised / escalated"))
    status = models.CharField(
        _("状态"), max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    last_error = models.TextField(_("最近错误"), blank=True)
    response = models.TextField(_("渠道回执"), blank=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)

    scope_jurisdiction = "alarm__jurisdiction__path"
    scope_enterprise = "alarm__enterprise"

    class Meta:
        verbose_name = _("通知记录")
        verbose_name_plural = _("通知记录")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["alarm", "channel", "address", "reason", "user"],
                name="delivery_once_per_recipient",
                nulls_distinct=False,
            )
        ]

    def __str__(self) -> str:
        return f"{self.channel} → {self.address}"


class InAppNotification(models.Model):
    """A message shown to one user in the web UI (the in-app channel)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    alarm = models.ForeignKey(Alarm, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    text = models.TextField(_("内容"))
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("站内消息")
        verbose_name_plural = _("站内消息")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "read_at"], name="inapp_unread_idx")]

    def __str__(self) -> str:
        return self.text[:40]
