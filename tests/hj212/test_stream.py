"""Sans-IO stream decoder: partial and merged reads, garbage, line ends, caps, diagnostics."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hj212 import Diagnostic, FrameEvent, StreamDecoder, UsageError, build, make_frame
from hj212.stream import Event

from .conftest import MN, STD_SEGMENT, wire


def frames(count: int) -> list[bytes]:
    return [
        build(
            make_frame(
                2011,
                qn=f"20240101120000{i % 1000:03d}",
                mn=MN,
                flag=5,
                cp=[
                    ("DataTime", "20240101120000"),
                    ("a21026-Rtd", str(i)),
                    ("i11001-Info", f"//日志 {i}//"),
                ],
            )
        )
        for i in range(count)
    ]


def decode(chunks: list[bytes], **kw: object) -> list[Event]:
    decoder = StreamDecoder(**kw)  # type: ignore[arg-type]
    decoder._reraise = True
    events: list[Event] = []
    for chunk in chunks:
        events += decoder.feed(chunk)
        assert decoder.buffered <= decoder.max_frame
    return events + decoder.close()


def raw_frames(events: list[Event]) -> list[bytes]:
    return [e.raw for e in events if isinstance(e, FrameEvent)]


def test_one_byte_at_a_time() -> None:
    data = b"".join(frames(5))
    events = decode([data[i : i + 1] for i in range(len(data))])
    assert raw_frames(events) == frames(5)
    assert all(isinstance(e, FrameEvent) for e in events)


def test_megabyte_at_once() -> None:
    many = frames(300) * 12
    data = b"".join(many)
    events = decode([data * 2])
    assert len(data) * 2 > 1_000_000
    assert raw_frames(events) == many * 2


def test_partial_then_merged() -> None:
    a, b, c = frames(3)
    events = decode([a[:10], a[10:] + b[:-1], b[-1:] + c])
    assert raw_frames(events) == [a, b, c]


def test_offsets_point_at_frame_starts() -> None:
    a, b = frames(2)
    events = decode([b"xx" + a + b])
    offsets = [e.offset for e in events if isinstance(e, FrameEvent)]
    assert offsets == [2, 2 + len(a)]
    garbage = [e for e in events if isinstance(e, Diagnostic)]
    assert garbage[0].kind == "garbage" and garbage[0].offset == 0 and garbage[0].size == 2


def test_garbage_without_frames_is_reported_and_not_buffered() -> None:
    decoder = StreamDecoder()
    events = decoder.feed(b"\x01\x03\x02\x00\x0a" * 1000)
    assert [e.kind for e in events if isinstance(e, Diagnostic)] == ["garbage"]
    assert decoder.buffered == 0
    assert decoder.offset == 5000


def test_hash_hash_not_followed_by_digits_is_garbage() -> None:
    a = frames(1)[0]
    events = decode([b"##ab###" + a])
    assert raw_frames(events) == [a]


def test_truncated_frame_followed_by_a_new_one() -> None:
    a, b = frames(2)
    events = decode([a[:40] + b])
    assert raw_frames(events) == [b]
    (diag,) = [e for e in events if isinstance(e, Diagnostic)]
    assert diag.kind == "truncated" and diag.size == 40


def test_oversize_candidate_is_dropped_and_buffer_stays_bounded() -> None:
    decoder = StreamDecoder(max_frame=1024)
    events = decoder.feed(b"##0010" + b"x" * 5000)
    assert decoder.buffered <= 1024
    assert next(e.kind for e in events if isinstance(e, Diagnostic)) == "oversize"
    events = decoder.feed(b"y" * 3000 + wire(STD_SEGMENT))
    assert raw_frames(events) == [wire(STD_SEGMENT)]
    assert {e.kind for e in events if isinstance(e, Diagnostic)} == {"oversize"}


def test_complete_frame_above_cap_is_dropped() -> None:
    items = ";".join(f"a{21000 + i}-Rtd=1.5" for i in range(100))
    big = wire(f"QN=20240101120000000;ST=31;CN=2011;PW=123456;MN={MN};Flag=5;CP=&&{items}&&")
    events = decode([big + wire(STD_SEGMENT)], max_frame=1024)
    assert raw_frames(events) == [wire(STD_SEGMENT)]
    assert events[0].kind == "oversize"  # type: ignore[union-attr]


def test_frame_without_crlf_waits_until_flush_or_next_frame() -> None:
    bare = wire(STD_SEGMENT, trailer=b"")
    decoder = StreamDecoder()
    assert decoder.feed(bare) == []
    (event,) = decoder.flush()
    assert isinstance(event, FrameEvent) and event.crc_ok
    assert decoder.feed(bare) == []
    events = decoder.feed(wire(STD_SEGMENT))
    assert len(raw_frames(events)) == 2


def test_close_reports_an_incomplete_tail() -> None:
    decoder = StreamDecoder()
    decoder.feed(wire(STD_SEGMENT)[:30])
    (diag,) = decoder.close()
    assert isinstance(diag, Diagnostic) and diag.kind == "truncated"
    assert decoder.buffered == 0


def test_cr_at_chunk_boundary() -> None:
    a = wire(STD_SEGMENT, length=120)  # wrong length: found by scanning
    events = decode([a[:-1], a[-1:]])
    assert raw_frames(events) == [a]
    assert all(w.code != "cr-only" for w in events[0].frame.warnings)  # type: ignore[union-attr]


def test_feed_rejects_non_bytes() -> None:
    with pytest.raises(UsageError):
        StreamDecoder().feed("text")  # type: ignore[arg-type]
    with pytest.raises(UsageError):
        StreamDecoder(max_frame=10)


def test_many_small_feeds_of_a_large_candidate_are_linear() -> None:
    decoder = StreamDecoder()
    decoder.feed(b"##0100")
    for _ in range(60_000):
        decoder.feed(b"a")
    assert decoder.buffered <= decoder.max_frame


GARBAGE = st.binary(max_size=40).map(lambda b: b.replace(b"#", b"*"))


@given(
    st.lists(st.tuples(GARBAGE, st.integers(0, 9)), min_size=1, max_size=8),
    st.lists(st.integers(1, 200), min_size=1, max_size=50),
)
def test_random_chunking_with_garbage_yields_frames_in_order(
    parts: list[tuple[bytes, int]], cuts: list[int]
) -> None:
    pool = frames(10)
    expected = [pool[i] for _, i in parts]
    data = b"".join(g + pool[i] for g, i in parts)
    chunks = []
    pos = 0
    for cut in cuts * (len(data) // max(sum(cuts), 1) + 1):
        if pos >= len(data):
            break
        chunks.append(data[pos : pos + cut])
        pos += cut
    if pos < len(data):
        chunks.append(data[pos:])
    assert raw_frames(decode(chunks)) == expected
