"""The catalogue of reverse-control commands: every host → device request of HJ 212-2017 (plus the
2025 ones behind the profile) and the TotalCap extension (valve, sound-light alarm, allowance push).

A :class:`CommandSpec` names a command in the domain's words (``close_valve``), validates its
parameters (clear Chinese messages, changes nothing on error) and builds the frame with the
:mod:`hj212.commands` / :mod:`hj212.totalcap` builders. Nothing here touches the database or a
socket: the service stores commands, the gateway sends them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from hj212 import Frame, Peer
from hj212 import commands as c
from hj212 import totalcap as tc
from hj212.errors import BuildError, FieldValueError
from hj212.values import BEIJING, format_datetime, parse_datetime

Kind = Literal["request", "notification"]
ParamType = Literal["int", "str", "time", "decimal", "bool", "clock"]


class ParamError(ValueError):
    """A parameter is missing or invalid; ``field`` names it, the message is Chinese."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class Param:
    name: str
    type: ParamType
    label: str
    required: bool = True
    low: int | None = None
    high: int | None = None
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class CommandSpec:
    """One command: its CN, label, parameters, how to build it and what answer to expect.

    ``result_cns``: CNs of the data a "get" command returns (stored on the command);
    ``history``: the answer is a stream of records (the execution timer restarts on each one);
    ``valve``: needs the valve-control permission; ``requires``: ``2025`` or ``totalcap`` profile.
    """

    name: str
    cn: str
    label: str
    build: Callable[[Peer, dict[str, Any], str], Frame]
    params: tuple[Param, ...] = ()
    kind: Kind = "request"
    result_cns: tuple[str, ...] = ()
    history: bool = False
    valve: bool = False
    requires: str = ""
    default_expiry: timedelta = field(default=timedelta(hours=24))

    def clean(self, params: dict[str, Any] | None) -> dict[str, Any]:
        """Validated, JSON-able parameters (times as ``YYYYMMDDhhmmss`` strings); raises ParamError."""
        params = dict(params or {})
        unknown = set(params) - {p.name for p in self.params}
        if unknown:
            raise ParamError(f"命令「{self.label}」不接受参数：{'、'.join(sorted(unknown))}。")
        cleaned: dict[str, Any] = {}
        for p in self.params:
            value = params.get(p.name)
            if value is None or value == "":
                if p.required:
                    raise ParamError(f"请填写「{p.label}」。", p.name)
                continue
            cleaned[p.name] = _convert(p, value)
        if "begin" in cleaned and "end" in cleaned and cleaned["begin"] > cleaned["end"]:
            raise ParamError("开始时间不能晚于结束时间。", "begin")
        return cleaned

    def frame(self, peer: Peer, params: dict[str, Any], qn: str) -> Frame:
        """The request frame (parameters already cleaned)."""
        try:
            return self.build(peer, params, qn)
        except (BuildError, FieldValueError) as exc:
            raise ParamError(f"无法生成命令：{exc}") from exc


def _convert(p: Param, value: Any) -> Any:
    text = str(value).strip()
    if p.type == "int":
        try:
            number = int(text)
        except ValueError as exc:
            raise ParamError(f"「{p.label}」应为整数。", p.name) from exc
        if (p.low is not None and number < p.low) or (p.high is not None and number > p.high):
            raise ParamError(f"「{p.label}」应在 {p.low} 至 {p.high} 之间。", p.name)
        if p.choices and str(number) not in p.choices:
            raise ParamError(f"「{p.label}」应为 {'、'.join(p.choices)} 之一。", p.name)
        return number
    if p.type == "bool":
        return text.lower() in {"1", "true", "yes", "on"}
    if p.type == "decimal":
        try:
            number_d = Decimal(text)
        except InvalidOperation as exc:
            raise ParamError(f"「{p.label}」应为数字。", p.name) from exc
        if not number_d.is_finite() or number_d < 0:
            raise ParamError(f"「{p.label}」应为非负数。", p.name)
        return format(number_d, "f")
    if p.type == "time":
        if isinstance(value, datetime):
            return format_datetime(value.astimezone(BEIJING))
        digits = text.replace("-", "").replace(":", "").replace(" ", "").replace("T", "")
        try:
            parse_datetime(digits)
        except FieldValueError as exc:
            raise ParamError(f"「{p.label}」应为时间（YYYYMMDDhhmmss，北京时间）。", p.name) from exc
        return digits[:14].ljust(14, "0")
    if p.type == "clock":
        digits = text.replace(":", "")
        if len(digits) != 6 or not digits.isdigit() or int(digits[:2]) > 23 or int(digits[2:4]) > 59:
            raise ParamError(f"「{p.label}」应为时刻（hhmmss）。", p.name)
        return digits
    if p.choices and text not in p.choices:
        raise ParamError(f"「{p.label}」应为 {'、'.join(p.choices)} 之一。", p.name)
    if not text or any(ch in text for ch in ";,=&\r\n"):
        raise ParamError(f"「{p.label}」不能为空，也不能包含 ; , = & 等分隔符。", p.name)
    return text


POL = Param("pol_id", "str", "监测因子编码（PolId）")
POL_OPT = Param("pol_id", "str", "监测因子编码（PolId）", required=False)
BEGIN = Param("begin", "time", "开始时间")
END = Param("end", "time", "结束时间")
VALVE = Param("valve_id", "int", "阀门编号（ValveId）", required=False, low=1, high=99)
REASON = Param("reason", "int", "原因", required=False, choices=("1", "2", "3", "4", "9"))


def _now_text() -> str:
    return format_datetime(datetime.now(BEIJING))


def _opt(params: dict[str, Any], key: str) -> Any:
    return params.get(key)


SPECS: list[CommandSpec] = [
    # --- initialisation and parameters (1000-1999)
    CommandSpec("set_timeout", "1000", "设置超时时间及重发次数",
                lambda p, a, q: c.set_timeout(p, a["overtime"], a["recount"], qn=q),
                (Param("overtime", "int", "超时时间（秒）", low=1, high=99),
                 Param("recount", "int", "重发次数", low=1, high=99))),
    CommandSpec("get_time", "1011", "提取现场机时间", lambda p, a, q: c.get_time(p, _opt(a, "pol_id"), qn=q),
                (POL_OPT,), result_cns=("1011",)),
    CommandSpec("set_time", "1012", "设置现场机时间",
                lambda p, a, q: c.set_time(p, a.get("system_time") or _now_text(), _opt(a, "pol_id"), qn=q),
                (POL_OPT, Param("system_time", "time", "时间（留空为当前时间）", required=False)),
                default_expiry=timedelta(minutes=10)),
    CommandSpec("get_rtd_interval", "1061", "提取实时数据间隔", lambda p, a, q: c.get_rtd_interval(p, qn=q),
                result_cns=("1061",)),
    CommandSpec("set_rtd_interval", "1062", "设置实时数据间隔",
                lambda p, a, q: c.set_rtd_interval(p, a["seconds"], qn=q),
                (Param("seconds", "int", "实时数据间隔（秒）", low=30, high=3600),)),
    CommandSpec("get_min_interval", "1063", "提取分钟数据间隔", lambda p, a, q: c.get_min_interval(p, qn=q),
                result_cns=("1063",)),
    CommandSpec("set_min_interval", "1064", "设置分钟数据间隔",
                lambda p, a, q: c.set_min_interval(p, a["minutes"], qn=q),
                (Param("minutes", "int", "分钟数据间隔（分钟）",
                       choices=tuple(str(m) for m in c.MIN_INTERVALS)),)),
    CommandSpec("set_password", "1072", "设置访问密码", lambda p, a, q: c.set_password(p, a["new_pw"], qn=q),
                (Param("new_pw", "str", "新密码（6位字母或数字）"),)),
    # --- data (2000-2999)
    CommandSpec("start_realtime", "2011", "开启实时数据上传", lambda p, a, q: c.start_realtime(p, qn=q)),
    CommandSpec("stop_realtime", "2012", "停止实时数据上传", lambda p, a, q: c.stop_realtime(p, qn=q),
                kind="notification"),
    CommandSpec("start_status", "2021", "开启设备运行状态上传", lambda p, a, q: c.start_status(p, qn=q)),
    CommandSpec("stop_status", "2022", "停止设备运行状态上传", lambda p, a, q: c.stop_status(p, qn=q),
                kind="notification"),
    CommandSpec("get_day_data", "2031", "补取日历史数据",
                lambda p, a, q: c.get_day_data(p, a["begin"], a["end"], qn=q), (BEGIN, END),
                result_cns=("2031",), history=True),
    CommandSpec("get_runtime_data", "2041", "补取设施运行时间日历史数据",
                lambda p, a, q: c.get_runtime_data(p, a["begin"], a["end"], qn=q), (BEGIN, END),
                result_cns=("2041",), history=True),
    CommandSpec("get_minute_data", "2051", "补取分钟历史数据",
                lambda p, a, q: c.get_minute_data(p, a["begin"], a["end"], qn=q), (BEGIN, END),
                result_cns=("2051",), history=True),
    CommandSpec("get_hour_data", "2061", "补取小时历史数据",
                lambda p, a, q: c.get_hour_data(p, a["begin"], a["end"], qn=q), (BEGIN, END),
                result_cns=("2061",), history=True),
    # --- control (3000-3999)
    CommandSpec("calibrate", "3011", "零点/量程校准", lambda p, a, q: c.calibrate(p, a["pol_id"], qn=q), (POL,)),
    CommandSpec("sample_now", "3012", "即时采样", lambda p, a, q: c.sample_now(p, a["pol_id"], qn=q), (POL,)),
    CommandSpec("start_cleaning", "3013", "启动清洗/反吹",
                lambda p, a, q: c.start_cleaning(p, a["pol_id"], qn=q), (POL,)),
    CommandSpec("comparison_sampling", "3014", "比对采样",
                lambda p, a, q: c.comparison_sampling(p, a["pol_id"], qn=q), (POL,)),
    CommandSpec("retention_sampling", "3015", "超标留样",
                lambda p, a, q: c.retention_sampling(p, _opt(a, "pol_id"), qn=q), (POL_OPT,),
                result_cns=("3015",)),
    CommandSpec("set_sampling_period", "3016", "设置采样时间周期",
                lambda p, a, q: c.set_sampling_period(p, a["pol_id"], a["start"], a["hours"], qn=q),
                (POL, Param("start", "clock", "起始时刻（hhmmss）"),
                 Param("hours", "int", "采样周期（小时）", low=1, high=24))),
    CommandSpec("get_sampling_period", "3017", "提取采样时间周期",
                lambda p, a, q: c.get_sampling_period(p, a["pol_id"], qn=q), (POL,), result_cns=("3017",)),
    CommandSpec("get_sample_time", "3018", "提取出样时间",
                lambda p, a, q: c.get_sample_time(p, a["pol_id"], qn=q), (POL,), result_cns=("3018",)),
    CommandSpec("get_instrument_sn", "3019", "提取设备唯一标识",
                lambda p, a, q: c.get_instrument_sn(p, a["pol_id"], qn=q), (POL,), result_cns=("3019",)),
    CommandSpec("get_site_info", "3020", "提取现场端信息",
                lambda p, a, q: c.get_site_info(p, a["info_id"], _opt(a, "pol_id"), _opt(a, "begin"),
                                                _opt(a, "end"), qn=q),
                (Param("info_id", "str", "信息编码（InfoId）"), POL_OPT,
                 Param("begin", "time", "开始时间（日志）", required=False),
                 Param("end", "time", "结束时间（日志）", required=False)),
                result_cns=("3020",)),
    CommandSpec("set_site_param", "3021", "设置现场端参数",
                lambda p, a, q: c.set_site_param(p, a["info_id"], a["value"], _opt(a, "pol_id"), qn=q),
                (Param("info_id", "str", "信息编码（InfoId）"), Param("value", "str", "参数值"), POL_OPT)),
    # --- HJ 212-2025 [verify]
    CommandSpec("set_mn", "1002", "设置MN（2025）", lambda p, a, q: c.set_mn(p, a["new_mn"], qn=q),
                (Param("new_mn", "str", "新MN"),), requires="2025"),
    CommandSpec("get_raw_data", "2013", "补取原始数据（2025）",
                lambda p, a, q: c.get_raw_data(p, a["begin"], a["end"], qn=q), (BEGIN, END),
                result_cns=("2013",), history=True, requires="2025"),
    CommandSpec("get_standard_check_data", "2062", "提取自动标样核查数据（2025）",
                lambda p, a, q: c.get_standard_check_data(p, a["begin"], a["end"], qn=q), (BEGIN, END),
                result_cns=("2062",), history=True, requires="2025"),
    CommandSpec("get_furnace_temperature", "2111", "提取炉温5分钟均值（2025）",
                lambda p, a, q: c.get_furnace_temperature(p, a["begin"], a["end"], qn=q), (BEGIN, END),
                result_cns=("2111",), history=True, requires="2025"),
    CommandSpec("start_retention_task", "3022", "即时留样任务（2025）",
                lambda p, a, q: c.start_retention_task(p, a["pol_id"], qn=q), (POL,), requires="2025"),
    CommandSpec("start_standard_check", "3024", "启动标样核查（2025）",
                lambda p, a, q: c.start_standard_check(p, a["pol_id"], qn=q), (POL,), requires="2025"),
    # --- TotalCap extension profile (not HJ 212)
    CommandSpec("close_valve", "3801", "关闭阀门",
                lambda p, a, q: tc.close_valve(p, a.get("valve_id", 1), pol_id=_opt(a, "pol_id"),
                                               reason=_opt(a, "reason"), qn=q),
                (VALVE, POL_OPT, REASON), valve=True, requires="totalcap", default_expiry=timedelta(days=7)),
    CommandSpec("open_valve", "3802", "开启阀门",
                lambda p, a, q: tc.open_valve(p, a.get("valve_id", 1), pol_id=_opt(a, "pol_id"),
                                              reason=_opt(a, "reason"), qn=q),
                (VALVE, POL_OPT, REASON), valve=True, requires="totalcap", default_expiry=timedelta(days=7)),
    CommandSpec("alarm_indication", "3803", "声光报警及语音提示",
                lambda p, a, q: tc.alarm_indication(p, a["level"], light=a.get("light", True),
                                                    voice=a.get("voice", True), qn=q),
                (Param("level", "int", "级别（0解除 1预警 2红色 3耗尽）", choices=("0", "1", "2", "3")),
                 Param("light", "bool", "声光报警", required=False),
                 Param("voice", "bool", "语音提示", required=False)),
                requires="totalcap", default_expiry=timedelta(hours=1)),
    CommandSpec("push_allowance", "3812", "下发剩余排放量",
                lambda p, a, q: tc.push_allowance(p, period=a["period"], pol_id=a["pol_id"],
                                                  allowance=a["allowance"], unit=a["unit"],
                                                  valid_until=a["valid_until"], key=p.pw.encode(), qn=q),
                (Param("period", "str", "周期（YYYYMM）"), POL, Param("allowance", "decimal", "剩余排放量"),
                 Param("unit", "str", "单位", choices=("kg", "t", "m3")),
                 Param("valid_until", "time", "有效期至")),
                valve=True, requires="totalcap", default_expiry=timedelta(days=3)),
]  # fmt: skip

BY_NAME: dict[str, CommandSpec] = {spec.name: spec for spec in SPECS}
BY_CN: dict[str, CommandSpec] = {spec.cn: spec for spec in SPECS}


def spec_for(name: str) -> CommandSpec:
    """The spec of command ``name``; ParamError (with the list of names) when unknown."""
    try:
        return BY_NAME[name]
    except KeyError as exc:
        raise ParamError(f"未知命令「{name}」。可用命令：{'、'.join(BY_NAME)}。", "command") from exc


def choices() -> list[tuple[str, str]]:
    """(name, "CN label") pairs for forms and the API schema."""
    return [(spec.name, f"{spec.cn} {spec.label}") for spec in SPECS]
