"""A virtual data logger: connects with its MN/PW, uploads real-time, minute, hour and day data and
site information on a (possibly sped-up) clock, answers every host command, obeys valve commands,
keeps its history for re-upload on request, re-sends what was not acknowledged, and misbehaves on
request. Everything it sends and every ack it sees goes to an append-only JSON-lines log.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from hj212 import (
    PROFILE_2005,
    PROFILE_2017,
    PROFILE_2025,
    PROFILE_TOTALCAP,
    Frame,
    Peer,
    StreamDecoder,
    build,
)
from hj212 import commands as c
from hj212 import totalcap as tc
from hj212.codes import legacy_code_map
from hj212.errors import HJ212Error
from hj212.replies import execution_result, notification_answer, request_answer
from hj212.split import build_frames
from hj212.stream import FrameEvent
from hj212.values import BEIJING, format_datetime, parse_datetime
from totalcap.ingest.simulator import model

log = logging.getLogger("totalcap.ingest.simulator")

MISBEHAVIOURS = (
    "constant", "zeros", "tamper", "drift", "garbage", "bad_crc", "split", "v2005", "flood", "no_crlf",
    "silent", "reject", "fail",
)  # fmt: skip


@dataclass
class DeviceSpec:
    """Identity and configuration of one virtual logger."""

    mn: str
    pw: str = "123456"
    st: str = "32"
    codes: list[str] = field(default_factory=lambda: ["w00000", "w01018", "w21003"])
    version: str = "2017"
    total_control: bool = False
    seed: int = 0
    misbehave: frozenset[str] = frozenset()
    drift_seconds: float = 300.0
    rtd_interval: int = 30  # simulated seconds
    min_interval: int = 10  # simulated minutes
    realtime: bool = True
    status: bool = True
    card_uid: str | None = None  # total control: the IC card swiped once per simulated month (3811)


class SimClock:
    """Simulated Beijing time: ``start + elapsed × speedup``; with ``catch_up`` it never runs ahead of
    real time (a demo replays the last day quickly, then continues live)."""

    def __init__(self, speedup: float = 1.0, start: datetime | None = None, catch_up: bool = True) -> None:
        self.speedup = max(speedup, 0.001)
        self.real0 = time.time()
        self.sim0 = (start or datetime.now(UTC)).timestamp()
        self.catch_up = catch_up

    def timestamp(self) -> float:
        real = time.time()
        sim = self.sim0 + (real - self.real0) * self.speedup
        if self.catch_up and sim > real and self.speedup > 1:
            return real
        return sim

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp(), BEIJING)

    def real_seconds(self, sim_seconds: float) -> float:
        """Real seconds for a simulated duration (at the current pace)."""
        real = time.time()
        ahead = self.sim0 + (real - self.real0) * self.speedup
        if self.catch_up and ahead > real and self.speedup > 1:
            return sim_seconds
        return sim_seconds / self.speedup


class SentLog:
    """Append-only JSON-lines record of what the simulator sent and which acks it saw."""

    def __init__(self, path: str | Path | None) -> None:
        self._fh: TextIO | None = Path(path).open("a", encoding="utf-8", buffering=1) if path else None  # noqa: SIM115
        self.counts: dict[str, int] = {}

    def write(self, event: str, **data: Any) -> None:
        self.counts[event] = self.counts.get(event, 0) + 1
        if self._fh is not None:
            self._fh.write(json.dumps({"at": time.time(), "event": event, **data}, ensure_ascii=False) + "\n")

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()


@dataclass
class Unacked:
    qn: str
    wire: bytes
    record: dict[str, Any]
    sent: float
    attempts: int = 1


class VirtualLogger:
    """One simulated logger (see the module docstring)."""

    def __init__(self, spec: DeviceSpec, clock: SimClock, sent_log: SentLog) -> None:
        self.spec = spec
        self.clock = clock
        self.log = sent_log
        profile = {"2005": PROFILE_2005, "2025": PROFILE_2025}.get(spec.version, PROFILE_2017)
        if "v2005" in spec.misbehave:
            profile = PROFILE_2005
        if spec.total_control and profile is PROFILE_2017:
            profile = PROFILE_TOTALCAP
        self.profile = profile
        self.pw = spec.pw
        self.behaviour = model.Behaviour(
            constant="constant" in spec.misbehave, zeros="zeros" in spec.misbehave
        )
        self.clock_offset = spec.drift_seconds if "drift" in spec.misbehave else 0.0
        self.rtd_interval = spec.rtd_interval
        self.min_interval = spec.min_interval
        self.realtime_on = spec.realtime
        self.status_on = spec.status
        self.overtime = 10.0
        self.recount = 3
        self.valve_open = True
        self.valve_changes: list[tuple[datetime, bool]] = []
        self.allowance: str | None = None  # the remaining allowance last pushed (3812), counted down
        self.allowance_pol = "w00000"
        self._last_qn_time: datetime | None = None
        self.swiped_months: set[str] = set()
        self.offline_actions: list[Frame] = []  # 3813 reports waiting for the next connection
        self.params: dict[str, str] = {"i13007": "0.02", "i13008": "1.000", "i13004": "165.0"}
        self.history: dict[str, OrderedDict[str, dict[str, dict[str, str]]]] = {
            k: OrderedDict() for k in "mhd"
        }
        self.unacked: dict[str, Unacked] = {}
        self.writer: asyncio.StreamWriter | None = None
        self.started = datetime.now(BEIJING)
        self.connected = asyncio.Event()
        self.frames_sent = 0
        self._rng = random.Random(spec.seed)
        self._history_ack: dict[str, asyncio.Future[None]] = {}
        self._legacy = {v: k for k, v in legacy_code_map().items()} if "v2005" in spec.misbehave else {}
        self.offline_until = 0.0
        self._tasks: set[asyncio.Task[None]] = set()
        self._command_lock = asyncio.Lock()

    def go_offline(self, seconds: float) -> None:
        """Drop the connection and stay away for ``seconds`` (real time), buffering meanwhile."""
        self.offline_until = time.monotonic() + seconds
        if self.writer is not None:
            self.writer.close()

    @property
    def peer(self) -> Peer:
        return Peer(mn=self.spec.mn, pw=self.pw, st=self.spec.st, profile=self.profile)

    def now(self) -> datetime:
        return self.clock.now() + timedelta(seconds=self.clock_offset)

    # ------------------------------------------------------------------------------ connection

    async def run(self, host: str, port: int, stop: asyncio.Event) -> None:
        """Connect, upload and answer until ``stop``; reconnect with back-off when disconnected."""
        schedule = asyncio.get_running_loop().create_task(self._schedule(stop))
        delay = 0.5
        try:
            while not stop.is_set():
                if time.monotonic() < self.offline_until:
                    await _wait(stop, self.offline_until - time.monotonic())
                    continue
                try:
                    reader, writer = await asyncio.open_connection(host, port)
                except OSError:
                    await _wait(stop, delay + self._rng.random() * delay)
                    delay = min(delay * 2, 10.0)
                    continue
                delay = 0.5
                self.writer = writer
                self.connected.set()
                self.log.write("connected", mn=self.spec.mn)
                try:
                    await self._on_connect()
                    await self._read(reader, stop)
                finally:
                    self.connected.clear()
                    self.writer = None
                    writer.close()
                    with contextlib.suppress(Exception):
                        await writer.wait_closed()
                    self.log.write("disconnected", mn=self.spec.mn)
                await _wait(stop, 0.2 + self._rng.random() * 0.5)
        finally:
            schedule.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await schedule

    async def _on_connect(self) -> None:
        restart = c.upload(self.peer, 2081, [("DataTime", format_datetime(self.now())),
                                              ("RestartTime", format_datetime(self.started))], now=self._qn_time())  # fmt: skip
        self._send_frame(restart, record=None)
        for report in self.offline_actions:
            self._send_frame(report, {"cn": "3813", "data_time": report.cp.plain.get("DataTime", "")})
        self.offline_actions.clear()
        if self.status_on:
            self._site_info(self.now())
        if self.spec.total_control and self.spec.card_uid:
            month = self.now().strftime("%Y%m")
            if month not in self.swiped_months:
                self.swipe_card()
        for pending in sorted(self.unacked.values(), key=lambda u: u.qn):
            pending.attempts += 1
            pending.sent = time.monotonic()
            self._write(pending.wire)
            self.log.write("resent", mn=self.spec.mn, qn=pending.qn, **pending.record)

    async def _read(self, reader: asyncio.StreamReader, stop: asyncio.Event) -> None:
        decoder = StreamDecoder(self.profile)
        while not stop.is_set():
            try:
                data = await asyncio.wait_for(reader.read(65536), 1.0)
            except TimeoutError:
                self._check_unacked()
                continue
            except OSError:
                return
            if not data:
                return
            for event in decoder.feed(data):
                if isinstance(event, FrameEvent):
                    # commands run as tasks (one at a time) so that acks keep being read meanwhile
                    task = asyncio.get_running_loop().create_task(self._handle(event.frame))
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)

    async def _handle(self, frame: Frame) -> None:
        try:
            if (frame.cn or "") in ("9011", "9012", "9013", "9014"):
                await self._host_frame(frame)
                return
            async with self._command_lock:
                await self._host_frame(frame)
        except HJ212Error as exc:
            log.warning("%s: cannot handle %s: %s", self.spec.mn, frame.cn, exc)

    def _check_unacked(self) -> None:
        now = time.monotonic()
        for qn, pending in list(self.unacked.items()):
            if now - pending.sent < self.overtime:
                continue
            if pending.attempts >= self.recount:
                continue  # kept; re-sent on the next connection
            pending.attempts += 1
            pending.sent = now
            self._write(pending.wire)
            self.log.write("resent", mn=self.spec.mn, qn=qn, **pending.record)

    # ------------------------------------------------------------------------------ sending

    def _qn_time(self) -> datetime:
        """The time a QN is made of (milliseconds): strictly increasing per device, so two frames sent
        in the same millisecond (a minute, hour and day record at midnight) never share a QN."""
        now = datetime.now(BEIJING) + timedelta(seconds=self.clock_offset)
        now = now.replace(microsecond=now.microsecond // 1000 * 1000)
        last = self._last_qn_time
        if last is not None and now <= last:
            now = last + timedelta(milliseconds=1)
        self._last_qn_time = now
        return now

    def _write(self, data: bytes) -> bool:
        if self.writer is None or self.writer.is_closing():
            return False
        if "no_crlf" in self.spec.misbehave:
            data = data.rstrip(b"\r\n")
        if "garbage" in self.spec.misbehave and self._rng.random() < 0.3:
            data = (
                bytes(self._rng.randrange(256) for _ in range(self._rng.randrange(3, 40))).replace(b"#", b"")
                + data
            )
        self.writer.write(data)
        self.frames_sent += 1
        return True

    def _send_frame(self, frame: Frame, record: dict[str, Any] | None) -> None:
        """Send an upload; with Flag.A=1 it waits in ``unacked`` for its 9014."""
        if "split" in self.spec.misbehave and frame.cn in ("2051", "2061", "2031"):
            packets = build_frames(frame, self.profile.replace(max_segment=300, max_cp=240))
        else:
            packets = [build(frame, self.profile, allow_oversize=True)]
        for i, packet in enumerate(packets):
            wire = packet
            if "bad_crc" in self.spec.misbehave and self._rng.random() < 0.2:
                wire = packet[:-6] + b"0000\r\n"
            qn = (frame.qn or "") if len(packets) == 1 else _qn_of(wire)
            wants_ack = frame.flag is None or frame.flag.ack
            if record is not None and wants_ack:
                self.unacked[qn] = Unacked(
                    qn, wire, {**record, "packet": i + 1, "packets": len(packets)}, time.monotonic()
                )
            sent = self._write(wire)
            if record is not None:
                self.log.write("sent" if sent else "buffered", mn=self.spec.mn, qn=qn, **record)

    def upload_data(self, cn: str, moment: datetime, items: dict[str, dict[str, str]]) -> None:
        stamp = format_datetime(moment)
        if self._legacy:
            items = {self._legacy.get(code, code): values for code, values in items.items()}
        frame = c.upload_data(self.peer, int(cn), stamp, items, now=self._qn_time())
        self._send_frame(frame, {"cn": cn, "data_time": stamp, "items": items})

    # ------------------------------------------------------------------------------ total control

    def swipe_card(self, uid: str | None = None) -> bool:
        """Swipe an IC card at the logger (TotalCap CN 3811); False when not connected."""
        uid = uid or self.spec.card_uid
        if not uid or not self.spec.total_control or not self.connected.is_set():
            return False
        moment = self.now()
        frame = tc.card_swipe(self.peer, uid, moment, valve_id=1, now=self._qn_time())
        self._send_frame(frame, {"cn": "3811", "data_time": format_datetime(moment), "card": uid})
        self.swiped_months.add(moment.strftime("%Y%m"))
        return True

    def local_valve_action(self, open_valve: bool, source: int = 0) -> None:
        """Open or close the valve on site (source 0 local, 2 automatic); while offline the action
        is reported on reconnect (TotalCap CN 3813), online by a 3020 valve state."""
        moment = self.now()
        self.valve_open = open_valve
        self.valve_changes.append((moment, open_valve))
        self.log.write("valve", mn=self.spec.mn, state="open" if open_valve else "closed", source=source)
        if self.connected.is_set():
            self._valve_report(moment)
        else:
            self.offline_actions.append(
                tc.valve_action_report(
                    self.peer, moment, 1, 0 if open_valve else 1, source, now=self._qn_time()
                )
            )

    # ------------------------------------------------------------------------------ schedule

    async def _schedule(self, stop: asyncio.Event) -> None:
        now = self.now()
        next_rtd = now
        next_min = _floor(now, timedelta(minutes=self.min_interval)) + timedelta(minutes=self.min_interval)
        next_hour = _floor(now, timedelta(hours=1)) + timedelta(hours=1)
        next_day = _floor(now, timedelta(days=1)) + timedelta(days=1)
        next_status = now
        while not stop.is_set():
            now = self.now()
            if "flood" in self.spec.misbehave and self.connected.is_set():
                for _ in range(50):
                    self.upload_data("2011", self.now(), self._realtime(self.now()))
                await asyncio.sleep(0)
                continue
            if now >= next_rtd:
                if self.realtime_on and self.connected.is_set():
                    self.upload_data("2011", now.replace(microsecond=0), self._realtime(now))
                next_rtd = now + timedelta(seconds=self.rtd_interval)
            while now >= next_min:
                step = timedelta(minutes=self.min_interval)
                self._interval("2051", "m", next_min - step, step)
                next_min += step
            while now >= next_hour:
                self._interval("2061", "h", next_hour - timedelta(hours=1), timedelta(hours=1))
                next_hour += timedelta(hours=1)
            while now >= next_day:
                self._interval("2031", "d", next_day - timedelta(days=1), timedelta(days=1))
                next_day += timedelta(days=1)
            if now >= next_status:
                if self.status_on and self.connected.is_set():
                    self._site_info(now)
                next_status = now + timedelta(hours=1)
            wake = min(next_rtd, next_min, next_hour, next_status) - now
            await _wait(stop, min(max(self.clock.real_seconds(wake.total_seconds()), 0.01), 5.0))

    def _realtime(self, moment: datetime) -> dict[str, dict[str, str]]:
        return model.realtime(self.spec.codes, moment, self.spec.seed, self.behaviour, self.valve_open)

    def _interval(self, cn: str, kind: str, start: datetime, length: timedelta) -> None:
        items = model.interval(
            self.spec.codes, start, length, self.spec.seed, self.behaviour, self.valve_changes
        )
        if kind == "m":
            self._count_allowance(items)
        stamp = format_datetime(start)
        history = self.history[kind]
        history[stamp] = items
        while len(history) > 3000:
            history.popitem(last=False)
        if self.connected.is_set():
            self.upload_data(cn, start, items)
        else:
            self.log.write("buffered", mn=self.spec.mn, cn=cn, data_time=stamp, items=items)

    def _count_allowance(self, items: dict[str, dict[str, str]]) -> None:
        """Count the pushed allowance down by each minute's amount (``Cou``) of its pollutant; used up
        while offline, the logger closes the valve itself (an automatic action, reported by 3813 on
        reconnection). Online the platform decides, so the count only goes on."""
        if self.allowance is None:
            return
        amount = items.get(self.allowance_pol, {}).get("Cou")
        try:
            left = Decimal(self.allowance) - Decimal(amount or "0")
        except ArithmeticError:
            return
        self.allowance = f"{max(left, Decimal(0)):.4f}"
        if left <= 0 and self.valve_open and not self.connected.is_set():
            self.local_valve_action(False, source=2)

    def _site_info(self, moment: datetime) -> None:
        if "tamper" in self.spec.misbehave:
            self.params["i13007"] = f"{self._rng.uniform(0.0, 0.5):.3f}"
            self.params["i13008"] = f"{self._rng.uniform(0.5, 1.5):.3f}"
        stamp = format_datetime(moment)
        main = self.spec.codes[1] if len(self.spec.codes) > 1 else self.spec.codes[0]
        items = [("DataTime", stamp), ("PolId", main), ("i12001", "0"), ("i12002", "0")]
        items += [(f"{code}-Info", value) for code, value in self.params.items()]
        info = c.upload(self.peer, 3020, [(k if k in ("DataTime", "PolId") or k.endswith("-Info") else f"{k}-Info", v)
                                          for k, v in items], now=self._qn_time())  # fmt: skip
        self._send_frame(info, {"cn": "3020", "data_time": stamp})
        if self.spec.total_control:
            self._valve_report(moment)

    def _valve_report(self, moment: datetime) -> None:
        items = [("DataTime", format_datetime(moment)), ("ValveId", "1"),
                 ("i32101-Info", "0" if self.valve_open else "1"),
                 ("i32102-Info", "100.0" if self.valve_open else "0.0"), ("i32103-Info", "0")]  # fmt: skip
        if self.allowance is not None:
            items.append(("i32104-Info", self.allowance))
        frame = c.upload(self.peer, 3020, items, now=self._qn_time())
        self._send_frame(
            frame, {"cn": "3020", "data_time": items[0][1], "valve": "open" if self.valve_open else "closed"}
        )

    # ------------------------------------------------------------------------------ host frames

    async def _host_frame(self, frame: Frame) -> None:
        cn = frame.cn or ""
        if cn == "9014":
            qn = frame.answered_qn or ""
            pending = self.unacked.pop(qn, None)
            if pending is not None:
                self.log.write("acked", mn=self.spec.mn, qn=qn, **pending.record)
            waiter = self._history_ack.pop(qn, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(None)
            return
        if cn in ("9011", "9012", "9013"):
            self.log.write("answer", mn=self.spec.mn, cn=cn, qn=frame.answered_qn, items=dict(frame.cp.plain))
            return
        self.log.write("command", mn=self.spec.mn, cn=cn, qn=frame.qn, items=dict(frame.cp.plain))
        if "silent" in self.spec.misbehave:
            return
        if cn in ("2012", "2022"):
            if cn == "2012":
                self.realtime_on = False
            else:
                self.status_on = False
            self._reply(notification_answer(frame, profile=self.profile))
            return
        if "reject" in self.spec.misbehave:
            self._reply(request_answer(frame, 2, profile=self.profile))
            return
        known = cn in _HANDLED or (self.spec.total_control and cn in ("3801", "3802", "3803", "3812"))
        if not known:
            self._reply(request_answer(frame, 8, profile=self.profile))
            return
        self._reply(request_answer(frame, 1, profile=self.profile))
        if "fail" in self.spec.misbehave:
            self._reply(execution_result(frame, 2, profile=self.profile))
            return
        exe = await self._execute(frame, cn)
        self._reply(execution_result(frame, exe, profile=self.profile))
        if cn in ("3801", "3802"):
            self._valve_report(self.now())

    def _reply(self, frame: Frame) -> None:
        self._write(build(frame, self.profile))

    def _answer(self, request: Frame, cn: str, items: list[tuple[str, str]]) -> None:
        """A "get" result under the request's CN and QN (Flag without A)."""
        frame = c.upload(self.peer, int(cn), items, qn=request.qn, ack=False)
        self._write(build(frame, self.profile, allow_oversize=True))

    async def _execute(self, frame: Frame, cn: str) -> int:
        plain = frame.cp.plain
        pol = plain.get("PolId", self.spec.codes[0])
        if cn == "1000":
            self.overtime = float(plain.get("OverTime", "10"))
            self.recount = int(plain.get("ReCount", "3"))
        elif cn == "1011":
            self._answer(frame, "1011", [*([("PolId", plain["PolId"])] if "PolId" in plain else []),
                                          ("SystemTime", format_datetime(self.now()))])  # fmt: skip
        elif cn == "1012":
            target = parse_datetime(plain["SystemTime"])
            self.clock_offset += (target - self.now()).total_seconds()
        elif cn == "1061":
            self._answer(frame, "1061", [("RtdInterval", str(self.rtd_interval))])
        elif cn == "1062":
            self.rtd_interval = int(plain["RtdInterval"])
        elif cn == "1063":
            self._answer(frame, "1063", [("MinInterval", str(self.min_interval))])
        elif cn == "1064":
            self.min_interval = int(plain["MinInterval"])
        elif cn == "1072":
            self.pw = plain["NewPW"]
        elif cn == "2011":
            self.realtime_on = True
        elif cn == "2021":
            self.status_on = True
        elif cn in ("2031", "2051", "2061"):
            return await self._history(frame, cn)
        elif cn == "3015":
            self._answer(frame, "3015", [("DataTime", format_datetime(self.now())), ("VaseNo", "1")])
        elif cn == "3017":
            self._answer(frame, "3017", [("PolId", pol), ("CstartTime", "000000"), ("Ctime", "2")])
        elif cn == "3018":
            self._answer(frame, "3018", [("PolId", pol), ("Stime", "30")])
        elif cn == "3019":
            self._answer(frame, "3019", [("DataTime", format_datetime(self.now())),
                                          (f"{pol}-SN", f"{self.spec.mn[:16]}{abs(hash(pol)) % 10**8:08d}"[:24])])  # fmt: skip
        elif cn == "3020":
            info = plain.get("InfoId", "i12001")
            value = self.params.get(
                info, "0" if not info.startswith("i321") else ("0" if self.valve_open else "1")
            )
            self._answer(
                frame,
                "3020",
                [("DataTime", format_datetime(self.now())), ("PolId", pol), (f"{info}-Info", value)],
            )
        elif cn == "3021":
            info = plain.get("InfoId", "")
            new_value = frame.cp.subjects.get(info, {}).get("Info")
            if new_value is None:
                return 3
            self.params[info] = new_value
        elif cn in ("3801", "3802"):
            self.valve_open = cn == "3802"
            self.valve_changes.append((self.now(), self.valve_open))
            self.log.write(
                "valve", mn=self.spec.mn, state="open" if self.valve_open else "closed", qn=frame.qn
            )
        elif cn == "3812":
            message = tc.parse_extension(frame)
            if not isinstance(message, tc.AllowancePush) or not tc.verify_allowance(
                message, self.pw.encode()
            ):
                return 3
            self.allowance = plain.get("Allowance")
            self.allowance_pol = message.pol_id or "w00000"
        elif cn in ("3011", "3012", "3013", "3014", "3016", "3803"):
            await asyncio.sleep(0.05)
        return 1

    async def _history(self, frame: Frame, cn: str) -> int:
        kind = {"2031": "d", "2051": "m", "2061": "h"}[cn]
        begin = format_datetime(parse_datetime(frame.cp.plain["BeginTime"]))
        end = format_datetime(parse_datetime(frame.cp.plain["EndTime"]))
        records = [(stamp, items) for stamp, items in self.history[kind].items() if begin <= stamp <= end]
        if not records:
            return 100
        loop = asyncio.get_running_loop()
        for stamp, items in records:
            record = c.upload_data(self.peer, int(cn), stamp, items, now=self._qn_time())
            waiter: asyncio.Future[None] = loop.create_future()
            self._history_ack[record.qn or ""] = waiter
            for _attempt in range(self.recount):
                self._send_frame(record, {"cn": cn, "data_time": stamp, "items": items, "history": True})
                try:
                    await asyncio.wait_for(asyncio.shield(waiter), self.overtime)
                    break
                except TimeoutError:
                    continue
            else:
                return 4
        return 1


_HANDLED = frozenset(
    ("1000", "1011", "1012", "1061", "1062", "1063", "1064", "1072", "2011", "2021", "2031", "2051", "2061", "3011", "3012", "3013", "3014", "3015", "3016", "3017", "3018", "3019", "3020", "3021")
)  # fmt: skip


def _qn_of(wire: bytes) -> str:
    start = wire.find(b"QN=")
    return wire[start + 3 : wire.find(b";", start)].decode("ascii", "replace") if start >= 0 else ""


def _floor(moment: datetime, step: timedelta) -> datetime:
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return day + step * ((moment - day) // step)


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
