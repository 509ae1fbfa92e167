"""Lenient parsing of HJ 212 frames (see :func:`parse_frame`).

The common path does no per-byte or per-item Python work beyond one ``str.partition`` per item (run
through ``map``): splitting, transposing and checking happen in C (``split``, ``zip``, ``dict``, set
operations).  Checks that depend only on the *shape* of a CP (its keys and separators) are computed once
per shape and kept in a small bounded cache, since a device sends the same shape again and again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise, repeat
from typing import Final

from . import codes
from .crc import CrcMode, crc16, crc16_hj212, detect_crc_mode
from .errors import FrameError, FrameWarning, UsageError, WarningCode
from .frame import CP, Frame, Header, _canon
from .profile import PROFILE_2017, Profile

__all__ = ["parse", "parse_frame"]

W = WarningCode

_SEP_SPLIT = re.compile(r"([;,])").split
_SEP_SEARCH = re.compile(r"[;,]").search
_LOG_END = re.compile(r"//[ \t]*(?=[;,]|$)")
_CP_LOOSE = re.compile(r"cp\s*=\s*&&", re.IGNORECASE)
_HEX_TAIL = re.compile(rb"[0-9A-Fa-f]{0,4}")
_MN_HEX24 = re.compile(r"[0-9A-Fa-f]{24}").fullmatch
_ST_STD = re.compile(r"[0-9A-Z]{2}").fullmatch
_TIME14 = re.compile(
    r"\d{4}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?:[01]\d|2[0-3])[0-5]\d[0-5]\d"
).fullmatch
_TIME_KEYS: Final[frozenset[str]] = frozenset(
    ("DataTime", "BeginTime", "EndTime", "SystemTime", "RestartTime")
)
_SHAPE_CACHE_MAX: Final = 4096
# bytes.translate(None, _ONLY_SEPARATORS) keeps only ';', ',' and '=' (C speed); _SKELETON also keeps the
# characters that send a CP to the slow path (spaces, tabs, '/').
_ONLY_SEPARATORS: Final = bytes(b for b in range(256) if b not in b";,=")
_SKELETON: Final = bytes(b for b in range(256) if b not in b";,= \t/")
_EMPTY_CP: Final = CP._trusted((), (), "")

try:
    from hj212._speedups import split_segment as _split_segment
except ImportError:  # pragma: no cover - the C module is optional (setup.py)
    _split_segment = None  # type: ignore[assignment]


def _as_bytes(data: bytes | bytearray | memoryview | str) -> bytes:
    if isinstance(data, bytes):
        return data
    if isinstance(data, str):
        try:
            return data.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError as exc:
            raise FrameError(f"text cannot be encoded as UTF-8: {exc.reason}") from exc
    if isinstance(data, (bytearray, memoryview)):
        return bytes(data)
    raise UsageError(f"expected bytes or str, got {type(data).__name__}")


def parse_frame(
    data: bytes | bytearray | memoryview | str,
    profile: Profile | None = None,
    *,
    crc_mode: CrcMode | None = None,
) -> Frame:
    """Parse one frame leniently.

    ``data`` is one frame; its trailing CRLF is optional.  Deviations become warnings on the returned
    frame; a CRC mismatch sets ``crc_ok=False`` (plus a ``crc-mismatch`` warning) but still returns the
    frame.  Raises :class:`~hj212.errors.FrameError` only when there is no ``##`` at all, and
    :class:`~hj212.errors.UsageError` for an argument that is not bytes or str.
    """
    raw = data if type(data) is bytes else _as_bytes(data)
    warnings: list[FrameWarning] = []
    start = 0
    if not raw.startswith(b"##"):
        start = raw.find(b"##")
        if start < 0:
            raise FrameError("no frame header '##' found")
        warnings.append(FrameWarning(W.LEADING_GARBAGE, f"{start} bytes before '##'", 0))
    end = len(raw)
    if raw.endswith(b"\r\n"):
        end -= 2
    elif raw.endswith(b"\n"):
        end -= 1
        warnings.append(FrameWarning(W.LF_ONLY, "frame ends with LF only", end))
    elif raw.endswith(b"\r"):
        end -= 1
        warnings.append(FrameWarning(W.CR_ONLY, "frame ends with CR only", end))
    else:
        warnings.append(FrameWarning(W.MISSING_CRLF, "frame does not end with CRLF", end))
    prof = profile or PROFILE_2017
    return parse_span(raw, start, end, warnings, prof, crc_mode or prof.crc_mode)


#: Short alias of :func:`parse_frame`.
parse = parse_frame


def parse_span(
    raw: bytes, start: int, end: int, warnings: list[FrameWarning], prof: Profile, mode: CrcMode
) -> Frame:
    """Parse ``raw[start:end]`` (from ``##`` to the end of the CRC; the trailer already removed)."""
    seg_start = start + 6
    if end < seg_start:
        seg_start = end = max(end, start + 2)
    length_bytes = raw[start + 2 : start + 6]
    length = int(length_bytes) if len(length_bytes) == 4 and length_bytes.isdigit() else -1
    crc_b = raw[end - 4 : end] if end - 4 >= seg_start else b""
    crc_value = -1
    if length >= 0 and seg_start + length + 4 == end and crc_b.isalnum():
        try:
            crc_value = int(crc_b, 16)
        except ValueError:
            crc_value = -1
    if crc_value >= 0:
        seg_end = end - 4
    else:
        seg_end, crc_b = _recover_crc(raw, seg_start, end, warnings)
        crc_value = int(crc_b, 16) if crc_b else -1
    if len(crc_b) != 4 or crc_b.upper() != crc_b:
        _crc_format_warning(crc_b, seg_end, warnings)
    segment = raw[seg_start:seg_end]
    seg_len = seg_end - seg_start

    detected: CrcMode | None
    computed = crc16_hj212(segment) if mode in {"hj212", "none"} else crc16(segment, mode)
    if crc_value == computed:
        crc_ok = True
        detected = "hj212" if mode == "none" else mode
    else:
        detected = detect_crc_mode(segment, crc_b) if crc_value >= 0 else None
        crc_ok = mode == "none"
        if not crc_ok:
            hint = f"; it matches the {detected} CRC" if detected else ""
            shown = crc_b.decode("ascii") or "(none)"
            warnings.append(
                FrameWarning(
                    W.CRC_MISMATCH, f"CRC {shown} does not match {mode} CRC {computed:04X}{hint}", seg_end
                )
            )

    try:
        text = segment.decode("utf-8")
    except UnicodeDecodeError as exc:
        text = segment.decode("utf-8", "surrogateescape")
        warnings.append(
            FrameWarning(
                W.INVALID_UTF8, "data segment is not valid UTF-8 (kept byte for byte)", seg_start + exc.start
            )
        )

    length_text = length_bytes.decode("ascii", "replace")
    if length != seg_len:
        _length_warning(length, length_text, seg_len, len(text), start, prof, warnings)
    if seg_len > prof.max_segment:
        warnings.append(
            FrameWarning(
                W.OVERSIZE_SEGMENT, f"data segment of {seg_len} bytes exceeds {prof.max_segment}", start
            )
        )

    fast = _fast_segment(segment, text, warnings, seg_start)
    if fast is None:
        header, cp, cp_at = _parse_segment(text, warnings, seg_start)
    else:
        header, cp, cp_at = fast
    if cp_at >= 0 and seg_len - cp_at > prof.max_cp:
        cp_size = seg_len - (cp_at if len(text) == seg_len else _byte_len(text[:cp_at]))
        if cp_size > prof.max_cp:
            warnings.append(FrameWarning(W.OVERSIZE_CP, f"CP of {cp_size} bytes exceeds {prof.max_cp}", None))
    _check_header(header, warnings)
    return Frame(
        header,
        cp,
        raw,
        crc_b.decode("ascii"),
        crc_ok,
        detected,
        length_text,
        tuple(warnings) if warnings else (),
    )


def _byte_len(text: str) -> int:
    return len(text.encode("utf-8", "surrogateescape"))


def _recover_crc(raw: bytes, seg_start: int, end: int, warnings: list[FrameWarning]) -> tuple[int, bytes]:
    """Wrong length field or odd CRC: the segment ends at the last ``&&``, the CRC follows it."""
    amp = raw.rfind(b"&&", seg_start, end)
    if amp >= 0:
        seg_end = amp + 2
        match = _HEX_TAIL.match(raw, seg_end, end)
        crc_end = match.end() if match else seg_end
        if crc_end < end:
            warnings.append(
                FrameWarning(W.TRAILING_GARBAGE, f"{end - crc_end} unexpected bytes after the CRC", crc_end)
            )
        return seg_end, raw[seg_end:crc_end]
    if end - seg_start >= 4 and _HEX_TAIL.fullmatch(raw, end - 4, end):
        return end - 4, raw[end - 4 : end]
    return end, b""


def _crc_format_warning(crc_b: bytes, where: int, warnings: list[FrameWarning]) -> None:
    size = len(crc_b)
    if size == 4:
        warnings.append(FrameWarning(W.CRC_LOWERCASE, "CRC in lower case", where))
    elif size == 0:
        warnings.append(FrameWarning(W.MISSING_CRC, "no CRC after the data segment", where))
    else:
        warnings.append(FrameWarning(W.CRC_UNPADDED, f"CRC has {size} digits instead of 4", where))


def _length_warning(
    length: int,
    length_text: str,
    seg_len: int,
    chars: int,
    start: int,
    prof: Profile,
    warnings: list[FrameWarning],
) -> None:
    if length < 0:
        warnings.append(
            FrameWarning(W.BAD_LENGTH_FIELD, f"length field {length_text!r} is not 4 digits", start + 2)
        )
    elif length == chars:
        if prof.length_mode == "bytes":
            warnings.append(
                FrameWarning(
                    W.LENGTH_COUNTS_CHARS,
                    f"length field {length} counts characters; the segment has {seg_len} bytes",
                    start + 2,
                )
            )
    else:
        warnings.append(
            FrameWarning(
                W.LENGTH_MISMATCH, f"length field {length}, data segment has {seg_len} bytes", start + 2
            )
        )


def _pos(text: str, index: int, base: int) -> int:
    """Byte offset in the raw frame of character ``index`` of the segment text starting at ``base``."""
    if index < 0:
        return base
    prefix = text[:index]
    return base + (index if prefix.isascii() else _byte_len(prefix))


# ----------------------------------------------------------------------------------------- segment


def _fast_segment(
    segment: bytes, text: str, warnings: list[FrameWarning], base: int
) -> tuple[Header, CP, int] | None:
    """The common case in one split: ``k=v;...;CP=&&k=v,k=v;...&&`` with known header keys, no spaces,
    no logs, nothing after the closing ``&&``.  None means: take the general path.

    An ASCII segment is split by the C kernel ``hj212._speedups.split_segment`` when it was built;
    :func:`_fast_segment_python` does the same in Python (and takes non-ASCII segments)."""
    if _split_segment is None or not text.isascii():
        return _fast_segment_python(segment, text, warnings, base)
    split = _split_segment(text)
    if split is None:
        return None
    keys, values, mapping, cp_keys, cp_values, seps, shape, cp_at = split
    if not _HEADER_KEYS.issuperset(keys):
        return None
    header = Header._trusted(keys, values, mapping)
    return header, _finish_cp(cp_keys, cp_values, seps, warnings, text, base, cp_at + 5, shape), cp_at


def _fast_segment_python(
    segment: bytes, text: str, warnings: list[FrameWarning], base: int
) -> tuple[Header, CP, int] | None:
    """:func:`_fast_segment` in Python."""
    cp_at = text.find(";CP=&&") + 1
    if cp_at <= 0 or not text.endswith("&&") or len(text) - 2 <= cp_at + 5:
        return None
    skeleton = segment.translate(None, _SKELETON)  # header "=;"*n, "=" of CP=, then the CP's
    fields = text.count(";", 0, cp_at)
    cp_skeleton = skeleton[2 * fields + 1 :]
    seps = cp_skeleton[1::2]
    if not (
        skeleton[: 2 * fields] == b"=;" * fields
        and skeleton[2 * fields : 2 * fields + 1] == b"="
        and len(cp_skeleton) & 1
        and cp_skeleton[0::2] == b"=" * (len(seps) + 1)
        and not seps.strip(b";,")
    ):
        return None
    parts = tuple(text[:-2].replace(",", ";").replace("=", ";").split(";"))
    head_end = 2 * fields
    keys = parts[0:head_end:2]
    values = parts[1:head_end:2]
    mapping = dict(zip(keys, values))  # noqa: B905 - equal lengths: checked by the skeleton
    first = parts[head_end + 1]
    cp_keys = (first[2:], *parts[head_end + 3 :: 2])
    if (
        len(mapping) != fields
        or not _HEADER_KEYS.issuperset(keys)
        or "" in mapping
        or not first.startswith("&&")
        or not all(cp_keys)
    ):
        return None
    header = Header._trusted(keys, values, mapping)
    cp = _finish_cp(cp_keys, parts[head_end + 2 :: 2], seps.decode("ascii"), warnings, text, base, cp_at + 5)
    return header, cp, cp_at


def _parse_segment(text: str, warnings: list[FrameWarning], base: int) -> tuple[Header, CP, int]:
    cp_at = text.find("CP=&&")
    if cp_at >= 0:
        body = cp_at + 5
    else:
        loose = _CP_LOOSE.search(text)
        if loose is None:
            warnings.append(
                FrameWarning(W.MISSING_CP, "no 'CP=&&' in the data segment", base + _byte_len(text))
            )
            return _parse_header(text, warnings, base), _EMPTY_CP, -1
        cp_at, body = loose.start(), loose.end()
        code = W.STRAY_SPACE if " " in loose.group() else W.KEY_CASE
        warnings.append(FrameWarning(code, f"CP introduced as {loose.group()!r}", _pos(text, cp_at, base)))
    close = text.rfind("&&")
    if close < body:
        warnings.append(FrameWarning(W.UNTERMINATED_CP, "CP has no closing '&&'", base + _byte_len(text)))
        cp_text = text[body:]
    else:
        cp_text = text[body:close]
        if close + 2 < len(text):
            warnings.append(
                FrameWarning(
                    W.TRAILING_GARBAGE,
                    f"{text[close + 2 :]!r} after the closing '&&' (dropped on build)",
                    _pos(text, close + 2, base),
                )
            )
    header = _parse_header(text[:cp_at], warnings, base) if cp_at else Header._trusted((), (), {})
    cp = _parse_cp(cp_text, warnings, text, base, body) if cp_text else _EMPTY_CP
    return header, cp, cp_at


_HEADER_KEYS: Final[frozenset[str]] = codes.header_keys()


def _parse_header(head: str, warnings: list[FrameWarning], base: int) -> Header:
    count = head.count(";")
    if (
        " " not in head
        and "\t" not in head
        and head.endswith(";")
        and head.encode("utf-8", "surrogateescape").translate(None, _ONLY_SEPARATORS) == b"=;" * count
    ):
        parts = head[:-1].replace("=", ";").split(";")
        keys = tuple(parts[0::2])
        values = tuple(parts[1::2])
        mapping = dict(zip(keys, values))  # noqa: B905 - equal lengths: checked by the skeleton
        if len(mapping) == count and _HEADER_KEYS.issuperset(keys) and "" not in mapping:
            return Header._trusted(keys, values, mapping)
    parts = head.split(";")
    if parts[-1] == "":
        parts.pop()
    return _parse_header_slow(head, parts, warnings, base)


def _parse_header_slow(head: str, parts: list[str], warnings: list[FrameWarning], base: int) -> Header:
    if " " in head or "\t" in head:
        stripped = [p.strip() for p in parts]
        triples = [(k.strip(), e, v.strip()) for k, e, v in (p.partition("=") for p in stripped)]
        if stripped != parts or any(k + e + v != p for (k, e, v), p in zip(triples, stripped, strict=True)):
            warnings.append(FrameWarning(W.STRAY_SPACE, "spaces around header separators or '='", base))
    else:
        triples = [p.partition("=") for p in parts]
    if any(not k and not e for k, e, _ in triples):
        warnings.append(FrameWarning(W.EMPTY_ITEM, "empty header field (';;')", base))
        triples = [t for t in triples if t[0] or t[1]]
    for key, eq, _ in triples:
        if not eq:
            warnings.append(FrameWarning(W.MALFORMED_ITEM, f"header field {key!r} has no '='", base))
    pairs = tuple([(k, v) for k, _, v in triples])
    seen: dict[str, str] = {}
    for key, value in pairs:
        canonical = _canon(key, _HEADER_KEYS)
        if canonical not in _HEADER_KEYS:
            warnings.append(FrameWarning(W.UNKNOWN_HEADER_KEY, f"unknown header key {key!r} kept", base))
        elif canonical != key:
            warnings.append(FrameWarning(W.KEY_CASE, f"header key {key!r} read as {canonical!r}", base))
        if canonical in seen:
            warnings.append(
                FrameWarning(W.DUPLICATE_KEY, f"header key {key!r} repeated; the first value is used", base)
            )
        else:
            seen[canonical] = value
    return Header._trusted(tuple([k for k, _ in pairs]), tuple([v for _, v in pairs]), seen)


# ---------------------------------------------------------------------------------------------- CP


@dataclass(frozen=True, slots=True)
class _Shape:
    """Checks that depend only on the keys and separators of a CP."""

    deferred: tuple[tuple[WarningCode, str, str | None], ...]  # (code, message, text to locate)
    time_checks: tuple[tuple[int, str], ...]  # (item index, key) of time items to validate


_SHAPES: dict[tuple[str, str], _Shape] = {}


def _parse_cp(cp_text: str, warnings: list[FrameWarning], text: str, base: int, body: int) -> CP:
    skeleton = cp_text.encode("utf-8", "surrogateescape").translate(None, _SKELETON)
    seps = skeleton[1::2]
    if len(skeleton) & 1 and skeleton[0::2] == b"=" * (len(seps) + 1) and not seps.strip(b";,"):
        # Fast path: items are exactly key=value (no spaces, no '/'); the key is checked below.
        parts = cp_text.replace(",", ";").replace("=", ";").split(";")
        keys = tuple(parts[0::2])
        if all(keys):
            return _finish_cp(keys, tuple(parts[1::2]), seps.decode("ascii"), warnings, text, base, body)
    return _parse_cp_slow(cp_text, warnings, text, base, body)


def _parse_cp_slow(cp_text: str, warnings: list[FrameWarning], text: str, base: int, body: int) -> CP:
    kv_list, seps = _split_cp_slow(cp_text, warnings, _pos(text, body, base))
    if "" in kv_list:
        kv_list, seps = _drop_empty(kv_list, seps, warnings, _pos(text, body, base))
        if not kv_list:
            return _EMPTY_CP
    keys, eqs, values = zip(*map(str.partition, kv_list, repeat("=")), strict=True)
    for key, eq in zip(keys, eqs, strict=True):
        if not eq:
            warnings.append(
                FrameWarning(W.MALFORMED_ITEM, f"CP item {key!r} has no '='", _pos(text, body, base))
            )
        elif not key:
            warnings.append(
                FrameWarning(W.MALFORMED_ITEM, "CP item with an empty key", _pos(text, body, base))
            )
    return _finish_cp(keys, values, seps, warnings, text, base, body)


def _finish_cp(
    keys: tuple[str, ...],
    values: tuple[str, ...],
    seps: str,
    warnings: list[FrameWarning],
    text: str,
    base: int,
    body: int,
    joined: str | None = None,
) -> CP:
    """The CP of split items, with the warnings of its shape (cached by separators and keys;
    ``joined`` is ``"\\0".join(keys)`` when the caller has it)."""
    shape_key = (seps, "\x00".join(keys) if joined is None else joined)
    shape = _SHAPES.get(shape_key)
    if shape is None:
        shape = _shape_of(keys, seps)
        if len(_SHAPES) >= _SHAPE_CACHE_MAX:
            _SHAPES.clear()
        _SHAPES[shape_key] = shape
    if shape.deferred:
        for code, message, locate in shape.deferred:
            where = _pos(text, text.find(locate, body), base) if locate is not None else None
            warnings.append(FrameWarning(code, message, where))
    for index, key in shape.time_checks:
        value = values[index]
        if not (len(value) == 14 and _TIME14(value)):
            where = _pos(text, text.find(key + "=", body), base)
            if len(value) == 17 and value.isdigit():
                warnings.append(
                    FrameWarning(W.DATETIME_17_DIGITS, f"{key} has 17 digits (milliseconds)", where)
                )
            else:
                warnings.append(FrameWarning(W.BAD_DATETIME, f"{key}={value!r} is not YYYYMMDDhhmmss", where))
    return CP._trusted(keys, values, seps)


def _split_cp_slow(cp_text: str, warnings: list[FrameWarning], where: int) -> tuple[list[str], str]:
    """Split CP text with ``=//...//`` log values kept opaque and spaces around separators removed."""
    kvs: list[str] = []
    seps: list[str] = []
    pos = 0
    n = len(cp_text)
    while True:
        eq = cp_text.find("=", pos)
        sep = _SEP_SEARCH(cp_text, pos)
        sep_at = sep.start() if sep else n
        if 0 <= eq < sep_at and cp_text[eq + 1 : eq + 40].lstrip(" \t").startswith("//"):
            log_start = cp_text.index("//", eq + 1)
            log_end = _LOG_END.search(cp_text, log_start + 2)
            if log_end is None:
                warnings.append(FrameWarning(W.UNTERMINATED_LOG, "log text has no closing '//'", where))
                kvs.append(cp_text[pos:])
                break
            end = log_end.end()
            kvs.append(cp_text[pos:end])
        else:
            end = sep_at
            kvs.append(cp_text[pos:end])
        if end >= n:
            break
        seps.append(cp_text[end])
        pos = end + 1
    stripped = []
    spaced = False
    for kv in kvs:
        left, equals, right = kv.partition("=")
        clean = left.strip() + equals + right.strip()
        if clean != kv:
            spaced = True
        stripped.append(clean)
    if spaced:
        warnings.append(FrameWarning(W.STRAY_SPACE, "spaces around CP separators or '='", where))
    return stripped, "".join(seps)


def _drop_empty(
    kv_list: list[str], seps: str, warnings: list[FrameWarning], where: int
) -> tuple[list[str], str]:
    keep = [i for i, kv in enumerate(kv_list) if kv]
    if keep or len(kv_list) > 1:
        warnings.append(FrameWarning(W.EMPTY_ITEM, "empty CP item (doubled or trailing separator)", where))
    return [kv_list[i] for i in keep], "".join([seps[i] for i in keep[:-1]])


def _shape_of(keys: tuple[str, ...], seps: str) -> _Shape:
    deferred: list[tuple[WarningCode, str, str | None]] = []
    triples = [k.partition("-") for k in keys]
    subjects = [t[0] for t in triples]
    if seps:
        expected = "".join([("," if a == b else ";") for a, b in pairwise(subjects)])
        if expected != seps:
            i = next(i for i, (x, y) in enumerate(zip(expected, seps, strict=True)) if x != y)
            deferred.append(
                (
                    W.SEPARATOR_STYLE,
                    f"{seps[i]!r} between {keys[i]!r} and {keys[i + 1]!r}"
                    " (standard: ',' within a subject, ';' between subjects)",
                    seps[i] + keys[i + 1] + "=",
                )
            )
    if len(set(keys)) != len(keys):
        seen: set[str] = set()
        for key in keys:
            if key in seen:
                deferred.append(
                    (W.DUPLICATE_KEY, f"CP key {key!r} repeated; look-ups use the first value", None)
                )
                break
            seen.add(key)
    prefixed = list(dict.fromkeys(t[0] for t in triples if t[1]))
    known = codes.known_subjects()
    legacy = codes.legacy_code_map()
    for code in prefixed:
        if code in legacy:
            deferred.append((W.LEGACY_CODE, f"2005 code {code!r} (HJ 212-2017: {legacy[code]})", code + "-"))
        elif code not in known and not codes.subject_is_known(code):
            deferred.append((W.UNKNOWN_CODE, f"unknown code {code!r} kept", code + "-"))
    suffixes = dict.fromkeys(t[2] for t in triples if t[1])
    for suffix in suffixes:
        if suffix not in codes.known_suffixes():
            deferred.append((W.UNKNOWN_SUFFIX, f"unknown item suffix {suffix!r} kept", "-" + suffix + "="))
    known_plain = codes.plain_keys()
    aliases = codes.field_aliases()
    for key in dict.fromkeys(t[0] for t in triples if not t[1]):
        if key in known_plain:
            continue
        canonical = aliases.get(key, aliases.get(key.lower()))
        if canonical is not None:
            deferred.append((W.KEY_CASE, f"CP key {key!r} read as {canonical!r}", key + "="))
        else:
            deferred.append((W.UNKNOWN_FIELD, f"unknown CP item {key!r} kept", key + "="))
    time_checks = []
    for index, key in enumerate(keys):
        canonical = key if key in _TIME_KEYS else aliases.get(key.lower(), key)
        if canonical in _TIME_KEYS and key not in keys[:index]:
            time_checks.append((index, key))
    return _Shape(tuple(deferred), tuple(time_checks))


# ------------------------------------------------------------------------------------------ header

_COMMANDS: Final = codes.commands()


_HEADER_CHECKS: dict[tuple[str | None, str | None, str | None, str | None], tuple[FrameWarning, ...]] = {}


def _check_header(header: Header, warnings: list[FrameWarning]) -> None:
    get = header._map.get
    key = (get("Flag"), get("CN"), get("MN"), get("ST"))
    found = _HEADER_CHECKS.get(key)
    if found is None:
        found = _header_warnings(*key)
        if len(_HEADER_CHECKS) >= _SHAPE_CACHE_MAX:
            _HEADER_CHECKS.clear()
        _HEADER_CHECKS[key] = found
    if found:
        warnings.extend(found)
    qn = get("QN")
    if qn is None:
        warnings.append(FrameWarning(W.MISSING_QN, "no QN in the header", None))
    elif len(qn) != 17 or not qn.isdigit():
        warnings.append(FrameWarning(W.BAD_QN, f"QN {qn!r} is not YYYYMMDDhhmmsszzz", None))
    pnum, pno = get("PNUM"), get("PNO")
    flag_text = key[0]
    split = flag_text is not None and flag_text.isdigit() and bool(int(flag_text) & 2)
    if pnum is not None or pno is not None:
        keys = [_canon(k, _HEADER_KEYS) for k in header.keys_]
        if "PNUM" in keys and "PNO" in keys and keys.index("PNO") < keys.index("PNUM"):
            warnings.append(FrameWarning(W.PNO_BEFORE_PNUM, "PNO precedes PNUM", None))
        total = int(pnum) if pnum is not None and pnum.isdigit() and pnum.isascii() else None
        number = int(pno) if pno is not None and pno.isdigit() and pno.isascii() else None
        if total is None or number is None or not 1 <= number <= total:
            warnings.append(FrameWarning(W.BAD_PACKET_NUMBER, f"PNUM={pnum!r} PNO={pno!r}", None))
        if flag_text is not None and flag_text.isdigit() and not split:
            warnings.append(FrameWarning(W.SPLIT_FLAG_MISMATCH, "PNUM/PNO present but Flag.D is 0", None))
    elif split:
        warnings.append(FrameWarning(W.SPLIT_FLAG_MISMATCH, "Flag.D is 1 but PNUM/PNO are missing", None))


def _header_warnings(
    flag_text: str | None, cn: str | None, mn: str | None, st: str | None
) -> tuple[FrameWarning, ...]:
    """Warnings that depend only on Flag, CN, MN and ST (cached per combination)."""
    found: list[FrameWarning] = []
    flag = -1
    if flag_text is None:
        found.append(FrameWarning(W.MISSING_FLAG, "no Flag field (2005 style)", None))
    elif flag_text.isdigit() and flag_text.isascii() and int(flag_text) < 256:
        flag = int(flag_text)
        if flag > 11:
            found.append(
                FrameWarning(W.UNKNOWN_VERSION, f"Flag={flag_text}: version bits {flag >> 2} unknown", None)
            )
    else:
        found.append(FrameWarning(W.BAD_FLAG, f"Flag={flag_text!r} is not 0..255", None))
    if cn is None:
        found.append(FrameWarning(W.MISSING_CN, "no CN in the header", None))
    elif cn not in _COMMANDS:
        found.append(FrameWarning(W.UNKNOWN_CN, f"unknown CN {cn!r}", None))
    if mn is None:
        found.append(FrameWarning(W.MISSING_MN, "no MN in the header", None))
    elif flag > 3 and not _MN_HEX24(mn):
        found.append(FrameWarning(W.NONSTANDARD_MN, f"MN {mn!r} is not 24 hex digits", None))
    if st is not None and not _ST_STD(st):
        found.append(FrameWarning(W.NONSTANDARD_ST, f"ST {st!r} is not two characters 0-9A-Z", None))
    return tuple(found)
