"""End to end: simulator → gateway → ``monitoring_sample`` → pipeline → hourly values, accounted hours
and monthly totals of a demo enterprise (its wastewater and its flue-gas outlet), compared with the same
figures computed here from nothing but the simulator's own log of acknowledged frames.

The simulator replays the last few whole hours at a high speed-up (``SimClock`` with a back-log, one
minute record per simulated minute); the gateway runs in this process on the committed test database.
The expected figures follow docs/monitoring.md §5–§7 and §9 independently of the SQL that computes them:
an hour is valid with ≥ 45 valid minutes (every simulated minute carries flag N); wastewater
concentrations are flow-weighted over the minutes, flue-gas values arithmetic; the volume is the mean
flow × 3 600 s (L/s → m³ for water); the amount is C × V × 10⁻³ (water) or × 10⁻⁶ (flue gas); every valid
hour of a total-control pollutant is accounted as ``auto_valid`` with that amount, and a month total is
the sum of its hours.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal, localcontext
from pathlib import Path
from typing import Any

from django.db import connection
from django.utils import timezone

from hj212.values import BEIJING, format_datetime, parse_datetime
from tests.ingest.conftest import gateway, wait_for  # noqa: F401  (fixture)
from tests.ingest.sim import SimThread, read_log
from tests.monitoring.conftest import air, water
from totalcap.ingest.simulator.runner import registry_specs
from totalcap.monitoring.models import EmissionHour, HourValue
from totalcap.monitoring.services import accounting, pipeline

HOURS = 4
SPEEDUP = 1000.0  # 4 simulated hours in about 15 s
HOUR = dt.timedelta(hours=1)
MINUTE = dt.timedelta(minutes=1)
#: Flow parameter per medium and the factor from its unit to m³/s (w00000 in L/s, a00000 in m³/s).
FLOW = {"water": ("w00000", Decimal("0.001")), "air": ("a00000", Decimal(1))}
#: mg/L × m³ → kg (water), mg/m³ × m³ → kg (flue gas).
KG_FACTOR = {"water": Decimal("0.001"), "air": Decimal("0.000001")}
#: Total-control pollutants each outlet monitors (accounted per hour; docs/monitoring.md §9).
ACCOUNTED = {"water": ["w01018", "w21003"], "air": ["a21002", "a21026"]}
MIN_VALID_MINUTES = 45


def close(actual: Decimal | None, expected: Decimal, places: int = 6) -> bool:
    """Equal up to the stored precision (``places`` decimals), relative for large figures."""
    assert actual is not None
    return abs(actual - expected) <= Decimal(1).scaleb(-places) * max(Decimal(1), abs(expected))


def sent_records(log: Path, mn: str, cn: str) -> dict[dt.datetime, dict[str, dict[str, str]]]:
    """data time (UTC) → items of every ``cn`` record that ``mn`` wrote to the gateway.

    "Sent", not "acked": at a high speed-up two frames of one logger can share a millisecond QN, and the
    simulator then logs only one of the two acknowledgements; the test checks instead that every sent
    record is stored, value by value."""
    out = {}
    for entry in read_log(log):
        if entry["event"] == "sent" and entry["mn"] == mn and entry.get("cn") == cn and "items" in entry:
            out[parse_datetime(entry["data_time"]).astimezone(dt.UTC)] = entry["items"]
    return out


def uploads_produced(log: Path, mns: list[str], end: dt.datetime) -> bool:
    """Every logger has produced its minute record of the last minute before ``end`` and its hour
    record of the last hour."""
    produced = {
        (e["mn"], e.get("cn"), e.get("data_time"))
        for e in read_log(log)
        if e["event"] in ("sent", "buffered")
    }
    last_minute, last_hour = format_datetime(end - MINUTE), format_datetime(end - HOUR)
    return all((mn, "2051", last_minute) in produced and (mn, "2061", last_hour) in produced for mn in mns)


def sent_minute_values(
    minutes: dict[str, dict[dt.datetime, dict[str, dict[str, str]]]],
    loggers: dict[str, Any],
    start: dt.datetime,
    end: dt.datetime,
) -> dict[tuple[int, str, dt.datetime], Decimal]:
    return {
        (loggers[medium].pk, code, t): Decimal(fields["Avg"])
        for medium, records in minutes.items()
        for t, items in records.items()
        if start <= t < end
        for code, fields in items.items()
    }


def stored_minute_values(
    logger_ids: list[int], start: dt.datetime, end: dt.datetime
) -> dict[tuple[int, str, dt.datetime], Decimal]:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT logger_id, pollutant, data_time, value FROM monitoring_sample WHERE kind = 'm' "
            "AND logger_id = ANY(%s) AND data_time >= %s AND data_time < %s",
            [logger_ids, start, end],
        )
        return {(lg, code, t): value for lg, code, t, value in cur.fetchall()}


def expected_hours(
    minutes: dict[dt.datetime, dict[str, dict[str, str]]], medium: str, start: dt.datetime
) -> dict[str, dict[str, Decimal]]:
    """Per pollutant: the hour's mean, volume (m³) and amount (kg) from the logged minute records."""
    flow_code, flow_factor = FLOW[medium]
    in_hour = {t: items for t, items in minutes.items() if start <= t < start + HOUR}
    assert all(fields["Flag"] == "N" for items in in_hour.values() for fields in items.values()), (
        "the simulator sends flag N only"
    )
    assert len(in_hour) >= MIN_VALID_MINUTES, f"{start}: only {len(in_hour)} minute records acknowledged"
    flows = {t: Decimal(items[flow_code]["Avg"]) for t, items in in_hour.items()}
    mean_flow = sum(flows.values()) / len(flows)
    volume = mean_flow * flow_factor * 3600
    out: dict[str, dict[str, Decimal]] = {flow_code: {"value": mean_flow, "volume": volume}}
    codes = {code for items in in_hour.values() for code in items} - {flow_code}
    for code in sorted(codes):
        values = {t: Decimal(items[code]["Avg"]) for t, items in in_hour.items() if code in items}
        if medium == "water":
            weight = sum(flows[t] for t in values)
            mean = sum(v * flows[t] for t, v in values.items()) / weight
        else:
            mean = sum(values.values()) / len(values)
        row = {"value": mean}
        if code in ACCOUNTED[medium]:
            row["volume"] = volume
            row["amount"] = mean * volume * KG_FACTOR[medium]
        out[code] = row
    return out


def test_simulated_enterprise_totals_match_its_own_log(
    gateway: Any,  # noqa: F811
    tx_world: Any,
    tmp_path: Path,
    settings: Any,
) -> None:
    enterprise = tx_world.e_own
    outlets = {"water": water(enterprise), "air": air(enterprise)}
    loggers = {medium: outlet.loggers.get() for medium, outlet in outlets.items()}
    # The stretch: the last HOURS whole hours that ended at least two minutes ago (so that the simulated
    # clock, which never runs ahead of real time, can reach its end at full speed).
    now = timezone.now()
    end = (now - 2 * MINUTE).replace(minute=0, second=0, microsecond=0)
    start = end - HOURS * HOUR
    # The simulated clock starts two seconds after ``start``: its first minute record is ``start``.
    backlog = timezone.now() - start - dt.timedelta(seconds=2)
    specs = registry_specs([lg.mn for lg in loggers.values()], min_interval=1, realtime=False)
    assert len(specs) == 2
    log = tmp_path / "sim.jsonl"
    sim = SimThread(specs, gateway.port, log, speedup=SPEEDUP, backlog=backlog).start()
    try:
        assert wait_for(lambda: uploads_produced(log, [s.mn for s in specs], end), timeout=30, interval=0.2)
    finally:
        counts = sim.stop()
    assert counts.get("acked", 0) > HOURS * 60 * 2

    # Wait until the gateway has stored every minute value the loggers sent, then check them one by one.
    minutes = {medium: sent_records(log, lg.mn, "2051") for medium, lg in loggers.items()}
    sent = sent_minute_values(minutes, loggers, start, end)
    logger_ids = [lg.pk for lg in loggers.values()]
    assert wait_for(lambda: len(stored_minute_values(logger_ids, start, end)) >= len(sent), timeout=10)
    assert stored_minute_values(logger_ids, start, end) == sent

    # Settle exactly the simulated hours: the pipeline starts HOURS back from its boundary (``end``).
    settings.TOTALCAP_MONITORING = {**getattr(settings, "TOTALCAP_MONITORING", {}), "backfill_hours": HOURS}
    report = pipeline.run(now=end + dt.timedelta(minutes=20), outlet_ids=[o.pk for o in outlets.values()])
    assert report.hours > 0

    month_kg: dict[tuple[int, str, dt.date], Decimal] = defaultdict(Decimal)
    with localcontext() as ctx:
        ctx.prec = 40
        for medium, outlet in outlets.items():
            for h in range(HOURS):
                hour = start + h * HOUR
                for code, want in expected_hours(minutes[medium], medium, hour).items():
                    row = HourValue.objects.get(outlet_id=outlet.pk, pollutant=code, data_time=hour)
                    assert row.status == "v" and row.label == "N", (medium, code, hour, row.status, row.label)
                    assert close(row.value, want["value"]), (medium, code, hour, row.value, want["value"])
                    if "volume" in want:
                        assert close(row.volume_m3, want["volume"]), (medium, code, hour, row.volume_m3, want)
                    if "amount" not in want:
                        continue
                    assert close(row.amount_kg, want["amount"], 9), (medium, code, hour, row.amount_kg, want)
                    accounted = EmissionHour.objects.get(outlet_id=outlet.pk, pollutant=code, data_time=hour)
                    assert accounted.method == "auto_valid" and accounted.version == 1
                    assert close(accounted.kg, want["amount"], 9), (medium, code, hour, accounted.kg, want)
                    month = hour.astimezone(BEIJING).date().replace(day=1)
                    month_kg[(outlet.pk, code, month)] += want["amount"]

    # Hours outside the stretch that were accounted at all (a day record 2031 sent at Beijing midnight
    # makes the pipeline recompute that whole day) had no data: they add nothing to the totals.
    others = EmissionHour.objects.filter(outlet_id__in=[o.pk for o in outlets.values()]).exclude(
        data_time__gte=start, data_time__lt=end
    )
    assert all(h.kg == 0 and h.method != "auto_valid" for h in others), list(others.values())[:3]
    months = sorted({m for _o, _c, m in month_kg})
    totals = accounting.monthly_totals([o.pk for o in outlets.values()], months[0], months[-1])
    assert {(t.outlet_id, t.pollutant, t.month) for t in totals} == set(month_kg)
    for total in totals:
        want = month_kg[(total.outlet_id, total.pollutant, total.month)]
        assert close(total.kg, want, 6), (total, want)
        assert total.method == "auto_valid"
