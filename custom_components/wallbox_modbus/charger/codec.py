"""Decoding registers into values and values into registers.

Integer arithmetic on 16-bit words (and ``struct`` for IEEE 754 floats), so that
nothing here depends on a pymodbus version.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from typing import Any

from .registers import Point

Value = Any  # int | float | str | bool | None


def _check_words(point: Point, words: Sequence[int]) -> None:
    if len(words) != point.count:
        raise ValueError(f"{point.id}: expected {point.count} registers, got {len(words)}")


def _signed(raw: int, bits: int) -> int:
    return raw - (1 << bits) if raw & (1 << (bits - 1)) else raw


def _scaled(raw: int, scale: float) -> int | float:
    if scale == 1:
        return raw
    value = raw * scale
    if float(scale).is_integer():
        return int(value)
    # Keep as many decimals as the scale has: 0.1 -> 1, 0.001 -> 3.
    decimals = len(f"{scale:.10f}".rstrip("0").split(".")[1])
    return round(value, decimals)


LOW_FIRST = frozenset({"u32_low_first", "s32_low_first", "f32_low_first"})


def _word_pair(point: Point, words: Sequence[int]) -> int:
    high, low = (words[1], words[0]) if point.type in LOW_FIRST else (words[0], words[1])
    return (high << 16) | low


def decode_int(point: Point, words: Sequence[int]) -> int:
    """The raw integer of a numeric point (u16, s16, u32, s32, either word order)."""
    _check_words(point, words)
    if point.type == "u16":
        return words[0]
    if point.type == "s16":
        return _signed(words[0], 16)
    raw = _word_pair(point, words)
    return _signed(raw, 32) if point.type.startswith("s32") else raw


def _str1(words: Sequence[int]) -> str:
    chars = []
    for word in words:
        code = word & 0xFF or word >> 8  # tolerate the character in the high byte
        if code == 0:
            break
        chars.append(chr(code))
    return "".join(chars).strip()


def _str2(words: Sequence[int]) -> str:
    data = b"".join(word.to_bytes(2, "big") for word in words)
    return data.split(b"\0", 1)[0].decode("ascii", errors="replace").strip()


def decode(point: Point, words: Sequence[int]) -> Value:
    """Registers -> the point's value (scaled, or mapped through its values)."""
    _check_words(point, words)
    kind = point.type
    if kind == "str1":
        return _str1(words)
    if kind == "str2":
        return _str2(words)
    if kind == "hex_bytes":
        return b"".join(word.to_bytes(2, "big") for word in words).hex(" ").upper()
    if kind == "hex_version":
        return ".".join(f"{words[0]:x}")
    if kind == "version_mmp":
        patch = words[0] >> 8
        major, minor = words[1] >> 8, words[1] & 0xFF
        return f"{major}.{minor}.{patch}"
    if kind == "byte_pair":
        return f"{words[0] >> 8}.{words[0] & 0xFF}"
    if kind.startswith("f32"):
        (number,) = struct.unpack(">f", _word_pair(point, words).to_bytes(4, "big"))
        return None if math.isnan(number) else round(number * point.scale, 6)
    raw = decode_int(point, words)
    if point.values is not None:
        return point.values.get(raw)
    return _scaled(raw, point.scale)


def trim_hex_bytes(text: str, length: int) -> str:
    """Keep the first ``length`` bytes of a hex_bytes value."""
    return " ".join(text.split(" ")[: max(length, 0)])


def encode(point: Point, value: Value) -> list[int]:
    """A value -> the point's registers (inverse of decode, used by writes and simulators)."""
    kind = point.type
    if kind in ("str1", "str2"):
        data = str(value).encode("ascii")
        width = point.count if kind == "str1" else point.count * 2
        if len(data) > width:
            raise ValueError(f"{point.id}: {value!r} longer than {width} characters")
        if kind == "str1":
            return [*data, *([0] * (point.count - len(data)))]
        data = data.ljust(width, b"\0")
        return [int.from_bytes(data[i : i + 2], "big") for i in range(0, width, 2)]
    if kind == "hex_bytes":
        data = bytes.fromhex(str(value)).ljust(point.count * 2, b"\0")
        return [int.from_bytes(data[i : i + 2], "big") for i in range(0, point.count * 2, 2)]
    if kind == "hex_version":
        return [int(str(value).replace(".", ""), 16)]
    if kind == "version_mmp":
        major, minor, patch = (int(part) for part in str(value).split("."))
        return [patch << 8, (major << 8) | minor]
    if kind == "byte_pair":
        high, low = (int(part) for part in str(value).split("."))
        if not (0 <= high <= 0xFF and 0 <= low <= 0xFF):
            raise ValueError(f"{point.id}: {value!r} is not two bytes")
        return [(high << 8) | low]
    if kind.startswith("f32"):
        bits = int.from_bytes(struct.pack(">f", float(value) / point.scale), "big")
        return _split(point, bits)
    return encode_int(point, raw_of(point, value))


def _split(point: Point, raw: int) -> list[int]:
    """A 32-bit raw value -> two registers in the point's word order."""
    high, low = raw >> 16, raw & 0xFFFF
    return [low, high] if point.type in LOW_FIRST else [high, low]


def raw_of(point: Point, value: Value) -> int:
    """An engineering value (or mapped value) -> the raw integer."""
    if point.values is not None:
        for raw, mapped in point.values.items():
            if mapped == value and type(mapped) is type(value):
                return raw
        raise ValueError(f"{point.id}: {value!r} is not one of {list(point.values.values())}")
    return round(float(value) / point.scale)


def encode_int(point: Point, raw: int) -> list[int]:
    """A raw integer -> registers (u16, s16, u32, s32)."""
    bits = 16 * point.count
    if point.type in ("s16", "s32", "s32_low_first"):
        if not -(1 << (bits - 1)) <= raw < (1 << (bits - 1)):
            raise ValueError(f"{point.id}: {raw} out of range")
        raw &= (1 << bits) - 1
    elif not 0 <= raw < (1 << bits):
        raise ValueError(f"{point.id}: {raw} out of range")
    if point.count == 1:
        return [raw]
    return _split(point, raw)


def split_bits(point: Point, raw: int) -> dict[str, bool]:
    """A bit-field word -> its named flags."""
    assert point.bits is not None
    return {name: bool(raw >> bit & 1) for name, bit in point.bits.items()}
