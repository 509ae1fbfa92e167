"""Screening detectors: each raises a suspicion with evidence and thresholds, none changes validity."""

from __future__ import annotations

from typing import Any

from tests.monitoring.conftest import at, configure, feed_hours, hour_row, recompute
from totalcap.base.models import DomainEvent
from totalcap.monitoring.models import Suspicion
from totalcap.monitoring.services import states
from totalcap.registry.models import Outlet


def suspicions(outlet: Outlet, detector: str) -> list[Suspicion]:
    return list(Suspicion.objects.filter(outlet=outlet, detector=detector).order_by("start"))


def day(outlet: Outlet, code: str, values: list[Any], flags: Any = "N") -> None:
    feed_hours(outlet, code, at(14), values, flags=flags)


def run(outlet: Outlet) -> None:
    recompute(outlet, at(14), at(15))


def test_constant_values_within_a_fraction_of_the_range(ww: Outlet) -> None:
    configure(ww, measuring_ranges={"w01018": [0, 500]})
    day(ww, "w00000", [10] * 24)
    day(
        ww,
        "w01018",
        [30, 40, 35, 50, 45, 38] + [41.0, 41.5, 41.2, 41.8, 41.1, 41.4, 41.3, 41.6] + [30, 50] * 5,
    )
    run(ww)
    found = [s for s in suspicions(ww, "constant") if s.pollutant == "w01018"]
    assert len(found) == 1
    s = found[0]
    assert (s.pollutant, s.start, s.end) == ("w01018", at(14, 11), at(14, 14))  # windows ending 11:00–13:00
    assert s.params["epsilon_of_range"] == 0.005 and s.params["range"] == {"w01018": [0, 500]}
    assert s.evidence["hours"] == 3
    assert hour_row(ww, "w01018", at(14, 12)).status == "v"  # no change of validity
    assert DomainEvent.objects.filter(action="suspicion_raised", object_id=str(s.pk)).exists()


def test_zero_while_the_flow_says_running(ww: Outlet) -> None:
    day(ww, "w00000", [10] * 24)
    day(ww, "w01018", [40] * 10 + [0, 0] + [40] * 12)
    run(ww)
    (s,) = suspicions(ww, "zero")
    assert (s.start, s.end) == (at(14, 10), at(14, 12))
    assert s.evidence["values"][0]["flow"] == "10.000000"


def test_negative_values(aa: Outlet) -> None:
    day(aa, "a21026", [30] * 5 + [-2] + [30] * 18)
    run(aa)
    (s,) = suspicions(aa, "negative")
    assert s.start == at(14, 5)


def test_above_the_measuring_range(aa: Outlet) -> None:
    configure(aa, measuring_ranges={"a21026": [0, 100]})
    day(aa, "a21026", [30] * 3 + [150] + [30] * 16 + [30] * 4, flags=["N"] * 20 + ["T"] * 4)
    run(aa)
    found = suspicions(aa, "above_range")
    assert [(s.start, s.end) for s in found] == [(at(14, 3), at(14, 4)), (at(14, 20), at(15, 0))]


def test_sudden_jumps(aa: Outlet) -> None:
    configure(aa, measuring_ranges={"a21026": [0, 200]})
    day(aa, "a21026", [10] * 8 + [120] + [12] * 15)
    run(aa)
    found = suspicions(aa, "jump")
    assert [(s.start, s.end) for s in found] == [(at(14, 8), at(14, 10))]  # up, then down again: one episode


def test_missing_data(ww: Outlet) -> None:
    day(ww, "w01018", [40] * 10 + [None] * 3 + [40] * 11)
    day(ww, "w00000", [10] * 10 + [None] * 3 + [10] * 11)
    day(ww, "w21003", [4] * 24)
    run(ww)
    found = [(s.pollutant, s.start, s.end) for s in suspicions(ww, "missing")]
    assert ("w01018", at(14, 10), at(14, 13)) in found
    assert ("w00000", at(14, 10), at(14, 13)) in found


def test_a_silent_outlet_is_one_suspicion(aa: Outlet) -> None:
    run(aa)
    (s,) = suspicions(aa, "missing")
    assert (s.pollutant, s.start, s.end, s.evidence["hours"]) == ("", at(14), at(15), 24)


def test_flow_while_stopped_and_no_flow_while_running(ww: Outlet) -> None:
    day(ww, "w00000", [10] * 5 + [0] * 3 + [10] * 16, flags=["N"] * 16 + ["F"] * 8)
    day(ww, "w01018", [40] * 24)
    run(ww)
    kinds = {(s.start, s.evidence["values"][0]["kind"]) for s in suspicions(ww, "flow_state")}
    assert (at(14, 5), "running_without_flow") in kinds
    assert (at(14, 16), "flow_while_stopped") in kinds


def test_flow_while_the_treatment_facility_is_off(ww: Outlet) -> None:
    states.record_device_states(
        ww.loggers.get(), [states.StateObservation("SB1-RS", "0", at(14, 3), source="2021")]
    )
    day(ww, "w00000", [10] * 24)
    run(ww)
    found = [s for s in suspicions(ww, "flow_state") if s.evidence.get("kind") == "flow_while_facility_off"]
    assert found and found[0].evidence["facility"] == "SB1-RS"


def test_logger_aggregate_disagreement(ww: Outlet) -> None:
    from tests.monitoring.conftest import feed

    feed(ww, "w01018", at(14, 10), [40] * 60)
    feed_hours(ww, "w01018", at(14, 10), [48])
    run(ww)
    (s,) = suspicions(ww, "mismatch")
    assert s.evidence["values"][0]["logger"] == "48.000000"


def test_detection_again_extends_instead_of_repeating(ww: Outlet) -> None:
    day(ww, "w00000", [10] * 24)
    day(ww, "w01018", [40] * 22 + [0, 0])
    run(ww)
    feed_hours(ww, "w01018", at(15), [0] * 3)
    feed_hours(ww, "w00000", at(15), [10] * 3)
    recompute(ww, at(15), at(15, 3))
    (s,) = suspicions(ww, "zero")
    assert (s.start, s.end) == (at(14, 22), at(15, 3))
