"""Checks of a point's values against the map: documented values and bits, settings, ranges."""

from __future__ import annotations

from collections.abc import Sequence

from .capabilities import ceiling_of
from .check_model import Alt, Judged, Status
from .check_readings import UNIT_RANGES, fmt, majority, numeric, span, unit_range
from .check_record import Record
from .registers import Point


def judge_enum(rec: Record, point: Point) -> Judged:
    assert point.values is not None
    raws = rec.raws(point)
    if not raws:
        return Judged(status=Status.NOT_OBSERVED, code="not_read")
    documented = sorted(point.values)
    seen = ", ".join(
        f"{raw} ({point.values[raw]})" if raw in point.values else f"{raw} (undocumented)"
        for raw in sorted(set(raws))
    )
    expected = _list(documented)
    outside = sorted(set(raws) - set(documented))
    if outside:
        return Judged(
            status=Status.CONTRADICTED,
            code="undocumented_value",
            params={"seen": seen, "raw": ", ".join(map(str, outside)), "expected": expected},
        )
    return Judged(
        status=Status.CONFIRMED,
        code="documented_value",
        params={"seen": seen, "expected": expected},
    )


def judge_bits(rec: Record, point: Point) -> Judged:
    assert point.bits is not None
    raws = rec.raws(point)
    if not raws:
        return Judged(status=Status.NOT_OBSERVED, code="not_read")
    mask = sum(1 << bit for bit in point.bits.values())
    extra = 0
    for raw in raws:
        extra |= raw & ~mask
    expected = "bits " + _list(sorted(point.bits.values()))
    seen = ", ".join(f"0x{raw:04x}" for raw in sorted(set(raws)))
    if extra:
        bits = [str(b) for b in range(16 * point.count) if extra >> b & 1]
        return Judged(
            status=Status.CONTRADICTED,
            code="undocumented_bits",
            params={"seen": seen, "bits": ", ".join(bits), "expected": expected},
        )
    return Judged(
        status=Status.CONFIRMED,
        code="documented_bits",
        params={"seen": seen, "expected": expected},
    )


def judge_setting(rec: Record, point: Point, alt: Alt) -> Judged:
    assert point.write is not None
    ok = bad = 0
    seen: list[float] = []
    ceiling: int | None = None
    for sample in rec.samples:
        value = numeric(point, rec.words(point, sample), alt)
        if value is None:
            continue
        exact = value / point.scale
        raw = round(exact)
        ceiling = ceiling_of(point, sample.values)
        seen.append(value)
        if abs(exact - raw) < 1e-6 and point.write.allows(raw, ceiling):
            ok += 1
        else:
            bad += 1
    status = majority(ok, bad)
    if status is None:
        return Judged(status=Status.NOT_OBSERVED, code="not_read")
    expected = point.write.describe(point.scale, ceiling)
    params = {
        "seen": span(seen, point.unit),
        "expected": f"{expected} {point.unit}" if point.unit else expected,
    }
    if status is Status.CONFIRMED:
        return Judged(status=status, code="setting_ok", params=params)
    return Judged(status=status, code="setting_invalid", params=params)


def judge_range(rec: Record, point: Point, alt: Alt) -> Judged:
    bounds = unit_range(point, rec.limit_max, rec.connector_count)
    assert bounds is not None
    low, high = bounds
    skip_zero = point.unit not in UNIT_RANGES  # 0 A, 0 W: nothing to compare
    values = [v for v in rec.series(point, alt) if v is not None]
    judged = [v for v in values if not (skip_zero and abs(v) < 1e-9)]
    if not values:
        return Judged(status=Status.NOT_OBSERVED, code="not_read")
    if not judged:
        return Judged(status=Status.NOT_OBSERVED, code="zero")
    bad = [v for v in judged if not low <= v <= high]
    params = {
        "seen": span(judged, point.unit),
        "expected": f"{fmt(low)}–{fmt(high, point.unit)}",
    }
    status = majority(len(judged) - len(bad), len(bad))
    assert status is not None
    return Judged(
        status=status,
        code="in_range" if status is Status.CONFIRMED else "out_of_range",
        params=params,
    )


def _list(items: Sequence[int]) -> str:
    """0, 1, 2, 3 -> '0–3'; 0, 1, 5 -> '0, 1, 5'."""
    if items and list(items) == list(range(items[0], items[-1] + 1)) and len(items) > 2:
        return f"{items[0]}–{items[-1]}"
    return ", ".join(map(str, items))
