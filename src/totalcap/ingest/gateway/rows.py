"""Turn frames into rows of the sample, raw-frame and site-information stores (COPY text format).

The hot path: a 2011 frame with 8 pollutants becomes 8 lines of ``monitoring_sample`` without
creating a Decimal or a datetime per value. Values are checked against the number syntax and the
column limits here, so one odd value can never fail a whole batch (it goes to ``extra`` instead,
with the original string).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from hj212.codes import map_legacy_code
from hj212.errors import FieldValueError
from hj212.frame import CP
from hj212.values import BEIJING, parse_datetime

try:
    from totalcap.ingest.gateway import _fastrows
except ImportError:  # pragma: no cover - the C kernel is optional (setup.py)
    _fastrows = None  # type: ignore[assignment]

_NUMBER = re.compile(r"[+-]?(?:\d{1,14}(?:\.\d*)?|\.\d+)\Z")
_CODE = re.compile(r"[A-Za-z0-9]{1,16}\Z")
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})

# column index in the value part of a sample line: value, min, max, cou, zs_value, zs_min, zs_max
REALTIME_SUFFIXES = {"Rtd": 0, "Min": 1, "Max": 2, "Cou": 3, "ZsRtd": 4, "ZsMin": 5, "ZsMax": 6}
INTERVAL_SUFFIXES = {"Avg": 0, "Min": 1, "Max": 2, "Cou": 3, "ZsAvg": 4, "ZsMin": 5, "ZsMax": 6}
TEXT_SUFFIXES = frozenset(("Flag", "EFlag", "SampleTime"))


def _configure_fastrows() -> None:
    """Give the C kernel these value columns, in column order (it has no list of its own)."""
    if _fastrows is not None:
        _fastrows.configure(
            tuple(sorted(REALTIME_SUFFIXES, key=REALTIME_SUFFIXES.__getitem__)),
            tuple(sorted(INTERVAL_SUFFIXES, key=INTERVAL_SUFFIXES.__getitem__)),
        )


_configure_fastrows()

SAMPLE_COLUMNS = (
    "logger_id", "outlet_id", "kind", "pollutant", "data_time", "value", "min", "max", "cou", "zs_value",
    "zs_min", "zs_max", "flag", "eflag", "sample_time", "extra", "frame_id", "received_at",
)  # fmt: skip
RAW_COLUMNS = (
    "id", "received_at", "direction", "logger_id", "mn", "peer", "gateway", "connection_id", "cn", "qn",
    "data_time", "status", "warnings", "raw",
)  # fmt: skip


def clean_text(value: str, limit: int | None = None) -> str:
    """Printable UTF-8 text for a text column: no NUL, no lone surrogates, at most ``limit`` chars."""
    if not (value.isascii() and value.isprintable()):
        value = value.encode("utf-8", "surrogateescape").decode("utf-8", "replace").replace("\x00", "")
    if limit is not None and len(value) > limit:
        value = value[:limit]
    return value


def copy_text(value: str) -> str:
    """Escape a string for PostgreSQL's COPY text format."""
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.translate(_ESCAPES)
    return value


def field(value: str | None, limit: int | None = None) -> str:
    """A text column value for COPY (``\\N`` for None)."""
    if value is None:
        return "\\N"
    return copy_text(clean_text(value, limit))


def json_field(value: Any) -> str:
    """A jsonb column value for COPY (``\\N`` for None / empty)."""
    if not value:
        return "\\N"
    return copy_text(json.dumps(value, ensure_ascii=False, separators=(",", ":")))


def time_text(stamp: str) -> str | None:
    """``YYYYMMDDhhmmss[zzz]`` (Beijing) → ``YYYY-MM-DD hh:mm:ss[.zzz]+08`` for PostgreSQL, or None.

    Loggers report the same DataTime at the same time (every minute record of a minute), so recent
    results are kept (up to 4,096 stamps)."""
    known = _TIMES.get(stamp)
    if known is not None:
        return known
    text = _time_text(stamp)
    if text is not None:
        if len(_TIMES) >= 4096:
            _TIMES.clear()
        _TIMES[stamp] = text
    return text


_TIMES: dict[str, str] = {}


def _time_text(stamp: str) -> str | None:
    try:
        parse_datetime(stamp)
    except FieldValueError:
        return None
    s = stamp.strip()
    seconds = s[12:14] if len(s) >= 14 else "00"
    text = f"{s[0:4]}-{s[4:6]}-{s[6:8]} {s[8:10]}:{s[10:12]}:{seconds}"
    if len(s) == 17:
        text += "." + s[14:17]
    return text + "+08"


def utc_text(moment: datetime) -> str:
    """An aware datetime as a PostgreSQL timestamptz literal."""
    return moment.isoformat(sep=" ")


def c_kernels() -> dict[str, bool]:
    """Which C kernels of the hot path this process runs (``setup.py`` builds them when it can)."""
    from hj212 import crc

    return {"crc": crc.crc16_hj212 is not crc.crc16_hj212_python, "rows": _fastrows is not None}


def data_lines(
    logger_id: int,
    outlet_id: int,
    kind: str,
    data_time: str,
    cp: CP,
    warnings: list[dict[str, Any]],
) -> tuple[list[str], list[tuple[str, str | None, str | None, str]]]:
    """:func:`sample_lines` of a data frame's CP: by the C kernel ``_fastrows`` when it was built and
    the frame is the clean case it covers (every item a number or flag of a pollutant with a current
    code), else by :func:`sample_lines`. Both give the same lines for the same items (tested)."""
    if _fastrows is not None:
        done = _fastrows.sample_lines(
            f"{logger_id}\t{outlet_id}\t{kind}\t", data_time, cp.keys, cp.values, kind == "r"
        )
        if done is not None:
            return done
    return sample_lines(logger_id, outlet_id, kind, data_time, cp.subjects, warnings)


def sample_lines(
    logger_id: int,
    outlet_id: int,
    kind: str,
    data_time: str,
    subjects: dict[str, dict[str, str]],
    warnings: list[dict[str, Any]],
) -> tuple[list[str], list[tuple[str, str | None, str | None, str]]]:
    """Sample lines (without the trailing ``frame_id``/``received_at`` columns) for one data frame.

    Returns the lines and, per line, ``(pollutant, value, cou, flag)`` for post-commit hooks.
    Items that do not fit the columns are kept in ``extra``; a code that is not a valid pollutant
    code is skipped with a warning.
    """
    suffix_map = REALTIME_SUFFIXES if kind == "r" else INTERVAL_SUFFIXES
    prefix = f"{logger_id}\t{outlet_id}\t{kind}\t"
    lines: list[str] = []
    meta: list[tuple[str, str | None, str | None, str]] = []
    number = _NUMBER.match
    for code, fields in subjects.items():
        known = _CODES.get(code)
        if known is None:
            known = _code_info(code)
        pollutant, original = known
        if not pollutant:
            warnings.append(
                {"code": "bad-pollutant-code", "message": f"code {clean_text(code, 40)!r} skipped"}
            )
            continue
        extra: dict[str, str] | None = {"code": original} if original else None
        numbers = [NULL, NULL, NULL, NULL, NULL, NULL, NULL]
        flag = eflag = ""
        sample_time = NULL
        for suffix, value in fields.items():
            index = suffix_map.get(suffix)
            if index is not None and number(value):
                numbers[index] = value
            elif suffix == "Flag" and len(value) <= 4 and value.isascii() and value.isprintable():
                flag = value
            elif suffix == "EFlag" and len(value) <= 8 and value.isascii() and value.isprintable():
                eflag = value
            elif suffix == "SampleTime" and (stamp := time_text(value)) is not None:
                sample_time = stamp
            else:
                if extra is None:
                    extra = {}
                extra[clean_text(suffix, 32)] = clean_text(value, 255 if index is None else 64)
        if flag and ("\\" in flag):
            flag = copy_text(flag)
        if eflag and ("\\" in eflag):
            eflag = copy_text(eflag)
        lines.append(
            f"{prefix}{pollutant}\t{data_time}\t{chr(9).join(numbers)}\t{flag}\t{eflag}\t{sample_time}\t"
            f"{json_field(extra) if extra else NULL}\t"
        )
        value0, cou = numbers[0], numbers[3]
        meta.append((pollutant, None if value0 is NULL else value0, None if cou is NULL else cou, flag))
    return lines, meta


NULL = "\\N"
_CODES: dict[str, tuple[str, str]] = {}


def _code_info(code: str) -> tuple[str, str]:
    """(pollutant code to store, the legacy code sent or "") — ("", "") for an invalid code; cached."""
    if not _CODE.match(code):
        return "", ""
    info = (code, "")
    if not code[0].isalpha() or len(code) <= 3:
        mapped = map_legacy_code(code)
        if mapped:
            info = (mapped, code)
    if len(_CODES) < 10_000:
        _CODES[code] = info
    return info


def info_rows(
    items: Iterable[tuple[str, str, str]],
) -> list[tuple[str, str, str, str]]:
    """``(pollutant, code, value)`` → ``(pollutant, code, value, log text)`` within the column limits."""
    rows = []
    for pollutant, code, raw in items:
        text, value = "", raw
        if raw.startswith("//") and raw.endswith("//") and len(raw) >= 4:
            text, value = clean_text(raw[2:-2]), ""
        rows.append((clean_text(pollutant, 16), clean_text(code, 24), clean_text(value, 255), text))
    return rows


def beijing(moment: datetime) -> datetime:
    return moment.astimezone(BEIJING)
