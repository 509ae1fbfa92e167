"""Gateway settings: the event loop choice, checked before anything starts."""

from __future__ import annotations

import asyncio
import threading

import pytest
from django.core.management import CommandError, call_command

from totalcap.ingest.gateway.config import GatewayConfig, loop_factory


def test_uvloop_is_the_default_event_loop() -> None:
    import uvloop

    factory = loop_factory(GatewayConfig().event_loop)
    assert factory is uvloop.new_event_loop
    outcome: list[object] = []

    def run() -> None:  # in a thread of its own: the test's thread may hold a running loop (Playwright)
        with asyncio.Runner(loop_factory=factory) as runner:
            outcome.append(type(runner.get_loop()))
            outcome.append(runner.run(asyncio.sleep(0, "ran")))

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(10)
    assert outcome == [uvloop.Loop, "ran"]
    assert loop_factory("asyncio") is None  # asyncio.Runner's default loop


def test_an_unknown_event_loop_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="event_loop must be one of uvloop, asyncio"):
        GatewayConfig(event_loop="twisted")
    monkeypatch.setenv("TOTALCAP_GATEWAY_EVENT_LOOP", "twisted")
    with pytest.raises(CommandError, match="gateway settings: event_loop must be one of"):
        call_command("gateway", "--port", "0")
