"""Register maps: the vendor tables as data, validated on load.

A map file (``maps/*.json``) reads like the vendor's table: one point a line,
with the register table, address, type, scaling, unit, access, the raw values
a write may carry, the polling tier and where the point exists (variant and
layout version).  Nothing in the rest of the layer names a register number.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

from .const import Table
from .errors import RegisterMapError

MAPS_DIR = Path(__file__).parent / "maps"


class Tier(StrEnum):
    """How often a point is read."""

    FAST = "fast"  # every refresh: measurements and states
    SLOW = "slow"  # every few minutes and after a write: settings and ratings
    IDENTITY = "identity"  # once per connection: serial, firmware, layout
    NONE = "none"  # documented but never polled (commands, reserved areas)


class Rung(StrEnum):
    """How far a map has been proven, in order."""

    DOCUMENTED = "documented"
    SIMULATED = "simulated"
    INTEROPERABLE = "interoperable"
    HARDWARE_VERIFIED = "hardware-verified"

    @property
    def level(self) -> int:
        return list(Rung).index(self)


# Register types and their width in registers (None: the point gives `count`).
TYPE_WIDTH: dict[str, int | None] = {
    "u16": 1,
    "s16": 1,
    "u32": 2,  # high word first
    "s32": 2,  # high word first
    "str1": None,  # one ASCII character per register (low byte)
    "str2": None,  # two ASCII characters per register, high byte first
    "hex_bytes": None,  # raw bytes, two per register, shown as hex
    "hex_version": 1,  # 0x108 -> "1.0.8"
    "version_mmp": 2,  # first: patch << 8, second: major << 8 | minor
}
STRING_TYPES = frozenset({"str1", "str2", "hex_bytes", "hex_version", "version_mmp"})
ACCESS = frozenset({"r", "rw", "w"})
POINT_FIELDS = frozenset(
    {
        "key",
        "connector",
        "address",
        "table",
        "type",
        "count",
        "scale",
        "unit",
        "access",
        "tier",
        "values",
        "bits",
        "write",
        "variants",
        "requires",
        "length_from",
        "doc",
    }
)


def parse_version(text: str) -> tuple[int, ...]:
    """'2.0.1' -> (2, 0, 1)."""
    return tuple(int(part) for part in text.split("."))


@dataclass(frozen=True, kw_only=True)
class WriteSpec:
    """Raw values a write may carry: listed values and inclusive ranges."""

    values: tuple[int, ...] = ()
    ranges: tuple[tuple[int, int], ...] = ()

    def allows(self, raw: int) -> bool:
        return raw in self.values or any(lo <= raw <= hi for lo, hi in self.ranges)

    def describe(self, scale: float = 1) -> str:
        parts = [_fmt(v * scale) for v in self.values]
        parts += [f"{_fmt(lo * scale)}–{_fmt(hi * scale)}" for lo, hi in self.ranges]
        return ", ".join(parts)


def _fmt(value: float) -> str:
    return f"{value:g}"


@dataclass(frozen=True, kw_only=True, eq=False)
class Point:
    """One documented register (or group of registers) of a map."""

    key: str
    address: int
    table: Table
    type: str
    count: int
    scale: float = 1
    unit: str | None = None
    access: str = "r"
    tier: Tier = Tier.FAST
    connector: int | None = None
    values: Mapping[int, Any] | None = None
    bits: Mapping[str, int] | None = None
    write: WriteSpec | None = None
    # variant -> minimal layout version (None: every layout); empty: all variants
    variants: Mapping[str, tuple[int, ...] | None] = field(default_factory=dict)
    requires: Mapping[str, Any] = field(default_factory=dict)
    length_from: str | None = None
    doc: str = ""

    @property
    def id(self) -> str:
        """Unique name within a map: the key, with the connector when there is one."""
        return self.key if self.connector is None else f"{self.key}@{self.connector}"

    @property
    def end(self) -> int:
        """First address after the point."""
        return self.address + self.count

    @property
    def readable(self) -> bool:
        return "r" in self.access

    @property
    def writable(self) -> bool:
        return "w" in self.access

    def available(self, variant: str, layout: tuple[int, ...] | None) -> bool:
        """Whether this variant, at this layout version, documents the point."""
        if not self.variants:
            return True
        if variant not in self.variants:
            return False
        minimum = self.variants[variant]
        return minimum is None or layout is None or layout >= minimum

    def raw_for(self, value: float) -> int:
        """Engineering value -> raw register value (no range check)."""
        return round(value / self.scale)


@dataclass(frozen=True, kw_only=True)
class Variant:
    """A model of the family that the map describes."""

    id: str
    name: str
    connectors: int = 1
    layout: tuple[int, ...] | None = None  # minimal layout version, where the family has one


@dataclass(frozen=True, kw_only=True)
class SafeRange:
    """Registers the box serves although no point is documented there."""

    table: Table
    start: int
    end: int  # inclusive
    why: str


@dataclass(frozen=True, kw_only=True)
class RegisterMap:
    """One family's register map."""

    family: str
    title: str
    source: Path
    document: Mapping[str, str]
    rung: Rung
    evidence: Mapping[str, tuple[str, ...]]
    scope: str
    defaults: Mapping[str, Any]
    variants: Mapping[str, Variant]
    safe_ranges: tuple[SafeRange, ...]
    points: tuple[Point, ...]

    def point(self, key: str, connector: int | None = None) -> Point:
        pid = key if connector is None else f"{key}@{connector}"
        for point in self.points:
            if point.id == pid:
                return point
        raise KeyError(pid)

    def has(self, key: str, connector: int | None = None) -> bool:
        try:
            self.point(key, connector)
        except KeyError:
            return False
        return True

    def available_points(self, variant: str, layout: tuple[int, ...] | None) -> list[Point]:
        return [p for p in self.points if p.available(variant, layout)]


def _fail(path: Path, where: str, message: str) -> RegisterMapError:
    return RegisterMapError(f"{path.name}: {where}: {message}")


def _expect(cond: bool, path: Path, where: str, message: str) -> None:
    if not cond:
        raise _fail(path, where, message)


def _int(value: Any, path: Path, where: str, name: str, lo: int = 0, hi: int = 65535) -> int:
    _expect(
        isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi,
        path,
        where,
        f"'{name}' must be an integer {lo}..{hi}, got {value!r}",
    )
    return int(value)


def _parse_point(raw: Any, path: Path, index: int, variants: Iterable[str]) -> Point:
    where = f"point #{index}"
    _expect(isinstance(raw, dict), path, where, "must be an object")
    key = raw.get("key")
    _expect(isinstance(key, str) and key.isidentifier(), path, where, "needs a 'key' identifier")
    where = f"point '{key}'" + (f" (connector {raw['connector']})" if "connector" in raw else "")
    unknown = set(raw) - POINT_FIELDS
    _expect(not unknown, path, where, f"unknown field(s) {sorted(unknown)}")
    address = _int(raw.get("address"), path, where, "address")
    table_name = raw.get("table")
    _expect(table_name in ("input", "holding"), path, where, "'table' must be input or holding")
    type_name = raw.get("type")
    _expect(type_name in TYPE_WIDTH, path, where, f"unknown type {type_name!r}")
    width = TYPE_WIDTH[type_name]
    if width is None:
        count = _int(raw.get("count"), path, where, "count", 1, 125)
    else:
        count = width
        _expect(
            raw.get("count", width) == width, path, where, f"{type_name} is {width} register(s)"
        )
    _expect(address + count <= 65536, path, where, "runs past register 65535")
    scale = raw.get("scale", 1)
    _expect(
        isinstance(scale, (int, float)) and not isinstance(scale, bool) and scale > 0,
        path,
        where,
        "'scale' must be a positive number",
    )
    _expect(scale == 1 or type_name not in STRING_TYPES, path, where, "strings cannot be scaled")
    access = raw.get("access", "r")
    _expect(access in ACCESS, path, where, "'access' must be r, rw or w")
    _expect(table_name == "holding" or access == "r", path, where, "input registers are read only")
    tier_name = raw.get("tier", "fast")
    _expect(tier_name in set(Tier), path, where, f"unknown tier {tier_name!r}")
    _expect("r" in access or tier_name == "none", path, where, "a write-only point is never polled")
    values = None
    if "values" in raw:
        _expect(isinstance(raw["values"], dict), path, where, "'values' must be an object")
        try:
            values = {int(k): v for k, v in raw["values"].items()}
        except ValueError as err:
            raise _fail(path, where, "'values' keys must be raw integers") from err
    bits = None
    if "bits" in raw:
        _expect(isinstance(raw["bits"], dict), path, where, "'bits' must be an object")
        bits = {
            str(name): _int(bit, path, where, f"bit {name}", 0, 15)
            for name, bit in raw["bits"].items()
        }
    write = None
    if "write" in raw:
        spec = raw["write"]
        _expect(isinstance(spec, dict), path, where, "'write' must be an object")
        w_values = tuple(_int(v, path, where, "write value") for v in spec.get("values", []))
        ranges: list[tuple[int, int]] = []
        for pair in spec.get("ranges", []):
            _expect(isinstance(pair, list) and len(pair) == 2, path, where, "ranges are [lo, hi]")
            lo = _int(pair[0], path, where, "range start")
            hi = _int(pair[1], path, where, "range end")
            _expect(lo <= hi, path, where, f"empty range {pair}")
            ranges.append((lo, hi))
        _expect(bool(w_values or ranges), path, where, "'write' allows nothing")
        write = WriteSpec(values=w_values, ranges=tuple(ranges))
    _expect(
        ("w" in access) == (write is not None),
        path,
        where,
        "a writable point needs 'write' (its valid raw values), a read-only one must not have it",
    )
    known = set(variants)
    point_variants: dict[str, tuple[int, ...] | None] = {}
    raw_variants = raw.get("variants", {})
    if isinstance(raw_variants, list):
        raw_variants = dict.fromkeys(raw_variants)
    _expect(isinstance(raw_variants, dict), path, where, "'variants' must be a list or object")
    for name, minimum in raw_variants.items():
        _expect(name in known, path, where, f"unknown variant {name!r}")
        try:
            point_variants[name] = None if minimum is None else parse_version(str(minimum))
        except ValueError as err:
            raise _fail(path, where, f"bad layout version {minimum!r}") from err
    connector = raw.get("connector")
    if connector is not None:
        connector = _int(connector, path, where, "connector", 1, 8)
    requires = raw.get("requires", {})
    _expect(isinstance(requires, dict), path, where, "'requires' must be an object")
    return Point(
        key=key,
        address=address,
        table=Table(table_name),
        type=type_name,
        count=count,
        scale=scale,
        unit=raw.get("unit"),
        access=access,
        tier=Tier(tier_name),
        connector=connector,
        values=values,
        bits=bits,
        write=write,
        variants=point_variants,
        requires=requires,
        length_from=raw.get("length_from"),
        doc=str(raw.get("doc", "")),
    )


def parse_map(data: Any, path: Path) -> RegisterMap:
    """Validate the decoded JSON of a map file and build the map."""
    top = "map"
    _expect(isinstance(data, dict), path, top, "must be a JSON object")
    for name in ("family", "title", "document", "trust", "defaults", "variants", "points"):
        _expect(name in data, path, top, f"missing '{name}'")
    document = data["document"]
    _expect(
        isinstance(document, dict) and {"file", "revision"} <= set(document),
        path,
        top,
        "'document' needs 'file' and 'revision'",
    )
    trust = data["trust"]
    _expect(isinstance(trust, dict), path, top, "'trust' must be an object")
    try:
        rung = Rung(trust.get("rung"))
    except ValueError as err:
        raise _fail(path, "trust", f"unknown rung {trust.get('rung')!r}") from err
    evidence_raw = trust.get("evidence", {})
    _expect(isinstance(evidence_raw, dict), path, "trust", "'evidence' must be an object")
    evidence = {str(k): tuple(str(t) for t in v) for k, v in evidence_raw.items()}
    for earned in list(Rung)[1 : rung.level + 1]:
        _expect(
            bool(evidence.get(earned.value)),
            path,
            "trust",
            f"rung '{rung}' claimed without evidence for '{earned}'",
        )
    variants: dict[str, Variant] = {}
    _expect(isinstance(data["variants"], dict) and bool(data["variants"]), path, top, "no variants")
    for vid, spec in data["variants"].items():
        _expect(isinstance(spec, dict) and "name" in spec, path, f"variant '{vid}'", "needs name")
        layout = spec.get("layout")
        variants[vid] = Variant(
            id=vid,
            name=spec["name"],
            connectors=int(spec.get("connectors", 1)),
            layout=parse_version(layout) if layout else None,
        )
    safe: list[SafeRange] = []
    for i, item in enumerate(data.get("safe_ranges", [])):
        where = f"safe range #{i}"
        _expect(isinstance(item, dict), path, where, "must be an object")
        _expect(item.get("table") in ("input", "holding"), path, where, "bad table")
        start = _int(item.get("start"), path, where, "start")
        end = _int(item.get("end"), path, where, "end")
        _expect(start <= end, path, where, "start after end")
        _expect(bool(item.get("why")), path, where, "say 'why' it is safe")
        safe.append(SafeRange(table=Table(item["table"]), start=start, end=end, why=item["why"]))
    _expect(isinstance(data["points"], list) and bool(data["points"]), path, top, "no points")
    points = [_parse_point(raw, path, i, variants) for i, raw in enumerate(data["points"])]
    seen: dict[str, Point] = {}
    for point in points:
        _expect(point.id not in seen, path, f"point '{point.id}'", "defined twice")
        seen[point.id] = point
    for point in points:
        for other in points:
            if (
                other is not point
                and other.table == point.table
                and other.address < point.end
                and point.address < other.end
                and _share_variant(point, other)
            ):
                raise _fail(path, f"point '{point.id}'", f"overlaps '{other.id}'")
        for name in point.requires:
            _expect(name in seen, path, f"point '{point.id}'", f"requires unknown '{name}'")
        if point.length_from is not None:
            _expect(
                point.length_from in seen,
                path,
                f"point '{point.id}'",
                f"length_from unknown '{point.length_from}'",
            )
    return RegisterMap(
        family=str(data["family"]),
        title=str(data["title"]),
        source=path,
        document={str(k): str(v) for k, v in document.items()},
        rung=rung,
        evidence=evidence,
        scope=str(trust.get("scope", "")),
        defaults=dict(data["defaults"]),
        variants=variants,
        safe_ranges=tuple(safe),
        points=tuple(points),
    )


def _share_variant(a: Point, b: Point) -> bool:
    if not a.variants or not b.variants:
        return True
    return bool(set(a.variants) & set(b.variants))


def load_map_file(path: Path) -> RegisterMap:
    """Load and validate one map file; errors name the file and the point."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise RegisterMapError(f"{path.name}: not valid JSON: {err}") from err
    return parse_map(data, path)


@cache
def load_map(name: str) -> RegisterMap:
    """Load a shipped map by its file stem (cached)."""
    return load_map_file(MAPS_DIR / f"{name}.json")
