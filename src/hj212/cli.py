"""Command line: ``hj212 parse | build | crc`` (also ``totalcap hj212 ...`` and ``python -m hj212``).

* ``parse [FILE] [--stream] [--crc-mode MODE] [--profile P]`` -- one JSON object per frame (or diagnostic)
* ``build [FILE] [--profile P] [--crc-mode MODE]`` -- JSON objects (as ``parse`` writes them) to frames
* ``crc [FILE] [--mode MODE] [--all] [--strip-newline]`` -- CRC of the input bytes

Exit status: 0 when every input was handled (bad frames are reported, not fatal), 2 on unusable
arguments (unknown option, unreadable file).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from typing import IO, Any

from .crc import CRC_MODES, CrcMode, crc16
from .errors import HJ212Error
from .frame import CP, Frame, Header
from .parsing import parse_frame
from .profile import PROFILES, Profile
from .split import build_frames
from .stream import Diagnostic, StreamDecoder

__all__ = ["diagnostic_json", "frame_from_json", "frame_json", "main"]

_NULL_FRAME_KEYS: dict[str, Any] = {
    "crc": None,
    "crc_ok": False,
    "crc_mode_detected": None,
    "version": "unknown",
    "header": {},
    "flag": None,
    "cp": {"pollutants": {}},
    "warnings": [],
}


def frame_json(frame: Frame) -> dict[str, Any]:
    """The JSON object ``parse`` writes for a frame."""
    flag = frame.flag
    cp: dict[str, Any] = dict(frame.cp.plain)
    cp["pollutants"] = {code: dict(fields) for code, fields in frame.cp.subjects.items()}
    return {
        "ok": bool(frame.crc_ok),
        "crc": frame.crc,
        "crc_ok": bool(frame.crc_ok),
        "crc_mode_detected": frame.crc_mode_detected,
        "version": frame.version,
        "header": dict(frame.header),
        "flag": None
        if flag is None
        else {"value": flag.value, "ack": flag.ack, "split": flag.split, "version_bits": flag.version_bits},
        "cp": cp,
        "warnings": [w.as_dict() for w in frame.warnings],
        "error": None,
        "length": frame.length_field,
        "header_items": [list(pair) for pair in frame.header.pairs],
        "cp_items": [list(pair) for pair in frame.cp.items],
        "cp_separators": frame.cp.separators,
    }


def diagnostic_json(diagnostic: Diagnostic) -> dict[str, Any]:
    """The JSON object ``parse --stream`` writes for a diagnostic."""
    out: dict[str, Any] = {"ok": False, **_NULL_FRAME_KEYS}
    if diagnostic.frame is not None:
        out.update(frame_json(diagnostic.frame))
        out["ok"] = False
    out.update(
        {
            "error": diagnostic.message,
            "diagnostic": diagnostic.kind,
            "offset": diagnostic.offset,
            "size": diagnostic.size,
        }
    )
    return out


def _text(value: Any, where: str) -> str:
    if isinstance(value, bool) or value is None or isinstance(value, (dict, list)):
        raise HJ212Error(f"{where}: expected a string or number, got {value!r}")
    return value if isinstance(value, str) else str(value)


def frame_from_json(obj: Any) -> Frame:
    """A frame from an object as ``parse`` writes it (``header_items``/``cp_items`` win over ``header``/``cp``)."""
    if not isinstance(obj, dict):
        raise HJ212Error("expected a JSON object")
    if obj.get("header_items") is not None:
        header = Header([(_text(k, "header key"), _text(v, f"header {k}")) for k, v in obj["header_items"]])
    elif isinstance(obj.get("header"), dict):
        header = Header([(str(k), _text(v, f"header {k}")) for k, v in obj["header"].items()])
    else:
        raise HJ212Error("object has no 'header'")
    if obj.get("cp_items") is not None:
        items = [(_text(k, "CP key"), _text(v, f"CP {k}")) for k, v in obj["cp_items"]]
        cp = CP(items, obj.get("cp_separators"))
    else:
        raw_cp = obj.get("cp") or {}
        if not isinstance(raw_cp, dict):
            raise HJ212Error("'cp' must be an object")
        plain = [(str(k), _text(v, f"CP {k}")) for k, v in raw_cp.items() if k != "pollutants"]
        subjects = raw_cp.get("pollutants") or {}
        if not isinstance(subjects, dict):
            raise HJ212Error("'cp.pollutants' must be an object")
        cp = CP.build(
            plain,
            {
                str(code): {str(s): _text(v, f"{code}-{s}") for s, v in fields.items()}
                for code, fields in subjects.items()
            },
        )
    return Frame(header, cp)


def _dump(obj: dict[str, Any], out: IO[bytes]) -> None:
    try:
        line = json.dumps(obj, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:  # invalid UTF-8 kept as surrogates: escape them
        line = json.dumps(obj, ensure_ascii=True).encode("ascii")
    out.write(line + b"\n")


def _lines(data: bytes) -> Iterator[bytes]:
    """One frame per line: the line end is the record separator, so each frame gets a CRLF trailer."""
    for line in data.split(b"\n"):
        if line.strip():
            yield line.rstrip(b"\r") + b"\r\n"


def _profile(args: argparse.Namespace) -> Profile:
    prof = PROFILES[args.profile]
    if getattr(args, "crc_mode", None):
        prof = prof.replace(crc_mode=args.crc_mode)
    return prof


def _cmd_parse(args: argparse.Namespace, data: bytes, out: IO[bytes]) -> int:
    prof = _profile(args)
    if args.stream:
        decoder = StreamDecoder(prof, max_frame=args.max_frame)
        for event in [*decoder.feed(data), *decoder.close()]:
            _dump(diagnostic_json(event) if isinstance(event, Diagnostic) else frame_json(event.frame), out)
        return 0
    for raw in _lines(data):
        try:
            frame = parse_frame(raw, prof)
        except HJ212Error as exc:
            _dump({"ok": False, **_NULL_FRAME_KEYS, "error": str(exc)}, out)
            continue
        _dump(frame_json(frame), out)
    return 0


def _cmd_build(args: argparse.Namespace, data: bytes, out: IO[bytes], err: IO[str]) -> int:
    prof = _profile(args)
    for number, line in enumerate(data.decode("utf-8", "surrogateescape").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            if (
                isinstance(obj, dict)
                and obj.get("error")
                and not obj.get("header_items")
                and not obj.get("header")
            ):
                raise HJ212Error(f"input object is an error report: {obj['error']}")
            for wire in build_frames(frame_from_json(obj), prof):
                out.write(wire)
        except (ValueError, HJ212Error, TypeError) as exc:
            err.write(json.dumps({"line": number, "error": str(exc)}, ensure_ascii=False) + "\n")
    return 0


def _cmd_crc(args: argparse.Namespace, data: bytes, out: IO[bytes]) -> int:
    if args.strip_newline:
        data = data.removesuffix(b"\n").removesuffix(b"\r")
    modes: tuple[CrcMode, ...] = tuple(m for m in CRC_MODES if m != "none") if args.all else (args.mode,)
    for mode in modes:
        prefix = f"{mode} " if args.all else ""
        out.write(f"{prefix}{crc16(data, mode):04X}\n".encode("ascii"))
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hj212", description="HJ 212 frame tools (no database needed)")
    sub = parser.add_subparsers(dest="command", required=True)
    profiles = sorted(PROFILES)
    p_parse = sub.add_parser("parse", help="frames (one per line, or a byte stream) -> JSON lines")
    p_parse.add_argument("file", nargs="?", help="input file (default: stdin)")
    p_parse.add_argument(
        "--stream", action="store_true", help="input is a raw byte stream, not one frame per line"
    )
    p_parse.add_argument(
        "--crc-mode", choices=CRC_MODES, default=None, help="CRC mode for crc_ok (default hj212)"
    )
    p_parse.add_argument("--profile", choices=profiles, default="2017")
    p_parse.add_argument("--max-frame", type=int, default=64 * 1024, help="stream mode: largest frame kept")
    p_build = sub.add_parser("build", help="JSON lines (as parse writes them) -> frames")
    p_build.add_argument("file", nargs="?", help="input file (default: stdin)")
    p_build.add_argument("--profile", choices=profiles, default="2017")
    p_build.add_argument("--crc-mode", choices=CRC_MODES, default=None)
    p_crc = sub.add_parser("crc", help="CRC of the input bytes")
    p_crc.add_argument("file", nargs="?", help="input file (default: stdin)")
    p_crc.add_argument("--mode", choices=CRC_MODES, default="hj212")
    p_crc.add_argument("--all", action="store_true", help="print the CRC under every mode")
    p_crc.add_argument("--strip-newline", action="store_true", help="ignore one trailing newline")
    return parser


def _stdout_bytes() -> IO[bytes]:
    sys.stdout.flush()
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:  # pragma: no cover - exotic stdout replacements
        raise HJ212Error("stdout has no binary buffer")
    return buffer  # type: ignore[no-any-return]


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit status (0 handled, 2 unusable arguments)."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        return int(exc.code) if isinstance(exc.code, int) else 2
    if getattr(args, "max_frame", 64 * 1024) < 64:
        sys.stderr.write("hj212: --max-frame must be at least 64\n")
        return 2
    try:
        if args.file and args.file != "-":
            with open(args.file, "rb") as handle:
                data = handle.read()
        else:
            data = sys.stdin.buffer.read()
    except OSError as exc:
        sys.stderr.write(f"hj212: cannot read {args.file}: {exc.strerror}\n")
        return 2
    out = _stdout_bytes()
    if args.command == "parse":
        status = _cmd_parse(args, data, out)
    elif args.command == "build":
        status = _cmd_build(args, data, out, sys.stderr)
    else:
        status = _cmd_crc(args, data, out)
    out.flush()
    return status
