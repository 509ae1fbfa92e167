"""Device messages and accounted hours as the gateway hook and the accounting listener hand them
to total control: 3811 swipes, 3020 valve states, 3813 offline actions, hourly true-ups."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import timezone

from hj212.values import format_datetime
from tests.quotas.factory import MONTH, YEAR, moment, setup_quota, swipe
from tests.transactions import second_behind_first
from totalcap.alarms.models import Alarm
from totalcap.base.models import DomainEvent
from totalcap.ingest.choices import InfoSource
from totalcap.ingest.models import SiteInfo
from totalcap.ingest.services import report_valve_state
from totalcap.monitoring.services.accounting import AccountedHour
from totalcap.quotas import devices
from totalcap.quotas.choices import AlertLevel, SwipeOutcome, ValveAction, ValveOrderState
from totalcap.quotas.models import CardSwipe, QuotaPolicy, ValveOrder
from totalcap.quotas.services import cards, device_reports, valves
from totalcap.quotas.services.common import monthly_account, usage
from totalcap.quotas.services.consumption import Increment, post_increments
from totalcap.registry.choices import ValveState
from totalcap.registry.models import Valve


def _exhaust(q: Any) -> None:
    outlet = q.logger.outlet
    post_increments([Increment(outlet.pk, "w00000", moment(day=2), Decimal("10000.5"), "test:exhaust", {})])


def _exhausted_valve(q: Any) -> Valve:
    """The month loaded and used up with no grace: the automatic close is ordered, and a valve
    reported open would be closed again."""
    QuotaPolicy.objects.create(enterprise=q.enterprise, close_grace_minutes=0)
    swipe(q)
    _exhaust(q)
    return Valve.objects.get(logger=q.logger)


def _orders_and_alarms(valve: Valve) -> tuple[int, int]:
    return ValveOrder.objects.filter(valve=valve).count(), Alarm.objects.count()


def _state_events(valve: Valve) -> Any:
    return DomainEvent.objects.filter(
        object_type="registry.valve", object_id=str(valve.pk), action="state_reported"
    )


def test_hj212_swipe_loads_once_and_a_resent_frame_is_handled_once(world: Any) -> None:
    q = setup_quota(world.e_own)
    now = timezone.now()
    items = {"CardUid": q.card.uid.lower(), "SwipeTime": format_datetime(now), "ValveId": "1"}
    first = device_reports.swipe_reported(q.logger.pk, items, now)
    again = device_reports.swipe_reported(q.logger.pk, items, now)  # the same frame re-sent
    assert first is not None and first.outcome == SwipeOutcome.LOADED and first.channel == "hj212"
    assert again == first and CardSwipe.objects.filter(logger=q.logger).count() == 1
    later = {**items, "SwipeTime": format_datetime(now + dt.timedelta(minutes=5))}
    second = device_reports.swipe_reported(q.logger.pk, later, now)
    assert second is not None and second.outcome == SwipeOutcome.ALREADY_LOADED
    assert usage(q.monthly()).allowance == Decimal("10000")


def test_hj212_swipe_of_a_revoked_card_is_refused_with_an_alarm(world: Any) -> None:
    q = setup_quota(world.e_own)
    cards.card_action(world.user("county"), q.card, "revoke")
    now = timezone.now()
    record = device_reports.swipe_reported(
        q.logger.pk, {"CardUid": q.card.uid, "SwipeTime": format_datetime(now)}, now
    )
    assert record is not None and record.outcome == SwipeOutcome.REFUSED_INACTIVE
    assert Alarm.objects.filter(type="card_refused", enterprise=q.enterprise).count() == 1
    assert q.monthly().balance == Decimal("0")


def test_valve_reported_open_while_exhausted_is_closed_again(world: Any) -> None:
    q = setup_quota(world.e_own)
    valve = _exhausted_valve(q)
    first = ValveOrder.objects.get(valve=valve, action=ValveAction.CLOSE)
    # The logger said it executed the close, and later reports the valve open.
    ValveOrder.objects.filter(pk=first.pk).update(state=ValveOrderState.EXECUTED, executed_at=timezone.now())
    device_reports.valve_state_reported(q.logger.pk, 1, 0, timezone.now())
    first.refresh_from_db()
    assert first.state == ValveOrderState.FAILED and "随后上报阀门开启" in first.failure
    again = ValveOrder.objects.exclude(pk=first.pk).get(valve=valve, action=ValveAction.CLOSE)
    assert again.state == ValveOrderState.APPROVED and again.origin == "auto"
    assert (
        Alarm.objects.filter(type="valve_open_while_exhausted", source=f"registry.valve:{valve.pk}").count()
        == 1
    )
    # Reported open again while that close is on its way: nothing new.
    device_reports.valve_state_reported(q.logger.pk, 1, 0, timezone.now() + dt.timedelta(seconds=1))
    assert ValveOrder.objects.filter(valve=valve, action=ValveAction.CLOSE).count() == 2
    assert Valve.objects.get(pk=valve.pk).state == ValveState.OPEN


def test_a_live_valve_state_counts_after_the_loggers_clock_went_back(world: Any) -> None:
    """A 3020 reports the valve as it is now, whatever the logger's clock says (a 1012 time sync can
    set it back); a 3813 offline action older than the last report is history and changes nothing."""
    q = setup_quota(world.e_own)
    valve = Valve.objects.get(logger=q.logger)
    now = timezone.now()
    device_reports.valve_state_reported(q.logger.pk, 1, 0, now + dt.timedelta(minutes=10))  # clock ahead
    assert Valve.objects.get(pk=valve.pk).state == ValveState.OPEN
    device_reports.valve_state_reported(q.logger.pk, 1, 1, now)  # after the time sync: closed
    valve.refresh_from_db()
    assert valve.state == ValveState.CLOSED and valve.state_reported_at == now
    old = {
        "ValveId": "1",
        "Action": "0",
        "Source": "0",
        "DataTime": format_datetime(now - dt.timedelta(hours=1)),
    }
    device_reports.offline_action_reported(q.logger.pk, old, now)  # opened an hour ago, offline
    assert Valve.objects.get(pk=valve.pk).state == ValveState.CLOSED


def test_a_valve_state_handled_after_a_later_arrival_changes_nothing(world: Any) -> None:
    """The gateway's two writer connections commit batches concurrently, so the hook and the
    gateway may handle a 3020 after one that arrived later. The later arrival is the valve's state;
    the earlier one, handled late, neither reopens the valve nor counts as "open while exhausted"."""
    q = setup_quota(world.e_own)
    valve = _exhausted_valve(q)
    ValveOrder.objects.filter(valve=valve).update(state=ValveOrderState.CONFIRMED)
    before = _orders_and_alarms(valve)
    now = timezone.now()
    opened_at, closed_at = now - dt.timedelta(seconds=8), now - dt.timedelta(seconds=2)
    # "closed" (arrived second) is handled first; then "open" (arrived first, earlier DataTime)
    device_reports.valve_state_reported(q.logger.pk, 1, 1, closed_at, 12, received_at=now)
    device_reports.valve_state_reported(
        q.logger.pk, 1, 0, opened_at, 11, received_at=now - dt.timedelta(milliseconds=40)
    )
    valve.refresh_from_db()
    assert valve.state == ValveState.CLOSED
    assert valve.state_reported_at == closed_at and valve.state_received_at == now
    assert _orders_and_alarms(valve) == before
    # The same frame handed over twice (by the gateway and by the hook) is applied once.
    device_reports.valve_state_reported(q.logger.pk, 1, 1, closed_at, 12, received_at=now)
    assert _state_events(valve).count() == 1


def test_a_valve_report_and_a_valve_order_committed_at_once_do_not_deadlock(tx_world: Any) -> None:
    """A transaction that has appended to the event chain and created an order for the valve
    commits, while a valve report (the valve's row locked, waiting for the chain) is behind it. Its
    foreign keys are checked at commit (Django's constraints are deferred): a ``FOR UPDATE`` lock of
    the valve would block that check and deadlock the two; the report's ``FOR NO KEY UPDATE`` does
    not."""
    q = setup_quota(tx_world.e_own)
    valve = Valve.objects.get(logger=q.logger)
    monthly = q.monthly()
    now = timezone.now()
    order, reported = second_behind_first(
        lambda: valves.system_close(valve, monthly, "测试：自动关阀"),
        lambda: report_valve_state(q.logger.pk, 1, 1, at=now, received_at=now, live=True),
    )
    assert order is not None and ValveOrder.objects.filter(pk=order.pk).exists()
    assert reported is not None and Valve.objects.get(pk=valve.pk).state == ValveState.CLOSED
    assert _state_events(valve).exists()


def test_a_resent_valve_state_older_than_the_last_changes_nothing(world: Any) -> None:
    """A logger re-sends an upload whose ack it missed: the old 3020 (stored once, from its first
    frame) must not take the valve back to the state it reported before, nor close it again."""
    q = setup_quota(world.e_own)
    valve = _exhausted_valve(q)
    now = timezone.now().replace(microsecond=0)
    earlier = now - dt.timedelta(minutes=5)

    def received(at: dt.datetime, value: str, frame_id: int) -> None:
        # what the gateway's batch stores before its hook hands the message over
        SiteInfo.objects.get_or_create(
            logger=q.logger, pollutant="", code="i32101", observed_at=at,
            defaults={"outlet_id": q.logger.outlet_id, "source": InfoSource.SITE_INFO, "value": value,
                      "frame_id": frame_id, "received_at": timezone.now()},
        )  # fmt: skip
        device_reports.valve_state_reported(q.logger.pk, 1, int(value), at, frame_id)

    received(earlier, "0", 1)  # open
    received(now, "1", 2)  # closed
    # the automatic close has run its course: an "open" now would be closed again
    ValveOrder.objects.filter(valve=valve).update(state=ValveOrderState.CONFIRMED)
    before = _orders_and_alarms(valve)
    received(earlier, "0", 3)  # the first frame again
    valve.refresh_from_db()
    assert valve.state == ValveState.CLOSED and valve.state_reported_at == now
    # and nothing is done about the valve "open" in that old report
    assert _orders_and_alarms(valve) == before


def test_offline_actions_are_recorded_once_and_reconciled(world: Any) -> None:
    q = setup_quota(world.e_own)
    swipe(q)
    valve = Valve.objects.get(logger=q.logger)
    at = moment(day=3, hour=4)
    closed = {"DataTime": format_datetime(at), "ValveId": "1", "Action": "1", "Source": "2"}
    device_reports.offline_action_reported(q.logger.pk, closed, timezone.now(), frame_id=11)
    device_reports.offline_action_reported(q.logger.pk, closed, timezone.now(), frame_id=12)  # re-sent
    events = DomainEvent.objects.filter(
        object_type="registry.valve", object_id=str(valve.pk), action="offline_valve_action"
    )
    assert events.count() == 1 and events.get().payload["source"] == 2
    assert Valve.objects.get(pk=valve.pk).state == ValveState.CLOSED
    # The quota was not exhausted: the logger's own close disagrees with the ledger.
    assert Alarm.objects.filter(type="valve_closed_offline", source=f"registry.valve:{valve.pk}").count() == 1

    _exhaust(q)
    assert monthly_account(q.enterprise, q.pollutant, YEAR, MONTH).alert_level == AlertLevel.EXHAUSTED
    ValveOrder.objects.filter(valve=valve).update(state=ValveOrderState.CONFIRMED)
    opened = {
        "DataTime": format_datetime(at + dt.timedelta(hours=1)),
        "ValveId": "1",
        "Action": "0",
        "Source": "0",
    }
    device_reports.offline_action_reported(q.logger.pk, opened, timezone.now(), frame_id=13)
    assert Valve.objects.get(pk=valve.pk).state == ValveState.OPEN
    reclose = ValveOrder.objects.get(valve=valve, state=ValveOrderState.APPROVED)
    assert reclose.action == ValveAction.CLOSE and "离线期间阀门被开启" in reclose.reason
    alarm = Alarm.objects.get(type="valve_open_while_exhausted")
    assert "现场手动操作" in alarm.message and events.count() == 2


def test_accounted_hours_true_up_the_month_by_their_difference(world: Any) -> None:
    q = setup_quota(world.e_own, code="w01018", annual=Decimal("1200"))
    swipe(q)
    outlet = q.logger.outlet
    hour = moment(day=4, hour=9)

    def accounted(version: int, kg: str) -> AccountedHour:
        return AccountedHour(
            version, outlet.pk, "w01018", hour, version, Decimal(kg), Decimal(kg), "auto_valid"
        )

    assert device_reports.true_up_accounted([accounted(1, "5")]) == 1
    assert usage(q.monthly()).used == Decimal("5")
    device_reports.true_up_accounted([accounted(2, "7")])  # a recalculation posts only +2
    device_reports.true_up_accounted([accounted(2, "7")])  # the same version again: nothing
    assert usage(q.monthly()).used == Decimal("7")
    # an outlet of an enterprise without an approved plan is not under total control
    other = world.e_other.outlets.first()
    assert (
        device_reports.true_up_accounted(
            [AccountedHour(9, other.pk, "w01018", hour, 1, Decimal("3"), Decimal("3"), "auto_valid")]
        )
        == 0
    )


def test_the_valve_report_after_an_order_reads_the_state_codes_of_the_extension_profile(world: Any) -> None:
    q = setup_quota(world.e_own)
    valve = Valve.objects.get(logger=q.logger)
    since = timezone.now() - dt.timedelta(minutes=1)
    at = since + dt.timedelta(seconds=5)
    for n, (value, expected) in enumerate(
        [("1", "closed"), ("0", "open"), (" 2", "moving"), ("3", "fault"), ("7", "unknown"), ("x", "unknown")]
    ):
        SiteInfo.objects.create(
            logger=q.logger, outlet_id=q.logger.outlet_id, source=InfoSource.SITE_INFO, pollutant="",
            code="i32101", value=value, observed_at=at + dt.timedelta(seconds=n), frame_id=n + 1,
            received_at=timezone.now() + dt.timedelta(seconds=n),
        )  # fmt: skip
        report = devices.valve_report_after(valve, since)
        assert report is not None and report.state == expected, value
    assert devices.valve_report_after(valve, timezone.now() + dt.timedelta(minutes=5)) is None
