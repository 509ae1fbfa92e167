"""CRC: the standard's vectors, the fast implementation against the literal algorithm, modes, detection."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hj212.crc import (
    POSSIBLE_HJ212_CRCS,
    check_crc,
    crc16,
    crc16_hj212,
    crc16_hj212_python,
    crc16_hj212_reference,
    crc16_modbus,
    crc_hex,
    detect_crc_mode,
    format_crc,
    is_possible_hj212_crc,
)
from hj212.errors import UsageError

from .conftest import STD_SEGMENT


def test_standard_example_vector() -> None:
    data = STD_SEGMENT.encode()
    assert len(data) == 101
    assert crc_hex(data) == "1C80"
    assert crc_hex(data, "modbus") == "0759"


def test_check_string_vector() -> None:
    assert crc_hex(b"123456789") == "2F80"
    assert crc_hex(b"123456789", "modbus") == "4B37"
    assert crc_hex(b"123456789", "modbus-swapped") == "374B"


def test_empty_input_vector() -> None:
    assert crc_hex(b"") == "FFFF"
    assert crc_hex(b"", "modbus") == "FFFF"


def test_output_is_zero_padded_upper_case() -> None:
    assert format_crc(0x0A5) == "00A5"
    small = next(v for v in sorted(POSSIBLE_HJ212_CRCS) if v < 0x1000)
    assert format_crc(small) == f"{small:04X}" and len(format_crc(small)) == 4


@given(st.binary(max_size=3000))
def test_fast_crc_equals_literal_algorithm(data: bytes) -> None:
    assert crc16_hj212(data) == crc16_hj212_python(data) == crc16_hj212_reference(data)


def test_the_c_crc_is_built_and_used() -> None:
    """setup.py builds ``hj212._speedups`` (optional, so a machine without a compiler still installs);
    here, where the project's tests run, it must have been built."""
    from hj212 import _speedups

    assert crc16_hj212 is _speedups.crc16_hj212
    assert _speedups.crc16_hj212(STD_SEGMENT.encode()) == 0x1C80


def test_the_c_crc_refuses_what_is_not_bytes() -> None:
    with pytest.raises(TypeError):
        crc16_hj212("text")  # type: ignore[arg-type]


@given(st.binary(max_size=200))
def test_crc_accepts_bytearray_and_memoryview(data: bytes) -> None:
    assert crc16_hj212(bytearray(data)) == crc16_hj212(memoryview(data)) == crc16_hj212(data)


def test_only_256_values_are_possible() -> None:
    assert len(POSSIBLE_HJ212_CRCS) == 256
    for value in (0x4980, 0xE2C1, 0xF441, 0x2800, 0x1C80, 0x2F80):  # seen in the field / vectors
        assert is_possible_hj212_crc(value)
        assert is_possible_hj212_crc(f"{value:04x}")
    assert not is_possible_hj212_crc("zz")


@given(st.binary(min_size=1, max_size=500))
def test_every_crc_is_in_the_possible_set(data: bytes) -> None:
    assert crc16_hj212(data) in POSSIBLE_HJ212_CRCS


def test_check_is_case_insensitive() -> None:
    data = STD_SEGMENT.encode()
    assert check_crc(data, "1C80")
    assert check_crc(data, "1c80")
    assert check_crc(data, b"1c80")
    assert not check_crc(data, "1C81")
    assert not check_crc(data, "xyz")
    assert check_crc(data, "0000", "none")


def test_detector_names_the_matching_mode() -> None:
    data = STD_SEGMENT.encode()
    assert detect_crc_mode(data, "1C80") == "hj212"
    assert detect_crc_mode(data, f"{crc16_modbus(data):04X}") == "modbus"
    assert detect_crc_mode(data, crc_hex(data, "modbus-swapped")) == "modbus-swapped"
    assert detect_crc_mode(data, "0000") is None
    assert detect_crc_mode(data, "not hex") is None


def test_unknown_mode_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        crc16(b"x", "crc32")  # type: ignore[arg-type]
