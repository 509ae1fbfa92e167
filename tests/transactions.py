"""Two transactions at once, each in a thread of its own, the second behind the first: for tests of
what the database serialises (the event chain's lock, a unique index)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from django.db import connection, connections, transaction


def lock_awaited() -> bool:
    """Some session of this test database waits for a lock that another holds."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE NOT l.granted AND a.datname = current_database()"
        )
        return bool(cur.fetchone()[0])


def second_behind_first(
    first: Callable[[], Any],
    second: Callable[[], Any],
    *,
    waiting: Callable[[], bool] = lock_awaited,
    timeout: float = 10.0,
) -> tuple[Any, Any]:
    """Run ``first()`` in a transaction and keep it open; run ``second()`` in another transaction;
    once ``waiting()`` says the second waits for the first (a lock not granted), let the first
    commit. Returns both results; fails when a thread raised or the second never waited."""
    done_first = threading.Event()
    release = threading.Event()
    results: dict[str, Any] = {}
    errors: list[BaseException] = []

    def run(name: str, fn: Callable[[], Any], hold: bool) -> None:
        try:
            with transaction.atomic():
                results[name] = fn()
                if hold:
                    done_first.set()
                    assert release.wait(timeout)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            done_first.set()
            connections.close_all()

    a = threading.Thread(target=run, args=("first", first, True))
    a.start()
    assert done_first.wait(timeout)
    b = threading.Thread(target=run, args=("second", second, False))
    b.start()
    deadline = time.monotonic() + timeout
    while not (waited := waiting()) and time.monotonic() < deadline and b.is_alive():
        time.sleep(0.02)
    release.set()
    a.join(timeout)
    b.join(timeout)
    assert not errors, errors
    assert waited, "the second transaction never waited for the first"
    return results["first"], results["second"]
