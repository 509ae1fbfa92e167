"""The permit writer's worksheet of a limit calculation: Excel (openpyxl) and PDF (reportlab).

The PDF embeds a CJK TrueType font when one is installed (Debian's fonts-wqy-microhei, or Noto CJK;
``TOTALCAP_CJK_FONT`` names another file) and falls back to reportlab's built-in STSong-Light CID font,
so Chinese never prints as empty boxes.
"""

from __future__ import annotations

import datetime as dt
import io
import os
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from totalcap.permits.calculator import LEVEL_LABELS, RULE_LABELS, VOLUME_LABELS, way_label

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
)
TITLE = "基于技术的排污许可限值核定工作表"


def subject_lines(subject: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    subject = subject or {}
    rows = [
        ("排污单位", str(subject.get("enterprise") or "—")),
        ("排放口", str(subject.get("outlet") or "—")),
        ("污染物", str(subject.get("pollutant") or "—")),
        ("核定人", str(subject.get("user") or "—")),
        ("生成时间", str(subject.get("at") or dt.datetime.now().strftime("%Y-%m-%d %H:%M"))),
    ]
    return rows


def summary_lines(r: Mapping[str, Any]) -> list[tuple[str, str]]:
    unit = r["concentration_unit"]
    ly = r["annual_limit_t"]
    return [
        ("浓度限值", f"{r['concentration_limit']['value']} {unit}（{r['concentration_limit']['standard']}）"),
        ("年排水量T", f"{r['annual_volume_m3']} m³（{VOLUME_LABELS[r['annual_volume_source']]}）"),
        ("长期平均浓度C", f"{r['long_term_mean_mg_per_l']} {unit}"),
        (
            "年排放量限值Ly",
            f"{ly['chosen']} t/a（{way_label(ly['chosen_way'])}，{RULE_LABELS.get(ly['rule'], '指定途径')}）",
        ),
        ("变异系数CV / σ", f"{r['cv']} / {r['sigma']}"),
        ("β（未封顶 / 采用）", f"{r['beta_raw']} / {r['beta']}"),
        ("日最大排放量Ld", f"{r['daily_max_kg']} kg/d"),
    ]


def candidate_rows(r: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    ly = r["annual_limit_t"]
    return [(way_label(k), str(v), "✔" if k == ly["chosen_way"] else "") for k, v in ly["candidates"].items()]


def standard_rows(r: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    unit = r["concentration_unit"]
    chosen = r["concentration_limit"]["standard"]
    return [
        (
            s["name"],
            LEVEL_LABELS[s["level"]],
            f"{s['limit_mg_per_l']} {unit}" + ("（采用）" if s["name"] == chosen else ""),
        )
        for s in r["concentration_limit"]["candidates"]
    ]


# --- Excel ---------------------------------------------------------------------------------------


def to_xlsx(result: Mapping[str, Any], subject: Mapping[str, Any] | None = None) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "核定工作表"
    bold = Font(bold=True)
    head = PatternFill("solid", fgColor="DDEBF7")
    wrap = Alignment(wrap_text=True, vertical="top")
    ws.append([TITLE])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append([])
    for label, value in subject_lines(subject):
        ws.append([label, value])
        ws.cell(ws.max_row, 1).font = bold
    ws.append([])
    ws.append(["步骤", "项目", "公式", "计算过程", "结果"])
    for cell in ws[ws.max_row]:
        cell.font = bold
        cell.fill = head
    for step in result["steps"]:
        ws.append([step["no"], step["title"], step["formula"], step["detail"], step["result"]])
        for cell in ws[ws.max_row]:
            cell.alignment = wrap
    ws.append([])
    ws.append(["候选标准", "级别", "浓度限值"])
    for cell in ws[ws.max_row]:
        cell.font = bold
        cell.fill = head
    for row in standard_rows(result):
        ws.append(list(row))
    ws.append([])
    ws.append(["年排放量途径", "t/a", "采用"])
    for cell in ws[ws.max_row]:
        cell.font = bold
        cell.fill = head
    for row in candidate_rows(result):
        ws.append(list(row))
    if result.get("notes"):
        ws.append([])
        ws.append(["说明"])
        ws.cell(ws.max_row, 1).font = bold
        for note in result["notes"]:
            ws.append([note])
    for col, width in zip("ABCDE", (16, 22, 44, 60, 34), strict=True):
        ws.column_dimensions[col].width = width
    raw = wb.create_sheet("输入与结果JSON")
    import json

    raw.append(["结果（JSON）"])
    raw.append([json.dumps({k: v for k, v in result.items() if k != "steps"}, ensure_ascii=False)])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


# --- PDF -----------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def cjk_font() -> str:
    """Register and return the name of a font that has Chinese glyphs."""
    from reportlab.pdfbase import pdfmetrics

    candidates = [os.environ.get("TOTALCAP_CJK_FONT", ""), *FONT_CANDIDATES]
    for path in candidates:
        if path and Path(path).is_file():
            try:
                from reportlab.pdfbase.ttfonts import TTFont

                kwargs: dict[str, Any] = {"subfontIndex": 0} if path.lower().endswith(".ttc") else {}
                pdfmetrics.registerFont(TTFont("TotalCapCJK", path, **kwargs))
                return "TotalCapCJK"
            except Exception:  # a font reportlab cannot read (e.g. CFF-based OTF): try the next
                continue
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    return "STSong-Light"


def to_pdf(result: Mapping[str, Any], subject: Mapping[str, Any] | None = None) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = cjk_font()
    body = ParagraphStyle("body", fontName=font, fontSize=9, leading=12, wordWrap="CJK")
    title = ParagraphStyle("title", fontName=font, fontSize=15, leading=20, spaceAfter=6)
    heading = ParagraphStyle("heading", fontName=font, fontSize=11, leading=15, spaceBefore=8, spaceAfter=4)

    def p(text: Any) -> Paragraph:
        return Paragraph(str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"), body)

    def table(rows: list[list[Any]], widths: list[float], header: bool = True) -> Table:
        t = Table(
            [[p(cell) for cell in row] for row in rows], colWidths=widths, repeatRows=1 if header else 0
        )
        style: list[Any] = [
            ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ]
        if header:
            style.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#DDEBF7")))
        t.setStyle(TableStyle(style))
        return t

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer, pagesize=landscape(A4), leftMargin=12 * mm, rightMargin=12 * mm, topMargin=12 * mm,
        bottomMargin=12 * mm, title=TITLE, author="TotalCap",
    )  # fmt: skip
    story: list[Any] = [Paragraph(TITLE, title)]
    story.append(table([list(r) for r in subject_lines(subject)], [40 * mm, 200 * mm], header=False))
    story.append(Paragraph("结果摘要", heading))
    story.append(table([list(r) for r in summary_lines(result)], [50 * mm, 190 * mm], header=False))
    story.append(Paragraph("计算步骤", heading))
    rows: list[list[Any]] = [["步骤", "项目", "公式", "计算过程", "结果"]]
    rows += [[s["no"], s["title"], s["formula"], s["detail"], s["result"]] for s in result["steps"]]
    story.append(table(rows, [12 * mm, 30 * mm, 68 * mm, 95 * mm, 68 * mm]))
    story.append(Paragraph("候选标准", heading))
    story.append(
        table(
            [["标准", "级别", "浓度限值"], *[list(r) for r in standard_rows(result)]],
            [150 * mm, 40 * mm, 50 * mm],
        )
    )
    story.append(Paragraph("年排放量限值的途径", heading))
    story.append(
        table(
            [["途径", "t/a", "采用"], *[list(r) for r in candidate_rows(result)]],
            [150 * mm, 50 * mm, 40 * mm],
        )
    )
    if result.get("notes"):
        story.append(Paragraph("说明", heading))
        for note in result["notes"]:
            story.append(p(note))
    story.append(Spacer(1, 6 * mm))
    story.append(
        p("依据：排污许可限值核定技术方法（种子004），β上限为年许可排放量日均值的倍数；TSD乘数仅供参考。")
    )
    doc.build(story)
    return buffer.getvalue()
