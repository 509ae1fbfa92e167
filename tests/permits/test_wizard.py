"""The calculator wizard (HTMX steps, plain posts too) and the worksheets (Excel and PDF)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.permits.conftest import TIELING, permit_in
from totalcap.permits import calculator, worksheet
from totalcap.permits.calculator_views import parse_series, parse_upload
from totalcap.permits.models import PermitItem


def post(
    client: Any,
    step: int,
    case: dict[str, Any],
    subject: dict[str, Any] | None = None,
    htmx: bool = False,
    **fields: Any,
) -> Any:
    data = {
        "step": str(step),
        "case": json.dumps(case),
        "subject": json.dumps(subject or {}),
        "nav": "next",
        **fields,
    }
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    return client.post("/permits/calculator/", data, **headers)


def state(response: Any) -> tuple[int, dict[str, Any], dict[str, Any]]:
    ctx = response.context
    return ctx["step"], ctx["case"], ctx["errors"]


def test_the_example_walks_through_all_steps(world: Any, client_for: Any) -> None:
    client = client_for("county")
    page = client.get("/permits/calculator/?example=tieling")
    assert page.status_code == 200 and "载入铁岭案例" in page.content.decode()
    case = page.context["case"]
    step1 = {
        "medium": "water", "std_rows": "5",
        "std_name_0": case["standards"][0]["name"], "std_level_0": "local", "std_limit_0": "50",
        "std_name_1": case["standards"][1]["name"], "std_level_1": "industry", "std_limit_1": "70",
    }  # fmt: skip
    partial = post(client, 1, case, htmx=True, **step1)
    assert b"<html" not in partial.content and b'data-step="2"' in partial.content  # HTMX: the partial only
    r = post(client, 1, case, **step1)
    step, case, errors = state(r)
    assert (step, errors) == (2, {})
    r = post(client, 2, case, benchmark_m3_per_t="10", annual_production_t="15000")
    step, case, errors = state(r)
    assert step == 3 and case["benchmark_m3_per_t"] == "10"
    r = post(client, 3, case, c_mode="mean", long_term_mean_mg_per_l="25")
    step, case, errors = state(r)
    assert step == 4
    r = post(
        client,
        4,
        case,
        way_monitoring="9.0",
        way_survey="6.1",
        selection="median",
        selection_reason="取中间值",
    )
    step, case, errors = state(r)
    assert step == 5 and case["candidate_annual_t"] == {"monitoring": "9.0", "survey": "6.1"}
    assert case["history_complies"] is True
    r = post(
        client, 5, case, cv_mode="cv", cv="0.71", percentile="0.95", beta_cap="2.0", tsd_samples_per_month="4"
    )
    step, case, errors = state(r)
    assert step == 6 and errors == {}
    result = r.context["result"]
    assert result["annual_limit_t"]["chosen"] == 6.1 and result["daily_max_kg"] == 33.42
    body = r.content.decode()
    assert "33.42 kg/d" in body and "导出工作表（Excel）" in body and "取中间值" in body
    back = post(client, 6, case, nav="goto5")
    assert state(back)[0] == 5


@pytest.mark.parametrize(
    ("step", "fields", "field"),
    [
        (1, {"std_rows": "5", "std_name_0": "地方", "std_level_0": "local", "std_limit_0": "-50"}, "standards[0].limit_mg_per_l"),
        (1, {"std_rows": "5"}, "standards"),
        (2, {"annual_volume_m3": "-5"}, "annual_volume_m3"),
        (2, {}, "annual_volume_m3"),
        (3, {"c_mode": "mean", "long_term_mean_mg_per_l": ""}, "long_term_mean_mg_per_l"),
        (4, {"selection": "no-such-way"}, "selection"),
        (5, {"cv_mode": "cv", "cv": "-0.2"}, "cv"),
        (5, {"cv_mode": "cv", "cv": "0.7", "percentile": "1.5"}, "percentile"),
    ],
)  # fmt: skip
def test_each_step_refuses_bad_input_naming_the_field(
    world: Any, client_for: Any, step: int, fields: dict[str, Any], field: str
) -> None:
    base = dict(TIELING)
    if step == 2:
        base = {k: v for k, v in base.items() if k not in ("benchmark_m3_per_t", "annual_production_t")}
    r = post(client_for("ent"), step, base, **fields)
    got_step, _case, errors = state(r)
    assert got_step == step and field in errors
    assert field in r.content.decode() and "alert-danger" in r.content.decode()


def test_a_plain_post_renders_the_whole_page(world: Any, client_for: Any) -> None:
    r = post(
        client_for("ent"),
        1,
        TIELING,
        htmx=False,
        std_rows="5",
        std_name_0="地方",
        std_level_0="local",
        std_limit_0="50",
    )
    assert b"<html" in r.content and state(r)[0] == 2


def test_series_pasted_and_uploaded(world: Any, client_for: Any) -> None:
    client = client_for("ent")
    r = post(client, 3, TIELING, c_mode="series", series_text="20, 30\n无效 25；-3")
    step, case, _errors = state(r)
    assert step == 4 and case["concentrations_mg_per_l"] == ["20.0", "30.0", None, "25.0", "-3.0"]
    assert "long_term_mean_mg_per_l" not in case
    upload = SimpleUploadedFile(
        "cod.csv", "日期,COD\n2014-01-01,20\n2014-01-02,30\n2014-01-03,坏值\n".encode(), "text/csv"
    )
    r = post(client, 3, TIELING, c_mode="series", series_file=upload)
    step, case, _errors = state(r)
    assert case["concentrations_mg_per_l"] == ["20.0", "30.0", None]
    loads = SimpleUploadedFile("loads.csv", b"10\n20\n30\n", "text/csv")
    r = post(client, 5, {**TIELING, "cv": None}, cv_mode="loads", loads_file=loads, percentile="0.95")
    step, case, _errors = state(r)
    assert step == 6 and case["daily_loads_kg"] == ["10.0", "20.0", "30.0"] and "cv" not in case


def test_parsers() -> None:
    assert parse_series("1,2 3\n4;x") == ["1.0", "2.0", "3.0", "4.0", None]
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    for row in (["日期", "值"], ["d1", 5], ["d2", 7.5]):
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    upload = SimpleUploadedFile("s.xlsx", buffer.getvalue())
    assert parse_upload(upload) == ["5.0", "7.5"]


def test_load_standards_from_the_library(world: Any, client_for: Any) -> None:
    outlet = world.e_own.outlets.get(code="DW001")
    from totalcap.registry.models import Pollutant

    cod = Pollutant.objects.get(code="w01018")
    r = post(
        client_for("ent"),
        1,
        {},
        outlet=str(outlet.pk),
        pollutant=str(cod.pk),
        nav="load_standards",
        std_rows="5",
    )
    step, case, _errors = state(r)
    assert step == 1 and case["standards"][0]["limit_mg_per_l"] == "80"
    assert case["standards"][0]["id"] and case["medium"] == "water"
    assert "已从标准库带出" in r.content.decode()


def test_apply_from_the_last_step_lists_only_editable_drafts(world: Any, client_for: Any) -> None:
    draft = permit_in(world.e_own, "draft").versions.get()
    outlet = world.e_own.outlets.get(code="DW001")
    item = PermitItem.objects.get(version=draft, outlet=outlet, pollutant__code="w01018")
    subject = {"outlet": str(outlet.pk), "pollutant": str(item.pollutant_id), "version": str(draft.pk)}
    r = post(client_for("ent"), 5, TIELING, subject=subject, cv_mode="cv", cv="0.71")
    assert [v.pk for v in r.context["drafts"]] == [draft.pk]
    assert "一键应用到 DW001「化学需氧量」" in r.content.decode()
    r = post(client_for("county"), 5, TIELING, subject=subject, cv_mode="cv", cv="0.71")
    assert r.context["drafts"] == []  # a county may not edit an applicant's draft


# --- worksheets ---------------------------------------------------------------------------------


def test_excel_worksheet_contents() -> None:
    from openpyxl import load_workbook

    result = calculator.compute(TIELING)
    wb = load_workbook(io.BytesIO(worksheet.to_xlsx(result, {"enterprise": "铁岭某禽类屠宰企业"})))
    ws = wb["核定工作表"]
    cells = [str(c.value) for row in ws.iter_rows() for c in row if c.value is not None]
    assert "基于技术的排污许可限值核定工作表" in cells and "铁岭某禽类屠宰企业" in cells
    assert "年排放量限值Ly" in cells and "6.1 t/a（企业调查表）" in cells and "33.42 kg/d" in cells
    assert json.loads(wb["输入与结果JSON"]["A2"].value)["beta"] == 2.0


def test_pdf_worksheet_embeds_a_cjk_font() -> None:
    pdf = worksheet.to_pdf(calculator.compute(TIELING), {"enterprise": "铁岭某禽类屠宰企业"})
    assert pdf[:5] == b"%PDF-"
    if any(Path(p).is_file() for p in worksheet.FONT_CANDIDATES):
        assert b"FontFile2" in pdf  # a TrueType CJK font embedded


def test_pdf_falls_back_to_the_builtin_cid_font(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(worksheet, "FONT_CANDIDATES", ())
    monkeypatch.setenv("TOTALCAP_CJK_FONT", "/nonexistent.ttf")
    worksheet.cjk_font.cache_clear()
    try:
        assert worksheet.cjk_font() == "STSong-Light"
        pdf = worksheet.to_pdf(calculator.compute(TIELING))
        assert pdf[:5] == b"%PDF-" and b"STSong-Light" in pdf
    finally:
        worksheet.cjk_font.cache_clear()


def test_ui_exports(world: Any, client_for: Any) -> None:
    client = client_for("ent")
    data = {"case": json.dumps(TIELING), "subject": "{}"}
    xlsx = client.post("/permits/calculator/worksheet/", {**data, "fmt": "xlsx"})
    assert xlsx.status_code == 200 and xlsx["Content-Type"].startswith("application/vnd.openxml")
    assert "attachment" in xlsx["Content-Disposition"]
    pdf = client.post("/permits/calculator/worksheet/", {**data, "fmt": "pdf"})
    assert pdf.status_code == 200 and pdf.content[:5] == b"%PDF-"
    bad = client.post(
        "/permits/calculator/worksheet/", {"case": json.dumps({**TIELING, "cv": -1}), "fmt": "pdf"}
    )
    assert bad.status_code == 400 and "cv" in bad.content.decode()
