def crc16_hj212(data: bytes | bytearray | memoryview, /) -> int: ...
def split_segment(
    text: str, /
) -> (
    tuple[tuple[str, ...], tuple[str, ...], dict[str, str], tuple[str, ...], tuple[str, ...], str, str, int]
    | None
): ...
