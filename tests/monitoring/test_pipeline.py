"""The periodic pipeline (settling hours, dirty marks from triggers) and partition maintenance."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import connection

from tests.monitoring.conftest import at, emission, feed, feed_hours
from totalcap.base import partitions
from totalcap.monitoring.conf import RETENTION_FLOOR_DAYS, retention_days
from totalcap.monitoring.models import DeviceState, EmissionHour, HourValue, PipelineCursor
from totalcap.monitoring.services import maintenance, pipeline, states
from totalcap.registry.models import Outlet

HOUR = dt.timedelta(hours=1)
NOW = at(15, 0, 25)  # 00:25 on 15 October: hours up to 00:00 are settled (20-minute settle time)


def dirty(outlet: Outlet) -> list[dt.datetime]:
    with connection.cursor() as cur:
        cur.execute("SELECT hour FROM monitoring_dirty WHERE outlet_id = %s ORDER BY hour", [outlet.pk])
        return [r[0] for r in cur.fetchall()]


def test_the_job_settles_hours_including_silent_ones(ww: Outlet, aa: Outlet) -> None:
    feed_hours(ww, "w01018", at(14), [40] * 24)
    feed_hours(ww, "w00000", at(14), [10] * 24)
    report = pipeline.run(now=NOW, outlet_ids=[ww.pk, aa.pk])
    assert PipelineCursor.objects.get(outlet_id=ww.pk).settled_until == at(15)
    assert (
        EmissionHour.objects.filter(outlet_id=ww.pk, pollutant="w01018", data_time__gte=at(14)).count() == 24
    )
    # The air outlet sent nothing: its hours are accounted as missing all the same.
    silent = EmissionHour.objects.filter(outlet_id=aa.pk, data_time__gte=at(14), data_time__lt=at(15))
    assert silent.count() == 24 * 2 and set(silent.values_list("hour_status", flat=True)) == {"m"}
    assert report.accounted >= 24 * 4
    assert dirty(ww) == []  # the marks of the settled hours are consumed


def test_samples_mark_their_hours_dirty(ww: Outlet) -> None:
    feed(ww, "w01018", at(14, 10, 5), [40, 41])
    feed(ww, "w01018", at(14, 10, 5), [40, 41])  # re-sent: no new row, no new mark
    assert dirty(ww) == [at(14, 10)]


def test_late_data_recompute_settled_hours_as_a_new_version(ww: Outlet) -> None:
    feed_hours(ww, "w00000", at(14), [10] * 24)
    feed_hours(ww, "w01018", at(14), [40] * 10 + [None] + [40] * 13)
    pipeline.run(now=NOW, outlet_ids=[ww.pk])
    assert emission(ww, "w01018", at(14, 10)).method == "auto_substituted"
    feed(ww, "w01018", at(14, 10), [80] * 60)  # the logger re-uploads the missing hour's minutes
    assert at(14, 10) in dirty(ww)
    pipeline.run(now=NOW + HOUR, outlet_ids=[ww.pk])
    hour = emission(ww, "w01018", at(14, 10))
    assert (hour.method, hour.version, hour.kg) == ("auto_valid", 2, Decimal("2.88"))
    assert dirty(ww) == []


def test_device_states_mark_the_hours_they_hold_over(ww: Outlet) -> None:
    states.record_device_states(ww.loggers.get(), [states.StateObservation("i12001", "2", at(14, 10, 30))])
    assert dirty(ww) == [at(14, 10), at(14, 11), at(14, 12)]
    assert DeviceState.objects.filter(outlet_id=ww.pk).count() == 1


def test_the_gateways_direct_insert_of_states_is_understood(ww: Outlet) -> None:
    logger = ww.loggers.get()
    with connection.cursor() as cur:  # exactly what the gateway writes
        cur.execute(
            "INSERT INTO monitoring_device_state (logger_id, outlet_id, pollutant, code, value, observed_at, source, "
            "frame_id, received_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, now()) ON CONFLICT DO NOTHING",
            [logger.pk, ww.pk, "w01018", "i12001", "3", at(14, 10), "3020", 77],
        )
    feed(ww, "w01018", at(14, 10), [40] * 60)
    pipeline.recompute([ww.pk], at(14, 10), at(14, 11))
    h = HourValue.objects.get(outlet_id=ww.pk, pollutant="w01018", data_time=at(14, 10))
    assert (h.status, h.label) == ("i", "C")


def test_partitions_are_created_ahead_and_dropped_after_retention(world: Any) -> None:
    report = maintenance.maintain(today=dt.date(2031, 6, 10))
    names = {p.name for p in partitions.existing_partitions("monitoring_sample_m")}
    assert "monitoring_sample_m_y2031m09" in names  # three months ahead
    assert "monitoring_sample_m_y2026m10" not in names  # minute data: ~400 days
    assert "monitoring_hour_y2026m10" not in report.dropped  # hours: at least five years
    assert any(n.startswith("monitoring_sample_m_y2026") for n in report.dropped)
    hours = {p.name for p in partitions.existing_partitions("monitoring_hour")}
    assert "monitoring_hour_y2026m10" in hours


def test_retention_cannot_go_below_the_floor(settings: Any) -> None:
    settings.TOTALCAP_MONITORING = {"retention_m_days": 30, "retention_h_days": 100, "retention_r_days": 7}
    assert retention_days("m") == RETENTION_FLOOR_DAYS["m"]
    assert retention_days("h") == RETENTION_FLOOR_DAYS["h"]
    assert retention_days("r") == 7


def test_the_job_settles_every_active_outlet_and_drops_stray_marks(world: Any, ww: Outlet) -> None:
    ww.status = "disabled"
    ww.save()
    feed(ww, "w01018", at(14, 10), [40])  # a disabled outlet's mark
    pipeline.run(now=NOW)
    settled = set(PipelineCursor.objects.values_list("outlet_id", flat=True))
    active = set(Outlet.objects.filter(status="active").values_list("pk", flat=True))
    assert settled == active and ww.pk not in settled
    assert dirty(ww) == []
