"""Registry: jurisdictions, industries, pollutants, emission standards, enterprises, outlets,
data loggers, valves and cameras.

Coordinates are longitude / latitude in degrees on CGCS2000 (which agrees with WGS-84 to a few
centimetres); they are never stored in the GCJ-02 offsets used by some web maps.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pghistory
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _

from totalcap.base.fields import EncryptedCharField
from totalcap.base.models import ScopedModel
from totalcap.registry import choices as c
from totalcap.registry.validators import (
    validate_china_coordinates,
    validate_credit_code,
    validate_mn,
    validate_outlet_code,
    validate_phone,
)


def coordinate(label: Any) -> models.DecimalField:
    """A longitude or latitude in decimal degrees (CGCS2000 / WGS-84), optional."""
    return models.DecimalField(
        label, max_digits=9, decimal_places=6, null=True, blank=True, help_text=_("CGCS2000/WGS-84，十进制度")
    )


class Jurisdiction(ScopedModel):
    """A node of the GB/T 2260 administrative division tree (province → city → county)."""

    code = models.CharField(_("行政区划代码"), max_length=12, unique=True)
    name = models.CharField(_("名称"), max_length=64)
    level = models.CharField(_("级别"), max_length=16, choices=c.JurisdictionLevel.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField(_("路径"), max_length=128, db_index=True, editable=False)

    scope_jurisdiction = "path"

    class Meta:
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")
        ordering = ["code"]
        indexes = [
            models.Index(fields=["path"], name="jurisdiction_path_like", opclasses=["varchar_pattern_ops"])
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if not (self.code.isdigit() and len(self.code) == 6):
            raise ValidationError({"code": _("行政区划代码应为6位数字（GB/T 2260）。")})
        if self.pk and self.parent is not None and self.path and self.parent.path.startswith(self.path):
            raise ValidationError({"parent": _("上级不能是自身或下级。")})

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.path = (self.parent.path if self.parent is not None else "") + f"{self.code}/"
        super().save(*args, **kwargs)

    def event_scope(self) -> tuple[str, int | None]:
        return self.path, None

    def ancestors(self) -> list[Jurisdiction]:
        codes = [p for p in self.path.split("/") if p]
        nodes = {j.code: j for j in Jurisdiction.objects.filter(code__in=codes)}
        return [nodes[code] for code in codes if code in nodes]


class Industry(ScopedModel):
    """A class of GB/T 4754-2017 (国民经济行业分类)."""

    code = models.CharField(_("行业代码"), max_length=8, unique=True)
    name = models.CharField(_("行业名称"), max_length=128)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )

    scope_public = True

    class Meta:
        verbose_name = _("行业")
        verbose_name_plural = _("行业")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Pollutant(ScopedModel):
    """A pollutant or parameter code of HJ 524 (air) / HJ 525 (water), as used in HJ 212."""

    code = models.CharField(_("污染物编码"), max_length=16, unique=True)
    name = models.CharField(_("名称"), max_length=64)
    medium = models.CharField(_("介质"), max_length=8, choices=c.PollutantMedium.choices)
    concentration_unit = models.CharField(_("浓度单位"), max_length=16, blank=True)
    amount_unit = models.CharField(_("排放量单位"), max_length=16, blank=True)
    data_type = models.CharField(_("数据类型"), max_length=8, blank=True)
    legacy_code = models.CharField(_("2005版编码"), max_length=8, blank=True)
    is_total_control = models.BooleanField(_("总量控制因子"), default=False)
    is_flow = models.BooleanField(_("流量参数"), default=False)

    scope_public = True

    class Meta:
        verbose_name = _("污染物")
        verbose_name_plural = _("污染物")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class EmissionStandard(ScopedModel):
    """An emission standard with its limit rows (e.g. GB 13223-2011)."""

    code = models.CharField(_("标准编号"), max_length=32, unique=True)
    name = models.CharField(_("标准名称"), max_length=128)
    level = models.CharField(_("标准类别"), max_length=16, choices=c.StandardLevel.choices)
    medium = models.CharField(_("介质"), max_length=8, choices=c.Medium.choices)
    region = models.ForeignKey(
        Jurisdiction,
        verbose_name=_("适用地区"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        help_text=_("地方标准适用的行政区划；国家和行业标准留空。"),
    )
    industries = models.ManyToManyField(Industry, verbose_name=_("适用行业"), blank=True)
    effective_date = models.DateField(_("实施日期"), null=True, blank=True)
    note = models.TextField(_("说明"), blank=True)

    scope_public = True

    class Meta:
        verbose_name = _("排放标准")
        verbose_name_plural = _("排放标准")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def clean(self) -> None:
        if self.level == c.StandardLevel.LOCAL and not self.region_id:
            raise ValidationError({"region": _("地方标准须指定适用地区。")})


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class StandardLimit(ScopedModel):
    """One limit of a standard: pollutant, value, applicability and reference O2."""

    standard = models.ForeignKey(
        EmissionStandard, verbose_name=_("排放标准"), on_delete=models.CASCADE, related_name="limits"
    )
    pollutant = models.ForeignKey(Pollutant, verbose_name=_("污染物"), on_delete=models.PROTECT)
    limit_value = models.DecimalField(
        _("限值"), max_digits=12, decimal_places=4, validators=[MinValueValidator(Decimal("0"))]
    )
    unit = models.CharField(_("单位"), max_length=16)
    discharge_mode = models.CharField(
        _("排放方式"), max_length=16, choices=c.LimitDischarge.choices, default=c.LimitDischarge.ANY
    )
    source_type = models.CharField(
        _("适用源类型"), max_length=64, blank=True, help_text=_("如：燃煤锅炉、水泥窑")
    )
    reference_o2 = models.DecimalField(
        _("基准氧含量(%)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    averaging = models.CharField(
        _("均值类型"), max_length=16, choices=c.AveragingPeriod.choices, default=c.AveragingPeriod.HOUR
    )
    note = models.CharField(_("备注"), max_length=255, blank=True)

    scope_public = True

    class Meta:
        verbose_name = _("标准限值")
        verbose_name_plural = _("标准限值")
        ordering = ["standard", "pollutant"]
        constraints = [
            models.UniqueConstraint(
                fields=["standard", "pollutant", "discharge_mode", "source_type"], name="uniq_standard_limit"
            )
        ]

    def __str__(self) -> str:
        return f"{self.pollutant.name} {self.limit_value.normalize()} {self.unit}"

    def clean(self) -> None:
        if self.reference_o2 is not None and not (Decimal("0") <= self.reference_o2 < Decimal("21")):
            raise ValidationError({"reference_o2": _("基准氧含量应在0至21%之间。")})


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Enterprise(ScopedModel):
    """An emitting unit (排污单位), identified by its unified social credit code."""

    credit_code = models.CharField(
        _("统一社会信用代码"), max_length=18, unique=True, validators=[validate_credit_code]
    )
    name = models.CharField(_("单位名称"), max_length=128)
    short_name = models.CharField(_("简称"), max_length=32, blank=True)
    address = models.CharField(_("生产经营场所地址"), max_length=255, blank=True)
    longitude = coordinate(_("经度"))
    latitude = coordinate(_("纬度"))
    industry = models.ForeignKey(Industry, verbose_name=_("行业类别"), on_delete=models.PROTECT)
    jurisdiction = models.ForeignKey(
        Jurisdiction, verbose_name=_("所属行政区划"), on_delete=models.PROTECT, related_name="enterprises"
    )
    management_class = models.CharField(
        _("排污许可管理类别"), max_length=16, choices=c.ManagementClass.choices, default=c.ManagementClass.KEY
    )
    legal_representative = models.CharField(_("法定代表人"), max_length=32, blank=True)
    status = models.CharField(
        _("生产状态"), max_length=16, choices=c.EnterpriseStatus.choices, default=c.EnterpriseStatus.OPERATING
    )

    scope_jurisdiction = "jurisdiction__path"
    scope_enterprise = "pk"

    class Meta:
        verbose_name = _("排污单位")
        verbose_name_plural = _("排污单位")
        ordering = ["jurisdiction__code", "name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors: dict[str, Any] = dict(validate_china_coordinates(self.longitude, self.latitude))
        if self.jurisdiction_id and self.jurisdiction.level == c.JurisdictionLevel.PROVINCE:
            errors["jurisdiction"] = _("排污单位应归属到市级或县级行政区划。")
        if errors:
            raise ValidationError(errors)

    def event_scope(self) -> tuple[str, int | None]:
        return self.jurisdiction.path, self.pk


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class EnterpriseContact(ScopedModel):
    """A contact person of an enterprise (alarms and supervision orders go to these numbers)."""

    enterprise = models.ForeignKey(
        Enterprise, verbose_name=_("排污单位"), on_delete=models.CASCADE, related_name="contacts"
    )
    name = models.CharField(_("姓名"), max_length=32)
    title = models.CharField(_("职务"), max_length=32, blank=True, help_text=_("如：环保负责人、法定代表人"))
    phone = models.CharField(_("电话"), max_length=32, validators=[validate_phone])
    email = models.EmailField(_("电子邮箱"), blank=True)
    is_primary = models.BooleanField(_("主要联系人"), default=False)
    receives_alarms = models.BooleanField(_("接收报警短信"), default=True)

    scope_jurisdiction = "enterprise__jurisdiction__path"
    scope_enterprise = "enterprise"

    class Meta:
        verbose_name = _("联系人")
        verbose_name_plural = _("联系人")
        ordering = ["enterprise", "-is_primary", "name"]

    def __str__(self) -> str:
        return f"{self.name}（{self.phone}）"

    def event_scope(self) -> tuple[str, int | None]:
        return self.enterprise.jurisdiction.path, self.enterprise_id


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Outlet(ScopedModel):
    """A discharge outlet (排放口): DW… wastewater, DA… air, YS… rainwater."""

    enterprise = models.ForeignKey(
        Enterprise, verbose_name=_("排污单位"), on_delete=models.PROTECT, related_name="outlets"
    )
    code = models.CharField(_("排放口编码"), max_length=8, validators=[validate_outlet_code])
    name = models.CharField(_("排放口名称"), max_length=64)
    medium = models.CharField(_("类型"), max_length=8, choices=c.Medium.choices)
    category = models.CharField(
        _("排放口类别"), max_length=16, choices=c.OutletCategory.choices, default=c.OutletCategory.MAIN
    )
    discharge_mode = models.CharField(
        _("排放方式"), max_length=16, choices=c.DischargeMode.choices, default=c.DischargeMode.DIRECT
    )
    destination = models.CharField(
        _("排放去向"), max_length=128, blank=True, help_text=_("受纳水体或污水处理厂")
    )
    source_type = models.CharField(
        _("排放源类型"), max_length=64, blank=True, help_text=_("如：燃煤锅炉（决定基准氧含量）")
    )
    longitude = coordinate(_("经度"))
    latitude = coordinate(_("纬度"))
    standards = models.ManyToManyField(EmissionStandard, verbose_name=_("执行标准"), blank=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=c.DeviceStatus.choices, default=c.DeviceStatus.ACTIVE
    )

    scope_jurisdiction = "enterprise__jurisdiction__path"
    scope_enterprise = "enterprise"
    scope_logger = "loggers"

    class Meta:
        verbose_name = _("排放口")
        verbose_name_plural = _("排放口")
        ordering = ["enterprise", "code"]
        constraints = [models.UniqueConstraint(fields=["enterprise", "code"], name="uniq_outlet_code")]

    def __str__(self) -> str:
        return f"{self.enterprise.short_name or self.enterprise.name} {self.code} {self.name}"

    def clean(self) -> None:
        errors: dict[str, Any] = dict(validate_china_coordinates(self.longitude, self.latitude))
        if self.code.startswith("DA") and self.medium != c.Medium.AIR:
            errors["medium"] = _("DA开头的排放口应为废气排放口。")
        if self.code[:2] in {"DW", "YS"} and self.medium != c.Medium.WATER:
            errors["medium"] = _("DW或YS开头的排放口应为废水排放口。")
        if errors:
            raise ValidationError(errors)

    def event_scope(self) -> tuple[str, int | None]:
        return self.enterprise.jurisdiction.path, self.enterprise_id


@pghistory.track(
    pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent(), exclude=["password"]
)
class DataLogger(ScopedModel):
    """A data logger (数采仪) speaking HJ 212; its profile comes from here, never from guessing."""

    mn = models.CharField(_("设备唯一标识MN"), max_length=32, unique=True, validators=[validate_mn])
    name = models.CharField(_("名称"), max_length=64, blank=True)
    outlet = models.ForeignKey(
        Outlet, verbose_name=_("排放口"), on_delete=models.PROTECT, related_name="loggers"
    )
    password = EncryptedCharField(_("访问密码PW"), max_length=64, default="123456")
    protocol_version = models.CharField(
        _("协议版本"), max_length=8, choices=c.ProtocolVersion.choices, default=c.ProtocolVersion.V2017
    )
    crc_mode = models.CharField(
        _("CRC方式"), max_length=16, choices=c.CrcMode.choices, default=c.CrcMode.HJ212
    )
    system_code = models.CharField(_("系统编码ST"), max_length=3, default="32")
    pollutants = models.ManyToManyField(Pollutant, verbose_name=_("监测因子"), blank=True)
    is_total_control = models.BooleanField(_("总量控制仪（刷卡排污）"), default=False)
    init_on_connect = models.BooleanField(_("首次连接时初始化"), default=False)
    overtime_seconds = models.PositiveSmallIntegerField(_("超时时间(秒)"), default=10)
    recount = models.PositiveSmallIntegerField(_("重发次数"), default=3)
    ack_when_flag_absent = models.BooleanField(_("无Flag时应答"), default=True)
    manufacturer = models.CharField(_("生产厂家"), max_length=64, blank=True)
    model_name = models.CharField(_("型号"), max_length=64, blank=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=c.DeviceStatus.choices, default=c.DeviceStatus.ACTIVE
    )

    scope_jurisdiction = "outlet__enterprise__jurisdiction__path"
    scope_enterprise = "outlet__enterprise"
    scope_logger = "pk"

    class Meta:
        verbose_name = _("数采仪")
        verbose_name_plural = _("数采仪")
        ordering = ["mn"]
        constraints = [models.UniqueConstraint(Upper("mn"), name="uniq_logger_mn_ci")]

    def __str__(self) -> str:
        return self.name or self.mn

    @property
    def enterprise(self) -> Enterprise:
        return self.outlet.enterprise

    def clean(self) -> None:
        if self.mn:
            clash = DataLogger.objects.filter(mn__iexact=self.mn).exclude(pk=self.pk)
            if clash.exists():
                raise ValidationError({"mn": _("MN「%(mn)s」已被其他数采仪使用。") % {"mn": self.mn}})
        if self.password and not (1 <= len(self.password) <= 64):
            raise ValidationError({"password": _("访问密码长度应为1至64位（标准为6位）。")})
        if not (1 <= self.overtime_seconds <= 99):
            raise ValidationError({"overtime_seconds": _("超时时间应在1至99秒之间（HJ 212 OverTime）。")})
        if not (1 <= self.recount <= 99):
            raise ValidationError({"recount": _("重发次数应在1至99之间（HJ 212 ReCount）。")})

    def event_scope(self) -> tuple[str, int | None]:
        return self.outlet.enterprise.jurisdiction.path, self.outlet.enterprise_id


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Valve(ScopedModel):
    """An electric valve on a wastewater outlet, driven by a total-control logger."""

    outlet = models.ForeignKey(
        Outlet, verbose_name=_("排放口"), on_delete=models.PROTECT, related_name="valves"
    )
    logger = models.ForeignKey(
        DataLogger, verbose_name=_("控制数采仪"), on_delete=models.PROTECT, related_name="valves"
    )
    code = models.CharField(_("阀门编号"), max_length=16, default="V01")
    name = models.CharField(_("名称"), max_length=64, blank=True)
    state = models.CharField(
        _("阀门状态"), max_length=16, choices=c.ValveState.choices, default=c.ValveState.UNKNOWN
    )
    state_reported_at = models.DateTimeField(_("状态上报时间"), null=True, blank=True)
    state_received_at = models.DateTimeField(
        _("状态接收时间"), null=True, blank=True, help_text=_("平台收到该状态报文的时间")
    )

    scope_jurisdiction = "outlet__enterprise__jurisdiction__path"
    scope_enterprise = "outlet__enterprise"
    scope_logger = "logger"

    class Meta:
        verbose_name = _("阀门")
        verbose_name_plural = _("阀门")
        ordering = ["outlet", "code"]
        constraints = [models.UniqueConstraint(fields=["logger", "code"], name="uniq_valve_code")]

    def __str__(self) -> str:
        return f"{self.outlet} {self.name or self.code}"

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        if self.outlet_id and self.outlet.medium != c.Medium.WATER:
            errors["outlet"] = _("阀门只能安装在废水排放口；废气排放口超总量时采取报警和执法措施。")
        if (
            self.outlet_id
            and self.logger_id
            and self.logger.outlet.enterprise_id != self.outlet.enterprise_id
        ):
            errors["logger"] = _("控制数采仪必须属于同一排污单位。")
        if errors:
            raise ValidationError(errors)

    def event_scope(self) -> tuple[str, int | None]:
        return self.outlet.enterprise.jurisdiction.path, self.outlet.enterprise_id


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Camera(ScopedModel):
    """A camera at a monitoring station, an outlet or the factory gate."""

    enterprise = models.ForeignKey(
        Enterprise, verbose_name=_("排污单位"), on_delete=models.PROTECT, related_name="cameras"
    )
    outlet = models.ForeignKey(
        Outlet,
        verbose_name=_("排放口"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cameras",
    )
    code = models.CharField(_("编号"), max_length=32)
    name = models.CharField(_("名称"), max_length=64)
    location = models.CharField(
        _("安装位置"), max_length=16, choices=c.CameraLocation.choices, default=c.CameraLocation.STATION_DOOR
    )
    stream_url = models.CharField(_("视频流地址"), max_length=255, blank=True, help_text=_("RTSP或平台地址"))

    scope_jurisdiction = "enterprise__jurisdiction__path"
    scope_enterprise = "enterprise"

    class Meta:
        verbose_name = _("摄像头")
        verbose_name_plural = _("摄像头")
        ordering = ["enterprise", "code"]
        constraints = [models.UniqueConstraint(fields=["enterprise", "code"], name="uniq_camera_code")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.outlet is not None and self.enterprise_id and self.outlet.enterprise_id != self.enterprise_id:
            raise ValidationError({"outlet": _("排放口必须属于同一排污单位。")})

    def event_scope(self) -> tuple[str, int | None]:
        return self.enterprise.jurisdiction.path, self.enterprise_id
