"""Reassembly of split messages, keyed by (MN, CN, DataTime, PNUM) -- never by QN.

Every packet of a split message has its own QN (§6.3.2, C.49/C.50), so the QN cannot group them.
Packets may arrive out of order, twice, or not at all; incomplete groups time out (the clock is
injectable) and are reported with the packet numbers still missing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .errors import UsageError
from .frame import CP, Frame

__all__ = ["GroupKey", "GroupStatus", "Reassembled", "Reassembler", "group_key", "merge_packets"]

#: (MN, CN, DataTime, PNUM)
GroupKey = tuple[str | None, str | None, str | None, int]


def group_key(frame: Frame) -> GroupKey | None:
    """The reassembly key of a split packet, or None for a frame that is not a valid packet."""
    pnum, pno = frame.pnum, frame.pno
    if pnum is None or pno is None or not 1 <= pno <= pnum:
        return None
    return (frame.mn, frame.cn, frame.cp.plain.get("DataTime"), pnum)


@dataclass(frozen=True, slots=True)
class Reassembled:
    """A whole message (``complete``) or what arrived of one before it timed out.

    ``frame`` is the merged message: the header of the lowest-numbered packet received without PNUM/PNO
    and with Flag.D cleared, DataTime once, then every packet's items in PNO order.  ``packets`` are the
    frames received (first copy of each PNO) in PNO order, e.g. to store their raw bytes.
    """

    frame: Frame
    packets: tuple[Frame, ...]
    complete: bool
    missing: tuple[int, ...] = ()
    duplicates: int = 0
    key: GroupKey | None = None


@dataclass(frozen=True, slots=True)
class GroupStatus:
    """An incomplete group still waiting (report)."""

    key: GroupKey
    received: tuple[int, ...]
    missing: tuple[int, ...]
    duplicates: int
    age: float


@dataclass(slots=True)
class _Group:
    first_seen: float
    packets: dict[int, Frame] = field(default_factory=dict)
    duplicates: int = 0


def merge_packets(packets: list[Frame]) -> Frame:
    """Merge packets (in PNO order) into one message."""
    if not packets:
        raise UsageError("no packets to merge")
    first = packets[0]
    header = first.header.replace(PNUM=None, PNO=None)
    flag = first.flag
    if flag is not None and flag.split:
        header = header.replace(Flag=str(flag.value & ~2))
    keys: list[str] = []
    values: list[str] = []
    seps: list[str] = []
    data_time = first.cp.plain.get("DataTime")
    if data_time is not None:
        keys.append("DataTime")
        values.append(data_time)
    for packet in packets:
        cp = packet.cp
        if cp.keys and cp.keys[0] == "DataTime" and "DataTime" not in cp.keys[1:]:
            cp = CP._trusted(cp.keys[1:], cp.values[1:], cp.separators[1:])  # the usual layout: no loop
        elif "DataTime" in cp.keys:
            cp = cp.without("DataTime")
        if not cp.keys:
            continue
        if keys:
            same = keys[-1].partition("-")[0] == cp.keys[0].partition("-")[0] and "-" in cp.keys[0]
            seps.append("," if same else ";")
        keys.extend(cp.keys)
        values.extend(cp.values)
        seps.extend(cp.separators)
    return Frame(header, CP._trusted(tuple(keys), tuple(values), "".join(seps)))


class Reassembler:
    """Collects split packets until each message is whole.

    Args:
        timeout: seconds a group may wait for its missing packets, counted from its first packet
            (default 360, as lua-HJ212 uses).
        clock: monotonic clock in seconds (injectable for tests).
        max_groups: groups kept at once; beyond that the oldest is given up as incomplete.
    """

    def __init__(
        self,
        *,
        timeout: float = 360.0,
        clock: Callable[[], float] = time.monotonic,
        max_groups: int = 4096,
    ) -> None:
        if timeout <= 0 or max_groups < 1:
            raise UsageError("timeout must be > 0 and max_groups >= 1")
        self.timeout = timeout
        self.clock = clock
        self.max_groups = max_groups
        self._groups: dict[GroupKey, _Group] = {}
        self._given_up: list[Reassembled] = []
        self._completed: dict[GroupKey, float] = {}  # recently completed groups: late duplicates are dropped
        self.late_duplicates = 0

    def add(self, frame: Frame) -> Reassembled | None:
        """Offer a frame.  A frame that is not split comes straight back (complete); a packet that completes
        its group returns the merged message; otherwise None."""
        key = group_key(frame)
        if key is None:
            return Reassembled(frame, (frame,), True)
        pno = frame.pno
        assert pno is not None
        now = self.clock()
        group = self._groups.get(key)
        if group is None and key in self._completed:
            if now - self._completed[key] < self.timeout:
                self.late_duplicates += 1
                return None
            del self._completed[key]
        if group is None:
            if len(self._groups) >= self.max_groups:
                oldest = next(iter(self._groups))
                self._given_up.append(self._result(oldest, self._groups.pop(oldest)))
            group = self._groups[key] = _Group(now)
        if pno in group.packets:
            group.duplicates += 1
            return None
        group.packets[pno] = frame
        if len(group.packets) == key[3]:
            del self._groups[key]
            if len(self._completed) >= self.max_groups:
                del self._completed[next(iter(self._completed))]
            self._completed[key] = now
            return self._result(key, group)
        return None

    def expire(self, now: float | None = None) -> list[Reassembled]:
        """Give up groups older than the timeout (plus any evicted); returns them as incomplete results."""
        moment = self.clock() if now is None else now
        out, self._given_up = self._given_up, []
        for key in [k for k, t in self._completed.items() if moment - t >= self.timeout]:
            del self._completed[key]
        for key in [k for k, g in self._groups.items() if moment - g.first_seen >= self.timeout]:
            out.append(self._result(key, self._groups.pop(key)))
        return out

    def drain(self) -> list[Reassembled]:
        """Give up every waiting group (e.g. when the connection closes)."""
        out, self._given_up = self._given_up, []
        for key in list(self._groups):
            out.append(self._result(key, self._groups.pop(key)))
        return out

    def pending(self, now: float | None = None) -> list[GroupStatus]:
        """Report of the groups still waiting."""
        moment = self.clock() if now is None else now
        report = []
        for key, group in self._groups.items():
            received = tuple(sorted(group.packets))
            missing = tuple(i for i in range(1, key[3] + 1) if i not in group.packets)
            report.append(GroupStatus(key, received, missing, group.duplicates, moment - group.first_seen))
        return report

    def __len__(self) -> int:
        return len(self._groups)

    @staticmethod
    def _result(key: GroupKey, group: _Group) -> Reassembled:
        numbers = sorted(group.packets)
        packets = [group.packets[i] for i in numbers]
        missing = tuple(i for i in range(1, key[3] + 1) if i not in group.packets)
        return Reassembled(
            merge_packets(packets), tuple(packets), not missing, missing, group.duplicates, key
        )
