"""Events appended together: one chain append for the events of one use case, in their order,
only for what commits, and without holding the chain lock while the use case runs."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.db import IntegrityError, connection, connections, transaction

from totalcap.base import events
from totalcap.base.models import DomainEvent


def _holds_chain_lock() -> bool:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() "
            "AND ((classid::bigint << 32) | objid::bigint) = %s",
            [events.CHAIN_LOCK_KEY],
        )
        return bool(cur.fetchone()[0])


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
    first_appended = threading.Event()
    release_first = threading.Event()
    made: dict[str, DomainEvent] = {}
    errors: list[BaseException] = []

    def first() -> None:
        try:
            with transaction.atomic():
                made["first"] = events.record(None, tx_world.e_own, "first", {})
                first_appended.set()
                assert release_first.wait(10)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
            first_appended.set()
        finally:
            connections.close_all()

    def second() -> None:
        try:
            with transaction.atomic():
                made["second"] = events.record(None, tx_world.e_own, "second", {})
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    a = threading.Thread(target=first)
    a.start()
    assert first_appended.wait(10)
    b = threading.Thread(target=second)
    b.start()
    deadline = time.monotonic() + 10
    while not _waiting_for_chain_lock() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _waiting_for_chain_lock(), "the second append never waited for the chain lock"
    release_first.set()
    a.join(10)
    b.join(10)
    assert not errors, errors
    assert made["second"].prev_hash == made["first"].hash
    assert events.verify_chain().ok


def _waiting_for_chain_lock() -> bool:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
            "AND ((classid::bigint << 32) | objid::bigint) = %s",
            [events.CHAIN_LOCK_KEY],
        )
        return bool(cur.fetchone()[0])
