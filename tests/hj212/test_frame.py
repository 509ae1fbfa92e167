"""Frames: parsing into the typed model, typed accessors, byte-exact round trip, strict build."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from hj212 import (
    CP,
    PROFILE_2017,
    BuildError,
    FieldValueError,
    Flag,
    Frame,
    FrameError,
    Header,
    UsageError,
    build,
    make_frame,
    parse_frame,
    render_segment,
)
from hj212.values import BEIJING, format_datetime, next_qn, parse_clock, parse_datetime

from .conftest import MN, STD_SEGMENT, wire


def test_standard_example_parses_cleanly(std_frame: bytes) -> None:
    frame = parse_frame(std_frame)
    assert frame.warnings == ()
    assert frame.crc == "1C80" and frame.crc_ok and frame.crc_mode_detected == "hj212"
    assert frame.qn == "20160801085857223"
    assert (frame.st, frame.cn, frame.pw, frame.mn) == ("32", "1062", "100000", MN)
    assert frame.flag == Flag(5) and frame.flag.ack and not frame.flag.split and frame.flag.version_bits == 1
    assert frame.version == "2017"
    assert frame.cp.plain == {"RtdInterval": "30"}
    assert frame.length_field == "0101"
    assert frame.raw == std_frame


def test_round_trip_is_byte_exact(std_frame: bytes) -> None:
    assert build(parse_frame(std_frame)) == std_frame


def test_header_is_an_unordered_map_that_keeps_order() -> None:
    seg = "ST=32;MN=" + MN + ";QN=20160801085857223;PW=123456;CN=2011;Flag=5;Vendor=x;CP=&&&&"
    frame = parse_frame(wire(seg))
    assert frame.header["MN"] == MN and frame.header["Vendor"] == "x"
    assert [k for k, _ in frame.header.pairs] == ["ST", "MN", "QN", "PW", "CN", "Flag", "Vendor"]
    assert build(frame) == wire(seg)
    assert any(w.code == "unknown-header-key" for w in frame.warnings)


def test_cp_items_grouped_by_subject() -> None:
    seg = (
        f"QN=20240101120000000;ST=31;CN=2011;PW=123456;MN={MN};Flag=5;CP=&&DataTime=20240101120000;"
        "a21026-Rtd=12.30,a21026-ZsRtd=15.1,a21026-Flag=N;a34013-Rtd=3.5,a34013-Flag=D;"
        "a21026-SampleTime=20240101115959&&"
    )
    frame = parse_frame(wire(seg))
    assert frame.cp.subjects == {
        "a21026": {"Rtd": "12.30", "ZsRtd": "15.1", "Flag": "N", "SampleTime": "20240101115959"},
        "a34013": {"Rtd": "3.5", "Flag": "D"},
    }
    groups = frame.cp.groups()
    assert groups[0].subject is None and groups[0].items == (("DataTime", "20240101120000"),)
    assert groups[1].subject == "a21026" and len(groups[1].items) == 4
    assert frame.cp.decimal("a21026") == Decimal("12.30")  # trailing zero kept
    assert frame.cp.get("a34013-Flag") == "D"
    assert "a34013-Rtd" in frame.cp
    assert build(frame) == wire(seg)


def test_typed_times_are_beijing_aware() -> None:
    frame = parse_frame(wire(STD_SEGMENT.replace("RtdInterval=30", "DataTime=20240229235959")))
    moment = frame.data_time
    assert moment is not None and moment.tzinfo is not None
    assert moment.utcoffset() == timedelta(hours=8)
    assert moment == datetime(2024, 2, 29, 23, 59, 59, tzinfo=BEIJING)
    assert moment.astimezone(UTC).hour == 15
    assert format_datetime(moment) == "20240229235959"


def test_value_helpers() -> None:
    assert parse_datetime("20160801085857223").microsecond == 223000
    assert parse_clock("083000").hour == 8
    assert next_qn("20160801085857999") == "20160801085858000"
    with pytest.raises(FieldValueError):
        parse_datetime("20161301000000")
    with pytest.raises(FieldValueError):
        CP([("a21026-Rtd", "1,2x")], "").decimal("a21026")


def test_log_text_is_kept_verbatim_with_separators_inside() -> None:
    log = "//设备运行正常; 温度=25,湿度=60 http://x//"
    seg = f"QN=20240101120000000;ST=31;CN=3020;PW=123456;MN={MN};Flag=5;CP=&&DataTime=20240101120000;PolId=w01018;i11001-Info={log}&&"
    raw = wire(seg)
    frame = parse_frame(raw)
    assert frame.cp.get("i11001-Info") == log
    assert frame.warnings == ()
    assert build(frame) == raw
    assert int(raw[2:6]) == len(seg.encode("utf-8"))  # bytes, not characters


def test_build_counts_utf8_bytes() -> None:
    frame = make_frame(3020, qn="20240101120000000", mn=MN, flag=5, cp=[("i21001-Info", "//数采仪重启//")])
    data = build(frame)
    segment = render_segment(frame).encode("utf-8")
    assert data[2:6] == b"%04d" % len(segment)
    assert len(segment) > len(render_segment(frame))


def test_make_frame_puts_header_in_standard_order() -> None:
    frame = make_frame(2061, qn="20240101120000000", st="32", mn=MN, flag=7, pnum=2, pno=1)
    assert [k for k, _ in frame.header.pairs] == ["QN", "ST", "CN", "PW", "MN", "Flag", "PNUM", "PNO"]
    assert frame.pnum == 2 and frame.pno == 1 and frame.is_split


def test_new_cp_uses_canonical_separators() -> None:
    cp = CP.build(
        {"DataTime": "20240101120000"}, {"w01018": {"Rtd": "1", "Flag": "N"}, "w00000": {"Rtd": "2"}}
    )
    assert cp.render() == "DataTime=20240101120000;w01018-Rtd=1,w01018-Flag=N;w00000-Rtd=2"


def test_build_rejects_separators_in_values() -> None:
    with pytest.raises(BuildError):
        build(make_frame(2011, mn=MN, cp=[("a21026-Rtd", "1;2")]))
    with pytest.raises(BuildError):
        build(make_frame(2011, mn="bad;mn"))
    with pytest.raises(BuildError):
        build(make_frame(2011, mn=MN, cp=[("a21026-Rtd", "1&&2")]))


def test_build_rejects_oversize_unless_allowed() -> None:
    items = [(f"a{21000 + i}-Rtd", "1234.567") for i in range(80)]
    frame = make_frame(2011, mn=MN, cp=items)
    with pytest.raises(BuildError):
        build(frame)
    data = build(frame, allow_oversize=True)
    assert parse_frame(data).crc_ok


def test_build_cp_limit_950() -> None:
    items = [(f"a{21000 + i}-Rtd", "12345.67") for i in range(50)]  # CP of ~960 bytes
    frame = make_frame(2011, mn=MN, cp=items)
    assert len(frame.cp.render()) + len("CP=&&&&") > 950
    with pytest.raises(BuildError, match="CP"):
        build(frame, PROFILE_2017.replace(max_segment=2000))


def test_modbus_profile_builds_modbus_crc() -> None:
    frame = parse_frame(wire(STD_SEGMENT))
    data = build(frame, PROFILE_2017.replace(crc_mode="modbus"))
    assert data.endswith(b"0759\r\n")
    assert parse_frame(data, crc_mode="modbus").crc_ok
    back = parse_frame(data)
    assert not back.crc_ok and back.crc_mode_detected == "modbus"


def test_frames_compare_by_message() -> None:
    a = parse_frame(wire(STD_SEGMENT))
    b = Frame(Header(a.header.pairs), CP(a.cp.items, a.cp.separators))
    assert a == b and hash(a) == hash(b)
    assert a != a.replace(cp=CP([("RtdInterval", "60")]))


def test_header_replace() -> None:
    header = Header([("QN", "1"), ("ST", "32"), ("CN", "2011"), ("MN", MN)])
    changed = header.replace(Flag="7", PNUM="2", PNO="1", QN=None)
    assert [k for k, _ in changed.pairs] == ["ST", "CN", "MN", "Flag", "PNUM", "PNO"]


def test_usage_errors() -> None:
    with pytest.raises(UsageError):
        parse_frame(12345)  # type: ignore[arg-type]
    with pytest.raises(UsageError):
        CP([("a", "1"), ("b", "2")], ";;")
    with pytest.raises(FrameError):
        parse_frame(b"no frame here")


def test_str_input_is_accepted() -> None:
    assert parse_frame(wire(STD_SEGMENT).decode()).crc_ok


def test_unencodable_text_raises_library_errors() -> None:
    with pytest.raises(FrameError):
        parse_frame("##0001\ud800")
    with pytest.raises(BuildError):
        build(make_frame(2011, mn=MN, cp=[("i11001-Info", "//\ud800//")]))
