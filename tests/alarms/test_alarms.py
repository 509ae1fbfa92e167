"""The alarm core: de-duplication, life cycle, escalation, channels and the delivery log."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from tests.alarms.servers import closed_port, http_endpoint, smtp_sink
from tests.transactions import second_behind_first
from totalcap.alarms import services
from totalcap.alarms.choices import AlarmStatus, ChannelKind, DeliveryStatus, Severity
from totalcap.alarms.models import Alarm, Delivery, InAppNotification, NotificationChannel
from totalcap.base.exceptions import PermissionRefused, TransitionRefused
from totalcap.base.models import DomainEvent


def _raise(world: Any, **kw: Any) -> services.Raised:
    defaults = {
        "type": "quota_warning",
        "source": f"quotas.account:{world.e_own.pk}",
        "title": "月度配额已用80%",
        "message": "本月化学需氧量配额已使用80.2%。",
        "severity": Severity.WARNING,
        "enterprise": world.e_own,
    }
    defaults.update(kw)
    return services.raise_alarm(**defaults)


@pytest.fixture
def console(tmp_path: Path) -> NotificationChannel:
    return NotificationChannel.objects.create(
        name="开发短信", kind=ChannelKind.SMS_CONSOLE, config={"path": str(tmp_path / "sms.log")}
    )


def test_raise_is_deduplicated_per_source_and_type(world: Any, console: NotificationChannel) -> None:
    first = _raise(world)
    again = _raise(world, payload={"used": "81%"})
    other_type = _raise(world, type="quota_red", title="红色预警", severity=Severity.MAJOR)
    assert first.created and not again.created and other_type.created
    alarm = Alarm.objects.get(pk=first.alarm.pk)
    assert alarm.occurrences == 2 and alarm.payload["last"] == {"used": "81%"}
    assert (
        Delivery.objects.filter(alarm=alarm).count()
        == Delivery.objects.filter(alarm=alarm, reason="raised").count()
    )
    assert DomainEvent.objects.filter(action="alarm_raised", object_id=str(alarm.pk)).count() == 1


def test_a_cleared_alarm_can_be_raised_again(world: Any) -> None:
    first = _raise(world)
    services.clear(None, first.alarm)
    second = _raise(world)
    assert second.created and second.alarm.pk != first.alarm.pk


def test_recipients_are_enterprise_contacts_and_the_nearest_regulators(
    world: Any, console: NotificationChannel
) -> None:
    for username, phone in (
        ("county", "13933334444"),
        ("city", "13911112222"),
        ("county_other", "13955556666"),
    ):
        user = world.user(username)
        user.phone = phone
        user.save()
    alarm = _raise(world).alarm
    deliveries = {(d.recipient_kind, d.address) for d in Delivery.objects.filter(alarm=alarm)}
    contact = world.e_own.contacts.get(is_primary=True)
    assert ("enterprise", contact.phone) in deliveries
    regulators = {d.address for d in Delivery.objects.filter(alarm=alarm, recipient_kind="regulator")}
    assert regulators == {"13933334444"}  # the county officer; not the city (yet), not another county


def test_console_channel_writes_each_message_once(world: Any, console: NotificationChannel) -> None:
    alarm = _raise(world).alarm
    _raise(world)  # a repeat notifies nobody
    for delivery in Delivery.objects.filter(alarm=alarm):
        services.deliver(delivery.pk)
        services.deliver(delivery.pk)  # a second run of the same job sends nothing more
    log = Path(console.config["path"]).read_text(encoding="utf-8").splitlines()
    assert len(log) == Delivery.objects.filter(alarm=alarm).count() >= 1
    assert "月度配额已用80%" in log[0]
    assert set(Delivery.objects.filter(alarm=alarm).values_list("status", flat=True)) == {DeliveryStatus.SENT}


def test_http_sms_gateway_success_and_refusal(world: Any) -> None:
    with http_endpoint(lambda body: (200, {"code": 0 if body["mobile"] != "13800000000" else 17})) as (
        url,
        got,
    ):
        channel = NotificationChannel.objects.create(
            name="短信网关",
            kind=ChannelKind.SMS_HTTP,
            config={"url": url, "sign": "【泰州生态环境】", "token": "s3cret", "phone_field": "mobile",
                    "success_field": "code", "success_value": "0"},
        )  # fmt: skip
        alarm = _raise(world).alarm
        delivery = Delivery.objects.get(
            alarm=alarm, channel=channel, recipient_kind="enterprise", address__startswith="138"
        )
        sent = services.deliver(delivery.pk)
        assert sent is not None and sent.status == DeliveryStatus.SENT
        assert (
            got[0]["content"].startswith("【泰州生态环境】")
            and got[0]["_headers"]["Authorization"] == "Bearer s3cret"
        )
        refused = Delivery.objects.create(
            alarm=alarm,
            channel=channel,
            recipient_kind="enterprise",
            address="13800000000",
            text="x",
            reason="manual",
        )
        result = services.deliver(refused.pk)
        assert (
            result is not None and result.status == DeliveryStatus.GAVE_UP and "code=17" in result.last_error
        )


def test_http_failures_are_retried_then_given_up(world: Any) -> None:
    channel = NotificationChannel.objects.create(
        name="坏网关", kind=ChannelKind.SMS_HTTP, config={"url": f"http://127.0.0.1:{closed_port()}/x", "timeout": 2},
        max_attempts=2,
    )  # fmt: skip
    alarm = _raise(world).alarm
    delivery = Delivery.objects.filter(alarm=alarm, channel=channel).first()
    assert delivery is not None
    first = services.deliver(delivery.pk)
    assert first is not None and first.status == DeliveryStatus.FAILED and first.attempts == 1
    assert "network" in first.last_error
    second = services.deliver(delivery.pk)
    assert second is not None and second.status == DeliveryStatus.GAVE_UP and second.attempts == 2


def test_wecom_robot(world: Any) -> None:
    with http_endpoint(lambda body: (200, {"errcode": 0, "errmsg": "ok"})) as (url, got):
        NotificationChannel.objects.create(
            name="企业微信", kind=ChannelKind.WECOM, config={"webhook_url": url}, recipients=["regulator"]
        )
        alarm = _raise(world).alarm
        delivery = Delivery.objects.get(alarm=alarm)
        assert services.deliver(delivery.pk).status == DeliveryStatus.SENT  # type: ignore[union-attr]
        assert got[0]["msgtype"] == "text" and "月度配额已用80%" in got[0]["text"]["content"]


def test_email_over_smtp(world: Any) -> None:
    contact = world.e_own.contacts.get(is_primary=True)
    contact.email = "hb@example.cn"
    contact.save()
    with smtp_sink() as (port, mails):
        NotificationChannel.objects.create(
            name="邮件",
            kind=ChannelKind.EMAIL,
            config={"host": "127.0.0.1", "port": port, "sender": "alarm@tc.cn"},
        )
        alarm = _raise(world).alarm
        delivery = Delivery.objects.get(alarm=alarm, address="hb@example.cn")
        assert services.deliver(delivery.pk).status == DeliveryStatus.SENT  # type: ignore[union-attr]
    assert mails and "hb@example.cn" in mails[0]["to"][0]


def test_in_app_messages_and_inbox(world: Any, client_for: Any) -> None:
    NotificationChannel.objects.create(name="站内", kind=ChannelKind.IN_APP)
    alarm = _raise(world).alarm
    for delivery in Delivery.objects.filter(alarm=alarm):
        services.deliver(delivery.pk)
    ent = world.user("ent")
    assert InAppNotification.objects.filter(user=ent, alarm=alarm).count() == 1
    assert InAppNotification.objects.filter(user=world.user("county"), alarm=alarm).count() == 1
    client = client_for("ent")
    home = client.get("/").content.decode()
    assert 'data-testid="inbox-link"' in home and "text-bg-danger" in home
    assert "月度配额已用80%" in client.get("/alarms/inbox/").content.decode()
    assert InAppNotification.objects.get(user=ent, alarm=alarm).read_at is not None


def test_bad_channel_config_gives_up_with_a_message(world: Any) -> None:
    NotificationChannel.objects.create(name="缺地址", kind=ChannelKind.SMS_HTTP, config={})
    alarm = _raise(world).alarm
    delivery = Delivery.objects.filter(alarm=alarm).first()
    assert delivery is not None
    result = services.deliver(delivery.pk)
    assert (
        result is not None
        and result.status == DeliveryStatus.GAVE_UP
        and "缺少配置项：url" in result.last_error
    )


def test_life_cycle(world: Any) -> None:
    alarm = _raise(world).alarm
    with pytest.raises(PermissionRefused):
        services.acknowledge(world.user("auditor"), alarm)
    acked = services.acknowledge(world.user("ent"), alarm)
    assert acked.status == AlarmStatus.ACKNOWLEDGED and acked.acknowledged_by == world.user("ent")
    with pytest.raises(TransitionRefused, match="不允许执行操作「acknowledge」"):
        services.acknowledge(world.user("county"), acked)
    with pytest.raises(PermissionRefused):
        services.clear(world.user("ent"), acked, "整改完成")
    with pytest.raises(TransitionRefused, match="须填写原因"):
        services.clear(world.user("county"), acked, "")
    cleared = services.clear(world.user("county"), acked, "已充值")
    assert cleared.status == AlarmStatus.CLEARED and cleared.clear_reason == "已充值"


def test_escalation_to_the_next_level(world: Any, console: NotificationChannel) -> None:
    city = world.user("city")
    city.phone = "13911112222"
    city.save()
    county = world.user("county")
    county.phone = "13933334444"
    county.save()
    alarm = _raise(world, severity=Severity.CRITICAL).alarm
    assert {d.address for d in Delivery.objects.filter(alarm=alarm, recipient_kind="regulator")} == {
        "13933334444"
    }
    assert alarm.escalate_at is not None
    assert services.escalate_due(timezone.now()) == []
    escalated = services.escalate_due(alarm.escalate_at + timedelta(seconds=1))
    assert [a.pk for a in escalated] == [alarm.pk]
    level1 = Delivery.objects.filter(alarm=alarm, reason="escalated:1")
    assert {d.address for d in level1} == {"13911112222"}
    services.acknowledge(county, Alarm.objects.get(pk=alarm.pk))
    assert services.escalate_due(timezone.now() + timedelta(days=1)) == []


def test_four_clients_on_alarm_pages_and_api(world: Any, client_for: Any, api_for: Any) -> None:
    alarm = _raise(world).alarm
    other = _raise(world, enterprise=world.e_other, source=f"quotas.account:{world.e_other.pk}").alarm
    detail = f"/alarms/alarm/{alarm.pk}/"
    assert client_for(None).get(detail).status_code == 302
    assert client_for("noperm").get(detail).status_code == 403
    assert client_for("county_other").get(detail).status_code == 404
    assert client_for("county").get(detail).status_code == 200
    listing = client_for("county").get("/alarms/alarm/").content.decode()
    assert alarm.get_absolute_url() in listing and other.get_absolute_url() not in listing
    api = f"/api/alarms/alarm/{alarm.pk}/"
    assert api_for(None).get(api).status_code == 401
    assert api_for("noperm").get(api).status_code == 403
    assert api_for("county_other").get(api).status_code == 404
    assert api_for("county").get(api).status_code == 200
    ack = f"{api}acknowledge/"
    assert api_for(None).post(ack).status_code == 401
    assert api_for("noperm").post(ack).status_code == 403
    assert api_for("county_other").post(ack).status_code == 404
    assert Alarm.objects.get(pk=alarm.pk).status == AlarmStatus.ACTIVE
    assert api_for("auditor").post(ack).status_code == 403
    assert api_for("county").post(ack).status_code == 200
    assert api_for("county").post(f"{api}clear/", {"reason": ""}, format="json").status_code == 409
    assert (
        api_for("county").post(f"{api}clear/", {"reason": "处理完毕"}, format="json").json()["status"]
        == "cleared"
    )
    assert api_for("county").post("/api/alarms/alarm/", {}, format="json").status_code == 403
    assert api_for("admin").post("/api/alarms/alarm/", {}, format="json").status_code == 405
    page = client_for("county").post(f"/alarms/alarm/{other.pk}/acknowledge/")
    assert page.status_code == 404


def test_the_same_alarm_raised_by_two_transactions_at_once_is_one_alarm_seen_twice(tx_world: Any) -> None:
    """The second insert waits for the first transaction and gives way to its alarm once it commits
    (the partial unique index on open alarms), then counts an occurrence: both callers succeed."""
    first, second = second_behind_first(
        lambda: _raise(tx_world, source="test.concurrent:1"),
        lambda: _raise(tx_world, source="test.concurrent:1"),
    )
    assert first.created and not second.created
    alarm = Alarm.objects.get(source="test.concurrent:1", type="quota_warning")
    assert alarm.pk == second.alarm.pk and alarm.occurrences == 2
