"""Enumerations of the ingest app, with Chinese labels."""

from django.db import models


class Direction(models.TextChoices):
    IN = "i", "接收"
    OUT = "o", "发送"


class FrameStatus(models.TextChoices):
    """What the gateway made of one frame (raw frames are stored whatever the status)."""

    OK = "ok", "正常"
    BAD_CRC = "bad_crc", "CRC错误"
    MALFORMED = "malformed", "格式错误"
    UNKNOWN_MN = "unknown_mn", "未登记MN"
    BAD_PW = "bad_pw", "密码错误"
    DISABLED = "disabled", "设备已停用"
    OVERSIZE = "oversize", "超长报文"
    GARBAGE = "garbage", "无效字节"
    TRUNCATED = "truncated", "不完整报文"
    MN_MISMATCH = "mn_mismatch", "MN与连接不符"
    REJECTED = "rejected", "数值无法入库"
    SENT = "sent", "已发送"


class SampleKind(models.TextChoices):
    REALTIME = "r", "实时数据"
    MINUTE = "m", "分钟数据"
    HOUR = "h", "小时数据"
    DAY = "d", "日数据"


#: CN of a data upload → sample kind of the sample store.
KIND_OF_CN = {"2011": "r", "2051": "m", "2061": "h", "2031": "d"}


class CommandState(models.TextChoices):
    """Life cycle of a reverse-control command (see ``transitions.py``)."""

    REQUESTED = "requested", "待发送"
    SENT = "sent", "已发送"
    ACCEPTED = "accepted", "已接受"
    REJECTED = "rejected", "被拒绝"
    EXECUTED = "executed", "已执行"
    FAILED = "failed", "执行失败"
    TIMED_OUT = "timed_out", "超时"
    EXPIRED = "expired", "已过期"
    CANCELLED = "cancelled", "已撤销"


#: States in which a command is finished.
FINAL_STATES = frozenset(
    {
        CommandState.REJECTED,
        CommandState.EXECUTED,
        CommandState.FAILED,
        CommandState.TIMED_OUT,
        CommandState.EXPIRED,
        CommandState.CANCELLED,
    }
)
#: States in which the gateway still has something to do.
OPEN_STATES = frozenset({CommandState.REQUESTED, CommandState.SENT, CommandState.ACCEPTED})


class InfoSource(models.TextChoices):
    SITE_INFO = "3020", "现场端信息（3020）"
    RUN_STATE = "2021", "设施运行状态（2021）"
    RUN_TIME = "2041", "设施运行时间（2041）"
    INSTRUMENT_ID = "3019", "仪器唯一标识（3019）"
    VALVE_REPORT = "3813", "离线阀门动作（3813）"
    CARD_SWIPE = "3811", "刷卡（3811）"
    DEVICE_ANSWER = "answer", "设备应答数据"
