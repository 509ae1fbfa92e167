"""Running a coroutine from a synchronous test.

``asyncio.run`` refuses to start when the thread already has a running loop — and a browser test
(Playwright's sync API) leaves one behind in the pytest-xdist worker's main thread. The coroutine is
therefore run on a fresh loop in a thread of its own; its exception, if any, is raised here.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run_coroutine(make: Callable[[], Coroutine[Any, Any, T]], timeout: float = 60.0) -> T:
    """``asyncio.run(make())`` in a new thread; ``make`` builds the coroutine there."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = asyncio.run(make())
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=target, name="test-coroutine")
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise TimeoutError(f"coroutine still running after {timeout} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
