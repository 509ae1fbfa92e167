"""Gateway benchmark: sustained ingest with commit-before-ack, the COPY floor, a back-fill storm and
connection scale. Prints one JSON object.

    python benchmarks/ingest.py            # full run (a few minutes)
    python benchmarks/ingest.py --quick    # small CI run

Runs on a dedicated database (``bench_ingest`` on the embedded server, never the app or test
databases): migrates it, registers synthetic loggers, truncates the sample and raw-frame tables,
then starts ``totalcap gateway`` and a load generator as separate processes. The load generator is
a lean HJ 212 client (pre-rendered 2011 frames with 8 pollutants, HJ 212 CRC, one connection per
logger) that measures the time from writing a frame to reading its 9014.

Figures: frames/s and ack latency p50/p99 (closed loop, a window of frames in flight per
connection); the floor = the same sample rows written by psycopg COPY straight into
``monitoring_sample_r`` as the gateway does (no raw frames, no staging, no acks); the storm = 1,000 loggers each
re-uploading 144 minute records (one at a time, as a history upload waits for each 9014) while
100 live loggers send real-time data; scale = gateway CPU per frame at a fixed offered rate with
100 / 1,000 / 5,000 connections, the frames paced evenly by one clock whatever the number of
connections, read in steady state, median of three interleaved rounds. CPU of the gateway, the client and PostgreSQL is reported so the
bottleneck can be read off.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import resource
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

DB_NAME = "bench_ingest"
CODES = ["a00000", "a21026", "a21002", "a34013", "a19001", "a01012", "a01013", "a01014"]
MN_PREFIX = "BE"


def raise_nofile(limit: int = 65536) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = min(max(limit, soft), hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


# ------------------------------------------------------------------------------ load generator


def mn_of(i: int) -> str:
    return f"{MN_PREFIX}{i:022d}"


_ITEMS: dict[bool, list[str]] = {}


def items_pool(interval: bool) -> list[str]:
    """64 pre-rendered value parts (8 pollutants with random values) per kind: a frame differs from
    the previous one by QN, DataTime and values, and the load generator spends its CPU on sockets."""
    if interval not in _ITEMS:
        rnd = random.random
        pool = []
        for _ in range(64):
            if interval:
                pool.append(";".join(
                    f"{c}-Min={10 + rnd():.2f},{c}-Avg={20 + rnd():.2f},{c}-Max={30 + rnd():.2f},{c}-Cou={100 + rnd():.3f},{c}-Flag=N"
                    for c in CODES
                ))  # fmt: skip
            else:
                pool.append(";".join(f"{c}-Rtd={20 + rnd() * 10:.2f},{c}-Flag=N" for c in CODES))
        _ITEMS[interval] = pool
    return _ITEMS[interval]


def render(cn: str, mn: str, qn: str, stamp: str, interval: bool, variant: int = 0) -> bytes:
    from hj212.crc import crc16_hj212

    items = items_pool(interval)[variant & 63]
    segment = f"QN={qn};ST=31;CN={cn};PW=123456;MN={mn};Flag=5;CP=&&DataTime={stamp};{items}&&".encode()
    return b"##%04d%s%04X\r\n" % (len(segment), segment, crc16_hj212(segment))


class Stats:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.acked = 0
        self.sent = 0
        self.record_from = 0.0

    def ack(self, latency: float, now: float) -> None:
        self.acked += 1
        if now >= self.record_from:
            self.latencies.append(latency)


class Client(asyncio.Protocol):
    """One logger connection: sends frames, matches 9014s by QN (an asyncio protocol, no streams)."""

    def __init__(
        self, index: int, port: int, cn: str, start: datetime, step: timedelta, stats: Stats
    ) -> None:
        self.mn = mn_of(index)
        self.port = port
        self.cn = cn
        self.interval = cn != "2011"
        self.t = start
        self.step = step
        self.stats = stats
        self.seq = 0
        self.base_qn = 20260101000000000 + index * 10_000_000
        self.outstanding: dict[bytes, float] = {}
        self.acked = asyncio.Event()
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.lost = False
        # closed loop: refill the window from data_received (no task or event per ack)
        self.window = 0
        self.until = 0.0
        self.limit: int | None = None

    async def connect(self) -> None:
        loop = asyncio.get_running_loop()
        for _ in range(100):
            try:
                await loop.create_connection(lambda: self, "127.0.0.1", self.port)
                return
            except OSError:
                await asyncio.sleep(0.1 + random.random())
        raise RuntimeError("cannot connect")

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self.acked.set()

    def send_one(self) -> None:
        self.seq += 1
        qn = str(self.base_qn + self.seq)
        stamp = self.t.strftime("%Y%m%d%H%M%S")
        self.t += self.step
        data = render(self.cn, self.mn, qn, stamp, self.interval, self.seq)
        self.outstanding[qn.encode()] = time.monotonic()
        assert self.transport is not None
        self.transport.write(data)
        self.stats.sent += 1

    def data_received(self, data: bytes) -> None:
        *lines, self.buffer = (self.buffer + data).split(b"\r\n")
        now = time.monotonic()
        for line in lines:
            start = line.find(b"QN=")
            if start < 0 or b"CN=9014" not in line:
                continue
            qn = line[start + 3 : line.find(b";", start)]
            sent = self.outstanding.pop(qn, None)
            if sent is not None:
                self.stats.ack(now - sent, now)
                self.acked.set()
        if self.window and now < self.until:
            while len(self.outstanding) < self.window and (self.limit is None or self.seq < self.limit):
                self.send_one()

    async def closed_loop(self, window: int, until: float, limit: int | None = None) -> None:
        """Keep ``window`` frames in flight until ``until`` (or ``limit`` frames sent and acked); each
        ack sends the next frame from :meth:`data_received`."""
        self.window, self.until, self.limit = window, until, limit
        while len(self.outstanding) < window and (limit is None or self.seq < limit):
            self.send_one()
        while time.monotonic() < until and not self.lost:
            if limit is not None and self.seq >= limit and not self.outstanding:
                return
            await asyncio.sleep(min(0.2, max(0.0, until - time.monotonic())))
        self.window = 0
        while self.outstanding and time.monotonic() < until + 30 and not self.lost:
            self.acked.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.acked.wait(), 1.0)

    async def open_loop(self, rate: float, until: float) -> None:
        await asyncio.sleep(random.random() / rate)
        interval = 1.0 / rate
        next_at = time.monotonic()
        while time.monotonic() < until and not self.lost:
            self.send_one()
            next_at += interval
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))


async def paced(clients: list[Client], total_rate: float, until: float) -> None:
    """Open loop with one clock for all connections: frames leave evenly spaced at ``total_rate``,
    the connections taking turns in a fixed shuffled order, so the gateway sees the same arrival
    process whatever the number of connections (per-connection timers of :meth:`Client.open_loop`
    bunch up differently with 100 and with 5,000 connections)."""
    order = list(clients)
    random.shuffle(order)
    start = time.monotonic()
    sent = 0
    while (now := time.monotonic()) < until:
        due = int((now - start) * total_rate)
        while sent < due:
            client = order[sent % len(order)]
            if not client.lost:
                client.send_one()
            sent += 1
        await asyncio.sleep(0.001)


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000, 2)


async def run_client(cfg: dict[str, Any]) -> dict[str, Any]:
    raise_nofile()
    port = cfg["port"]
    start = datetime.now(UTC) - timedelta(days=20)
    mode = cfg["mode"]
    stats = Stats()
    first = cfg.get("first", 0)
    clients = [Client(first + i, port, cfg.get("cn", "2011"), start + timedelta(seconds=cfg.get("offset", 0)),
                      timedelta(seconds=cfg.get("step", 1)), stats) for i in range(cfg["connections"])]  # fmt: skip
    for i in range(0, len(clients), 200):
        await asyncio.gather(*(c.connect() for c in clients[i : i + 200]))
    t0 = time.monotonic()
    stats.record_from = t0 + cfg.get("warmup", 0)
    until = t0 + cfg["duration"]
    if mode == "closed":
        await asyncio.gather(*(c.closed_loop(cfg["window"], until, cfg.get("limit")) for c in clients))
    elif mode == "paced":
        await paced(clients, cfg["rate"] * len(clients), until)
        await asyncio.sleep(2.0)
    else:
        await asyncio.gather(*(c.open_loop(cfg["rate"], until) for c in clients))
        await asyncio.sleep(2.0)
    elapsed = time.monotonic() - t0
    for c in clients:
        if c.transport is not None:
            c.transport.close()
    measured = list(stats.latencies)
    return {
        "sent": stats.sent,
        "acked": stats.acked,
        "elapsed_s": round(elapsed, 2),
        "acked_measured": len(measured),
        "acked_per_s_measured": round(len(measured) / max(elapsed - cfg.get("warmup", 0), 0.001), 1),
        "ack_p50_ms": percentile(measured, 0.5),
        "ack_p99_ms": percentile(measured, 0.99),
        "ack_max_ms": percentile(measured, 1.0),
    }


def spawn_client(cfg: dict[str, Any]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, __file__, "--client", json.dumps(cfg)], stdout=subprocess.PIPE, text=True, cwd=ROOT
    )


def collect(proc: subprocess.Popen[str]) -> dict[str, Any]:
    out, _ = proc.communicate(timeout=1800)
    return json.loads(out.strip().splitlines()[-1])


# ------------------------------------------------------------------------------ orchestration


def setup_django() -> None:
    os.environ["TOTALCAP_DB_NAME"] = DB_NAME
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "totalcap.settings")
    import django

    django.setup()


def prepare(loggers: int) -> str:
    """Migrate the bench database, register ``loggers`` synthetic loggers, empty the stores."""
    from django.core.management import call_command
    from django.db import connection

    from totalcap.ingest.gateway.server import django_dsn
    from totalcap.registry.models import DataLogger, Enterprise, Industry, Jurisdiction, Outlet, Pollutant
    from totalcap.registry.services import load_reference_data
    from totalcap.registry.validators import make_credit_code

    call_command("migrate", interactive=False, verbosity=0)
    if not Jurisdiction.objects.filter(code="321202").exists():
        load_reference_data()
    enterprise, _ = Enterprise.objects.get_or_create(
        credit_code=make_credit_code("91", "321202", "BENCH001"),
        defaults={"name": "基准测试企业", "industry": Industry.objects.get(code="4411"),
                  "jurisdiction": Jurisdiction.objects.get(code="321202")},
    )  # fmt: skip
    outlet, _ = Outlet.objects.get_or_create(enterprise=enterprise, code="DA001",
                                             defaults={"name": "基准烟囱", "medium": "air"})  # fmt: skip
    existing = set(DataLogger.objects.filter(mn__startswith=MN_PREFIX).values_list("mn", flat=True))
    new = [DataLogger(mn=mn_of(i), outlet=outlet, password="123456", system_code="31")
           for i in range(loggers) if mn_of(i) not in existing]  # fmt: skip
    DataLogger.objects.bulk_create(new, batch_size=1000)
    del Pollutant
    with connection.cursor() as cur:
        cur.execute("TRUNCATE monitoring_sample, ingest_rawframe, ingest_loggersession")
        cur.execute("SELECT to_regclass('monitoring_dirty') IS NOT NULL")
        if cur.fetchone()[0]:
            cur.execute("TRUNCATE monitoring_dirty")
    return django_dsn()


class Gateway:
    def __init__(self, port: int) -> None:
        self.metrics_port = free_port()
        env = {**os.environ, "TOTALCAP_DB_NAME": DB_NAME, "DJANGO_SETTINGS_MODULE": "totalcap.settings",
               "TOTALCAP_GATEWAY_RATE_LIMIT": "1000000", "TOTALCAP_GATEWAY_RATE_BURST": "1000000",
               "TOTALCAP_GATEWAY_MAX_CONNECTIONS": "20000", "TOTALCAP_LOG_LEVEL": "WARNING"}  # fmt: skip
        self.log = open(ROOT / "var" / "bench-gateway.log", "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "totalcap", "gateway", "--host", "127.0.0.1", "--port", str(port),
             "--metrics-port", str(self.metrics_port), "--no-backfill", "--name", "bench"],
            env=env, cwd=ROOT, stdout=self.log, stderr=self.log,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("gateway did not start")

    def counters(self) -> dict[str, float]:
        """Counters (summed over their labels) and histogram counts/sums from the gateway's ``/metrics``."""
        import urllib.request

        out: dict[str, float] = {}
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=10) as response:
            for line in response.read().decode().splitlines():
                series, _, value = line.rpartition(" ")
                name = series.split("{")[0]
                if line.startswith("#") or name.endswith("_bucket"):
                    continue
                with contextlib.suppress(ValueError):
                    out[name] = out.get(name, 0.0) + float(value)
        return out

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(60)
        self.log.close()


def speed_probe_ms(repeat: int = 5) -> float:
    """Milliseconds a fixed pure-Python workload takes (the median of ``repeat``): how fast this
    shared machine runs at the moment — lower is faster. Comparable across runs and scripts."""
    import hashlib
    import statistics

    def work() -> float:
        t0 = time.perf_counter()
        acc = 0
        for i in range(200_000):
            acc ^= (i * 2654435761) & 0xFFFF
        hashlib.sha256(b"x" * 100_000).digest()
        return (time.perf_counter() - t0) * 1000

    return round(statistics.median(work() for _ in range(repeat)), 2)


def cpu_of(pids: list[int]) -> float:
    import psutil

    total = 0.0
    for pid in pids:
        try:
            t = psutil.Process(pid).cpu_times()
            total += t.user + t.system
        except psutil.Error:
            continue
    return total


def postgres_pids() -> list[int]:
    """The server processes working for this benchmark: backends connected to the bench database and
    the background processes (WAL writer, checkpointer …); other databases' backends (other suites
    on the shared embedded server) are left out."""
    import psutil
    from django.db import connection

    from totalcap.base.embedded import pgdata_dir

    try:
        master = int((pgdata_dir() / "postmaster.pid").read_text().split()[0])
        children = {p.pid for p in psutil.Process(master).children()}
    except (OSError, ValueError, psutil.Error):
        return []
    with connection.cursor() as cur:
        cur.execute("SELECT pid, datname FROM pg_stat_activity")
        rows = cur.fetchall()
    other = {pid for pid, db in rows if db is not None and db != DB_NAME}
    return [master, *(pid for pid in children if pid not in other)]


def commit_stats(m0: dict[str, float], m1: dict[str, float]) -> dict[str, Any]:
    """Commits between two readings of the gateway's counters, their mean size and duration."""

    def delta(name: str) -> float:
        return m1.get(name, 0.0) - m0.get(name, 0.0)

    commits = delta("totalcap_gateway_batches_total")
    return {
        "commits": int(commits),
        "frames_per_commit": round(delta("totalcap_gateway_batch_frames_sum") / commits, 1)
        if commits
        else None,
        "commit_ms_mean": round(delta("totalcap_gateway_commit_seconds_sum") / commits * 1000, 2)
        if commits
        else None,
    }


def measured(
    gateway: Gateway, cfgs: list[dict[str, Any]], warmup: float = 0.0
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Run client processes; CPU seconds of gateway / clients / PostgreSQL from ``warmup`` seconds
    after the start (connections made, loggers bound) to the end."""
    pg = postgres_pids()  # the gateway's backends exist since it started
    procs = [spawn_client(cfg) for cfg in cfgs]
    time.sleep(warmup)
    clients = [p.pid for p in procs]
    m0 = gateway.counters()
    g0, p0, c0 = cpu_of([gateway.proc.pid]), cpu_of(pg), cpu_of(clients)
    t0 = time.monotonic()
    c1 = c0
    while any(p.poll() is None for p in procs):
        c1 = max(c1, cpu_of(clients))  # a finished client can no longer be asked
        time.sleep(0.2)
    results = [collect(proc) for proc in procs]
    m1 = gateway.counters()
    return results, {
        **commit_stats(m0, m1),
        "measured_s": round(time.monotonic() - t0, 2),
        "gateway_cpu_s": round(cpu_of([gateway.proc.pid]) - g0, 2),
        "postgres_cpu_s": round(cpu_of(pg) - p0, 2),
        "client_cpu_s": round(c1 - c0, 2),
    }


def stored_samples() -> int:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM monitoring_sample")
        return int(cur.fetchone()[0])


def copy_floor(dsn: str, frames: int) -> dict[str, Any]:
    """The same sample rows (8 per frame) COPYed by psycopg straight into the table the gateway
    COPYs real-time rows into (the real-time partition ``monitoring_sample_r``)."""
    import psycopg

    from totalcap.ingest.gateway.rows import SAMPLE_COLUMNS

    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute(
            "SELECT id, outlet_id FROM registry_datalogger WHERE mn = %s", (mn_of(0),)
        ).fetchone()
        assert row is not None
        logger_id, outlet_id = row
        base = datetime.now(UTC) - timedelta(days=25)
        batch = 2000
        chunks = []
        for start in range(0, frames, batch):
            lines = []
            for i in range(start, min(frames, start + batch)):
                stamp = (base + timedelta(seconds=i)).isoformat(sep=" ")
                received = datetime.now(UTC).isoformat(sep=" ")
                for code in CODES:
                    lines.append(f"{logger_id}\t{outlet_id}\tr\t{code}\t{stamp}\t{20 + random.random() * 10:.2f}\t\\N\t\\N"
                                 f"\t\\N\t\\N\t\\N\t\\N\tN\t\t\\N\t\\N\t{i}\t{received}\n")  # fmt: skip
            chunks.append("".join(lines))
        columns = ", ".join(SAMPLE_COLUMNS)
        t0 = time.monotonic()
        for chunk in chunks:
            with (
                conn.transaction(),
                conn.cursor() as cur,
                cur.copy(f"COPY monitoring_sample_r ({columns}) FROM STDIN") as cp,
            ):
                cp.write(chunk)
        elapsed = time.monotonic() - t0
    return {"frames": frames, "rows": frames * len(CODES), "elapsed_s": round(elapsed, 2),
            "frames_per_s": round(frames / elapsed, 1), "rows_per_s": round(frames * len(CODES) / elapsed, 1)}  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small run for CI")
    parser.add_argument(
        "--only",
        default="sustained,floor,storm,scale",
        help="comma-separated parts to run (sustained, floor, storm, scale); floor needs sustained",
    )
    parser.add_argument("--client", help=argparse.SUPPRESS)
    args = parser.parse_args()
    parts = {part.strip() for part in args.only.split(",") if part.strip()}
    unknown = parts - {"sustained", "floor", "storm", "scale"}
    if unknown or not parts or ("floor" in parts and "sustained" not in parts):
        parser.error(
            f"--only: choose from sustained, floor (with sustained), storm, scale; got {args.only!r}"
        )
    if args.client:
        from totalcap.ingest.gateway.config import loop_factory

        # the load generator runs on uvloop too, so that it takes as little of the shared cores as it can
        with asyncio.Runner(loop_factory=loop_factory("uvloop")) as runner:
            print(json.dumps(runner.run(run_client(json.loads(args.client)))))
        return
    raise_nofile()
    quick = args.quick
    conns = 100 if quick else 1000
    scale_points = [50, 100, 200] if quick else [100, 1000, 5000]
    duration = 5.0 if quick else 30.0
    storm_loggers = 50 if quick else 1000
    setup_django()
    dsn = prepare(max(scale_points[-1], conns, storm_loggers + 100))
    result: dict[str, Any] = {"benchmark": "ingest", "quick": quick, "cpus": os.cpu_count(),
                              "date": datetime.now(UTC).isoformat(timespec="seconds"),
                              "speed_probe_ms": speed_probe_ms()}  # fmt: skip
    port = free_port()
    gateway = Gateway(port)
    try:
        if "sustained" in parts:
            run_sustained(result, gateway, dsn, port, conns, duration, floor="floor" in parts)
        if "storm" in parts:
            run_storm(result, port, storm_loggers, quick)
        if "scale" in parts:
            run_scale(result, gateway, port, scale_points, quick)
    finally:
        gateway.stop()
    print(json.dumps(result, ensure_ascii=False))


def run_sustained(
    result: dict[str, Any], gateway: Gateway, dsn: str, port: int, conns: int, duration: float, floor: bool
) -> None:
    """1. Sustained ingest, closed loop; 2. (``floor``) the COPY floor in the same run, same rows."""
    warmup = min(5.0, duration / 3)
    cfg: dict[str, Any] = {"port": port, "mode": "closed", "connections": conns, "window": 4,
                           "duration": duration, "warmup": warmup, "cn": "2011"}  # fmt: skip
    (sustained,), cpu = measured(gateway, [cfg], warmup=warmup)
    frames = sustained["acked"]
    counted = max(sustained["acked_measured"], 1)
    sustained.update(cpu)
    sustained["frames_per_s"] = sustained["acked_per_s_measured"]
    sustained["gateway_cpu_us_per_frame"] = round(cpu["gateway_cpu_s"] / counted * 1e6, 1)
    sustained["postgres_cpu_us_per_frame"] = round(cpu["postgres_cpu_s"] / counted * 1e6, 1)
    sustained["client_cpu_us_per_frame"] = round(cpu["client_cpu_s"] / counted * 1e6, 1)
    sustained["samples_stored"] = stored_samples()
    result["sustained"] = sustained
    if floor:
        copy = copy_floor(dsn, min(frames, 200_000))
        result["copy_floor"] = copy
        result["gateway_vs_floor"] = round(sustained["frames_per_s"] / max(copy["frames_per_s"], 0.001), 3)


def run_storm(result: dict[str, Any], port: int, storm_loggers: int, quick: bool) -> None:
    """3. Back-fill storm: history uploads (one record at a time) + live loggers."""
    storm: dict[str, Any] = {"port": port, "mode": "closed", "connections": storm_loggers, "window": 1, "duration": 600,
             "limit": 144, "cn": "2051", "step": 600, "offset": 0, "first": 0}  # fmt: skip
    live: dict[str, Any] = {"port": port, "mode": "open", "connections": 100 if not quick else 20, "rate": 1.0,
            "duration": 0, "cn": "2011", "first": storm_loggers, "offset": 3_000_000}  # fmt: skip
    t0 = time.monotonic()
    storm_proc = spawn_client(storm)
    time.sleep(1.0)
    live_results = []
    while storm_proc.poll() is None:
        live["duration"] = 5.0
        live_results.append(collect(spawn_client(live)))
        live["offset"] += 10
    storm_result = collect(storm_proc)
    drain = time.monotonic() - t0
    lat = [r["ack_p99_ms"] for r in live_results if r["ack_p99_ms"] is not None]
    result["backfill_storm"] = {
        "loggers": storm_loggers, "records_each": 144, "acked": storm_result["acked"],
        "drain_s": round(drain, 2), "records_per_s": round(storm_result["acked"] / drain, 1),
        "history_ack_p50_ms": storm_result["ack_p50_ms"], "history_ack_p99_ms": storm_result["ack_p99_ms"],
        "live_loggers": live["connections"], "live_ack_p50_ms": [r["ack_p50_ms"] for r in live_results],
        "live_ack_p99_ms_worst": max(lat) if lat else None,
    }  # fmt: skip


def run_scale(result: dict[str, Any], gateway: Gateway, port: int, points: list[int], quick: bool) -> None:
    """4. Connection scale: gateway CPU per frame at a fixed offered rate and the same arrival process
    (one clock, :func:`paced`), in steady state — between two readings taken while every connection
    is up and sending (connecting, binding and the final disconnects are connection costs, not costs
    per frame). The points are measured in interleaved rounds and each point's figure is its median:
    the CPU time of one window moves by ±20 % with the shared machine's speed, the same for every
    function in a profile, so one round alone cannot tell 20 % apart."""
    total_rate = 400.0 if quick else 1500.0
    window = 5.0 if quick else 10.0
    rounds = 1 if quick else 3
    runs: dict[int, list[dict[str, Any]]] = {n: [] for n in points}
    for _round in range(rounds):
        for n in points:
            runs[n].append(_scale_window(gateway, port, n, total_rate, window))
    scale = []
    for n in points:
        ordered = sorted(runs[n], key=lambda r: r["gateway_cpu_us_per_frame"])
        median = dict(ordered[len(ordered) // 2])
        median["rounds_us_per_frame"] = [r["gateway_cpu_us_per_frame"] for r in runs[n]]
        scale.append(median)
    costs = [s["gateway_cpu_us_per_frame"] for s in scale]
    per_round = []
    for i in range(rounds):
        round_costs = [runs[n][i]["gateway_cpu_us_per_frame"] for n in points]
        per_round.append(round(max(round_costs) / max(min(round_costs), 0.001), 3))
    result["connection_scale"] = {"offered_frames_per_s": total_rate, "rounds": rounds, "window_s": window,
                                  "points": scale, "max_over_min": round(max(costs) / max(min(costs), 0.001), 3),
                                  "max_over_min_per_round": per_round}  # fmt: skip


def _scale_window(gateway: Gateway, port: int, n: int, total_rate: float, window: float) -> dict[str, Any]:
    """One measurement of the scale part: ``n`` connections paced at ``total_rate`` frames/s."""
    warm = n / total_rate + 3.0  # every connection has sent its first frame (the logger is bound)
    cfg = {"port": port, "mode": "paced", "connections": n, "rate": total_rate / n, "warmup": warm,
           "duration": warm + window + 2.0, "cn": "2011", "first": 0,
           "offset": 4_000_000 + n * 1000 + random.randrange(1_000_000)}  # fmt: skip
    pg = postgres_pids()
    proc = spawn_client(cfg)
    time.sleep(warm)
    m0, g0, p0, t0 = gateway.counters(), cpu_of([gateway.proc.pid]), cpu_of(pg), time.monotonic()
    time.sleep(window)
    m1, g1, p1, t1 = gateway.counters(), cpu_of([gateway.proc.pid]), cpu_of(pg), time.monotonic()
    res = collect(proc)
    frames = max(m1.get("totalcap_gateway_acks_total", 0.0) - m0.get("totalcap_gateway_acks_total", 0.0), 1.0)
    stats = commit_stats(m0, m1)
    return {"connections": n, "window_s": round(t1 - t0, 2), "frames": int(frames),
            "frames_per_s": round(frames / (t1 - t0), 1),
            "ack_p50_ms": res["ack_p50_ms"], "ack_p99_ms": res["ack_p99_ms"],
            "gateway_cpu_s": round(g1 - g0, 2),
            "gateway_cpu_us_per_frame": round((g1 - g0) / frames * 1e6, 1),
            "postgres_cpu_us_per_frame": round((p1 - p0) / frames * 1e6, 1),
            "frames_per_commit": stats["frames_per_commit"], "commit_ms_mean": stats["commit_ms_mean"]}  # fmt: skip


if __name__ == "__main__":
    main()
