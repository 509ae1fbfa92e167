"""Exception hierarchy and structured warnings of the HJ 212 codec.

Every exception the package raises on purpose derives from :class:`HJ212Error`:

* :class:`FrameError` -- bytes that cannot be read as an HJ 212 frame at all (no ``##``, empty input).
* :class:`BuildError` -- a frame that cannot be emitted conformantly (an item larger than a packet,
  a separator inside a value, a request that needs a profile feature that is switched off).
* :class:`MessageError` -- a frame that is not the message a typed parser was asked for, or lacks an
  item that message requires.
* :class:`FieldValueError` -- a typed accessor met a value that is not a number / time.
* :class:`UsageError` -- a programmer error (wrong argument type, impossible configuration).  This is the
  only exception :meth:`hj212.stream.StreamDecoder.feed` can raise.

Lenient parsing never raises for deviations; it records :class:`FrameWarning` objects instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "BuildError",
    "FieldValueError",
    "FrameError",
    "FrameWarning",
    "HJ212Error",
    "MessageError",
    "UsageError",
    "WarningCode",
]


class HJ212Error(Exception):
    """Base class of every error raised by :mod:`hj212`."""


class FrameError(HJ212Error, ValueError):
    """The input cannot be parsed as an HJ 212 frame at all."""


class BuildError(HJ212Error, ValueError):
    """A frame or message cannot be built conformantly."""


class MessageError(HJ212Error, ValueError):
    """A frame is not the expected message or lacks a required item."""


class FieldValueError(HJ212Error, ValueError):
    """A value cannot be converted by a typed accessor (Decimal, datetime, int)."""


class UsageError(HJ212Error, TypeError):
    """The library was called incorrectly (programmer error)."""


class WarningCode(StrEnum):
    """Stable codes of :class:`FrameWarning`.  The string values never change between releases."""

    LEADING_GARBAGE = "leading-garbage"
    TRAILING_GARBAGE = "trailing-garbage"
    LF_ONLY = "lf-only"
    CR_ONLY = "cr-only"
    MISSING_CRLF = "missing-crlf"
    BAD_LENGTH_FIELD = "bad-length-field"
    LENGTH_MISMATCH = "length-mismatch"
    LENGTH_COUNTS_CHARS = "length-counts-chars"
    OVERSIZE_SEGMENT = "oversize-segment"
    OVERSIZE_CP = "oversize-cp"
    MISSING_CRC = "missing-crc"
    CRC_LOWERCASE = "crc-lowercase"
    CRC_UNPADDED = "crc-unpadded"
    CRC_MISMATCH = "crc-mismatch"
    INVALID_UTF8 = "invalid-utf8"
    MISSING_CP = "missing-cp"
    UNTERMINATED_CP = "unterminated-cp"
    STRAY_SPACE = "stray-space"
    EMPTY_ITEM = "empty-item"
    MALFORMED_ITEM = "malformed-item"
    DUPLICATE_KEY = "duplicate-key"
    KEY_CASE = "key-case"
    UNKNOWN_HEADER_KEY = "unknown-header-key"
    MISSING_QN = "missing-qn"
    MISSING_FLAG = "missing-flag"
    MISSING_CN = "missing-cn"
    MISSING_MN = "missing-mn"
    BAD_FLAG = "bad-flag"
    UNKNOWN_VERSION = "unknown-version"
    PNO_BEFORE_PNUM = "pno-before-pnum"
    SPLIT_FLAG_MISMATCH = "split-flag-mismatch"
    BAD_PACKET_NUMBER = "bad-packet-number"
    UNKNOWN_CN = "unknown-cn"
    NONSTANDARD_ST = "nonstandard-st"
    NONSTANDARD_MN = "nonstandard-mn"
    BAD_QN = "bad-qn"
    DATETIME_17_DIGITS = "datetime-17-digits"
    BAD_DATETIME = "bad-datetime"
    SEPARATOR_STYLE = "separator-style"
    UNKNOWN_CODE = "unknown-code"
    LEGACY_CODE = "legacy-code"
    UNKNOWN_SUFFIX = "unknown-suffix"
    UNKNOWN_FIELD = "unknown-field"
    UNTERMINATED_LOG = "unterminated-log"


@dataclass(frozen=True, slots=True)
class FrameWarning:
    """A deviation found while parsing.

    ``position`` is a byte offset in the frame's raw bytes (0 = the first ``#``) when it is known,
    otherwise ``None``.
    """

    code: WarningCode
    message: str
    position: int | None = None

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {"code": str(self.code), "message": self.message, "position": self.position}
