"""The total-control loop end to end, over HJ 212: the in-process gateway and the simulated
total-control logger of the enterprise.

card swipe (3811) loads the month (once) → simulated minute data are consumed → 80 % and 90 %
alarms reach the console channel once each → 100 % closes the valve (grace 0) → the order is
confirmed by physical evidence (valve reported closed, flow zero) → the simulated flow stops → an
approved transfer reopens the valve, confirmed by the flow coming back.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.ingest.conftest import ThreadedGateway, wait_for
from tests.ingest.sim import SimThread
from tests.quotas.factory import MONTH, YEAR, setup_quota
from totalcap.alarms.choices import ChannelKind, DeliveryStatus
from totalcap.alarms.models import Alarm, Delivery, NotificationChannel
from totalcap.base import jobs
from totalcap.ingest.models import SiteInfo
from totalcap.ingest.services import VALVE_STATE_CODE, valve_number
from totalcap.ingest.simulator.runner import registry_specs
from totalcap.monitoring.models import Sample
from totalcap.quotas import hooks
from totalcap.quotas.choices import AlertLevel, SwipeOutcome, ValveAction, ValveOrderState
from totalcap.quotas.models import CardSwipe, QuotaAccount, QuotaPolicy, ValveOrder
from totalcap.quotas.services import transfers
from totalcap.quotas.services.common import Usage, emitted_account, usage
from totalcap.registry.choices import ValveState
from totalcap.registry.models import Valve


@pytest.fixture
def gateway(tx_world: Any) -> Iterator[ThreadedGateway]:
    gw = ThreadedGateway().start()
    yield gw
    gw.stop()


def _flows_since(outlet_id: int, since: Any) -> list[Decimal]:
    """Real-time flow values (L/s) of the outlet that arrived after ``since``, in data-time order."""
    return [
        Decimal(v)
        for v in Sample.objects.filter(
            outlet_id=outlet_id, pollutant="w00000", kind="r", received_at__gt=since
        )
        .order_by("data_time")
        .values_list("value", flat=True)
    ]


def _usage(monthly: QuotaAccount) -> Usage:
    """The month's usage from one snapshot: the month and its consumption sink read in one statement
    (the simulated data keep being consumed between two reads)."""
    sink = emitted_account(monthly)
    fresh = QuotaAccount.objects.in_bulk([monthly.pk, sink.pk])
    return usage(fresh[monthly.pk], fresh[sink.pk])


def _valve_trace(valve: Valve) -> dict[str, Any]:
    """What a failed valve assertion needs: the valve's report times and every valve report stored."""
    fresh = Valve.objects.get(pk=valve.pk)
    codes = [VALVE_STATE_CODE, f"valve{valve_number(valve.code)}"]  # 3020 state, 3813 offline action
    reports = SiteInfo.objects.filter(logger_id=valve.logger_id, code__in=codes)
    return {
        "state": fresh.state,
        "reported_at": fresh.state_reported_at,
        "received_at": fresh.state_received_at,
        "reports": list(
            reports.order_by("received_at").values_list("value", "observed_at", "received_at", "frame_id")
        ),
    }


def _order(valve: Valve, action: str) -> ValveOrder | None:
    return ValveOrder.objects.filter(valve=valve, action=action).order_by("-pk").first()


def test_swipe_consume_alarm_close_confirm_and_reopen_over_hj212(
    gateway: ThreadedGateway, tx_world: Any, tmp_path: Path
) -> None:
    # An approved plan of 120 m³ a year: 10 m³ this month; the valve closes at once when it is used up.
    q = setup_quota(tx_world.e_own, annual=Decimal("120"))
    other = setup_quota(
        tx_world.e_other, annual=Decimal("12000"), regulator="county_other", approver="city", uid="FFEE0011"
    )
    QuotaPolicy.objects.create(enterprise=q.enterprise, close_grace_minutes=0)
    sms = tmp_path / "sms.log"
    NotificationChannel.objects.create(
        name="开发短信", kind=ChannelKind.SMS_CONSOLE, config={"path": str(sms)}
    )
    valve = Valve.objects.get(logger=q.logger)
    outlet_id = q.logger.outlet_id
    hooks.invalidate()

    specs = registry_specs([q.logger.mn], rtd_interval=30, min_interval=1)
    assert specs[0].card_uid == q.card.uid  # the enterprise's card is in the logger's reader
    sim = SimThread(specs, gateway.port, tmp_path / "sim.jsonl", speedup=120.0).start()
    try:
        # 1. The swipe over HJ 212 (3811, on connection) loads this month's 10 m³.
        first = wait_for(
            lambda: CardSwipe.objects.filter(logger=q.logger, channel="hj212").first(), timeout=10
        )
        assert first and first.outcome == SwipeOutcome.LOADED and first.loaded == {"w00000": "10.0000"}
        # A second swipe in the month loads nothing.
        device = wait_for(lambda: sim.devices and sim.devices[0])
        assert asyncio.run_coroutine_threadsafe(_call(device.swipe_card), sim.loop).result(5)
        second = wait_for(
            lambda: CardSwipe.objects.filter(logger=q.logger, channel="hj212").exclude(pk=first.pk).first(),
            timeout=10,
        )
        assert second and second.outcome == SwipeOutcome.ALREADY_LOADED and second.loaded == {}
        monthly = q.monthly()
        monthly.refresh_from_db()
        assert _usage(monthly).allowance == Decimal("10")  # loaded once

        # 2. Simulated minute data are consumed until the month is used up; the close order goes out
        #    at once (grace 0) and is confirmed by the reported state and zero flow.
        assert wait_for(lambda: _order(valve, ValveAction.CLOSE), timeout=30)
        close = wait_for(
            lambda: ValveOrder.objects.filter(
                pk=_order(valve, ValveAction.CLOSE).pk, state="confirmed"
            ).first(),  # type: ignore[union-attr]
            timeout=15,
        )
        assert close, _order(valve, ValveAction.CLOSE).__dict__  # type: ignore[union-attr]
        assert close.origin == "auto" and close.sent_at and close.executed_at and close.confirmed_at
        assert close.evidence["valve_state"] == ValveState.CLOSED
        assert Decimal(close.evidence["flow_l_per_s"]) <= Decimal("0.05")
        monthly.refresh_from_db()
        use = _usage(monthly)
        assert (
            monthly.alert_level == AlertLevel.EXHAUSTED and use.used >= Decimal("10") and use.remaining <= 0
        )
        assert Valve.objects.get(pk=valve.pk).state == ValveState.CLOSED, _valve_trace(valve)

        # 3. The simulated flow stops: every real-time flow value that arrived after the
        #    confirmation is zero.
        confirmed_at = close.confirmed_at
        assert wait_for(lambda: len(_flows_since(outlet_id, confirmed_at)) >= 4, timeout=10)
        assert set(_flows_since(outlet_id, confirmed_at)) == {Decimal("0")}

        # 4. The console channel got the 80 % and the 90 % alarm exactly once per recipient.
        # The queued ``alarms.deliver`` jobs run as the worker runs them.
        jobs.run_pending()
        assert not Delivery.objects.filter(status=DeliveryStatus.PENDING).exists()
        lines = sms.read_text(encoding="utf-8").splitlines()
        warnings = Counter(line.split(" SMS to ")[1].split(" ")[0] for line in lines if "（预警）" in line)
        reds = Counter(line.split(" SMS to ")[1].split(" ")[0] for line in lines if "（红色预警）" in line)
        assert warnings and set(warnings.values()) == {1}
        assert reds and set(reds.values()) == {1} and set(reds) == set(warnings)
        source = f"quotas.account:{monthly.pk}"
        assert Alarm.objects.filter(source=source, type="quota_warning").count() == 1
        assert Alarm.objects.filter(source=source, type="quota_red").count() == 1
        assert Alarm.objects.filter(source=source, type="quota_exhausted").count() == 1

        # 5. An approved transfer of 1,000 m³ from another enterprise reopens the valve; the
        #    reopen is confirmed when the flow is back.
        purchase = transfers.request_transfer(
            tx_world.user("ent"), from_enterprise=other.enterprise, to_enterprise=q.enterprise,
            pollutant=q.pollutant, year=YEAR, from_month=None, to_month=MONTH, amount=Decimal("1000"),
            reason="购买排污权", price=Decimal("2000"),
        )  # fmt: skip
        transfers.review(tx_world.user("city"), purchase, "approve", "同意")
        monthly.refresh_from_db()
        assert monthly.alert_level == AlertLevel.NONE
        reopen = wait_for(
            lambda: ValveOrder.objects.filter(
                valve=valve, action=ValveAction.OPEN, state=ValveOrderState.CONFIRMED
            ).first(),
            timeout=15,
        )
        assert reopen, list(ValveOrder.objects.filter(valve=valve).values("action", "state", "failure"))
        assert reopen.origin == "reopen" and Decimal(reopen.evidence["flow_l_per_s"]) > Decimal("0.05")
        assert Valve.objects.get(pk=valve.pk).state == ValveState.OPEN, _valve_trace(valve)
        assert wait_for(lambda: any(v > 0 for v in _flows_since(outlet_id, reopen.confirmed_at)), timeout=10)
        assert not Alarm.objects.filter(source=source, status__in=["active", "acknowledged"]).exists()
    finally:
        sim.stop()


async def _call(fn: Any) -> Any:
    return fn()
