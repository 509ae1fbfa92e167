"""Command builders for every host -> device CN, typed parsers, replies in each peer's style, ack rules,
and the Appendix C exchanges we can reconstruct from the digest."""

from __future__ import annotations

from datetime import datetime, time
from decimal import Decimal

import pytest

from hj212 import (
    PROFILE_2005,
    PROFILE_2017,
    PROFILE_2025,
    BuildError,
    MessageError,
    Peer,
    ack_for,
    build,
    build_reply,
    parse_frame,
    parse_message,
)
from hj212 import commands as c
from hj212 import messages as m
from hj212.replies import data_answer, execution_result, notification_answer, request_answer
from hj212.values import BEIJING

from .conftest import MN, STD_SEGMENT, wire

PEER = Peer(MN, "100000", "32")
QN = "20160801085857223"
T0 = datetime(2024, 1, 1, 8, 0, tzinfo=BEIJING)
T1 = datetime(2024, 1, 1, 9, 0, tzinfo=BEIJING)


def roundtrip(frame):  # type: ignore[no-untyped-def]
    data = build(frame)
    back = parse_frame(data)
    assert back == frame and back.crc_ok
    assert back.warnings == (), back.warnings
    return back


COMMANDS = [
    ("1000", lambda p: c.set_timeout(p, 10, 3, qn=QN), {"OverTime": "10", "ReCount": "3"}),
    ("1011", lambda p: c.get_time(p, "w01018", qn=QN), {"PolId": "w01018"}),
    ("1012", lambda p: c.set_time(p, T0, qn=QN), {"SystemTime": "20240101080000"}),
    ("1061", lambda p: c.get_rtd_interval(p, qn=QN), {}),
    ("1062", lambda p: c.set_rtd_interval(p, 30, qn=QN), {"RtdInterval": "30"}),
    ("1063", lambda p: c.get_min_interval(p, qn=QN), {}),
    ("1064", lambda p: c.set_min_interval(p, 10, qn=QN), {"MinInterval": "10"}),
    ("1072", lambda p: c.set_password(p, "654321", qn=QN), {"NewPW": "654321"}),
    ("2011", lambda p: c.start_realtime(p, qn=QN), {}),
    ("2012", lambda p: c.stop_realtime(p, qn=QN), {}),
    ("2021", lambda p: c.start_status(p, qn=QN), {}),
    ("2022", lambda p: c.stop_status(p, qn=QN), {}),
    (
        "2031",
        lambda p: c.get_day_data(p, T0, T1, qn=QN),
        {"BeginTime": "20240101080000", "EndTime": "20240101090000"},
    ),
    (
        "2041",
        lambda p: c.get_runtime_data(p, T0, T1, qn=QN),
        {"BeginTime": "20240101080000", "EndTime": "20240101090000"},
    ),
    (
        "2051",
        lambda p: c.get_minute_data(p, T0, T1, qn=QN),
        {"BeginTime": "20240101080000", "EndTime": "20240101090000"},
    ),
    (
        "2061",
        lambda p: c.get_hour_data(p, T0, T1, qn=QN),
        {"BeginTime": "20240101080000", "EndTime": "20240101090000"},
    ),
    ("3011", lambda p: c.calibrate(p, "w01018", qn=QN), {"PolId": "w01018"}),
    ("3012", lambda p: c.sample_now(p, "w01018", qn=QN), {"PolId": "w01018"}),
    ("3013", lambda p: c.start_cleaning(p, "w01018", qn=QN), {"PolId": "w01018"}),
    ("3014", lambda p: c.comparison_sampling(p, "w01018", qn=QN), {"PolId": "w01018"}),
    ("3015", lambda p: c.retention_sampling(p, "w01018", qn=QN), {"PolId": "w01018"}),
    (
        "3016",
        lambda p: c.set_sampling_period(p, "w01018", time(8, 0), 2, qn=QN),
        {"PolId": "w01018", "CstartTime": "080000", "Ctime": "2"},
    ),
    ("3017", lambda p: c.get_sampling_period(p, "w01018", qn=QN), {"PolId": "w01018"}),
    ("3018", lambda p: c.get_sample_time(p, "w01018", qn=QN), {"PolId": "w01018"}),
    ("3019", lambda p: c.get_instrument_sn(p, "w01018", qn=QN), {"PolId": "w01018"}),
    (
        "3020",
        lambda p: c.get_site_info(p, "i11001", "w01018", T0, T1, qn=QN),
        {"PolId": "w01018", "InfoId": "i11001", "BeginTime": "20240101080000", "EndTime": "20240101090000"},
    ),
    (
        "3021",
        lambda p: c.set_site_param(p, "i13004", "165.0", "w01018", qn=QN),
        {"PolId": "w01018", "InfoId": "i13004"},
    ),
]


@pytest.mark.parametrize(("cn", "make", "items"), COMMANDS, ids=[x[0] for x in COMMANDS])
def test_every_2017_command(cn: str, make, items: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    frame = roundtrip(make(PEER))
    assert frame.cn == cn and frame.qn == QN and frame.st == "32" and frame.mn == MN and frame.pw == "100000"
    assert frame.header["Flag"] == "5"
    for key, value in items.items():
        assert frame.cp.plain[key] == value
    message = parse_message(frame)
    assert isinstance(message, m.Command) and message.cn == cn


def test_set_site_param_item() -> None:
    frame = c.set_site_param(PEER, "i13004", "165.0", qn=QN)
    assert frame.cp.get("i13004-Info") == "165.0"


def test_command_argument_validation() -> None:
    with pytest.raises(BuildError):
        c.set_rtd_interval(PEER, 10)
    with pytest.raises(BuildError):
        c.set_min_interval(PEER, 7)
    with pytest.raises(BuildError):
        c.set_timeout(PEER, 0, 3)
    with pytest.raises(BuildError):
        c.set_password(PEER, "12;456")


def test_2025_commands_need_the_2025_profile() -> None:
    with pytest.raises(BuildError):
        c.set_mn(PEER, "X" * 24)
    with pytest.raises(BuildError):
        c.calibrate(PEER, "a21026", calibration_type=1)
    peer = Peer(MN, profile=PROFILE_2025)
    made = [
        c.set_mn(peer, "010000A8900016F000169DC1", qn=QN),
        c.exchange_key(peer, "0123456789ABCDEF", T0, qn=QN),
        c.get_raw_data(peer, T0, T1, qn=QN),
        c.get_standard_check_data(peer, T0, T1, qn=QN),
        c.get_furnace_temperature(peer, T0, T1, qn=QN),
        c.start_retention_task(peer, "w01018", qn=QN),
        c.start_standard_check(peer, "w01018", qn=QN),
        c.calibrate(peer, "a21026", calibration_type=1, qn=QN),
    ]
    assert [f.cn for f in made] == ["1002", "1014", "2013", "2062", "2111", "3022", "3024", "3011"]
    assert all(f.header["Flag"] == "9" for f in made)
    for frame in made:
        roundtrip(frame)
    beat = c.heartbeat(peer, qn=QN)
    assert isinstance(parse_message(roundtrip(beat)), m.Heartbeat)


def test_2005_requests_have_no_version_bits() -> None:
    frame = c.get_time(Peer("88888880000001", profile=PROFILE_2005), qn=QN)
    assert frame.header["Flag"] == "1" and frame.version == "2005"


# ---------------------------------------------------------------------------------------- uploads


def test_realtime_upload_parses_to_pollutant_values() -> None:
    device = Peer(MN, st="31")
    frame = c.upload_data(
        device,
        2011,
        T0,
        {
            "a21026": {"Rtd": Decimal("12.30"), "ZsRtd": "15.1", "Flag": "N"},
            "a34013": {"Rtd": 3, "Flag": "D"},
        },
        qn=QN,
    )
    frame = roundtrip(frame)
    assert frame.cp.render().startswith("DataTime=20240101080000;a21026-Rtd=12.30,a21026-ZsRtd=15.1")
    message = parse_message(frame)
    assert isinstance(message, m.DataUpload) and message.cn == "2011" and message.data_time == T0
    assert message.pairs()[0] == ("a21026", {"Rtd": "12.30", "ZsRtd": "15.1", "Flag": "N"})
    so2 = message.get("a21026")
    assert so2 is not None and so2.decimal() == Decimal("12.30") and so2.flag == "N"


def test_legacy_codes_map_to_2017() -> None:
    frame = parse_frame(
        wire(
            "QN=20040516010101001;ST=32;CN=2011;PW=123456;MN=88888880000001;CP=&&DataTime=20040516010101;B01-Rtd=36.91;011-Rtd=231.0&&"
        )
    )
    message = parse_message(frame)
    assert isinstance(message, m.DataUpload)
    assert [v.standard_code for v in message.values] == ["w00000", "w01018"]
    assert message.get("w01018") is not None


@pytest.mark.parametrize(
    ("cn", "cp", "kind"),
    [
        ("1011", "SystemTime=20240101080000", m.DeviceTime),
        ("1061", "RtdInterval=30", m.IntervalSetting),
        ("1063", "MinInterval=10", m.IntervalSetting),
        ("1013", "PolId=w01018", m.TimeCalibrationRequest),
        ("2081", "DataTime=20240101080000;RestartTime=20240101075900", m.BootTime),
        ("3015", "DataTime=20240101080000;VaseNo=3", m.RetentionInfo),
        ("3017", "PolId=w01018;CstartTime=080000;Ctime=2", m.SamplingPeriod),
        ("3018", "PolId=w01018;Stime=45", m.SampleTime),
        ("3019", "DataTime=20240101080000;w01018-SN=010000A8900016F000169DC0", m.InstrumentIds),
        ("3020", "DataTime=20240101080000;PolId=w01018;i12001-Info=0;i11001-Info=//ok//", m.SiteInfo),
        ("2021", "DataTime=20240101080000;SB1-RS=1", m.DataUpload),
        ("2041", "DataTime=20240101000000;SB1-RT=23.5", m.DataUpload),
        ("2072", "AlarmTime=20040516010101;AlarmType=1;011-Ala=300", m.PassThrough),
        ("8013", "HeartbeatTime=20240101080000", m.Heartbeat),
    ],
)
def test_device_messages(cn: str, cp: str, kind: type) -> None:
    frame = parse_frame(wire(f"QN={QN};ST=32;CN={cn};PW=123456;MN={MN};Flag=5;CP=&&{cp}&&"))
    message = parse_message(frame)
    assert isinstance(message, kind)
    if isinstance(message, m.SiteInfo):
        assert message.get("i12001") is not None and message.get("i12001").meaning == "running"  # type: ignore[union-attr]
        log = message.get("i11001")
        assert log is not None and log.is_log and log.text == "ok"
    if isinstance(message, m.SamplingPeriod):
        assert message.start == time(8, 0) and message.hours == 2


def test_missing_required_item_raises_message_error() -> None:
    frame = parse_frame(wire(f"QN={QN};ST=32;CN=9011;PW=123456;MN={MN};Flag=4;CP=&&&&"))
    with pytest.raises(MessageError):
        parse_message(frame)


# ---------------------------------------------------------------------------------------- replies


def test_2017_replies() -> None:
    request = parse_frame(wire(STD_SEGMENT))
    answer = request_answer(request)
    assert answer.header.pairs == (
        ("QN", QN),
        ("ST", "91"),
        ("CN", "9011"),
        ("PW", "100000"),
        ("MN", MN),
        ("Flag", "4"),
    )
    assert answer.cp.render() == "QnRtn=1"
    assert execution_result(request).cp.render() == "ExeRtn=1"
    assert data_answer(request).cp.render() == "" and data_answer(request).cn == "9014"
    assert notification_answer(request).cn == "9013"
    parsed = parse_message(roundtrip(answer))
    assert (
        isinstance(parsed, m.RequestAnswer)
        and parsed.qn == QN
        and parsed.accepted
        and parsed.meaning == "ready to execute"
    )
    result = parse_message(roundtrip(execution_result(request, 100)))
    assert isinstance(result, m.ExecutionResult) and not result.success and result.meaning == "no data"


def test_2005_replies_put_qn_in_cp() -> None:
    request = parse_frame(
        wire("QN=20040516010101001;ST=32;CN=2011;PW=123456;MN=88888880000001;CP=&&B01-Rtd=1&&")
    )
    answer = request_answer(request)
    assert "QN" not in answer.header and answer.header["ST"] == "91" and answer.header["Flag"] == "0"
    assert answer.cp.render() == "QN=20040516010101001;QnRtn=1"
    assert data_answer(request).cp.render() == "QN=20040516010101001"
    parsed = parse_message(parse_frame(build(answer)))
    assert isinstance(parsed, m.RequestAnswer) and parsed.qn == "20040516010101001"


def test_2025_replies_use_2025_version_bits() -> None:
    request = parse_frame(wire(STD_SEGMENT.replace("Flag=5", "Flag=9")))
    assert data_answer(request).header["Flag"] == "8"
    assert data_answer(parse_frame(wire(STD_SEGMENT)), profile=PROFILE_2025).header["Flag"] == "8"


def test_profile_overrides_reply_style() -> None:
    request = parse_frame(wire(STD_SEGMENT))
    answer = build_reply(request, 9012, exe_rtn=1, profile=PROFILE_2005)
    assert "QN" not in answer.header and answer.cp.plain["QN"] == QN
    with pytest.raises(BuildError):
        build_reply(request, 9011)
    with pytest.raises(BuildError):
        build_reply(request, 2011)


def test_ack_rules() -> None:
    upload = parse_frame(
        wire(f"QN={QN};ST=31;CN=2011;PW=123456;MN={MN};Flag=5;CP=&&DataTime=20240101080000&&")
    )
    ack = ack_for(upload)
    assert ack is not None and ack.cn == "9014" and ack.qn == QN and ack.st == "91" and len(ack.cp) == 0
    no_ack = parse_frame(
        wire(f"QN={QN};ST=31;CN=2011;PW=123456;MN={MN};Flag=4;CP=&&DataTime=20240101080000&&")
    )
    assert ack_for(no_ack) is None
    flagless = parse_frame(
        wire(f"QN={QN};ST=31;CN=2011;PW=123456;MN=88888880000001;CP=&&DataTime=20240101080000&&")
    )
    assert ack_for(flagless) is not None
    assert ack_for(flagless, PROFILE_2005.replace(ack_when_flag_absent=False)) is None
    calibration = parse_frame(wire(f"QN={QN};ST=32;CN=1013;PW=123456;MN={MN};Flag=5;CP=&&&&"))
    reply = ack_for(calibration)
    assert reply is not None and reply.cn == "9013"
    assert ack_for(request_answer(upload)) is None  # never answer an answer
    assert ack_for(parse_frame(wire(STD_SEGMENT.replace("CN=1062", "CN=9012")))) is None


# ----------------------------------------------------------------------- Appendix C reconstructions


def test_appendix_c_set_rtd_interval_exchange() -> None:
    """Set the real-time interval (the standard's CRC example): request -> 9011 -> 9012, QN echoed."""
    request = c.set_rtd_interval(Peer(MN, "100000", "32"), 30, qn=QN)
    assert build(request) == wire(STD_SEGMENT)
    assert build(request).endswith(b"1C80\r\n")
    for reply in (request_answer(request), execution_result(request)):
        parsed = parse_frame(build(reply))
        assert parsed.qn == QN and parsed.st == "91" and parsed.header["Flag"] == "4"


def test_appendix_c_parameter_read_uses_the_request_qn() -> None:
    """C.2 / C.5: a "get" result comes back under the same CN and QN with Flag=4."""
    request = c.get_rtd_interval(PEER, qn=QN)
    result = c.upload(Peer(MN, "100000", "32"), 1061, {"RtdInterval": 30}, qn=request.qn, ack=False)
    assert result.header["Flag"] == "4" and result.qn == QN
    parsed = parse_message(roundtrip(result))
    assert isinstance(parsed, m.IntervalSetting) and parsed.value == 30


def test_appendix_c_history_records_are_acked_one_by_one() -> None:
    """C.20 / C.48: each history record has a fresh QN; with A=1 the host answers 9014 echoing it."""
    device = Peer(MN, st="32")
    records = [
        c.upload_data(
            device,
            2051,
            f"2024010108{minute:02d}00",
            {"w01018": {"Avg": "20.5", "Flag": "N"}},
            qn=f"2024010109000000{minute}",
        )
        for minute in range(3)
    ]
    assert len({r.qn for r in records}) == 3
    for record in records:
        ack = ack_for(parse_frame(build(record)))
        assert ack is not None and ack.cn == "9014" and ack.qn == record.qn


def test_appendix_c_log_under_890_bytes() -> None:
    """C.40: a Chinese log text, length field counted in bytes."""
    log = "//" + "设备运行正常" * 40 + "//"
    frame = c.upload(
        Peer(MN), 3020, [("DataTime", "20240101080000"), ("PolId", "w01018"), ("i11001-Info", log)], qn=QN
    )
    data = build(frame)
    assert len(log.encode()) < 890
    assert int(data[2:6]) == len(data) - 12
    info = parse_message(parse_frame(data))
    assert isinstance(info, m.SiteInfo) and info.items[0].text == log[2:-2]


def test_profile_defaults() -> None:
    assert PROFILE_2017.flag_value(ack=True) == 5
    assert PROFILE_2017.flag_value(ack=True, split=True) == 7
    assert PROFILE_2025.flag_value(ack=False) == 8
    assert PROFILE_2005.flag_value(ack=True) == 1
