"""Typed views of received messages: :func:`parse_message` turns a :class:`~hj212.frame.Frame` into one of
the result classes below, by CN and direction.

Values stay strings with typed accessors; legacy 2005 pollutant codes are kept as sent and mapped to
their HJ 212-2017 codes in ``PollutantValues.standard_code``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time
from decimal import Decimal
from typing import Literal

from . import codes
from .errors import MessageError
from .frame import Frame
from .values import parse_clock, parse_datetime, parse_decimal, parse_int

__all__ = [
    "BootTime",
    "Command",
    "DataAnswer",
    "DataUpload",
    "DeviceTime",
    "Direction",
    "ExecutionResult",
    "Heartbeat",
    "InfoItem",
    "InstrumentIds",
    "IntervalSetting",
    "Message",
    "NotificationAnswer",
    "PassThrough",
    "PollutantValues",
    "RequestAnswer",
    "RetentionInfo",
    "SampleTime",
    "SamplingPeriod",
    "SiteInfo",
    "TimeCalibrationRequest",
    "parse_message",
]

Direction = Literal["auto", "from-device", "from-host"]


@dataclass(frozen=True, slots=True)
class PollutantValues:
    """All items of one code in a data upload: ``fields`` maps suffix -> original string."""

    code: str
    fields: Mapping[str, str]

    @property
    def standard_code(self) -> str:
        """The HJ 212-2017 code (a legacy 2005 code mapped; other codes unchanged)."""
        return codes.map_legacy_code(self.code) or self.code

    @property
    def flag(self) -> str | None:
        """The data flag (N, F, M, S, D, C, T, B ...)."""
        return self.fields.get("Flag")

    def decimal(self, suffix: str = "Rtd") -> Decimal | None:
        """A numeric field as Decimal (None when absent)."""
        value = self.fields.get(suffix)
        return None if value is None else parse_decimal(value)

    def time(self, suffix: str = "SampleTime") -> datetime | None:
        """A time field (``SampleTime``) as an aware Beijing datetime."""
        value = self.fields.get(suffix)
        return None if value is None else parse_datetime(value)


@dataclass(frozen=True, slots=True)
class DataUpload:
    """2011 / 2051 / 2061 / 2031 / 2021 / 2041 uploads (and the 2025 2013, 2052, 2062, 2111 [verify])."""

    frame: Frame
    cn: str
    data_time: datetime | None
    values: tuple[PollutantValues, ...]
    extra: Mapping[str, str] = field(default_factory=dict)

    def get(self, code: str) -> PollutantValues | None:
        """Values of ``code`` (2017 or legacy spelling)."""
        for item in self.values:
            if code in (item.code, item.standard_code):
                return item
        return None

    def pairs(self) -> list[tuple[str, Mapping[str, str]]]:
        """``[(pollutant code, {suffix: value})]`` as sent."""
        return [(item.code, item.fields) for item in self.values]


@dataclass(frozen=True, slots=True)
class RequestAnswer:
    """9011: the device's answer to a request."""

    frame: Frame
    qn: str | None
    qn_rtn: int

    @property
    def meaning(self) -> str | None:
        """English meaning of QnRtn."""
        return codes.qn_rtn_meaning(str(self.qn_rtn))

    @property
    def accepted(self) -> bool:
        """QnRtn = 1 (ready to execute)."""
        return self.qn_rtn == 1


@dataclass(frozen=True, slots=True)
class ExecutionResult:
    """9012: the outcome of a request."""

    frame: Frame
    qn: str | None
    exe_rtn: int

    @property
    def meaning(self) -> str | None:
        """English meaning of ExeRtn."""
        return codes.exe_rtn_meaning(str(self.exe_rtn))

    @property
    def success(self) -> bool:
        """ExeRtn = 1."""
        return self.exe_rtn == 1


@dataclass(frozen=True, slots=True)
class NotificationAnswer:
    """9013."""

    frame: Frame
    qn: str | None


@dataclass(frozen=True, slots=True)
class DataAnswer:
    """9014."""

    frame: Frame
    qn: str | None


@dataclass(frozen=True, slots=True)
class DeviceTime:
    """1011 upload: the clock of the logger (``pol_id`` None) or an instrument."""

    frame: Frame
    pol_id: str | None
    system_time: datetime


@dataclass(frozen=True, slots=True)
class IntervalSetting:
    """1061 / 1063 upload: ``name`` is RtdInterval (s) or MinInterval (min)."""

    frame: Frame
    name: str
    value: int


@dataclass(frozen=True, slots=True)
class TimeCalibrationRequest:
    """1013: the device asks for the time (answer 9013, then send 1012)."""

    frame: Frame
    pol_id: str | None


@dataclass(frozen=True, slots=True)
class BootTime:
    """2081: the logger's boot time."""

    frame: Frame
    data_time: datetime | None
    restart_time: datetime


@dataclass(frozen=True, slots=True)
class RetentionInfo:
    """3015 upload: over-standard sample retained in bottle ``vase_no``."""

    frame: Frame
    data_time: datetime | None
    vase_no: int


@dataclass(frozen=True, slots=True)
class SamplingPeriod:
    """3017 upload: sampling schedule."""

    frame: Frame
    pol_id: str | None
    start: time
    hours: int


@dataclass(frozen=True, slots=True)
class SampleTime:
    """3018 upload: time-to-result in minutes."""

    frame: Frame
    pol_id: str | None
    minutes: int


@dataclass(frozen=True, slots=True)
class InstrumentIds:
    """3019 upload (and 2025 1001 [verify]): unique ids, code -> SN."""

    frame: Frame
    data_time: datetime | None
    ids: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class InfoItem:
    """One i-code value of a 3020 upload."""

    code: str
    value: str

    @property
    def meta(self) -> codes.InfoCode | None:
        """Table entry of the i-code."""
        return codes.info_code(self.code)

    @property
    def is_log(self) -> bool:
        """Log text (``//...//``)."""
        return self.value.startswith("//") and self.value.endswith("//") and len(self.value) >= 4

    @property
    def text(self) -> str:
        """The value without the log delimiters."""
        return self.value[2:-2] if self.is_log else self.value

    @property
    def meaning(self) -> str | None:
        """For enumerated states (i12001 ...), the meaning of the value."""
        meta = self.meta
        return meta.values.get(self.value) if meta is not None else None

    def decimal(self) -> Decimal:
        """The value as Decimal (FieldValueError for logs and text)."""
        return parse_decimal(self.value)


@dataclass(frozen=True, slots=True)
class SiteInfo:
    """3020 upload: site information (logs, states, parameters) of the logger or instrument ``pol_id``."""

    frame: Frame
    data_time: datetime | None
    pol_id: str | None
    items: tuple[InfoItem, ...]
    extra: Mapping[str, str] = field(default_factory=dict)

    def get(self, code: str) -> InfoItem | None:
        """The item of i-code ``code``."""
        return next((item for item in self.items if item.code == code), None)


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """9015 (2025 [verify]) or a vendor heartbeat (8013, 9021)."""

    frame: Frame


@dataclass(frozen=True, slots=True)
class Command:
    """A host -> device request (parsed on the device side / by simulators).

    ``items`` are the CP's plain items; ``subjects`` its ``code-Suffix`` items.
    """

    frame: Frame
    cn: str
    items: Mapping[str, str]
    subjects: Mapping[str, Mapping[str, str]]

    @property
    def pol_id(self) -> str | None:
        """Target instrument (None = the logger)."""
        return self.items.get("PolId")

    @property
    def begin(self) -> datetime | None:
        """BeginTime of a history query."""
        value = self.items.get("BeginTime")
        return None if value is None else parse_datetime(value)

    @property
    def end(self) -> datetime | None:
        """EndTime of a history query."""
        value = self.items.get("EndTime")
        return None if value is None else parse_datetime(value)


@dataclass(frozen=True, slots=True)
class PassThrough:
    """A message we keep but do not interpret (unknown CN, 2005 alarm family, vendor codes)."""

    frame: Frame
    cn: str | None
    items: Mapping[str, str]
    values: tuple[PollutantValues, ...]


Message = (
    DataUpload
    | RequestAnswer
    | ExecutionResult
    | NotificationAnswer
    | DataAnswer
    | DeviceTime
    | IntervalSetting
    | TimeCalibrationRequest
    | BootTime
    | RetentionInfo
    | SamplingPeriod
    | SampleTime
    | InstrumentIds
    | SiteInfo
    | Heartbeat
    | Command
    | PassThrough
)

_DATA_CNS = frozenset(("2011", "2021", "2031", "2041", "2051", "2061", "2013", "2052", "2062", "2111"))
_HEARTBEATS = frozenset(("9015", "8013", "9021"))


def _require(frame: Frame, key: str) -> str:
    value = frame.cp.plain.get(key)
    if value is None:
        raise MessageError(f"CN {frame.cn}: item {key} is missing")
    return value


def _maybe_time(frame: Frame, key: str) -> datetime | None:
    value = frame.cp.plain.get(key)
    return None if value is None else parse_datetime(value)


def _values(frame: Frame) -> tuple[PollutantValues, ...]:
    return tuple(PollutantValues(code, fields) for code, fields in frame.cp.subjects.items())


def _reply_qn(frame: Frame) -> str | None:
    return frame.answered_qn


def _is_from_device(frame: Frame, cn: str) -> bool:
    """For CNs used in both directions: does this frame carry the device's data?"""
    plain = frame.cp.plain
    if cn in _DATA_CNS:
        return "DataTime" in plain or bool(frame.cp.subjects)
    if cn == "1011":
        return "SystemTime" in plain
    if cn == "1061":
        return "RtdInterval" in plain
    if cn == "1063":
        return "MinInterval" in plain
    if cn == "3015":
        return "VaseNo" in plain
    if cn == "3017":
        return "CstartTime" in plain
    if cn == "3018":
        return "Stime" in plain
    if cn in ("3019", "1001"):
        return any("SN" in fields for fields in frame.cp.subjects.values())
    if cn == "3020":
        return any("Info" in fields for fields in frame.cp.subjects.values())
    entry = codes.command(cn)
    if entry is None:
        return True
    if entry.device is not None and ("DataTime" in plain or bool(frame.cp.subjects)):
        return True
    return entry.host is None


def parse_message(frame: Frame, *, direction: Direction = "auto") -> Message:
    """The typed view of ``frame``.

    ``direction`` settles CNs used both ways (2011 "start real-time data" vs "real-time data"); with
    ``auto`` the content decides (data items present -> device upload).  TotalCap extension CNs are
    parsed by :mod:`hj212.totalcap` (``parse_extension``).  Raises MessageError when a required item
    is missing, FieldValueError when a typed item is malformed.
    """
    cn = frame.cn
    if cn is None:
        return PassThrough(frame, None, dict(frame.cp.plain), _values(frame))
    if cn == "9011":
        return RequestAnswer(frame, _reply_qn(frame), parse_int(_require(frame, "QnRtn")))
    if cn == "9012":
        return ExecutionResult(frame, _reply_qn(frame), parse_int(_require(frame, "ExeRtn")))
    if cn == "9013":
        return NotificationAnswer(frame, _reply_qn(frame))
    if cn == "9014":
        return DataAnswer(frame, _reply_qn(frame))
    if cn in _HEARTBEATS:
        return Heartbeat(frame)
    if cn == "1013":
        return TimeCalibrationRequest(frame, frame.cp.plain.get("PolId"))
    if cn == "2081":
        return BootTime(frame, _maybe_time(frame, "DataTime"), parse_datetime(_require(frame, "RestartTime")))
    entry = codes.command(cn)
    from_device = direction == "from-device" if direction != "auto" else _is_from_device(frame, cn)
    plain = frame.cp.plain
    if not from_device:
        if entry is None:
            return PassThrough(frame, cn, dict(plain), _values(frame))
        return Command(frame, cn, dict(plain), frame.cp.subjects)
    if cn in _DATA_CNS:
        extra = {k: v for k, v in plain.items() if k != "DataTime"}
        return DataUpload(frame, cn, _maybe_time(frame, "DataTime"), _values(frame), extra)
    if cn == "1011":
        return DeviceTime(frame, plain.get("PolId"), parse_datetime(_require(frame, "SystemTime")))
    if cn == "1061":
        return IntervalSetting(frame, "RtdInterval", parse_int(_require(frame, "RtdInterval")))
    if cn == "1063":
        return IntervalSetting(frame, "MinInterval", parse_int(_require(frame, "MinInterval")))
    if cn == "3015":
        return RetentionInfo(frame, _maybe_time(frame, "DataTime"), parse_int(_require(frame, "VaseNo")))
    if cn == "3017":
        return SamplingPeriod(
            frame,
            plain.get("PolId"),
            parse_clock(_require(frame, "CstartTime")),
            parse_int(_require(frame, "Ctime")),
        )
    if cn == "3018":
        return SampleTime(frame, plain.get("PolId"), parse_int(_require(frame, "Stime")))
    if cn in ("3019", "1001"):
        ids = {code: fields["SN"] for code, fields in frame.cp.subjects.items() if "SN" in fields}
        return InstrumentIds(frame, _maybe_time(frame, "DataTime"), ids)
    if cn == "3020":
        items = tuple(
            InfoItem(key.partition("-")[0], value)
            for key, value in zip(frame.cp.keys, frame.cp.values, strict=True)
            if key.endswith("-Info")
        )
        extra = {k: v for k, v in plain.items() if k not in ("DataTime", "PolId")}
        return SiteInfo(frame, _maybe_time(frame, "DataTime"), plain.get("PolId"), items, extra)
    return PassThrough(frame, cn, dict(plain), _values(frame))
