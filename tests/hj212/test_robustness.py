"""The digest's robustness checklist (section 18 plus the frame rules of sections 3 and 5), item by item.

Each deviation is accepted, recorded as a structured warning, and never drops the frame.
"""

from __future__ import annotations

from hj212 import PROFILE_2005, PROFILE_2017, FrameEvent, StreamDecoder, build, parse_frame
from hj212.crc import crc16_modbus

from .conftest import MN, STD_SEGMENT, wire

HEAD = f"QN=20240101120000000;ST=32;CN=2011;PW=123456;MN={MN};Flag=5;"


def codes_of(data: bytes, **kw: object) -> set[str]:
    return {str(w.code) for w in parse_frame(data, **kw).warnings}  # type: ignore[arg-type]


def test_missing_qn() -> None:
    frame = parse_frame(wire(f"ST=32;CN=2011;PW=123456;MN={MN};Flag=5;CP=&&DataTime=20240101120000&&"))
    assert frame.qn is None and frame.crc_ok
    assert "missing-qn" in {w.code for w in frame.warnings}


def test_missing_flag() -> None:
    frame = parse_frame(
        wire("QN=20040516010101001;ST=32;CN=2011;PW=123456;MN=88888880000001;CP=&&B01-Rtd=36.91&&")
    )
    assert frame.flag is None and frame.version == "2005" and frame.crc_ok
    assert "missing-flag" in {w.code for w in frame.warnings}
    assert frame.needs_ack(PROFILE_2005) and not frame.needs_ack(
        PROFILE_2005.replace(ack_when_flag_absent=False)
    )


def test_17_digit_datatime() -> None:
    frame = parse_frame(wire(HEAD + "CP=&&DataTime=20240101120000123;a21026-Rtd=1&&"))
    assert frame.cp.plain["DataTime"] == "20240101120000123"
    assert frame.data_time is not None and frame.data_time.microsecond == 123000
    assert "datetime-17-digits" in {w.code for w in frame.warnings}


def test_lower_case_crc() -> None:
    data = wire(STD_SEGMENT, crc="1c80")
    frame = parse_frame(data)
    assert frame.crc_ok and frame.crc == "1c80"
    assert {w.code for w in frame.warnings} == {"crc-lowercase"}
    assert build(frame).endswith(b"1C80\r\n")


def test_wrong_length_field_recovered() -> None:
    data = wire(STD_SEGMENT, length=139)
    frame = parse_frame(data)
    assert frame.crc_ok and frame.cp.plain == {"RtdInterval": "30"}
    assert "length-mismatch" in {w.code for w in frame.warnings}
    assert build(frame) == wire(STD_SEGMENT)  # build emits the right length
    events = StreamDecoder().feed(data + wire(STD_SEGMENT))
    assert [type(e) for e in events] == [FrameEvent, FrameEvent]


def test_length_counted_in_characters() -> None:
    seg = HEAD.replace("2011", "3020") + "CP=&&i11001-Info=//运行正常//&&"
    data = wire(seg, length=len(seg))
    frame = parse_frame(data)
    assert frame.crc_ok and "length-counts-chars" in {w.code for w in frame.warnings}
    assert "length-counts-chars" not in codes_of(data, profile=PROFILE_2017.replace(length_mode="either"))


def test_frames_over_1024_bytes() -> None:
    items = ";".join(f"a{21000 + i}-Rtd=1234.5678,a{21000 + i}-Flag=N" for i in range(60))
    data = wire(HEAD + "CP=&&DataTime=20240101120000;" + items + "&&")
    assert len(data) > 1624
    frame = parse_frame(data)
    assert frame.crc_ok and len(frame.cp.subjects) == 60
    assert {"oversize-segment", "oversize-cp"} <= {w.code for w in frame.warnings}
    (event,) = StreamDecoder().feed(data)
    assert isinstance(event, FrameEvent) and event.crc_ok


def test_non_hex_and_any_length_mn() -> None:
    for mn in ("JLYP01_AIR01_0001", "LD130133000015", "123456789012345", "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123"):
        frame = parse_frame(wire(HEAD.replace(MN, mn) + "CP=&&&&"))
        assert frame.mn == mn and frame.crc_ok
        assert "nonstandard-mn" in {w.code for w in frame.warnings}


def test_arbitrary_st() -> None:
    for st in ("101", "77", "A5", "x"):
        frame = parse_frame(wire(HEAD.replace("ST=32", f"ST={st}") + "CP=&&&&"))
        assert frame.st == st and frame.crc_ok
    assert "nonstandard-st" in codes_of(wire(HEAD.replace("ST=32", "ST=101") + "CP=&&&&"))


def test_unknown_cn_and_fields() -> None:
    data = wire(HEAD.replace("CN=2011", "CN=8013") + "CP=&&HeartbeatTime=20240101120000;Foo=1;zz99-Bar=2&&")
    frame = parse_frame(data)
    assert frame.crc_ok and frame.cp.plain["Foo"] == "1" and frame.cp.subjects["zz99"] == {"Bar": "2"}
    codes = {w.code for w in frame.warnings}
    assert {"unknown-field", "unknown-code", "unknown-suffix"} <= codes
    frame = parse_frame(wire(HEAD.replace("CN=2011", "CN=4567") + "CP=&&&&"))
    assert "unknown-cn" in {w.code for w in frame.warnings}


def test_mixed_separators() -> None:
    seg = HEAD + "CP=&&DataTime=20240101120000;B01-Rtd=36.91;011-Rtd=231.0,011-Flag=N,060-Rtd=1.2&&"
    frame = parse_frame(wire(seg))
    assert frame.cp.subjects["011"] == {"Rtd": "231.0", "Flag": "N"}
    assert frame.cp.subjects["060"] == {"Rtd": "1.2"}
    assert "separator-style" in {w.code for w in frame.warnings}
    assert build(frame) == wire(seg)  # separators remembered


def test_stray_spaces() -> None:
    seg = "QN=20160801085857223; ST=32 ;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;CP=&& RtdInterval = 30 &&"
    frame = parse_frame(wire(seg))
    assert frame.crc_ok and frame.st == "32" and frame.cp.plain == {"RtdInterval": "30"}
    assert "stray-space" in {w.code for w in frame.warnings}
    empty = parse_frame(wire(HEAD + "CP=&& &&"))  # as printed in the standard
    assert len(empty.cp) == 0


def test_duplicate_keys() -> None:
    seg = HEAD + "CP=&&DataTime=20240101120000;a21026-Rtd=1.0;a21026-Rtd=2.0&&"
    frame = parse_frame(wire(seg))
    assert frame.cp.subjects["a21026"]["Rtd"] == "1.0"
    assert frame.cp.keys.count("a21026-Rtd") == 2
    assert "duplicate-key" in {w.code for w in frame.warnings}
    assert build(frame) == wire(seg)
    dup_header = parse_frame(wire(HEAD + "CN=9999;CP=&&&&"))
    assert dup_header.cn == "2011" and "duplicate-key" in {w.code for w in dup_header.warnings}


def test_pno_before_pnum() -> None:
    seg = f"QN=20240101120000000;ST=32;CN=2061;PW=123456;MN={MN};Flag=7;PNO=0002;PNUM=0003;CP=&&DataTime=20240101110000&&"
    frame = parse_frame(wire(seg))
    assert frame.pnum == 3 and frame.pno == 2 and frame.is_split
    assert "pno-before-pnum" in {w.code for w in frame.warnings}


def test_modbus_crc_per_device_profile() -> None:
    seg = STD_SEGMENT.encode()
    modbus = wire(seg, crc=f"{crc16_modbus(seg):04X}")
    swapped = crc16_modbus(seg)
    swapped_frame = wire(seg, crc=f"{((swapped & 0xFF) << 8) | (swapped >> 8):04X}")
    assert parse_frame(modbus, PROFILE_2017.replace(crc_mode="modbus")).crc_ok
    assert parse_frame(swapped_frame, crc_mode="modbus-swapped").crc_ok
    plain = parse_frame(modbus)
    assert not plain.crc_ok and plain.crc_mode_detected == "modbus"
    assert parse_frame(wire(seg, crc="0000"), crc_mode="none").crc_ok


def test_garbage_and_modbus_noise_between_frames() -> None:
    modbus_response = bytes.fromhex("010304000A00C8FA33")
    stream = (
        b"\x00\xff##junk"
        + wire(STD_SEGMENT)
        + modbus_response
        + b"#\r\n"
        + wire(STD_SEGMENT)
        + modbus_response
    )
    events = StreamDecoder().feed(stream)
    frames = [e for e in events if isinstance(e, FrameEvent)]
    assert len(frames) == 2 and all(f.crc_ok for f in frames)
    assert {e.kind for e in events if not isinstance(e, FrameEvent)} == {"garbage"}


def test_bad_crc_frame_is_consumed_not_stalled() -> None:
    bad = wire(STD_SEGMENT, crc="0000")
    decoder = StreamDecoder()
    events = decoder.feed(bad + wire(STD_SEGMENT))
    assert [isinstance(e, FrameEvent) and e.crc_ok for e in events] == [False, True]
    assert decoder.buffered == 0
    strict = StreamDecoder(deliver_bad_crc=False).feed(bad)
    assert [getattr(e, "kind", None) for e in strict] == ["bad-crc"]


def test_missing_crlf_and_lf_only() -> None:
    lf = parse_frame(wire(STD_SEGMENT, trailer=b"\n"))
    assert lf.crc_ok and "lf-only" in {w.code for w in lf.warnings}
    bare = parse_frame(wire(STD_SEGMENT, trailer=b""))
    assert bare.crc_ok and "missing-crlf" in {w.code for w in bare.warnings}
    events = StreamDecoder().feed(
        wire(STD_SEGMENT, trailer=b"") + wire(STD_SEGMENT, trailer=b"\n") + wire(STD_SEGMENT)
    )
    assert [isinstance(e, FrameEvent) and e.crc_ok for e in events] == [True, True, True]


def test_unpadded_crc() -> None:
    seg = next(
        s
        for s in (STD_SEGMENT.replace("30", str(n)) for n in range(30, 3600))
        if f"{_crc(s):04X}".startswith("0")
    )
    data = wire(seg, crc=f"{_crc(seg):X}")
    frame = parse_frame(data)
    assert frame.crc_ok and "crc-unpadded" in {w.code for w in frame.warnings}
    assert build(frame) == wire(seg)


def test_cp_runs_to_the_last_double_ampersand() -> None:
    seg = HEAD.replace("2011", "3020") + "CP=&&i21001-Info=//a&&b//&&"
    frame = parse_frame(wire(seg))
    assert frame.cp.get("i21001-Info") == "//a&&b//" and frame.crc_ok


def _crc(segment: str) -> int:
    from hj212.crc import crc16_hj212

    return crc16_hj212(segment.encode())
