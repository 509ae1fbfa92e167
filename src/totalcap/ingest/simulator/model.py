"""What a simulated outlet emits: daily production cycles with noise, per pollutant.

Pure functions of (pollutant, simulated time, seed, valve state): the simulator asks for a real-time
value or an interval aggregate and gets HJ 212 value strings. Water flow ``w00000`` is in L/s and
its interval ``Cou`` in m³; a pollutant's ``Cou`` is its amount in kg (concentration × volume),
so a test can recompute every total from the simulator's log.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

# code → (base value, noise fraction, follows production, decimals, kind)
# kind: "flow" (drives amounts), "conc" (concentration: amount = conc × volume), "param" (no amount)
PROFILES: dict[str, tuple[float, float, bool, int, str]] = {
    "w00000": (18.0, 0.05, True, 2, "flow"),
    "w01018": (42.0, 0.08, True, 1, "conc"),
    "w21003": (3.2, 0.10, True, 2, "conc"),
    "w21001": (11.0, 0.08, True, 2, "conc"),
    "w21011": (0.35, 0.10, True, 3, "conc"),
    "w01001": (7.3, 0.02, False, 2, "param"),
    "w01012": (18.0, 0.10, True, 1, "conc"),
    "a00000": (55.0, 0.05, True, 1, "flow"),
    "a21026": (28.0, 0.10, True, 2, "conc"),
    "a21002": (75.0, 0.08, True, 1, "conc"),
    "a34013": (6.5, 0.12, True, 2, "conc"),
    "a19001": (9.5, 0.03, False, 1, "param"),
    "a01012": (125.0, 0.03, True, 1, "param"),
    "a01013": (0.12, 0.05, False, 3, "param"),
    "a01014": (8.0, 0.05, False, 1, "param"),
    "a05001": (9.0, 0.05, True, 3, "conc"),
}
DEFAULT = (10.0, 0.1, True, 2, "conc")


def production(moment: datetime) -> float:
    """Share of full production at ``moment`` (Beijing time): day shift 8–20 h, night at 35 %."""
    hour = moment.hour + moment.minute / 60
    day = 0.35 + 0.65 * (1 / (1 + math.exp(-(hour - 8) * 2)) - 1 / (1 + math.exp(-(hour - 20) * 2)))
    weekend = 0.8 if moment.weekday() >= 5 else 1.0
    return day * weekend


@dataclass
class Behaviour:
    """Misbehaviour switches that change the values (the wire-level ones live in the device)."""

    constant: bool = False
    zeros: bool = False
    scale: float = 1.0


def _quant(value: float, decimals: int) -> str:
    q = Decimal(1).scaleb(-decimals)
    return str(Decimal(repr(value)).quantize(q, rounding=ROUND_HALF_UP))


def _noise(code: str, moment: datetime, seed: int) -> float:
    rng = random.Random(hash((code, int(moment.timestamp()) // 10, seed)) & 0xFFFFFFFF)
    return rng.gauss(0.0, 1.0)


def instant(code: str, moment: datetime, seed: int, behaviour: Behaviour, flowing: bool = True) -> float:
    """The value of ``code`` at ``moment`` (flow 0 when the valve is closed)."""
    base, noise, follows, _decimals, kind = PROFILES.get(code, DEFAULT)
    if behaviour.zeros:
        return 0.0
    if behaviour.constant:
        return base * behaviour.scale
    if kind == "flow" and not flowing:
        return 0.0
    level = production(moment) if follows else 1.0
    value = base * behaviour.scale * level * (1 + noise * _noise(code, moment, seed))
    return max(value, 0.0)


def realtime(
    codes: list[str], moment: datetime, seed: int, behaviour: Behaviour, flowing: bool
) -> dict[str, dict[str, str]]:
    """2011 items: ``{code: {"Rtd": ..., "Flag": "N"}}``."""
    out = {}
    for code in codes:
        decimals = PROFILES.get(code, DEFAULT)[3]
        out[code] = {"Rtd": _quant(instant(code, moment, seed, behaviour, flowing), decimals), "Flag": "N"}
    return out


def interval(
    codes: list[str],
    start: datetime,
    length: timedelta,
    seed: int,
    behaviour: Behaviour,
    flowing: list[tuple[datetime, bool]],
) -> dict[str, dict[str, str]]:
    """2051 / 2061 / 2031 items for [start, start + length): Avg, Min, Max and Cou per code.

    ``flowing`` lists (from, open?) valve changes; the flow is zero while closed.
    """
    steps = 12
    dt = length / steps
    samples: dict[str, list[float]] = {code: [] for code in codes}
    flow_code = next((c for c in codes if PROFILES.get(c, DEFAULT)[4] == "flow"), None)
    for i in range(steps):
        moment = start + dt * i + dt / 2
        is_open = _valve_open(flowing, moment)
        for code in codes:
            samples[code].append(instant(code, moment, seed, behaviour, is_open))
    seconds = length.total_seconds()
    out: dict[str, dict[str, str]] = {}
    volumes = []
    if flow_code is not None:
        factor = 1e-3 if flow_code.startswith("w") else 1.0  # L/s → m³/s for water
        volumes = [v * factor * seconds / steps for v in samples[flow_code]]
    for code in codes:
        values = samples[code]
        _base, _noise_f, _follows, decimals, kind = PROFILES.get(code, DEFAULT)
        item = {
            "Avg": _quant(sum(values) / steps, decimals),
            "Min": _quant(min(values), decimals),
            "Max": _quant(max(values), decimals),
        }
        if kind == "flow" and volumes:
            item["Cou"] = _quant(sum(volumes), 2)
        elif kind == "conc" and volumes:
            unit = 1e-3 if code.startswith("w") else 1e-6  # mg/L × m³ → kg ; mg/m³ × m³ → kg
            item["Cou"] = _quant(sum(c * v * unit for c, v in zip(values, volumes, strict=True)), 4)
        item["Flag"] = "N"
        out[code] = item
    return out


def _valve_open(changes: list[tuple[datetime, bool]], moment: datetime) -> bool:
    state = True
    for at, is_open in changes:
        if at <= moment:
            state = is_open
        else:
            break
    return state
