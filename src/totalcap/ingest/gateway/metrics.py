"""Gateway metrics in the Prometheus text exposition format (no client library needed).

Each gateway process keeps its own counters, gauges and histograms, serves them on its metrics
port (``GET /metrics``) and writes a JSON snapshot to ``ingest_gatewaystatus`` every few seconds;
the web process renders all live snapshots at ``/ingest/metrics`` with a ``gateway`` label, so one
scrape covers a fleet behind a load balancer.
"""

from __future__ import annotations

import asyncio
import bisect
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("totalcap.ingest.metrics")

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
SIZE_BUCKETS = (1, 5, 10, 25, 50, 100, 250, 500, 1000, 2000, 5000)

#: name → (type, help). The names are the contract of docs/gateway.md.
DEFINITIONS: dict[str, tuple[str, str]] = {
    "totalcap_gateway_connections": ("gauge", "Open TCP connections"),
    "totalcap_gateway_loggers_online": ("gauge", "Loggers bound to a connection of this gateway"),
    "totalcap_gateway_connections_total": ("counter", "Connections accepted"),
    "totalcap_gateway_connections_refused_total": ("counter", "Connections refused (max_connections)"),
    "totalcap_gateway_disconnects_total": ("counter", "Connections closed by the gateway, by reason"),
    "totalcap_gateway_frames_total": ("counter", "Frames received, by CN"),
    "totalcap_gateway_bad_frames_total": ("counter", "Frames or byte runs that were not accepted, by reason"),
    "totalcap_gateway_bytes_received_total": ("counter", "Bytes received"),
    "totalcap_gateway_frames_sent_total": ("counter", "Frames sent, by CN (acks 9011/9013/9014, commands)"),
    "totalcap_gateway_acks_total": ("counter", "Acknowledgements written after commit"),
    "totalcap_gateway_samples_stored_total": ("counter", "Sample values newly stored"),
    "totalcap_gateway_samples_duplicate_total": ("counter", "Sample values already stored (re-sends)"),
    "totalcap_gateway_batches_total": ("counter", "Group commits"),
    "totalcap_gateway_commit_errors_total": ("counter", "Failed commit attempts, by kind"),
    "totalcap_gateway_batch_frames": ("histogram", "Frames per group commit"),
    "totalcap_gateway_commit_seconds": ("histogram", "Duration of one group commit"),
    "totalcap_gateway_ack_latency_seconds": ("histogram", "Frame arrival to ack written"),
    "totalcap_gateway_queue_frames": ("gauge", "Frames waiting for commit"),
    "totalcap_gateway_reading_paused": ("gauge", "1 while reading is paused for back-pressure"),
    "totalcap_gateway_database_up": ("gauge", "1 while the writer's database connection works"),
    "totalcap_gateway_rate_limited_total": ("counter", "Times a connection was paused by its rate limit"),
    "totalcap_gateway_commands_total": ("counter", "Command transitions, by action"),
    "totalcap_gateway_backfill_requests_total": ("counter", "History requests for gaps, by CN"),
    "totalcap_gateway_hook_batches_total": ("counter", "Batches handed to post-commit hooks"),
    "totalcap_gateway_copy_fallbacks_total": (
        "counter",
        "Batches whose direct COPY met a value already stored and went through the staged insert",
    ),
    "totalcap_gateway_unbound_dropped_total": (
        "counter",
        "Bad frames of connections without a logger counted but not stored (over unbound_store_rate)",
    ),
}


def _labels(labels: dict[str, str]) -> str:
    if not labels:
        return ""
    inner = ",".join(f'{k}="{_escape(v)}"' for k, v in sorted(labels.items()))
    return "{" + inner + "}"


def _escape(value: str) -> str:
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


@dataclass
class Histogram:
    buckets: tuple[float, ...]
    counts: list[int] = field(default_factory=list)
    total: float = 0.0
    n: int = 0

    def __post_init__(self) -> None:
        if not self.counts:
            self.counts = [0] * (len(self.buckets) + 1)

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(self.buckets, value)] += 1
        self.total += value
        self.n += 1


class Metrics:
    """Counters, gauges and histograms of one gateway."""

    def __init__(self) -> None:
        self.counters: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
        self.gauges: dict[str, Callable[[], float] | float] = {}
        self.histograms: dict[str, Histogram] = {
            "totalcap_gateway_batch_frames": Histogram(SIZE_BUCKETS),
            "totalcap_gateway_commit_seconds": Histogram(LATENCY_BUCKETS),
            "totalcap_gateway_ack_latency_seconds": Histogram(LATENCY_BUCKETS),
        }

    def inc(self, name: str, amount: float = 1.0, **labels: str) -> None:
        if not labels:
            key: tuple[str, tuple[tuple[str, str], ...]] = (name, ())
        elif len(labels) == 1:
            key = (name, tuple(labels.items()))
        else:
            key = (name, tuple(sorted(labels.items())))
        self.counters[key] = self.counters.get(key, 0.0) + amount

    def gauge(self, name: str, value: Callable[[], float] | float) -> None:
        self.gauges[name] = value

    def observe(self, name: str, value: float) -> None:
        self.histograms[name].observe(value)

    def counter_value(self, name: str, **labels: str) -> float:
        return self.counters.get((name, tuple(sorted(labels.items()))), 0.0)

    def snapshot(self) -> dict[str, Any]:
        """A JSON-able copy: ``{"counters": [[name, labels, value]], "gauges": {...}, "histograms": {...}}``."""
        gauges = {name: float(v() if callable(v) else v) for name, v in self.gauges.items()}
        return {
            "counters": [
                [name, dict(labels), value] for (name, labels), value in sorted(self.counters.items())
            ],
            "gauges": gauges,
            "histograms": {
                name: {"buckets": list(h.buckets), "counts": list(h.counts), "sum": h.total, "count": h.n}
                for name, h in self.histograms.items()
            },
        }


def render(snapshots: list[tuple[dict[str, str], dict[str, Any]]]) -> str:
    """Prometheus text for snapshots of one or more gateways (each with its own constant labels)."""
    families: dict[str, list[str]] = {}
    for const, snap in snapshots:
        for name, labels, value in snap.get("counters", []):
            families.setdefault(name, []).append(f"{name}{_labels({**const, **labels})} {value:g}")
        for name, value in snap.get("gauges", {}).items():
            families.setdefault(name, []).append(f"{name}{_labels(const)} {value:g}")
        for name, hist in snap.get("histograms", {}).items():
            lines = families.setdefault(name, [])
            cumulative = 0
            for bound, count in zip([*hist["buckets"], "+Inf"], hist["counts"], strict=True):
                cumulative += count
                le = bound if isinstance(bound, str) else f"{bound:g}"
                lines.append(f"{name}_bucket{_labels({**const, 'le': le})} {cumulative}")
            lines.append(f"{name}_sum{_labels(const)} {hist['sum']:g}")
            lines.append(f"{name}_count{_labels(const)} {hist['count']}")
    out: list[str] = []
    for name in sorted(families):
        kind, help_text = DEFINITIONS.get(name, ("untyped", name))
        out.append(f"# HELP {name} {help_text}")
        out.append(f"# TYPE {name} {kind}")
        out.extend(families[name])
    return "\n".join(out) + "\n"


async def serve(metrics: Metrics, host: str, port: int, labels: dict[str, str]) -> asyncio.Server:
    """A minimal HTTP endpoint: ``GET /metrics`` (Prometheus text) and ``GET /healthz``."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            path = request.split(b" ", 2)[1] if request.count(b" ") >= 2 else b"/"
            if path.startswith(b"/metrics"):
                body = render([(labels, metrics.snapshot())]).encode()
                status = b"200 OK"
                ctype = b"text/plain; version=0.0.4; charset=utf-8"
            elif path.startswith(b"/healthz"):
                body, status, ctype = b"ok\n", b"200 OK", b"text/plain"
            else:
                body, status, ctype = b"not found\n", b"404 Not Found", b"text/plain"
            writer.write(
                b"HTTP/1.1 " + status + b"\r\nContent-Type: " + ctype
                + b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body
            )  # fmt: skip
            await writer.drain()
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass
        finally:
            writer.close()

    return await asyncio.start_server(handle, host, port)
