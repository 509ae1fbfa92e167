"""Events appended together: one chain append for the events of one use case, in their order,
only for what commits, and without holding the chain lock while the use case runs."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction

from tests.transactions import second_behind_first
from totalcap.base import events
from totalcap.base.models import DomainEvent


def _chain_lock_sessions(*, granted: bool) -> int:
    """Sessions holding the event chain's lock (``granted``: this one only) or waiting for it."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted = %s "
            "AND (NOT granted OR pid = pg_backend_pid()) "
            "AND ((classid::bigint << 32) | objid::bigint) = %s",
            [granted, events.CHAIN_LOCK_KEY],
        )
        return int(cur.fetchone()[0])


def _holds_chain_lock() -> bool:
    return _chain_lock_sessions(granted=True) > 0


def test_events_of_a_block_are_appended_at_its_end_in_order(world: Any) -> None:
    head = events.verify_chain().head
    with events.appended_together():
        first = events.record(None, world.e_own, "one", {"n": 1})
        with events.appended_together():  # a nested block joins the outer one
            second = events.record("quotas", ("quotas.account", "7"), "two", {})
        third = events.record(world.user("county"), world.e_own, "three", {})
        assert first.pk is None and not first.hash  # collected, not yet in the chain
        assert not DomainEvent.objects.filter(action__in=["one", "two", "three"]).exists()
    assert [e.action for e in DomainEvent.objects.filter(pk__gte=first.pk).order_by("pk")] == [
        "one", "two", "three",
    ]  # fmt: skip
    assert first.prev_hash == head and second.prev_hash == first.hash and third.prev_hash == second.hash
    assert third.actor_label == "county" and second.actor_label == "quotas"
    assert events.verify_chain().ok


def test_the_chain_lock_is_taken_only_by_the_append(world: Any) -> None:
    # the world's events were committed before the test's transaction began: it starts without the lock
    assert not _holds_chain_lock()
    with events.appended_together():
        events.record(None, world.e_own, "one", {})
        assert not _holds_chain_lock()
    assert _holds_chain_lock()  # until the transaction ends, so the chain order is the commit order


def test_an_event_of_a_rolled_back_savepoint_is_not_appended(world: Any) -> None:
    with events.appended_together():
        kept = events.record(None, world.e_own, "kept", {})
        try:
            with transaction.atomic():
                events.record(None, world.e_own, "undone", {})
                raise IntegrityError("the change this event describes failed")
        except IntegrityError:
            pass
        after = events.record(None, world.e_own, "after", {})
    assert not DomainEvent.objects.filter(action="undone").exists()
    assert after.prev_hash == kept.hash
    assert events.verify_chain().ok


def test_an_error_leaving_the_block_appends_nothing(world: Any) -> None:
    before = DomainEvent.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic(), events.appended_together():
        events.record(None, world.e_own, "lost", {})
        raise RuntimeError("the use case failed")
    assert DomainEvent.objects.count() == before
    assert events.record(None, world.e_own, "next", {}).pk is not None  # the chain goes on
    assert events.verify_chain().ok


def test_an_append_waiting_for_the_chain_lock_links_to_the_event_committed_meanwhile(tx_world: Any) -> None:
    """Two transactions append at once: the second waits for the chain lock inside
    ``base_chain_head()`` and, once the first committed, must read the first's event as the head
    (a read on the snapshot of before the wait would fork the chain)."""
    first, second = second_behind_first(
        lambda: events.record(None, tx_world.e_own, "first", {}),
        lambda: events.record(None, tx_world.e_own, "second", {}),
        waiting=lambda: _chain_lock_sessions(granted=False) > 0,
    )
    assert second.prev_hash == first.hash
    assert events.verify_chain().ok
