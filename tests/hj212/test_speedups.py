"""The C kernels of hj212._speedups against their pure-Python versions."""

from __future__ import annotations

from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from hj212 import _speedups, parsing
from hj212.errors import FrameWarning

_HEADER = ["QN=20260105100000123", "ST=32", "CN=2011", "PW=123456", "MN=MN0001", "Flag=5", "Flag=4", "ST=", "QN",
           "=5", "XX=1", "MN=a,b", "PW=1=2", "CN=20 11", "PW=/x/"]  # fmt: skip
_ITEMS = ["DataTime=20260105100000", "a21026-Rtd=1.5", "a21026-Flag=N", "a34013-Rtd=", "=1", "a", "b=1=2", "c=x&&y",
          "DataTime=2026", "i32101=1", "x=//log//", "k=é", "k=a b", "PolId=w01"]  # fmt: skip


def _segments(clean: bool = False) -> st.SearchStrategy[str]:
    """Segments of pieces that pass and pieces that do not; ``clean``: mostly the common shape."""
    if clean:
        header = st.lists(
            st.sampled_from(_HEADER[:6]), min_size=1, max_size=6, unique_by=lambda f: f.split("=")[0]
        )
        items = st.lists(st.sampled_from(_ITEMS[:4] + _ITEMS[7:10]), min_size=1, max_size=8)
        tail = st.just("&&")
        head_sep = st.just(";CP=&&")
    else:
        header = st.lists(st.sampled_from(_HEADER), min_size=1, max_size=7)
        items = st.lists(st.sampled_from(_ITEMS), min_size=0, max_size=8)
        tail = st.sampled_from(["&&", "&&", "&&", "&", "&&x", ""])
        head_sep = st.sampled_from([";CP=&&", ";CP=&&", ";cp=&&", ";CP=&"])
    seps = st.lists(st.sampled_from([";", ","]), min_size=8, max_size=8)

    def assemble(parts: tuple[list[str], str, list[str], list[str], str]) -> str:
        fields, opening, body, between, closing = parts
        text = ";".join(fields) + opening
        for i, item in enumerate(body):
            text += (between[i] if i else "") + item
        return text + closing

    return st.tuples(header, head_sep, items, seps, tail).map(assemble)


def _view(result: tuple[Any, Any, int] | None) -> Any:
    if result is None:
        return None
    header, cp, cp_at = result
    return (header.keys_, header.values_, dict(header._map), cp, cp_at)


@given(st.one_of(_segments(clean=True), _segments(), st.text(max_size=80)))
@example("QN=1;CN=2011;CP=&&a=1&&")
@example("QN=1;QN=2;CP=&&a=1&&")
@example("CP=&&a=1&&")
def test_split_segment_gives_the_python_split(text: str) -> None:
    segment = text.encode("utf-8", "surrogateescape")
    fast_warnings: list[FrameWarning] = []
    python_warnings: list[FrameWarning] = []
    fast = parsing._fast_segment(segment, text, fast_warnings, 0)
    python = parsing._fast_segment_python(segment, text, python_warnings, 0)
    assert _view(fast) == _view(python)
    assert fast_warnings == python_warnings


def test_split_segment_takes_the_common_shape_and_declines_the_rest() -> None:
    text = "QN=1;ST=32;CN=2011;PW=123456;MN=M1;Flag=5;CP=&&DataTime=20260105100000;a21026-Rtd=1.5,a21026-Flag=N&&"
    split = _speedups.split_segment(text)
    assert split is not None
    keys, values, mapping, cp_keys, cp_values, seps, shape, cp_at = split
    assert keys == ("QN", "ST", "CN", "PW", "MN", "Flag") and values[2] == "2011" and mapping["MN"] == "M1"
    assert cp_keys == ("DataTime", "a21026-Rtd", "a21026-Flag") and cp_values[1] == "1.5"
    assert (
        seps == ";," and shape == "DataTime\0a21026-Rtd\0a21026-Flag" and text[cp_at : cp_at + 5] == "CP=&&"
    )
    for odd in (
        "QN=1;CN=2011;CP=&&a=1 &&",
        "QN=1;QN=2;CP=&&a=1&&",
        "QN=1;CP=&&a=1=2&&",
        "QN=1;CP=&&=1&&",
        "QN=1;CP=&&a=1&",
    ):
        assert _speedups.split_segment(odd) is None, odd
    assert _speedups.split_segment("QN=1;CP=&&a=é&&") is None  # not ASCII: the Python split takes it
    assert parsing._split_segment is _speedups.split_segment
