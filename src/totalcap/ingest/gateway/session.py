"""One TCP connection (asyncio protocol) and the live state of the loggers bound to it.

A connection binds a logger on its first valid frame (MN known, PW right, CRC right under the
logger's CRC mode); a DTU that multiplexes several loggers binds each. Every frame and every byte
run that is not a frame becomes a :class:`~totalcap.ingest.gateway.writer.Pending` for the group
commit; its ack (if the profile says one is owed) is written only after that commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from hj212 import Diagnostic, Frame, FrameEvent, Reassembler, StreamDecoder, build
from hj212 import totalcap as tc
from hj212.crc import crc16, crc16_hj212
from hj212.errors import HJ212Error
from hj212.messages import SiteInfo, parse_message
from hj212.replies import ack_for, request_answer
from hj212.values import BEIJING, parse_datetime
from totalcap.ingest.choices import KIND_OF_CN
from totalcap.ingest.gateway.registry import LoggerProfile
from totalcap.ingest.gateway.rows import clean_text, data_lines, info_rows, time_text
from totalcap.ingest.gateway.writer import Pending

if TYPE_CHECKING:
    from totalcap.ingest.gateway.server import Gateway

log = logging.getLogger("totalcap.ingest.session")

DATA_CNS = frozenset(KIND_OF_CN)
REPLY_CNS = frozenset(("9011", "9012", "9013"))
ANSWER_CNS = frozenset(("1011", "1061", "1063", "3015", "3017", "3018", "3019", "3020"))
_DIAGNOSTIC_STATUS = {
    "garbage": "garbage",
    "oversize": "oversize",
    "truncated": "truncated",
    "unparseable": "malformed",
    "bad-crc": "bad_crc",
}


@dataclass
class LiveSession:
    """The state of one logger as this gateway sees it (flushed to ``ingest_loggersession``)."""

    profile: LoggerProfile
    connection: Connection | None = None
    connected_at: datetime | None = None
    disconnected_at: datetime | None = None
    last_frame_at: datetime | None = None
    last_cn: str = ""
    frames: int = 0
    bad_frames: int = 0
    last_error: str = ""
    last_error_at: datetime | None = None
    drift: float | None = None
    drift_checked: float = -1e9
    restart_time: datetime | None = None
    protocol_seen: str = ""
    initialised_at: datetime | None = None
    initialised_connection: int | None = None
    dirty: bool = True  # frames seen since the last write (written every session_soft_interval)
    urgent: bool = True  # connected, disconnected or failed: written at the next flush
    flushed_at: float = -1e9
    # gap tracking: kind -> last data time seen live, and the smallest step seen
    last_data: dict[str, datetime] = field(default_factory=dict)
    step: dict[str, timedelta] = field(default_factory=dict)
    seeded: bool = False

    @property
    def online(self) -> bool:
        return self.connection is not None and not self.connection.closed

    def error(self, message: str, at: datetime) -> None:
        self.bad_frames += 1
        self.last_error = message[:255]
        self.last_error_at = at
        self.urgent = True


class Connection(asyncio.Protocol):
    """One device connection."""

    def __init__(self, gateway: Gateway) -> None:
        self.gw = gateway
        config = gateway.config
        self.id = gateway.next_connection_id()
        self.transport: asyncio.Transport | None = None
        self.peer = ""
        self.decoder = StreamDecoder(max_frame=config.max_frame)
        self.loggers: dict[int, LoggerProfile] = {}
        self.closed = False
        self.close_reason = ""
        now = time.monotonic()
        self.opened_at = now
        self.last_frame = now
        self.last_data = now
        self.partial_since: float | None = None
        self.bad_in_row = 0
        self.tokens = config.rate_burst
        self.tokens_at = now
        self.paused: set[str] = set()
        self.reassembler: Reassembler | None = None

    # ------------------------------------------------------------------------------ asyncio

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it
        self.transport = cast(asyncio.Transport, transport)
        peer = transport.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer or "")
        if not self.gw.accept(self):
            self.closed = True
            self.transport.abort()
            return
        if self.gw.reading_paused:
            self.pause("pressure")

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.gw.forget(self)

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        self.last_data = now
        gw = self.gw
        gw.metrics.inc("totalcap_gateway_bytes_received_total", len(data))
        events = self.decoder.feed(data)
        self.partial_since = (self.partial_since or now) if self.decoder.buffered else None
        if events:
            self.handle_events(events, now)

    def eof_received(self) -> bool | None:
        events = self.decoder.close()
        if events:
            self.handle_events(events, time.monotonic())
        return None

    # ------------------------------------------------------------------------------ control

    def pause(self, reason: str) -> None:
        if not self.paused and self.transport is not None and not self.closed:
            self.transport.pause_reading()
        self.paused.add(reason)

    def resume(self, reason: str) -> None:
        if reason not in self.paused:
            return
        self.paused.discard(reason)
        if not self.paused and self.transport is not None and not self.closed:
            self.transport.resume_reading()

    def close(self, reason: str) -> None:
        """Close after writing what is buffered (acks already committed go out first)."""
        if self.closed:
            return
        self.closed = True
        self.close_reason = reason
        self.gw.metrics.inc("totalcap_gateway_disconnects_total", reason=reason)
        log.info("closing connection %s from %s: %s", self.id, self.peer, reason)
        if self.transport is not None:
            self.transport.close()
        self.gw.forget(self)

    def write_ack(self, data: bytes, received_monotonic: float, cn: str) -> bool:
        """Write a frame to the device (acks after commit, commands); False when the connection is gone."""
        if self.closed or self.transport is None or self.transport.is_closing():
            return False
        self.transport.write(data)
        self.gw.metrics.inc("totalcap_gateway_frames_sent_total", cn=cn)
        return True

    def write_acks(self, acks: list[tuple[bytes, str]]) -> bool:
        """Write several frames with one socket write (the acks of one commit); False when gone."""
        if self.closed or self.transport is None or self.transport.is_closing():
            return False
        if len(acks) == 1:
            self.transport.write(acks[0][0])
        else:
            self.transport.write(b"".join(data for data, _cn in acks))
        metrics = self.gw.metrics
        for _data, cn in acks:
            metrics.inc("totalcap_gateway_frames_sent_total", cn=cn)
        return True

    def flush_idle(self, now: float) -> None:
        """Housekeeping: deliver a frame that lacks CRLF after a silence; enforce the time limits."""
        config = self.gw.config
        if self.decoder.buffered and now - self.last_data >= config.flush_after:
            events = self.decoder.flush()
            if events:
                self.handle_events(events, now)
            if not self.decoder.buffered:
                self.partial_since = None
        if self.partial_since is not None and now - self.partial_since > config.partial_timeout:
            self.close("partial_timeout")
        elif now - self.last_frame > config.idle_timeout:
            self.close("idle_timeout")
        elif self.reassembler is not None:
            for partial in self.reassembler.expire():
                self.gw.metrics.inc("totalcap_gateway_bad_frames_total", reason="incomplete_split")
                log.warning(
                    "split message from %s expired with packets %s missing", self.peer, partial.missing
                )

    # ------------------------------------------------------------------------------ frames

    def handle_events(self, events: list[FrameEvent | Diagnostic], now: float) -> None:
        wall = datetime.now(UTC)
        frames = 0
        for event in events:
            if self.closed:
                return
            if isinstance(event, FrameEvent):
                frames += 1
                self.handle_frame(event.frame, wall, now)
            else:
                self.handle_diagnostic(event, wall, now)
        if frames:
            self.last_frame = now
            self._rate(frames, now)

    def _rate(self, frames: int, now: float) -> None:
        config = self.gw.config
        self.tokens = (
            min(config.rate_burst, self.tokens + (now - self.tokens_at) * config.rate_limit) - frames
        )
        self.tokens_at = now
        if self.tokens < 0 and "rate" not in self.paused and not self.closed:
            self.gw.metrics.inc("totalcap_gateway_rate_limited_total")
            self.pause("rate")
            asyncio.get_running_loop().call_later(-self.tokens / config.rate_limit, self.resume, "rate")

    def handle_diagnostic(self, event: Diagnostic, wall: datetime, now: float) -> None:
        status = _DIAGNOSTIC_STATUS.get(event.kind, "malformed")
        raw = event.frame.raw if event.frame is not None and event.frame.raw else event.sample
        self.gw.metrics.inc("totalcap_gateway_bad_frames_total", reason=status)
        warning = {"code": event.kind, "message": clean_text(event.message, 200), "size": event.size}
        if self.loggers or self.gw.allow_unbound():
            self._submit(Pending(wall, now, "i", status, raw or b"", peer=self.peer, connection_id=self.id,
                                 warnings=[warning]))  # fmt: skip
        self._bad(f"{event.kind}: {event.message}", wall)

    def _bad(self, message: str, wall: datetime, profile: LoggerProfile | None = None) -> None:
        self.bad_in_row += 1
        if profile is not None:
            session = self.gw.sessions.get(profile.id)
            if session is not None:
                session.error(message, wall)
        if self.bad_in_row >= self.gw.config.bad_frame_limit:
            self.close("bad_frames")

    def _submit(self, item: Pending) -> None:
        self.gw.writer.submit(item)

    def handle_frame(self, frame: Frame, wall: datetime, now: float) -> None:
        gw = self.gw
        mn = frame.mn or ""
        cn = frame.cn or ""
        gw.metrics.inc("totalcap_gateway_frames_total", cn=cn[:8] if cn.isdigit() else "other")
        warnings = [{"code": str(w.code), "message": clean_text(w.message, 200), "position": w.position}
                    for w in frame.warnings] if frame.warnings else None  # fmt: skip
        item = Pending(wall, now, "i", "ok", frame.raw or b"", mn, self.peer, self.id, cn=cn, qn=frame.qn or "",
                       warnings=warnings)  # fmt: skip
        profile = gw.registry.get(mn) if mn else None
        problem = ""
        if not mn or not cn:
            item.status, problem = "malformed", "frame without MN or CN"
        elif profile is None:
            item.status, problem = "unknown_mn", f"unknown MN {clean_text(mn, 40)}"
            gw.unknown_mn(mn, self.peer)
        elif not profile.active:
            item.status, problem = "disabled", "logger disabled in the registry"
        elif not self._crc_ok(frame, profile):
            item.status, problem = "bad_crc", f"CRC {frame.crc} does not match ({profile.profile.crc_mode})"
        elif (frame.pw or "") != profile.password:
            item.status, problem = "bad_pw", "wrong PW"
        if profile is not None:
            item.logger_id, item.outlet_id = profile.id, profile.outlet_id
        if problem:
            stored = bool(self.loggers) or gw.allow_unbound()
            gw.metrics.inc("totalcap_gateway_bad_frames_total", reason=item.status)
            code = {"unknown_mn": 4, "bad_pw": 3, "bad_crc": 9}.get(item.status)
            if (
                code is not None
                and cn not in REPLY_CNS
                and frame.flag is not None
                and frame.flag.ack
                and frame.qn
            ):
                self._answer_now(frame, code, profile, store=stored)
            if stored:
                self._submit(item)
            if item.status != "disabled":
                self._bad(problem, wall, profile if item.status != "unknown_mn" else None)
            return
        assert profile is not None
        self.bad_in_row = 0
        if profile.id not in self.loggers:
            self.bind(profile, wall)
        session = gw.sessions[profile.id]
        session.last_frame_at = wall
        session.last_cn = cn
        session.frames += 1
        if session.frames == 1 or not session.protocol_seen:
            session.protocol_seen = frame.version
        session.dirty = True
        try:
            self._content(frame, cn, profile, session, item, wall)
        except HJ212Error as exc:  # a required item missing / malformed: stored raw with the reason
            item.warnings = [
                *(item.warnings or []),
                {"code": "message-error", "message": clean_text(str(exc), 200)},
            ]
            session.error(f"CN {cn}: {exc}", wall)
        try:
            ack = fast_ack(frame, profile)
        except HJ212Error as exc:
            log.warning("cannot build the ack for %s: %s", profile.mn, exc)
            ack = None
        if ack is not None:
            item.ack, item.ack_cn = ack
            item.target = self
        self._submit(item)

    def _crc_ok(self, frame: Frame, profile: LoggerProfile) -> bool:
        if frame.crc_ok:
            return True
        mode = profile.profile.crc_mode
        return mode in ("none", frame.crc_mode_detected)

    def _answer_now(
        self, frame: Frame, qn_rtn: int, profile: LoggerProfile | None, store: bool = True
    ) -> None:
        """9011 with a refusal code (MN, PW, CRC): sent at once, always stored as an outgoing frame."""
        try:
            reply = request_answer(frame, qn_rtn, profile=profile.profile if profile is not None else None)
            data = build(reply, profile.profile if profile is not None else None)
        except HJ212Error:
            return
        if self.write_ack(data, time.monotonic(), "9011") and store:
            self._submit(Pending(datetime.now(UTC), time.monotonic(), "o", "sent", data, frame.mn or "", self.peer,
                                 self.id, profile.id if profile else None, profile.outlet_id if profile else None,
                                 "9011", frame.qn or ""))  # fmt: skip

    def bind(self, profile: LoggerProfile, wall: datetime) -> None:
        """This connection now speaks for ``profile``'s logger; an older connection of it is closed."""
        if not self.loggers:
            self.decoder.mode = profile.profile.crc_mode
            self.decoder.profile = profile.profile
        self.loggers[profile.id] = profile
        self.gw.bind(self, profile, wall)

    # ------------------------------------------------------------------------------ content

    def _content(
        self,
        frame: Frame,
        cn: str,
        profile: LoggerProfile,
        session: LiveSession,
        item: Pending,
        wall: datetime,
    ) -> None:
        gw = self.gw
        if cn in REPLY_CNS:
            gw.dispatcher.on_reply(profile, frame, cn)
            return
        if cn in DATA_CNS:
            self._data(frame, cn, profile, session, item, wall)
            return
        if cn in ANSWER_CNS and gw.dispatcher.answers(profile.id, frame.qn):
            gw.dispatcher.on_result(profile, frame, cn)
        observed = time_text(frame.cp.plain.get("DataTime", "")) or item.received_at.isoformat(sep=" ")
        if cn in ("2021", "2041"):
            source = cn
            rows = [(source, "", f"{code}-{suffix}", value)
                    for code, fields in frame.cp.subjects.items() for suffix, value in fields.items()]  # fmt: skip
            item.info_rows = [(s, p, c, v, t, observed) for s, (p, c, v, t) in
                              zip([r[0] for r in rows], info_rows((r[1], r[2], r[3]) for r in rows), strict=True)]  # fmt: skip
            self._drift(frame, wall, session)
        elif cn == "3020":
            message = parse_message(frame, direction="from-device")
            if isinstance(message, SiteInfo):
                pol = message.pol_id or ""
                item.info_rows = [("3020", p, c, v, t, observed)
                                  for p, c, v, t in info_rows((pol, it.code, it.value) for it in message.items)]  # fmt: skip
                if profile.is_total_control:
                    at = message.data_time or wall
                    if any(it.code.startswith("i321") for it in message.items):
                        item.message = dict(zip(frame.cp.keys, frame.cp.values, strict=True))
                    for state in tc.valve_states(message):
                        item.after_commit = [*(item.after_commit or []),
                                             gw.valve_reporter(profile.id, state.valve_id, state.state, at, item.received_at, live=True)]  # fmt: skip
        elif cn == "3019":
            sn_rows = [
                (code, f"{code}-SN", fields["SN"])
                for code, fields in frame.cp.subjects.items()
                if "SN" in fields
            ]
            item.info_rows = [("3019", p, c, v, t, observed) for p, c, v, t in info_rows(sn_rows)]
        elif cn in ("3811", "3813") and profile.is_total_control:
            self._extension(frame, cn, profile, item, observed, wall)
            item.message = dict(zip(frame.cp.keys, frame.cp.values, strict=True))
        elif cn == "2081":
            item.message = dict(frame.cp.plain)
            restart = frame.cp.plain.get("RestartTime")
            if restart:
                with contextlib.suppress(HJ212Error):
                    session.restart_time = parse_datetime(restart)
        elif cn == "1013":
            item.after_commit = [lambda _fid: gw.dispatcher.time_sync(profile)]

    def _extension(
        self, frame: Frame, cn: str, profile: LoggerProfile, item: Pending, observed: str, wall: datetime
    ) -> None:
        message = tc.parse_extension(frame)
        if isinstance(message, tc.CardSwipe):
            when = time_text(frame.cp.plain.get("SwipeTime", "")) or observed
            item.info_rows = [("3811", "", "CardUid", clean_text(message.card_uid, 64), "", when)]
        elif isinstance(message, tc.ValveActionReport):
            when = time_text(frame.cp.plain.get("DataTime", "")) or observed
            value = f"{'closed' if message.closed else 'opened'};source={message.source}"
            item.info_rows = [("3813", "", f"valve{message.valve_id}", value, "", when)]
            item.after_commit = [
                self.gw.valve_reporter(
                    profile.id,
                    message.valve_id,
                    1 if message.closed else 0,
                    message.data_time,
                    item.received_at,
                    live=False,
                )
            ]

    def _data(
        self,
        frame: Frame,
        cn: str,
        profile: LoggerProfile,
        session: LiveSession,
        item: Pending,
        wall: datetime,
    ) -> None:
        gw = self.gw
        kind = KIND_OF_CN[cn]
        message_frame: Frame | None = frame
        if frame.is_split:
            if self.reassembler is None:
                self.reassembler = Reassembler(timeout=360, max_groups=64)
            done = self.reassembler.add(frame)
            message_frame = done.frame if done is not None else None
            if done is not None and not done.complete:
                item.warnings = [
                    *(item.warnings or []),
                    {"code": "incomplete-split", "message": str(done.missing)},
                ]
        if message_frame is None:
            return
        stamp = message_frame.cp.plain.get("DataTime", "")
        data_time = time_text(stamp) if stamp else None
        if data_time is None:
            item.warnings = [*(item.warnings or []), {"code": "no-datatime", "message": "no valid DataTime: not stored as samples"}]  # fmt: skip
            return
        item.data_time = data_time
        item.kind = kind
        lines, meta = data_lines(profile.id, profile.outlet_id, kind, data_time, message_frame.cp,
                                 item.warnings if item.warnings is not None else _warnings(item))  # fmt: skip
        item.sample_lines = lines
        item.sample_meta = meta
        history = gw.dispatcher.on_data(profile, message_frame, cn, stamp)
        if kind == "r":
            self._drift(frame, wall, session, stamp)
        elif not history and kind in ("m", "h") and gw.config.backfill:
            gw.backfill.observe(session, kind, parse_datetime(stamp), wall)

    def _drift(self, frame: Frame, wall: datetime, session: LiveSession, stamp: str = "") -> None:
        """Clock drift: the device's QN (its clock when sending) or real-time DataTime vs our clock
        (measured at most every 10 s per logger)."""
        now = time.monotonic()
        if now - session.drift_checked < 10.0:
            return
        session.drift_checked = now
        qn = frame.qn or ""
        text = qn if len(qn) == 17 and qn.isdigit() else stamp
        if not text:
            return
        try:
            device = parse_datetime(text)
        except HJ212Error:
            return
        drift = (device - wall).total_seconds()
        session.drift = drift if session.drift is None else 0.8 * session.drift + 0.2 * drift
        session.dirty = True


#: CNs whose ack (when Flag.A=1) is a plain 9014 echoing the QN: rendered from a per-logger template.
_FAST_ACK_CNS = frozenset(
    ("2011", "2051", "2061", "2031", "2021", "2041", "3020", "3019", "2081", "3811", "3813")
)
_ack_templates: dict[tuple[str, str, str, int], tuple[bytes, bytes] | None] = {}


def fast_ack(frame: Frame, profile: LoggerProfile) -> tuple[bytes, str] | None:
    """The ack owed to ``frame`` as bytes and its CN, or None.

    :func:`hj212.replies.ack_for` decides and builds it; for the common uploads the result is
    cached as a template around the QN (checked once against the codec's output), so the hot path
    only inserts the QN and computes the CRC.
    """
    cn = frame.cn or ""
    flag = frame.flag
    qn = frame.qn
    prof = profile.profile
    if cn not in _FAST_ACK_CNS or flag is None or not qn or not qn.isascii() or not qn.isalnum():
        reply = ack_for(frame, prof)
        return None if reply is None else (build(reply, prof), reply.cn or "")
    if not flag.ack:
        return None
    key = (prof.name, frame.pw or "", frame.mn or "", flag.version_bits)
    if key not in _ack_templates:
        reply = ack_for(frame, prof)
        if reply is None:
            return None
        wire = build(reply, prof)
        if len(_ack_templates) > 100_000:
            _ack_templates.clear()
        segment = wire[6:-6]
        at = segment.find(b"QN=" + qn.encode() + b";")
        found = (segment[: at + 3], segment[at + 3 + len(qn) :]) if at >= 0 else None
        if found is not None and _render_ack(found, qn, prof.crc_mode) != wire:
            found = None
        _ack_templates[key] = found
        return wire, reply.cn or ""
    template = _ack_templates[key]
    if template is None:
        reply = ack_for(frame, prof)
        return None if reply is None else (build(reply, prof), reply.cn or "")
    return _render_ack(template, qn, prof.crc_mode), "9014"


def _render_ack(template: tuple[bytes, bytes], qn: str, mode: str) -> bytes:
    segment = template[0] + qn.encode() + template[1]
    value = crc16_hj212(segment) if mode in ("hj212", "none") else crc16(segment, mode)  # type: ignore[arg-type]
    return b"##%04d%s%04X\r\n" % (len(segment), segment, value)


def _warnings(item: Pending) -> list[dict[str, Any]]:
    item.warnings = []
    return item.warnings


def beijing_now() -> datetime:
    return datetime.now(BEIJING)
