"""Where other apps plug into permits, until they exist.

* :func:`valid_series` — the monitoring app provides the valid daily concentrations and daily loads of
  an outlet and pollutant (invalid data removed per HJ 356), for the calculator's C and CV. Until then
  the writer enters or uploads a series.
* :func:`total_control_allocation` — the quotas app provides an enterprise's allocated annual total for
  a pollutant (the total-control method of seed 003). Until then the writer enters the figure.

Apps register a provider in their ``AppConfig.ready()``::

    from totalcap.permits import hooks
    hooks.register_series_provider(my_function)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class ValidSeries:
    """Valid daily values of one outlet and pollutant over a period."""

    concentrations: list[Decimal]  # daily mean concentrations (mg/L or mg/m³)
    daily_loads_kg: list[Decimal]
    start: dt.date
    end: dt.date
    removed: int = 0  # invalid days removed
    source: str = ""  # e.g. "在线监测（HJ 356有效数据）"


SeriesProvider = Callable[[Any, Any, dt.date, dt.date], ValidSeries | None]
AllocationProvider = Callable[[Any, Any, int], Decimal | None]

_series_providers: list[SeriesProvider] = []
_allocation_providers: list[AllocationProvider] = []


def register_series_provider(provider: SeriesProvider) -> None:
    if provider not in _series_providers:
        _series_providers.append(provider)


def register_allocation_provider(provider: AllocationProvider) -> None:
    if provider not in _allocation_providers:
        _allocation_providers.append(provider)


def series_available() -> bool:
    return bool(_series_providers)


def valid_series(outlet: Any, pollutant: Any, start: dt.date, end: dt.date) -> ValidSeries | None:
    """The first provider's answer, or None when no provider is registered or none has data."""
    for provider in _series_providers:
        series = provider(outlet, pollutant, start, end)
        if series is not None:
            return series
    return None


def total_control_allocation(enterprise: Any, pollutant: Any, year: int) -> Decimal | None:
    """The enterprise's allocated annual total (t) for ``pollutant`` in ``year``, if a provider knows it."""
    for provider in _allocation_providers:
        value = provider(enterprise, pollutant, year)
        if value is not None:
            return value
    return None
