"""The four-client matrix on every monitoring page and endpoint.

anonymous → login / 401; no permission → 403; permission in another jurisdiction → not listed / 404 /
refused without change; permission in its own jurisdiction → allowed.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from openpyxl import Workbook

from tests.monitoring.conftest import at, feed_hours, recompute, water
from totalcap.monitoring.models import (
    AccountingPlan,
    DayValue,
    DeviceState,
    EmissionHourLog,
    EmissionTotal,
    ManualMeasurement,
    MonthValue,
    OutletMonitoringConfig,
    ReviewAction,
    RuleSet,
    Substitution,
    Suspicion,
)
from totalcap.monitoring.services import review, states
from totalcap.registry.models import Outlet

HOUR = dt.timedelta(hours=1)
H = at(14, 9)


@dataclass
class Data:
    own: Outlet
    other: Outlet

    def first(self, model: Any, outlet: Outlet | None = None) -> Any:
        return model.objects.filter(outlet=outlet or self.own).order_by("pk").first()


@pytest.fixture
def data(world: Any) -> Data:
    own, other = water(world.e_own), water(world.e_other)
    admin = world.user("admin")
    for outlet in (own, other):
        feed_hours(outlet, "w01018", at(14, 8), [40, None, 40])
        feed_hours(outlet, "w00000", at(14, 8), [10, 10, 10])
        states.record_device_states(outlet.loggers.get(), [states.StateObservation("i12001", "0", at(14, 8))])
        ManualMeasurement.objects.create(outlet=outlet, pollutant_id="w01018", kind="self", sampled_at=at(13, 9),
                                         concentration=Decimal(33))  # fmt: skip
        OutletMonitoringConfig.objects.create(outlet=outlet)
        AccountingPlan.objects.create(outlet=outlet, pollutant_id="w21011", automatic_required=False)
        recompute(outlet, at(14, 8), at(14, 11))
        review.create_review(admin, outlet=outlet, pollutant="w01018", kind="invalidate", start=at(14, 10),
                             end=at(14, 11), reason="矩阵测试")  # fmt: skip
    return Data(own, other)


# --- UI: lists ------------------------------------------------------------------------------------

LISTS: dict[str, Callable[[Data], str]] = {
    "dayvalue": lambda d: d.first(DayValue).get_absolute_url(),
    "monthvalue": lambda d: d.first(MonthValue).get_absolute_url(),
    "emissiontotal": lambda d: d.first(EmissionTotal).get_absolute_url(),
    "emissionhourlog": lambda d: d.first(EmissionHourLog).get_absolute_url(),
    "substitution": lambda d: d.first(Substitution).get_absolute_url(),
    "reviewaction": lambda d: d.first(ReviewAction).get_absolute_url(),
    "manualmeasurement": lambda d: d.first(ManualMeasurement).get_absolute_url(),
    "suspicion": lambda d: d.first(Suspicion).get_absolute_url(),
    "outletmonitoringconfig": lambda d: d.first(OutletMonitoringConfig).get_absolute_url(),
    "accountingplan": lambda d: d.first(AccountingPlan).get_absolute_url(),
    "devicestate": lambda d: d.own.loggers.get().mn,
    "hourvalue": lambda d: f"/monitoring/outlet/{d.own.pk}/hour/w01018/2026101409/",
    "sample": lambda d: d.own.loggers.get().mn,
}


@pytest.mark.parametrize("name", list(LISTS))
def test_ui_lists(name: str, data: Data, client_for: Any) -> None:
    url = f"/monitoring/{name}/"
    marker = LISTS[name](data)
    assert client_for(None).get(url).status_code == 302
    assert client_for("noperm").get(url).status_code == 403
    other = client_for("county_other").get(url)
    own = client_for("county").get(url)
    assert other.status_code == own.status_code == 200
    assert marker in own.content.decode() and marker not in other.content.decode()
    export = client_for("county").get(url + "?_export=xlsx")
    assert export.status_code == 200 and export["Content-Type"].startswith("application/vnd.openxmlformats")


DETAILS: dict[str, Callable[[Data], Any]] = {
    "dayvalue": lambda d: d.first(DayValue),
    "monthvalue": lambda d: d.first(MonthValue),
    "emissiontotal": lambda d: EmissionTotal.objects.filter(outlet=d.own, period="month").first(),
    "emissionhourlog": lambda d: d.first(EmissionHourLog),
    "substitution": lambda d: d.first(Substitution),
    "reviewaction": lambda d: d.first(ReviewAction),
    "manualmeasurement": lambda d: d.first(ManualMeasurement),
    "suspicion": lambda d: d.first(Suspicion),
    "outletmonitoringconfig": lambda d: d.first(OutletMonitoringConfig),
    "accountingplan": lambda d: d.first(AccountingPlan),
    "devicestate": lambda d: DeviceState.objects.filter(outlet=d.own).first(),
}


@pytest.mark.parametrize("name", list(DETAILS))
def test_ui_details(name: str, data: Data, client_for: Any) -> None:
    url = DETAILS[name](data).get_absolute_url()
    assert client_for(None).get(url).status_code == 302
    assert client_for("noperm").get(url).status_code == 403
    assert client_for("county_other").get(url).status_code == 404
    assert client_for("county").get(url).status_code == 200


OUTLET_PAGES = [
    "/monitoring/outlet/{pk}/",
    "/monitoring/outlet/{pk}/calendar/?month=2026-10&pollutant=w01018",
    "/monitoring/outlet/{pk}/hour/w01018/2026101410/",
]


@pytest.mark.parametrize("pattern", OUTLET_PAGES, ids=["charts", "calendar", "hour"])
def test_ui_outlet_pages(pattern: str, data: Data, client_for: Any) -> None:
    url = pattern.format(pk=data.own.pk)
    assert client_for(None).get(url).status_code == 302
    assert client_for("noperm").get(url).status_code == 403
    assert client_for("county_other").get(url).status_code == 404
    assert client_for("ent_other").get(url).status_code == 404
    for user in ("county", "ent", "city", "province"):
        assert client_for(user).get(url).status_code == 200, user
    if "?" in url or "hour" in url:
        export = client_for("county").get(url + ("&" if "?" in url else "?") + "_export=xlsx")
        assert export.status_code == 200


@pytest.mark.parametrize(
    "url", ["/monitoring/", "/monitoring/rates/?month=2026-10"], ids=["overview", "rates"]
)
def test_ui_outlet_summaries(url: str, data: Data, client_for: Any) -> None:
    marker = f"/monitoring/outlet/{data.own.pk}/"
    assert client_for(None).get(url).status_code == 302
    assert client_for("noperm").get(url).status_code == 403
    assert marker not in client_for("county_other").get(url).content.decode()
    assert marker in client_for("county").get(url).content.decode()
    assert client_for("county").get(url + ("&" if "?" in url else "?") + "_export=xlsx").status_code == 200


# --- UI: writes ---------------------------------------------------------------------------------------


def test_ui_review_create_and_revert(data: Data, client_for: Any) -> None:
    url = "/monitoring/reviewaction/new/"
    payload = {"outlet": data.own.pk, "pollutant": "w01018", "level": "hour", "kind": "invalidate",
               "start": "2026-10-14T08:00", "end": "2026-10-14T09:00", "reason": "现场核查：仪器故障"}  # fmt: skip
    before = ReviewAction.objects.count()
    assert client_for(None).post(url, payload).status_code == 302
    assert client_for("noperm").post(url, payload).status_code == 403
    refused = client_for("county_other").post(url, payload)
    assert refused.status_code == 200 and "is-invalid" in refused.content.decode()
    assert ReviewAction.objects.count() == before
    assert client_for("county").post(url, payload).status_code == 302
    created = ReviewAction.objects.latest("pk")
    revert = f"/monitoring/reviewaction/{created.pk}/revert/"
    assert client_for(None).post(revert, {"reason": "x"}).status_code == 302
    assert client_for("noperm").post(revert, {"reason": "x"}).status_code == 403
    assert client_for("county_other").post(revert, {"reason": "x"}).status_code == 404
    assert ReviewAction.objects.get(pk=created.pk).status == "active"
    assert client_for("county").post(revert, {"reason": "误判"}).status_code == 302
    assert ReviewAction.objects.get(pk=created.pk).status == "reverted"


def test_ui_suspicion_action(data: Data, client_for: Any) -> None:
    suspicion = data.first(Suspicion)
    url = f"/monitoring/suspicion/{suspicion.pk}/dismiss/"
    assert client_for(None).post(url).status_code == 302
    assert client_for("noperm").post(url).status_code == 403
    assert client_for("ent").post(url).status_code == 403
    assert client_for("county_other").post(url).status_code == 404
    assert Suspicion.objects.get(pk=suspicion.pk).status == "open"
    assert client_for("county").post(url, {"note": "已核实"}).status_code == 302
    assert Suspicion.objects.get(pk=suspicion.pk).status == "dismissed"


EDITABLE = {
    "manualmeasurement": (
        lambda d: {
            "outlet": d.own.pk,
            "pollutant": "w21003",
            "kind": "self",
            "sampled_at": "2026-10-14T10:00",
            "concentration": "2.5",
            "unit": "mg/L",
        },
        "concentration",
        "3.5",
    ),
    "accountingplan": (
        lambda d: {
            "outlet": d.own.pk,
            "pollutant": "w21001",
            "automatic_required": "on",
            "manual_validity_days": 31,
        },
        "untreated_kg_h",
        "1.5",
    ),
}


@pytest.mark.parametrize("name", list(EDITABLE))
def test_ui_create_update_delete(name: str, data: Data, client_for: Any) -> None:
    payload_of, field, new_value = EDITABLE[name]
    model = {"manualmeasurement": ManualMeasurement, "accountingplan": AccountingPlan}[name]
    url = f"/monitoring/{name}/new/"
    payload = payload_of(data)
    count = model.objects.count()
    assert client_for(None).post(url, payload).status_code == 302
    assert client_for("noperm").post(url, payload).status_code == 403
    refused = client_for("county_other").post(url, payload)
    assert refused.status_code == 200 and model.objects.count() == count
    created = client_for("county").post(url, payload)
    assert created.status_code == 302, created.content.decode()[:2000]
    obj = model.objects.latest("pk")
    edit = f"/monitoring/{name}/{obj.pk}/edit/"
    changed = dict(payload, **{field: new_value})
    assert client_for("county_other").post(edit, changed).status_code == 404
    assert client_for("county").post(edit, changed).status_code == 302
    obj.refresh_from_db()
    assert str(getattr(obj, field)).rstrip("0").rstrip(".") == new_value.rstrip("0").rstrip(".")
    delete = f"/monitoring/{name}/{obj.pk}/delete/"
    assert client_for("noperm").post(delete).status_code == 403
    assert client_for("county_other").post(delete).status_code == 404
    assert client_for("county").post(delete).status_code == 302
    assert not model.objects.filter(pk=obj.pk).exists()


def test_ui_config_update(data: Data, client_for: Any) -> None:
    config = data.first(OutletMonitoringConfig)
    url = f"/monitoring/outletmonitoringconfig/{config.pk}/edit/"
    payload = {"outlet": data.own.pk, "minute_interval": 5, "concentration_basis": "dry", "flow_basis": "standard_dry",
               "atmospheric_kpa": "101.325", "measuring_ranges": '{"w01018": [0, 500]}', "ppm_pollutants": "[]"}  # fmt: skip
    assert client_for(None).post(url, payload).status_code == 302
    assert client_for("noperm").post(url, payload).status_code == 403
    assert client_for("county_other").post(url, payload).status_code == 404
    assert client_for("county").post(url, payload).status_code == 302
    config.refresh_from_db()
    assert config.minute_interval == 5 and config.measuring_ranges == {"w01018": [0, 500]}
    bad = dict(payload, measuring_ranges='{"w01018": [500, 0]}')
    assert "上限应大于下限" in client_for("county").post(url, bad).content.decode()


def _workbook(world: Any) -> bytes:
    book = Workbook()
    book.active.append([c[0] for c in review.MANUAL_COLUMNS])
    book.active.append([world.e_own.credit_code, "DW001", "w01018", "执法监测", "2026-10-14 10:00", 35.2])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_ui_manual_import(data: Data, world: Any, client_for: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    url = "/monitoring/manualmeasurement/import/"

    def upload() -> dict[str, Any]:
        return {"file": SimpleUploadedFile("m.xlsx", _workbook(world))}

    count = ManualMeasurement.objects.count()
    assert client_for(None).post(url, upload()).status_code == 302
    assert client_for("noperm").post(url, upload()).status_code == 403
    refused = client_for("county_other").post(url, upload())
    assert refused.status_code == 200 and "不在您的管辖范围内" in refused.content.decode()
    assert ManualMeasurement.objects.count() == count
    assert client_for("county").post(url, upload()).status_code == 302
    assert ManualMeasurement.objects.count() == count + 1
    assert client_for("county").get("/monitoring/manualmeasurement/template.xlsx").status_code == 200


def test_ui_rulesets(data: Data, client_for: Any) -> None:
    ruleset = RuleSet.objects.get(kind="validity", code="hj356-2019", version=1)
    assert client_for(None).get("/monitoring/ruleset/").status_code == 302
    assert client_for("noperm").get("/monitoring/ruleset/").status_code == 403
    assert client_for("county").get(ruleset.get_absolute_url()).status_code == 200
    publish = "/monitoring/ruleset/publish/"
    form = {"kind": "validity", "code": "hj356-2019", "name": "试行", "medium": "water",
            "params": '{"min_valid_hours_per_day": 18}'}  # fmt: skip
    assert client_for("county").post(publish, form).status_code == 403
    assert client_for("admin").post(publish, form).status_code == 302
    assert RuleSet.objects.filter(code="hj356-2019", version=2).exists()


# --- API ------------------------------------------------------------------------------------------

API_LISTS: dict[str, Callable[[Data], Any]] = {
    "dayvalue": lambda d: ("id", d.first(DayValue).pk),
    "monthvalue": lambda d: ("id", d.first(MonthValue).pk),
    "emissiontotal": lambda d: ("id", d.first(EmissionTotal).pk),
    "emissionhourlog": lambda d: ("id", d.first(EmissionHourLog).pk),
    "substitution": lambda d: ("id", d.first(Substitution).pk),
    "reviewaction": lambda d: ("id", d.first(ReviewAction).pk),
    "manualmeasurement": lambda d: ("id", d.first(ManualMeasurement).pk),
    "suspicion": lambda d: ("id", d.first(Suspicion).pk),
    "outletmonitoringconfig": lambda d: ("id", d.first(OutletMonitoringConfig).pk),
    "accountingplan": lambda d: ("id", d.first(AccountingPlan).pk),
    "devicestate": lambda d: ("id", DeviceState.objects.filter(outlet=d.own).first().pk),
    "sample": lambda d: ("outlet", d.own.pk),
    "hourvalue": lambda d: ("outlet", d.own.pk),
    "emissionhour": lambda d: ("outlet", d.own.pk),
}


@pytest.mark.parametrize("name", list(API_LISTS))
def test_api_lists(name: str, data: Data, api_for: Any) -> None:
    url = f"/api/monitoring/{name}/?page_size=500"
    key, own_value = API_LISTS[name](data)
    assert api_for(None).get(url).status_code == 401
    assert api_for("noperm").get(url).status_code == 403
    other = {row[key] for row in api_for("county_other").get(url).json()["results"]}
    own = {row[key] for row in api_for("county").get(url).json()["results"]}
    assert own_value in own and own_value not in other


@pytest.mark.parametrize("name", [n for n in API_LISTS if n not in {"sample", "hourvalue", "emissionhour"}])
def test_api_retrieve(name: str, data: Data, api_for: Any) -> None:
    _key, pk = API_LISTS[name](data)
    url = f"/api/monitoring/{name}/{pk}/"
    assert api_for(None).get(url).status_code == 401
    assert api_for("noperm").get(url).status_code == 403
    assert api_for("county_other").get(url).status_code == 404
    assert api_for("county").get(url).status_code == 200


OUTLET_ENDPOINTS = [
    "/api/monitoring/outlets/{pk}/series/?kind=h&pollutant=w01018&start=2026-10-14&end=2026-10-15",
    "/api/monitoring/outlets/{pk}/series/?kind=m&pollutant=w01018&start=2026-10-14&end=2026-10-15",
    "/api/monitoring/outlets/{pk}/series/?kind=d&pollutant=w01018&start=2026-10-01&end=2026-10-31",
    "/api/monitoring/outlets/{pk}/calendar/?month=2026-10&pollutant=w01018",
    "/api/monitoring/outlets/{pk}/hours/w01018/2026101410/",
    "/api/monitoring/outlets/{pk}/amounts/?pollutant=w01018&start=2026-10-14&end=2026-10-15",
]


@pytest.mark.parametrize(
    "pattern", OUTLET_ENDPOINTS, ids=["hours", "minutes", "days", "calendar", "hour", "amounts"]
)
def test_api_outlet_endpoints(pattern: str, data: Data, api_for: Any) -> None:
    url = pattern.format(pk=data.own.pk)
    assert api_for(None).get(url).status_code == 401
    assert api_for("noperm").get(url).status_code == 403
    assert api_for("county_other").get(url).status_code == 404
    response = api_for("county").get(url)
    assert response.status_code == 200, response.json()


def test_api_series_content(data: Data, api_for: Any) -> None:
    body = (
        api_for("ent")
        .get(
            f"/api/monitoring/outlets/{data.own.pk}/series/?kind=h&pollutant=w01018&start=2026-10-14&end=2026-10-15"
        )
        .json()
    )
    points = {p["t"]: p for p in body["points"]}
    hour = points["2026-10-14T02:00:00+00:00"]  # 10:00 Beijing: invalidated by review, substituted
    assert hour["status"] == "i" and hour["flag"] == "R" and hour["substituted"]
    assert body["limit"]["value"] is not None


def test_api_rates_and_increments(data: Data, api_for: Any) -> None:
    for url, key in (
        ("/api/monitoring/rates/?month=2026-10", "id"),
        ("/api/monitoring/increments/?after=0", "outlet"),
    ):
        assert api_for(None).get(url).status_code == 401
        assert api_for("noperm").get(url).status_code == 403
        body = api_for("county_other").get(url).json()
        rows = body["results"] if isinstance(body, dict) else body
        assert data.own.pk not in {r[key] for r in rows}
        body = api_for("county").get(url).json()
        rows = body["results"] if isinstance(body, dict) else body
        assert data.own.pk in {r[key] for r in rows}


def test_api_recompute(data: Data, api_for: Any) -> None:
    url = f"/api/monitoring/outlets/{data.own.pk}/recompute/"
    body = {"start": "2026-10-14T08:00:00+08:00", "end": "2026-10-14T11:00:00+08:00"}
    assert api_for(None).post(url, body, format="json").status_code == 401
    assert api_for("noperm").post(url, body, format="json").status_code == 403
    assert api_for("ent").post(url, body, format="json").status_code == 403
    assert api_for("county_other").post(url, body, format="json").status_code == 404
    response = api_for("county").post(url, body, format="json")
    assert response.status_code == 200 and response.json()["hours"] > 0
    assert (
        api_for("county").post(url, {"start": body["end"], "end": body["start"]}, format="json").status_code
        == 400
    )


def test_api_review_create_and_revert(data: Data, api_for: Any) -> None:
    url = "/api/monitoring/reviewaction/"
    body = {"outlet": data.own.pk, "pollutant": "w01018", "kind": "correct", "value": "44", "level": "hour",
            "start": "2026-10-14T08:00:00+08:00", "end": "2026-10-14T09:00:00+08:00", "reason": "比对监测"}  # fmt: skip
    count = ReviewAction.objects.count()
    assert api_for(None).post(url, body, format="json").status_code == 401
    assert api_for("noperm").post(url, body, format="json").status_code == 403
    refused = api_for("county_other").post(url, body, format="json")
    assert refused.status_code == 400 and "outlet" in refused.json()["errors"]
    assert ReviewAction.objects.count() == count
    created = api_for("ent").post(url, body, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["by_enterprise"] is True
    revert = f"{url}{created.json()['id']}/revert/"
    assert api_for("county_other").post(revert, {"reason": "x"}, format="json").status_code == 404
    assert api_for("ent").post(revert, {"reason": "录入错误"}, format="json").status_code == 200
    missing = api_for("county").post(url, dict(body, kind="correct", value=None), format="json")
    assert missing.status_code == 400 and missing.json()["code"] == "invalid"


def test_api_manual_writes(data: Data, api_for: Any) -> None:
    url = "/api/monitoring/manualmeasurement/"
    body = {"outlet": data.own.pk, "pollutant": "w21003", "kind": "self", "sampled_at": "2026-10-14T10:00:00+08:00",
            "concentration": "2.5"}  # fmt: skip
    count = ManualMeasurement.objects.count()
    assert api_for(None).post(url, body, format="json").status_code == 401
    assert api_for("noperm").post(url, body, format="json").status_code == 403
    assert api_for("county_other").post(url, body, format="json").status_code == 400
    assert api_for("ent").post(url, dict(body, kind="enforcement"), format="json").status_code == 403
    assert ManualMeasurement.objects.count() == count
    created = api_for("ent").post(url, body, format="json")
    assert created.status_code == 201, created.json()
    item = f"{url}{created.json()['id']}/"
    assert api_for("county_other").patch(item, {"concentration": "9"}, format="json").status_code == 404
    assert api_for("county").patch(item, {"concentration": "9"}, format="json").status_code == 200
    assert api_for("county_other").delete(item).status_code == 404
    assert api_for("county").delete(item).status_code == 204
    assert api_for("county").get(f"{url}template/").status_code == 200


def test_api_suspicion_and_ruleset_actions(data: Data, api_for: Any) -> None:
    suspicion = data.first(Suspicion)
    url = f"/api/monitoring/suspicion/{suspicion.pk}/confirm/"
    assert api_for(None).post(url, {}, format="json").status_code == 401
    assert api_for("noperm").post(url, {}, format="json").status_code == 403
    assert api_for("ent").post(url, {}, format="json").status_code == 403
    assert api_for("county_other").post(url, {}, format="json").status_code == 404
    assert api_for("county").post(url, {"note": "确认"}, format="json").status_code == 200
    publish = "/api/monitoring/ruleset/publish/"
    body = {"kind": "screening", "code": "screening-water", "name": "收紧", "medium": "water",
            "params": {"missing": {"min_hours": 1}}}  # fmt: skip
    assert api_for(None).post(publish, body, format="json").status_code == 401
    assert api_for("county").post(publish, body, format="json").status_code == 403
    assert api_for("admin").post(publish, body, format="json").status_code == 201
