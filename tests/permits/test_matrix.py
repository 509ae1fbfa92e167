"""The four-client matrix on every permits page and endpoint.

anonymous → login (UI) / 401 (API); no permission → 403; permission in another jurisdiction (or the
other enterprise) → not listed, 404, or the write refused; permission in its own → allowed. Every
refused write is checked to have changed nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.db import models
from django.forms.models import model_to_dict
from django.utils import timezone

from tests.permits.conftest import TIELING, permit_in, user
from totalcap.permits import schedule, services
from totalcap.permits.models import (
    ExecutionReport,
    LimitCalculation,
    Permit,
    PermitItem,
    PermitVersion,
    Reminder,
    ReportRule,
    SpecialPeriodLimit,
)
from totalcap.registry.models import Pollutant


@dataclass
class Scene:
    permit: Permit
    issued: PermitVersion
    draft: PermitVersion
    item: PermitItem
    special: SpecialPeriodLimit
    report: ExecutionReport
    reminder: Reminder
    calc: LimitCalculation


@pytest.fixture
def scene(world: Any) -> Scene:
    """e_own: version 1 issued, version 2 a change draft with a special-period limit; a report, a
    reminder and a saved calculation."""
    permit = permit_in(world.e_own, "issued")
    issued = permit.versions.get()
    draft = services.start_change(user("ent"), permit, reason="环评批复调整", fact_date=timezone.localdate())
    item = draft.items.get(pollutant__code="w01018")
    special = services.save_special(
        user("ent"),
        SpecialPeriodLimit(
            version=draft, pollutant=item.pollutant, kind="alert", alert_level="red", daily_kg=Decimal(10)
        ),
    )
    report = ExecutionReport.objects.create(
        permit=permit, version=issued, kind="quarterly", period_start=dt.date(2026, 1, 1),
        period_end=dt.date(2026, 3, 31), due_date=dt.date(2026, 4, 15),
    )  # fmt: skip
    schedule.remind(
        permit, "report_overdue", f"report_overdue:{report.pk}", "一季度执行报告已逾期", report.due_date
    )
    reminder = Reminder.objects.get(permit=permit)
    calc = services.save_calculation(
        user("ent"), world.e_own, TIELING, outlet=item.outlet, pollutant=item.pollutant
    )
    permit.refresh_from_db()
    return Scene(permit, issued, draft, item, special, report, reminder, calc)


def snapshot(*model_classes: type[models.Model]) -> list[list[dict[str, Any]]]:
    return [[model_to_dict(o) for o in m._default_manager.order_by("pk")] for m in model_classes]


ALL = (Permit, PermitVersion, PermitItem, SpecialPeriodLimit, ExecutionReport, LimitCalculation)


# --- UI: lists and details --------------------------------------------------------------------------

READ: list[tuple[str, Callable[[Scene], Any]]] = [
    ("permit", lambda s: s.permit),
    ("permitversion", lambda s: s.draft),
    ("executionreport", lambda s: s.report),
    ("limitcalculation", lambda s: s.calc),
    ("reminder", lambda s: s.reminder),
]


@pytest.mark.parametrize(("name", "obj"), READ, ids=[n for n, _ in READ])
def test_ui_list(name: str, obj: Callable[[Scene], Any], scene: Scene, client_for: Any) -> None:
    url = f"/permits/{name}/"
    marker = obj(scene).get_absolute_url()
    assert client_for(None).get(url).status_code == 302
    assert client_for("noperm").get(url).status_code == 403
    for own, other in (("county", "county_other"), ("ent", "ent_other"), ("city", "city_other")):
        assert marker not in client_for(other).get(url).content.decode()
        body = client_for(own).get(url).content.decode()
        assert marker in body, (own, url)
    assert client_for("county").get(url + "?_export=xlsx").status_code == 200


DETAIL: list[tuple[str, Callable[[Scene], str]]] = [
    ("permit", lambda s: f"/permits/permit/{s.permit.pk}/"),
    ("version", lambda s: f"/permits/permitversion/{s.draft.pk}/"),
    ("issued-version", lambda s: f"/permits/permitversion/{s.issued.pk}/"),
    ("diff", lambda s: f"/permits/permitversion/{s.draft.pk}/diff/?against={s.issued.pk}"),
    ("report", lambda s: f"/permits/executionreport/{s.report.pk}/"),
    ("calculation", lambda s: f"/permits/limitcalculation/{s.calc.pk}/"),
    ("worksheet-xlsx", lambda s: f"/permits/limitcalculation/{s.calc.pk}/worksheet/?fmt=xlsx"),
    ("worksheet-pdf", lambda s: f"/permits/limitcalculation/{s.calc.pk}/worksheet/?fmt=pdf"),
]


@pytest.mark.parametrize(("name", "url"), DETAIL, ids=[n for n, _ in DETAIL])
def test_ui_detail(name: str, url: Callable[[Scene], str], scene: Scene, client_for: Any) -> None:
    target = url(scene)
    assert client_for(None).get(target).status_code == 302
    assert client_for("noperm").get(target).status_code == 403
    for own, other in (("county", "county_other"), ("ent", "ent_other"), ("city", "city_other")):
        assert client_for(other).get(target).status_code == 404
        assert client_for(own).get(target).status_code == 200


def test_reference_rules_are_public_to_those_with_the_permission(
    scene: Scene, client_for: Any, api_for: Any
) -> None:
    rule = ReportRule.objects.first()
    assert rule is not None
    for url in ("/permits/reportrule/", f"/permits/reportrule/{rule.pk}/"):
        assert client_for(None).get(url).status_code == 302
        assert client_for("noperm").get(url).status_code == 403
        assert client_for("county_other").get(url).status_code == 200
    assert api_for(None).get("/api/permits/reportrule/").status_code == 401
    assert api_for("noperm").get("/api/permits/reportrule/").status_code == 403
    assert api_for("ent_other").get("/api/permits/reportrule/").json()["count"] == ReportRule.objects.count()


# --- UI: writes ------------------------------------------------------------------------------------


def test_ui_open_application(world: Any, client_for: Any) -> None:
    url = "/permits/permit/new/"
    data = {"enterprise": world.e_own.pk, "management_class": "", "reason": "新建项目投产"}
    before = snapshot(*ALL)
    assert client_for(None).post(url, data).status_code == 302
    assert client_for("noperm").post(url, data).status_code == 403
    assert client_for("county").post(url, data).status_code == 403  # regulators do not apply
    refused = client_for("ent_other").post(url, data)
    assert refused.status_code == 200 and "is-invalid" in refused.content.decode()
    assert snapshot(*ALL) == before
    assert client_for("ent").get(url).status_code == 200
    created = client_for("ent").post(url, data)
    assert created.status_code == 302
    permit = Permit.objects.get(enterprise=world.e_own)
    assert created["Location"] == permit.versions.get().get_absolute_url()
    again = client_for("ent").post(url, data)
    assert again.status_code == 200 and "已有排污许可证" in again.content.decode()


def test_ui_permit_transition(scene: Scene, client_for: Any) -> None:
    url = f"/permits/permit/{scene.permit.pk}/do/suspend/"
    data = {"reason": "超标排放，责令限制生产"}
    before = snapshot(Permit)
    assert client_for(None).post(url, data).status_code == 302 and snapshot(Permit) == before
    assert client_for("noperm").post(url, data).status_code == 403
    assert client_for("city_other").post(url, data).status_code == 404
    assert client_for("county").post(url, data).status_code == 403  # no suspend permission
    assert client_for("city").get(url).status_code == 405
    assert snapshot(Permit) == before
    response = client_for("city").post(url, data, follow=True)
    assert response.status_code == 200 and "已暂停" in response.content.decode()
    assert Permit.objects.get(pk=scene.permit.pk).status == "suspended"
    # refused from this state: message, nothing changed
    again = client_for("city").post(url, data, follow=True)
    assert "不允许执行操作" in again.content.decode()
    assert Permit.objects.get(pk=scene.permit.pk).status == "suspended"
    assert client_for("city").post(f"/permits/permit/{scene.permit.pk}/do/fly/", data).status_code == 404


def test_ui_version_transition(scene: Scene, client_for: Any) -> None:
    url = f"/permits/permitversion/{scene.draft.pk}/do/submit/"
    before = snapshot(PermitVersion)
    assert client_for(None).post(url).status_code == 302
    assert client_for("noperm").post(url).status_code == 403
    assert client_for("ent_other").post(url).status_code == 404
    assert client_for("county").post(url).status_code == 403
    assert snapshot(PermitVersion) == before
    assert client_for("ent").post(url).status_code == 302
    assert PermitVersion.objects.get(pk=scene.draft.pk).status == "submitted"
    refuse = f"/permits/permitversion/{scene.draft.pk}/do/refuse/"
    page = client_for("county").post(refuse, {"reason": ""}, follow=True)
    assert "请填写原因或意见" in page.content.decode()
    assert PermitVersion.objects.get(pk=scene.draft.pk).status == "submitted"


def test_ui_start_applications(scene: Scene, client_for: Any) -> None:
    # scene has an open change draft: withdraw it first, then start a renewal
    client_for("ent").post(f"/permits/permitversion/{scene.draft.pk}/do/withdraw/")
    url = f"/permits/permit/{scene.permit.pk}/apply/renewal/"
    before = snapshot(PermitVersion)
    assert client_for(None).post(url).status_code == 302
    assert client_for("noperm").post(url).status_code == 403
    assert client_for("ent_other").post(url).status_code == 404
    assert client_for("county").post(url).status_code == 403
    assert snapshot(PermitVersion) == before
    assert client_for("ent").post(url, {"reason": "届满延续"}).status_code == 302
    assert scene.permit.versions.filter(kind="renewal", status="draft").exists()
    change = client_for("ent").post(
        f"/permits/permit/{scene.permit.pk}/apply/change/",
        {"reason": "x", "fact_date": "2026-01-01"},
        follow=True,
    )
    assert "已有办理中的申请" in change.content.decode()


def item_form(scene: Scene, **changes: Any) -> dict[str, Any]:
    data = {
        "outlet": scene.item.outlet_id, "pollutant": Pollutant.objects.get(code="w21011").pk, "standard_limit": "",
        "concentration_limit": "0.5", "concentration_unit": "mg/L", "standard_name": "", "eia_t": "0.3",
        "monitoring_mode": "manual", "monitoring_frequency": "1次/月", "note": "",
    }  # fmt: skip
    data.update(changes)
    return data


def test_ui_item_create_update_delete(scene: Scene, client_for: Any) -> None:
    create = f"/permits/permitversion/{scene.draft.pk}/item/new/"
    before = snapshot(PermitItem)
    assert client_for(None).post(create, item_form(scene)).status_code == 302
    assert client_for("noperm").post(create, item_form(scene)).status_code == 403
    assert client_for("ent_other").post(create, item_form(scene)).status_code == 404
    refused = client_for("county").post(create, item_form(scene))  # drafts are the applicant's
    assert refused.status_code == 200 and "由申请单位填写" in refused.content.decode()
    assert snapshot(PermitItem) == before
    assert client_for("ent").get(create).status_code == 200
    assert client_for("ent").post(create, item_form(scene)).status_code == 302
    created = scene.draft.items.get(pollutant__code="w21011")
    assert created.annual_t == Decimal("0.3")

    update = f"/permits/permititem/{created.pk}/edit/"
    before = snapshot(PermitItem)
    assert client_for(None).post(update, item_form(scene, eia_t="0.2")).status_code == 302
    assert client_for("noperm").post(update, item_form(scene, eia_t="0.2")).status_code == 403
    assert client_for("ent_other").post(update, item_form(scene, eia_t="0.2")).status_code == 404
    bad = client_for("ent").post(update, item_form(scene, eia_t="-1"))
    assert bad.status_code == 200 and "is-invalid" in bad.content.decode()
    assert snapshot(PermitItem) == before
    assert client_for("ent").get(update).status_code == 200
    assert client_for("ent").post(update, item_form(scene, eia_t="0.2")).status_code == 302
    assert PermitItem.objects.get(pk=created.pk).annual_t == Decimal("0.2")

    delete = f"/permits/permititem/{created.pk}/delete/"
    before = snapshot(PermitItem)
    assert client_for(None).post(delete).status_code == 302
    assert client_for("noperm").post(delete).status_code == 403
    assert client_for("ent_other").post(delete).status_code == 404
    assert client_for("auditor").post(delete).status_code == 403
    assert snapshot(PermitItem) == before
    assert client_for("ent").post(delete).status_code == 302
    assert not PermitItem.objects.filter(pk=created.pk).exists()


def test_ui_items_of_an_issued_version_cannot_be_changed(scene: Scene, client_for: Any) -> None:
    issued_item = scene.issued.items.first()
    assert issued_item is not None
    before = snapshot(PermitItem)
    page = client_for("ent").post(f"/permits/permititem/{issued_item.pk}/edit/", item_form(scene, eia_t="1"))
    assert page.status_code == 200 and "已核发的许可证版本不可修改" in page.content.decode()
    gone = client_for("ent").post(f"/permits/permititem/{issued_item.pk}/delete/", follow=True)
    assert "已核发的许可证版本不可修改" in gone.content.decode()
    assert snapshot(PermitItem) == before


def special_form(scene: Scene, **changes: Any) -> dict[str, Any]:
    data = {
        "kind": "season", "outlet": scene.item.outlet_id, "pollutant": scene.item.pollutant_id, "label": "采暖季",
        "alert_level": "", "hydro_period": "", "start_md": "11-15", "end_md": "03-15", "concentration_limit": "",
        "daily_kg": "5", "monthly_t": "", "note": "",
    }  # fmt: skip
    data.update(changes)
    return data


def test_ui_special_create_update_delete(scene: Scene, client_for: Any) -> None:
    create = f"/permits/permitversion/{scene.draft.pk}/special/new/"
    before = snapshot(SpecialPeriodLimit)
    assert client_for(None).post(create, special_form(scene)).status_code == 302
    assert client_for("noperm").post(create, special_form(scene)).status_code == 403
    assert client_for("ent_other").post(create, special_form(scene)).status_code == 404
    bad = client_for("ent").post(create, special_form(scene, start_md="2-30"))
    assert bad.status_code == 200 and "有效的月-日" in bad.content.decode()
    assert snapshot(SpecialPeriodLimit) == before
    assert client_for("ent").post(create, special_form(scene)).status_code == 302
    created = scene.draft.special_limits.get(kind="season")
    update = f"/permits/specialperiodlimit/{created.pk}/edit/"
    assert client_for("ent_other").post(update, special_form(scene, daily_kg="4")).status_code == 404
    assert client_for("ent").post(update, special_form(scene, daily_kg="4")).status_code == 302
    assert SpecialPeriodLimit.objects.get(pk=created.pk).daily_kg == Decimal(4)
    delete = f"/permits/specialperiodlimit/{created.pk}/delete/"
    assert client_for("noperm").post(delete).status_code == 403
    assert client_for("ent_other").post(delete).status_code == 404
    assert SpecialPeriodLimit.objects.filter(pk=created.pk).exists()
    assert client_for("ent").post(delete).status_code == 302
    assert not SpecialPeriodLimit.objects.filter(pk=created.pk).exists()


def test_ui_report_edit_and_transitions(scene: Scene, client_for: Any) -> None:
    edit = f"/permits/executionreport/{scene.report.pk}/edit/"
    data = {"summary": "一季度正常生产，设施运行正常。", "all_compliant": "true"}
    before = snapshot(ExecutionReport)
    assert client_for(None).post(edit, data).status_code == 302
    assert client_for("noperm").post(edit, data).status_code == 403
    assert client_for("ent_other").post(edit, data).status_code == 404
    assert client_for("county").post(edit, data).status_code == 403
    assert snapshot(ExecutionReport) == before
    assert client_for("ent").get(edit).status_code == 200
    assert client_for("ent").post(edit, data).status_code == 302
    submit = f"/permits/executionreport/{scene.report.pk}/do/submit/"
    assert client_for("ent_other").post(submit).status_code == 404
    assert client_for("county").post(submit).status_code == 403
    assert client_for("ent").post(submit).status_code == 302
    accept = f"/permits/executionreport/{scene.report.pk}/do/accept/"
    assert client_for("county_other").post(accept).status_code == 404
    assert client_for("ent").post(accept).status_code == 403
    assert client_for("county").post(accept).status_code == 302
    assert ExecutionReport.objects.get(pk=scene.report.pk).status == "accepted"


# --- UI: the calculator ------------------------------------------------------------------------------


def test_ui_calculator_access(scene: Scene, client_for: Any) -> None:
    import json

    url = "/permits/calculator/"
    assert client_for(None).get(url).status_code == 302
    assert client_for("noperm").get(url).status_code == 403
    for who in ("county", "ent", "city", "auditor"):
        assert client_for(who).get(url).status_code == 200
    # an outlet of another jurisdiction is neither offered nor accepted
    own_outlet = scene.item.outlet
    assert f'<option value="{own_outlet.pk}"' not in client_for("ent_other").get(url).content.decode()
    assert f'<option value="{own_outlet.pk}"' in client_for("ent").get(url).content.decode()
    page = client_for("ent_other").post(
        url, {"step": "1", "case": "{}", "subject": "{}", "outlet": own_outlet.pk, "pollutant": scene.item.pollutant_id,
              "nav": "load_standards"},
    )  # fmt: skip
    assert "请先选择排放口和污染物" in page.content.decode()
    worksheet = "/permits/calculator/worksheet/"
    data = {"case": json.dumps(TIELING), "subject": "{}", "fmt": "xlsx"}
    assert client_for(None).post(worksheet, data).status_code == 302
    assert client_for("noperm").post(worksheet, data).status_code == 403
    assert client_for("ent").post(worksheet, data).status_code == 200


def test_ui_calculator_apply(scene: Scene, client_for: Any) -> None:
    import json

    url = "/permits/calculator/apply/"
    subject = json.dumps({"outlet": str(scene.item.outlet_id), "pollutant": str(scene.item.pollutant_id)})
    data = {"case": json.dumps(TIELING), "subject": subject, "version": scene.draft.pk}
    before = snapshot(PermitItem, LimitCalculation)
    assert client_for(None).post(url, data).status_code == 302
    assert client_for("noperm").post(url, data).status_code == 403
    other = client_for("ent_other").post(url, data)
    assert other.status_code == 200 and "请选择许可证版本" in other.content.decode()
    auditor = client_for("auditor").post(url, data)
    assert auditor.status_code == 403
    assert snapshot(PermitItem, LimitCalculation) == before
    applied = client_for("ent").post(url, data)
    assert applied.status_code == 302 and applied["Location"].startswith(scene.draft.get_absolute_url())
    item = PermitItem.objects.get(pk=scene.item.pk)
    assert item.technology_t == Decimal("6.1") and item.daily_max_kg == Decimal("33.42")
    frozen = client_for("ent").post(url, {**data, "version": scene.issued.pk})
    assert "不可修改" in frozen.content.decode()


# --- API ---------------------------------------------------------------------------------------------

API_READ: list[tuple[str, Callable[[Scene], Any]]] = [
    ("permit", lambda s: s.permit),
    ("version", lambda s: s.draft),
    ("item", lambda s: s.item),
    ("specialperiodlimit", lambda s: s.special),
    ("report", lambda s: s.report),
    ("reminder", lambda s: s.reminder),
    ("calculation", lambda s: s.calc),
]


@pytest.mark.parametrize(("name", "obj"), API_READ, ids=[n for n, _ in API_READ])
def test_api_list_and_retrieve(name: str, obj: Callable[[Scene], Any], scene: Scene, api_for: Any) -> None:
    url = f"/api/permits/{name}/"
    pk = obj(scene).pk
    assert api_for(None).get(url).status_code == 401
    assert api_for("noperm").get(url).status_code == 403
    assert api_for(None).get(f"{url}{pk}/").status_code == 401
    assert api_for("noperm").get(f"{url}{pk}/").status_code == 403
    for own, other in (("county", "county_other"), ("ent", "ent_other"), ("city", "city_other")):
        assert pk not in {row["id"] for row in api_for(other).get(url).json()["results"]}
        assert pk in {row["id"] for row in api_for(own).get(url).json()["results"]}
        assert api_for(other).get(f"{url}{pk}/").status_code == 404
        assert api_for(own).get(f"{url}{pk}/").status_code == 200


def test_api_open_application(world: Any, api_for: Any) -> None:
    url = "/api/permits/permit/"
    data = {"enterprise": world.e_own.pk, "reason": "新建"}
    before = snapshot(*ALL)
    assert api_for(None).post(url, data, format="json").status_code == 401
    assert api_for("noperm").post(url, data, format="json").status_code == 403
    assert api_for("county").post(url, data, format="json").status_code == 403
    refused = api_for("ent_other").post(url, data, format="json")
    assert refused.status_code == 400 and "enterprise" in refused.json()["errors"]
    assert snapshot(*ALL) == before
    created = api_for("ent").post(url, data, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["status"] == "pending" and created.json()["open_version"]
    again = api_for("ent").post(url, data, format="json")
    assert again.status_code == 400 and again.json()["code"] == "permit_exists"


def test_api_permit_transition(scene: Scene, api_for: Any) -> None:
    url = f"/api/permits/permit/{scene.permit.pk}/transition/"
    data = {"action": "suspend", "reason": "限期整改"}
    before = snapshot(Permit)
    assert api_for(None).post(url, data, format="json").status_code == 401
    assert api_for("noperm").post(url, data, format="json").status_code == 403
    assert api_for("city_other").post(url, data, format="json").status_code == 404
    denied = api_for("county").post(url, data, format="json")
    assert denied.status_code == 403 and denied.json()["code"] == "permission_denied"
    no_reason = api_for("city").post(url, {"action": "suspend"}, format="json")
    assert no_reason.status_code == 400 and no_reason.json()["errors"] == {"reason": ["请填写原因或意见。"]}
    assert snapshot(Permit) == before
    ok = api_for("city").post(url, data, format="json")
    assert ok.status_code == 200 and ok.json()["status"] == "suspended"
    assert {a["action"] for a in ok.json()["available_actions"]} == {
        "resume",
        "revoke",
        "withdraw_license",
        "cancel",
    }
    refused = api_for("city").post(url, data, format="json")
    assert refused.status_code == 409 and refused.json()["code"] == "transition_not_allowed"


def test_api_version_transition_and_diff(scene: Scene, api_for: Any) -> None:
    url = f"/api/permits/version/{scene.draft.pk}/transition/"
    before = snapshot(PermitVersion)
    assert api_for(None).post(url, {"action": "submit"}, format="json").status_code == 401
    assert api_for("noperm").post(url, {"action": "submit"}, format="json").status_code == 403
    assert api_for("ent_other").post(url, {"action": "submit"}, format="json").status_code == 404
    assert api_for("county").post(url, {"action": "submit"}, format="json").status_code == 403
    assert snapshot(PermitVersion) == before
    ok = api_for("ent").post(url, {"action": "submit"}, format="json")
    assert ok.status_code == 200 and ok.json()["status"] == "submitted"
    assert api_for("ent").post(url, {"action": "issue"}, format="json").status_code == 409
    diff = f"/api/permits/version/{scene.draft.pk}/diff/"
    assert api_for(None).get(diff).status_code == 401
    assert api_for("noperm").get(diff).status_code == 403
    assert api_for("ent_other").get(diff).status_code == 404
    body = api_for("ent").get(diff).json()
    assert body["old"] == 1 and body["new"] == 2
    assert [s["status"] for s in body["specials"]] == ["added"]
    assert api_for("admin").post("/api/permits/version/", {}, format="json").status_code == 405


@pytest.mark.parametrize("kind", ["change", "renewal", "reapply"])
def test_api_start_applications(scene: Scene, api_for: Any, kind: str) -> None:
    services.transition_version(user("ent"), scene.draft, "withdraw")
    url = f"/api/permits/permit/{scene.permit.pk}/{kind}/"
    data = {"reason": "产能扩建", "fact_date": str(timezone.localdate())}
    before = snapshot(PermitVersion)
    assert api_for(None).post(url, data, format="json").status_code == 401
    assert api_for("noperm").post(url, data, format="json").status_code == 403
    assert api_for("ent_other").post(url, data, format="json").status_code == 404
    assert api_for("county").post(url, data, format="json").status_code == 403
    assert snapshot(PermitVersion) == before
    created = api_for("ent").post(url, data, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["status"] == "draft" and created.json()["number"] == 3


def api_item(scene: Scene, **changes: Any) -> dict[str, Any]:
    data = {
        "version": scene.draft.pk, "outlet": scene.item.outlet_id, "pollutant": Pollutant.objects.get(code="w21011").pk,
        "concentration_limit": "0.5", "eia_t": "0.3", "monitoring_mode": "manual", "monitoring_frequency": "1次/月",
    }  # fmt: skip
    data.update(changes)
    return data


def test_api_item_writes(scene: Scene, api_for: Any) -> None:
    url = "/api/permits/item/"
    before = snapshot(PermitItem)
    assert api_for(None).post(url, api_item(scene), format="json").status_code == 401
    assert api_for("noperm").post(url, api_item(scene), format="json").status_code == 403
    other = api_for("ent_other").post(url, api_item(scene), format="json")
    assert other.status_code == 400 and "version" in other.json()["errors"]
    frozen = api_for("ent").post(url, api_item(scene, version=scene.issued.pk), format="json")
    assert frozen.status_code == 409 and "已核发" in frozen.json()["detail"]
    reviewer = api_for("county").post(url, api_item(scene), format="json")
    assert reviewer.status_code == 409
    bad = api_for("ent").post(url, api_item(scene, eia_t="-1"), format="json")
    assert bad.status_code == 400 and "eia_t" in bad.json()["errors"]
    assert snapshot(PermitItem) == before
    created = api_for("ent").post(url, api_item(scene), format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["annual_t"] == "0.3000" and body["annual_method"] == "eia"
    pk = body["id"]
    patch = {"eia_t": "0.25"}
    assert api_for("ent_other").patch(f"{url}{pk}/", patch, format="json").status_code == 404
    assert api_for("noperm").patch(f"{url}{pk}/", patch, format="json").status_code == 403
    moved = api_for("ent").patch(f"{url}{pk}/", {"version": scene.issued.pk}, format="json")
    assert moved.status_code == 400
    assert api_for("ent").patch(f"{url}{pk}/", patch, format="json").json()["annual_t"] == "0.2500"
    assert api_for("ent_other").delete(f"{url}{pk}/").status_code == 404
    assert api_for("ent").delete(f"{url}{pk}/").status_code == 204
    issued_item = scene.issued.items.first()
    assert issued_item is not None
    assert api_for("ent").patch(f"{url}{issued_item.pk}/", patch, format="json").status_code == 409
    assert api_for("admin").delete(f"{url}{issued_item.pk}/").status_code == 409
    assert PermitItem.objects.filter(pk=issued_item.pk).exists()


def test_api_special_writes(scene: Scene, api_for: Any) -> None:
    url = "/api/permits/specialperiodlimit/"
    data = {"version": scene.draft.pk, "pollutant": scene.item.pollutant_id, "kind": "hydro", "hydro_period": "dry",
            "start_md": "12-01", "end_md": "02-28", "monthly_t": "0.2"}  # fmt: skip
    before = snapshot(SpecialPeriodLimit)
    assert api_for(None).post(url, data, format="json").status_code == 401
    assert api_for("noperm").post(url, data, format="json").status_code == 403
    assert api_for("ent_other").post(url, data, format="json").status_code == 400
    bad = api_for("ent").post(url, {**data, "hydro_period": ""}, format="json")
    assert bad.status_code == 400 and "hydro_period" in bad.json()["errors"]
    assert snapshot(SpecialPeriodLimit) == before
    created = api_for("ent").post(url, data, format="json")
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    assert api_for("ent_other").delete(f"{url}{pk}/").status_code == 404
    assert api_for("ent").delete(f"{url}{pk}/").status_code == 204


def test_api_report_update_and_transition(scene: Scene, api_for: Any) -> None:
    url = f"/api/permits/report/{scene.report.pk}/"
    patch = {"summary": "正常", "all_compliant": True}
    before = snapshot(ExecutionReport)
    assert api_for(None).patch(url, patch, format="json").status_code == 401
    assert api_for("noperm").patch(url, patch, format="json").status_code == 403
    assert api_for("ent_other").patch(url, patch, format="json").status_code == 404
    assert api_for("county").patch(url, patch, format="json").status_code == 403
    assert snapshot(ExecutionReport) == before
    assert api_for("ent").patch(url, patch, format="json").status_code == 200
    t = f"{url}transition/"
    assert api_for("ent_other").post(t, {"action": "submit"}, format="json").status_code == 404
    assert api_for("ent").post(t, {"action": "submit"}, format="json").json()["status"] == "submitted"
    assert api_for("ent").patch(url, patch, format="json").status_code == 400  # submitted: locked
    assert api_for("county").post(t, {"action": "return"}, format="json").status_code == 400
    assert (
        api_for("county").post(t, {"action": "return", "reason": "补充"}, format="json").json()["status"]
        == "returned"
    )
    assert api_for("admin").post("/api/permits/report/", {}, format="json").status_code == 405


def test_api_calculator(scene: Scene, api_for: Any) -> None:
    compute = "/api/permits/calculator/compute/"
    assert api_for(None).post(compute, TIELING, format="json").status_code == 401
    assert api_for("noperm").post(compute, TIELING, format="json").status_code == 403
    result = api_for("ent_other").post(
        compute, TIELING, format="json"
    )  # no object: any user with the permission
    assert result.status_code == 200 and result.json()["daily_max_kg"] == 33.42
    wrapped = api_for("county").post(compute, {"case": TIELING}, format="json")
    assert wrapped.json()["annual_limit_t"]["chosen"] == 6.1
    bad = api_for("county").post(compute, {**TIELING, "cv": -1}, format="json")
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_case" and "cv" in bad.json()["errors"]

    sheet = "/api/permits/calculator/worksheet/?fmt=pdf"
    assert api_for(None).post(sheet, TIELING, format="json").status_code == 401
    assert api_for("noperm").post(sheet, TIELING, format="json").status_code == 403
    pdf = api_for("ent").post(sheet, TIELING, format="json")
    assert pdf.status_code == 200 and pdf.content[:5] == b"%PDF-"

    standards = f"/api/permits/calculator/standards/?outlet={scene.item.outlet_id}&pollutant=w01018"
    assert api_for(None).get(standards).status_code == 401
    assert api_for("noperm").get(standards).status_code == 403
    assert api_for("ent_other").get(standards).status_code == 404
    rows = api_for("ent").get(standards).json()["standards"]
    assert rows[0]["limit_mg_per_l"] == "80"

    apply = "/api/permits/calculator/apply/"
    data = {"case": TIELING, "version": scene.draft.pk, "outlet": scene.item.outlet_id, "pollutant": "w01018"}
    before = snapshot(PermitItem, LimitCalculation)
    assert api_for(None).post(apply, data, format="json").status_code == 401
    assert api_for("noperm").post(apply, data, format="json").status_code == 403
    assert api_for("ent_other").post(apply, data, format="json").status_code == 404
    assert api_for("auditor").post(apply, data, format="json").status_code == 403
    assert api_for("ent").post(apply, {**data, "version": scene.issued.pk}, format="json").status_code == 409
    assert snapshot(PermitItem, LimitCalculation) == before
    applied = api_for("ent").post(apply, data, format="json")
    assert applied.status_code == 200, applied.json()
    assert applied.json()["annual_t"] == "6.1000" and applied.json()["daily_max_kg"] == "33.42"

    ws = f"/api/permits/calculation/{scene.calc.pk}/worksheet/?fmt=xlsx"
    assert api_for(None).get(ws).status_code == 401
    assert api_for("noperm").get(ws).status_code == 403
    assert api_for("ent_other").get(ws).status_code == 404
    assert api_for("ent").get(ws).content[:2] == b"PK"


def test_api_read_only_resources_refuse_writes(scene: Scene, api_for: Any) -> None:
    assert api_for("admin").post("/api/permits/reminder/", {}, format="json").status_code == 405
    assert api_for("admin").post("/api/permits/calculation/", {}, format="json").status_code == 405
    assert api_for("admin").delete(f"/api/permits/permit/{scene.permit.pk}/").status_code == 405
    assert api_for("admin").post("/api/permits/reportrule/", {}, format="json").status_code == 405
