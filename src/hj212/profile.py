"""Protocol profiles: the per-device choices where the standard is ambiguous or the field deviates.

A profile is chosen per device (MN or listening port) by the caller; the codec never guesses it for
building, and only uses it as a default when parsing.  Every point the digest marks [verify] that changes
bytes on the wire is a field here.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Final, Literal

from .crc import CrcMode

__all__ = [
    "PROFILES",
    "PROFILE_2005",
    "PROFILE_2017",
    "PROFILE_2025",
    "PROFILE_TOTALCAP",
    "LengthMode",
    "Profile",
    "ReplyStyle",
    "Version",
    "profile_for_version",
]

Version = Literal["2005", "2017", "2025"]
ReplyStyle = Literal["qn-in-cp", "qn-in-header"]
LengthMode = Literal["bytes", "chars", "either"]


@dataclass(frozen=True, slots=True)
class Profile:
    """How to talk to one kind of device.

    Attributes:
        name: label for logs.
        version: protocol generation of the peer.
        crc_mode: CRC the peer uses; ``none`` accepts any CRC on input (and flags nothing) while
            frames we emit still carry the HJ 212 CRC.
        reply_style: ``qn-in-header`` (2017/2025) or ``qn-in-cp`` (2005: header without QN,
            ``CP=&&QN=...;QnRtn=1&&``) [verify].
        flag_version_bits: V5..V0 put into the Flag of frames we build (0 = 2005, 1 = 2017, 2 = 2025 [verify]).
        include_flag: whether frames we build carry a Flag field at all.
        request_ack: Flag.A of requests we send (the device answers 9011 when set).
        upload_ack: Flag.A of uploads we build (simulators / device side).
        ack_when_flag_absent: answer uploads that carry no Flag (2005-style loggers; default True).
        length_mode: how the peer counts the length field; a frame counted the other way gets a warning
            unless this is ``either``.  We always emit UTF-8 byte counts.
        max_segment: data-segment limit in bytes for building (1024 in the standard).
        max_cp: ``CP=&&...&&`` limit in bytes for building (950 in the standard).
        pad_packet_numbers: emit ``PNUM=0002`` instead of ``PNUM=2``.
        reply_st: ST of replies (91).
        allow_2025: 2025-only commands and items (CalibrationType, 1001, 1002, 1014, 2013, 2062, 2111,
            3022, 3024, 9015) may be built.
        totalcap_extension: the TotalCap extension codes may be built (valve, card, allowance).
    """

    name: str
    version: Version
    crc_mode: CrcMode = "hj212"
    reply_style: ReplyStyle = "qn-in-header"
    flag_version_bits: int = 1
    include_flag: bool = True
    request_ack: bool = True
    upload_ack: bool = True
    ack_when_flag_absent: bool = True
    length_mode: LengthMode = "bytes"
    max_segment: int = 1024
    max_cp: int = 950
    pad_packet_numbers: bool = False
    reply_st: str = "91"
    allow_2025: bool = False
    totalcap_extension: bool = False

    def replace(self, **changes: object) -> Profile:
        """A copy with some fields changed (``dataclasses.replace``)."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    def flag_value(self, *, ack: bool, split: bool = False) -> int:
        """The Flag value this profile emits for the given A and D bits."""
        return (self.flag_version_bits << 2) | (2 if split else 0) | (1 if ack else 0)


PROFILE_2017: Final = Profile(name="hj212-2017", version="2017")
PROFILE_2005: Final = Profile(
    name="hjt212-2005",
    version="2005",
    reply_style="qn-in-cp",
    flag_version_bits=0,
    length_mode="either",
)
PROFILE_2025: Final = Profile(name="hj212-2025", version="2025", flag_version_bits=2, allow_2025=True)
#: HJ 212-2017 plus the TotalCap extension codes (total-control IC-card logger).
PROFILE_TOTALCAP: Final = Profile(name="totalcap-2017", version="2017", totalcap_extension=True)

PROFILES: Final[dict[str, Profile]] = {
    "2005": PROFILE_2005,
    "2017": PROFILE_2017,
    "2025": PROFILE_2025,
    "totalcap": PROFILE_TOTALCAP,
}


def profile_for_version(version: str) -> Profile:
    """The predefined profile for ``'2005'``, ``'2017'``, ``'2025'`` (or ``'totalcap'``); 2017 otherwise."""
    return PROFILES.get(version, PROFILE_2017)
