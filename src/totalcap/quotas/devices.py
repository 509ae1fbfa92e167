"""The device side of total control, through the gateway's command service (app ``ingest``):
valve commands, the sound-light alarm, the allowance push, and the evidence read back from data.

Kept in one module so the quota logic never builds HJ 212 messages itself.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils import timezone

from totalcap.quotas.choices import ValveAction

logger = logging.getLogger("totalcap.quotas")

#: HJ 212 extension valve reasons (see docs/hj212.md, TotalCap extension profile).
REASON_EXHAUSTED, REASON_ORDER, REASON_RESTORED = 1, 2, 4


@dataclass(frozen=True)
class CommandStatus:
    state: str
    detail: str
    sent_at: dt.datetime | None
    finished_at: dt.datetime | None


def valve_number(code: str) -> int:
    """HJ 212 extension ValveId (1-99) of a valve code such as ``V01``."""
    digits = "".join(ch for ch in code if ch.isdigit())
    number = int(digits) if digits else 1
    return number if 1 <= number <= 99 else 1


def valve_command(valve: Any, action: str, expires_at: dt.datetime, reason: str) -> int:
    """Queue a close/open command for the valve's logger; returns the command id."""
    from totalcap.ingest.services import send_command

    auto = "自动" in reason
    code = (
        REASON_EXHAUSTED
        if action == ValveAction.CLOSE and auto
        else (REASON_RESTORED if auto else REASON_ORDER)
    )
    command = send_command(
        "quotas",
        valve.logger,
        "close_valve" if action == ValveAction.CLOSE else "open_valve",
        {"valve_id": valve_number(valve.code), "reason": code},
        expires_in=max(expires_at - timezone.now(), dt.timedelta(seconds=1)),
        source="quotas",
    )
    return int(command.pk)


def command_status(command_id: int | None) -> CommandStatus | None:
    if command_id is None:
        return None
    from totalcap.ingest.models import Command

    command = Command.objects.filter(pk=command_id).first()
    if command is None:
        return None
    return CommandStatus(
        state=str(command.state),
        detail=str(command.error or ""),
        sent_at=command.sent_at,
        finished_at=command.completed_at,
    )


def indicate_alarm(data_logger: Any, *, level: int, text: str = "") -> int | None:
    """Sound-light alarm and voice on a total-control logger (TotalCap CN 3803)."""
    if data_logger is None or not data_logger.is_total_control:
        return None
    from totalcap.ingest.services import send_command

    command = send_command(
        "quotas",
        data_logger,
        "alarm_indication",
        {"level": level},
        expires_in=dt.timedelta(hours=1),
        source="quotas",
    )
    return int(command.pk)


def push_allowance(
    data_logger: Any, period: str, pollutant: str, allowance: Decimal, unit: str
) -> int | None:
    """Send the logger its remaining allowance (signed with the logger's key) so it can close the
    valve locally while offline (TotalCap CN 3812)."""
    if not data_logger.is_total_control:
        return None
    from totalcap.ingest.services import send_command

    allowance = max(allowance, Decimal(0))  # an overrun month: nothing left for the logger
    command = send_command(
        "quotas",
        data_logger,
        "push_allowance",
        {
            "period": period,
            "pol_id": pollutant,
            "allowance": allowance,
            "unit": "m3" if unit == "m³" else unit,
            "valid_until": timezone.now() + dt.timedelta(days=35),
        },
        source="quotas",
        dedupe_key=f"allowance:{data_logger.pk}:{period}:{pollutant}:{allowance}",
    )
    return int(command.pk)


@dataclass(frozen=True)
class ValveReport:
    """A valve state the logger reported: ``observed_at`` by the logger's clock, ``received_at`` by
    the platform's."""

    state: str  # registry ValveState value
    observed_at: dt.datetime
    received_at: dt.datetime


def valve_report_after(valve: Any, since: dt.datetime) -> ValveReport | None:
    """The latest valve state the logger reported (3020 ``i32101`` or a 3813 offline action) that
    reached the platform at or after ``since``. Arrival time, not the logger's clock, decides, so
    a logger whose clock runs behind (or a simulator replaying the past) is judged fairly."""
    from totalcap.ingest.models import SiteInfo
    from totalcap.ingest.services import VALVE_STATE_CODE, VALVE_STATES

    code = f"valve{valve_number(valve.code)}"
    row = (
        SiteInfo.objects.filter(
            logger_id=valve.logger_id, code__in=[VALVE_STATE_CODE, code], received_at__gte=since
        )
        .order_by("-received_at", "-observed_at")
        .values_list("code", "value", "observed_at", "received_at")
        .first()
    )
    if row is None:
        return None
    name, value, observed_at, received_at = row
    if name == VALVE_STATE_CODE:
        number = str(value).strip()
        known = VALVE_STATES.get(int(number)) if number.isascii() and number.isdigit() else None
        state = known.value if known is not None else "unknown"
    else:
        state = "closed" if str(value).startswith("closed") else "open"
    return ValveReport(state, observed_at, received_at)


def flow_after(
    outlet: Any, since: dt.datetime, *, received_after: dt.datetime | None = None
) -> tuple[dt.datetime, Decimal] | None:
    """The first flow value (L/s) the outlet measured at or after ``since`` (data time: real-time or
    minute data), among the values that arrived after ``received_after`` when given."""
    from totalcap.monitoring.models import Sample

    samples = Sample.objects.filter(
        outlet_id=outlet.pk, pollutant="w00000", kind__in=["r", "m"], data_time__gte=since
    )
    if received_after is not None:
        samples = samples.filter(received_at__gt=received_after)
    sample = samples.order_by("data_time").values_list("data_time", "value").first()
    if sample is None or sample[1] is None:
        return None
    return sample[0], Decimal(sample[1])
