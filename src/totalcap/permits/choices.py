"""Enumerations of the permits app, with Chinese labels."""

from django.db import models


class PermitStatus(models.TextChoices):
    """The certificate's state (排污许可证状态)."""

    PENDING = "pending", "未发证"
    VALID = "valid", "有效"
    SUSPENDED = "suspended", "暂停"
    EXPIRED = "expired", "已过期"
    REVOKED = "revoked", "已撤销"
    WITHDRAWN = "withdrawn", "已吊销"
    CANCELLED = "cancelled", "已注销"


#: States in which the permit authorises discharge.
IN_FORCE = (PermitStatus.VALID, PermitStatus.SUSPENDED)


class VersionStatus(models.TextChoices):
    """The state of one application / version (申请与版本状态)."""

    DRAFT = "draft", "草稿"
    SUBMITTED = "submitted", "已提交"
    ACCEPTED = "accepted", "已受理"
    UNDER_REVIEW = "under_review", "技术审查中"
    RETURNED = "returned", "退回补正"
    APPROVED = "approved", "已批准"
    ISSUED = "issued", "已核发"
    REJECTED = "rejected", "不予许可"
    WITHDRAWN = "withdrawn", "已撤回"


#: An application still in progress (at most one per permit).
OPEN_VERSION_STATES = (
    VersionStatus.DRAFT,
    VersionStatus.SUBMITTED,
    VersionStatus.ACCEPTED,
    VersionStatus.UNDER_REVIEW,
    VersionStatus.RETURNED,
    VersionStatus.APPROVED,
)
#: States in which the applicant edits the contents.
APPLICANT_EDITABLE = (VersionStatus.DRAFT, VersionStatus.RETURNED)


class VersionKind(models.TextChoices):
    INITIAL = "initial", "首次申请"
    CHANGE = "change", "变更"
    RENEWAL = "renewal", "延续"
    REAPPLY = "reapply", "重新申请"


class MonitoringMode(models.TextChoices):
    AUTOMATIC = "automatic", "自动监测"
    MANUAL = "manual", "手工监测"
    BOTH = "both", "自动监测+手工监测"
    NONE = "none", "不要求"


class AnnualMethod(models.TextChoices):
    STANDARD = "standard", "排放标准法"
    EIA = "eia", "环评批复"
    TOTAL_CONTROL = "total_control", "总量控制指标"
    TECHNOLOGY = "technology", "技术核定"


class SpecialPeriodKind(models.TextChoices):
    SEASON = "season", "季节性时段（如采暖季）"
    ALERT = "alert", "重污染天气预警"
    HYDRO = "hydro", "丰平枯水期"


class AlertLevel(models.TextChoices):
    YELLOW = "yellow", "黄色预警"
    ORANGE = "orange", "橙色预警"
    RED = "red", "红色预警"


class HydroPeriod(models.TextChoices):
    DRY = "dry", "枯水期"
    NORMAL = "normal", "平水期"
    WET = "wet", "丰水期"


class ReportKind(models.TextChoices):
    ANNUAL = "annual", "年度执行报告"
    SEMIANNUAL = "semiannual", "半年执行报告"
    QUARTERLY = "quarterly", "季度执行报告"
    MONTHLY = "monthly", "月度执行报告"


#: Months covered by one report of each kind.
REPORT_MONTHS = {
    ReportKind.ANNUAL: 12,
    ReportKind.SEMIANNUAL: 6,
    ReportKind.QUARTERLY: 3,
    ReportKind.MONTHLY: 1,
}


class ReportStatus(models.TextChoices):
    PENDING = "pending", "待提交"
    SUBMITTED = "submitted", "已提交"
    ACCEPTED = "accepted", "已审核"
    RETURNED = "returned", "退回修改"


class ReminderKind(models.TextChoices):
    RENEWAL = "renewal", "延续申请提醒"
    RENEWAL_OVERDUE = "renewal_overdue", "延续申请逾期"
    EXPIRED = "expired", "许可证已过期"
    CHANGE_DUE = "change_due", "变更申请期限"
    CHANGE_OVERDUE = "change_overdue", "变更申请逾期"
    REPORT_DUE = "report_due", "执行报告即将到期"
    REPORT_OVERDUE = "report_overdue", "执行报告逾期"
