"""CRC of HJ 212 frames: the standard's "ANSI CRC16" (Appendix A) and the Modbus variants met in the field.

The HJ 212 algorithm discards the low byte of the register before each byte, so the state carried from
byte to byte is only 8 bits wide and the per-byte map on that state has order 8.  That makes the CRC a
linear function of the XOR of the bytes in each residue class of their distance to the end (mod 8), which
we compute with C-speed big-integer folding instead of a per-byte Python loop.  ``crc16_hj212_reference``
is the literal bitwise algorithm used to test the fast one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final, Literal, get_args

__all__ = [
    "CRC_MODES",
    "POSSIBLE_HJ212_CRCS",
    "CrcMode",
    "check_crc",
    "crc16",
    "crc16_hj212",
    "crc16_hj212_python",
    "crc16_hj212_reference",
    "crc16_modbus",
    "crc_hex",
    "detect_crc_mode",
    "format_crc",
    "is_possible_hj212_crc",
]

CrcMode = Literal["hj212", "modbus", "modbus-swapped", "none"]
CRC_MODES: Final[tuple[CrcMode, ...]] = get_args(CrcMode)


def _make_table() -> list[int]:
    table = []
    for x in range(256):
        reg = x
        for _ in range(8):
            reg = (reg >> 1) ^ 0xA001 if reg & 1 else reg >> 1
        table.append(reg)
    return table


_T: Final[list[int]] = _make_table()
# _H[x]: the next 8-bit state of the HJ 212 CRC after xoring the byte into the previous state.
_H: Final[list[int]] = [t >> 8 for t in _T]


def _powers() -> list[list[int]]:
    powers = [list(range(256))]
    for _ in range(7):
        powers.append([_H[x] for x in powers[-1]])
    if [_H[x] for x in powers[-1]] != powers[0]:  # pragma: no cover - a property of the polynomial
        raise AssertionError("HJ 212 CRC state map is expected to have order 8")
    return powers


_P0, _P1, _P2, _P3, _P4, _P5, _P6, _P7 = _powers()
_INIT: Final[list[int]] = [p[0xFF] for p in (_P0, _P1, _P2, _P3, _P4, _P5, _P6, _P7)]
# Two lanes per look-up: _Qab[w] = Pa[w & 255] ^ Pb[w >> 8]  (64 KiB each, as bytes).
_Q01: Final = bytes([_P0[w & 255] ^ _P1[w >> 8] for w in range(65536)])
_Q23: Final = bytes([_P2[w & 255] ^ _P3[w >> 8] for w in range(65536)])
_Q45: Final = bytes([_P4[w & 255] ^ _P5[w >> 8] for w in range(65536)])
_Q67: Final = bytes([_P6[w & 255] ^ _P7[w >> 8] for w in range(65536)])
_MASKS: Final[list[int]] = [(1 << (half << 6)) - 1 for half in range(257)]

#: The 256 values the HJ 212 CRC of a non-empty segment can take (it depends on one 8-bit quantity).
POSSIBLE_HJ212_CRCS: Final[frozenset[int]] = frozenset(_T)


def crc16_hj212_python(data: bytes | bytearray | memoryview) -> int:
    """HJ 212 CRC of ``data`` (the data segment bytes) as an int 0..0xFFFF (pure Python)."""
    n = len(data)
    if n == 0:
        return 0xFFFF
    x = int.from_bytes(data, "big")
    # Byte k from the end sits at bits 8k; fold 64-bit words so that lane j holds the XOR of the bytes
    # whose distance to the end is j (mod 8).
    words = (n + 7) >> 3
    masks = _MASKS
    while words > 1:
        half = words >> 1
        shift = half << 6
        x = (x & (masks[half] if half < 257 else (1 << shift) - 1)) ^ (x >> shift)
        words -= half
    return _T[
        _Q01[x & 0xFFFF]
        ^ _Q23[(x >> 16) & 0xFFFF]
        ^ _Q45[(x >> 32) & 0xFFFF]
        ^ _Q67[x >> 48]
        ^ _INIT[(n - 1) & 7]
    ]


crc16_hj212: Callable[[bytes | bytearray | memoryview], int]
"""HJ 212 CRC of ``data`` (the data segment bytes) as an int 0..0xFFFF: the C version of ``hj212._speedups``
when it was built (1.1 against 1.6 µs for the 510-byte segment of a 2011 frame), else :func:`crc16_hj212_python`."""
try:
    from hj212._speedups import crc16_hj212
except ImportError:  # pragma: no cover - the C module is optional
    crc16_hj212 = crc16_hj212_python


def crc16_hj212_reference(data: bytes | bytearray | memoryview) -> int:
    """The literal bitwise algorithm of HJ 212-2017 Appendix A (slow; for tests)."""
    reg = 0xFFFF
    for b in bytes(data):
        reg = (reg >> 8) ^ b
        for _ in range(8):
            lsb = reg & 1
            reg >>= 1
            if lsb:
                reg ^= 0xA001
    return reg


def crc16_modbus(data: bytes | bytearray | memoryview) -> int:
    """CRC-16/MODBUS (init 0xFFFF, reflected poly 0xA001) as an int."""
    reg = 0xFFFF
    table = _T
    for b in bytes(data):
        reg = (reg >> 8) ^ table[(reg ^ b) & 0xFF]
    return reg


def crc16(data: bytes | bytearray | memoryview, mode: CrcMode = "hj212") -> int:
    """CRC of ``data`` under ``mode``.  ``none`` computes the HJ 212 CRC (what we emit for such devices)."""
    if mode in {"hj212", "none"}:
        return crc16_hj212(data)
    if mode == "modbus":
        return crc16_modbus(data)
    if mode == "modbus-swapped":
        value = crc16_modbus(data)
        return ((value & 0xFF) << 8) | (value >> 8)
    from .errors import UsageError

    raise UsageError(f"unknown CRC mode {mode!r}; expected one of {', '.join(CRC_MODES)}")


def format_crc(value: int) -> str:
    """Four upper-case hex digits, zero-padded."""
    return f"{value:04X}"


def crc_hex(data: bytes | bytearray | memoryview, mode: CrcMode = "hj212") -> str:
    """CRC of ``data`` as the four hex digits a frame carries."""
    return f"{crc16(data, mode):04X}"


def _crc_text_value(crc_text: str | bytes) -> int | None:
    text = crc_text.decode("ascii", "replace") if isinstance(crc_text, bytes) else crc_text
    if not 1 <= len(text) <= 4:
        return None
    try:
        return int(text, 16)
    except ValueError:
        return None


def check_crc(data: bytes | bytearray | memoryview, crc_text: str | bytes, mode: CrcMode = "hj212") -> bool:
    """True when ``crc_text`` (case-insensitive hex) is the CRC of ``data`` under ``mode``.

    Mode ``none`` accepts anything.
    """
    if mode == "none":
        return True
    value = _crc_text_value(crc_text)
    return value is not None and value == crc16(data, mode)


def detect_crc_mode(data: bytes | bytearray | memoryview, crc_text: str | bytes) -> CrcMode | None:
    """Which CRC mode (``hj212``, ``modbus``, ``modbus-swapped``) ``crc_text`` matches, or None."""
    value = _crc_text_value(crc_text)
    if value is None:
        return None
    if value == crc16_hj212(data):
        return "hj212"
    modbus = crc16_modbus(data)
    if value == modbus:
        return "modbus"
    if value == ((modbus & 0xFF) << 8) | (modbus >> 8):
        return "modbus-swapped"
    return None


def is_possible_hj212_crc(value: int | str) -> bool:
    """Cheap pre-check: can ``value`` be an HJ 212 CRC at all (one of 256 values)?"""
    if isinstance(value, str):
        parsed = _crc_text_value(value)
        if parsed is None:
            return False
        value = parsed
    return value in POSSIBLE_HJ212_CRCS
