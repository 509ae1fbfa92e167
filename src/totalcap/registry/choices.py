"""Enumerations of the registry, with Chinese labels."""

from django.db import models


class JurisdictionLevel(models.TextChoices):
    PROVINCE = "province", "省级"
    CITY = "city", "市级"
    COUNTY = "county", "县级"


class ManagementClass(models.TextChoices):
    KEY = "key", "重点管理"
    SIMPLIFIED = "simplified", "简化管理"
    REGISTRATION = "registration", "登记管理"


class EnterpriseStatus(models.TextChoices):
    OPERATING = "operating", "正常生产"
    SUSPENDED = "suspended", "停产"
    CLOSED = "closed", "关闭"


class Medium(models.TextChoices):
    WATER = "water", "废水"
    AIR = "air", "废气"


class PollutantMedium(models.TextChoices):
    WATER = "water", "水"
    AIR = "air", "气"
    NOISE = "noise", "噪声"
    OTHER = "other", "其他"


class OutletCategory(models.TextChoices):
    MAIN = "main", "主要排放口"
    GENERAL = "general", "一般排放口"


class DischargeMode(models.TextChoices):
    DIRECT = "direct", "直接排放"
    INDIRECT = "indirect", "间接排放"


class StandardLevel(models.TextChoices):
    """Precedence order of emission standards: local before industry before national integrated."""

    LOCAL = "local", "地方标准"
    INDUSTRY = "industry", "行业标准"
    NATIONAL = "national", "国家综合标准"


STANDARD_PRECEDENCE = {StandardLevel.LOCAL: 0, StandardLevel.INDUSTRY: 1, StandardLevel.NATIONAL: 2}


class LimitDischarge(models.TextChoices):
    ANY = "any", "不区分"
    DIRECT = "direct", "直接排放"
    INDIRECT = "indirect", "间接排放"


class AveragingPeriod(models.TextChoices):
    INSTANT = "instant", "瞬时值"
    HOUR = "hour", "小时均值"
    DAY = "day", "日均值"


class ProtocolVersion(models.TextChoices):
    V2005 = "2005", "HJ/T 212-2005"
    V2017 = "2017", "HJ 212-2017"
    V2025 = "2025", "HJ 212-2025"


class CrcMode(models.TextChoices):
    HJ212 = "hj212", "HJ 212 CRC16"
    MODBUS = "modbus", "Modbus CRC16"
    MODBUS_SWAPPED = "modbus-swapped", "Modbus CRC16（字节交换）"
    NONE = "none", "不校验（标记）"


class DeviceStatus(models.TextChoices):
    ACTIVE = "active", "启用"
    DISABLED = "disabled", "停用"


class ValveState(models.TextChoices):
    UNKNOWN = "unknown", "未知"
    OPEN = "open", "开启"
    CLOSED = "closed", "关闭"
    MOVING = "moving", "动作中"
    FAULT = "fault", "故障"


class CameraLocation(models.TextChoices):
    STATION_DOOR = "station_door", "监测站房门"
    STATION = "station", "监测站房内"
    OUTLET = "outlet", "排放口"
    GATE = "gate", "厂区门口"
