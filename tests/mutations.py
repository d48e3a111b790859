"""Byte-level mutations for the property-based tests of loaders and converters."""

from __future__ import annotations

from hypothesis import strategies as st


def edit_bytes(data: bytes, draw) -> bytes:
    """Truncate, flip up to four bytes, or insert/delete a slice of ``data``."""
    if not data:
        return draw(st.binary(max_size=16))
    kind = draw(st.sampled_from(["truncate", "flip", "insert", "delete"]))
    pos = draw(st.integers(0, len(data) - 1))
    if kind == "truncate":
        return data[:pos]
    if kind == "flip":
        count = draw(st.integers(1, 4))
        out = bytearray(data)
        for i in range(count):
            j = min(pos + i * draw(st.integers(0, 64)), len(out) - 1)
            out[j] ^= draw(st.integers(1, 255))
        return bytes(out)
    if kind == "insert":
        return data[:pos] + draw(st.binary(min_size=1, max_size=16)) + data[pos:]
    return data[:pos] + data[pos + draw(st.integers(1, 16)):]
