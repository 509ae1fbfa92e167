"""The writer's two connections may commit batches out of order; acks go out at each commit, the
post-commit actions and hooks follow the order the batches were formed in (their frames' arrival)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from totalcap.ingest import hooks
from totalcap.ingest.gateway.config import GatewayConfig
from totalcap.ingest.gateway.metrics import Metrics
from totalcap.ingest.gateway.writer import BatchResult, GroupWriter, Pending

from ..aio import run_coroutine


class Target:
    def __init__(self, events: list[tuple[str, str]]) -> None:
        self.events = events

    def write_acks(self, acks: list[tuple[bytes, str]]) -> bool:
        self.events.extend(("ack", data.decode()) for data, _cn in acks)
        return True


def _frame(name: str, events: list[tuple[str, str]]) -> Pending:
    frame = Pending(datetime.now(UTC), 0.0, "i", "ok", b"raw", "MN1", logger_id=1, outlet_id=2, cn="3811",
                    ack=name.encode(), target=Target(events), message={"CardUid": name})  # fmt: skip
    frame.after_commit = [lambda _frame_id: events.append(("action", name))]
    return frame


def test_a_batch_committed_first_is_acked_at_once_and_handled_after_the_one_formed_before_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    events: list[tuple[str, str]] = []

    async def hook(batch: hooks.CommittedBatch) -> None:
        events.extend(("hook", message.items["CardUid"]) for message in batch.messages)

    monkeypatch.setattr(hooks, "_hooks", [hook])
    writer = GroupWriter(GatewayConfig(name="gw1", writer_connections=2), Metrics(), "")
    first, second, third = [_frame("a", events)], [_frame("b", events)], [_frame("c", events)]

    async def main() -> None:
        release = asyncio.Event()

        async def commit(slot: Any, batch: list[Pending]) -> BatchResult:
            if batch is first:
                await release.wait()  # the first batch's commit is the slow one
            return BatchResult(frames=len(batch))

        writer._commit_retrying = commit  # type: ignore[method-assign]
        slow = asyncio.create_task(writer._commit_task(writer._slots[0], first, 0))
        await writer._commit_task(writer._slots[1], second, 1)
        await writer._commit_task(writer._slots[1], third, 2)
        await asyncio.sleep(0)
        assert events == [("ack", "b"), ("ack", "c")]  # acked at their commits; their actions wait
        assert writer._held == 2  # and count for back-pressure meanwhile
        release.set()
        await slow
        for _ in range(3):
            await asyncio.sleep(0)

    run_coroutine(main)
    assert writer._held == 0
    assert events[:3] == [("ack", "b"), ("ack", "c"), ("ack", "a")]
    assert [e for e in events if e[0] == "action"] == [("action", "a"), ("action", "b"), ("action", "c")]
    assert [e for e in events if e[0] == "hook"] == [("hook", "a"), ("hook", "b"), ("hook", "c")]


def test_a_batch_given_back_unfinished_does_not_hold_the_later_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    """At shutdown a commit task can be cancelled (its frames go back to the queue): the batches formed
    after it are handled without waiting for it."""
    events: list[tuple[str, str]] = []
    monkeypatch.setattr(hooks, "_hooks", [])
    writer = GroupWriter(GatewayConfig(name="gw1", writer_connections=2), Metrics(), "")
    first, second = [_frame("a", events)], [_frame("b", events)]

    async def main() -> None:
        async def commit(slot: Any, batch: list[Pending]) -> BatchResult:
            if batch is first:
                await asyncio.Event().wait()
            return BatchResult(frames=len(batch))

        writer._commit_retrying = commit  # type: ignore[method-assign]
        stuck = asyncio.create_task(writer._commit_task(writer._slots[0], first, 0))
        await asyncio.sleep(0)  # the first commit has started and waits
        await writer._commit_task(writer._slots[1], second, 1)
        assert ("action", "b") not in events
        stuck.cancel()
        with pytest.raises(asyncio.CancelledError):
            await stuck

    run_coroutine(main)
    assert events == [("ack", "b"), ("action", "b")]
    assert writer._batch == first  # back in the queue, to be committed again
