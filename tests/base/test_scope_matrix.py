"""The four-client matrix on every registry page and endpoint.

For each model and each of list, detail, create, update and delete, through the UI and the API:
anonymous → login / 401; no permission → 403; permission in another jurisdiction → not listed,
404, or the write refused; permission in its own jurisdiction → allowed. Every refused write is
checked to have changed nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import models
from django.forms.models import model_to_dict

from totalcap.registry.models import (
    Camera,
    DataLogger,
    Enterprise,
    EnterpriseContact,
    Industry,
    Jurisdiction,
    Outlet,
    Valve,
)
from totalcap.registry.validators import make_credit_code


def water(e: Enterprise) -> Outlet:
    return e.outlets.get(code="DW001")


def water_logger(e: Enterprise) -> DataLogger:
    return water(e).loggers.get()


@dataclass
class Spec:
    model: type[models.Model]
    own: Callable[[Any], models.Model]  # an existing object in the own jurisdiction
    payload: Callable[[Any], dict[str, Any]]  # a valid new object in the own jurisdiction
    fresh: Callable[[Any], models.Model]  # a deletable object in the own jurisdiction
    users: dict[str, tuple[str, str]] = field(default_factory=dict)  # action → (own, other)

    @property
    def name(self) -> str:
        return str(self.model._meta.model_name)

    def pair(self, action: str) -> tuple[str, str]:
        return self.users.get(action, ("county", "county_other"))


def _enterprise_payload(w: Any) -> dict[str, Any]:
    return {
        "credit_code": make_credit_code("91", "321202", "MA7Q8R9T"),
        "name": "新建测试化工有限公司",
        "short_name": "新建化工",
        "address": "海陵区",
        "longitude": "119.910000",
        "latitude": "32.460000",
        "industry": Industry.objects.get(code="2614").pk,
        "jurisdiction": Jurisdiction.objects.get(code="321202").pk,
        "management_class": "key",
        "legal_representative": "李四",
        "status": "operating",
    }


def _fresh_enterprise(w: Any) -> Enterprise:
    data = _enterprise_payload(w)
    data["industry"] = Industry.objects.get(pk=data["industry"])
    data["jurisdiction"] = Jurisdiction.objects.get(pk=data["jurisdiction"])
    return Enterprise.objects.create(**data)


SPECS = [
    Spec(
        Enterprise,
        own=lambda w: w.e_own,
        payload=_enterprise_payload,
        fresh=_fresh_enterprise,
        users={"delete": ("city", "city_other")},
    ),
    Spec(
        EnterpriseContact,
        own=lambda w: w.e_own.contacts.first(),
        payload=lambda w: {"enterprise": w.e_own.pk, "name": "王五", "title": "厂长", "phone": "0523-86888888", "email": ""},
        fresh=lambda w: EnterpriseContact.objects.create(enterprise=w.e_own, name="临时", phone="13900000000"),
    ),
    Spec(
        Outlet,
        own=lambda w: water(w.e_own),
        payload=lambda w: {
            "enterprise": w.e_own.pk, "code": "DW002", "name": "生活污水排口", "medium": "water", "category": "general",
            "discharge_mode": "direct", "destination": "", "source_type": "", "status": "active",
        },
        fresh=lambda w: Outlet.objects.create(enterprise=w.e_own, code="YS001", name="雨水排口", medium="water"),
        users={"delete": ("city", "city_other")},
    ),
    Spec(
        DataLogger,
        own=lambda w: water_logger(w.e_own),
        payload=lambda w: {
            "mn": "AABBCCDDEEFF001122334455", "name": "新数采仪", "outlet": water(w.e_own).pk, "password": "654321",
            "protocol_version": "2017", "crc_mode": "hj212", "system_code": "32", "overtime_seconds": 10,
            "recount": 3, "manufacturer": "", "model_name": "", "status": "active",
        },
        fresh=lambda w: DataLogger.objects.create(mn="FFEEDDCCBBAA998877665544", outlet=water(w.e_own), password="1"),
        users={"delete": ("city", "city_other")},
    ),
    Spec(
        Valve,
        own=lambda w: water(w.e_own).valves.get(),
        payload=lambda w: {"outlet": water(w.e_own).pk, "logger": water_logger(w.e_own).pk, "code": "V02", "name": "备用阀"},
        fresh=lambda w: water(w.e_own).valves.get(),
        users={"delete": ("city", "city_other")},
    ),
    Spec(
        Camera,
        own=lambda w: w.e_own.cameras.get(),
        payload=lambda w: {"enterprise": w.e_own.pk, "code": "CAM9", "name": "排口摄像头", "location": "outlet", "stream_url": ""},
        fresh=lambda w: w.e_own.cameras.get(),
        users={"delete": ("city", "city_other")},
    ),
]  # fmt: skip
IDS = [s.name for s in SPECS]


def snapshot(model: type[models.Model]) -> list[dict[str, Any]]:
    return [model_to_dict(o) for o in model._default_manager.order_by("pk")]


def form_data(payload: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if v is not None}


# --- UI -------------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_ui_list(spec: Spec, world: Any, client_for: Any) -> None:
    url = f"/registry/{spec.name}/"
    own_obj, other_obj = spec.own(world), None
    assert client_for(None).get(url).status_code == 302
    assert client_for("noperm").get(url).status_code == 403
    own_user, other_user = spec.pair("view")
    body_other = client_for(other_user).get(url).content.decode()
    body_own = client_for(own_user).get(url).content.decode()
    marker = own_obj.get_absolute_url()  # type: ignore[attr-defined]
    assert marker in body_own
    assert marker not in body_other
    del other_obj


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_ui_detail(spec: Spec, world: Any, client_for: Any) -> None:
    url = spec.own(world).get_absolute_url()  # type: ignore[attr-defined]
    own_user, other_user = spec.pair("view")
    assert client_for(None).get(url).status_code == 302
    assert client_for("noperm").get(url).status_code == 403
    assert client_for(other_user).get(url).status_code == 404
    assert client_for(own_user).get(url).status_code == 200


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_ui_create(spec: Spec, world: Any, client_for: Any) -> None:
    url = f"/registry/{spec.name}/new/"
    data = form_data(spec.payload(world))
    own_user, other_user = spec.pair("add")
    before = snapshot(spec.model)
    assert client_for(None).post(url, data).status_code == 302
    assert client_for("noperm").post(url, data).status_code == 403
    refused = client_for(other_user).post(url, data)
    assert refused.status_code == 200 and "is-invalid" in refused.content.decode()
    assert snapshot(spec.model) == before
    created = client_for(own_user).post(url, data)
    assert created.status_code == 302, created.content.decode()[:3000]
    assert spec.model._default_manager.count() == len(before) + 1


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_ui_update(spec: Spec, world: Any, client_for: Any) -> None:
    obj = spec.own(world)
    url = f"/registry/{spec.name}/{obj.pk}/edit/"
    page = client_for("admin").get(url)
    form = page.context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None and k in form.fields}
    data = {
        k: ([x.pk if hasattr(x, "pk") else x for x in v] if isinstance(v, list) else v)
        for k, v in data.items()
    }
    data["name"] = "改名后的名称"
    own_user, other_user = spec.pair("change")
    before = snapshot(spec.model)
    assert client_for(None).post(url, data).status_code == 302
    assert client_for("noperm").post(url, data).status_code == 403
    assert client_for(other_user).post(url, data).status_code == 404
    assert snapshot(spec.model) == before
    response = client_for(own_user).post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    obj.refresh_from_db()
    assert obj.name == "改名后的名称"  # type: ignore[attr-defined]


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_ui_delete(spec: Spec, world: Any, client_for: Any) -> None:
    obj = spec.fresh(world)
    url = f"/registry/{spec.name}/{obj.pk}/delete/"
    own_user, other_user = spec.pair("delete")
    before = snapshot(spec.model)
    assert client_for(None).post(url).status_code == 302
    assert client_for("noperm").post(url).status_code == 403
    assert client_for(other_user).post(url).status_code == 404
    assert snapshot(spec.model) == before
    assert client_for(own_user).post(url).status_code == 302
    assert not spec.model._default_manager.filter(pk=obj.pk).exists()


# --- API ------------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_api_list(spec: Spec, world: Any, api_for: Any) -> None:
    url = f"/api/registry/{spec.name}/"
    own_obj = spec.own(world)
    assert api_for(None).get(url).status_code == 401
    assert api_for("noperm").get(url).status_code == 403
    own_user, other_user = spec.pair("view")
    other_ids = {row["id"] for row in api_for(other_user).get(url).json()["results"]}
    own_ids = {row["id"] for row in api_for(own_user).get(url).json()["results"]}
    assert own_obj.pk in own_ids
    assert own_obj.pk not in other_ids


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_api_retrieve(spec: Spec, world: Any, api_for: Any) -> None:
    url = f"/api/registry/{spec.name}/{spec.own(world).pk}/"
    own_user, other_user = spec.pair("view")
    assert api_for(None).get(url).status_code == 401
    assert api_for("noperm").get(url).status_code == 403
    assert api_for(other_user).get(url).status_code == 404
    assert api_for(own_user).get(url).status_code == 200


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_api_create(spec: Spec, world: Any, api_for: Any) -> None:
    url = f"/api/registry/{spec.name}/"
    data = spec.payload(world)
    own_user, other_user = spec.pair("add")
    before = snapshot(spec.model)
    assert api_for(None).post(url, data, format="json").status_code == 401
    assert api_for("noperm").post(url, data, format="json").status_code == 403
    refused = api_for(other_user).post(url, data, format="json")
    assert refused.status_code == 400
    assert refused.json()["errors"], refused.json()
    assert snapshot(spec.model) == before
    created = api_for(own_user).post(url, data, format="json")
    assert created.status_code == 201, created.json()
    assert spec.model._default_manager.count() == len(before) + 1


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_api_update(spec: Spec, world: Any, api_for: Any) -> None:
    obj = spec.own(world)
    url = f"/api/registry/{spec.name}/{obj.pk}/"
    own_user, other_user = spec.pair("change")
    before = snapshot(spec.model)
    patch = {"name": "接口改名"}
    assert api_for(None).patch(url, patch, format="json").status_code == 401
    assert api_for("noperm").patch(url, patch, format="json").status_code == 403
    assert api_for(other_user).patch(url, patch, format="json").status_code == 404
    assert snapshot(spec.model) == before
    response = api_for(own_user).patch(url, patch, format="json")
    assert response.status_code == 200, response.json()
    obj.refresh_from_db()
    assert obj.name == "接口改名"  # type: ignore[attr-defined]


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_api_delete(spec: Spec, world: Any, api_for: Any) -> None:
    obj = spec.fresh(world)
    url = f"/api/registry/{spec.name}/{obj.pk}/"
    own_user, other_user = spec.pair("delete")
    before = snapshot(spec.model)
    assert api_for(None).delete(url).status_code == 401
    assert api_for("noperm").delete(url).status_code == 403
    assert api_for(other_user).delete(url).status_code == 404
    assert snapshot(spec.model) == before
    assert api_for(own_user).delete(url).status_code == 204
    assert not spec.model._default_manager.filter(pk=obj.pk).exists()


# --- reference data (public: permission decides, not jurisdiction) --------------------------

REFERENCE = ["jurisdiction", "industry", "pollutant", "emissionstandard"]


@pytest.mark.parametrize("name", REFERENCE)
def test_reference_read(name: str, world: Any, client_for: Any, api_for: Any) -> None:
    assert client_for(None).get(f"/registry/{name}/").status_code == 302
    assert client_for("noperm").get(f"/registry/{name}/").status_code == 403
    assert client_for("county").get(f"/registry/{name}/").status_code == 200
    assert api_for(None).get(f"/api/registry/{name}/").status_code == 401
    assert api_for("noperm").get(f"/api/registry/{name}/").status_code == 403
    assert api_for("county").get(f"/api/registry/{name}/").status_code == 200


def test_jurisdictions_are_scoped_to_the_subtree(world: Any, api_for: Any) -> None:
    codes = {
        row["code"]
        for row in api_for("city").get("/api/registry/jurisdiction/?page_size=500").json()["results"]
    }
    assert "321202" in codes and "321200" in codes
    assert "320100" not in codes and "320000" not in codes


@pytest.mark.parametrize("name", ["jurisdiction", "industry", "pollutant"])
def test_reference_codes_are_read_only_in_api(name: str, world: Any, api_for: Any) -> None:
    assert api_for("admin").post(f"/api/registry/{name}/", {"code": "X"}, format="json").status_code == 405


def test_only_admin_edits_standards(world: Any, api_for: Any) -> None:
    from totalcap.registry.models import EmissionStandard

    std = EmissionStandard.objects.get(code="GB 8978-1996")
    url = f"/api/registry/emissionstandard/{std.pk}/"
    assert api_for("province").patch(url, {"note": "x"}, format="json").status_code == 403
    assert api_for("admin").patch(url, {"note": "核对原文"}, format="json").status_code == 200
