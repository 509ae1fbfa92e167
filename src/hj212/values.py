"""Typed views of HJ 212 value strings: Decimal numbers and Beijing-time datetimes.

Values stay strings in frames (so a frame re-emits byte for byte); these helpers convert at the edge.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta, timezone, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Final

from .errors import FieldValueError

__all__ = [
    "BEIJING",
    "format_datetime",
    "format_decimal",
    "format_qn",
    "new_qn",
    "next_qn",
    "parse_clock",
    "parse_datetime",
    "parse_decimal",
    "parse_int",
]


def _beijing() -> tzinfo:
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo("Asia/Shanghai")
    except Exception:  # pragma: no cover - no tz database on the machine; China has no DST since 1991
        return timezone(timedelta(hours=8), "Asia/Shanghai")


#: Asia/Shanghai (UTC+8): every HJ 212 time is Beijing time.
BEIJING: Final[tzinfo] = _beijing()

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")


def parse_decimal(value: str) -> Decimal:
    """``'12.30'`` -> ``Decimal('12.30')`` (trailing zeros kept).  Raises FieldValueError."""
    text = value.strip()
    if not _NUMBER.fullmatch(text):
        raise FieldValueError(f"not a number: {value!r}")
    try:
        return Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover - the regex admits only valid literals
        raise FieldValueError(f"not a number: {value!r}") from exc


def parse_int(value: str) -> int:
    """A decimal integer (leading zeros allowed).  Raises FieldValueError."""
    text = value.strip()
    if not text.isdigit() or not text.isascii():
        raise FieldValueError(f"not an integer: {value!r}")
    return int(text)


def format_decimal(value: Decimal | int | str) -> str:
    """Plain positional notation, never an exponent (``Decimal('1E+2')`` -> ``'100'``)."""
    if isinstance(value, str):
        parse_decimal(value)
        return value
    if isinstance(value, int):
        return str(value)
    if not value.is_finite():
        raise FieldValueError(f"not a finite number: {value!r}")
    return format(value, "f")


def parse_datetime(value: str) -> datetime:
    """``YYYYMMDDhhmmss`` (or 17 digits with milliseconds, or 12 digits without seconds) in Beijing time.

    Returns a timezone-aware datetime (tz = :data:`BEIJING`).  Raises FieldValueError.
    """
    text = value.strip()
    n = len(text)
    if not text.isdigit() or not text.isascii() or n not in (12, 14, 17):
        raise FieldValueError(f"not an HJ 212 time (YYYYMMDDhhmmss): {value!r}")
    try:
        return datetime(
            int(text[0:4]),
            int(text[4:6]),
            int(text[6:8]),
            int(text[8:10]),
            int(text[10:12]),
            int(text[12:14]) if n >= 14 else 0,
            int(text[14:17]) * 1000 if n == 17 else 0,
            tzinfo=BEIJING,
        )
    except ValueError as exc:
        raise FieldValueError(f"not a valid time: {value!r}") from exc


def parse_clock(value: str) -> time:
    """``hhmmss`` (CstartTime) -> ``time``.  Raises FieldValueError."""
    text = value.strip()
    if len(text) != 6 or not text.isdigit():
        raise FieldValueError(f"not an hhmmss time: {value!r}")
    try:
        return time(int(text[0:2]), int(text[2:4]), int(text[4:6]))
    except ValueError as exc:
        raise FieldValueError(f"not a valid time of day: {value!r}") from exc


def _to_beijing(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(BEIJING)


def format_datetime(moment: datetime, *, milliseconds: bool = False) -> str:
    """``YYYYMMDDhhmmss`` (optionally + ``zzz``) in Beijing time; naive datetimes are taken as Beijing time."""
    local = _to_beijing(moment)
    text = local.strftime("%Y%m%d%H%M%S")
    if milliseconds:
        text += f"{local.microsecond // 1000:03d}"
    return text


def format_qn(moment: datetime) -> str:
    """A QN (``YYYYMMDDhhmmsszzz``) for ``moment``."""
    return format_datetime(moment, milliseconds=True)


def new_qn(now: datetime | None = None) -> str:
    """A fresh QN for the current (or given) instant, in Beijing time."""
    return format_qn(now if now is not None else datetime.now(UTC))


def next_qn(qn: str, step: int = 1) -> str:
    """The QN ``step`` milliseconds after ``qn`` (consecutive QNs of split packets).

    A QN that is not a valid timestamp is incremented as an integer (keeping its width).
    """
    if len(qn) == 17 and qn.isdigit():
        try:
            moment = parse_datetime(qn)
        except FieldValueError:
            pass
        else:
            return format_qn(moment.replace(tzinfo=None) + timedelta(milliseconds=step))
    if qn.isdigit():
        return str(int(qn) + step).zfill(len(qn))
    raise FieldValueError(f"QN is not numeric: {qn!r}")
