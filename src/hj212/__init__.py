"""HJ 212 (HJ/T 212-2005, HJ 212-2017, HJ 212-2025) codec: frames, CRC, stream decoding, reassembly,
messages and replies.  Pure Python (stdlib only), sans-IO.  See ``docs/hj212.md``.

Quick start::

    from hj212 import parse_frame, build, StreamDecoder, ack_for
    frame = parse_frame(b"##0101QN=...&&1C80\\r\\n")
    reply = ack_for(frame)            # 9014 if the upload asked for an answer
    wire = build(reply) if reply else None
"""

from .commands import Peer
from .crc import (
    CRC_MODES,
    POSSIBLE_HJ212_CRCS,
    CrcMode,
    check_crc,
    crc16,
    crc16_hj212,
    crc16_modbus,
    crc_hex,
    detect_crc_mode,
    is_possible_hj212_crc,
)
from .errors import (
    BuildError,
    FieldValueError,
    FrameError,
    FrameWarning,
    HJ212Error,
    MessageError,
    UsageError,
    WarningCode,
)
from .frame import CP, CPGroup, Flag, Frame, Header, build, make_frame, render_segment
from .messages import DataUpload, Message, PollutantValues, parse_message
from .parsing import parse, parse_frame
from .profile import PROFILE_2005, PROFILE_2017, PROFILE_2025, PROFILE_TOTALCAP, PROFILES, Profile
from .reassembly import Reassembled, Reassembler
from .replies import (
    ack_for,
    build_reply,
    data_answer,
    execution_result,
    notification_answer,
    request_answer,
)
from .split import build_frames, split_frame
from .stream import Diagnostic, Event, FrameEvent, StreamDecoder

__version__ = "1.0.0"

__all__ = [
    "CP",
    "CRC_MODES",
    "POSSIBLE_HJ212_CRCS",
    "PROFILES",
    "PROFILE_2005",
    "PROFILE_2017",
    "PROFILE_2025",
    "PROFILE_TOTALCAP",
    "BuildError",
    "CPGroup",
    "CrcMode",
    "DataUpload",
    "Diagnostic",
    "Event",
    "FieldValueError",
    "Flag",
    "Frame",
    "FrameError",
    "FrameEvent",
    "FrameWarning",
    "HJ212Error",
    "Header",
    "Message",
    "MessageError",
    "Peer",
    "PollutantValues",
    "Profile",
    "Reassembled",
    "Reassembler",
    "StreamDecoder",
    "UsageError",
    "WarningCode",
    "ack_for",
    "build",
    "build_frames",
    "build_reply",
    "check_crc",
    "crc16",
    "crc16_hj212",
    "crc16_modbus",
    "crc_hex",
    "data_answer",
    "detect_crc_mode",
    "execution_result",
    "is_possible_hj212_crc",
    "make_frame",
    "notification_answer",
    "parse",
    "parse_frame",
    "parse_message",
    "render_segment",
    "request_answer",
    "split_frame",
]
