"""What the crossing of 100 % costs, in database round trips (the performance target of the quota
loop: the minute record that crosses 100 % of the month → the close command leaving the gateway).

The scenario is the one of ``benchmarks/quota_loop.py``: an enterprise with its own policy (grace 0,
minute data), 10,000 m³ loaded for the month, 9,900 m³ already consumed (so the red alert is
behind it), and one minute record of 150 m³. Query counts are deterministic, so they are asserted;
times are not (see docs/total-control.md § Performance for the measured times).

Before the work of issue 7 the crossing cost 93 queries, 79 of them before the close command was
committed (the posting's transaction, then a second one in its commit hook for the close), with
five chain appends of the domain event log, one per event.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.quotas.factory import Quota, setup_quota
from totalcap.alarms.choices import ChannelKind
from totalcap.alarms.models import Alarm, Delivery, NotificationChannel
from totalcap.base import events
from totalcap.base.models import DomainEvent
from totalcap.ingest import services as ingest_services
from totalcap.ingest.models import Command
from totalcap.quotas import hooks, ledger
from totalcap.quotas.choices import AlertLevel, ValveAction, ValveOrderState
from totalcap.quotas.models import QuotaPolicy, ValveOrder
from totalcap.quotas.services import cards
from totalcap.quotas.services.consumption import Increment, post_increments
from totalcap.registry.choices import DeviceStatus
from totalcap.registry.models import DataLogger, Valve

#: Queries of the crossing up to the commit that releases the close command (79 before issue 7,
#: 27 before send_command stopped opening a savepoint of its own inside its caller's transaction,
#: 25 before the ledger's and the command's inserts told a duplicate without a savepoint, the
#: command's insert carried its notification, and the chain's lock and head read became one call;
#: 19 before a new alarm became one insert instead of a look-up and an insert).
CROSSING_UNTIL_CLOSE = 18
#: Every query of the crossing, the work after the close included (93 before issue 7, 41 before the
#: savepoint change above, 37 before the inserts without savepoints and the one-call chain head, 27
#: before the one-statement alarm; a notification channel adds its recipients' deliveries after the
#: close, not before it).
CROSSING_TOTAL = 26
#: A minute record of a controlled outlet that crosses nothing (11 while the ledger's insert took a
#: savepoint).
ORDINARY_RECORD = 9
#: Each further record of the same outlet and month in the same batch (6 with the savepoint).
FURTHER_RECORD = 4


@pytest.fixture
def at_99_percent(world: Any, django_capture_on_commit_callbacks: Any) -> Quota:
    """The benchmark's enterprise: 10,000 m³ this month, 9,900 m³ used (red alert already raised)."""
    q = setup_quota(world.e_own)
    QuotaPolicy.objects.create(enterprise=q.enterprise, close_grace_minutes=0, consumption_source="minute")
    cards.swipe(None, q.logger, q.card.uid, at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        post_increments([_record(q, Decimal("9900"), key="prime")])
    monthly = q.monthly()
    assert monthly.alert_level == AlertLevel.RED
    return q


def _record(q: Quota, volume: Decimal, *, key: str, minutes: int = 0) -> Increment:
    at = timezone.now() + dt.timedelta(minutes=minutes)
    return Increment(
        q.logger.outlet_id, "w00000", at, volume, f"cons:{q.logger.pk}:w00000:m:{key}",
        {"hour": "h", "provisional": True, "logger": q.logger.pk, "kind": "m", "pollutant": "w00000"},
    )  # fmt: skip


class Announced:
    """Commands as the gateway hears of them, after their commit: (name, command id, queries
    run by then in the measured block)."""

    def __init__(self) -> None:
        self.heard: list[tuple[str, int, int]] = []
        self.ctx: CaptureQueriesContext | None = None

    def __call__(self, command_id: int, logger_id: int, prepared: tuple[Any, ...]) -> None:
        queries = len(self.ctx.captured_queries) if self.ctx is not None else -1
        self.heard.append((str(prepared[0]), command_id, queries))


@pytest.fixture
def announced() -> Iterator[Announced]:
    listener = Announced()
    ingest_services.add_command_listener(listener)
    try:
        yield listener
    finally:
        ingest_services.remove_command_listener(listener)


def _crossing_events(q: Quota, head: int) -> list[str]:
    return list(DomainEvent.objects.filter(pk__gt=head).order_by("pk").values_list("action", flat=True))


def test_the_crossing_commits_the_close_with_its_order_in_few_queries(
    at_99_percent: Quota, announced: Announced, django_capture_on_commit_callbacks: Any, tmp_path: Path
) -> None:
    q = at_99_percent
    NotificationChannel.objects.create(
        name="开发短信", kind=ChannelKind.SMS_CONSOLE, config={"path": str(tmp_path / "sms.log")}
    )
    head = DomainEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    with CaptureQueriesContext(connection) as ctx:
        announced.ctx = ctx
        with django_capture_on_commit_callbacks(execute=True):
            crossings = post_increments([_record(q, Decimal("150"), key="cross", minutes=1)])
    assert [(c.old_level, c.new_level) for c in crossings] == [(AlertLevel.RED, AlertLevel.EXHAUSTED)]

    # The close leaves first, with the commit of the posting; the indication after it.
    names = [name for name, _id, _n in announced.heard]
    assert names == ["close_valve", "alarm_indication"]
    _name, close_id, until_close = announced.heard[0]
    assert until_close <= CROSSING_UNTIL_CLOSE, _listing(ctx, until_close)
    assert len(ctx.captured_queries) <= CROSSING_TOTAL + _delivery_queries(ctx), _listing(ctx)

    # The order was committed with its command: approved and dispatched, nothing left for the sweep.
    order = ValveOrder.objects.get(valve__logger=q.logger, action=ValveAction.CLOSE)
    assert order.state == ValveOrderState.APPROVED and order.command_id == close_id
    assert Command.objects.get(pk=close_id).name == "close_valve"
    # One alarm for the crossing; its messages were queued after the close left.
    alarm = Alarm.objects.get(source=f"quotas.account:{q.monthly().pk}", type="quota_exhausted")
    assert not alarm.notify_pending
    assert Delivery.objects.filter(alarm=alarm).exists()
    first_delivery = next(
        i for i, x in enumerate(ctx.captured_queries) if 'INSERT INTO "alarms_delivery"' in x["sql"]
    )
    assert first_delivery > until_close
    # Every step is still a domain event, appended together (one chain append before the close).
    assert _crossing_events(q, head) == [
        "alarm_raised", "valve_order_created", "requested", "valve_order_dispatched", "requested",
    ]  # fmt: skip
    appends = [x for x in ctx.captured_queries[:until_close] if "base_chain_head" in x["sql"]]
    assert len(appends) == 1
    assert events.verify_chain().ok
    assert ledger.reconcile().ok


def _delivery_queries(ctx: CaptureQueriesContext) -> int:
    """Queries spent on the deliveries of the channel (after the close; they depend on recipients)."""
    start = next(
        (i for i, x in enumerate(ctx.captured_queries) if '"alarms_notificationchannel"' in x["sql"]), None
    )
    end = next(
        (
            i
            for i, x in enumerate(ctx.captured_queries)
            if 'UPDATE "alarms_alarm" SET "notify_pending"' in x["sql"]
        ),
        None,
    )
    assert start is not None and end is not None
    return end - start - 1


def _listing(ctx: CaptureQueriesContext, upto: int | None = None) -> str:
    rows = ctx.captured_queries[:upto] if upto is not None else ctx.captured_queries
    return "\n".join(f"{i:3} {x['sql'][:140]}" for i, x in enumerate(rows))


def test_a_crossing_that_cannot_reach_its_logger_still_posts_and_waits_for_the_sweep(
    at_99_percent: Quota, announced: Announced, django_capture_on_commit_callbacks: Any
) -> None:
    q = at_99_percent
    DataLogger.objects.filter(pk=q.logger.pk).update(status=DeviceStatus.DISABLED)
    with django_capture_on_commit_callbacks(execute=True):
        crossings = post_increments([_record(q, Decimal("150"), key="cross", minutes=1)])
    assert crossings and crossings[0].new_level == AlertLevel.EXHAUSTED
    order = ValveOrder.objects.get(valve__logger=q.logger, action=ValveAction.CLOSE)
    assert order.state == ValveOrderState.APPROVED and order.command_id is None  # dispatch_due retries
    assert not [name for name, _id, _n in announced.heard if name == "close_valve"]
    assert events.verify_chain().ok


def test_an_ordinary_record_costs_a_posting_and_no_event(at_99_percent: Quota) -> None:
    q = at_99_percent  # at the red level: more data cross nothing until 100 %
    head = DomainEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
    with CaptureQueriesContext(connection) as one:
        assert post_increments([_record(q, Decimal("1"), key="one", minutes=1)]) == []
    assert len(one.captured_queries) <= ORDINARY_RECORD, _listing(one)
    batch = [_record(q, Decimal("1"), key=f"batch{i}", minutes=2 + i) for i in range(3)]
    with CaptureQueriesContext(connection) as three:
        assert post_increments(batch) == []
    assert len(three.captured_queries) <= ORDINARY_RECORD + 2 * FURTHER_RECORD, _listing(three)
    assert DomainEvent.objects.order_by("-pk").values_list("pk", flat=True).first() == head
    with CaptureQueriesContext(connection) as again:  # the same records re-sent: consumed once
        assert post_increments(batch) == []
    assert q.monthly().balance == Decimal("10000") - Decimal("9904")
    assert not any("UPDATE" in x["sql"] for x in again.captured_queries)


def test_frames_of_loggers_without_total_control_cost_the_hook_no_query(world: Any, monkeypatch: Any) -> None:
    """The background traffic (1,000 frames/s in the benchmark) passes the hook on the event loop:
    no thread, no query, and its samples are never built."""
    controlled = setup_quota(world.e_own)
    other_logger = DataLogger.objects.get(outlet__enterprise=world.e_other, is_total_control=True)
    now = timezone.now()
    built: list[frozenset[int]] = []

    def batch(*loggers: DataLogger) -> Any:
        def samples_for(outlets: Any) -> tuple[Any, ...]:
            built.append(frozenset(outlets))
            return tuple(
                SimpleNamespace(
                    logger_id=lg.pk,
                    outlet_id=lg.outlet_id,
                    kind="m",
                    pollutant="w00000",
                    data_time=now,
                    value=Decimal("1"),
                    cou=Decimal("1"),
                )
                for lg in loggers
                if lg.outlet_id in outlets
            )

        return SimpleNamespace(
            outlets=frozenset(lg.outlet_id for lg in loggers), messages=(), samples_for=samples_for
        )

    def no_thread(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the hook left the event loop for a batch it does not act on")

    # The set of controlled outlets is read once every few seconds (kept for the whole test here).
    monkeypatch.setattr(hooks, "_CONTROLLED_TTL", 3600.0)
    try:
        hooks._refresh_controlled()
        assert controlled.logger.outlet_id in hooks._Controlled.outlets
        assert other_logger.outlet_id not in hooks._Controlled.outlets
        monkeypatch.setattr(hooks, "sync_to_async", no_thread)
        with CaptureQueriesContext(connection) as ctx:
            asyncio.run(hooks.post_consumption(batch(other_logger)))
        assert ctx.captured_queries == [] and built == []
    finally:
        hooks.invalidate()  # the next user reads the set afresh


def test_a_valve_of_the_plant_is_closed_through_the_valves_of_its_water_outlets(
    at_99_percent: Quota, announced: Announced, django_capture_on_commit_callbacks: Any
) -> None:
    """A plant-level month (no outlet plan) acts on every water outlet's valve, not the air one."""
    q = at_99_percent
    assert q.monthly().outlet_id is None
    with django_capture_on_commit_callbacks(execute=True):
        post_increments([_record(q, Decimal("150"), key="cross", minutes=1)])
    closed = set(ValveOrder.objects.filter(action=ValveAction.CLOSE).values_list("valve_id", flat=True))
    assert closed == set(
        Valve.objects.filter(outlet__enterprise=q.enterprise, outlet__medium="water").values_list(
            "pk", flat=True
        )
    )
