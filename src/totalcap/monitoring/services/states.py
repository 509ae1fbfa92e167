"""Device states and enterprise labels as time intervals, for validity.

Device states
    Point observations in :class:`~totalcap.monitoring.models.DeviceState` (written by the gateway
    from 3020 site information and 2021 run states, or by :func:`record_device_states`). An
    observation holds until the next observation of the same (logger, pollutant, code), for at most
    the rule set's ``device_state_hold_minutes``. :func:`device_states` is the read interface.

Enterprise labels
    The labelling issue comes later. Until then :func:`register_label_provider` is the hook: a
    provider returns :class:`StateInterval` rows in the *label* namespace (``F``, ``St``, ``Sd``,
    ``B`` banked, ``C``, ``M``, ``D``) for an outlet and time range, and validity applies them
    through the rule set's ``label_classes``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction

from totalcap.monitoring.models import DeviceState
from totalcap.registry.models import DataLogger


@dataclass(frozen=True)
class StateInterval:
    """A state holding over ``[start, end)``.

    ``pollutant`` is the instrument's pollutant code, or ``""`` for the whole logger / outlet.
    ``code`` is the state item (``i12001``) or, for labels, ``"label"``; ``value`` its value.
    """

    logger_id: int | None
    outlet_id: int
    pollutant: str
    code: str
    value: str
    start: dt.datetime
    end: dt.datetime
    source: str = "3020"


@dataclass(frozen=True)
class StateObservation:
    """One state item as the gateway decoded it from a frame."""

    code: str
    value: str
    observed_at: dt.datetime
    pollutant: str = ""
    frame_id: int | None = None
    source: str = "3020"


def device_states(
    logger_id: int, start: dt.datetime, end: dt.datetime, *, hold_minutes: int = 120
) -> list[StateInterval]:
    """State intervals of one logger overlapping ``[start, end)``, derived from observations."""
    return device_states_for_outlets([], start, end, hold_minutes=hold_minutes, logger_ids=[logger_id])


def device_states_for_outlets(
    outlet_ids: Sequence[int],
    start: dt.datetime,
    end: dt.datetime,
    *,
    hold_minutes: int = 120,
    logger_ids: Sequence[int] | None = None,
) -> list[StateInterval]:
    """State intervals of the loggers of ``outlet_ids`` (or of ``logger_ids``) overlapping the range.

    An observation's interval ends at the next observation of the same item, or after
    ``hold_minutes`` when none follows in time.
    """
    hold = dt.timedelta(minutes=hold_minutes)
    column, ids = ("logger_id", list(logger_ids)) if logger_ids else ("outlet_id", list(outlet_ids))
    if not ids:
        return []
    sql = f"""
        SELECT logger_id, outlet_id, pollutant, code, value, source, observed_at, next_at FROM (
            SELECT logger_id, outlet_id, pollutant, code, value, source, observed_at,
                   lead(observed_at) OVER (PARTITION BY logger_id, pollutant, code ORDER BY observed_at) AS next_at
            FROM {DeviceState._meta.db_table}
            WHERE {column} = ANY(%s) AND observed_at < %s AND observed_at >= %s
        ) obs
        WHERE coalesce(least(next_at, observed_at + %s), observed_at + %s) > %s
        ORDER BY logger_id, pollutant, code, observed_at
    """
    with connection.cursor() as cur:
        cur.execute(sql, [ids, end, start - hold, hold, hold, start])  # type: ignore[list-item]
        rows = cur.fetchall()
    result = []
    for logger_id, outlet_id, pollutant, code, value, source, observed_at, next_at in rows:
        stop = observed_at + hold if next_at is None else min(next_at, observed_at + hold)
        result.append(
            StateInterval(
                int(logger_id), int(outlet_id), pollutant or "", code, value, observed_at, stop, source
            )
        )
    return result


def record_device_states(logger: DataLogger, observations: Iterable[StateObservation]) -> int:
    """Store state observations of ``logger`` (idempotent: a repeated observation is ignored) and
    mark the hours they may change for recomputation. Returns how many were new."""
    rows = [
        (
            logger.pk,
            logger.outlet_id,
            o.pollutant,
            o.code,
            str(o.value)[:32],
            o.observed_at,
            o.source,
            o.frame_id,
        )
        for o in observations
    ]
    if not rows:
        return 0
    with transaction.atomic(), connection.cursor() as cur:
        cur.executemany(
            f"""INSERT INTO {DeviceState._meta.db_table}
                (logger_id, outlet_id, pollutant, code, value, observed_at, source, frame_id, received_at)
                VALUES (%s, %s, %s, %s, %s, %s, %s, %s, now())
                ON CONFLICT (logger_id, pollutant, code, observed_at) DO NOTHING""",
            rows,
        )
        inserted = cur.rowcount if cur.rowcount and cur.rowcount > 0 else 0
    return int(inserted)


# --- enterprise labels (hook) -------------------------------------------------------------------

LabelProvider = Callable[[Sequence[int], dt.datetime, dt.datetime], Iterable[StateInterval]]
_label_providers: list[LabelProvider] = []


def register_label_provider(provider: LabelProvider) -> None:
    """Add a source of enterprise data labels (the supervision app registers one)."""
    if provider not in _label_providers:
        _label_providers.append(provider)


def unregister_label_provider(provider: LabelProvider) -> None:
    if provider in _label_providers:
        _label_providers.remove(provider)


def labels_for_outlets(
    outlet_ids: Sequence[int], start: dt.datetime, end: dt.datetime
) -> list[StateInterval]:
    """Label intervals of all registered providers overlapping ``[start, end)``."""
    result: list[StateInterval] = []
    for provider in list(_label_providers):
        for interval in provider(outlet_ids, start, end):
            if interval.end > start and interval.start < end:
                result.append(interval)
    return result


def describe(interval: StateInterval) -> dict[str, Any]:
    """A JSON-friendly description of an interval (for evidence and pages)."""
    return {
        "logger": interval.logger_id,
        "pollutant": interval.pollutant,
        "code": interval.code,
        "value": interval.value,
        "start": interval.start.isoformat(),
        "end": interval.end.isoformat(),
        "source": interval.source,
    }
