"""Splitting on build and reassembly keyed by (MN, CN, DataTime, PNUM): order, duplicates, gaps, timeouts."""

from __future__ import annotations

import pytest

from hj212 import (
    CP,
    PROFILE_2017,
    BuildError,
    Reassembler,
    build,
    build_frames,
    make_frame,
    parse_frame,
    split_frame,
)
from hj212.reassembly import group_key, merge_packets

from .conftest import MN


def history(pollutants: int = 40, *, qn: str = "20240101120000534", data_time: str = "20240101110000"):  # type: ignore[no-untyped-def]
    subjects = {
        f"a{21000 + i}": {"Cou": "1234.5", "Min": "1.23", "Avg": "2.345", "Max": "3.456", "Flag": "N"}
        for i in range(pollutants)
    }
    return make_frame(2061, qn=qn, st="31", mn=MN, flag=5, cp=CP.build({"DataTime": data_time}, subjects))


def test_small_message_is_not_split() -> None:
    frame = history(3)
    assert split_frame(frame) == [frame]


def test_split_packets_are_conformant() -> None:
    frame = history()
    packets = split_frame(frame)
    assert len(packets) > 1
    for number, packet in enumerate(packets, start=1):
        data = build(packet)
        segment_size = int(data[2:6])
        assert segment_size <= 1024
        assert len(("CP=&&" + packet.cp.render() + "&&").encode()) <= 950
        assert packet.pnum == len(packets) and packet.pno == number
        assert packet.flag is not None and packet.flag.split and packet.flag.ack
        assert packet.cp.keys[0] == "DataTime" and packet.cp.values[0] == "20240101110000"
        assert packet.mn == MN and packet.cn == "2061"
    assert [p.qn for p in packets] == [f"20240101120000{534 + i:03d}" for i in range(len(packets))]
    # a subject's items stay together
    for packet in packets:
        for code, fields in packet.cp.subjects.items():
            assert len(fields) == 5, code


def test_consecutive_qns_roll_over_the_second() -> None:
    packets = split_frame(history(qn="20240101120000999"))
    assert packets[1].qn == "20240101120001000"


def test_build_frames_and_padding_option() -> None:
    wires = build_frames(history(), PROFILE_2017.replace(pad_packet_numbers=True))
    assert all(b"PNUM=000" in w and b"PNO=000" in w for w in wires)
    assert all(parse_frame(w).warnings == () for w in wires)


def test_item_too_large_for_a_packet() -> None:
    frame = make_frame(3020, mn=MN, qn="20240101120000000", cp=[("i11001-Info", "//" + "x" * 1000 + "//")])
    with pytest.raises(BuildError):
        split_frame(frame)


def test_large_subject_is_split_by_items() -> None:
    subjects = {"a21026": {f"X{i}": "123456.789" for i in range(120)}}
    frame = make_frame(
        2061, mn=MN, qn="20240101120000000", flag=5, cp=CP.build({"DataTime": "20240101110000"}, subjects)
    )
    packets = split_frame(frame)
    assert len(packets) >= 2
    merged = merge_packets(packets)
    assert merged.cp.keys == frame.cp.keys and merged.cp.values == frame.cp.values


def _packets() -> list:  # type: ignore[type-arg]
    return [parse_frame(w) for w in build_frames(history())]


def test_reassembly_in_order() -> None:
    packets = _packets()
    reassembler = Reassembler()
    results = [reassembler.add(p) for p in packets]
    assert results[:-1] == [None] * (len(packets) - 1)
    done = results[-1]
    assert done is not None and done.complete and done.missing == ()
    assert done.frame == history().replace() and done.frame.flag is not None and not done.frame.flag.split
    assert done.frame.qn == packets[0].qn
    assert len(reassembler) == 0


def test_reassembly_out_of_order_and_duplicates() -> None:
    packets = _packets()
    order = [packets[2], packets[0], packets[2], packets[1], *packets[3:]]
    reassembler = Reassembler()
    results = [r for r in (reassembler.add(p) for p in order) if r is not None]
    assert len(results) == 1 and results[0].complete and results[0].duplicates == 1
    assert results[0].frame.cp == history().cp
    assert reassembler.add(packets[0]) is None  # late duplicate after completion
    assert reassembler.late_duplicates == 1 and len(reassembler) == 0


def test_reassembly_missing_packet_times_out_with_report() -> None:
    now = [1000.0]
    reassembler = Reassembler(timeout=60, clock=lambda: now[0])
    packets = _packets()
    for packet in packets[:1] + packets[2:]:
        assert reassembler.add(packet) is None
    (status,) = reassembler.pending()
    assert status.missing == (2,) and status.key == (MN, "2061", "20240101110000", len(packets))
    now[0] += 59
    assert reassembler.expire() == []
    now[0] += 2
    (partial,) = reassembler.expire()
    assert not partial.complete and partial.missing == (2,)
    assert len(partial.packets) == len(packets) - 1
    assert partial.frame.cp.keys[0] == "DataTime" and partial.frame.cp.keys.count("DataTime") == 1


def test_grouping_never_uses_qn() -> None:
    # two messages with the same QNs but different DataTime stay apart; same key, different QNs merge
    a = [parse_frame(w) for w in build_frames(history(data_time="20240101110000"), qn="20240101120000000")]
    b = [parse_frame(w) for w in build_frames(history(data_time="20240101100000"), qn="20240101120000000")]
    reassembler = Reassembler()
    done = [r for r in (reassembler.add(p) for pair in zip(a, b, strict=True) for p in pair) if r]
    assert len(done) == 2 and {d.frame.cp.plain["DataTime"] for d in done} == {
        "20240101110000",
        "20240101100000",
    }
    assert group_key(a[0]) != group_key(b[0])


def test_unsplit_frame_passes_through() -> None:
    frame = history(2)
    result = Reassembler().add(frame)
    assert result is not None and result.complete and result.frame is frame


def test_drain_and_eviction() -> None:
    reassembler = Reassembler(max_groups=1)
    first = _packets()[0]
    other = parse_frame(build_frames(history(data_time="20240102110000"))[0])
    reassembler.add(first)
    reassembler.add(other)  # evicts the first group
    given_up = reassembler.expire()
    assert len(given_up) == 1 and given_up[0].key is not None and given_up[0].key[2] == "20240101110000"
    (rest,) = reassembler.drain()
    assert not rest.complete
