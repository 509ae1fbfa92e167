"""Sans-IO stream decoder: bytes in, frames and diagnostics out.

Feed it whatever the socket returned (one byte or a megabyte); it finds frames by their ``##LLLL``
start, trusts the length field when the CRC and trailer sit where it says, and otherwise recovers by
scanning for ``&&`` + hex CRC + line end.  Garbage (Modbus noise, stray bytes) is skipped up to the next
``##`` and reported; a candidate that grows past ``max_frame`` bytes is dropped and reported.  The
buffer never holds more than ``max_frame`` bytes between calls, every byte is scanned a bounded number
of times, and nothing but :class:`~hj212.errors.UsageError` (for a non-bytes argument) leaves ``feed``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal

from .crc import CrcMode
from .errors import FrameWarning, UsageError, WarningCode
from .frame import Frame
from .parsing import parse_span
from .profile import PROFILE_2017, Profile

__all__ = ["DEFAULT_MAX_FRAME", "Diagnostic", "DiagnosticKind", "Event", "FrameEvent", "StreamDecoder"]

DEFAULT_MAX_FRAME: Final = 64 * 1024
SAMPLE_SIZE: Final = 64

DiagnosticKind = Literal["garbage", "oversize", "truncated", "bad-crc", "unparseable"]

_START = re.compile(rb"##\d{4}")
_CRC_AFTER_AMP = re.compile(rb"&&[0-9A-Fa-f]{1,4}")
_HEX = frozenset(b"0123456789ABCDEFabcdef")
_SCAN_OVERLAP: Final = 8


@dataclass(frozen=True, slots=True)
class FrameEvent:
    """A frame was decoded.  ``offset`` is the stream offset of its first ``#``."""

    frame: Frame
    offset: int

    @property
    def raw(self) -> bytes:
        """The frame's bytes as received (``##`` to trailer)."""
        return self.frame.raw or b""

    @property
    def warnings(self) -> tuple[FrameWarning, ...]:
        """Deviations found while parsing."""
        return self.frame.warnings

    @property
    def crc_ok(self) -> bool:
        """CRC matched under the decoder's CRC mode."""
        return bool(self.frame.crc_ok)


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """Something in the stream that is not a (deliverable) frame.

    kinds: ``garbage`` (bytes outside frames, skipped), ``oversize`` (a candidate longer than
    ``max_frame``, dropped), ``truncated`` (a frame start followed by another start before any end;
    ``frame`` holds a best-effort parse), ``bad-crc`` (only with ``deliver_bad_crc=False``; ``frame``
    holds the frame), ``unparseable`` (internal safety net; should not happen).
    """

    kind: DiagnosticKind
    offset: int
    size: int
    sample: bytes
    message: str
    frame: Frame | None = None


Event = FrameEvent | Diagnostic


class StreamDecoder:
    """Incremental HJ 212 decoder for one connection.

    Args:
        profile: device profile (CRC mode, limits); default HJ 212-2017.
        max_frame: largest frame kept in the buffer, in bytes (default 64 KiB).
        crc_mode: overrides the profile's CRC mode.
        deliver_bad_crc: deliver frames whose CRC does not match as :class:`FrameEvent` (with
            ``crc_ok=False``; default) or report them as ``bad-crc`` diagnostics.
    """

    __slots__ = (
        "_buf",
        "_discarding",
        "_garbage",
        "_garbage_sample",
        "_offset",
        "_reraise",
        "_scan_from",
        "_scan_start",
        "deliver_bad_crc",
        "max_frame",
        "mode",
        "profile",
    )

    def __init__(
        self,
        profile: Profile | None = None,
        *,
        max_frame: int = DEFAULT_MAX_FRAME,
        crc_mode: CrcMode | None = None,
        deliver_bad_crc: bool = True,
    ) -> None:
        if not isinstance(max_frame, int) or max_frame < 64:
            raise UsageError("max_frame must be an int >= 64")
        self.profile = profile or PROFILE_2017
        self.mode: CrcMode = crc_mode or self.profile.crc_mode
        self.max_frame = max_frame
        self.deliver_bad_crc = deliver_bad_crc
        self._buf = bytearray()
        self._offset = 0  # stream offset of _buf[0]
        self._scan_start = -1  # candidate start the scan position belongs to
        self._scan_from = 0
        self._discarding = False
        self._garbage: list[int] = []  # [offset, size] of the pending garbage run
        self._garbage_sample = b""
        self._reraise = False

    @property
    def buffered(self) -> int:
        """Bytes held back waiting for the rest of a frame (never more than ``max_frame``)."""
        return len(self._buf)

    @property
    def offset(self) -> int:
        """Stream offset of the first byte not yet consumed."""
        return self._offset

    def feed(self, data: bytes | bytearray | memoryview) -> list[Event]:
        """Add bytes; return the frames and diagnostics they complete, in stream order."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise UsageError(f"feed() takes bytes, got {type(data).__name__}")
        if not data:
            return []
        self._buf += data
        return self._run(final=False, idle=False)

    def flush(self) -> list[Event]:
        """Deliver a buffered frame that lacks only its line end (call after an idle timeout)."""
        return self._run(final=False, idle=True)

    def close(self) -> list[Event]:
        """End of stream: deliver or report whatever is buffered and reset."""
        events = self._run(final=True, idle=True)
        if self._buf:
            self._note_garbage(0, len(self._buf), events, kind="truncated")
            del self._buf[:]
        self._flush_garbage(events)
        self._discarding = False
        return events

    # ---------------------------------------------------------------------------------- internals

    def _run(self, *, final: bool, idle: bool) -> list[Event]:
        events: list[Event] = []
        buf = self._buf
        n = len(buf)
        pos = 0
        while pos < n:
            s = buf.find(b"##", pos)
            if s < 0:
                keep = n - 1 if buf[n - 1] == 0x23 and not final else n
                if keep > pos:
                    self._note_garbage(pos, keep, events)
                pos = keep
                break
            if s > pos:
                self._note_garbage(pos, s, events)
                pos = s
            if n - s < 6:
                if final:
                    self._note_garbage(s, n, events, kind="truncated")
                    pos = n
                break
            head = buf[s + 2 : s + 6]
            if not head.isdigit():
                self._note_garbage(s, s + 1, events)
                pos = s + 1
                continue
            if self._discarding:
                self._flush_garbage(events)
                self._discarding = False
            length = int(head)
            e = s + 6 + length  # where the CRC should start
            if e + 6 <= n and buf[e + 4] == 0x0D and buf[e + 5] == 0x0A and _is_hex4(buf, e):
                pos = self._emit(s, e + 4, e + 6, (), events)
                continue
            found = self._scan(s, n, final=final, idle=idle)
            if found is None:
                # Incomplete: wait, unless it outgrew the cap.
                if n - s > self.max_frame:
                    self._oversize(s, n, events)
                    pos = n
                break
            kind, crc_end, frame_end, trailer_warnings = found
            if kind == "truncated":
                self._truncated(s, crc_end, events)
                pos = crc_end
                continue
            pos = self._emit(s, crc_end, frame_end, trailer_warnings, events)
        if pos:
            del buf[:pos]
            self._offset += pos
            if self._scan_start >= 0:
                self._scan_start -= pos
                self._scan_from -= pos
        if self._scan_start < 0 or not buf.startswith(b"##"):
            self._scan_start = -1
        self._flush_garbage(events)
        return events

    def _scan(
        self, s: int, n: int, *, final: bool, idle: bool
    ) -> tuple[str, int, int, tuple[FrameWarning, ...]] | None:
        """Find the end of the candidate at ``s`` without trusting its length field.

        Returns ``(kind, crc_end, frame_end, trailer_warnings)``; kind ``frame`` or ``truncated`` (then
        ``crc_end`` is the next start).  None means: wait for more bytes.
        """
        buf = self._buf
        origin = s + 6
        if self._scan_start == s:
            origin = max(origin, self._scan_from - _SCAN_OVERLAP)
        nxt = _START.search(buf, max(s + 2, origin - _SCAN_OVERLAP))
        limit = nxt.start() if nxt else n
        for match in _CRC_AFTER_AMP.finditer(buf, origin, limit):
            crc_end = match.end()
            if crc_end < n:
                b = buf[crc_end]
                if b == 0x0D:
                    if crc_end + 1 < n:
                        if buf[crc_end + 1] == 0x0A:
                            return "frame", crc_end, crc_end + 2, ()
                        return "frame", crc_end, crc_end + 1, (_warn(WarningCode.CR_ONLY, crc_end),)
                    if final or idle:
                        return "frame", crc_end, crc_end + 1, (_warn(WarningCode.CR_ONLY, crc_end),)
                    self._remember(s, match.start())
                    return None
                if b == 0x0A:
                    return "frame", crc_end, crc_end + 1, (_warn(WarningCode.LF_ONLY, crc_end),)
                if crc_end == limit:
                    return "frame", crc_end, crc_end, (_warn(WarningCode.MISSING_CRLF, crc_end),)
                continue  # '&&' + hex inside the CP (e.g. "CP=&&a21026-...") or a longer hex run
            # the match reaches the end of the buffer: the CRC or the line end may still be coming
            if final or idle:
                return "frame", crc_end, crc_end, (_warn(WarningCode.MISSING_CRLF, crc_end),)
            self._remember(s, match.start())
            return None
        if nxt is not None:
            return "truncated", nxt.start(), nxt.start(), ()
        self._remember(s, n)
        if final:
            return "truncated", n, n, ()
        return None

    def _remember(self, s: int, upto: int) -> None:
        self._scan_start = s
        self._scan_from = upto

    def _emit(
        self, s: int, crc_end: int, frame_end: int, trailer: tuple[FrameWarning, ...], events: list[Event]
    ) -> int:
        self._flush_garbage(events)
        self._scan_start = -1
        size = frame_end - s
        offset = self._offset + s
        if size > self.max_frame:
            events.append(
                Diagnostic(
                    "oversize",
                    offset,
                    size,
                    bytes(self._buf[s : s + SAMPLE_SIZE]),
                    f"frame of {size} bytes exceeds max_frame={self.max_frame}; dropped",
                )
            )
            return frame_end
        raw = bytes(self._buf[s:frame_end])
        try:
            frame = parse_span(raw, 0, crc_end - s, list(trailer), self.profile, self.mode)
        except Exception as exc:  # safety net: decoding problems never escape feed()
            if self._reraise:
                raise
            events.append(
                Diagnostic("unparseable", offset, size, raw[:SAMPLE_SIZE], f"{type(exc).__name__}: {exc}")
            )
            return frame_end
        if frame.crc_ok or self.deliver_bad_crc:
            events.append(FrameEvent(frame, offset))
        else:
            events.append(
                Diagnostic(
                    "bad-crc",
                    offset,
                    size,
                    raw[:SAMPLE_SIZE],
                    "CRC does not match; frame not delivered",
                    frame,
                )
            )
        return frame_end

    def _truncated(self, s: int, end: int, events: list[Event]) -> None:
        self._flush_garbage(events)
        self._scan_start = -1
        raw = bytes(self._buf[s:end])
        frame: Frame | None
        try:
            frame = parse_span(
                raw, 0, len(raw), [_warn(WarningCode.MISSING_CRLF, len(raw))], self.profile, self.mode
            )
        except Exception:
            if self._reraise:
                raise
            frame = None
        events.append(
            Diagnostic(
                "truncated",
                self._offset + s,
                end - s,
                raw[:SAMPLE_SIZE],
                "frame start without an end before the next frame or the end of the stream",
                frame,
            )
        )

    def _oversize(self, s: int, n: int, events: list[Event]) -> None:
        self._flush_garbage(events)
        self._scan_start = -1
        events.append(
            Diagnostic(
                "oversize",
                self._offset + s,
                n - s,
                bytes(self._buf[s : s + SAMPLE_SIZE]),
                f"no frame end within max_frame={self.max_frame} bytes; dropped, skipping to the next '##'",
            )
        )
        self._discarding = True

    def _note_garbage(self, start: int, end: int, events: list[Event], kind: str = "garbage") -> None:
        offset = self._offset + start
        if kind == "truncated":
            self._flush_garbage(events)
            events.append(
                Diagnostic(
                    "truncated",
                    offset,
                    end - start,
                    bytes(self._buf[start : start + SAMPLE_SIZE]),
                    "incomplete data at the end of the stream",
                )
            )
            return
        pending = self._garbage
        if pending and pending[0] + pending[1] == offset:
            pending[1] += end - start
            return
        self._flush_garbage(events)
        self._garbage = [offset, end - start]
        self._garbage_sample = bytes(self._buf[start : start + SAMPLE_SIZE])

    def _flush_garbage(self, events: list[Event]) -> None:
        pending = self._garbage
        if not pending:
            return
        offset, size = pending
        self._garbage = []
        if self._discarding:
            message = f"{size} bytes of an oversize frame skipped"
            kind: DiagnosticKind = "oversize"
        else:
            message = f"{size} bytes outside frames skipped"
            kind = "garbage"
        events.append(Diagnostic(kind, offset, size, self._garbage_sample, message))


def _is_hex4(buf: bytearray, at: int) -> bool:
    hexes = _HEX
    return buf[at] in hexes and buf[at + 1] in hexes and buf[at + 2] in hexes and buf[at + 3] in hexes


def _warn(code: WarningCode, position: int) -> FrameWarning:
    messages = {
        WarningCode.LF_ONLY: "frame ends with LF only",
        WarningCode.CR_ONLY: "frame ends with CR only",
        WarningCode.MISSING_CRLF: "frame does not end with CRLF",
    }
    return FrameWarning(code, messages[code], position)
