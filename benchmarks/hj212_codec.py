"""HJ 212 codec throughput: parse + CRC check and build, against the floor, on one core.

Prints ONE JSON line.  For each realistic frame kind it reports frames/s and MB/s of

* ``parse``: :func:`hj212.parse_frame` (length, CRC check, header map, CP items, all warnings checks);
* ``build``: :func:`hj212.build` of the parsed frame (render, validate, length, CRC);
* ``floor``: the tightest pure-Python pass over the same bytes -- slice the data segment, the same
  CRC function as the parser (the C kernel of ``hj212._speedups`` when it was built, see
  ``c_kernels``), decode, split into key/value pairs -- and ``ratio`` = parse time / floor time.

``crc_us``: the CRC of the 2011 segment by the function in use, by the folded-table Python version and
by the classic one-byte-per-step table loop.

``stream_2011_*`` feeds 500 such 2011 frames to a StreamDecoder in 1460-byte chunks.  The split history
upload is measured per packet (parse of every packet plus reassembly; build of the
whole message with splitting).  Target: >= 25,000 frames/s for the 2011 frame, ratio <= 2.

Usage: ``python benchmarks/hj212_codec.py [--quick]`` (``--quick``: a short run for CI).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from hj212 import CP, Reassembler, StreamDecoder, build, build_frames, make_frame, parse_frame
from hj212.crc import crc16_hj212, crc16_hj212_python
from hj212.frame import Frame

MN = "010000A8900016F000169DC0"
TARGET_FPS = 25_000
TARGET_RATIO = 2.0


def realtime_2011() -> bytes:
    codes = ["a21026", "a21002", "a34013", "a21005", "a19001", "a01012", "a01013", "a01014"]
    subjects = {
        code: {"Rtd": f"{12.3 + i * 7.1:.2f}", "ZsRtd": f"{15.6 + i * 3.3:.2f}", "Flag": "N"}
        for i, code in enumerate(codes)
    }
    cp = CP.build({"DataTime": "20240315103000"}, subjects)
    return build(make_frame(2011, qn="20240315103000123", st="31", mn=MN, flag=5, cp=cp))


def _interval(cn: int, extra: tuple[str, ...]) -> bytes:
    codes = ["w01018", "w21003", "w21011", "w21001", "w01001", "w00000", "w01010", "w20116"]
    subjects = {}
    for i, code in enumerate(codes):
        fields = {
            "Cou": f"{1234.5 + i:.1f}",
            "Min": f"{10.5 + i:.2f}",
            "Avg": f"{20.25 + i:.2f}",
            "Max": f"{30.75 + i:.2f}",
        }
        for suffix in extra:
            fields[suffix] = f"{25.5 + i:.2f}"
        fields["Flag"] = "N"
        subjects[code] = fields
    cp = CP.build({"DataTime": "20240315100000"}, subjects)
    return build(make_frame(cn, qn="20240315101000456", st="32", mn=MN, flag=5, cp=cp))


def minute_2051() -> bytes:
    return _interval(2051, ())


def hour_2061() -> bytes:
    return _interval(2061, ("ZsAvg",))


def site_info_3020() -> bytes:
    log = "//2024-03-15 10:30:00 仪器校准完成，零点漂移0.2%，量程漂移0.5%；消解温度165℃，状态正常//"
    cp = CP(
        [
            ("DataTime", "20240315103000"),
            ("PolId", "w01018"),
            ("i11001-Info", log),
            ("i12001-Info", "0"),
            ("i13004-Info", "165.0"),
        ]
    )
    return build(make_frame(3020, qn="20240315103000789", st="32", mn=MN, flag=5, cp=cp))


def history_message() -> Frame:
    codes = [f"a{21000 + i}" for i in range(30)]
    subjects = {
        code: {"Cou": "1234.56", "Min": "1.23", "Avg": "2.345", "Max": "3.456", "ZsAvg": "2.9", "Flag": "N"}
        for code in codes
    }
    cp = CP.build({"DataTime": "20240315090000"}, subjects)
    return make_frame(2061, qn="20240315100000534", st="31", mn=MN, flag=5, cp=cp)


def floor(data: bytes) -> tuple[bool, list[tuple[str, str]]]:
    """The tightest pure-Python pass: segment slice, table-driven CRC, decode, key/value pairs."""
    segment = data[6:-6]
    ok = crc16_hj212(segment) == int(data[-6:-2], 16)
    parts = segment.decode().replace(",", ";").replace("=", ";").split(";")
    return ok, list(zip(parts[0::2], parts[1::2], strict=False))


def classic_crc(data: bytes, _table: list[int] = []) -> int:  # noqa: B006 - cached table
    """The textbook one-byte-per-step table CRC of HJ 212 (for context only)."""
    if not _table:
        for x in range(256):
            reg = x
            for _ in range(8):
                reg = (reg >> 1) ^ 0xA001 if reg & 1 else reg >> 1
            _table.append(reg)
    reg = 0xFFFF
    for b in data:
        reg = _table[(reg >> 8) ^ b]
    return reg


def best_time(func: Callable[[], object], number: int, repeat: int) -> float:
    """Best wall time of ``number`` calls over ``repeat`` runs (seconds per call)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            func()
        best = min(best, time.perf_counter() - start)
    return best / number


def measure(
    raw_frames: list[bytes],
    parse_all: Callable[[], object],
    build_all: Callable[[], object],
    number: int,
    repeat: int,
) -> dict[str, float]:
    size = sum(len(f) for f in raw_frames)
    count = len(raw_frames)
    # interleave to share the machine's noise fairly
    t_floor = t_parse = t_build = float("inf")
    for _ in range(repeat):
        t_floor = min(t_floor, best_time(lambda: [floor(f) for f in raw_frames], number, 1))
        t_parse = min(t_parse, best_time(parse_all, number, 1))
        t_build = min(t_build, best_time(build_all, number, 1))
    return {
        "bytes": size,
        "frames": count,
        "parse_fps": round(count / t_parse),
        "parse_mbps": round(size / t_parse / 1e6, 2),
        "build_fps": round(count / t_build),
        "build_mbps": round(size / t_build / 1e6, 2),
        "floor_fps": round(count / t_floor),
        "floor_mbps": round(size / t_floor / 1e6, 2),
        "ratio": round(t_parse / t_floor, 2),
    }


def main(argv: list[str] | None = None) -> int:
    args_parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args_parser.add_argument("--quick", action="store_true", help="short run (CI)")
    args = args_parser.parse_args(argv)
    number, repeat = (300, 3) if args.quick else (3000, 7)

    results: dict[str, dict[str, float]] = {}
    for name, make in (
        ("2011_realtime", realtime_2011),
        ("2051_minute", minute_2051),
        ("2061_hour", hour_2061),
        ("3020_log", site_info_3020),
    ):
        raw = make()
        parsed = parse_frame(raw)
        if parsed.warnings or not parsed.crc_ok or build(parsed) != raw:
            raise SystemExit(f"benchmark frame {name} is not well-formed: {parsed.warnings}")
        results[name] = measure(
            [raw], lambda raw=raw: parse_frame(raw), lambda p=parsed: build(p), number, repeat
        )

    message = history_message()
    packets = build_frames(message)
    parsed_packets = [parse_frame(p) for p in packets]

    def parse_history() -> None:
        reassembler = Reassembler()
        done = None
        for packet in packets:
            done = reassembler.add(parse_frame(packet)) or done
        assert done is not None and done.complete

    def build_history() -> None:
        build_frames(message)

    assert all(p.crc_ok and not p.warnings for p in parsed_packets)
    results["2061_split_history"] = measure(
        packets, parse_history, build_history, max(number // 4, 50), repeat
    )

    rt = realtime_2011()
    stream = rt * 500
    chunks = [stream[i : i + 1460] for i in range(0, len(stream), 1460)]  # TCP-segment-sized reads

    def decode_stream() -> None:
        decoder = StreamDecoder()
        for chunk in chunks:
            decoder.feed(chunk)

    stream_time = best_time(decode_stream, max(number // 100, 3), repeat)
    segment = rt[6:-6]
    crc_in_use = best_time(lambda: crc16_hj212(segment), number, repeat)
    crc_fast = best_time(lambda: crc16_hj212_python(segment), number, repeat)
    crc_classic = best_time(lambda: classic_crc(segment), number, repeat)
    headline = results["2011_realtime"]
    report = {
        "benchmark": "hj212_codec",
        "python": platform.python_version(),
        "quick": args.quick,
        "frames": results,
        "stream_2011_fps": round(500 / stream_time),
        "stream_2011_mbps": round(len(stream) / stream_time / 1e6, 2),
        "c_kernels": crc16_hj212 is not crc16_hj212_python,
        "crc_us": {
            "in_use": round(crc_in_use * 1e6, 2),
            "folded_table": round(crc_fast * 1e6, 2),
            "classic_table": round(crc_classic * 1e6, 2),
        },
        "target": {
            "parse_fps_2011_min": TARGET_FPS,
            "ratio_max": TARGET_RATIO,
            "parse_fps_2011": headline["parse_fps"],
            "ratio_2011": headline["ratio"],
            "met": headline["parse_fps"] >= TARGET_FPS and headline["ratio"] <= TARGET_RATIO,
        },
    }
    print(json.dumps(report, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
