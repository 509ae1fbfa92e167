"""Builders of HJ 212 messages: host -> device commands and device -> host uploads.

Every builder returns a :class:`~hj212.frame.Frame`; turn it into bytes with :func:`hj212.frame.build`
(or :func:`hj212.split.build_frames` for uploads that may need splitting).  The peer's :class:`Profile`
decides the Flag value and which 2025 / TotalCap codes may be built.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time
from decimal import Decimal
from typing import TypedDict, Unpack

from . import codes
from .errors import BuildError
from .frame import CP, Frame, make_frame
from .profile import PROFILE_2017, Profile
from .values import format_datetime, format_decimal, new_qn

__all__ = [
    "MIN_INTERVALS",
    "Options",
    "Peer",
    "calibrate",
    "command",
    "comparison_sampling",
    "exchange_key",
    "get_day_data",
    "get_furnace_temperature",
    "get_hour_data",
    "get_instrument_sn",
    "get_min_interval",
    "get_minute_data",
    "get_raw_data",
    "get_rtd_interval",
    "get_runtime_data",
    "get_sample_time",
    "get_sampling_period",
    "get_site_info",
    "get_standard_check_data",
    "get_time",
    "heartbeat",
    "retention_sampling",
    "sample_now",
    "set_min_interval",
    "set_mn",
    "set_password",
    "set_rtd_interval",
    "set_sampling_period",
    "set_site_param",
    "set_time",
    "set_timeout",
    "start_cleaning",
    "start_realtime",
    "start_retention_task",
    "start_standard_check",
    "start_status",
    "stop_realtime",
    "stop_status",
    "time_calibration_request",
    "upload",
    "upload_data",
]

#: Minute-data periods allowed by HJ 212-2017 (Table 4, MinInterval).
MIN_INTERVALS = (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30)

Value = str | int | Decimal


class Options(TypedDict, total=False):
    """Keyword options every builder accepts: ``qn`` (default: a fresh one), ``now`` (for the fresh QN),
    ``ack`` (Flag.A; default: the profile's)."""

    qn: str | None
    now: datetime | None
    ack: bool | None


@dataclass(frozen=True, slots=True)
class Peer:
    """The other end of a connection: the device a host commands (or the host a device uploads to).

    ``mn``/``pw``/``st`` go into every header; ``profile`` decides Flag and allowed codes.
    """

    mn: str
    pw: str = "123456"
    st: str = "32"
    profile: Profile = field(default=PROFILE_2017)


def _text(value: Value) -> str:
    if isinstance(value, str):
        return value
    return format_decimal(value)


def _time(value: datetime | str) -> str:
    return value if isinstance(value, str) else format_datetime(value)


def _allowed(peer: Peer, cn: str) -> None:
    entry = codes.command(cn)
    if entry is None:
        return
    if entry.origin == "2025" and not peer.profile.allow_2025:
        raise BuildError(f"CN {cn} is a HJ 212-2025 command [verify]; use a profile with allow_2025=True")
    if entry.origin == "totalcap" and not peer.profile.totalcap_extension:
        raise BuildError(
            f"CN {cn} belongs to the TotalCap extension; use a profile with totalcap_extension=True"
        )


def command(
    peer: Peer,
    cn: str | int,
    items: Iterable[tuple[str, Value]] | Mapping[str, Value] = (),
    *,
    qn: str | None = None,
    now: datetime | None = None,
    ack: bool | None = None,
) -> Frame:
    """A host -> device request with the given CP items (generic; the typed builders below use it)."""
    cn_text = str(cn)
    _allowed(peer, cn_text)
    pairs = items.items() if isinstance(items, Mapping) else items
    prof = peer.profile
    flag = prof.flag_value(ack=prof.request_ack if ack is None else ack) if prof.include_flag else None
    return make_frame(
        cn_text,
        mn=peer.mn,
        pw=peer.pw,
        st=peer.st,
        qn=qn or new_qn(now),
        flag=flag,
        cp=CP([(k, _text(v)) for k, v in pairs]),
    )


def upload(
    peer: Peer,
    cn: str | int,
    items: Iterable[tuple[str, Value]] | Mapping[str, Value] = (),
    *,
    qn: str | None = None,
    now: datetime | None = None,
    ack: bool | None = None,
) -> Frame:
    """A device -> host upload (or a "get" result: pass the request's ``qn``)."""
    cn_text = str(cn)
    _allowed(peer, cn_text)
    pairs = items.items() if isinstance(items, Mapping) else items
    prof = peer.profile
    flag = prof.flag_value(ack=prof.upload_ack if ack is None else ack) if prof.include_flag else None
    return make_frame(
        cn_text,
        mn=peer.mn,
        pw=peer.pw,
        st=peer.st,
        qn=qn or new_qn(now),
        flag=flag,
        cp=CP([(k, _text(v)) for k, v in pairs]),
    )


def upload_data(
    peer: Peer,
    cn: str | int,
    data_time: datetime | str,
    values: Mapping[str, Mapping[str, Value]],
    *,
    extra: Mapping[str, Value] | None = None,
    qn: str | None = None,
    now: datetime | None = None,
    ack: bool | None = None,
) -> Frame:
    """A data upload (2011 real-time, 2051 minute, 2061 hour, 2031 day, 2021 status, 2041 run time ...):
    ``DataTime`` first, then each code's ``code-Suffix=value`` items (``,`` within a code)."""
    frame = upload(
        peer, cn, [("DataTime", _time(data_time)), *(extra or {}).items()], qn=qn, now=now, ack=ack
    )
    cp = CP.build(
        list(zip(frame.cp.keys, frame.cp.values, strict=True)),
        {code: {suffix: _text(v) for suffix, v in fields.items()} for code, fields in values.items()},
    )
    return frame.replace(cp=cp)


def _pol(pol_id: str | None) -> list[tuple[str, Value]]:
    return [] if pol_id is None else [("PolId", pol_id)]


def _window(begin: datetime | str, end: datetime | str) -> list[tuple[str, Value]]:
    return [("BeginTime", _time(begin)), ("EndTime", _time(end))]


def _range(name: str, value: int, low: int, high: int) -> int:
    if not isinstance(value, int) or not low <= value <= high:
        raise BuildError(f"{name} must be an integer {low}..{high}, got {value!r}")
    return value


# ------------------------------------------------------------------------------- 1000-1999


def set_timeout(peer: Peer, overtime: int, recount: int, **kw: Unpack[Options]) -> Frame:
    """1000: request timeout (s, 1-99) and retries (1-99)."""
    items = [
        ("OverTime", _range("OverTime", overtime, 1, 99)),
        ("ReCount", _range("ReCount", recount, 1, 99)),
    ]
    return command(peer, 1000, items, **kw)


def get_time(peer: Peer, pol_id: str | None = None, **kw: Unpack[Options]) -> Frame:
    """1011: read the clock of the logger (or of instrument ``pol_id``)."""
    return command(peer, 1011, _pol(pol_id), **kw)


def set_time(
    peer: Peer, system_time: datetime | str, pol_id: str | None = None, **kw: Unpack[Options]
) -> Frame:
    """1012: set the clock (Beijing time) of the logger or instrument ``pol_id``."""
    return command(peer, 1012, [*_pol(pol_id), ("SystemTime", _time(system_time))], **kw)


def time_calibration_request(peer: Peer, pol_id: str | None = None, **kw: Unpack[Options]) -> Frame:
    """1013 (device -> host): ask the host for the time; the host answers 9013 then sends 1012."""
    return upload(peer, 1013, _pol(pol_id), **kw)


def get_rtd_interval(peer: Peer, **kw: Unpack[Options]) -> Frame:
    """1061: read the real-time upload period."""
    return command(peer, 1061, (), **kw)


def set_rtd_interval(peer: Peer, seconds: int, **kw: Unpack[Options]) -> Frame:
    """1062: set the real-time upload period (30-3600 s)."""
    return command(peer, 1062, [("RtdInterval", _range("RtdInterval", seconds, 30, 3600))], **kw)


def get_min_interval(peer: Peer, **kw: Unpack[Options]) -> Frame:
    """1063: read the minute-data period."""
    return command(peer, 1063, (), **kw)


def set_min_interval(peer: Peer, minutes: int, **kw: Unpack[Options]) -> Frame:
    """1064: set the minute-data period (one of 1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30)."""
    if minutes not in MIN_INTERVALS:
        raise BuildError(f"MinInterval must be one of {MIN_INTERVALS}, got {minutes!r}")
    return command(peer, 1064, [("MinInterval", minutes)], **kw)


def set_password(peer: Peer, new_pw: str, **kw: Unpack[Options]) -> Frame:
    """1072: set the access password (6 characters)."""
    if len(new_pw) != 6 or not new_pw.isascii() or not new_pw.isalnum():
        raise BuildError("NewPW must be 6 ASCII letters or digits")
    return command(peer, 1072, [("NewPW", new_pw)], **kw)


def set_mn(peer: Peer, new_mn: str, **kw: Unpack[Options]) -> Frame:
    """1002 (2025 [verify]): set the MN; item name ``NewMN`` [verify]."""
    return command(peer, 1002, [("NewMN", new_mn)], **kw)


def exchange_key(peer: Peer, new_sk: str, created: datetime | str, **kw: Unpack[Options]) -> Frame:
    """1014 (2025 [verify]): secret-key exchange (``SKCreateTime``, ``NewSK``)."""
    return command(peer, 1014, [("SKCreateTime", _time(created)), ("NewSK", new_sk)], **kw)


# ------------------------------------------------------------------------------- 2000-2999


def start_realtime(peer: Peer, **kw: Unpack[Options]) -> Frame:
    """2011: start real-time data upload."""
    return command(peer, 2011, (), **kw)


def stop_realtime(peer: Peer, **kw: Unpack[Options]) -> Frame:
    """2012 (notification): stop real-time data; the device answers 9013."""
    return command(peer, 2012, (), **kw)


def start_status(peer: Peer, **kw: Unpack[Options]) -> Frame:
    """2021: start equipment-status upload."""
    return command(peer, 2021, (), **kw)


def stop_status(peer: Peer, **kw: Unpack[Options]) -> Frame:
    """2022 (notification): stop equipment-status upload; the device answers 9013."""
    return command(peer, 2022, (), **kw)


def get_day_data(peer: Peer, begin: datetime | str, end: datetime | str, **kw: Unpack[Options]) -> Frame:
    """2031: day history in [begin, end]."""
    return command(peer, 2031, _window(begin, end), **kw)


def get_runtime_data(peer: Peer, begin: datetime | str, end: datetime | str, **kw: Unpack[Options]) -> Frame:
    """2041: facility run-time day history."""
    return command(peer, 2041, _window(begin, end), **kw)


def get_minute_data(peer: Peer, begin: datetime | str, end: datetime | str, **kw: Unpack[Options]) -> Frame:
    """2051: minute history."""
    return command(peer, 2051, _window(begin, end), **kw)


def get_hour_data(peer: Peer, begin: datetime | str, end: datetime | str, **kw: Unpack[Options]) -> Frame:
    """2061: hour history."""
    return command(peer, 2061, _window(begin, end), **kw)


def get_raw_data(peer: Peer, begin: datetime | str, end: datetime | str, **kw: Unpack[Options]) -> Frame:
    """2013 (2025 [verify]): raw periodic monitoring data."""
    return command(peer, 2013, _window(begin, end), **kw)


def get_standard_check_data(
    peer: Peer, begin: datetime | str, end: datetime | str, **kw: Unpack[Options]
) -> Frame:
    """2062 (2025 [verify]): automatic standard-check data."""
    return command(peer, 2062, _window(begin, end), **kw)


def get_furnace_temperature(
    peer: Peer, begin: datetime | str, end: datetime | str, **kw: Unpack[Options]
) -> Frame:
    """2111 (2025 [verify]): furnace temperature 5-minute means."""
    return command(peer, 2111, _window(begin, end), **kw)


# ------------------------------------------------------------------------------- 3000-3999


def calibrate(peer: Peer, pol_id: str, calibration_type: int | None = None, **kw: Unpack[Options]) -> Frame:
    """3011: zero / span calibration of ``pol_id``; ``calibration_type`` (0 zero, 1 span) is 2025 only [verify]."""
    items: list[tuple[str, Value]] = [("PolId", pol_id)]
    if calibration_type is not None:
        if not peer.profile.allow_2025:
            raise BuildError(
                "CalibrationType is a HJ 212-2025 item [verify]; use a profile with allow_2025=True"
            )
        items.append(("CalibrationType", _range("CalibrationType", calibration_type, 0, 1)))
    return command(peer, 3011, items, **kw)


def sample_now(peer: Peer, pol_id: str, **kw: Unpack[Options]) -> Frame:
    """3012: immediate sampling."""
    return command(peer, 3012, [("PolId", pol_id)], **kw)


def start_cleaning(peer: Peer, pol_id: str, **kw: Unpack[Options]) -> Frame:
    """3013: start cleaning (water) / blow-back (gas)."""
    return command(peer, 3013, [("PolId", pol_id)], **kw)


def comparison_sampling(peer: Peer, pol_id: str, **kw: Unpack[Options]) -> Frame:
    """3014: comparison sampling."""
    return command(peer, 3014, [("PolId", pol_id)], **kw)


def retention_sampling(peer: Peer, pol_id: str | None = None, **kw: Unpack[Options]) -> Frame:
    """3015: over-standard sample retention."""
    return command(peer, 3015, _pol(pol_id), **kw)


def set_sampling_period(
    peer: Peer, pol_id: str, start: time | str, hours: int, **kw: Unpack[Options]
) -> Frame:
    """3016: sampling schedule: start ``hhmmss`` and period ``hours`` (1-24)."""
    start_text = start if isinstance(start, str) else start.strftime("%H%M%S")
    items: list[tuple[str, Value]] = [
        ("PolId", pol_id),
        ("CstartTime", start_text),
        ("Ctime", _range("Ctime", hours, 1, 24)),
    ]
    return command(peer, 3016, items, **kw)


def get_sampling_period(peer: Peer, pol_id: str, **kw: Unpack[Options]) -> Frame:
    """3017: read the sampling schedule."""
    return command(peer, 3017, [("PolId", pol_id)], **kw)


def get_sample_time(peer: Peer, pol_id: str, **kw: Unpack[Options]) -> Frame:
    """3018: read the time-to-result (``Stime``)."""
    return command(peer, 3018, [("PolId", pol_id)], **kw)


def get_instrument_sn(peer: Peer, pol_id: str, **kw: Unpack[Options]) -> Frame:
    """3019: read the instrument's unique id."""
    return command(peer, 3019, [("PolId", pol_id)], **kw)


def get_site_info(
    peer: Peer,
    info_id: str,
    pol_id: str | None = None,
    begin: datetime | str | None = None,
    end: datetime | str | None = None,
    **kw: Unpack[Options],
) -> Frame:
    """3020: read site information ``info_id`` (logs take a ``begin``/``end`` window)."""
    items: list[tuple[str, Value]] = [*_pol(pol_id), ("InfoId", info_id)]
    if begin is not None and end is not None:
        items += _window(begin, end)
    return command(peer, 3020, items, **kw)


def set_site_param(
    peer: Peer, info_id: str, value: Value, pol_id: str | None = None, **kw: Unpack[Options]
) -> Frame:
    """3021: set site parameter ``info_id`` (an i13xxx code) to ``value``."""
    items: list[tuple[str, Value]] = [*_pol(pol_id), ("InfoId", info_id), (f"{info_id}-Info", value)]
    return command(peer, 3021, items, **kw)


def start_retention_task(peer: Peer, pol_id: str, **kw: Unpack[Options]) -> Frame:
    """3022 (2025 [verify]): immediate retention task."""
    return command(peer, 3022, [("PolId", pol_id)], **kw)


def start_standard_check(peer: Peer, pol_id: str, **kw: Unpack[Options]) -> Frame:
    """3024 (2025 [verify]): start a standard-sample check."""
    return command(peer, 3024, [("PolId", pol_id)], **kw)


def heartbeat(peer: Peer, **kw: Unpack[Options]) -> Frame:
    """9015 (device -> host, 2025 [verify]): heartbeat with an empty CP."""
    return upload(peer, 9015, (), **kw)
