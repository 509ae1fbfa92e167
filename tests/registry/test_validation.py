"""Bad registry input is refused with a clear message and changes nothing (UI, API, loaders)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.forms.models import model_to_dict

from totalcap.base.exceptions import ServiceError
from totalcap.registry import services
from totalcap.registry.models import DataLogger, EmissionStandard, Enterprise, Industry, Jurisdiction, Valve
from totalcap.registry.validators import (
    credit_check_char,
    make_credit_code,
    validate_china_coordinates,
    validate_credit_code,
)

# Real, published codes (their check characters are right).
REAL_CODES = ["91350100M000100Y43", "91110000802100433B", "91440300708461136T"]


@pytest.mark.parametrize("code", REAL_CODES)
def test_real_credit_codes_pass(code: str) -> None:
    validate_credit_code(code)


def test_wrong_check_character_is_named() -> None:
    good = REAL_CODES[0]
    bad = good[:17] + ("4" if good[17] != "4" else "5")
    with pytest.raises(ValidationError) as info:
        validate_credit_code(bad)
    message = info.value.messages[0]
    assert "第18位" in message and f"应为「{good[17]}」" in message and f"实际为「{bad[17]}」" in message


@pytest.mark.parametrize(
    ("code", "fragment"),
    [
        ("9135010", "应为18位，当前为7位"),
        ("91350100M000100I43", "第16位「I」不是有效字符"),
        ("91350100m000100Y43", "第9位「m」不是有效字符"),
        ("91AB0100M000100Y43", "第3至8位应为登记管理机关行政区划码"),
    ],
)
def test_malformed_credit_codes(code: str, fragment: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate_credit_code(code)
    assert fragment in info.value.messages[0]


def test_organisation_check_character_is_named() -> None:
    first16 = "91350100M000100Y"
    wrong17 = "5"  # the right one is 4
    code = first16 + wrong17 + credit_check_char(first16 + wrong17)
    with pytest.raises(ValidationError, match="第17位"):
        validate_credit_code(code)


def test_make_credit_code_round_trips() -> None:
    validate_credit_code(make_credit_code("91", "321202", "MA1X2Y3K"))


@pytest.mark.parametrize(
    ("lng", "lat", "field"),
    [("2.35", "48.85", "longitude"), ("116.40", "60.00", "latitude"), ("116.40", None, "latitude")],
)
def test_coordinates_outside_china(lng: str | None, lat: str | None, field: str) -> None:
    from decimal import Decimal

    errors = validate_china_coordinates(Decimal(lng) if lng else None, Decimal(lat) if lat else None)
    assert field in errors


def _enterprise_payload(**overrides: Any) -> dict[str, Any]:
    data = {
        "credit_code": make_credit_code("91", "321202", "MA9K8J7H"),
        "name": "校验测试有限公司",
        "industry": Industry.objects.get(code="2614").pk,
        "jurisdiction": Jurisdiction.objects.get(code="321202").pk,
        "management_class": "key",
        "status": "operating",
        "longitude": "119.900000",
        "latitude": "32.400000",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize(
    ("overrides", "field", "fragment"),
    [
        ({"credit_code": "91350100M000100Y44"}, "credit_code", "第18位校验码错误"),
        ({"longitude": "2.350000", "latitude": "48.850000"}, "longitude", "不在中国境内"),
        ({"industry": 999999}, "industry", ""),
        ({"jurisdiction": Jurisdiction.objects.none, "credit_code": REAL_CODES[1]}, "jurisdiction", ""),
    ],
)
def test_api_refuses_bad_enterprise(
    world: Any, api_for: Any, overrides: dict[str, Any], field: str, fragment: str
) -> None:
    overrides = {k: (None if callable(v) else v) for k, v in overrides.items()}
    before = Enterprise.objects.count()
    response = api_for("county").post(
        "/api/registry/enterprise/", _enterprise_payload(**overrides), format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and field in body["errors"], body
    assert fragment in " ".join(body["errors"][field])
    assert Enterprise.objects.count() == before


def test_ui_shows_chinese_error_next_to_the_field(world: Any, client_for: Any) -> None:
    response = client_for("county").post(
        "/registry/enterprise/new/", _enterprise_payload(credit_code="91350100M000100Y44")
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-field="credit_code"' in html and "第18位校验码错误：应为「3」，实际为「4」" in html


def test_duplicate_mn_is_refused_case_insensitively(world: Any, api_for: Any) -> None:
    outlet = world.e_own.outlets.get(code="DW001")
    DataLogger.objects.create(mn="ABCDEF0123456789ABCDEF01", outlet=outlet, password="1")
    before = DataLogger.objects.count()
    for mn, message in (
        ("ABCDEF0123456789ABCDEF01", "已存在"),
        ("abcdef0123456789abcdef01", "已被其他数采仪使用"),
    ):
        response = api_for("county").post(
            "/api/registry/datalogger/",
            {"mn": mn, "outlet": outlet.pk, "password": "123456", "system_code": "32"},
            format="json",
        )
        assert response.status_code == 400 and "mn" in response.json()["errors"]
        assert message in response.json()["errors"]["mn"][0]
    assert DataLogger.objects.count() == before


def test_logger_password_is_encrypted_at_rest(world: Any) -> None:
    from django.db import connection

    logger = DataLogger.objects.filter(outlet__enterprise=world.e_own).first()
    with connection.cursor() as cur:
        cur.execute("SELECT password FROM registry_datalogger WHERE id = %s", [logger.pk])
        stored = cur.fetchone()[0]
    assert stored.startswith("fernet:") and "123456" not in stored
    assert DataLogger.objects.get(pk=logger.pk).password == "123456"


def test_valve_on_air_outlet_is_refused(world: Any, api_for: Any) -> None:
    air = world.e_own.outlets.get(code="DA001")
    logger = air.loggers.first()
    response = api_for("county").post(
        "/api/registry/valve/", {"outlet": air.pk, "logger": logger.pk, "code": "V09"}, format="json"
    )
    assert response.status_code == 400 and "outlet" in response.json()["errors"]
    assert not Valve.objects.filter(code="V09").exists()


def test_outlet_code_and_medium_must_agree(world: Any, api_for: Any) -> None:
    bad = api_for("county").post(
        "/api/registry/outlet/",
        {"enterprise": world.e_own.pk, "code": "DX01", "name": "x", "medium": "water"},
        format="json",
    )
    assert bad.status_code == 400 and "code" in bad.json()["errors"]
    mismatch = api_for("county").post(
        "/api/registry/outlet/",
        {"enterprise": world.e_own.pk, "code": "DA009", "name": "x", "medium": "water"},
        format="json",
    )
    assert mismatch.status_code == 400 and "medium" in mismatch.json()["errors"]


def _standard(limits: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "code": "DB32/9999-2026",
        "name": "测试标准",
        "level": "national",
        "medium": "water",
        "limits": limits,
    }


def test_api_refuses_a_standard_without_limits(world: Any, api_for: Any) -> None:
    response = api_for("admin").post("/api/registry/emissionstandard/", _standard([]), format="json")
    assert response.status_code == 400 and "limits" in response.json()["errors"]
    assert not EmissionStandard.objects.filter(code="DB32/9999-2026").exists()


def test_api_refuses_an_unknown_pollutant_code(world: Any, api_for: Any) -> None:
    limit = {"pollutant": "w99999", "limit_value": "10", "unit": "mg/L"}
    response = api_for("admin").post("/api/registry/emissionstandard/", _standard([limit]), format="json")
    assert response.status_code == 400 and "limits" in response.json()["errors"]
    assert not EmissionStandard.objects.filter(code="DB32/9999-2026").exists()


def test_api_creates_a_standard_with_limits(world: Any, api_for: Any) -> None:
    limit = {"pollutant": "w01018", "limit_value": "40", "unit": "mg/L", "discharge_mode": "direct"}
    response = api_for("admin").post("/api/registry/emissionstandard/", _standard([limit]), format="json")
    assert response.status_code == 201, response.json()
    assert EmissionStandard.objects.get(code="DB32/9999-2026").limits.count() == 1


def test_ui_refuses_a_standard_without_limits(world: Any, client_for: Any) -> None:
    data = {
        "code": "DB32/8888-2026", "name": "无限值标准", "level": "national", "medium": "water",
        "limits-TOTAL_FORMS": "1", "limits-INITIAL_FORMS": "0", "limits-MIN_NUM_FORMS": "1", "limits-MAX_NUM_FORMS": "1000",
        "limits-0-pollutant": "", "limits-0-limit_value": "", "limits-0-unit": "",
        "limits-0-discharge_mode": "any", "limits-0-averaging": "hour",
    }  # fmt: skip
    response = client_for("admin").post("/registry/emissionstandard/new/", data)
    assert response.status_code == 200
    assert "formset-errors" in response.content.decode()
    assert not EmissionStandard.objects.filter(code="DB32/8888-2026").exists()


def test_loader_refuses_a_standard_without_limits(world: Any) -> None:
    text = (
        '{"standards": [{"code": "X-1", "name": "x", "level": "national", "medium": "water", "limits": []}]}'
    )
    with pytest.raises(ServiceError, match="没有任何限值"):
        services.load_standards(text)
    assert not EmissionStandard.objects.filter(code="X-1").exists()


def test_loader_refuses_unknown_pollutant_and_changes_nothing(world: Any) -> None:
    before = model_to_dict(EmissionStandard.objects.get(code="GB 8978-1996"))
    text = (
        '{"standards": [{"code": "GB 8978-1996", "name": "改名", "level": "national", "medium": "water",'
        ' "limits": [{"pollutant": "zz0000", "value": "1", "unit": "mg/L"}]}]}'
    )
    with pytest.raises(ServiceError, match="未知的污染物编码「zz0000」"):
        services.load_standards(text)
    assert model_to_dict(EmissionStandard.objects.get(code="GB 8978-1996")) == before


def test_jurisdiction_loader_accepts_a_national_list_and_refuses_bad_codes(world: Any) -> None:
    created = services.load_jurisdictions(
        "code,name\n429000,省直辖县级行政区划\n429004,仙桃市\n420100,武汉市\n"
    )
    assert created == 3
    assert Jurisdiction.objects.get(code="429004").parent.code == "429000"
    with pytest.raises(ServiceError, match="应为6位数字"):
        services.load_jurisdictions("code,name\n12345,坏代码\n")


def test_precedence_local_before_industry_before_national(world: Any) -> None:
    from totalcap.registry.models import Pollutant

    services.load_jurisdictions("code,name\n210000,辽宁省\n211200,铁岭市\n211221,铁岭县\n")
    cod = Pollutant.objects.get(code="w01018")
    candidates = services.candidate_limits(
        cod,
        industry=Industry.objects.get(code="1352"),
        jurisdiction=Jurisdiction.objects.get(code="211221"),
        discharge_mode="direct",
    )
    assert [c.standard.code for c in candidates] == ["DB21/1627-2008", "GB 13457-92", "GB 8978-1996"]
    best = services.applicable_limit(
        cod, industry=Industry.objects.get(code="1352"), jurisdiction=Jurisdiction.objects.get(code="211221")
    )
    assert best is not None and best.limit.limit_value == 50
    elsewhere = services.applicable_limit(
        cod, industry=Industry.objects.get(code="1352"), jurisdiction=Jurisdiction.objects.get(code="321202")
    )
    assert elsewhere is not None and elsewhere.standard.code == "GB 13457-92"
