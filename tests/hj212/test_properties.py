"""Property tests: random valid messages round-trip through build and parse; ``build(parse(x)) == x``."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from hj212 import CP, Frame, Header, StreamDecoder, build, codes, parse_frame, parse_message
from hj212.errors import HJ212Error

from .conftest import wire

DIGITS = "0123456789"
HEX = "0123456789ABCDEF"
POLLUTANTS = sorted(p for p in codes.pollutants() if p[0] in "wa")
SUFFIXES = ["Rtd", "Min", "Avg", "Max", "Cou", "ZsRtd", "ZsAvg", "Flag", "EFlag", "SampleTime"]
CNS = ["2011", "2051", "2061", "2031", "1062", "3020", "9014", "1011"]

numbers = st.from_regex(r"-?[0-9]{1,5}(\.[0-9]{1,3})?", fullmatch=True)
times = (
    st.datetimes().map(lambda d: d.strftime("%Y%m%d%H%M%S")).filter(lambda s: len(s) == 14 and s[0] != "0")
)
log_text = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="/\r\n"), min_size=1, max_size=60
)


def value_for(suffix: str) -> st.SearchStrategy[str]:
    if suffix == "Flag":
        return st.sampled_from("NFMSDCTB")
    if suffix == "EFlag":
        return st.from_regex(r"[A-Z0-9]{1,4}", fullmatch=True)
    if suffix == "SampleTime":
        return times
    return numbers


@st.composite
def messages(draw: st.DrawFn) -> Frame:
    header = [
        ("QN", draw(st.text(DIGITS, min_size=17, max_size=17))),
        ("ST", draw(st.sampled_from(["21", "22", "31", "32", "91"]))),
        ("CN", draw(st.sampled_from(CNS))),
        ("PW", draw(st.text(DIGITS + "abcdefXYZ", min_size=6, max_size=6))),
        ("MN", draw(st.text(HEX, min_size=24, max_size=24))),
        ("Flag", str(draw(st.sampled_from([4, 5, 8, 9])))),
    ]
    plain = [("DataTime", draw(times))]
    subjects: dict[str, dict[str, str]] = {}
    for code in draw(st.lists(st.sampled_from(POLLUTANTS), max_size=6, unique=True)):
        chosen = draw(st.lists(st.sampled_from(SUFFIXES), min_size=1, max_size=4, unique=True))
        subjects[code] = {suffix: draw(value_for(suffix)) for suffix in chosen}
    if draw(st.booleans()):
        subjects["i11001"] = {"Info": "//" + draw(log_text).strip() + "x//"}
    return Frame(Header(header), CP.build(plain, subjects))


@given(messages())
def test_random_message_build_parse_equal(frame: Frame) -> None:
    data = build(frame, allow_oversize=True)
    back = parse_frame(data)
    assert back == frame
    assert back.crc_ok
    assert [w for w in back.warnings if w.code not in ("oversize-segment", "oversize-cp")] == []
    assert build(back, allow_oversize=True) == data
    parse_message(back)


KEY = st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,7}(-[A-Za-z]{1,6})?", fullmatch=True)
VALUE = st.from_regex(r"[A-Za-z0-9.+\-]{0,10}", fullmatch=True)


@st.composite
def wellformed_wire(draw: st.DrawFn) -> bytes:
    header = draw(
        st.permutations(
            [
                "QN=" + draw(st.text(DIGITS, min_size=17, max_size=17)),
                "ST=" + draw(st.from_regex(r"[0-9A-Z]{1,3}", fullmatch=True)),
                "CN=" + draw(st.text(DIGITS, min_size=4, max_size=4)),
                "PW=" + draw(st.text(DIGITS, min_size=6, max_size=6)),
                "MN=" + draw(st.from_regex(r"[0-9A-Za-z_]{1,30}", fullmatch=True)),
                "Flag=" + str(draw(st.integers(0, 255))),
            ]
        )
    )
    header = header[: draw(st.integers(3, 6))]
    items = draw(st.lists(st.tuples(KEY, VALUE), max_size=20))
    if draw(st.booleans()):
        items.append(("i11001-Info", "//" + draw(log_text) + "//"))
    seps = [draw(st.sampled_from(";,")) for _ in items[1:]]
    cp = "".join(k + "=" + v + s for (k, v), s in zip(items, [*seps, ""], strict=False))
    segment = ";".join(header) + ";CP=&&" + cp + "&&"
    return wire(segment)


@given(wellformed_wire())
def test_build_of_parse_is_identity(data: bytes) -> None:
    frame = parse_frame(data)
    assert frame.crc_ok
    assert build(frame, allow_oversize=True) == data


@given(st.lists(messages(), min_size=1, max_size=5), st.integers(1, 97), st.binary(max_size=30))
def test_stream_chunking_preserves_frames(frames: list[Frame], step: int, junk: bytes) -> None:
    junk = junk.replace(b"#", b"")
    wires = [build(f, allow_oversize=True) for f in frames]
    data = b"".join(junk + w for w in wires)
    decoder = StreamDecoder()
    decoder._reraise = True
    events = []
    for i in range(0, len(data), step):
        events += decoder.feed(data[i : i + step])
    events += decoder.close()
    got = [e.frame for e in events if hasattr(e, "frame") and e.__class__.__name__ == "FrameEvent"]
    assert got == frames
    assert [g.raw for g in got] == wires


def test_errors_are_hj212_errors() -> None:
    for exc in ("FrameError", "BuildError", "MessageError", "FieldValueError", "UsageError"):
        from hj212 import errors

        assert issubclass(getattr(errors, exc), HJ212Error)
