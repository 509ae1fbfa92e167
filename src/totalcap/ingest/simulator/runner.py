"""Run many virtual loggers in one asyncio loop (``totalcap simulate`` and ``make run``)."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from totalcap.ingest.simulator.device import DeviceSpec, SentLog, SimClock, VirtualLogger

log = logging.getLogger("totalcap.ingest.simulator")


def registry_specs(
    mns: Iterable[str] | None = None, misbehave: frozenset[str] = frozenset(), **overrides: object
) -> list[DeviceSpec]:
    """Specs of the registry's active loggers (all, or those in ``mns``), with their MN, PW and pollutants."""
    from totalcap.registry.choices import DeviceStatus
    from totalcap.registry.models import DataLogger

    loggers = (
        DataLogger.objects.filter(status=DeviceStatus.ACTIVE)
        .select_related("outlet")
        .prefetch_related("pollutants")
        .order_by("pk")
    )
    if mns:
        loggers = loggers.filter(mn__in=list(mns))
    cards = _card_uids()
    specs = []
    for logger in loggers:
        codes = sorted(p.code for p in logger.pollutants.all())
        if not codes:
            codes = (
                ["w00000", "w01018", "w21003"]
                if logger.system_code == "32"
                else ["a00000", "a21026", "a21002"]
            )
        flows = [c for c in codes if c in ("w00000", "a00000")]
        codes = flows + [c for c in codes if c not in flows]
        specs.append(
            DeviceSpec(
                mn=logger.mn, pw=logger.password or "", st=logger.system_code or "32", codes=codes,
                version=logger.protocol_version, total_control=logger.is_total_control, seed=logger.pk,
                card_uid=cards.get(logger.outlet.enterprise_id) if logger.is_total_control else None,
                misbehave=misbehave, **overrides,  # type: ignore[arg-type]
            )
        )  # fmt: skip
    return specs


def _card_uids() -> dict[int, str]:
    """The active IC card of each enterprise (total control), when its UID can go over HJ 212 (hex)."""
    from totalcap.quotas.choices import CardStatus
    from totalcap.quotas.models import Card

    uids: dict[int, str] = {}
    for enterprise_id, uid in Card.objects.filter(status=CardStatus.ACTIVE).values_list(
        "enterprise_id", "uid"
    ):
        if uid and len(uid) <= 32 and all(ch in "0123456789ABCDEFabcdef" for ch in uid):
            uids.setdefault(enterprise_id, uid)
    return uids


async def run_devices(
    specs: list[DeviceSpec],
    host: str,
    port: int,
    *,
    speedup: float = 1.0,
    backlog: timedelta = timedelta(0),
    log_path: str | None = None,
    duration: float | None = None,
    install_signals: bool = True,
    stop: asyncio.Event | None = None,
    devices: list[VirtualLogger] | None = None,
) -> dict[str, int]:
    """Run the devices until SIGTERM / SIGINT, ``stop`` or ``duration`` seconds; returns event counts."""
    stop = stop or asyncio.Event()
    clock = SimClock(speedup, datetime.now(UTC) - backlog, catch_up=backlog > timedelta(0))
    sent_log = SentLog(log_path)
    loop = asyncio.get_running_loop()
    if install_signals:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
    created = [VirtualLogger(spec, clock, sent_log) for spec in specs]
    if devices is not None:
        devices.extend(created)
    log.info("simulating %s loggers against %s:%s (speed-up %sx)", len(created), host, port, speedup)
    tasks = [loop.create_task(device.run(host, port, stop)) for device in created]
    if duration is not None:
        loop.call_later(duration, stop.set)
    await stop.wait()
    await asyncio.gather(*tasks, return_exceptions=True)
    sent_log.close()
    return dict(sent_log.counts)
