"""TotalCap extension profile (TotalCap-defined, not HJ 212): valve, card swipe, allowance, offline report."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from hj212 import (
    PROFILE_2017,
    PROFILE_TOTALCAP,
    BuildError,
    Peer,
    ack_for,
    build,
    codes,
    parse_frame,
    parse_message,
)
from hj212 import messages as m
from hj212 import totalcap as tc
from hj212.replies import execution_result, request_answer
from hj212.values import BEIJING

from .conftest import MN

PEER = Peer(MN, "123456", "32", PROFILE_TOTALCAP)
QN = "20250101080000000"
KEY = b"per-logger secret"
DIGEST = Path(__file__).resolve().parents[3] / "shared" / "standards" / "hj212.md"


def test_codes_come_from_the_data_file() -> None:
    assert tc.extension_cns() == {
        "close_valve": "3801",
        "open_valve": "3802",
        "alarm_indication": "3803",
        "card_swipe": "3811",
        "allowance_push": "3812",
        "valve_action_report": "3813",
    }
    for cn in tc.extension_cns().values():
        entry = codes.command(cn)
        assert entry is not None and entry.origin == "totalcap"


def test_extension_codes_do_not_collide_with_the_digest() -> None:
    if not DIGEST.exists():
        pytest.skip("digest not beside the repository")
    text = DIGEST.read_text(encoding="utf-8")
    mentioned = set(re.findall(r"\b([1-9]\d{3})\b", text))
    ranges = [(int(a), int(b)) for a, b in re.findall(r"\b(3\d{3})[–-](3\d{3})\b", text) if b != "3999"]
    for cn in tc.extension_cns().values():
        assert cn not in mentioned
        assert not any(low <= int(cn) <= high for low, high in ranges), cn
    icodes = set(re.findall(r"\b[iI]\d{5}\b", text))
    for code in codes.totalcap_table()["icodes"].values():
        assert code not in icodes


def test_valve_commands_need_the_extension_profile() -> None:
    with pytest.raises(BuildError):
        tc.close_valve(Peer(MN, profile=PROFILE_2017))


def test_close_and_open_valve_round_trip_with_life_cycle() -> None:
    close = tc.close_valve(PEER, 2, pol_id="w01018", reason=1, qn=QN)
    data = build(close)
    assert data.startswith(b"##") and b"CN=3801" in data and b"ValveId=2;PolId=w01018;Reason=1" in data
    parsed = parse_frame(data)
    assert parsed.warnings == ()
    command = tc.parse_extension(parsed)
    assert (
        isinstance(command, tc.ValveCommand)
        and command.close
        and command.valve_id == 2
        and command.reason == 1
    )
    assert request_answer(parsed).cp.render() == "QnRtn=1"
    assert execution_result(parsed).qn == QN
    opened = tc.parse_extension(parse_frame(build(tc.open_valve(PEER, qn=QN))))
    assert isinstance(opened, tc.ValveCommand) and not opened.close and opened.valve_id == 1
    with pytest.raises(BuildError):
        tc.close_valve(PEER, 100)


def test_card_swipe_upload_is_acked() -> None:
    swipe_time = datetime(2025, 1, 1, 8, 0, 5, tzinfo=BEIJING)
    frame = parse_frame(build(tc.card_swipe(PEER, "04a1b2c3d4", swipe_time, valve_id=1, qn=QN)))
    swipe = tc.parse_extension(frame)
    assert (
        isinstance(swipe, tc.CardSwipe) and swipe.card_uid == "04A1B2C3D4" and swipe.swipe_time == swipe_time
    )
    ack = ack_for(frame)
    assert ack is not None and ack.cn == "9014" and ack.qn == QN
    with pytest.raises(BuildError):
        tc.card_swipe(PEER, "not-hex", swipe_time)


def test_allowance_push_is_signed() -> None:
    frame = tc.push_allowance(
        PEER,
        period="202501",
        pol_id="w01018",
        allowance=Decimal("1250.5000"),
        unit="kg",
        valid_until=datetime(2025, 1, 31, 23, 59, 59, tzinfo=BEIJING),
        key=KEY,
        qn=QN,
    )
    parsed = parse_frame(build(frame))
    push = tc.parse_extension(parsed)
    assert isinstance(push, tc.AllowancePush)
    assert push.allowance == Decimal("1250.5000") and push.unit == "kg" and push.period == "202501"
    assert len(push.signature) == 64
    assert tc.verify_allowance(push, KEY)
    assert not tc.verify_allowance(push, b"other key")
    tampered = parse_frame(build(frame).replace(b"1250.5000", b"9250.5000").replace(b"##0", b"##0"))
    forged = tc.parse_extension(tampered)
    assert isinstance(forged, tc.AllowancePush) and not tc.verify_allowance(forged, KEY)
    with pytest.raises(BuildError):
        tc.push_allowance(
            PEER,
            period="202501",
            pol_id="w01018",
            allowance="1",
            unit="lb",
            valid_until="20250131235959",
            key=KEY,
        )


def test_offline_valve_action_report() -> None:
    frame = parse_frame(build(tc.valve_action_report(PEER, "20250101073000", 1, 1, 2, cmd_qn=QN, qn=QN)))
    report = tc.parse_extension(frame)
    assert (
        isinstance(report, tc.ValveActionReport)
        and report.closed
        and report.source == 2
        and report.cmd_qn == QN
    )
    assert ack_for(frame) is not None
    with pytest.raises(BuildError):
        tc.valve_action_report(PEER, "20250101073000", 1, 5, 2)


def test_valve_state_in_site_information() -> None:
    frame = parse_frame(
        build(
            PEER_UPLOAD(
                [
                    ("DataTime", "20250101080000"),
                    ("ValveId", "2"),
                    ("i32101-Info", "1"),
                    ("i32102-Info", "0.0"),
                    ("i32103-Info", "0"),
                ]
            )
        )
    )
    assert frame.warnings == ()
    info = parse_message(frame)
    assert isinstance(info, m.SiteInfo)
    (state,) = tc.valve_states(info)
    assert state.valve_id == 2 and state.state == 1 and state.state_name == "closed"
    assert state.opening == Decimal("0.0") and state.remote is True
    assert info.get("i32101").meta.name_en == "valve state"  # type: ignore[union-attr]


def test_non_extension_frame() -> None:
    assert (
        tc.parse_extension(parse_frame(build(tc.close_valve(PEER, qn=QN)).replace(b"3801", b"3012"))) is None
    )


def PEER_UPLOAD(items):  # type: ignore[no-untyped-def]
    from hj212.commands import upload

    return upload(PEER, 3020, items, qn=QN)


def test_alarm_indication_round_trip() -> None:
    frame = parse_frame(build(tc.alarm_indication(PEER, 2, voice=False, qn=QN)))
    assert frame.cn == "3803" and frame.cp.plain["Level"] == "2"
    message = tc.parse_extension(frame)
    assert isinstance(message, tc.AlarmIndication)
    assert message.level == 2 and message.light and not message.voice
    with pytest.raises(BuildError):
        tc.alarm_indication(PEER, 7, qn=QN)
