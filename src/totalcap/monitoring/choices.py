"""Monitoring enumerations, with Chinese labels."""

from django.db import models


class SampleKind(models.TextChoices):
    """What a sample row is: HJ 212 real-time (2011), minute (2051), hour (2061) or day (2031) data."""

    REALTIME = "r", "实时数据"
    MINUTE = "m", "分钟数据"
    HOUR = "h", "小时数据"
    DAY = "d", "日数据"


#: HJ 212 command code of each kind's upload.
KIND_BY_CN = {
    "2011": SampleKind.REALTIME,
    "2051": SampleKind.MINUTE,
    "2061": SampleKind.HOUR,
    "2031": SampleKind.DAY,
}


class ValueStatus(models.TextChoices):
    """Validity class of an hour, day or month (monitoring-data.md §2.4)."""

    VALID = "v", "有效"
    STOPPED = "s", "停运"
    PROCESS = "p", "工况过程（启停炉等）"
    INVALID = "i", "无效"
    MISSING = "m", "缺失"


class MinuteClass(models.TextChoices):
    """Class of one minute value after flags, device states, labels and review (internal)."""

    VALID = "v", "有效"
    STOPPED = "s", "停运"
    PROCESS = "p", "工况过程"
    INVALID = "i", "无效"


#: Hour / day labels (monitoring-data.md §2.3). HJ 212 flags and enterprise labels keep separate
#: namespaces: ``B`` is the HJ 212 flag "communication failure", ``Bk`` the label "banked furnace".
HOUR_LABELS = {
    "N": "正常",
    "F": "停运",
    "St": "启炉",
    "Sd": "停炉",
    "Bk": "闷炉",
    "C": "校准",
    "M": "维护",
    "D": "故障",
    "S": "手工设定值",
    "T": "超测量上限",
    "B": "通讯异常",
    "Md": "无数据",
    "R": "复核判定无效",
    "NV": "数值无效（空值或负值）",
    "X": "其他无效标记",
}


class ValueSource(models.TextChoices):
    """Where a platform hour comes from."""

    MINUTES = "m", "由分钟数据重算"
    LOGGER = "h", "数采仪小时数据"
    NONE = "x", "无数据"


class ZsStatus(models.TextChoices):
    """Outcome of the reference-oxygen conversion of an hour (monitoring-data.md §7)."""

    OK = "ok", "已折算"
    NOT_APPLICABLE = "na", "不适用"
    NO_REFERENCE = "no_ref", "无基准氧含量"
    NO_O2 = "no_o2", "缺少氧含量"
    GUARD = "guard", "氧含量接近21%，不折算"
    NOT_NORMAL = "not_normal", "非正常运行时段，不折算"


class Method(models.TextChoices):
    """Accounting method of an hour or a period (permits-and-accounting.md §5)."""

    AUTO_VALID = "auto_valid", "自动监测有效数据"
    AUTO_SUBSTITUTED = "auto_substituted", "自动监测修约替代"
    MANUAL = "manual", "手工监测"
    MATERIAL_BALANCE = "material_balance", "物料衡算"
    EMISSION_FACTOR = "emission_factor", "排放系数"
    PENALISED = "penalised", "按直排核算"
    STOPPED = "stopped", "停运（零排放）"
    UNACCOUNTED = "unaccounted", "无法核算"


#: Default priority of the fall-back methods for an hour without valid automatic data.
DEFAULT_PRIORITY = [
    Method.AUTO_VALID,
    Method.AUTO_SUBSTITUTED,
    Method.MANUAL,
    Method.MATERIAL_BALANCE,
    Method.EMISSION_FACTOR,
    Method.PENALISED,
]


class Period(models.TextChoices):
    DAY = "day", "日"
    MONTH = "month", "月"
    YEAR = "year", "年"


class RuleKind(models.TextChoices):
    VALIDITY = "validity", "有效性与汇总规则"
    SUBSTITUTION = "substitution", "修约替代规则"
    SCREENING = "screening", "异常筛查阈值"


class RuleMedium(models.TextChoices):
    AIR = "air", "废气"
    WATER = "water", "废水"


class ConcentrationBasis(models.TextChoices):
    DRY = "dry", "干基（数采仪已换算）"
    WET = "wet", "湿基（平台按湿度换算为干基）"


class FlowBasis(models.TextChoices):
    STANDARD_DRY = "standard_dry", "标干流量（数采仪已换算）"
    ACTUAL = "actual", "工况流量（平台换算为标干）"


class ReviewLevel(models.TextChoices):
    MINUTE = "minute", "分钟数据"
    HOUR = "hour", "小时数据"


class ReviewKind(models.TextChoices):
    INVALIDATE = "invalidate", "判为无效"
    CORRECT = "correct", "修正数值"


class ReviewStatus(models.TextChoices):
    ACTIVE = "active", "生效"
    REVERTED = "reverted", "已撤销"


class ManualKind(models.TextChoices):
    """Kind of manual monitoring result, in the order accounting prefers them."""

    ENFORCEMENT = "enforcement", "执法监测"
    SELF = "self", "自行监测（手工）"
    COMPARISON = "comparison", "比对监测"


MANUAL_PRIORITY = {ManualKind.ENFORCEMENT: 0, ManualKind.SELF: 1, ManualKind.COMPARISON: 2}


class Detector(models.TextChoices):
    CONSTANT = "constant", "恒值"
    ZERO = "zero", "运行中零值"
    NEGATIVE = "negative", "负值"
    ABOVE_RANGE = "above_range", "超量程"
    JUMP = "jump", "突变"
    MISSING = "missing", "数据缺失"
    FLOW_STATE = "flow_state", "流量与工况不一致"
    MISMATCH = "mismatch", "数采仪汇总值与平台重算不一致"


class SuspicionStatus(models.TextChoices):
    OPEN = "open", "待核实"
    CONFIRMED = "confirmed", "确认异常"
    DISMISSED = "dismissed", "排除"


class StateSource(models.TextChoices):
    SITE_INFO = "3020", "现场端信息（3020）"
    RUN_STATE = "2021", "设施运行状态（2021）"
    MANUAL = "manual", "人工录入"
