"""The simulator against the gateway: every acknowledged value is stored once; valve commands obeyed."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db import connection

from hj212.values import BEIJING, parse_datetime
from totalcap.ingest import services
from totalcap.ingest.models import Command, SiteInfo
from totalcap.ingest.simulator.runner import registry_specs
from totalcap.registry.models import DataLogger, Valve

from .conftest import wait_for
from .sim import SimThread, acked_values

KIND = {"2011": "r", "2051": "m", "2061": "h", "2031": "d"}


def stored(mns: list[str]) -> dict[tuple[str, str, str, str], Decimal]:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT d.mn, s.kind, s.data_time, s.pollutant, s.value FROM monitoring_sample s "
            "JOIN registry_datalogger d ON d.id = s.logger_id WHERE d.mn = ANY(%s)",
            [mns],
        )
        return {
            (mn, kind, t.astimezone(BEIJING).strftime("%Y%m%d%H%M%S"), p): v
            for mn, kind, t, p, v in cur.fetchall()
        }


def check_acked_stored(log: Path, mns: list[str]) -> int:
    acked = acked_values(log)
    rows = stored(mns)
    missing = []
    for (mn, cn, stamp, code), value in acked.items():
        key = (mn, KIND[cn], stamp, code)
        if key not in rows or rows[key] != Decimal(value):
            missing.append((key, value, rows.get(key)))
    assert not missing, missing[:5]
    return len(acked)


def test_simulated_loggers_are_stored(gateway: Any, tx_world: Any, tmp_path: Path) -> None:
    specs = registry_specs(rtd_interval=30, min_interval=10)
    assert len(specs) == 4
    log = tmp_path / "sim.jsonl"
    sim = SimThread(specs, gateway.port, log, speedup=600.0, backlog=timedelta(hours=2)).start()
    try:
        assert wait_for(lambda: len(acked_values(log)) > 200, timeout=30)
    finally:
        counts = sim.stop()
    assert counts.get("acked", 0) > 0
    n = check_acked_stored(log, [s.mn for s in specs])
    assert n > 200
    # site information (3020) arrived too, with the instrument state
    assert SiteInfo.objects.filter(code="i12001").exists()


def test_close_valve_is_executed_and_reported(gateway: Any, tx_world: Any, tmp_path: Path) -> None:
    logger = DataLogger.objects.get(outlet__enterprise=tx_world.e_own, outlet__code="DW001")
    specs = registry_specs([logger.mn])
    log = tmp_path / "valve.jsonl"
    sim = SimThread(specs, gateway.port, log, speedup=60.0).start()
    try:
        assert wait_for(
            lambda: gateway.gateway.sessions.get(logger.pk) and gateway.gateway.sessions[logger.pk].online
        )
        command = services.send_command(
            "quotas", logger, "close_valve", {"valve_id": 1, "reason": 1}, source="quotas"
        )
        assert command.state == "requested"
        assert wait_for(lambda: Command.objects.get(pk=command.pk).state == "executed", timeout=15)
        done = Command.objects.get(pk=command.pk)
        assert (
            done.sent_at
            and done.accepted_at
            and done.completed_at
            and done.exe_rtn == 1
            and done.attempts == 1
        )
        valve = Valve.objects.get(logger=logger)
        assert wait_for(lambda: Valve.objects.get(pk=valve.pk).state == "closed", timeout=10)
    finally:
        sim.stop()
    # the history of the command is a chain of domain events
    from totalcap.base.models import DomainEvent

    actions = list(
        DomainEvent.objects.filter(object_type="ingest.command", object_id=str(command.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["requested", "send", "accept", "execute"]


def test_get_command_result_is_stored(gateway: Any, tx_world: Any, tmp_path: Path) -> None:
    logger = DataLogger.objects.get(outlet__enterprise=tx_world.e_own, outlet__code="DW001")
    sim = SimThread(registry_specs([logger.mn]), gateway.port, tmp_path / "get.jsonl", speedup=1.0).start()
    try:
        assert wait_for(
            lambda: gateway.gateway.sessions.get(logger.pk) and gateway.gateway.sessions[logger.pk].online
        )
        command = services.send_command(None, logger, "get_rtd_interval")
        assert wait_for(lambda: Command.objects.get(pk=command.pk).state == "executed", timeout=15)
        result = Command.objects.get(pk=command.pk).result
        assert result["answers"][0]["items"]["RtdInterval"] == "30"
        clock = services.send_command(None, logger, "get_time")
        assert wait_for(lambda: Command.objects.get(pk=clock.pk).state == "executed", timeout=15)
        answer = Command.objects.get(pk=clock.pk).result["answers"][0]["items"]["SystemTime"]
        assert abs((parse_datetime(answer) - parse_datetime(clock.qn)).total_seconds()) < 60
    finally:
        sim.stop()
