"""Replies (9011 QnRtn, 9012 ExeRtn, 9013 notification answer, 9014 data answer) in the peer's style.

2017 / 2025: ``QN`` = the QN being answered in the header, ``ST=91``, Flag = the version bits with A=0,
the reply code (if any) in CP.  2005 [verify]: no QN in the header, ``CP=&&QN=...;QnRtn=1&&``.
"""

from __future__ import annotations

from . import codes
from .errors import BuildError
from .frame import CP, Frame, Header
from .profile import PROFILE_2005, PROFILE_2017, PROFILE_2025, Profile

__all__ = [
    "EXE_FAILED",
    "EXE_NO_DATA",
    "EXE_SUCCESS",
    "QN_CRC_ERROR",
    "QN_READY",
    "QN_REJECTED",
    "ack_for",
    "build_reply",
    "data_answer",
    "execution_result",
    "notification_answer",
    "peer_profile",
    "request_answer",
]

QN_READY = 1
QN_REJECTED = 2
QN_CRC_ERROR = 9
EXE_SUCCESS = 1
EXE_FAILED = 2
EXE_NO_DATA = 100


def peer_profile(frame: Frame) -> Profile:
    """The predefined profile matching a received frame's style (Flag version bits, QN placement)."""
    version = frame.version
    if version == "2005":
        return PROFILE_2005
    if version == "2025":
        return PROFILE_2025
    return PROFILE_2017


def build_reply(
    request: Frame,
    cn: str | int,
    *,
    qn_rtn: int | None = None,
    exe_rtn: int | None = None,
    profile: Profile | None = None,
) -> Frame:
    """A 90xx reply to ``request`` in the peer's style.

    Without ``profile`` the style follows the request: 2005-looking frames get 2005 replies, and the
    Flag echoes the request's version bits (so a 2025 peer gets Flag=8).  With a profile, the profile's
    reply style and version bits are used.
    """
    cn_text = str(cn)
    if cn_text not in ("9011", "9012", "9013", "9014"):
        raise BuildError(f"not a reply CN: {cn_text}")
    if (cn_text == "9011") != (qn_rtn is not None) or (cn_text == "9012") != (exe_rtn is not None):
        raise BuildError("9011 takes qn_rtn, 9012 takes exe_rtn, 9013/9014 take neither")
    prof = profile or peer_profile(request)
    answered = request.answered_qn if request.qn is None else request.qn
    if answered is None:
        raise BuildError("the request has no QN to answer")
    if profile is None:
        flag = request.flag
        bits = flag.version_bits if flag is not None else prof.flag_version_bits
    else:
        bits = prof.flag_version_bits
    pairs: list[tuple[str, str]] = []
    cp_items: list[tuple[str, str]] = []
    if prof.reply_style == "qn-in-cp":
        cp_items.append(("QN", answered))
    else:
        pairs.append(("QN", answered))
    pairs += [
        ("ST", prof.reply_st),
        ("CN", cn_text),
        ("PW", request.pw or ""),
        ("MN", request.mn or ""),
    ]
    if prof.include_flag:
        pairs.append(("Flag", str(bits << 2)))
    if qn_rtn is not None:
        cp_items.append(("QnRtn", str(qn_rtn)))
    if exe_rtn is not None:
        cp_items.append(("ExeRtn", str(exe_rtn)))
    return Frame(Header(pairs), CP(cp_items, ";" * max(len(cp_items) - 1, 0)))


def request_answer(request: Frame, qn_rtn: int = QN_READY, *, profile: Profile | None = None) -> Frame:
    """9011: answer to a request (1 ready, 2 rejected, 3 PW, 4 MN, 5 ST, 6 Flag, 7 QN, 8 CN, 9 CRC, 100)."""
    return build_reply(request, 9011, qn_rtn=qn_rtn, profile=profile)


def execution_result(request: Frame, exe_rtn: int = EXE_SUCCESS, *, profile: Profile | None = None) -> Frame:
    """9012: execution result (1 success, 2 failed, 3 condition, 4 timeout, 5 busy, 6 fault, 100 no data)."""
    return build_reply(request, 9012, exe_rtn=exe_rtn, profile=profile)


def notification_answer(notification: Frame, *, profile: Profile | None = None) -> Frame:
    """9013: answer to a notification (2012, 2022, 1013)."""
    return build_reply(notification, 9013, profile=profile)


def data_answer(upload: Frame, *, profile: Profile | None = None) -> Frame:
    """9014: answer to an upload with Flag.A=1 (CP empty, QN = the upload's QN)."""
    return build_reply(upload, 9014, profile=profile)


_DEVICE_UPLOAD_KINDS = frozenset(("upload", "request"))


def ack_for(frame: Frame, profile: Profile | None = None) -> Frame | None:
    """The reply a host owes a frame received from a device, or None.

    * replies (90xx except the 2025 heartbeat 9015) -> None;
    * notifications (1013 time-calibration request) -> 9013;
    * everything else (uploads, "get" results) -> 9014 when Flag.A=1, none when A=0, and when Flag is
      absent as the profile says (``ack_when_flag_absent``, default yes).

    Without ``profile`` the reply follows the frame's own style (see :func:`build_reply`).
    """
    cn = frame.cn
    if cn is None:
        return None
    entry = codes.command(cn)
    kind = entry.kind if entry is not None else "upload"
    if kind == "reply":
        return None
    if kind == "notification" and cn == "1013":
        return notification_answer(frame, profile=profile)
    if not frame.needs_ack(profile):
        return None
    if frame.qn is None and frame.answered_qn is None:
        return None
    return data_answer(frame, profile=profile)
