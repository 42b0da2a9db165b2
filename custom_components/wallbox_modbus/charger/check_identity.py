"""Checks of a box's identity: its texts, its layout version and its connectors."""

from __future__ import annotations

from .check_model import Judged, Status
from .check_record import Record
from .codec import decode, decode_int
from .mapcheck import parse_version
from .registers import Point, RegisterMap


def judge_text(rec: Record, point: Point) -> Judged:
    words = rec.latest_words(point)
    if words is None or len(words) != point.count:
        return Judged(status=Status.NOT_OBSERVED, code="not_read")
    text = str(decode(point, words))
    if not text:
        return Judged(status=Status.NOT_OBSERVED, code="empty")
    shown = "(private)" if point.private else repr(text)
    if all(32 <= ord(c) < 127 for c in text):
        return Judged(status=Status.CONFIRMED, code="printable", params={"seen": shown})
    return Judged(status=Status.CONTRADICTED, code="not_printable", params={"seen": shown})


def judge_layout(rec: Record, point: Point) -> Judged:
    words = rec.latest_words(point)
    if words is None:
        return Judged(status=Status.NOT_OBSERVED, code="not_read")
    text = str(decode(point, words))
    variant = rec.plan.regmap.variants[rec.plan.variant]
    versions = _documented_versions(rec.plan.regmap)
    low = variant.layout or (min(versions) if versions else None)
    high = max(versions) if versions else None
    expected = (
        "any"
        if low is None or high is None
        else f"{_version(low)}–{_version(high)}"
        if low != high
        else _version(low)
    )
    try:
        layout = parse_version(text)
    except ValueError:
        return Judged(
            status=Status.CONTRADICTED,
            code="layout_mismatch",
            params={"seen": repr(text), "expected": expected},
        )
    fits = (low is None or layout >= low) and (high is None or layout <= high)
    return Judged(
        status=Status.CONFIRMED if fits else Status.CONTRADICTED,
        code="layout_ok" if fits else "layout_mismatch",
        params={"seen": text, "expected": expected},
    )


def judge_connectors(rec: Record, point: Point) -> Judged:
    words = rec.latest_words(point)
    if words is None:
        return Judged(status=Status.NOT_OBSERVED, code="not_read")
    count = decode_int(point, words)
    wanted = rec.plan.regmap.variants[rec.plan.variant].connectors
    fits = count == wanted
    return Judged(
        status=Status.CONFIRMED if fits else Status.CONTRADICTED,
        code="connectors_ok" if fits else "connectors_mismatch",
        params={"seen": str(count), "expected": str(wanted)},
    )


def _version(version: tuple[int, ...]) -> str:
    return ".".join(str(part) for part in version)


def _documented_versions(regmap: RegisterMap) -> list[tuple[int, ...]]:
    versions = {v.layout for v in regmap.variants.values() if v.layout is not None}
    for point in regmap.points:
        versions |= {m for m in point.variants.values() if m is not None}
    return sorted(versions)
