"""Frames to rows: odd values never reach a column that would refuse them; metrics text format."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

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


# ------------------------------------------------------------------ the C kernel of the sample lines

_CODES = ["a21026", "a34013", "w01018", "a00000", "B02", "011", "a1", "x-y", "A" * 17, "ä21026"]
_SUFFIXES = [
    "Rtd",
    "Avg",
    "Min",
    "Max",
    "Cou",
    "ZsRtd",
    "ZsAvg",
    "ZsMin",
    "ZsMax",
    "Flag",
    "EFlag",
    "SampleTime",
    "ZsCou",
    "",
]
_VALUES = ["12.5", "-3", "+.5", ".", "1.", "0012.000", "1" * 14, "1" * 15 + ".5", "N", "D", "A\\B", "Md", "TOOLONG1",
           "20260105100000", "", "abc", "１２", "1 2", "\t"]  # fmt: skip


_CLEAN_CODES = ["a21026", "a34013", "w01018", "a00000", "a01012", "LA01"]
_CLEAN_SUFFIXES = ["Rtd", "Avg", "Min", "Max", "Cou", "ZsRtd", "ZsAvg", "ZsMin", "ZsMax", "Flag", "EFlag"]
_CLEAN_VALUES = ["12.5", "-3", "+.5", "0", "1.", "0012.000", "1" * 14, "N", "D", "Md", "T"]

#: mostly the clean case (several pollutants, repeated suffixes, plain items between), sometimes
#: interleaved or with one odd value: so that the kernel's answers are compared, not only its refusals
_clean_items = st.lists(
    st.one_of(
        st.tuples(
            st.sampled_from(_CLEAN_CODES), st.sampled_from(_CLEAN_SUFFIXES), st.sampled_from(_CLEAN_VALUES)
        ),
        st.tuples(st.sampled_from(["DataTime"]), st.none(), st.sampled_from(_CLEAN_VALUES)),
    ),
    max_size=24,
).map(lambda items: sorted(items, key=lambda item: item[0]))
_items = st.one_of(
    _clean_items,
    st.lists(
        st.one_of(
            st.tuples(st.sampled_from(_CODES), st.sampled_from(_SUFFIXES), st.sampled_from(_VALUES)),
            st.tuples(st.sampled_from(["DataTime", "PolId"]), st.none(), st.sampled_from(_VALUES)),
        ),
        max_size=24,
    ),
    st.tuples(_clean_items, st.integers(0, 23), st.sampled_from(_VALUES)).map(
        lambda spoiled: [
            (code, suffix, spoiled[2] if i == spoiled[1] else value)
            for i, (code, suffix, value) in enumerate(spoiled[0])
        ]
    ),
)


@given(_items, st.booleans())
def test_the_c_kernel_gives_the_python_lines_or_declines(
    items: list[tuple[str, str | None, str]], realtime: bool
) -> None:
    """``_fastrows.sample_lines`` returns exactly what :func:`sample_lines` returns for the same items,
    or None (and the caller takes the Python path); it declines only what it does not cover."""
    from hj212.frame import CP
    from totalcap.ingest.gateway import _fastrows

    pairs = [(code if suffix is None else f"{code}-{suffix}", value) for code, suffix, value in items]
    cp = CP(pairs)
    kind = "r" if realtime else "m"
    warnings: list[dict[str, str]] = []
    expected = sample_lines(7, 9, kind, "2026-01-05 10:00:00+08", cp.subjects, warnings)
    done = _fastrows.sample_lines(
        "7\t9\t" + kind + "\t", "2026-01-05 10:00:00+08", cp.keys, cp.values, realtime
    )
    if done is not None:
        assert done == (list(expected[0]), list(expected[1]))
        assert warnings == []


def test_the_c_kernel_takes_a_clean_data_frame() -> None:
    """A live upload of 8 pollutants — the gateway's common case — is done by the C kernel, and
    ``data_lines`` gives the same lines whichever path it takes."""
    from totalcap.ingest.gateway import _fastrows, rows

    pollutants = {code: {"Rtd": f"{i}.25", "Flag": "N"} for i, code in enumerate(
        ["a00000", "a21026", "a21002", "a34013", "a19001", "a01012", "a01013", "a01014"])}  # fmt: skip
    frame = c.upload_data(Peer(mn="MN0001"), 2011, "20260105100000", pollutants)
    cp = parse_frame(build(frame)).cp
    done = _fastrows.sample_lines("7\t9\tr\t", "2026-01-05 10:00:00+08", cp.keys, cp.values, True)
    assert done is not None and len(done[0]) == 8
    assert (
        done[0][1]
        == "7\t9\tr\ta21026\t2026-01-05 10:00:00+08\t1.25\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\tN\t\t\\N\t\\N\t"
    )
    assert rows.data_lines(7, 9, "r", "2026-01-05 10:00:00+08", cp, []) == done
    python = sample_lines(7, 9, "r", "2026-01-05 10:00:00+08", cp.subjects, [])
    assert done == (list(python[0]), list(python[1]))


_REALTIME_COLUMNS = ["Rtd", "Min", "Max", "Cou", "ZsRtd", "ZsMin", "ZsMax"]
_INTERVAL_COLUMNS = ["Avg", "Min", "Max", "Cou", "ZsAvg", "ZsMin", "ZsMax"]


@given(
    st.booleans(),
    st.lists(
        st.tuples(
            st.sampled_from(_CLEAN_CODES),
            st.lists(
                st.tuples(
                    st.integers(0, 8), st.sampled_from(_CLEAN_VALUES[:7]), st.sampled_from(_CLEAN_VALUES[7:])
                )
            ),
        ),
        max_size=12,
        unique_by=lambda group: group[0],
    ),
)
def test_the_c_kernel_takes_every_clean_frame(
    realtime: bool, groups: list[tuple[str, list[tuple[int, str, str]]]]
) -> None:
    """Contiguous pollutants with numbers in the kind's columns and short flags: never declined."""
    from hj212.frame import CP
    from totalcap.ingest.gateway import _fastrows

    columns = _REALTIME_COLUMNS if realtime else _INTERVAL_COLUMNS
    pairs = [("DataTime", "20260105100000")]
    for code, fields in groups:
        for slot, number, flag in fields:
            suffix = columns[slot] if slot < 7 else ("Flag", "EFlag")[slot - 7]
            pairs.append((f"{code}-{suffix}", number if slot < 7 else flag))
    cp = CP(pairs)
    kind = "r" if realtime else "h"
    done = _fastrows.sample_lines(f"7\t9\t{kind}\t", "2026-01-05 10:00:00+08", cp.keys, cp.values, realtime)
    expected = sample_lines(7, 9, kind, "2026-01-05 10:00:00+08", cp.subjects, [])
    assert done == (list(expected[0]), list(expected[1]))


def test_without_the_c_kernel_the_python_path_gives_the_same_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    """A machine where setup.py could not build the kernels runs the pure-Python path."""
    from totalcap.ingest.gateway import rows

    frame = c.upload_data(
        Peer(mn="MN0001"), 2051, "20260105100000", {"a21026": {"Avg": "1.5", "Cou": "2", "Flag": "N"}}
    )
    cp = parse_frame(build(frame)).cp
    with_c = rows.data_lines(7, 9, "m", "2026-01-05 10:00:00+08", cp, [])
    assert rows.c_kernels() == {"crc": True, "rows": True}
    monkeypatch.setattr(rows, "_fastrows", None)
    assert rows.c_kernels()["rows"] is False
    assert rows.data_lines(7, 9, "m", "2026-01-05 10:00:00+08", cp, []) == with_c


def test_raw_rows_of_a_batch_escape_odd_fields_and_keep_each_frames_source() -> None:
    """The writer renders each connection's columns once and each read's receive time once; odd
    CN/QN/MN/peer text is cleaned and escaped for COPY; real-time lines and the others apart."""
    from datetime import UTC, datetime

    from totalcap.ingest.gateway.config import GatewayConfig
    from totalcap.ingest.gateway.writer import GroupWriter, Pending

    writer = GroupWriter(GatewayConfig(name="gw1"), Metrics(), "")
    at = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)
    later = datetime(2026, 1, 5, 2, 0, 1, tzinfo=UTC)
    frames = [
        Pending(
            at,
            0.0,
            "i",
            "ok",
            b"##1",
            "MN1",
            "1.2.3.4:5",
            7,
            3,
            9,
            "2011",
            "Q1",
            "2026-01-05 10:00:00+08",
            kind="r",
            sample_lines=["a\t", "b\t"],
        ),
        Pending(
            at,
            0.0,
            "i",
            "ok",
            b"##2",
            "MN1",
            "1.2.3.4:5",
            7,
            3,
            9,
            "2051",
            "Q\t2",
            kind="m",
            sample_lines=["c\t"],
        ),
        Pending(
            later, 0.0, "i", "malformed", b"\x00", "M\\N", "1.2.3.4:6", 8, None, None, "20\n11", "Q" * 30
        ),
    ]
    for number, frame in enumerate(frames, start=1):
        frame.frame_id = number
    raw, (realtime, other), info, _meta = writer._render(frames)
    rows = [line.split("\t") for line in raw.splitlines()]
    assert rows[0] == ["1", "2026-01-05 02:00:00+00:00", "i", "3", "MN1", "1.2.3.4:5", "gw1", "7", "2011", "Q1",
                       "2026-01-05 10:00:00+08", "ok", "\\N", "\\\\x232331"]  # fmt: skip
    assert rows[1][8:10] == ["2051", "Q\\t2"]
    assert rows[2][:10] == ["3", "2026-01-05 02:00:01+00:00", "i", "\\N", "M\\\\N", "1.2.3.4:6", "gw1", "8",
                            "20\\n11", "Q" * 24]  # fmt: skip
    assert realtime == "a\t1\t2026-01-05 02:00:00+00:00\nb\t1\t2026-01-05 02:00:00+00:00\n"
    assert other == "c\t2\t2026-01-05 02:00:00+00:00\n" and info == []


def test_the_c_kernel_takes_its_columns_from_rows_and_refuses_a_wrong_set() -> None:
    """The kernel knows the value columns only through ``configure`` (rows.py calls it with its own
    REALTIME_SUFFIXES / INTERVAL_SUFFIXES); a wrong set is refused and leaves it declining."""
    from totalcap.ingest.gateway import _fastrows, rows

    keys, values = ("a21026-Avg",), ("1.5",)
    assert _fastrows.sample_lines("7\t9\tm\t", "t", keys, values, False) is not None
    try:
        with pytest.raises(ValueError):
            _fastrows.configure(("Rtd",), ("Avg",))
        assert _fastrows.sample_lines("7\t9\tm\t", "t", keys, values, False) is None
    finally:
        rows._configure_fastrows()
    assert _fastrows.sample_lines("7\t9\tm\t", "t", keys, values, False) is not None
