"""The four-client matrix on every ingest page and endpoint: anonymous → login / 401; no permission →
403; permission in another jurisdiction → not listed / 404 / refused; own jurisdiction → allowed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from totalcap.ingest import services
from totalcap.ingest.models import Command, GatewayStatus, LoggerSession, RawFrame, SiteInfo
from totalcap.registry.models import DataLogger


def own_logger(world: Any) -> DataLogger:
    return DataLogger.objects.get(outlet__enterprise=world.e_own, outlet__code="DW001")


def raw_frame(logger: DataLogger) -> RawFrame:
    with connection.cursor() as cur:
        cur.execute("SELECT nextval('ingest_rawframe_id_seq')")
        frame_id = cur.fetchone()[0]
        cur.execute(
            "INSERT INTO ingest_rawframe (id, received_at, direction, logger_id, mn, cn, qn, status, raw) "
            "VALUES (%s, now(), 'i', %s, %s, '2011', '20260101000000000', 'ok', %s)",
            [frame_id, logger.pk, logger.mn,
             b"##0083QN=20260101000000000;ST=32;CN=2011;PW=123456;MN=X;Flag=5;CP=&&w01018-Rtd=1&&0000\r\n"],
        )  # fmt: skip
    return RawFrame.objects.get(pk=frame_id)


@pytest.fixture
def objects(world: Any) -> dict[str, Any]:
    logger = own_logger(world)
    frame = raw_frame(logger)
    LoggerSession.objects.create(
        logger=logger, online=True, peer="10.0.0.1:5000", last_frame_at=timezone.now()
    )
    info = SiteInfo.objects.create(logger=logger, outlet_id=logger.outlet_id, source="3020", code="i12001", value="0",
                                   observed_at=timezone.now(), received_at=timezone.now())  # fmt: skip
    command = services.send_command(None, logger, "get_time")
    GatewayStatus.objects.create(name="gw-test", started_at=timezone.now(), updated_at=timezone.now(),
                                 metrics={"counters": [["totalcap_gateway_frames_total", {"cn": "2011"}, 5]],
                                          "gauges": {"totalcap_gateway_connections": 3}, "histograms": {}})  # fmt: skip
    return {"logger": logger, "frame": frame, "info": info, "command": command}


PAGES = ["/ingest/live/", "/ingest/rawframe/", "/ingest/command/", "/ingest/siteinfo/"]


@pytest.mark.parametrize("url", PAGES)
def test_ui_lists(url: str, objects: dict[str, Any], client_for: Any) -> None:
    marker = {
        "/ingest/live/": objects["logger"].mn,
        "/ingest/rawframe/": objects["frame"].get_absolute_url(),
        "/ingest/command/": objects["command"].get_absolute_url(),
        "/ingest/siteinfo/": "i12001",
    }[url]
    assert client_for(None).get(url).status_code == 302
    assert client_for("noperm").get(url).status_code == 403
    other = client_for("county_other").get(url)
    assert other.status_code == 200 and marker not in other.content.decode()
    own = client_for("county").get(url)
    assert own.status_code == 200 and marker in own.content.decode()
    assert marker in client_for("ent").get(url).content.decode()
    assert marker not in client_for("ent_other").get(url).content.decode()


@pytest.mark.parametrize("name", ["frame", "command", "info"])
def test_ui_details(name: str, objects: dict[str, Any], client_for: Any) -> None:
    obj = objects[name]
    url = obj.get_absolute_url() if name != "info" else f"/ingest/siteinfo/{obj.pk}/"
    assert client_for(None).get(url).status_code == 302
    assert client_for("noperm").get(url).status_code == 403
    assert client_for("county_other").get(url).status_code == 404
    assert client_for("county").get(url).status_code == 200


def test_live_page_partial_for_htmx(objects: dict[str, Any], client_for: Any) -> None:
    response = client_for("county").get("/ingest/live/", HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body and "在线" in body


def test_raw_frame_detail_decodes(objects: dict[str, Any], client_for: Any) -> None:
    body = client_for("county").get(objects["frame"].get_absolute_url()).content.decode()
    assert "w01018" in body and "crc-mismatch" in body


def test_send_command_page(objects: dict[str, Any], client_for: Any) -> None:
    url = "/ingest/command/new/"
    logger = objects["logger"]
    data = {"logger": logger.pk, "command": "set_rtd_interval", "params": '{"seconds": 60}'}
    before = Command.objects.count()
    assert client_for(None).post(url, data).status_code == 302
    assert client_for("noperm").post(url, data).status_code == 403
    assert client_for("ent").post(url, data).status_code == 403  # enterprise users may not send
    refused = client_for("county_other").post(url, data)
    assert refused.status_code == 200 and "is-invalid" in refused.content.decode()
    assert Command.objects.count() == before
    bad = client_for("county").post(url, {**data, "params": '{"seconds": 5}'})
    assert bad.status_code == 200 and "30 至 3600" in bad.content.decode()
    assert Command.objects.count() == before
    sent = client_for("county").post(url, data)
    assert sent.status_code == 302
    assert Command.objects.count() == before + 1


def test_cancel_action(objects: dict[str, Any], client_for: Any) -> None:
    command = objects["command"]
    url = f"/ingest/command/{command.pk}/cancel/"
    assert client_for(None).post(url).status_code == 302
    assert client_for("noperm").post(url).status_code == 403
    assert client_for("county_other").post(url).status_code == 404
    client_for("ent").post(url)  # may see, may not cancel
    assert Command.objects.get(pk=command.pk).state == "requested"
    assert client_for("county").post(url).status_code == 302
    assert Command.objects.get(pk=command.pk).state == "cancelled"


def test_metrics_page(objects: dict[str, Any], client_for: Any) -> None:
    assert client_for(None).get("/ingest/metrics").status_code == 401
    assert client_for("noperm").get("/ingest/metrics").status_code == 403
    assert client_for("county").get("/ingest/metrics").status_code == 403
    body = client_for("city").get("/ingest/metrics").content.decode()
    assert 'totalcap_gateway_frames_total{cn="2011",gateway="gw-test"} 5' in body
    assert 'totalcap_gateway_connections{gateway="gw-test"} 3' in body


# --- API ------------------------------------------------------------------------------------

API = {
    "rawframe": "frame",
    "siteinfo": "info",
    "command": "command",
    "loggersession": None,
}


@pytest.mark.parametrize("name", list(API))
def test_api_list_and_retrieve(name: str, objects: dict[str, Any], api_for: Any) -> None:
    url = f"/api/ingest/{name}/"
    assert api_for(None).get(url).status_code == 401
    assert api_for("noperm").get(url).status_code == 403
    own_ids = [row.get("id", row.get("logger")) for row in api_for("county").get(url).json()["results"]]
    other_ids = [
        row.get("id", row.get("logger")) for row in api_for("county_other").get(url).json()["results"]
    ]
    key = objects[API[name]].pk if API[name] else objects["logger"].pk
    assert key in own_ids and key not in other_ids
    detail = f"{url}{key}/"
    assert api_for(None).get(detail).status_code == 401
    assert api_for("noperm").get(detail).status_code == 403
    assert api_for("county_other").get(detail).status_code == 404
    assert api_for("county").get(detail).status_code == 200


def test_api_send_command(objects: dict[str, Any], api_for: Any) -> None:
    url = "/api/ingest/command/"
    logger = objects["logger"]
    payload = {"logger": logger.pk, "command": "close_valve", "params": {"valve_id": 1, "reason": 2}}
    before = Command.objects.count()
    assert api_for(None).post(url, payload, format="json").status_code == 401
    assert api_for("noperm").post(url, payload, format="json").status_code == 403
    assert api_for("ent").post(url, payload, format="json").status_code == 403
    refused = api_for("county_other").post(url, payload, format="json")
    assert refused.status_code == 400 and "logger" in refused.json()["errors"]
    invalid = api_for("county").post(url, {**payload, "params": {"valve_id": 500}}, format="json")
    assert invalid.status_code == 400 and invalid.json()["code"] == "invalid"
    assert Command.objects.count() == before
    created = api_for("county").post(url, payload, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["state"] == "requested" and created.json()["cn"] == "3801"
    cancel = f"{url}{created.json()['id']}/cancel/"
    assert api_for("county_other").post(cancel).status_code == 404
    assert api_for("county").post(cancel).json()["state"] == "cancelled"
    assert api_for("county").post(cancel).status_code == 409


def test_api_command_types(objects: dict[str, Any], api_for: Any) -> None:
    assert api_for(None).get("/api/ingest/command-types/").status_code == 401
    names = {row["name"] for row in api_for("county").get("/api/ingest/command-types/").json()}
    assert {
        "close_valve",
        "open_valve",
        "push_allowance",
        "get_minute_data",
        "set_time",
        "calibrate",
    } <= names


def test_send_command_validates_everything(world: Any) -> None:
    from totalcap.base.exceptions import PermissionRefused, ScopeViolation, ServiceError

    logger = own_logger(world)
    air = DataLogger.objects.get(outlet__enterprise=world.e_own, outlet__code="DA001")
    with pytest.raises(ServiceError, match="总量控制仪"):
        services.send_command(None, air, "close_valve")
    with pytest.raises(ServiceError) as info:
        services.send_command(None, logger, "get_minute_data", {"begin": "20260101000000"})
    assert info.value.field == "end"
    with pytest.raises(ServiceError, match="未知命令"):
        services.send_command(None, logger, "self_destruct")
    with pytest.raises(PermissionRefused):
        services.send_command(world.user("ent"), logger, "get_time")
    with pytest.raises(ScopeViolation):
        services.send_command(world.user("county_other"), logger, "get_time")
    first = services.send_command("quotas", logger, "close_valve", dedupe_key="order-1")
    again = services.send_command("quotas", logger, "close_valve", dedupe_key="order-1")
    assert first.pk == again.pk
    other = services.send_command("quotas", logger, "close_valve")
    assert other.qn != first.qn
    assert first.expires_at - first.requested_at == timedelta(days=7)
    assert datetime.now(UTC) - first.requested_at < timedelta(minutes=1)
