"""The simulated total-control logger counts its pushed allowance down and, offline, closes its
valve by itself when the allowance is used up (3813 on reconnection); online the platform decides."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from hj212.values import BEIJING
from totalcap.ingest.simulator.device import DeviceSpec, SentLog, SimClock, VirtualLogger

START = datetime(2026, 12, 5, 10, 0, tzinfo=BEIJING)


def _logger(allowance: str) -> VirtualLogger:
    spec = DeviceSpec(mn="TC0000000000000000000001", total_control=True, codes=["w00000", "w01018"])
    device = VirtualLogger(spec, SimClock(start=START), SentLog(None))
    device.allowance = allowance
    return device


def _minutes(device: VirtualLogger, count: int) -> list[Decimal]:
    """Run ``count`` minute records; the flow volume (m³) of each."""
    volumes = []
    for i in range(count):
        device._interval("2051", "m", START + timedelta(minutes=i), timedelta(minutes=1))
        stamp = (START + timedelta(minutes=i)).strftime("%Y%m%d%H%M%S")
        volumes.append(Decimal(device.history["m"][stamp]["w00000"]["Cou"]))
    return volumes


def test_offline_the_logger_closes_its_valve_when_the_allowance_is_used_up() -> None:
    device = _logger("0.5")
    volumes = _minutes(device, 60)
    used = Decimal(0)
    closed_after = None
    for minute, volume in enumerate(volumes):
        used += volume
        if used >= Decimal("0.5"):
            closed_after = minute
            break
    assert closed_after is not None, "the simulated flow never used 0.5 m³ in an hour"
    assert not device.valve_open and device.allowance == "0.0000"
    assert all(v == 0 for v in volumes[closed_after + 2 :])  # no flow once closed
    (report,) = device.offline_actions  # one 3813, sent on the next connection
    assert report.cn == "3813"
    assert report.cp.plain["Action"] == "1" and report.cp.plain["Source"] == "2"  # closed, automatically


def test_online_the_count_goes_on_and_the_platform_decides() -> None:
    device = _logger("0.5")
    device.connected.set()  # online: nothing is sent here (no socket), the count still runs
    _minutes(device, 60)
    assert device.valve_open and device.allowance == "0.0000" and not device.offline_actions


def test_without_a_pushed_allowance_nothing_is_counted() -> None:
    device = _logger("0")
    device.allowance = None
    _minutes(device, 30)
    assert device.valve_open and device.allowance is None and not device.offline_actions
