"""Quota loop benchmark: from the frame that crosses 100 % of a monthly quota arriving at the gateway
to the valve-close command (CN 3801) leaving it, with the gateway under background load. Prints one
JSON object.

    python benchmarks/quota_loop.py            # full run: 1,000 frames/s background, 200 crossings
    python benchmarks/quota_loop.py --quick    # small CI run

Runs on a fresh database ``bench_quota`` on the embedded server (dropped and created by the run):
migrates it, registers the background loggers of ``benchmarks/ingest.py`` and ``--trials``
total-control enterprises, each with a water outlet, a total-control logger, a valve, an approved
monthly plan, a card swiped for this month and 99 % of the month already consumed; the close grace
period is zero. Then ``totalcap gateway`` runs in its own process, the background load generator
(``benchmarks/ingest.py``'s client, open loop, 2011 frames with 8 pollutants) in another, and this
process plays the total-control loggers: all of them connect and bind first (a tiny minute record
each) and answer the commands queued at setup, then one after the other each sends one minute
record (2051) whose flow volume crosses 100 % and measures the time from writing it to reading the
gateway's 3801. 200 crossings by default: the p99 of 60 is their maximum, one stall of the shared
machine; of 200 it is the second largest (the maximum is reported beside it). One more crossing goes
first, as a warm-up, and is reported apart (``first_close_ms``): the first crossing of a gateway
process is the first time it runs the alarm and valve-order code.

Measured on the client side, so each figure includes one loopback round trip on top of the
gateway's own path (decode → group commit → 9014 → consumption hook → ledger posting → threshold
evaluation → valve order → command). The floor in the same run is the ack latency (9014) of the
very same frames: the commit-before-ack cost every frame pays, which the quota loop cannot beat.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import ingest as ib  # noqa: E402  (the sibling benchmark: gateway process, load generator)

DB_NAME = "bench_quota"
MN_PREFIX = "QL"
MONTHLY = Decimal("10000")  # m³, the pilot's example
PRIMED = Decimal("9900")  # consumed before the run: the next 150 m³ cross 100 %


def fresh_database() -> None:
    """Drop and recreate ``bench_quota`` on the embedded server (the ledger is append-only)."""
    os.environ["TOTALCAP_DB_NAME"] = DB_NAME
    if os.environ.get("DATABASE_URL"):
        raise SystemExit("quota_loop: runs on the embedded server only (unset DATABASE_URL)")
    import psycopg

    from totalcap.base import embedded

    info = embedded.ensure_server()
    with psycopg.connect(host=info.host, port=info.port, user="postgres", dbname="postgres",
                         autocommit=True) as conn:  # fmt: skip
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
    embedded._ensure_database(embedded._State.server, DB_NAME)


def mn_of(i: int) -> str:
    return f"{MN_PREFIX}{i:022d}"


def setup_controlled(trials: int) -> list[str]:
    """``trials`` enterprises under total control, each 99 % into its month. Returns their MNs."""
    from django.utils import timezone

    from totalcap.accounts.choices import Role
    from totalcap.accounts.models import User
    from totalcap.permits.models import Permit
    from totalcap.quotas.choices import AllocationMethod
    from totalcap.quotas.models import QuotaPolicy, RegionTotal
    from totalcap.quotas.services import cards, plans, totals
    from totalcap.quotas.services.common import period_of
    from totalcap.quotas.services.consumption import Increment, post_increments
    from totalcap.registry.models import (
        DataLogger,
        Enterprise,
        Industry,
        Jurisdiction,
        Outlet,
        Pollutant,
        Valve,
    )
    from totalcap.registry.validators import make_credit_code

    county_j = Jurisdiction.objects.get(code="321202")
    city_j = Jurisdiction.objects.get(code="321200")
    county = User(
        username="bench_county", full_name="基准区县", role=Role.COUNTY_REGULATOR, jurisdiction=county_j
    )
    city = User(username="bench_city", full_name="基准市局", role=Role.CITY_REGULATOR, jurisdiction=city_j)
    for user in (county, city):
        user.set_unusable_password()
        user.save()
    industry = Industry.objects.get(code="2221")
    flow = Pollutant.objects.get(code="w00000")
    year, _month = period_of(timezone.now())
    enterprises = []
    mns = []
    for i in range(trials):
        e = Enterprise.objects.create(
            credit_code=make_credit_code("91", "321202", f"QL{i:06d}"), name=f"总量基准企业{i:03d}",
            industry=industry, jurisdiction=county_j,
        )  # fmt: skip
        outlet = Outlet.objects.create(enterprise=e, code="DW001", name="废水总排口", medium="water")
        logger = DataLogger.objects.create(mn=mn_of(i), outlet=outlet, password="123456", system_code="32",
                                           is_total_control=True)  # fmt: skip
        logger.pollutants.set([flow])
        Valve.objects.create(outlet=outlet, logger=logger, code="V01", name="总排口阀门")
        QuotaPolicy.objects.create(enterprise=e, close_grace_minutes=0, consumption_source="minute")
        enterprises.append(e)
        mns.append(logger.mn)
    total = RegionTotal.objects.create(jurisdiction=county_j, pollutant=flow, year=year,
                                       total=MONTHLY * 12 * trials * 2, unit="m³")  # fmt: skip
    totals.activate(county, total)
    proposal = totals.propose(county, total, AllocationMethod.MANUAL,
                              {e.pk: (MONTHLY * 12, "申请量") for e in enterprises},
                              keep_reserve_pct=Decimal("0"))  # fmt: skip
    totals.approve(city, proposal)
    now = timezone.now()
    for e in enterprises:
        plan = plans.create_plan(county, e, flow, year, plans.even_split(MONTHLY * 12))
        plans.transition_plan(county, plan, "submit")
        plans.transition_plan(city, plan, "approve", "同意")
        permit = Permit.objects.create(enterprise=e, number=f"9132{e.pk:06d}QL001P", status="valid")
        card = cards.issue_card(city, e, permit, f"C{e.pk:07X}")
        logger = DataLogger.objects.get(outlet__enterprise=e)
        cards.swipe(None, logger, card.uid, at=now)
        outlet_id = logger.outlet_id
        post_increments([Increment(outlet_id, "w00000", now, PRIMED, f"bench:prime:{e.pk}", {"bench": True})])
    return mns


def render_minute(mn: str, qn: str, stamp: str, volume: str) -> bytes:
    from hj212.crc import crc16_hj212

    cp = f"DataTime={stamp};w00000-Avg=41.7,w00000-Cou={volume},w00000-Flag=N"
    segment = f"QN={qn};ST=32;CN=2051;PW=123456;MN={mn};Flag=5;CP=&&{cp}&&".encode()
    return b"##%04d%s%04X\r\n" % (len(segment), segment, crc16_hj212(segment))


def render_answer(mn: str, qn: str, cn: str, item: str) -> bytes:
    from hj212.crc import crc16_hj212

    segment = f"QN={qn};ST=91;CN={cn};PW=123456;MN={mn};Flag=4;CP=&&{item}&&".encode()
    return b"##%04d%s%04X\r\n" % (len(segment), segment, crc16_hj212(segment))


class Logger:
    """A total-control logger: answers every command (9011 accepted, then 9012 executed)."""

    def __init__(self, mn: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.mn, self.reader, self.writer = mn, reader, writer
        self.buf = b""

    def answer(self, line: bytes) -> None:
        if b"ST=91" in line:
            return
        start = line.find(b"QN=")
        if start < 0:
            return
        qn = line[start + 3 : line.find(b";", start)].decode()
        self.writer.write(render_answer(self.mn, qn, "9011", "QnRtn=1"))
        self.writer.write(render_answer(self.mn, qn, "9012", "ExeRtn=1"))

    async def read_until(self, seen: Any, timeout: float) -> float | None:
        """Answer commands until ``seen(line)`` is true for a line; its arrival time, or None."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            *lines, self.buf = self.buf.split(b"\r\n")
            for line in lines:
                now = time.monotonic()
                self.answer(line)
                if seen(line):
                    return now
            try:
                data = await asyncio.wait_for(self.reader.read(65536), deadline - time.monotonic())
            except TimeoutError:
                return None
            if not data:
                return None
            self.buf += data
        return None


async def warm_logger(port: int, mn: str, index: int) -> Logger:
    """Connect and bind the logger with a tiny record (answering the commands that arrive)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    dev = Logger(mn, reader, writer)
    previous = datetime.now(UTC).astimezone().replace(second=0, microsecond=0) - timedelta(minutes=1)
    writer.write(
        render_minute(mn, str(20260000000000000 + index * 10), previous.strftime("%Y%m%d%H%M%S"), "0.010")
    )
    await dev.read_until(lambda line: b"CN=9014" in line, 10.0)
    return dev


async def one_trial(dev: Logger, index: int) -> dict[str, float | None]:
    """Send the crossing record on a warm connection; time its 9014 and the 3801."""
    minute = datetime.now(UTC).astimezone().replace(second=0, microsecond=0)
    qn = str(20260000000000000 + index * 10 + 1).encode()
    acked: float | None = None

    def seen(line: bytes) -> bool:
        nonlocal acked
        if b"CN=9014" in line and b"QN=" + qn + b";" in line and acked is None:
            acked = time.monotonic()
        return b"CN=3801" in line

    t0 = time.monotonic()
    dev.writer.write(render_minute(dev.mn, qn.decode(), minute.strftime("%Y%m%d%H%M%S"), "150.000"))
    closed = await dev.read_until(seen, 10.0)
    dev.writer.close()
    return {
        "sent_at": t0,
        "ack_s": None if acked is None else acked - t0,
        "close_s": None if closed is None else closed - t0,
    }


async def trials(port: int, mns: list[str], gap: float) -> list[dict[str, float | None]]:
    """Warm every logger first (50 at a time) and answer, all together, every command queued for
    them at setup (the allowance, the red-alert indication) until the gateway has nothing more to
    send, so that each crossing meets an idle, bound connection and a settled gateway; then cross
    100 % one logger after the other."""
    devices: list[Logger] = []
    for start in range(0, len(mns), 50):
        chunk = range(start, min(start + 50, len(mns)))
        devices += await asyncio.gather(*(warm_logger(port, mns[i], i) for i in chunk))
    await asyncio.gather(*(dev.read_until(lambda line: False, 5.0) for dev in devices))
    results = []
    for i, dev in enumerate(devices):
        results.append(await one_trial(dev, i))
        await asyncio.sleep(gap)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small run for CI")
    parser.add_argument("--trials", type=int, default=None)
    parser.add_argument("--rate", type=float, default=None, help="background frames/s")
    args = parser.parse_args()
    quick = args.quick
    n = args.trials or (10 if quick else 200)
    rate = args.rate or (200.0 if quick else 1000.0)
    background = 100 if quick else 1000
    ib.raise_nofile()
    speed_before = ib.speed_probe_ms()
    ib.DB_NAME = DB_NAME
    fresh_database()
    ib.setup_django()
    t_setup = time.monotonic()
    ib.prepare(background)
    mns = setup_controlled(n + 1)  # the first crossing warms the gateway's code paths up
    setup_s = time.monotonic() - t_setup
    port = ib.free_port()
    gateway = ib.Gateway(port)
    load = None
    try:
        warm = background / rate + 3.0
        # covers warming the loggers (≤ ~1 s per 50, then 5 s) and the trials (each ≤ ~0.5 s)
        duration = warm + 6.0 + n * 1.0 + 10
        load = ib.spawn_client({"port": port, "mode": "open", "connections": background, "rate": rate / background,
                                "warmup": warm, "duration": duration, "cn": "2011", "first": 0})  # fmt: skip
        time.sleep(warm + 6.0)  # every background logger bound; the hook's controlled set loaded
        first, *results = asyncio.run(trials(port, mns, 0.3))
        background_result = ib.collect(load)
        load = None
    finally:
        if load is not None:
            load.kill()
        gateway.stop()
    close = [r["close_s"] for r in results if r["close_s"] is not None]
    ack = [r["ack_s"] for r in results if r["ack_s"] is not None]
    p = ib.percentile
    out = {
        "benchmark": "quota_loop", "quick": quick, "cpus": os.cpu_count(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"), "setup_s": round(setup_s, 1),
        # the machine's speed before and after the run: ms of a fixed Python workload (lower = faster)
        "speed_probe_ms": [speed_before, ib.speed_probe_ms()],
        "background": {"offered_frames_per_s": rate, "connections": background,
                       "acked_per_s": background_result["acked_per_s_measured"],
                       "ack_p50_ms": background_result["ack_p50_ms"], "ack_p99_ms": background_result["ack_p99_ms"]},
        "crossings": n, "closed": len(close),
        "close_p50_ms": p(close, 0.5), "close_p99_ms": p(close, 0.99), "close_max_ms": p(close, 1.0),
        "floor_ack_p50_ms": p(ack, 0.5), "floor_ack_p99_ms": p(ack, 0.99),
        "close_over_ack_p50": round(sorted(close)[len(close) // 2] / sorted(ack)[len(ack) // 2], 2)
        if close and ack else None,
        "target_p99_ms": 200,
        # the warm-up: the first crossing of the gateway process, not among the figures above
        "first_close_ms": None if first["close_s"] is None else round(first["close_s"] * 1000, 1),
        # per crossing: seconds since the first crossing was sent, ack and close in ms (for outliers)
        "trials": [[round((r["sent_at"] or 0) - (results[0]["sent_at"] or 0), 3),
                    None if r["ack_s"] is None else round(r["ack_s"] * 1000, 1),
                    None if r["close_s"] is None else round(r["close_s"] * 1000, 1)] for r in results],
    }  # fmt: skip
    print(json.dumps(out, ensure_ascii=False))
    if len(close) < n or first["close_s"] is None:
        raise SystemExit(
            f"quota_loop: only {len(close)} of {n} crossings (+ the first) produced a close command"
        )


if __name__ == "__main__":
    main()
