"""HJ 212 frames: lenient parsing, strict building, byte-exact round trip.

A frame is ``"##" LLLL <data segment> CCCC CRLF``.  The data segment is ``key=value`` pairs separated by
``;`` with ``CP=&&...&&`` last.  :func:`parse_frame` accepts every deviation of the digest's robustness
checklist and records it as a :class:`~hj212.errors.FrameWarning`; :func:`build` emits only conformant
frames (length in UTF-8 bytes, upper-case zero-padded CRC, CRLF, at most 1024 data bytes).

The parsed :class:`Frame` keeps the original strings, the header order and the CP separators, so
``build(parse_frame(x)) == x`` for every well-formed ``x``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from itertools import chain, pairwise, repeat
from typing import Final, Literal, overload

from . import codes
from .crc import CrcMode, crc16, crc16_hj212
from .errors import BuildError, FrameWarning, UsageError, WarningCode
from .profile import PROFILE_2017, Profile
from .values import parse_datetime, parse_decimal

__all__ = [
    "CP",
    "CPGroup",
    "Flag",
    "Frame",
    "Header",
    "VersionName",
    "build",
    "canonical_separators",
    "make_frame",
    "render_segment",
]

VersionName = Literal["2005", "2017", "2025", "unknown"]
_VERSION_NAMES: Final[dict[int, VersionName]] = {0: "2005", 1: "2017", 2: "2025"}
HEADER_ORDER: Final[tuple[str, ...]] = ("QN", "ST", "CN", "PW", "MN", "Flag", "PNUM", "PNO")
_TIME_KEYS: Final[tuple[str, ...]] = ("DataTime", "BeginTime", "EndTime", "SystemTime", "RestartTime")

W = WarningCode


# --------------------------------------------------------------------------------------------- Flag


@dataclass(frozen=True, slots=True)
class Flag:
    """The Flag header field: ``V5..V0 D A`` (bit 7 .. bit 0)."""

    value: int

    @property
    def ack(self) -> bool:
        """A: the receiver must answer."""
        return bool(self.value & 1)

    @property
    def split(self) -> bool:
        """D: the packet carries PNUM / PNO."""
        return bool(self.value & 2)

    @property
    def version_bits(self) -> int:
        """V5..V0 (0 = 2005, 1 = 2017, 2 = 2025 [verify])."""
        return self.value >> 2

    @property
    def version(self) -> VersionName:
        """Protocol generation named by the version bits."""
        return _VERSION_NAMES.get(self.value >> 2, "unknown")

    @classmethod
    def make(cls, *, version_bits: int, ack: bool, split: bool = False) -> Flag:
        """Compose a Flag from its parts."""
        if not 0 <= version_bits < 64:
            raise UsageError("version_bits must be 0..63")
        return cls((version_bits << 2) | (2 if split else 0) | (1 if ack else 0))


# ------------------------------------------------------------------------------------------- Header


class Header(Mapping[str, str]):
    """The header fields: an unordered map for look-ups that remembers the original order and spelling.

    ``pairs`` holds every ``(key, value)`` as sent (duplicates included); look-ups use canonical key
    names (``flag`` is found as ``Flag``) and the first occurrence of a duplicated key.
    """

    __slots__ = ("_map", "_pairs", "keys_", "values_")

    keys_: tuple[str, ...]
    values_: tuple[str, ...]
    _map: dict[str, str]
    _pairs: tuple[tuple[str, str], ...] | None

    def __init__(self, pairs: Iterable[tuple[str, str]] | Mapping[str, str] = ()) -> None:
        items = tuple(pairs.items()) if isinstance(pairs, Mapping) else tuple((k, v) for k, v in pairs)
        for key, value in items:
            if not isinstance(key, str) or not isinstance(value, str):
                raise UsageError(f"header fields must be (str, str) pairs, got {key!r}={value!r}")
        self.keys_ = tuple([k for k, _ in items])
        self.values_ = tuple([v for _, v in items])
        self._pairs = items
        self._map = _canonical_map(items, codes.header_keys())

    @classmethod
    def _trusted(cls, keys: tuple[str, ...], values: tuple[str, ...], mapping: dict[str, str]) -> Header:
        obj = cls.__new__(cls)
        obj.keys_ = keys
        obj.values_ = values
        obj._map = mapping
        obj._pairs = None
        return obj

    @property
    def pairs(self) -> tuple[tuple[str, str], ...]:
        """Every ``(key, value)`` in the order sent."""
        if self._pairs is None:
            self._pairs = tuple(zip(self.keys_, self.values_, strict=True))
        return self._pairs

    def __getitem__(self, key: str) -> str:
        return self._map[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._map)

    def __len__(self) -> int:
        return len(self._map)

    def __contains__(self, key: object) -> bool:
        return key in self._map

    def get(self, key: str, default: str | None = None) -> str | None:  # type: ignore[override]
        """The value of a (canonical) key."""
        return self._map.get(key, default)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Header):
            return self.keys_ == other.keys_ and self.values_ == other.values_
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.keys_, self.values_))

    def __repr__(self) -> str:
        return f"Header({list(self.pairs)!r})"

    def replace(self, **changes: str | None) -> Header:
        """A copy with fields set (appended in canonical position when new) or removed (``None``)."""
        pairs = list(self.pairs)
        for key, value in changes.items():
            found = [i for i, (k, _) in enumerate(pairs) if _canon(k, codes.header_keys()) == key]
            if value is None:
                pairs = [p for i, p in enumerate(pairs) if i not in found]
            elif found:
                pairs[found[0]] = (pairs[found[0]][0], value)
            else:
                pairs.insert(_insert_position(pairs, key), (key, value))
        return Header(pairs)

    def render(self) -> str:
        """``k=v;k=v;`` (with the trailing ``;`` that precedes CP)."""
        return "".join(chain.from_iterable(zip(self.keys_, repeat("="), self.values_, repeat(";"))))


def _insert_position(pairs: list[tuple[str, str]], key: str) -> int:
    if key not in HEADER_ORDER:
        return len(pairs)
    rank = HEADER_ORDER.index(key)
    for i, (k, _) in enumerate(pairs):
        if k in HEADER_ORDER and HEADER_ORDER.index(k) > rank:
            return i
    return len(pairs)


def _canon(key: str, known: frozenset[str]) -> str:
    if key in known:
        return key
    return codes.field_aliases().get(key, codes.field_aliases().get(key.lower(), key))


def _canonical_map(pairs: tuple[tuple[str, str], ...], known: frozenset[str]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for key, value in pairs:
        canonical = _canon(key, known)
        if canonical not in mapping:
            mapping[canonical] = value
    return mapping


# ----------------------------------------------------------------------------------------------- CP


@dataclass(frozen=True, slots=True)
class CPGroup:
    """Items of one subject: ``subject`` is a pollutant / device / i-code, or None for plain items."""

    subject: str | None
    items: tuple[tuple[str, str], ...]  # (suffix or plain key, value)


def canonical_separators(keys: list[str]) -> str:
    """``,`` between consecutive items of the same subject, ``;`` otherwise (§6.3.3)."""
    subjects = [k.partition("-")[0] for k in keys]
    return "".join([("," if a == b else ";") for a, b in pairwise(subjects)])


class CP:
    """The command parameters: ordered ``key=value`` items plus the separators between them.

    ``keys`` and ``values`` are parallel tuples of the original strings; ``separators`` has one character
    (``;`` or ``,``) per boundary, so the CP text re-renders exactly.  Log texts keep their ``//``.
    """

    __slots__ = ("_plain", "_subjects", "keys", "separators", "values")

    keys: tuple[str, ...]
    values: tuple[str, ...]
    separators: str
    _plain: dict[str, str] | None
    _subjects: dict[str, dict[str, str]] | None

    def __init__(
        self,
        items: Iterable[tuple[str, str]] | Mapping[str, str] = (),
        separators: str | None = None,
    ) -> None:
        pairs = list(items.items()) if isinstance(items, Mapping) else [(k, v) for k, v in items]
        for key, value in pairs:
            if not isinstance(key, str) or not isinstance(value, str):
                raise UsageError(f"CP items must be (str, str) pairs, got {key!r}={value!r}")
        keys = tuple([k for k, _ in pairs])
        if separators is None:
            separators = canonical_separators(list(keys))
        elif len(separators) != max(len(pairs) - 1, 0) or separators.strip(";,"):
            raise UsageError("separators must hold one ';' or ',' per boundary between items")
        self.keys = keys
        self.values = tuple([v for _, v in pairs])
        self.separators = separators
        self._plain = None
        self._subjects = None

    @classmethod
    def _trusted(cls, keys: tuple[str, ...], values: tuple[str, ...], separators: str) -> CP:
        obj = cls.__new__(cls)
        obj.keys = keys
        obj.values = values
        obj.separators = separators
        obj._plain = None
        obj._subjects = None
        return obj

    @classmethod
    def build(
        cls,
        plain: Mapping[str, str] | Iterable[tuple[str, str]] = (),
        subjects: Mapping[str, Mapping[str, str]] | None = None,
    ) -> CP:
        """A new CP in canonical form: plain items first, then each subject's ``code-Suffix`` items."""
        items = list(plain.items()) if isinstance(plain, Mapping) else list(plain)
        for code, fields in (subjects or {}).items():
            items.extend((f"{code}-{suffix}", value) for suffix, value in fields.items())
        return cls(items)

    # -- look-ups

    @property
    def items(self) -> tuple[tuple[str, str], ...]:
        """``(key, value)`` pairs in order."""
        return tuple(zip(self.keys, self.values, strict=True))

    def __len__(self) -> int:
        return len(self.keys)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return zip(self.keys, self.values, strict=True)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, CP):
            return (
                self.keys == other.keys
                and self.values == other.values
                and self.separators == other.separators
            )
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.keys, self.values, self.separators))

    def __repr__(self) -> str:
        return f"CP({self.render()!r})"

    @property
    def plain(self) -> dict[str, str]:
        """Items without a subject prefix (``DataTime``, ``PolId`` ...), canonical keys, first occurrence."""
        if self._plain is None:
            known = codes.plain_keys()
            plain: dict[str, str] = {}
            for key, value in zip(self.keys, self.values, strict=True):
                if "-" not in key:
                    canonical = _canon(key, known)
                    if canonical not in plain:
                        plain[canonical] = value
            self._plain = plain
        return self._plain

    @property
    def subjects(self) -> dict[str, dict[str, str]]:
        """``code -> suffix -> value`` for every ``code-Suffix`` item, in order of first appearance."""
        if self._subjects is None:
            subjects: dict[str, dict[str, str]] = {}
            for key, value in zip(self.keys, self.values, strict=True):
                code, dash, suffix = key.partition("-")
                if dash:
                    group = subjects.get(code)
                    if group is None:
                        subjects[code] = {suffix: value}
                    elif suffix not in group:
                        group[suffix] = value
            self._subjects = subjects
        return self._subjects

    @property
    def pollutants(self) -> dict[str, dict[str, str]]:
        """Alias of :attr:`subjects` (pollutants, facilities and i-codes alike)."""
        return self.subjects

    def groups(self) -> list[CPGroup]:
        """Items grouped by subject in order of first appearance; plain items form one group (subject None)."""
        order: dict[str | None, list[tuple[str, str]]] = {}
        for key, value in zip(self.keys, self.values, strict=True):
            code, dash, suffix = key.partition("-")
            if dash:
                order.setdefault(code, []).append((suffix, value))
            else:
                order.setdefault(None, []).append((key, value))
        return [CPGroup(subject, tuple(items)) for subject, items in order.items()]

    @overload
    def get(self, key: str) -> str | None: ...
    @overload
    def get(self, key: str, default: str) -> str: ...
    def get(self, key: str, default: str | None = None) -> str | None:
        """A plain item (canonical key) or a ``code-Suffix`` item by its full key."""
        if "-" in key:
            code, _, suffix = key.partition("-")
            return self.subjects.get(code, {}).get(suffix, default)
        return self.plain.get(key, default)

    def __getitem__(self, key: str) -> str:
        value = self.get(key)
        if value is None:
            raise KeyError(key)
        return value

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None

    def value(self, code: str, suffix: str) -> str | None:
        """The value of ``code-suffix`` or None."""
        return self.subjects.get(code, {}).get(suffix)

    def decimal(self, code: str, suffix: str = "Rtd") -> Decimal | None:
        """``code-suffix`` as Decimal (None when absent; FieldValueError when not a number)."""
        value = self.value(code, suffix)
        return None if value is None else parse_decimal(value)

    def datetime(self, key: str = "DataTime") -> datetime | None:
        """A plain time item as an aware Beijing datetime (None when absent)."""
        value = self.plain.get(key)
        return None if value is None else parse_datetime(value)

    def render(self) -> str:
        """The CP text between ``CP=&&`` and ``&&``."""
        keys = self.keys
        if not keys:
            return ""
        return "".join(
            chain.from_iterable(zip(keys, repeat("="), self.values, chain(self.separators, ("",))))
        )

    def without(self, *keys: str) -> CP:
        """A copy without the given keys (separators re-derived around removed items)."""
        return self.subset([i for i, k in enumerate(self.keys) if k not in keys])

    def subset(self, indexes: list[int]) -> CP:
        """A CP of the items at ``indexes`` (increasing); separators kept between neighbours."""
        keys = tuple(self.keys[i] for i in indexes)
        seps = []
        for a, b in pairwise(indexes):
            if b == a + 1:
                seps.append(self.separators[a])
            else:
                seps.append("," if _same_subject(self.keys[a], self.keys[b]) else ";")
        return CP._trusted(keys, tuple(self.values[i] for i in indexes), "".join(seps))


def _same_subject(a: str, b: str) -> bool:
    return a.partition("-")[0] == b.partition("-")[0]


# -------------------------------------------------------------------------------------------- Frame


@dataclass(slots=True, eq=False)
class Frame:
    """One HJ 212 message.  Treat as immutable.

    ``header`` and ``cp`` are the message; the other attributes describe how it was received (all None /
    empty for frames built in code).  Two frames are equal when their messages are equal.
    """

    header: Header
    cp: CP
    raw: bytes | None = None
    crc: str | None = None
    crc_ok: bool | None = None
    crc_mode_detected: CrcMode | None = None
    length_field: str | None = None
    warnings: tuple[FrameWarning, ...] = field(default=())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Frame):
            return self.header == other.header and self.cp == other.cp
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.header, self.cp))

    # -- header shortcuts

    @property
    def qn(self) -> str | None:
        """Header QN (None when absent, e.g. 2005-style replies)."""
        return self.header.get("QN")

    @property
    def st(self) -> str | None:
        """System code."""
        return self.header.get("ST")

    @property
    def cn(self) -> str | None:
        """Command code."""
        return self.header.get("CN")

    @property
    def pw(self) -> str | None:
        """Access password."""
        return self.header.get("PW")

    @property
    def mn(self) -> str | None:
        """Device id."""
        return self.header.get("MN")

    @property
    def flag(self) -> Flag | None:
        """Decoded Flag, None when absent or not a number."""
        text = self.header.get("Flag")
        if text is None:
            return None
        text = text.strip()
        if not text.isdigit() or not text.isascii():
            return None
        return Flag(int(text))

    @property
    def pnum(self) -> int | None:
        """Total packets of a split message."""
        return _int_or_none(self.header.get("PNUM"))

    @property
    def pno(self) -> int | None:
        """This packet's number (1-based)."""
        return _int_or_none(self.header.get("PNO"))

    @property
    def is_split(self) -> bool:
        """Part of a split message (Flag.D or PNUM present)."""
        flag = self.flag
        return (flag is not None and flag.split) or "PNUM" in self.header

    @property
    def version(self) -> VersionName:
        """``2005`` / ``2017`` / ``2025`` from the Flag version bits; ``2005`` when Flag is absent and the frame
        looks 2005-style (no header QN, 14-char MN or QN inside CP); ``unknown`` otherwise."""
        flag = self.flag
        if flag is not None:
            return flag.version
        if "Flag" in self.header:
            return "unknown"
        mn = self.mn or ""
        if "QN" not in self.header or len(mn) == 14 or "QN" in self.cp.plain:
            return "2005"
        return "unknown"

    @property
    def answered_qn(self) -> str | None:
        """The QN a reply refers to: CP ``QN`` (2005 style) or else the header QN."""
        return self.cp.plain.get("QN") or self.qn

    @property
    def data_time(self) -> datetime | None:
        """CP DataTime as an aware Beijing datetime (None when absent)."""
        return self.cp.datetime("DataTime")

    def needs_ack(self, profile: Profile | None = None) -> bool:
        """Flag.A set; when Flag is absent, the profile decides (default: yes)."""
        flag = self.flag
        if flag is None:
            return (profile or PROFILE_2017).ack_when_flag_absent
        return flag.ack

    def segment(self) -> str:
        """The data segment text (rendered from the message)."""
        return render_segment(self)

    def replace(self, *, header: Header | None = None, cp: CP | None = None) -> Frame:
        """A new (un-received) frame with the header and/or CP replaced."""
        return Frame(header if header is not None else self.header, cp if cp is not None else self.cp)

    def __repr__(self) -> str:
        return f"Frame({render_segment(self)!r})"


def _int_or_none(text: str | None) -> int | None:
    if text is None:
        return None
    text = text.strip()
    return int(text) if text.isdigit() and text.isascii() else None


def make_frame(
    cn: str | int,
    *,
    mn: str,
    pw: str = "123456",
    st: str = "32",
    qn: str | None = None,
    flag: int | None = None,
    cp: CP | Mapping[str, str] | Iterable[tuple[str, str]] = (),
    pnum: int | None = None,
    pno: int | None = None,
    extra_header: Iterable[tuple[str, str]] = (),
    pad_packet_numbers: bool = False,
) -> Frame:
    """A new frame with the header in the standard's order (QN, ST, CN, PW, MN, Flag, PNUM, PNO)."""
    pairs: list[tuple[str, str]] = []
    if qn is not None:
        pairs.append(("QN", qn))
    pairs += [("ST", st), ("CN", str(cn)), ("PW", pw), ("MN", mn)]
    if flag is not None:
        pairs.append(("Flag", str(flag)))
    if pnum is not None and pno is not None:
        width = 4 if pad_packet_numbers else 0
        pairs += [("PNUM", str(pnum).zfill(width)), ("PNO", str(pno).zfill(width))]
    pairs.extend(extra_header)
    cp_obj = cp if isinstance(cp, CP) else CP(cp)
    return Frame(Header(pairs), cp_obj)


# ----------------------------------------------------------------------------------------- building


def render_segment(frame: Frame) -> str:
    """The data segment text: header fields, then ``CP=&&...&&``."""
    return frame.header.render() + "CP=&&" + frame.cp.render() + "&&"


_BAD_VALUE = re.compile(r"[;,=\r\n]|&&")
_BAD_KEY = re.compile(r"[^A-Za-z0-9_\-]")


def _check_buildable(frame: Frame, header_text: str, cp_text: str) -> None:
    pairs = frame.header.pairs
    if header_text.count("=") != len(pairs) or header_text.count(";") != len(pairs) or "&&" in header_text:
        for key, value in pairs:
            if _BAD_KEY.search(key) or not key or _BAD_VALUE.search(value):
                raise BuildError(f"header field {key}={value!r} contains a separator")
    cp = frame.cp
    if (
        cp_text.count("=") != len(cp.keys)
        or cp_text.count(";") + cp_text.count(",") != len(cp.separators)
        or "&&" in cp_text
        or "\n" in cp_text
    ):
        for key, value in zip(cp.keys, cp.values, strict=True):
            if not key or _BAD_KEY.search(key):
                raise BuildError(f"CP key {key!r} is empty or contains a separator")
            if value.startswith("//") and value.endswith("//") and len(value) >= 4:
                if "//" in value[2:-2] and re.search(r"//\s*[;,]", value[:-2]):
                    raise BuildError(f"log text of {key} contains '//' followed by a separator")
                continue
            if _BAD_VALUE.search(value):
                raise BuildError(f"CP item {key}={value!r} contains a separator")


def build(frame: Frame, profile: Profile | None = None, *, allow_oversize: bool = False) -> bytes:
    """The conformant wire bytes of ``frame``: ``##`` + byte length + segment + CRC + CRLF.

    Raises BuildError when the segment exceeds the profile's limits (1024 data bytes, 950 CP bytes) unless
    ``allow_oversize``; use :func:`hj212.split.build_frames` to split long messages.
    """
    prof = profile or PROFILE_2017
    header_text = frame.header.render()
    cp_text = frame.cp.render()
    _check_buildable(frame, header_text, cp_text)
    try:
        segment = (header_text + "CP=&&" + cp_text + "&&").encode("utf-8", "surrogateescape")
    except UnicodeEncodeError as exc:
        raise BuildError(f"frame text cannot be encoded as UTF-8: {exc.reason}") from exc
    size = len(segment)
    if not allow_oversize:
        if size > prof.max_segment:
            raise BuildError(f"data segment is {size} bytes, more than {prof.max_segment}; split it")
        cp_size = size - len(header_text.encode("utf-8", "surrogateescape"))
        if cp_size > prof.max_cp:
            raise BuildError(f"CP is {cp_size} bytes, more than {prof.max_cp}; split it")
    if size > 9999:
        raise BuildError("data segment does not fit the 4-digit length field")
    mode = prof.crc_mode
    value = crc16_hj212(segment) if mode in {"hj212", "none"} else crc16(segment, mode)
    return b"##%04d%s%04X\r\n" % (size, segment, value)
