"""Frames to rows: odd values never reach a column that would refuse them; metrics text format."""

from __future__ import annotations

import json

from hj212 import PROFILE_2005, PROFILE_2017, Peer, build, parse_frame
from hj212 import commands as c
from totalcap.ingest.gateway.metrics import Metrics, render
from totalcap.ingest.gateway.rows import sample_lines, time_text


def columns(line: str) -> list[str]:
    return line.split("\t")


def test_values_that_do_not_fit_go_to_extra() -> None:
    warnings: list[dict[str, str]] = []
    lines, meta = sample_lines(
        7, 9, "m", "2026-01-05 10:00:00+08",
        {
            "w01018": {"Avg": "12.5", "Min": "abc", "Max": "1" * 20, "Cou": "3.25", "Flag": "TOOLONG", "SampleTime": "2026"},
            "011": {"Avg": "7"},
            "bad code!": {"Avg": "1"},
            "w00000": {"Avg": "1.0", "ZsCou": "2", "EFlag": "A\\B"},
        },
        warnings,
    )  # fmt: skip
    assert len(lines) == 3 and warnings[0]["code"] == "bad-pollutant-code"
    cod = columns(lines[0])
    assert cod[:5] == ["7", "9", "m", "w01018", "2026-01-05 10:00:00+08"]
    assert cod[5:12] == ["12.5", "\\N", "\\N", "3.25", "\\N", "\\N", "\\N"]
    assert cod[12] == ""  # the flag was too long for the column
    extra = json.loads(cod[15])
    assert extra == {"Min": "abc", "Max": "1" * 20, "Flag": "TOOLONG", "SampleTime": "2026"}
    legacy = columns(lines[1])
    assert legacy[3] == "w01018" and json.loads(legacy[15]) == {"code": "011"}
    flow = columns(lines[2])
    assert flow[13] == "A\\\\B" and json.loads(flow[15]) == {"ZsCou": "2"}
    assert meta[0] == ("w01018", "12.5", "3.25", "")


def test_time_text() -> None:
    assert time_text("20260105103000") == "2026-01-05 10:30:00+08"
    assert time_text("20260105103000123") == "2026-01-05 10:30:00.123+08"
    assert time_text("20261345103000") is None and time_text("x") is None


def test_fast_ack_matches_the_codec() -> None:
    from hj212.replies import ack_for
    from totalcap.ingest.gateway.registry import LoggerProfile
    from totalcap.ingest.gateway.session import fast_ack

    for prof in (PROFILE_2017, PROFILE_2005, PROFILE_2017.replace(crc_mode="modbus")):
        profile = LoggerProfile(
            1, "010000A8900016F000169DC0", "123456", 1, 1, True, prof, "32", False, 10, 3, False
        )
        peer = Peer(mn=profile.mn, pw="123456", profile=prof)
        for i in range(3):
            frame = parse_frame(build(c.upload_data(peer, 2011, "20260105103000", {"w01018": {"Rtd": "1"}},
                                                   qn=f"2026010510300000{i}"), prof), prof)  # fmt: skip
            ack = fast_ack(frame, profile)
            reply = ack_for(frame, prof)
            assert reply is not None and ack == (build(reply, prof), "9014")
        no_ack = parse_frame(build(c.upload_data(peer, 2011, "20260105103000", {}, ack=False), prof), prof)
        assert fast_ack(no_ack, profile) is None or prof is PROFILE_2005


def test_metrics_render() -> None:
    metrics = Metrics()
    metrics.inc("totalcap_gateway_frames_total", cn="2011")
    metrics.inc("totalcap_gateway_frames_total", 2, cn="2011")
    metrics.gauge("totalcap_gateway_connections", lambda: 4)
    metrics.observe("totalcap_gateway_commit_seconds", 0.003)
    text = render([({"gateway": "a"}, metrics.snapshot())])
    assert "# TYPE totalcap_gateway_frames_total counter" in text
    assert 'totalcap_gateway_frames_total{cn="2011",gateway="a"} 3' in text
    assert 'totalcap_gateway_connections{gateway="a"} 4' in text
    assert 'totalcap_gateway_commit_seconds_bucket{gateway="a",le="0.005"} 1' in text
    assert 'totalcap_gateway_commit_seconds_count{gateway="a"} 1' in text
