"""Processes ``totalcap run`` (``make run``) starts for the ingest app: the HJ 212 gateway and, with
the demo data, a simulator driving the demo loggers (sped up: the last hours are replayed within a
few minutes, then the loggers continue live)."""

from __future__ import annotations

import os
import sys
from typing import Any

from totalcap.base.processes import register
from totalcap.base.runner import Child


def _argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "totalcap", *args]


@register
def ingest_processes(options: dict[str, Any]) -> list[Child]:
    port = os.environ.get("TOTALCAP_GATEWAY_PORT", "9212")
    children = [Child("gateway", _argv("gateway", "--port", port, "--wait-for-port"))]
    if not options.get("no_demo") and os.environ.get("TOTALCAP_DEMO_SIMULATOR", "1") != "0":
        speedup = os.environ.get("TOTALCAP_DEMO_SPEEDUP", "120")
        backlog = os.environ.get("TOTALCAP_DEMO_BACKLOG_HOURS", "6")
        children.append(
            Child(
                "simulator",
                _argv("simulate", "--port", port, "--speedup", speedup, "--backlog-hours", backlog),
            )
        )
    return children
