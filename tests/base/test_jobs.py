"""Jobs are queued in the caller's transaction and run by the worker."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection, transaction

from totalcap.base import jobs


def _queued(name: str) -> int:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM procrastinate_jobs WHERE task_name = %s AND status = 'todo'", [name]
        )
        return int(cur.fetchone()[0])


def test_job_exists_only_if_the_transaction_commits(tx_world: Any) -> None:
    name = "base.verify_event_chain"
    start = _queued(name)
    with pytest.raises(RuntimeError), transaction.atomic():
        jobs.defer(name, timestamp=0)
        raise RuntimeError("roll back")
    assert _queued(name) == start
    with transaction.atomic():
        jobs.defer(name, timestamp=0)
    assert _queued(name) == start + 1
    jobs.run_pending()
    assert _queued(name) == 0
    with connection.cursor() as cur:  # ran, with its argument, and succeeded (not merely dequeued)
        cur.execute(
            "SELECT status, args FROM procrastinate_jobs WHERE task_name = %s ORDER BY id DESC LIMIT 1",
            [name],
        )
        status, args = cur.fetchone()
    assert status == "succeeded", (status, args)
