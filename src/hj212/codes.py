"""Reference tables of HJ 212, loaded from the data files in ``hj212/data``.

Nothing here is hard-coded: ST, CN, QnRtn/ExeRtn, data flags, i-codes, pollutant codes with units and
legacy 2005 codes, the field dictionary and the TotalCap extension all come from JSON/CSV files read with
``importlib.resources`` on first use.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from typing import Any

__all__ = [
    "CommandCode",
    "InfoCode",
    "Pollutant",
    "SystemCode",
    "command",
    "commands",
    "data_flag_meaning",
    "exe_rtn_meaning",
    "field_aliases",
    "header_keys",
    "info_code",
    "known_suffixes",
    "legacy_code_map",
    "load_json",
    "map_legacy_code",
    "plain_keys",
    "pollutant",
    "pollutants",
    "qn_rtn_meaning",
    "run_state_meaning",
    "subject_is_known",
    "system",
    "totalcap_table",
]


def _read_text(name: str) -> str:
    return (files(__package__) / "data" / name).read_text(encoding="utf-8")


@cache
def load_json(name: str) -> dict[str, Any]:
    """A data file as parsed JSON (cached; treat as read-only)."""
    data = json.loads(_read_text(name))
    if not isinstance(data, dict):  # pragma: no cover - data files are objects
        raise TypeError(f"{name} is not a JSON object")
    return data


@dataclass(frozen=True, slots=True)
class Pollutant:
    """One pollutant / parameter code (HJ 524 air, HJ 525 water, noise)."""

    code: str
    name_zh: str
    name_en: str
    medium: str
    conc_unit: str
    amount_unit: str
    data_type: str
    legacy_code: str | None


@dataclass(frozen=True, slots=True)
class CommandCode:
    """One CN with its meaning in each direction."""

    cn: str
    origin: str
    kind: str
    name_zh: str
    host: str | None
    device: str | None
    items: tuple[str, ...]
    verify: bool = False


@dataclass(frozen=True, slots=True)
class InfoCode:
    """One site-information code (i-code)."""

    code: str
    name_en: str
    name_zh: str
    unit: str
    data_type: str
    origin: str
    log: bool = False
    values: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SystemCode:
    """One ST."""

    st: str
    name_en: str
    name_zh: str


@cache
def pollutants() -> dict[str, Pollutant]:
    """All pollutant codes of the bundled table, keyed by code."""
    reader = csv.DictReader(io.StringIO(_read_text("pollutants.csv")))
    table: dict[str, Pollutant] = {}
    for row in reader:
        table[row["code"]] = Pollutant(
            code=row["code"],
            name_zh=row["name_zh"],
            name_en=row["name_en"],
            medium=row["medium"],
            conc_unit=row["conc_unit"],
            amount_unit=row["amount_unit"],
            data_type=row["data_type"],
            legacy_code=row["legacy_code"] or None,
        )
    return table


def pollutant(code: str) -> Pollutant | None:
    """The pollutant with this 2017 code (or legacy 2005 code, mapped), if known."""
    table = pollutants()
    found = table.get(code)
    if found is None:
        mapped = legacy_code_map().get(code)
        if mapped is not None:
            found = table.get(mapped)
    return found


@cache
def legacy_code_map() -> dict[str, str]:
    """2005 code -> 2017 code (``'011'`` -> ``'w01018'``, ``'02'`` -> ``'a21026'``)."""
    return {p.legacy_code: p.code for p in pollutants().values() if p.legacy_code}


@cache
def legacy_only_codes() -> dict[str, dict[str, str]]:
    """2005 codes with no 2017 equivalent in the tables (kept as pass-through)."""
    reader = csv.DictReader(io.StringIO(_read_text("legacy_2005.csv")))
    return {row["legacy_code"]: dict(row) for row in reader}


def map_legacy_code(code: str) -> str | None:
    """The 2017 code for a 2005 code, or None when it has none (or is not a legacy code)."""
    return legacy_code_map().get(code)


@cache
def commands() -> dict[str, CommandCode]:
    """Every CN of the bundled table, keyed by CN."""
    table: dict[str, CommandCode] = {}
    for row in load_json("cn.json")["codes"]:
        table[row["cn"]] = CommandCode(
            cn=row["cn"],
            origin=row["origin"],
            kind=row["kind"],
            name_zh=row["name_zh"],
            host=row.get("host"),
            device=row.get("device"),
            items=tuple(row.get("items", ())),
            verify=bool(row.get("verify", False)),
        )
    return table


def command(cn: str) -> CommandCode | None:
    """The CN's table entry, if known."""
    return commands().get(cn)


@cache
def _systems() -> dict[str, SystemCode]:
    return {
        row["st"]: SystemCode(st=row["st"], name_en=row["name_en"], name_zh=row["name_zh"])
        for row in load_json("st.json")["codes"]
    }


def system(st: str) -> SystemCode | None:
    """The ST's table entry, if known."""
    return _systems().get(st)


@cache
def _reply_codes(table: str) -> dict[str, str]:
    return {row["code"]: row["name_en"] for row in load_json("replies.json")[table]}


def qn_rtn_meaning(code: str) -> str | None:
    """English meaning of a QnRtn value."""
    return _reply_codes("QnRtn").get(code.strip())


def exe_rtn_meaning(code: str) -> str | None:
    """English meaning of an ExeRtn value."""
    return _reply_codes("ExeRtn").get(code.strip())


@cache
def _data_flags() -> dict[str, str]:
    return {row["flag"]: row["name_en"] for row in load_json("data_flags.json")["flags"]}


def data_flag_meaning(flag: str) -> str | None:
    """English meaning of a ``-Flag`` value (N, F, M, S, D, C, T, B)."""
    return _data_flags().get(flag)


@cache
def _run_states() -> dict[str, str]:
    return {row["value"]: row["name_en"] for row in load_json("data_flags.json")["run_states"]}


def run_state_meaning(value: str) -> str | None:
    """English meaning of an ``SBxxx-RS`` value."""
    return _run_states().get(value)


@cache
def _info_codes() -> tuple[dict[str, InfoCode], tuple[tuple[re.Pattern[str], InfoCode], ...]]:
    data = load_json("icodes.json")
    table: dict[str, InfoCode] = {}
    for row in data["codes"]:
        table[row["code"]] = InfoCode(
            code=row["code"],
            name_en=row["name_en"],
            name_zh=row["name_zh"],
            unit=row.get("unit", ""),
            data_type=row.get("type", ""),
            origin=row.get("origin", "2017"),
            log=bool(row.get("log", False)),
            values=dict(row.get("values", {})),
        )
    patterns = tuple(
        (
            re.compile(row["regex"]),
            InfoCode(
                code=row["regex"],
                name_en=row["name_en"],
                name_zh=row["name_zh"],
                unit=row.get("unit", ""),
                data_type="N4.1",
                origin="2017",
            ),
        )
        for row in data["patterns"]
    )
    return table, patterns


def info_code(code: str) -> InfoCode | None:
    """The i-code's table entry (exact or by pattern, e.g. ``i33312``), if known."""
    table, patterns = _info_codes()
    found = table.get(code)
    if found is not None:
        return found
    for regex, entry in patterns:
        if regex.match(code):
            return entry
    return None


@cache
def header_keys() -> frozenset[str]:
    """Known data-segment header keys."""
    return frozenset(row["key"] for row in load_json("fields.json")["header"])


@cache
def plain_keys() -> frozenset[str]:
    """Known CP items without a subject prefix."""
    return frozenset(row["key"] for row in load_json("fields.json")["plain"])


@cache
def known_suffixes() -> frozenset[str]:
    """Known item suffixes (``Rtd``, ``Avg`` ...)."""
    return frozenset(row["suffix"] for row in load_json("fields.json")["suffixes"])


@cache
def field_aliases() -> dict[str, str]:
    """Field-seen spellings -> canonical key, including every case variant of a known key."""
    aliases: dict[str, str] = {}
    for key in header_keys() | plain_keys():
        aliases[key.lower()] = key
    for alias, canonical in load_json("fields.json")["aliases"].items():
        aliases[alias] = canonical
        aliases[alias.lower()] = canonical
    return aliases


@cache
def _subject_patterns() -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(row["regex"]) for row in load_json("fields.json")["subject_patterns"])


@cache
def _known_subjects() -> frozenset[str]:
    table, _ = _info_codes()
    return frozenset(pollutants()) | frozenset(legacy_code_map()) | frozenset(table)


def subject_is_known(code: str) -> bool:
    """True for a code of the tables, a legacy code, or one matching a code pattern (e/g/i/SB/w/a)."""
    if code in _known_subjects() or code in legacy_only_codes():
        return True
    return any(regex.match(code) for regex in _subject_patterns())


@cache
def known_subjects() -> frozenset[str]:
    """Exact subject codes known from the tables (for fast set difference)."""
    return _known_subjects() | frozenset(legacy_only_codes())


def totalcap_table() -> dict[str, Any]:
    """The TotalCap extension profile definition (``totalcap.json``)."""
    return load_json("totalcap.json")
