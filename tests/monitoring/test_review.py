"""Review (invalidate / correct / revert, evidence), suspicions handling, manual data and its Excel import."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from openpyxl import Workbook

from tests.monitoring.conftest import at, emission, feed, feed_hours, hour_row, recompute, water
from totalcap.base.exceptions import PermissionRefused, ScopeViolation, ServiceError, TransitionRefused
from totalcap.base.models import DomainEvent
from totalcap.monitoring.models import ManualMeasurement, ReviewAction, Suspicion
from totalcap.monitoring.services import review
from totalcap.registry.models import Outlet

HOUR = dt.timedelta(hours=1)
G = at(14, 10)


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


def day(ww: Outlet) -> None:
    feed_hours(ww, "w01018", at(14), [40] * 24)
    feed_hours(ww, "w00000", at(14), [10] * 24)
    recompute(ww, at(14), at(15))


def invalidate(user: Any, outlet: Outlet, **kw: Any) -> ReviewAction:
    args: dict[str, Any] = {"outlet": outlet, "pollutant": "w01018", "kind": "invalidate", "start": G, "end": G + HOUR,
                            "reason": "运维记录显示该时段分析仪故障"}  # fmt: skip
    args.update(kw)
    return review.create_review(user, **args)


def test_regulator_invalidates_an_hour_with_evidence(ww: Outlet, world: Any, media: Path) -> None:
    day(ww)
    photo = SimpleUploadedFile("现场照片.jpg", b"\xff\xd8 photo bytes", content_type="image/jpeg")
    action = invalidate(world.user("county"), ww, files=[photo])
    h = hour_row(ww, "w01018", G)
    assert (h.status, h.label, h.review_id) == ("i", "R", action.pk)
    assert emission(ww, "w01018", G).method == "auto_substituted"
    evidence = action.evidence.get()
    assert evidence.sha256 == hashlib.sha256(b"\xff\xd8 photo bytes").hexdigest()
    assert (media / evidence.file.name).read_bytes() == b"\xff\xd8 photo bytes"
    assert not action.by_enterprise
    with connection.cursor() as cur:  # the original stays as the logger sent it
        cur.execute("SELECT value, flag FROM monitoring_sample WHERE outlet_id = %s AND kind = 'h' AND data_time = %s "
                    "AND pollutant = 'w01018'", [ww.pk, G])  # fmt: skip
        assert cur.fetchone() == (Decimal("40.000000"), "N")


def test_enterprise_reviews_its_own_outlets_only(ww: Outlet, world: Any) -> None:
    day(ww)
    action = invalidate(world.user("ent"), ww)
    assert action.by_enterprise
    other = water(world.e_other)
    with pytest.raises(ScopeViolation):
        invalidate(world.user("ent"), other)
    with pytest.raises(PermissionRefused):
        invalidate(world.user("noperm"), ww)
    with pytest.raises(PermissionRefused):
        invalidate(world.user("om"), ww)


def test_minute_values_can_be_invalidated(ww: Outlet, world: Any) -> None:
    feed(ww, "w01018", G, [40] * 60)
    recompute(ww, G, G + HOUR)
    assert hour_row(ww, "w01018", G).status == "v"
    invalidate(
        world.user("county"),
        ww,
        level="minute",
        start=G + dt.timedelta(minutes=20),
        end=G + dt.timedelta(minutes=40),
    )
    h = hour_row(ww, "w01018", G)
    assert (h.status, h.label, h.n_valid) == ("i", "R", 40)


def test_corrections_and_their_validation(ww: Outlet, world: Any) -> None:
    county = world.user("county")
    day(ww)
    with pytest.raises(ServiceError, match="修正值"):
        invalidate(county, ww, kind="correct")
    with pytest.raises(ServiceError, match="不应填写修正值"):
        invalidate(county, ww, value=Decimal(3))
    with pytest.raises(ServiceError, match="整点"):
        invalidate(county, ww, start=G + dt.timedelta(minutes=5))
    with pytest.raises(ServiceError, match="理由"):
        invalidate(county, ww, reason="  ")
    with pytest.raises(ServiceError, match="类型不受支持"):
        invalidate(county, ww, files=[SimpleUploadedFile("x.exe", b"MZ")])
    assert not ReviewAction.objects.exists()
    invalidate(county, ww, kind="correct", value=Decimal("55"))
    assert hour_row(ww, "w01018", G).value == Decimal("55")


def test_revert_rules(ww: Outlet, world: Any) -> None:
    day(ww)
    by_county = invalidate(world.user("county"), ww)
    with pytest.raises(PermissionRefused, match="本企业"):
        review.revert_review(world.user("ent"), by_county, "不同意")
    with pytest.raises(ScopeViolation):
        review.revert_review(world.user("county_other"), by_county, "越权")
    reverted = review.revert_review(world.user("county"), by_county, "误判")
    assert reverted.status == "reverted" and hour_row(ww, "w01018", G).status == "v"
    with pytest.raises(TransitionRefused):
        review.revert_review(world.user("county"), by_county, "再次")
    assert DomainEvent.objects.filter(action="review_reverted", object_id=str(by_county.pk)).count() == 1


def test_suspicions_are_confirmed_or_dismissed(ww: Outlet, world: Any) -> None:
    recompute(ww, at(14), at(15))
    suspicion = Suspicion.objects.filter(outlet=ww).first()
    assert suspicion is not None
    with pytest.raises(PermissionRefused):
        review.handle_suspicion(world.user("ent"), suspicion, "dismiss")
    handled = review.handle_suspicion(world.user("county"), suspicion, "confirm", "已派员核查")
    assert handled.status == "confirmed" and handled.handled_by == world.user("county")
    with pytest.raises(TransitionRefused):
        review.handle_suspicion(world.user("county"), suspicion, "dismiss")


# --- manual monitoring data --------------------------------------------------------------------------


def test_enterprises_cannot_enter_enforcement_results(ww: Outlet, world: Any) -> None:
    obj = ManualMeasurement(
        outlet=ww, pollutant_id="w01018", kind="enforcement", sampled_at=G, concentration=40
    )
    with pytest.raises(PermissionRefused):
        review.save_manual(world.user("ent"), obj)
    obj.kind = "self"
    saved = review.save_manual(world.user("ent"), obj)
    assert saved.created_by == world.user("ent")
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM monitoring_dirty WHERE outlet_id = %s", [ww.pk])
        assert cur.fetchone()[0] == 31 * 24  # the month it represents is queued for re-accounting


def workbook(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append([c[0] for c in review.MANUAL_COLUMNS])
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_excel_import(ww: Outlet, world: Any) -> None:
    code = world.e_own.credit_code
    content = workbook([
        [code, "DW001", "w01018", "执法监测", "2026-10-14 10:00", 35.2, "mg/L", 120, None, None, "市监测站", "ZF-1", ""],
        [code, "DW001", "w21003", "自行监测（手工）", dt.datetime(2026, 10, 14, 11), "2.5", "", "", "2026-10-14",
         "2026-10-21", "", "", "周报"],
    ])  # fmt: skip
    result = review.import_manual_excel(world.user("county"), content, "十月.xlsx")
    assert result.ok and result.created == 2
    first = ManualMeasurement.objects.get(pollutant_id="w01018")
    assert (first.kind, first.concentration, first.flow_m3_h, first.source) == (
        "enforcement",
        Decimal("35.2"),
        Decimal("120"),
        "excel:十月.xlsx",
    )
    assert first.sampled_at == at(14, 10)
    assert DomainEvent.objects.filter(action="manual_imported").exists()


def test_excel_import_names_every_bad_row_and_stores_nothing(ww: Outlet, world: Any) -> None:
    code = world.e_own.credit_code
    other = world.e_other.credit_code
    content = workbook([
        [code, "DW001", "w01018", "执法监测", "2026-10-14 10:00", 35.2, "", "", "", "", "", "", ""],
        [code, "DW009", "w01018", "执法监测", "昨天", "abc", "", "", "", "", "", "", ""],
        [other, "DW001", "w99999", "抽查", "2026-10-14", 1, "", "", "", "", "", "", ""],
    ])  # fmt: skip
    result = review.import_manual_excel(world.user("county"), content)
    assert not result.ok and ManualMeasurement.objects.count() == 0
    assert (
        result.errors[0].startswith("第3行")
        and "排放口编码" in result.errors[0]
        and "采样时间" in result.errors[0]
    )
    assert "浓度" in result.errors[0]
    assert result.errors[1].startswith("第4行") and "统一社会信用代码" in result.errors[1]
    assert "监测类型" in result.errors[1] and "污染物编码" in result.errors[1]


def test_excel_import_refuses_a_file_that_is_not_a_workbook(world: Any) -> None:
    with pytest.raises(ServiceError, match="Excel"):
        review.import_manual_excel(world.user("county"), b"not a workbook", "x.xlsx")
    missing = Workbook()
    missing.active.append(["排放口编码"])
    buffer = io.BytesIO()
    missing.save(buffer)
    result = review.import_manual_excel(world.user("county"), buffer.getvalue())
    assert any("统一社会信用代码" in e for e in result.errors)


def test_the_template_has_the_import_headers() -> None:
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(review.manual_template())).active
    assert [c.value for c in sheet[1]] == [c[0] for c in review.MANUAL_COLUMNS]
