"""Register maps: the vendor tables as data, validated on load.

A map file (``maps/*.json``, or a user's JSON or YAML) reads like the vendor's
table: one point a line, with the register table, address, type, scaling,
unit, access, the raw values a write may carry, the polling tier and where
the point exists (variant and layout version).  Its other sections say, as
data, what the box can do (``spec.py``).  Nothing else in the device layer
names a register number.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

from .const import Table
from .errors import RegisterMapError
from .mapcheck import Check, parse_version, shown
from .spec import Behaviour, parse_behaviour

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
    "u32_low_first": 2,
    "s32_low_first": 2,
    "f32": 2,  # IEEE 754 single precision, high word first
    "f32_low_first": 2,
    "str1": None,  # one ASCII character per register (low byte)
    "str2": None,  # two ASCII characters per register, high byte first
    "hex_bytes": None,  # raw bytes, two per register, shown as hex
    "hex_version": 1,  # 0x108 -> "1.0.8"
    "version_mmp": 2,  # first: patch << 8, second: major << 8 | minor
    "byte_pair": 1,  # high byte and low byte: two small numbers, "13.1"
}
TEXT_TYPES = frozenset({"str1", "str2", "hex_bytes", "hex_version", "version_mmp", "byte_pair"})
ACCESS = ("r", "rw", "w")
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
        "private",
        "doc",
    }
)
WRITE_FIELDS = frozenset({"values", "ranges", "max_from", "why"})
MAP_FIELDS = frozenset(
    {
        "family",
        "title",
        "manufacturer",
        "document",
        "trust",
        "defaults",
        "variants",
        "safe_ranges",
        "points",
        "identity",
        "derive",
        "limit",
        "keepalive",
        "phase_switch",
        "remote_lock",
        "commands",
        "toggles",
        "events",
        "reboot",
        "strategy",
        "simulate",
        "discovery",
        "$schema",
        "notes",
    }
)


@dataclass(frozen=True, kw_only=True)
class MaxFrom:
    """The highest raw value follows another point: ``times`` x its value."""

    point: str
    times: float


@dataclass(frozen=True, kw_only=True)
class WriteSpec:
    """Raw values a write may carry: listed values and inclusive ranges."""

    values: tuple[int, ...] = ()
    ranges: tuple[tuple[int, int], ...] = ()
    max_from: MaxFrom | None = None
    why: str = ""  # where the document states no maximum: the reason for ours

    def capped(self, ceiling: int | None = None) -> tuple[tuple[int, int], ...]:
        """The ranges, each capped at ``ceiling`` (a maximum read from the box)."""
        if ceiling is None:
            return self.ranges
        return tuple((lo, min(hi, ceiling)) for lo, hi in self.ranges if min(hi, ceiling) >= lo)

    def allows(self, raw: int, ceiling: int | None = None) -> bool:
        """Whether raw is valid; ``ceiling`` caps the ranges (never the listed values)."""
        return raw in self.values or any(lo <= raw <= hi for lo, hi in self.capped(ceiling))

    def bounds(self, ceiling: int | None = None) -> tuple[int, int]:
        """Lowest and highest valid raw value."""
        raws = [*self.values, *(r for pair in self.capped(ceiling) for r in pair)]
        if not raws:  # the ceiling leaves nothing: fall back to the documented ranges
            raws = [r for pair in self.ranges for r in pair]
        return min(raws), max(raws)

    def describe(self, scale: float = 1, ceiling: int | None = None) -> str:
        parts = [_fmt(v * scale) for v in self.values]
        parts += [f"{_fmt(lo * scale)}–{_fmt(hi * scale)}" for lo, hi in self.capped(ceiling)]
        return ", ".join(parts)


def _fmt(value: float) -> str:
    return f"{round(value, 6):g}"


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
    private: bool = False  # names a person or a card: redacted wherever users share output
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


@dataclass(frozen=True, kw_only=True)
class Variant:
    """A model of the family that the map describes."""

    id: str
    name: str
    model_id: str
    connectors: int = 1
    layout: tuple[int, ...] | None = None  # minimal layout version, where the family has one
    marker: str | None = None  # a point only this variant serves


@dataclass(frozen=True, kw_only=True)
class SafeRange:
    """Registers the box serves although no point is documented there."""

    table: Table
    start: int
    end: int  # inclusive
    why: str


@dataclass(frozen=True, kw_only=True)
class VerifiedFirmware:
    """A firmware the map is hardware-verified for, and the report that shows it.

    ``report`` is the path of a verification report, relative to the map's
    folder (``evidence/<map>/<firmware>.json``); ``model`` the model it was made
    on (None: the map has one model).
    """

    firmware: str
    report: str
    model: str | None = None


@dataclass(frozen=True, kw_only=True)
class RegisterMap:
    """One family's register map, and what the box can do."""

    family: str
    title: str
    manufacturer: str
    source: Path
    document: Mapping[str, str]
    rung: Rung
    evidence: Mapping[str, tuple[str, ...]]
    scope: str
    defaults: Mapping[str, Any]
    variants: Mapping[str, Variant]
    safe_ranges: tuple[SafeRange, ...]
    points: tuple[Point, ...]
    behaviour: Behaviour
    simulate: Mapping[str, Any] = field(default_factory=dict)
    hardware_verified: tuple[VerifiedFirmware, ...] = ()
    # Host name patterns (fnmatch, lower case) the box announces in DHCP.
    dhcp_hostnames: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.source.stem

    @property
    def max_connections(self) -> int:
        return int(self.defaults.get("max_connections", 1))

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


def _parse_write(raw: Any, check: Check, where: str) -> WriteSpec:
    spec = check.obj(raw, where, "write")
    check.only(spec, WRITE_FIELDS, where)
    values = tuple(
        check.integer(v, where, "write.values")
        for v in check.items(spec.get("values", []), where, "write.values")
    )
    ranges: list[tuple[int, int]] = []
    for pair in check.items(spec.get("ranges", []), where, "write.ranges"):
        check.expect(
            isinstance(pair, list) and len(pair) == 2,
            where,
            "not_list",
            field="write.ranges (pairs [low, high])",
        )
        lo = check.integer(pair[0], where, "write.ranges")
        hi = check.integer(pair[1], where, "write.ranges")
        check.expect(lo <= hi, where, "empty_range", field="write.ranges", value=shown(pair))
        ranges.append((lo, hi))
    check.expect(bool(values or ranges), where, "write_allows_nothing")
    max_from = None
    if "max_from" in spec:
        mf = check.obj(spec["max_from"], where, "write.max_from")
        max_from = MaxFrom(
            point=check.key(check.need(mf, "point", where), where, "write.max_from.point"),
            times=check.number(mf.get("times", 1), where, "write.max_from.times", positive=True),
        )
    return WriteSpec(
        values=values, ranges=tuple(ranges), max_from=max_from, why=str(spec.get("why", ""))
    )


def _parse_point(raw: Any, check: Check, index: int, variants: Mapping[str, Variant]) -> Point:
    where = f"point #{index + 1}"
    data = check.obj(raw, where, "points")
    key = check.key(data.get("key"), where, "key")
    where = f"point `{key}`" + (f" (connector {data['connector']})" if "connector" in data else "")
    check.only(data, POINT_FIELDS, where)
    address = check.integer(data.get("address"), where, "address")
    table_name = check.choice(data.get("table"), [t.value for t in Table], where, "table")
    type_name = check.choice(data.get("type"), TYPE_WIDTH, where, "type")
    width = TYPE_WIDTH[type_name]
    if width is None:
        count = check.integer(data.get("count"), where, "count", 1, 125)
    else:
        count = width
        check.expect(
            data.get("count", width) == width, where, "fixed_width", value=type_name, low=width
        )
    check.expect(address + count <= 65536, where, "past_end")
    scale = check.number(data.get("scale", 1), where, "scale", positive=True)
    check.expect(scale == 1 or type_name not in TEXT_TYPES, where, "text_scaled")
    access = check.choice(data.get("access", "r"), ACCESS, where, "access")
    check.expect(table_name == "holding" or access == "r", where, "input_read_only")
    tier_name = check.choice(data.get("tier", "fast"), [t.value for t in Tier], where, "tier")
    check.expect("r" in access or tier_name == "none", where, "write_only_polled")
    values = None
    if "values" in data:
        mapping = check.obj(data["values"], where, "values")
        try:
            values = {int(k): v for k, v in mapping.items()}
        except ValueError:
            check.fail(where, "not_integer", field="values (keys)", low=0, high=65535,
                       value=", ".join(map(shown, mapping)))  # fmt: skip
    bits = None
    if "bits" in data:
        bits = {
            check.key(name, where, "bits"): check.integer(bit, where, f"bits.{name}", 0, 15)
            for name, bit in check.obj(data["bits"], where, "bits").items()
        }
    write = _parse_write(data["write"], check, where) if "write" in data else None
    check.expect(("w" in access) == (write is not None), where, "write_without_access")
    check.expect(
        write is None or not type_name.startswith("f32"),
        where,
        "unknown_choice",
        field="type of a writable point",
        allowed="an integer type",
        value=shown(type_name),
    )
    point_variants: dict[str, tuple[int, ...] | None] = {}
    raw_variants = data.get("variants", {})
    if isinstance(raw_variants, list):
        raw_variants = dict.fromkeys(raw_variants)
    for name, minimum in check.obj(raw_variants, where, "variants").items():
        check.choice(name, variants, where, "variants")
        point_variants[name] = (
            None if minimum is None else check.version(minimum, where, "variants")
        )
    connector = data.get("connector")
    if connector is not None:
        connector = check.integer(connector, where, "connector", 1, 8)
    requires = dict(check.obj(data.get("requires", {}), where, "requires"))
    return Point(
        key=key,
        address=address,
        table=Table(table_name),
        type=type_name,
        count=count,
        scale=scale if scale != int(scale) else int(scale),
        unit=None if data.get("unit") is None else str(data["unit"]),
        access=access,
        tier=Tier(tier_name),
        connector=connector,
        values=values,
        bits=bits,
        write=write,
        variants=point_variants,
        requires=requires,
        length_from=data.get("length_from"),
        private=bool(data.get("private", False)),
        doc=str(data.get("doc", "")),
    )


def _parse_variants(raw: Any, check: Check, family: str) -> dict[str, Variant]:
    variants: dict[str, Variant] = {}
    mapping = check.obj(raw, "variants", "variants")
    check.expect(bool(mapping), "variants", "missing", field="variants")
    for vid, spec_raw in mapping.items():
        where = f"variant `{vid}`"
        check.key(vid, where, "variants")
        spec = check.obj(spec_raw, where, "variants")
        check.only(spec, {"name", "connectors", "layout", "marker", "model_id"}, where)
        layout = spec.get("layout")
        variants[vid] = Variant(
            id=vid,
            name=check.text(spec.get("name"), where, "name"),
            model_id=check.key(spec.get("model_id", f"{family}_{vid}"), where, "model_id"),
            connectors=check.integer(spec.get("connectors", 1), where, "connectors", 1, 8),
            layout=None if layout is None else check.version(layout, where, "layout"),
            marker=None
            if spec.get("marker") is None
            else check.key(spec["marker"], where, "marker"),
        )
    return variants


TRUST_FIELDS = frozenset({"rung", "evidence", "scope", "hardware_verified"})


@dataclass(frozen=True, kw_only=True)
class Trust:
    rung: Rung
    evidence: Mapping[str, tuple[str, ...]]
    scope: str
    hardware_verified: tuple[VerifiedFirmware, ...]


def _parse_verified(raw: Any, check: Check) -> tuple[VerifiedFirmware, ...]:
    """`trust.hardware_verified`: firmware versions, each with the report that confirms it."""
    claims: list[VerifiedFirmware] = []
    seen: set[tuple[str | None, str]] = set()
    for i, item_raw in enumerate(check.items(raw, "trust", "hardware_verified")):
        where = f"trust.hardware_verified #{i + 1}"
        item = check.obj(item_raw, where, "hardware_verified")
        check.only(item, {"firmware", "report", "model"}, where)
        report = check.text(item.get("report"), where, "report")
        parts = Path(report).parts
        check.expect(
            report.endswith(".json")
            and len(parts) == 3
            and parts[0] == "evidence"
            and ".." not in parts
            and not Path(report).is_absolute(),
            where,
            "bad_report_path",
            field="report",
            value=shown(report),
        )
        model = None if item.get("model") is None else check.key(item["model"], where, "model")
        claim = VerifiedFirmware(
            firmware=check.text(item.get("firmware"), where, "firmware"), report=report, model=model
        )
        check.expect((model, claim.firmware) not in seen, where, "duplicate")
        seen.add((model, claim.firmware))
        claims.append(claim)
    return tuple(claims)


def _parse_trust(raw: Any, check: Check) -> Trust:
    trust = check.obj(raw, "trust", "trust")
    check.only(trust, TRUST_FIELDS, "trust")
    rung = Rung(check.choice(trust.get("rung"), [r.value for r in Rung], "trust", "rung"))
    evidence_raw = check.obj(trust.get("evidence", {}), "trust", "evidence")
    evidence = {
        str(k): tuple(str(t) for t in check.items(v, "trust", f"evidence.{k}"))
        for k, v in evidence_raw.items()
    }
    verified = _parse_verified(trust.get("hardware_verified", []), check)
    for earned in list(Rung)[1 : rung.level + 1]:
        # Hardware is proven by verification reports of real boxes, the rest by tests.
        backed = bool(verified) if earned is Rung.HARDWARE_VERIFIED else bool(evidence.get(earned))
        check.expect(backed, "trust", "no_evidence", value=rung, field=earned)
    check.expect(
        not verified or rung is Rung.HARDWARE_VERIFIED,
        "trust",
        "verified_below_rung",
        value=rung,
    )
    return Trust(
        rung=rung, evidence=evidence, scope=str(trust.get("scope", "")), hardware_verified=verified
    )


def parse_map(data: Any, path: Path) -> RegisterMap:
    """Validate the decoded content of a map file and build the map."""
    check = Check(path.name)
    top = check.obj(data, "map", "map")
    check.only(top, MAP_FIELDS, "map")
    for name in ("family", "title", "document", "trust", "variants", "points"):
        check.need(top, name, "map")
    family = check.key(top["family"], "map", "family")
    document = check.obj(top["document"], "document", "document")
    for name in ("file", "revision"):
        check.need(document, name, "document")
    trust = _parse_trust(top["trust"], check)
    variants = _parse_variants(top["variants"], check, family)
    safe: list[SafeRange] = []
    for i, item_raw in enumerate(check.items(top.get("safe_ranges", []), "map", "safe_ranges")):
        where = f"safe range #{i + 1}"
        item = check.obj(item_raw, where, "safe_ranges")
        start = check.integer(item.get("start"), where, "start")
        end = check.integer(item.get("end"), where, "end")
        check.expect(
            start <= end, where, "empty_range", field="start..end", value=f"{start}..{end}"
        )
        safe.append(
            SafeRange(
                table=Table(
                    check.choice(item.get("table"), [t.value for t in Table], where, "table")
                ),
                start=start,
                end=end,
                why=check.text(item.get("why"), where, "why"),
            )
        )
    raw_points = check.items(top["points"], "map", "points")
    check.expect(bool(raw_points), "map", "no_points")
    points = [_parse_point(raw, check, i, variants) for i, raw in enumerate(raw_points)]
    _check_points(points, check)
    keys = {p.key for p in points} | {bit for p in points for bit in (p.bits or {})}
    for variant in variants.values():
        if variant.marker is not None:
            check.expect(variant.marker in keys, f"variant `{variant.id}`", "unknown_point",
                         field="marker", value=variant.marker)  # fmt: skip
    defaults = dict(check.obj(top.get("defaults", {}), "defaults", "defaults"))
    if "max_connections" in defaults:
        check.integer(defaults["max_connections"], "defaults", "max_connections", 1, 16)
    for name in ("port", "unit_id"):
        if name in defaults:
            check.integer(defaults[name], "defaults", name, 0 if name == "unit_id" else 1,
                          255 if name == "unit_id" else 65535)  # fmt: skip
    behaviour = parse_behaviour(top, check, points)
    simulate = dict(check.obj(top.get("simulate", {}), "simulate", "simulate"))
    dhcp_hostnames = _parse_discovery(top.get("discovery", {}), check)
    return RegisterMap(
        family=family,
        title=check.text(top["title"], "map", "title"),
        manufacturer=str(top.get("manufacturer") or family.title()),
        source=path,
        document={str(k): str(v) for k, v in document.items()},
        rung=trust.rung,
        evidence=trust.evidence,
        scope=trust.scope,
        hardware_verified=trust.hardware_verified,
        defaults=defaults,
        variants=variants,
        safe_ranges=tuple(safe),
        points=tuple(points),
        behaviour=behaviour,
        simulate=simulate,
        dhcp_hostnames=dhcp_hostnames,
    )


def _parse_discovery(raw: Any, check: Check) -> tuple[str, ...]:
    """``discovery``: how the box announces itself, with the document that says so.

    ``dhcp`` lists host name patterns (fnmatch, lower case as Home Assistant
    compares them); ``doc`` quotes the evidence.
    """
    section = check.obj(raw, "discovery", "discovery")
    check.only(section, {"dhcp", "doc"}, "discovery")
    if section:
        check.text(section.get("doc"), "discovery", "doc")
    patterns: list[str] = []
    for i, item in enumerate(check.items(section.get("dhcp", []), "discovery", "dhcp")):
        where = f"discovery dhcp #{i + 1}"
        matcher = check.obj(item, where, "dhcp")
        check.only(matcher, {"hostname"}, where)
        pattern = check.text(matcher.get("hostname"), where, "hostname")
        check.expect(pattern == pattern.lower(), where, "not_lower_case", field="hostname",
                     value=shown(pattern))  # fmt: skip
        patterns.append(pattern)
    return tuple(patterns)


def _check_points(points: list[Point], check: Check) -> None:
    seen: dict[str, Point] = {}
    for point in points:
        check.expect(point.id not in seen, f"point `{point.id}`", "duplicate")
        seen[point.id] = point
    keys = {p.key for p in points}
    ordered = sorted(points, key=lambda p: (p.table, p.address))
    for i, point in enumerate(ordered):
        for other in ordered[i + 1 :]:
            if other.table != point.table or other.address >= point.end:
                break
            if _share_variant(point, other):
                check.fail(f"point `{other.id}`", "overlap", value=point.id)
    for point in points:
        where = f"point `{point.id}`"
        for name in point.requires:
            check.expect(name in keys, where, "unknown_point", field="requires", value=name)
        if point.length_from is not None:
            check.expect(point.length_from in keys, where, "unknown_point", field="length_from",
                         value=point.length_from)  # fmt: skip
        if point.write is not None and point.write.max_from is not None:
            source = point.write.max_from.point
            check.expect(source in keys, where, "unknown_point", field="write.max_from.point",
                         value=source)  # fmt: skip


def _share_variant(a: Point, b: Point) -> bool:
    if not a.variants or not b.variants:
        return True
    return bool(set(a.variants) & set(b.variants))


def read_map_data(path: Path) -> Any:
    """The decoded content of a map file (JSON, or YAML by its suffix)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise RegisterMapError(path.name, "map", "unreadable", value=err) from err
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml  # noqa: PLC0415  (only user maps are YAML; Home Assistant ships PyYAML)

        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as err:
            raise RegisterMapError(path.name, "map", "not_yaml", value=err) from err
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise RegisterMapError(path.name, "map", "not_json", value=err) from err


def load_map_file(path: Path) -> RegisterMap:
    """Load and validate one map file; errors name the file, the point and the field."""
    return parse_map(read_map_data(path), path)


@cache
def load_map(name: str) -> RegisterMap:
    """Load a shipped map by its file stem (cached)."""
    return load_map_file(MAPS_DIR / f"{name}.json")


__all__ = [
    "MAPS_DIR",
    "Point",
    "RegisterMap",
    "Rung",
    "SafeRange",
    "Tier",
    "Variant",
    "VerifiedFirmware",
    "WriteSpec",
    "load_map",
    "load_map_file",
    "parse_map",
    "parse_version",
]
