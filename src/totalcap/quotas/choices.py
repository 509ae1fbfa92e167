"""Total-control enumerations."""

from django.db import models


class AccountKind(models.TextChoices):
    """Kinds of ledger account. ``issue`` is where a region's total comes from; ``emitted``,
    ``expired`` and ``penalty`` are sinks; the others hold usable quota."""

    ISSUE = "issue", "总量下达"
    RESERVE = "reserve", "区域储备"
    ANNUAL = "annual", "年度指标"
    MONTHLY = "monthly", "月度配额"
    EMITTED = "emitted", "已排放"
    EXPIRED = "expired", "已过期"
    PENALTY = "penalty", "处罚扣减"


class TransactionKind(models.TextChoices):
    REGION_TOTAL = "region_total", "下达区域总量"
    ALLOCATION = "allocation", "分配"
    RESERVE_DRAW = "reserve_draw", "新改扩建项目使用储备"
    RESERVE_RETURN = "reserve_return", "关停收回"
    LOADING = "loading", "刷卡加载月度配额"
    CONSUMPTION = "consumption", "排放扣减"
    ADJUSTMENT = "adjustment", "调剂"
    TRANSFER = "transfer", "转让"
    PENALTY = "penalty", "处罚"
    EXPIRY = "expiry", "过期"
    CARRY_OVER = "carry_over", "结转"
    SPECIAL_PERIOD = "special_period", "特殊时段削减"


class RegionTotalStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    ACTIVE = "active", "已下达"


class AllocationMethod(models.TextChoices):
    HISTORY = "history", "按历史排放比例"
    STANDARD = "standard", "按排放标准法"
    PERFORMANCE = "performance", "按绩效（最佳可行技术）"
    MANUAL = "manual", "逐企业填报"


class PlanStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    SUBMITTED = "submitted", "已提交"
    APPROVED = "approved", "已批准"
    REJECTED = "rejected", "已退回"


class Granularity(models.TextChoices):
    MONTH = "month", "按月"
    QUARTER = "quarter", "按季度"


class SpecialPeriodKind(models.TextChoices):
    HEAVY_POLLUTION = "heavy_pollution", "重污染天气预警"
    DRY_SEASON = "dry_season", "枯水期"
    OTHER = "other", "其他"


class CardStatus(models.TextChoices):
    ACTIVE = "active", "正常"
    LOST = "lost", "已挂失"
    REPLACED = "replaced", "已补办"
    REVOKED = "revoked", "已注销"


class SwipeOutcome(models.TextChoices):
    LOADED = "loaded", "已加载"
    ALREADY_LOADED = "already_loaded", "本月已加载"
    NO_PLAN = "no_plan", "无已批准的月度计划"
    REFUSED_UNKNOWN = "refused_unknown", "拒绝：未知卡"
    REFUSED_INACTIVE = "refused_inactive", "拒绝：卡已挂失/注销"
    REFUSED_MISMATCH = "refused_mismatch", "拒绝：卡与设备不属于同一单位"


class SwipeChannel(models.TextChoices):
    HJ212 = "hj212", "数采仪（HJ 212）"
    API = "api", "接口"
    MANUAL = "manual", "人工"


class TransferStatus(models.TextChoices):
    REQUESTED = "requested", "待审批"
    APPROVED = "approved", "已批准"
    REJECTED = "rejected", "已驳回"


class ValveAction(models.TextChoices):
    CLOSE = "close", "关阀"
    OPEN = "open", "开阀"


class ValveOrderOrigin(models.TextChoices):
    AUTO = "auto", "总量用尽自动关阀"
    REOPEN = "reopen", "充值/新月自动开阀"
    MANUAL = "manual", "人工指令"
    SUSPENSION = "suspension", "停产整治关阀"


class ValveOrderState(models.TextChoices):
    REQUESTED = "requested", "待审批"
    APPROVED = "approved", "已批准"
    SENT = "sent", "已下发"
    ACCEPTED = "accepted", "设备已受理"
    EXECUTED = "executed", "设备已执行"
    CONFIRMED = "confirmed", "已确认（现场证据）"
    REJECTED = "rejected", "审批未通过"
    FAILED = "failed", "失败"
    TIMED_OUT = "timed_out", "超时"
    EXPIRED = "expired", "已过期"
    CANCELLED = "cancelled", "已撤销"


FINAL_VALVE_STATES = {
    ValveOrderState.CONFIRMED,
    ValveOrderState.REJECTED,
    ValveOrderState.FAILED,
    ValveOrderState.TIMED_OUT,
    ValveOrderState.EXPIRED,
    ValveOrderState.CANCELLED,
}


class CarryOverRule(models.TextChoices):
    CARRY = "carry", "结转下月"
    RETURN = "return", "退回年度指标"
    EXPIRE = "expire", "当月作废"


class AlertLevel(models.IntegerChoices):
    NONE = 0, "正常"
    WARNING = 1, "预警"
    RED = 2, "红色预警"
    EXHAUSTED = 3, "配额用尽"
