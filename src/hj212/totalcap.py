"""TotalCap extension profile for the total-control (IC-card) data logger -- TotalCap-defined, NOT HJ 212.

HJ 212 has no valve, card or allowance messages.  The codes below live in ranges the standard reserves
and are read from ``data/totalcap.json`` (so a deployment can renumber them without code changes):

=======  ==============  ====================================================================
CN       direction       message
=======  ==============  ====================================================================
3801     host -> logger  close valve (``ValveId``, optional ``PolId``, ``Reason``)
3802     host -> logger  open valve (same items)
3803     host -> logger  sound-light alarm and voice announcement on the logger (``Level`` 0 clear,
                         1 warning, 2 red alert, 3 exhausted; optional ``Light`` / ``Voice`` 0/1)
3811     logger -> host  card swipe (``CardUid``, ``SwipeTime``, optional ``ValveId``)
3812     host -> logger  remaining-allowance push (``Period``, ``PolId``, ``Allowance``, ``Unit``,
                         ``ValidUntil``, ``Signature`` = HMAC-SHA256 hex)
3813     logger -> host  valve action taken while offline, one per frame, sent on reconnect
                         (``DataTime``, ``ValveId``, ``Action``, ``Source``, optional ``CmdQN``)
=======  ==============  ====================================================================

i-codes (CN 3020 / 3021): ``i32101`` valve state (0 open, 1 closed, 2 moving, 3 fault), ``i32102`` valve
opening %, ``i32103`` control mode (0 remote, 1 local), ``i32104`` remaining allowance held by the
logger, ``i31101`` valve action log.  Valve commands follow the request life cycle (9011 then 9012);
uploads are answered with 9014 when Flag.A=1.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any, Unpack

from . import codes
from .commands import Options, Peer, command, upload
from .errors import BuildError, MessageError
from .frame import Frame
from .messages import SiteInfo
from .values import format_datetime, format_decimal, parse_datetime, parse_decimal, parse_int

__all__ = [
    "AlarmIndication",
    "AllowancePush",
    "CardSwipe",
    "ValveActionReport",
    "ValveCommand",
    "ValveState",
    "alarm_indication",
    "allowance_signature",
    "card_swipe",
    "close_valve",
    "extension_cns",
    "open_valve",
    "parse_extension",
    "push_allowance",
    "upload",
    "valve_action_report",
    "valve_states",
    "verify_allowance",
]


@cache
def _table() -> dict[str, Any]:
    return codes.totalcap_table()


def _cn(name: str) -> str:
    return str(_table()["commands"][name]["cn"])


def extension_cns() -> dict[str, str]:
    """Message name -> CN of the TotalCap extension (from ``totalcap.json``)."""
    return {name: str(entry["cn"]) for name, entry in _table()["commands"].items()}


def _valve_items(valve_id: int, pol_id: str | None, reason: int | None) -> list[tuple[str, str]]:
    if not isinstance(valve_id, int) or not 1 <= valve_id <= 99:
        raise BuildError(f"ValveId must be 1..99, got {valve_id!r}")
    items = [("ValveId", str(valve_id))]
    if pol_id is not None:
        items.append(("PolId", pol_id))
    if reason is not None:
        if str(reason) not in _table()["reasons"]:
            raise BuildError(f"unknown valve Reason {reason!r}")
        items.append(("Reason", str(reason)))
    return items


def close_valve(
    peer: Peer,
    valve_id: int = 1,
    *,
    pol_id: str | None = None,
    reason: int | None = None,
    **kw: Unpack[Options],
) -> Frame:
    """Host -> logger: close valve ``valve_id`` (TotalCap CN 3801)."""
    return command(peer, _cn("close_valve"), _valve_items(valve_id, pol_id, reason), **kw)


def open_valve(
    peer: Peer,
    valve_id: int = 1,
    *,
    pol_id: str | None = None,
    reason: int | None = None,
    **kw: Unpack[Options],
) -> Frame:
    """Host -> logger: open valve ``valve_id`` (TotalCap CN 3802)."""
    return command(peer, _cn("open_valve"), _valve_items(valve_id, pol_id, reason), **kw)


def alarm_indication(
    peer: Peer,
    level: int,
    *,
    light: bool = True,
    voice: bool = True,
    **kw: Unpack[Options],
) -> Frame:
    """Host -> logger: sound-light alarm / voice for a quota level (TotalCap CN 3803); level 0 clears."""
    if str(level) not in _table()["alarm_levels"]:
        raise BuildError(f"Level must be one of {sorted(_table()['alarm_levels'])}, got {level!r}")
    items = [("Level", str(level)), ("Light", "1" if light else "0"), ("Voice", "1" if voice else "0")]
    return command(peer, _cn("alarm_indication"), items, **kw)


def card_swipe(
    peer: Peer,
    card_uid: str,
    swipe_time: datetime | str,
    *,
    valve_id: int | None = None,
    **kw: Unpack[Options],
) -> Frame:
    """Logger -> host: a card was swiped (TotalCap CN 3811)."""
    if not card_uid or not all(c in "0123456789ABCDEFabcdef" for c in card_uid) or len(card_uid) > 32:
        raise BuildError("CardUid must be 1-32 hex digits")
    items = [("CardUid", card_uid.upper()), ("SwipeTime", _time(swipe_time))]
    if valve_id is not None:
        items.append(("ValveId", str(valve_id)))
    return upload(peer, _cn("card_swipe"), items, **kw)


def allowance_signature(
    key: bytes, *, mn: str, period: str, pol_id: str, allowance: str, unit: str, valid_until: str
) -> str:
    """HMAC-SHA256 (lower-case hex) over ``MN|Period|PolId|Allowance|Unit|ValidUntil`` (the wire strings)."""
    message = "|".join((mn, period, pol_id, allowance, unit, valid_until)).encode("utf-8")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def push_allowance(
    peer: Peer,
    *,
    period: str,
    pol_id: str,
    allowance: Decimal | str,
    unit: str,
    valid_until: datetime | str,
    key: bytes,
    **kw: Unpack[Options],
) -> Frame:
    """Host -> logger: the remaining allowance for ``period`` (TotalCap CN 3812), signed with ``key``."""
    if unit not in _table()["units"]:
        raise BuildError(f"Unit must be one of {_table()['units']}, got {unit!r}")
    allowance_text = format_decimal(allowance)
    until = _time(valid_until)
    signature = allowance_signature(
        key, mn=peer.mn, period=period, pol_id=pol_id, allowance=allowance_text, unit=unit, valid_until=until
    )
    items = [
        ("Period", period),
        ("PolId", pol_id),
        ("Allowance", allowance_text),
        ("Unit", unit),
        ("ValidUntil", until),
        ("Signature", signature),
    ]
    return command(peer, _cn("allowance_push"), items, **kw)


def valve_action_report(
    peer: Peer,
    data_time: datetime | str,
    valve_id: int,
    action: int,
    source: int,
    *,
    cmd_qn: str | None = None,
    **kw: Unpack[Options],
) -> Frame:
    """Logger -> host: a valve action taken while offline (TotalCap CN 3813), one per frame."""
    if str(action) not in _table()["actions"] or str(source) not in _table()["sources"]:
        raise BuildError("Action must be 0/1 and Source 0/1/2")
    items = [
        ("DataTime", _time(data_time)),
        ("ValveId", str(valve_id)),
        ("Action", str(action)),
        ("Source", str(source)),
    ]
    if cmd_qn is not None:
        items.append(("CmdQN", cmd_qn))
    return upload(peer, _cn("valve_action_report"), items, **kw)


# ------------------------------------------------------------------------------------ parsing


@dataclass(frozen=True, slots=True)
class ValveCommand:
    """3801 / 3802 received by the logger."""

    frame: Frame
    close: bool
    valve_id: int
    pol_id: str | None
    reason: int | None


@dataclass(frozen=True, slots=True)
class AlarmIndication:
    """3803 received by the logger."""

    frame: Frame
    level: int
    light: bool
    voice: bool


@dataclass(frozen=True, slots=True)
class CardSwipe:
    """3811: a card swipe."""

    frame: Frame
    card_uid: str
    swipe_time: datetime
    valve_id: int | None


@dataclass(frozen=True, slots=True)
class AllowancePush:
    """3812 received by the logger."""

    frame: Frame
    period: str
    pol_id: str
    allowance: Decimal
    unit: str
    valid_until: datetime
    signature: str


@dataclass(frozen=True, slots=True)
class ValveActionReport:
    """3813: an offline valve action."""

    frame: Frame
    data_time: datetime
    valve_id: int
    closed: bool
    source: int
    cmd_qn: str | None


@dataclass(frozen=True, slots=True)
class ValveState:
    """Valve state from a 3020 upload (i32101 / i32102 / i32103)."""

    valve_id: int
    state: int | None
    state_name: str | None
    opening: Decimal | None
    remote: bool | None


ExtensionMessage = ValveCommand | AlarmIndication | CardSwipe | AllowancePush | ValveActionReport


def _need(frame: Frame, key: str) -> str:
    value = frame.cp.plain.get(key)
    if value is None:
        raise MessageError(f"TotalCap CN {frame.cn}: item {key} is missing")
    return value


def parse_extension(frame: Frame) -> ExtensionMessage | None:
    """The typed TotalCap message of ``frame``, or None when its CN is not an extension CN."""
    cns = extension_cns()
    cn = frame.cn
    plain = frame.cp.plain
    if cn in (cns["close_valve"], cns["open_valve"]):
        reason = plain.get("Reason")
        return ValveCommand(
            frame,
            cn == cns["close_valve"],
            parse_int(_need(frame, "ValveId")),
            plain.get("PolId"),
            parse_int(reason) if reason is not None else None,
        )
    if cn == cns["alarm_indication"]:
        return AlarmIndication(
            frame,
            parse_int(_need(frame, "Level")),
            plain.get("Light", "1") != "0",
            plain.get("Voice", "1") != "0",
        )
    if cn == cns["card_swipe"]:
        valve = plain.get("ValveId")
        return CardSwipe(
            frame,
            _need(frame, "CardUid"),
            parse_datetime(_need(frame, "SwipeTime")),
            parse_int(valve) if valve is not None else None,
        )
    if cn == cns["allowance_push"]:
        return AllowancePush(
            frame,
            _need(frame, "Period"),
            _need(frame, "PolId"),
            parse_decimal(_need(frame, "Allowance")),
            _need(frame, "Unit"),
            parse_datetime(_need(frame, "ValidUntil")),
            _need(frame, "Signature"),
        )
    if cn == cns["valve_action_report"]:
        return ValveActionReport(
            frame,
            parse_datetime(_need(frame, "DataTime")),
            parse_int(_need(frame, "ValveId")),
            _need(frame, "Action") == "1",
            parse_int(_need(frame, "Source")),
            plain.get("CmdQN"),
        )
    return None


def verify_allowance(message: AllowancePush, key: bytes) -> bool:
    """Check the signature of a received allowance push (constant-time compare)."""
    plain = message.frame.cp.plain
    expected = allowance_signature(
        key,
        mn=message.frame.mn or "",
        period=plain.get("Period", ""),
        pol_id=plain.get("PolId", ""),
        allowance=plain.get("Allowance", ""),
        unit=plain.get("Unit", ""),
        valid_until=plain.get("ValidUntil", ""),
    )
    return hmac.compare_digest(expected, message.signature.lower())


def valve_states(info: SiteInfo) -> list[ValveState]:
    """Valve state(s) reported in a 3020 upload; ``ValveId`` in the CP (default 1) names the valve."""
    icodes = _table()["icodes"]
    state_item = info.get(icodes["valve_state"])
    opening_item = info.get(icodes["valve_opening"])
    mode_item = info.get(icodes["valve_control_mode"])
    if state_item is None and opening_item is None and mode_item is None:
        return []
    state = parse_int(state_item.value) if state_item is not None else None
    names = _table()["valve_states"]
    return [
        ValveState(
            valve_id=parse_int(info.extra.get("ValveId", "1")),
            state=state,
            state_name=names.get(str(state)) if state is not None else None,
            opening=opening_item.decimal() if opening_item is not None else None,
            remote=(mode_item.value == "0") if mode_item is not None else None,
        )
    ]


def _time(value: datetime | str) -> str:
    return value if isinstance(value, str) else format_datetime(value)
