"""Alarm enumerations."""

from django.db import models


class Severity(models.TextChoices):
    INFO = "info", "提示"
    WARNING = "warning", "预警"
    MAJOR = "major", "严重"
    CRITICAL = "critical", "紧急"


SEVERITY_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.MAJOR: 2, Severity.CRITICAL: 3}


class AlarmStatus(models.TextChoices):
    ACTIVE = "active", "未确认"
    ACKNOWLEDGED = "acknowledged", "已确认"
    CLEARED = "cleared", "已解除"


OPEN_STATUSES = (AlarmStatus.ACTIVE, AlarmStatus.ACKNOWLEDGED)


class ChannelKind(models.TextChoices):
    SMS_HTTP = "sms_http", "短信网关（HTTP）"
    SMS_CONSOLE = "sms_console", "短信（开发用：写入日志）"
    WECOM = "wecom", "企业微信机器人"
    EMAIL = "email", "电子邮件（SMTP）"
    IN_APP = "in_app", "站内消息"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "待发送"
    SENT = "sent", "已发送"
    FAILED = "failed", "发送失败"
    GAVE_UP = "gave_up", "放弃重试"


class RecipientKind(models.TextChoices):
    ENTERPRISE = "enterprise", "企业联系人"
    REGULATOR = "regulator", "监管人员"
