"""Reading a point's registers for a check: its value, other readings, plausible ranges.

A contradicted value is tried again with its two words swapped and scaled by
10, 100 or 1000: when one of those fits, the finding says so ("looks 10x too
large").  Also the formatting the findings' texts share.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence

from .check_model import SAME, Alt, Judged, Status
from .codec import decode, decode_int
from .registers import Point

# Plausible values.  Mains voltage is taken as the catalog's (230 V +-13 %).
VOLTAGE_RANGE = (180.0, 260.0)
UNIT_RANGES: Mapping[str, tuple[float, float]] = {"°C": (-40.0, 100.0), "%": (0.0, 100.0)}
FACTORS = (10, 100, 1000)
INTEGER_TYPES = frozenset({"u16", "s16", "u32", "s32", "u32_low_first", "s32_low_first"})
FLOAT_TYPES = frozenset({"f32", "f32_low_first"})
NUMERIC_TYPES = INTEGER_TYPES | FLOAT_TYPES
TEXT_TYPES = frozenset({"str1", "str2", "version_mmp", "byte_pair"})


def fmt(value: float, unit: str | None = None) -> str:
    text = f"{round(value, 3):g}"
    return f"{text} {unit}" if unit else text


def span(values: Iterable[float], unit: str | None = None) -> str:
    items = list(values)
    low, high = min(items), max(items)
    return fmt(low, unit) if low == high else f"{fmt(low)}–{fmt(high, unit)}"


def alternatives(point: Point) -> list[Alt]:
    alts = [Alt(code="swapped", swap=True)] if point.count == 2 else []
    alts += [Alt(code="too_large", factor=1 / f, shown=str(f)) for f in FACTORS]
    alts += [Alt(code="too_small", factor=f, shown=str(f)) for f in FACTORS]
    return alts


def _ordered(words: Sequence[int], alt: Alt) -> list[int]:
    """The words as the box sent them, or in the other order (whatever the map's order)."""
    return list(reversed(words)) if alt.swap else list(words)


def raw_int(point: Point, words: Sequence[int] | None, alt: Alt = SAME) -> int | None:
    """The raw integer of an integer point (None: not one, or not read)."""
    if words is None or len(words) != point.count or point.type not in INTEGER_TYPES:
        return None
    return decode_int(point, _ordered(words, alt))


def numeric(point: Point, words: Sequence[int] | None, alt: Alt = SAME) -> float | None:
    """The point's value in its unit (kWh for Wh), read as the alternative says."""
    if point.type in FLOAT_TYPES:
        if words is None or len(words) != point.count:
            return None
        number = decode(point, _ordered(words, alt))  # scaled by the map already
        value = None if number is None else float(number) * alt.factor
    else:
        raw = raw_int(point, words, alt)
        value = None if raw is None else raw * point.scale * alt.factor
    if value is None or not math.isfinite(value):
        return None
    return value / 1000 if point.unit == "Wh" else value


def with_hints(point: Point, judge: Callable[[Alt], Judged]) -> Judged:
    """Judge the point; when contradicted, say which other reading would fit."""
    result = judge(SAME)
    if result.status is not Status.CONTRADICTED:
        return result
    for alt in alternatives(point):
        if judge(alt).status is Status.CONFIRMED:
            return Judged(
                status=Status.CONTRADICTED,
                code=alt.code,
                params={**result.params, "factor": alt.shown, "was": result.code},
            )
    return result


def majority(ok: int, bad: int) -> Status | None:
    if ok + bad == 0:
        return None
    return Status.CONTRADICTED if bad > ok else Status.CONFIRMED


def unit_range(point: Point, limit_max: float, connectors: int) -> tuple[float, float] | None:
    if point.unit is not None and point.unit in UNIT_RANGES:
        return UNIT_RANGES[point.unit]
    if point.unit == "A":
        return 0.0, limit_max
    if point.unit == "W":
        return 0.0, 3 * VOLTAGE_RANGE[1] * limit_max * max(1, connectors)
    return None
