"""The four-client matrix on the total-control pages and endpoints, and the valve-order rules."""

from __future__ import annotations

from typing import Any

import pytest

from tests.quotas.factory import setup_quota, swipe
from totalcap.base.exceptions import TransitionRefused
from totalcap.quotas.choices import ValveOrderState
from totalcap.quotas.models import ValveOrder
from totalcap.quotas.services import valves
from totalcap.registry.models import Valve

PAGES = [
    "/quotas/board/", "/quotas/regiontotal/", "/quotas/periodplan/", "/quotas/card/", "/quotas/cardswipe/",
    "/quotas/transfer/", "/quotas/valveorder/", "/quotas/quotaaccount/", "/quotas/settlement/", "/quotas/specialperiod/",
    "/quotas/allocationplan/",
]  # fmt: skip
ENDPOINTS = [
    "/api/quotas/board/", "/api/quotas/regiontotal/", "/api/quotas/periodplan/", "/api/quotas/card/",
    "/api/quotas/swipe-log/", "/api/quotas/transfer/", "/api/quotas/valveorder/", "/api/quotas/account/",
    "/api/quotas/settlement/", "/api/quotas/specialperiod/", "/api/quotas/allocationplan/",
]  # fmt: skip


@pytest.mark.parametrize("url", PAGES)
def test_pages_anonymous_and_no_permission(url: str, world: Any, client_for: Any) -> None:
    assert client_for(None).get(url).status_code == 302
    assert client_for("noperm").get(url).status_code == 403
    assert client_for("county").get(url).status_code == 200


@pytest.mark.parametrize("url", ENDPOINTS)
def test_endpoints_anonymous_and_no_permission(url: str, world: Any, api_for: Any) -> None:
    assert api_for(None).get(url).status_code == 401
    assert api_for("noperm").get(url).status_code == 403
    assert api_for("county").get(url).status_code == 200


def test_objects_are_scoped_to_the_jurisdiction(world: Any, client_for: Any, api_for: Any) -> None:
    q = setup_quota(world.e_own)
    swipe(q)
    own_urls = [
        q.plan.get_absolute_url(),
        q.card.get_absolute_url(),
        q.monthly().get_absolute_url(),
        q.total.get_absolute_url(),
    ]
    for url in own_urls:
        assert client_for("county").get(url).status_code == 200, url
        assert client_for("county_other").get(url).status_code == 404, url
        assert client_for("ent_other").get(url).status_code in (403, 404), url
    board = client_for("county_other").get("/quotas/board/").content.decode()
    assert q.enterprise.name not in board
    assert q.enterprise.name in client_for("county").get("/quotas/board/").content.decode()
    rows = api_for("ent").get("/api/quotas/board/").json()["accounts"]
    assert rows and {r["enterprise"] for r in rows} == {q.enterprise.pk}
    assert api_for("ent_other").get("/api/quotas/board/").json()["accounts"] == []
    assert api_for("county_other").get(f"/api/quotas/card/{q.card.pk}/").status_code == 404
    assert api_for("county_other").post(f"/api/quotas/card/{q.card.pk}/revoke/").status_code == 404
    assert api_for("county").post(f"/api/quotas/card/{q.card.pk}/revoke/").json()["status"] == "revoked"


def test_requester_cannot_approve_a_manual_close(world: Any, api_for: Any) -> None:
    valve = Valve.objects.get(logger__outlet__enterprise=world.e_own)
    created = api_for("county").post(
        "/api/quotas/valveorder/", {"valve": valve.pk, "action": "close", "origin": "suspension", "reason": "停产整治"},
        format="json",
    )  # fmt: skip
    assert created.status_code == 201, created.json()
    order_id = created.json()["id"]
    refused = api_for("county").post(f"/api/quotas/valveorder/{order_id}/approve/")
    assert refused.status_code == 409 and "发起人不能审批" in refused.json()["detail"]
    assert ValveOrder.objects.get(pk=order_id).state == ValveOrderState.REQUESTED
    assert api_for("county_other").post(f"/api/quotas/valveorder/{order_id}/approve/").status_code == 404
    assert api_for("ent").post(f"/api/quotas/valveorder/{order_id}/approve/").status_code == 403
    approved = api_for("city").post(f"/api/quotas/valveorder/{order_id}/approve/")
    assert approved.status_code == 200 and approved.json()["state"] == "approved"
    assert approved.json()["approved_by"] == world.user("city").pk


def test_other_jurisdiction_cannot_order_our_valve(world: Any, api_for: Any) -> None:
    valve = Valve.objects.get(logger__outlet__enterprise=world.e_own)
    response = api_for("county_other").post(
        "/api/quotas/valveorder/", {"valve": valve.pk, "action": "close", "reason": "x"}, format="json"
    )
    assert response.status_code == 400 and not ValveOrder.objects.exists()
    assert (
        api_for("ent")
        .post("/api/quotas/valveorder/", {"valve": valve.pk, "action": "close", "reason": "x"}, format="json")
        .status_code
        == 403
    )


def test_gas_outlets_get_an_enforcement_alarm_not_a_valve(world: Any) -> None:
    from decimal import Decimal

    from tests.quotas.factory import MONTH, YEAR, moment
    from totalcap.alarms.models import Alarm
    from totalcap.quotas.models import PeriodPlan
    from totalcap.quotas.services import plans
    from totalcap.quotas.services.consumption import Increment, post_increments
    from totalcap.registry.models import Pollutant

    q = setup_quota(world.e_own)
    air = world.e_own.outlets.get(code="DA001")
    so2 = Pollutant.objects.get(code="a21026")
    plan = plans.create_plan(
        world.user("county"), world.e_own, so2, YEAR, dict.fromkeys(range(1, 13), Decimal("0")), outlet=air
    )
    PeriodPlan.objects.filter(pk=plan.pk).update(status="approved")
    post_increments([Increment(air.pk, "a21026", moment(day=2), Decimal("5"), "air:1", {})])
    assert Alarm.objects.filter(type="quota_exhausted_enforcement", outlet=air).exists()
    assert not ValveOrder.objects.filter(valve__outlet=air).exists()
    del q, MONTH


def test_an_order_that_is_never_approved_expires_and_says_so(world: Any) -> None:
    import datetime as dt

    from django.utils import timezone

    valve = Valve.objects.get(logger__outlet__enterprise=world.e_own)
    order = valves.request_order(world.user("county"), valve, "close", "停产整治", origin="suspension")
    valves.advance_all(timezone.now() + dt.timedelta(days=2))
    order.refresh_from_db()
    assert order.state == ValveOrderState.EXPIRED and "有效期" in order.failure
    with pytest.raises(TransitionRefused):
        valves.approve(world.user("city"), order)
