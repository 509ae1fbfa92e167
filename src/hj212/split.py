"""Splitting long messages on build (§6.3.2 / C.49, C.50).

Every packet sets Flag.D, carries PNUM/PNO, repeats DataTime at the start of its CP and gets its own QN;
QNs are consecutive (one millisecond apart).  A subject's items stay in one packet when they fit.
"""

from __future__ import annotations

from .errors import BuildError
from .frame import Frame, Header, build
from .profile import PROFILE_2017, Profile
from .values import new_qn, next_qn

__all__ = ["build_frames", "split_frame"]

_ENVELOPE = len("CP=&&&&")


def _size(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))  # size estimate; build() reports bad text


def split_frame(frame: Frame, profile: Profile | None = None, *, qn: str | None = None) -> list[Frame]:
    """``[frame]`` when it fits the profile's limits, else its packets.

    ``qn`` is the first packet's QN (default: the frame's QN, else a fresh one).
    Raises BuildError when a single item cannot fit in a packet.
    """
    prof = profile or PROFILE_2017
    header_text = frame.header.render()
    cp_text = frame.cp.render()
    seg = _size(header_text) + _ENVELOPE + _size(cp_text)
    if seg <= prof.max_segment and _ENVELOPE + _size(cp_text) <= prof.max_cp:
        return [frame]

    cp = frame.cp
    keys = cp.keys
    dt_index = next((i for i, k in enumerate(keys) if k == "DataTime"), None)
    rest = [i for i in range(len(keys)) if i != dt_index]
    # runs of consecutive items of one subject
    runs: list[list[int]] = []
    for i in rest:
        subject = keys[i].partition("-")[0]
        if runs and "-" in keys[i] and keys[runs[-1][-1]].partition("-")[0] == subject:
            runs[-1].append(i)
        else:
            runs.append([i])

    base_header = frame.header.replace(PNUM=None, PNO=None)
    width = 4
    probe = base_header.replace(
        QN=qn or frame.qn or "0" * 17, Flag="255", PNUM="9" * width, PNO="9" * width
    ).render()
    prefix_size = _size(f"DataTime={cp.values[dt_index]};") if dt_index is not None else 0
    budget = min(prof.max_segment - _size(probe) - _ENVELOPE, prof.max_cp - _ENVELOPE) - prefix_size
    if budget <= 0:
        raise BuildError("header leaves no room for CP items")

    item_sizes = {i: _size(keys[i]) + 1 + _size(cp.values[i]) + 1 for i in rest}  # + separator
    packets: list[list[int]] = []
    current: list[int] = []
    used = 0
    for run in runs:
        run_size = sum(item_sizes[i] for i in run)
        if used + run_size <= budget:
            current.extend(run)
            used += run_size
            continue
        if current and run_size <= budget:
            packets.append(current)
            current, used = list(run), run_size
            continue
        for i in run:  # the run does not fit in any packet: split it by items
            size = item_sizes[i]
            if size > budget:
                raise BuildError(f"item {keys[i]} ({size} bytes) does not fit in one packet")
            if used + size > budget:
                packets.append(current)
                current, used = [], 0
            current.append(i)
            used += size
    if current:
        packets.append(current)

    total = len(packets)
    if total > 9999:
        raise BuildError("message needs more than 9999 packets")
    flag_text = frame.header.get("Flag")
    flag = int(flag_text) if flag_text and flag_text.isdigit() else prof.flag_value(ack=prof.upload_ack)
    flag |= 2
    first_qn = qn or frame.qn or new_qn()
    pad = 4 if prof.pad_packet_numbers else 0
    result = []
    for number, indexes in enumerate(packets, start=1):
        chosen = ([dt_index] if dt_index is not None else []) + indexes
        header: Header = base_header.replace(
            QN=next_qn(first_qn, number - 1),
            Flag=str(flag),
            PNUM=str(total).zfill(pad),
            PNO=str(number).zfill(pad),
        )
        result.append(Frame(header, cp.subset(chosen)))
    return result


def build_frames(frame: Frame, profile: Profile | None = None, *, qn: str | None = None) -> list[bytes]:
    """Wire bytes of ``frame``, split into packets when it exceeds the profile's limits."""
    return [build(packet, profile) for packet in split_frame(frame, profile, qn=qn)]
