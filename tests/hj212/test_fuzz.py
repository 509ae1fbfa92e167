"""Bounded fuzzing (marked slow): random and mutated bytes never raise anything but HJ212Error subclasses,
never hang, and never grow the decoder's buffer past its cap.

Budget: about a minute in CI (``CI`` set), a few seconds otherwise.
"""

from __future__ import annotations

import contextlib
import os
import random
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hj212 import HJ212Error, StreamDecoder, ack_for, build, parse_frame, parse_message
from hj212.stream import FrameEvent

from .conftest import MN, STD_SEGMENT, wire

CI = bool(os.environ.get("CI"))
HYPOTHESIS_EXAMPLES = 4000 if CI else 300
TIMEBOX_SECONDS = 35.0 if CI else 3.0
CAP = 4096
# A hang guard, not a speed figure: one feed of a few KB takes microseconds; on a shared machine
# under a parallel suite a scheduling pause can exceed half a second, a hang never ends.
MAX_FEED_SECONDS = 5.0

SEEDS = [
    wire(STD_SEGMENT),
    wire(
        f"QN=20240101120000000;ST=31;CN=2011;PW=123456;MN={MN};Flag=5;CP=&&DataTime=20240101120000;"
        "a21026-Rtd=12.3,a21026-ZsRtd=15.1,a21026-Flag=N;a34013-Rtd=3.5,a34013-Flag=N&&"
    ),
    wire(
        f"QN=20240101120000000;ST=32;CN=3020;PW=123456;MN={MN};Flag=5;CP=&&DataTime=20240101120000;"
        "PolId=w01018;i11001-Info=//设备运行正常; a=b//&&"
    ),
    wire("ST=91;CN=9014;PW=123456;MN=88888880000001;Flag=0;CP=&&QN=20040516010101001&&"),
    wire(
        f"QN=20240101120000000;ST=32;CN=2061;PW=123456;MN={MN};Flag=7;PNUM=2;PNO=1;CP=&&DataTime=20240101110000&&"
    ),
]


def mutate(rng: random.Random, data: bytes) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        op = rng.random()
        pos = rng.randrange(len(buf) + 1)
        if op < 0.3 and buf:
            buf[min(pos, len(buf) - 1)] = rng.randrange(256)
        elif op < 0.5:
            buf[pos:pos] = rng.choice(
                [b"#", b"##", b"&&", b";", b",", b"=", b"//", b"\r\n", b"\n", b" ", b"0"]
            )
        elif op < 0.7 and buf:
            del buf[pos : pos + rng.randint(1, 8)]
        elif op < 0.85:
            buf[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 12)))
        else:
            other = rng.choice(SEEDS)
            cut = rng.randrange(len(other) + 1)
            buf[pos:pos] = other[:cut]
    return bytes(buf)


def exercise(data: bytes, chunks: list[int]) -> None:
    decoder = StreamDecoder(max_frame=CAP)
    decoder._reraise = True  # internal errors must fail the test, not hide as diagnostics
    events = []
    pos = 0
    for size in chunks or [len(data) or 1]:
        if pos >= len(data):
            break
        started = time.perf_counter()
        events += decoder.feed(data[pos : pos + size])
        assert time.perf_counter() - started < MAX_FEED_SECONDS
        assert decoder.buffered <= CAP
        pos += size
    if pos < len(data):
        events += decoder.feed(data[pos:])
        assert decoder.buffered <= CAP
    events += decoder.close()
    assert decoder.buffered == 0
    for event in events:
        if isinstance(event, FrameEvent):
            touch(event.frame)
    try:
        frame = parse_frame(data)
    except HJ212Error:
        return
    touch(frame)


def touch(frame: object) -> None:
    """Use the typed layers on a parsed frame: only HJ212Error may come out."""
    from hj212 import Frame

    assert isinstance(frame, Frame)
    _ = (frame.version, frame.flag, frame.pnum, frame.cp.subjects, frame.cp.plain, frame.cp.groups())
    for call in (
        lambda: parse_message(frame),
        lambda: ack_for(frame),
        lambda: build(frame),
        lambda: frame.data_time,
    ):
        with contextlib.suppress(HJ212Error):
            call()


pytestmark = pytest.mark.slow


@settings(max_examples=HYPOTHESIS_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.binary(max_size=3000), st.lists(st.integers(1, 700), max_size=30))
def test_random_bytes(data: bytes, chunks: list[int]) -> None:
    exercise(data, chunks)


@settings(max_examples=HYPOTHESIS_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    st.lists(st.sampled_from(SEEDS), min_size=1, max_size=6),
    st.randoms(use_true_random=False),
    st.lists(st.integers(1, 300), max_size=20),
)
def test_mutated_frames(seeds: list[bytes], rng: random.Random, chunks: list[int]) -> None:
    exercise(b"".join(mutate(rng, s) for s in seeds), chunks)


def test_timeboxed_random_run() -> None:
    rng = random.Random(212)
    deadline = time.monotonic() + TIMEBOX_SECONDS
    runs = 0
    while time.monotonic() < deadline:
        parts = []
        for _ in range(rng.randint(1, 8)):
            kind = rng.random()
            if kind < 0.5:
                parts.append(mutate(rng, rng.choice(SEEDS)))
            elif kind < 0.8:
                parts.append(rng.choice(SEEDS))
            else:
                parts.append(bytes(rng.randrange(256) for _ in range(rng.randint(0, 300))))
        data = b"".join(parts)
        chunks = [rng.randint(1, 400) for _ in range(rng.randint(0, 40))]
        exercise(data, chunks)
        runs += 1
    assert runs > 0


def test_endless_garbage_stays_bounded() -> None:
    decoder = StreamDecoder(max_frame=CAP)
    rng = random.Random(1)
    for _ in range(2000):
        chunk = bytes(rng.choice(b"#0123456789&;=ab\r\n") for _ in range(rng.randint(1, 500)))
        decoder.feed(chunk)
        assert decoder.buffered <= CAP
