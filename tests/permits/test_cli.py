"""``totalcap limits compute``: the Tieling case, bad input, worksheets — without any database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.permits.conftest import TIELING

ROOT = Path(__file__).resolve().parents[2]
TOTALCAP = ROOT / ".venv" / "bin" / "totalcap"


def run(args: list[str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """The console script in a child process whose database cannot be reached: a command that
    touched the database would fail."""
    env = {**os.environ, "DATABASE_URL": "postgres://nobody:nothing@127.0.0.1:9/nowhere"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    command = [str(TOTALCAP)] if TOTALCAP.exists() else [sys.executable, "-m", "totalcap.cli"]
    return subprocess.run(
        [*command, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
        check=False,
    )


def write_case(tmp_path: Path, data: Any, name: str = "case.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def test_tieling_case_through_the_cli(tmp_path: Path) -> None:
    proc = run(["limits", "compute", "--input", str(write_case(tmp_path, TIELING))])
    assert proc.returncode == 0, proc.stderr
    r = json.loads(proc.stdout)
    assert r["concentration_limit"]["value"] == 50 and "辽宁" in r["concentration_limit"]["standard"]
    assert r["annual_limit_t"]["candidates"]["standard"] == 3.75
    assert r["annual_limit_t"]["chosen"] == 6.1
    assert r["sigma"] == pytest.approx(0.64, abs=0.005)
    assert r["beta_raw"] == pytest.approx(2.33, abs=0.005)
    assert r["beta"] == 2.0
    assert r["daily_max_kg"] == pytest.approx(33.4, abs=0.05)
    for key in (
        "concentration_limit", "annual_volume_m3", "long_term_mean_mg_per_l", "annual_limit_t", "cv", "sigma",
        "beta_raw", "beta", "daily_max_kg", "tsd",
    ):  # fmt: skip
        assert key in r
    assert set(r["tsd"]) >= {"mdl_99", "mdl_95", "aml_95", "aml_99"}


def test_stdin_compact_output_and_worksheets(tmp_path: Path) -> None:
    xlsx, pdf = tmp_path / "w.xlsx", tmp_path / "w.pdf"
    proc = run(
        ["limits", "compute", "--input", "-", "--compact", "--no-steps", "--worksheet", str(xlsx)],
        json.dumps(TIELING),
    )
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.strip().splitlines()) == 1 and "steps" not in json.loads(proc.stdout)
    assert xlsx.read_bytes()[:2] == b"PK"
    out = tmp_path / "out.json"
    proc = run(
        ["limits", "compute", "-i", str(write_case(tmp_path, TIELING)), "-w", str(pdf), "-o", str(out)]
    )
    assert proc.returncode == 0, proc.stderr
    assert pdf.read_bytes()[:5] == b"%PDF-"
    assert json.loads(out.read_text(encoding="utf-8"))["daily_max_kg"] == pytest.approx(33.42)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"annual_volume_m3": -150000}, "annual_volume_m3"),
        ({"daily_volume_m3": -3, "production_days": 300}, "daily_volume_m3"),
        ({"cv": -0.5}, "cv"),
        ({"benchmark_m3_per_t": None, "annual_production_t": None}, "annual_volume_m3"),
        ({"standards": []}, "standards"),
        ({"selection": "guess"}, "selection"),
    ],
)
def test_bad_input_exits_non_zero_naming_the_field(
    tmp_path: Path, changes: dict[str, Any], field: str
) -> None:
    data = dict(TIELING)
    for key, value in changes.items():
        if value is None:
            data.pop(key)
        else:
            data[key] = value
    proc = run(["limits", "compute", "--input", str(write_case(tmp_path, data))])
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert f"field {field}:" in proc.stderr


def test_unreadable_or_malformed_input(tmp_path: Path) -> None:
    missing = run(["limits", "compute", "--input", str(tmp_path / "absent.json")])
    assert missing.returncode == 2 and "cannot read" in missing.stderr
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    proc = run(["limits", "compute", "--input", str(broken)])
    assert proc.returncode == 2 and "not valid JSON" in proc.stderr
    assert run(["limits"]).returncode != 0


def test_command_in_process_needs_no_database(tmp_path: Path) -> None:
    """pytest-django refuses database access in a test without the db fixture: this would raise."""
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("limits", "compute", "--input", str(write_case(tmp_path, TIELING)), stdout=out)
    assert json.loads(out.getvalue())["annual_limit_t"]["chosen"] == 6.1
