"""Shared helpers for the hj212 tests (plain pytest + hypothesis, no Django, no database)."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

from hj212.crc import crc16_hj212

settings.register_profile(
    "hj212-ci", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "hj212-dev", max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("hj212-ci" if os.environ.get("CI") else "hj212-dev")

#: The standard's CRC example (HJ 212-2017 Appendix A), 101 bytes, CRC 1C80.
STD_SEGMENT = (
    "QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;CP=&&RtdInterval=30&&"
)
MN = "010000A8900016F000169DC0"


def wire(
    segment: str | bytes, *, crc: str | None = None, length: int | None = None, trailer: bytes = b"\r\n"
) -> bytes:
    """Frame bytes for a data segment: correct length (UTF-8 bytes) and CRC unless overridden."""
    seg = segment.encode("utf-8") if isinstance(segment, str) else segment
    size = len(seg) if length is None else length
    crc_text = f"{crc16_hj212(seg):04X}" if crc is None else crc
    return b"##%04d" % size + seg + crc_text.encode("ascii") + trailer


@pytest.fixture
def std_frame() -> bytes:
    return wire(STD_SEGMENT)
