"""Properties of accounting, checked with generated data:

* totals equal the sum of their parts at every level (hours → day → month → year);
* feeding the same samples twice changes nothing;
* a correction followed by its reversal restores the previous totals.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Count, Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.monitoring.conftest import at, feed, recompute
from totalcap.monitoring.models import EmissionHour, EmissionHourLog, EmissionTotal, EmissionTotalRevision
from totalcap.monitoring.services import review
from totalcap.registry.models import Outlet

HOUR = dt.timedelta(hours=1)
START = at(30, 20, month=9)  # crosses a month (and a quarter) boundary in Beijing time
HOURS = 12
FLAGS = ["N", "N", "N", "N", "N", "M", "D", "F", "C", "T"]

# One hour of one parameter: missing, or (value, flag) given at minute or hour level.
hour_data = st.one_of(
    st.none(),
    st.tuples(st.integers(0, 200), st.sampled_from(FLAGS), st.booleans(), st.integers(30, 60)),
)
outlet_data = st.fixed_dictionaries(
    {"w01018": st.lists(hour_data, min_size=HOURS, max_size=HOURS),
     "w00000": st.lists(hour_data, min_size=HOURS, max_size=HOURS)}
)  # fmt: skip

SETTINGS = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@contextmanager
def rolled_back() -> Iterator[None]:
    """Each generated example starts from the same database."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def write(outlet: Outlet, data: dict[str, list[Any]]) -> None:
    for code, hours in data.items():
        for i, item in enumerate(hours):
            if item is None:
                continue
            value, flag, as_minutes, n = item
            moment = START + i * HOUR
            if as_minutes:
                feed(outlet, code, moment, [value] * n, flags=flag)
            else:
                feed(outlet, code, moment, [value], kind="h", step=HOUR, flags=flag)


def run(outlet: Outlet) -> None:
    recompute(outlet, START, START + HOURS * HOUR)


def snapshot(outlet: Outlet) -> dict[Any, Any]:
    return {
        (t.pollutant, t.period, t.period_start): t.kg
        for t in EmissionTotal.objects.filter(outlet=outlet).order_by("pollutant", "period", "period_start")
    }


def check_sums(outlet: Outlet) -> None:
    hours = EmissionHour.objects.filter(outlet_id=outlet.pk)
    for day in EmissionTotal.objects.filter(outlet=outlet, period="day"):
        start = dt.datetime(
            day.period_start.year, day.period_start.month, day.period_start.day, tzinfo=START.tzinfo
        )
        parts = hours.filter(
            pollutant=day.pollutant, data_time__gte=start, data_time__lt=start + dt.timedelta(days=1)
        )
        agg = parts.aggregate(kg=Sum("kg"), n=Count("pk"))
        assert day.kg == agg["kg"] and day.hours_expected == agg["n"]
        by_method = sum((day.kg_by_method.get(m, Decimal(0)) for m in day.kg_by_method), Decimal(0))
        assert by_method == day.kg
        counted = sum(
            getattr(day, f"hours_{m}")
            for m in ("auto_valid", "auto_substituted", "manual", "material_balance", "emission_factor", "penalised",
                      "stopped", "unaccounted")
        )  # fmt: skip
        assert counted == day.hours_expected
    for parent, child in (("month", "day"), ("year", "month")):
        for total in EmissionTotal.objects.filter(outlet=outlet, period=parent):
            lo = total.period_start
            hi = (
                dt.date(lo.year + 1, 1, 1)
                if parent == "year"
                else (lo.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
            )
            kids = EmissionTotal.objects.filter(
                outlet=outlet,
                pollutant=total.pollutant,
                period=child,
                period_start__gte=lo,
                period_start__lt=hi,
            ).aggregate(kg=Sum("kg"), n=Sum("hours_expected"))
            assert total.kg == kids["kg"] and total.hours_expected == kids["n"]


@SETTINGS
@given(data=outlet_data)
def test_totals_equal_the_sum_of_their_parts(ww: Outlet, data: dict[str, list[Any]]) -> None:
    with rolled_back():
        write(ww, data)
        run(ww)
        check_sums(ww)
        assert EmissionHour.objects.filter(outlet_id=ww.pk, pollutant="w01018").count() == HOURS


@SETTINGS
@given(data=outlet_data)
def test_feeding_the_same_samples_twice_changes_nothing(ww: Outlet, data: dict[str, list[Any]]) -> None:
    with rolled_back():
        write(ww, data)
        run(ww)
        before = (snapshot(ww), EmissionHourLog.objects.count(), EmissionTotalRevision.objects.count())
        write(ww, data)  # the gateway re-sends: ON CONFLICT DO NOTHING
        run(ww)
        assert (
            snapshot(ww),
            EmissionHourLog.objects.count(),
            EmissionTotalRevision.objects.count(),
        ) == before


@SETTINGS
@given(
    data=outlet_data,
    first=st.integers(0, HOURS - 1),
    length=st.integers(1, 4),
    kind=st.sampled_from(["invalidate", "correct"]),
    level=st.sampled_from(["hour", "minute"]),
    value=st.integers(0, 300),
)
def test_a_correction_and_its_reversal_restore_the_totals(
    ww: Outlet,
    world: Any,
    data: dict[str, list[Any]],
    first: int,
    length: int,
    kind: str,
    level: str,
    value: int,
) -> None:
    county = world.user("county")
    with rolled_back():
        write(ww, data)
        run(ww)
        before = snapshot(ww)
        action = review.create_review(
            county, outlet=ww, pollutant="w01018", kind=kind, level=level, start=START + first * HOUR,
            end=START + min(first + length, HOURS) * HOUR, value=Decimal(value) if kind == "correct" else None,
            reason="性质测试",
        )  # fmt: skip
        check_sums(ww)
        review.revert_review(county, action, "撤销测试")
        assert snapshot(ww) == before
        check_sums(ww)
