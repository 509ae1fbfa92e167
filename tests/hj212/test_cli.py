"""CLI: ``hj212.cli.main([...])`` as ``totalcap hj212 ...`` calls it."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from hj212.cli import main

from .conftest import STD_SEGMENT, wire

REQUIRED = {
    "ok",
    "crc",
    "crc_ok",
    "crc_mode_detected",
    "version",
    "header",
    "flag",
    "cp",
    "warnings",
    "error",
}


class _Stdin:
    def __init__(self, data: bytes) -> None:
        self.buffer = io.BytesIO(data)


def run(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, argv: list[str], stdin: bytes = b""
) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", _Stdin(stdin))
    status = main(argv)
    out, err = capsys.readouterr()
    return status, out, err


def test_parse_lines(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    data = wire(STD_SEGMENT) + b"\n" + wire(STD_SEGMENT, crc="0000") + b"garbage line\n"
    status, out, _ = run(capsys, monkeypatch, ["parse"], data)
    assert status == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert len(rows) == 3
    good, bad, junk = rows
    assert set(good) >= REQUIRED
    assert good["ok"] and good["crc"] == "1C80" and good["crc_ok"] and good["crc_mode_detected"] == "hj212"
    assert (
        good["version"] == "2017"
        and good["header"]["MN"] == "010000A8900016F000169DC0"
        and good["header"]["CN"] == "1062"
    )
    assert good["flag"] == {"value": 5, "ack": True, "split": False, "version_bits": 1}
    assert (
        good["cp"] == {"RtdInterval": "30", "pollutants": {}}
        and good["warnings"] == []
        and good["error"] is None
    )
    assert not bad["ok"] and not bad["crc_ok"] and bad["warnings"][0]["code"] == "crc-mismatch"
    assert not junk["ok"] and junk["error"] and set(junk) >= REQUIRED


def test_parse_pollutants_and_crc_mode(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seg = "QN=20240101120000000;ST=31;CN=2011;PW=123456;MN=010000A8900016F000169DC0;Flag=5;CP=&&DataTime=20240101120000;a21026-Rtd=1.5,a21026-Flag=N&&"
    path = tmp_path / "frames.txt"
    path.write_bytes(wire(seg, crc="0000"))
    status, out, _ = run(capsys, monkeypatch, ["parse", str(path), "--crc-mode", "none"])
    row = json.loads(out)
    assert (
        status == 0 and row["crc_ok"] and row["cp"]["pollutants"] == {"a21026": {"Rtd": "1.5", "Flag": "N"}}
    )
    assert row["cp"]["DataTime"] == "20240101120000"


def test_parse_stream(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    data = b"\x01\x02" + wire(STD_SEGMENT)[:50] + wire(STD_SEGMENT) + wire(STD_SEGMENT)
    status, out, _ = run(capsys, monkeypatch, ["parse", "--stream"], data)
    rows = [json.loads(line) for line in out.splitlines()]
    assert status == 0
    assert [r.get("diagnostic") for r in rows] == ["garbage", "truncated", None, None]
    assert all(set(r) >= REQUIRED for r in rows)


def test_build_round_trip(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    seg = "QN=20240101120000000;ST=31;CN=2011;PW=123456;MN=010000A8900016F000169DC0;Flag=5;CP=&&DataTime=20240101120000;a21026-Rtd=1.5;a21026-Flag=N&&"
    frames = wire(STD_SEGMENT) + wire(seg)
    _, parsed, _ = run(capsys, monkeypatch, ["parse"], frames)
    status, out, err = run(capsys, monkeypatch, ["build"], parsed.encode())
    assert status == 0 and err == ""
    assert out.encode() == frames


def test_build_from_minimal_json(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    obj = {
        "header": {
            "QN": "20160801085857223",
            "ST": "32",
            "CN": "1062",
            "PW": "100000",
            "MN": "010000A8900016F000169DC0",
            "Flag": 5,
        },
        "cp": {"RtdInterval": 30, "pollutants": {}},
    }
    status, out, err = run(capsys, monkeypatch, ["build"], (json.dumps(obj) + "\nnot json\n").encode())
    assert status == 0
    assert out.encode() == wire(STD_SEGMENT)
    assert json.loads(err)["line"] == 2


def test_build_reports_bad_objects_on_stderr(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    status, out, err = run(capsys, monkeypatch, ["build"], b'{"nothing": 1}\n[1,2]\n')
    assert status == 0 and out == ""
    assert [json.loads(line)["line"] for line in err.splitlines()] == [1, 2]


def test_crc(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    assert run(capsys, monkeypatch, ["crc"], b"123456789")[1] == "2F80\n"
    assert run(capsys, monkeypatch, ["crc"], STD_SEGMENT.encode())[1] == "1C80\n"
    assert run(capsys, monkeypatch, ["crc"], b"")[1] == "FFFF\n"
    assert run(capsys, monkeypatch, ["crc", "--mode", "modbus"], b"123456789")[1] == "4B37\n"
    assert run(capsys, monkeypatch, ["crc", "--strip-newline"], b"123456789\n")[1] == "2F80\n"
    out = run(capsys, monkeypatch, ["crc", "--all"], b"123456789")[1]
    assert out.splitlines() == ["hj212 2F80", "modbus 4B37", "modbus-swapped 374B"]


def test_exit_codes(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert run(capsys, monkeypatch, [])[0] == 2
    assert run(capsys, monkeypatch, ["frobnicate"])[0] == 2
    assert run(capsys, monkeypatch, ["parse", "--crc-mode", "crc32"])[0] == 2
    assert run(capsys, monkeypatch, ["parse", str(tmp_path / "missing.txt")])[0] == 2
    assert run(capsys, monkeypatch, ["parse", "--stream", "--max-frame", "10"])[0] == 2
    assert run(capsys, monkeypatch, ["parse", "--help"])[0] == 0
    assert run(capsys, monkeypatch, ["parse"], b"\xff\xfe not a frame\n")[0] == 0


def test_python_dash_m(capsys: pytest.CaptureFixture[str]) -> None:
    import runpy
    import sys

    argv = sys.argv
    sys.argv = ["hj212", "--help"]
    try:
        with pytest.raises(SystemExit) as exit_info:
            runpy.run_module("hj212", run_name="__main__")
    finally:
        sys.argv = argv
    assert exit_info.value.code == 0
    assert "parse" in capsys.readouterr().out


def test_line_mode_treats_lf_as_record_separator(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = wire(STD_SEGMENT, trailer=b"\n") + wire(STD_SEGMENT, trailer=b"")
    status, out, _ = run(capsys, monkeypatch, ["parse"], data)
    rows = [json.loads(line) for line in out.splitlines()]
    assert status == 0 and [r["warnings"] for r in rows] == [[], []]
