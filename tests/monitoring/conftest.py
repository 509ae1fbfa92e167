"""Helpers for monitoring tests: write samples the way the gateway will, run the pipeline."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from totalcap.registry.models import DataLogger, Enterprise, Outlet

BJ = ZoneInfo("Asia/Shanghai")
#: A past Beijing day used by most tests (a Wednesday in a 31-day month).
DAY = dt.datetime(2026, 10, 14, tzinfo=BJ)


def at(day: int, hour: int = 0, minute: int = 0, month: int = 10, year: int = 2026) -> dt.datetime:
    """A Beijing-time instant."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=BJ)


def water(e: Enterprise) -> Outlet:
    return e.outlets.get(code="DW001")


def air(e: Enterprise) -> Outlet:
    return e.outlets.get(code="DA001")


def logger_of(outlet: Outlet) -> DataLogger:
    return outlet.loggers.get()


def feed(
    outlet: Outlet,
    pollutant: str,
    start: dt.datetime,
    values: Sequence[Any],
    *,
    kind: str = "m",
    step: dt.timedelta = dt.timedelta(minutes=1),
    flags: Sequence[str] | str = "N",
    cou: Sequence[Any] | None = None,
    frame_id: int | None = 1000,
) -> int:
    """Insert samples (``None`` values are skipped = no record), ON CONFLICT DO NOTHING like the gateway."""
    lg = logger_of(outlet)
    rows = []
    for i, value in enumerate(values):
        if value is None:
            continue
        flag = flags if isinstance(flags, str) else flags[i]
        rows.append(
            (
                lg.pk,
                outlet.pk,
                kind,
                pollutant,
                start + i * step,
                None if value == "null" else Decimal(str(value)),
                None if cou is None else cou[i],
                flag,
                frame_id,
            )
        )
    with connection.cursor() as cur:
        cur.executemany(
            "INSERT INTO monitoring_sample (logger_id, outlet_id, kind, pollutant, data_time, value, cou, flag, "
            "frame_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
            rows,
        )
    return len(rows)


def feed_hour(
    outlet: Outlet,
    pollutant: str,
    hour: dt.datetime,
    value: Any,
    flags: Sequence[str] | str = "N",
    n: int = 60,
) -> None:
    """``n`` minute values of one hour, all ``value`` (or per-minute flags)."""
    feed(outlet, pollutant, hour, [value] * n, flags=flags)


@pytest.fixture
def ww(world: Any) -> Outlet:
    return water(world.e_own)


@pytest.fixture
def aa(world: Any) -> Outlet:
    return air(world.e_own)


def recompute(outlet: Outlet, start: dt.datetime, end: dt.datetime, **kwargs: Any) -> Any:
    from totalcap.monitoring.services import pipeline

    return pipeline.recompute([outlet.pk], start, end, **kwargs)


def hour_row(outlet: Outlet, pollutant: str, moment: dt.datetime) -> Any:
    from totalcap.monitoring.models import HourValue

    return HourValue.objects.get(outlet_id=outlet.pk, pollutant=pollutant, data_time=moment)


def emission(outlet: Outlet, pollutant: str, moment: dt.datetime) -> Any:
    from totalcap.monitoring.models import EmissionHour

    return EmissionHour.objects.get(outlet_id=outlet.pk, pollutant=pollutant, data_time=moment)


def configure(outlet: Outlet, **fields: Any) -> Any:
    from totalcap.monitoring.models import OutletMonitoringConfig

    config, _ = OutletMonitoringConfig.objects.update_or_create(outlet=outlet, defaults=fields)
    return config


def feed_hours(
    outlet: Outlet,
    pollutant: str,
    start: dt.datetime,
    values: Sequence[Any],
    flags: Sequence[str] | str = "N",
) -> None:
    """Logger hourly values (2061) — quick history without minute data."""
    feed(outlet, pollutant, start, values, kind="h", step=dt.timedelta(hours=1), flags=flags)


def totals(outlet: Outlet, pollutant: str) -> dict[tuple[str, dt.date], Decimal]:
    from totalcap.monitoring.models import EmissionTotal

    return {
        (t.period, t.period_start): t.kg
        for t in EmissionTotal.objects.filter(outlet_id=outlet.pk, pollutant=pollutant)
    }
