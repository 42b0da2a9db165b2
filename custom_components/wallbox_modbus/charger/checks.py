"""Checks of a verification run: what a box showed, against what its map says.

A run samples the box (every value, and the registers behind it, at each
refresh).  The checks here judge those samples with the map's own data: units,
scales, documented values, bit fields, write ranges, the derive rules (the
clock), the identity section (layout, connectors, text) and the limit section.
Nothing here names a family or a register number, so a user's map gets the same
checks.  The electrical checks pair points by the catalog's words
(``voltage_l1``, ``current_l1``, ``power_l1``, ``power``, ``energy_…``) and a
shared prefix (``mid_``, ``station_``), on the same connector.

Every finding is ``confirmed``, ``contradicted`` (with the values seen) or
``not observed`` (nothing during the window could tell, e.g. nothing charged),
and says what it needs to be observed.  A contradicted value is tried again
with its two words swapped and scaled by 10, 100 or 1000: when one of those
fits, the finding says so ("looks 10x too large").
"""

from __future__ import annotations

import datetime as dt
import math
import re
import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from .capabilities import CurrentLimit, ceiling_of
from .codec import decode, decode_int
from .mapcheck import parse_version
from .reader import box_clock
from .registers import Point, RegisterMap, Tier
from .snapshot import pid

# Plausible values.  Mains voltage is taken as the catalog's (230 V +-13 %).
VOLTAGE_RANGE = (180.0, 260.0)
ZERO_VOLTS = 0.5
FLOWING_AMPS = 0.5  # a current below this is "nothing flows"
PHASE_IN_USE = 1.0  # a phase carrying this much must have a voltage
LIMIT_SLACK = (1.0, 0.1)  # a current may exceed its limit by 1 A or 10 %
POWER_SLACK = (30.0, 0.1)  # power vs sum U*I: 30 W plus 10 % (power factor, sampling)
NOTHING_FLOWS = 50.0  # W
ENERGY_SLACK = 0.15  # share of the integral of power
ENERGY_STEPS = 3  # the integral must span this many counter steps to be judged
DURATION_SLACK = (1.5, 0.1)  # s, and a share of the time charged
CLOCK_SLACK = 300.0  # s between the box's clock and the host's
CLOCK_RATE_SLACK = (5.0, 0.05)  # s, and a share of the window
CLOCK_MIN_SPAN = 30.0  # s of window before the clock's rate is judged
UNIT_RANGES: Mapping[str, tuple[float, float]] = {"°C": (-40.0, 100.0), "%": (0.0, 100.0)}
FACTORS = (10, 100, 1000)
INTEGER_TYPES = frozenset({"u16", "s16", "u32", "s32", "u32_low_first", "s32_low_first"})
FLOAT_TYPES = frozenset({"f32", "f32_low_first"})
NUMERIC_TYPES = INTEGER_TYPES | FLOAT_TYPES
TEXT_TYPES = frozenset({"str1", "str2", "version_mmp", "byte_pair"})


class Status(StrEnum):
    CONFIRMED = "confirmed"
    CONTRADICTED = "contradicted"
    NOT_OBSERVED = "not observed"


class Needs(StrEnum):
    """What a check needs to see something."""

    READING = "reading"  # any reading of the box
    MAINS = "mains"  # mains voltage at the box (some boxes measure only while charging)
    CHARGING = "charging"  # a vehicle charging during the window
    WRITE = "write"  # the opt-in write test


class Kind(StrEnum):
    TEXT = "text"
    IDENTITY_TEXT = "identity_text"
    LAYOUT = "layout"
    CONNECTORS = "connectors"
    ENUM = "enum"
    BITS = "bits"
    SETTING = "setting"
    CLOCK = "clock"
    KEEPALIVE = "keepalive"
    RANGE = "range"
    SERVED = "served"
    VOLTAGE = "voltage"
    CURRENT = "current"
    POWER = "power"
    ENERGY = "energy"
    DURATION = "duration"
    WRITE_TEST = "write_test"


NEEDS: Mapping[Kind, Needs] = {
    Kind.VOLTAGE: Needs.MAINS,
    Kind.CURRENT: Needs.CHARGING,
    Kind.POWER: Needs.CHARGING,
    Kind.ENERGY: Needs.CHARGING,
    Kind.DURATION: Needs.CHARGING,
    Kind.WRITE_TEST: Needs.WRITE,
}
# Checks a report must have confirmed (where they apply) to confirm a map: the ones a
# box answers by just being read, whatever it is doing.
REQUIRED = frozenset(
    {
        Kind.IDENTITY_TEXT,
        Kind.LAYOUT,
        Kind.CONNECTORS,
        Kind.ENUM,
        Kind.BITS,
        Kind.SETTING,
        Kind.CLOCK,
        Kind.KEEPALIVE,
    }
)


def needs_of(kind: Kind) -> Needs:
    return NEEDS.get(kind, Needs.READING)


# English texts of the findings, by code; Home Assistant has the contradicted ones
# translated under the same codes.  Placeholders: seen, expected and the code's own.
VERIFY_MESSAGES: Mapping[str, str] = {
    # confirmed
    "documented_value": "read only documented values: {seen}",
    "documented_bits": "set only documented bits: {seen}",
    "printable": "decodes to printable text: {seen}",
    "layout_ok": "layout {seen} is one the model has ({expected})",
    "connectors_ok": "{seen} connector(s), as the model has",
    "in_range": "read {seen}, within {expected}",
    "current_ok": "read {seen} with a limit of {expected}",
    "power_ok": "read {seen}; the sum of voltage x current gives {expected}",
    "energy_ok": "rose {seen} while the power read gives {expected}",
    "energy_rose": "rose {seen} and never went down",
    "duration_ok": "rose {seen} in {expected} of charging",
    "setting_ok": "holds {seen}, which the map allows ({expected})",
    "clock_ok": "the box's clock is {seconds} s off the host's and runs with it",
    "keepalive_ok": "no sign of a fallback in {seconds} s with a timeout of {timeout} s",
    "readback_ok": "wrote {written}, read back {seen}, restored {restored}",
    # contradicted
    "undocumented_value": "read raw {raw}, which the map does not document ({expected})",
    "undocumented_bits": "set bits {bits} the map does not document ({expected})",
    "not_printable": "does not decode to printable text",
    "layout_mismatch": "layout {seen} is not one the model has ({expected})",
    "connectors_mismatch": "{seen} connector(s), the model has {expected}",
    "out_of_range": "read {seen}, outside {expected}",
    "too_large": "looks {factor}x too large for this firmware: {seen} where {expected} fits",
    "too_small": "looks {factor}x too small for this firmware: {seen} where {expected} fits",
    "swapped": (
        "the two words look swapped (sent in the other order than the map says): "
        "{seen} where {expected} fits"
    ),
    "no_voltage": "phase {phase} carries {current} but reads 0 V",
    "wrong_phase": (
        "phase {phase} carries {current} but reads 0 V, while {other} reads {voltage} "
        "without current: the voltages look to be on the wrong phases"
    ),
    "above_limit": "read {seen} with a limit of {expected}",
    "power_mismatch": "read {seen}; the sum of voltage x current gives {expected}",
    "energy_mismatch": "rose {seen} while the power read gives {expected}",
    "energy_without_power": "rose {seen} while no power flowed",
    "decreased": "went down from {seen} to {expected}",
    "duration_mismatch": "rose {seen} in {expected} of charging",
    "setting_invalid": "holds {seen}, which the map does not allow ({expected})",
    "clock_offset": (
        "the box's clock is {hours} h off the host's ({seen} vs {expected}): "
        "its time zone or daylight saving time differs"
    ),
    "clock_off": "the box's clock is {seconds} s off the host's ({seen} vs {expected})",
    "clock_stopped": "the box's clock moved {seen} while the host's moved {expected}",
    "clock_invalid": "does not decode to a date and time (read {seen})",
    "reconnected": "the connection was lost and opened again {count} time(s) during the run",
    "reapplied": "settings had to be applied again {count} time(s) during the run: {reason}",
    "lapsed": "the box went longer than its timeout of {timeout} s without a keepalive",
    "faulted": "the box reported the status faulted during the run",
    "not_served": "the box refuses this documented register (exception 2)",
    "readback_mismatch": "wrote {written}, read back {seen}",
    "restore_failed": "wrote {written}, could not put back {restored}: read {seen}",
    # not observed
    "empty": "is empty",
    "zero": "stayed 0 during the run: nothing to compare",
    "no_current": "no current flowed during the run",
    "no_power": "no power flowed during the run",
    "not_charging": "nothing charged during the run",
    "too_little_energy": (
        "too little energy flowed ({expected}) to judge a counter of {step} steps: charge longer"
    ),
    "inputs_contradicted": "not judged: a value it is compared with is contradicted",
    "no_limit": "not judged: the box has no current limit to compare with",
    "timeout_off": "the box's timeout is off: no fallback to provoke",
    "timeout_long": "the box's timeout ({timeout} s) is longer than the run ({seconds} s)",
    "not_read": "not read during the run",
    "write_test_not_requested": "the write test was not asked for",
    "write_test_vehicle": "the write test runs only with no vehicle plugged in",
    "write_test_failed": "the write test could not run: {error}",
    # points without findings
    "no_check": "no check applies: the map gives it no unit, values, bits or range",
    "not_polled": "never read (a command, or a reserved area)",
    "not_on_box": "not on this model, layout or configuration",
}


# The codes a contradicted finding carries (Home Assistant raises a repair issue for each).
CONTRADICTION_CODES = frozenset(
    {
        "undocumented_value",
        "undocumented_bits",
        "not_printable",
        "layout_mismatch",
        "connectors_mismatch",
        "out_of_range",
        "too_large",
        "too_small",
        "swapped",
        "no_voltage",
        "wrong_phase",
        "above_limit",
        "power_mismatch",
        "energy_mismatch",
        "energy_without_power",
        "decreased",
        "duration_mismatch",
        "setting_invalid",
        "clock_offset",
        "clock_off",
        "clock_stopped",
        "clock_invalid",
        "reconnected",
        "reapplied",
        "lapsed",
        "faulted",
        "not_served",
        "readback_mismatch",
        "restore_failed",
    }
)


class _Defaults(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "?"


def message(code: str, params: Mapping[str, str]) -> str:
    return VERIFY_MESSAGES.get(code, code).format_map(_Defaults(params))


@dataclass(frozen=True, kw_only=True)
class Finding:
    """One check of one or more points."""

    kind: Kind
    status: Status
    code: str
    points: tuple[str, ...]
    params: Mapping[str, str] = field(default_factory=dict)

    @property
    def needs(self) -> Needs:
        return needs_of(self.kind)

    @property
    def message(self) -> str:
        return message(self.code, self.params)

    def as_dict(self) -> dict[str, Any]:
        return {
            "check": str(self.kind),
            "status": str(self.status),
            "code": self.code,
            "points": list(self.points),
            "needs": str(self.needs),
            "params": dict(self.params),
            "message": self.message,
        }


@dataclass(frozen=True, kw_only=True)
class Sample:
    """What one refresh of the run saw."""

    at: float  # the charger's clock, seconds
    host: dt.datetime  # the host's local time
    values: Mapping[str, Any]
    raw: Mapping[str, tuple[int, ...]]
    failed: frozenset[str] = frozenset()
    connects: int = 0
    fallbacks: int = 0
    fallback_reasons: tuple[str, ...] = ()
    lapsed: bool = False


def fmt(value: float, unit: str | None = None) -> str:
    text = f"{round(value, 3):g}"
    return f"{text} {unit}" if unit else text


def span(values: Iterable[float], unit: str | None = None) -> str:
    items = list(values)
    low, high = min(items), max(items)
    return fmt(low, unit) if low == high else f"{fmt(low)}–{fmt(high, unit)}"


# ---------------------------------------------------------------------------- alternatives


@dataclass(frozen=True, kw_only=True)
class Alt:
    """Another reading of the same registers: words swapped, or scaled."""

    code: str  # the finding's code when this reading fits
    swap: bool = False
    factor: float = 1.0  # multiplies the value
    shown: str = ""  # "10" in "looks 10x too large"


SAME = Alt(code="")


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


@dataclass(frozen=True, kw_only=True)
class Judged:
    status: Status
    code: str
    params: Mapping[str, str] = field(default_factory=dict)


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


# ---------------------------------------------------------------------------- the plan

_PHASED = re.compile(r"^(?P<pre>(?:[a-z0-9]+_)*?)(?P<what>voltage|current|power)_l(?P<n>[1-9])$")
_TOTAL = re.compile(r"^(?P<pre>(?:[a-z0-9]+_)*?)power$")
_ENERGY = re.compile(r"^(?P<pre>(?:[a-z0-9]+_)*?)energy(?P<rest>(?:_[a-z0-9]+)*)$")


@dataclass(kw_only=True)
class Group:
    """Measurements of one connector (None: the box or station) with one prefix."""

    connector: int | None
    prefix: str
    currents: dict[int, Point] = field(default_factory=dict)
    voltages: dict[int, Point] = field(default_factory=dict)
    powers: dict[int, Point] = field(default_factory=dict)
    power: Point | None = None


def _measured(point: Point) -> bool:
    """A read-only number the box measures (not a setting, enum or bit field)."""
    return (
        point.readable
        and not point.writable
        and point.tier is not Tier.NONE
        and point.type in NUMERIC_TYPES
        and point.values is None
        and point.bits is None
    )


@dataclass(kw_only=True)
class Plan:
    """Which checks apply to which point of a box (the same for a run and for a listing)."""

    regmap: RegisterMap
    variant: str
    points: list[Point]  # on this box (variant, layout, conditions), polled or not
    dropped: list[Point]
    groups: list[Group]
    energy: dict[str, Point | None]  # energy point id -> its power point
    kinds: dict[str, list[Kind]]
    clocks: list[tuple[Point, Point]]

    def by_id(self) -> dict[str, Point]:
        return {p.id: p for p in [*self.points, *self.dropped]}

    def required(self) -> list[str]:
        """Points a report must confirm to confirm the map for this box."""
        return [pid_ for pid_, kinds in self.kinds.items() if REQUIRED & set(kinds)]

    def needs(self, point_id: str) -> set[Needs]:
        return {needs_of(kind) for kind in self.kinds.get(point_id, [])}


def make_plan(
    regmap: RegisterMap, variant: str, points: Sequence[Point], dropped: Iterable[Point] = ()
) -> Plan:
    """The checks for a box serving ``points`` (and refusing ``dropped``)."""
    behaviour = regmap.behaviour
    polled = [p for p in points if p.readable and p.tier is not Tier.NONE]
    groups: dict[tuple[int | None, str], Group] = {}
    for point in polled:
        if not _measured(point):
            continue
        if match := _PHASED.match(point.key):
            group = groups.setdefault(
                (point.connector, match["pre"]),
                Group(connector=point.connector, prefix=match["pre"]),
            )
            table = {"voltage": group.voltages, "current": group.currents, "power": group.powers}
            table[match["what"]][int(match["n"])] = point
    for point in polled:
        if (match := _TOTAL.match(point.key)) and _measured(point):
            group_of = groups.get((point.connector, match["pre"]))
            if group_of is not None:
                group_of.power = point
    # A group measures something only with currents; voltages alone are judged alone.
    electrical = [g for g in groups.values() if g.currents]
    kinds: dict[str, list[Kind]] = {p.id: [] for p in points}
    covered: set[str] = set()
    for group in electrical:
        for point in group.currents.values():
            kinds[point.id].append(Kind.CURRENT)
        for point in [*group.powers.values(), *([group.power] if group.power else [])]:
            kinds[point.id].append(Kind.POWER)
        covered |= {p.id for p in [*group.currents.values(), *group.powers.values()]}
        covered |= {group.power.id} if group.power else set()
    for group in groups.values():
        for point in group.voltages.values():
            kinds[point.id].append(Kind.VOLTAGE)
            covered.add(point.id)
    energy: dict[str, Point | None] = {}
    by_key = {(p.key, p.connector): p for p in polled if _measured(p)}
    for point in polled:
        if not (_measured(point) and point.unit in ("kWh", "Wh")):
            continue
        match = _ENERGY.match(point.key)
        power = None
        if match:
            for name in (f"{match['pre']}power{match['rest']}", f"{match['pre']}power"):
                power = by_key.get((name, point.connector)) or by_key.get((name, None))
                if power is not None and power.unit == "W":
                    break
                power = None
        energy[point.id] = power
        kinds[point.id].append(Kind.ENERGY)
        covered.add(point.id)
    clocks: list[tuple[Point, Point]] = []
    for rule in behaviour.derive:
        if rule.date is None or rule.time is None:
            continue
        for connector in {p.connector for p in polled}:
            date = _find(polled, rule.date, connector)
            time = _find(polled, rule.time, connector)
            if date is not None and time is not None and (date, time) not in clocks:
                clocks.append((date, time))
    clock_ids = {p.id for pair in clocks for p in pair}
    identity = behaviour.identity
    keepalive = behaviour.keepalive
    limit_points = {p.id for p in points if behaviour.limit and p.key == behaviour.limit.point}
    keepalive_ids = {
        p.id
        for p in points
        if keepalive is not None and p.key in (keepalive.point, keepalive.timeout_point)
    }
    limit_max = behaviour.limit.max if behaviour.limit is not None else 80.0
    for point in points:
        found = kinds[point.id]
        if point.id in keepalive_ids:
            found.append(Kind.KEEPALIVE)
        if point.id in limit_points:
            found.append(Kind.WRITE_TEST)
        if not point.readable or point.tier is Tier.NONE:
            continue
        if point.id in clock_ids:
            found.append(Kind.CLOCK)
        if point.key == identity.layout:
            found.append(Kind.LAYOUT)
        elif point.key == identity.connectors:
            found.append(Kind.CONNECTORS)
        elif point.type in TEXT_TYPES:
            found.append(Kind.IDENTITY_TEXT if point.tier is Tier.IDENTITY else Kind.TEXT)
        if point.values is not None:
            found.append(Kind.ENUM)
        if point.bits is not None:
            found.append(Kind.BITS)
        if point.writable:
            found.append(Kind.SETTING)
        elif (
            _measured(point)
            and point.id not in covered
            and point.id not in clock_ids
            and point.key != identity.connectors
        ):
            if point.unit == "V":
                found.append(Kind.VOLTAGE)
            elif point.unit == "s":
                found.append(Kind.DURATION)
            elif _unit_range(point, limit_max, 1) is not None:
                found.append(Kind.RANGE)
    for point in dropped:
        kinds[point.id] = [Kind.SERVED]
    return Plan(
        regmap=regmap,
        variant=variant,
        points=list(points),
        dropped=list(dropped),
        groups=electrical,
        energy=energy,
        kinds=kinds,
        clocks=clocks,
    )


def _find(points: Sequence[Point], key: str, connector: int | None) -> Point | None:
    for wanted in (pid(key, connector), key):
        for point in points:
            if point.id == wanted:
                return point
    return None


def _unit_range(point: Point, limit_max: float, connectors: int) -> tuple[float, float] | None:
    if point.unit is not None and point.unit in UNIT_RANGES:
        return UNIT_RANGES[point.unit]
    if point.unit == "A":
        return 0.0, limit_max
    if point.unit == "W":
        return 0.0, 3 * VOLTAGE_RANGE[1] * limit_max * max(1, connectors)
    return None


# ---------------------------------------------------------------------------- judging


@dataclass(kw_only=True)
class Observation:
    """A run's samples, and what the charger knew about the box."""

    plan: Plan
    samples: Sequence[Sample]
    connectors: Sequence[int | None]
    limits: Mapping[int | None, CurrentLimit]
    keepalive_timeout: float | None = None
    identity_values: Mapping[str, Any] = field(default_factory=dict)
    # When the run started, and the counters then: a fallback before the first refresh
    # that answered still counts.
    started: float | None = None
    start_connects: int | None = None
    start_fallbacks: int | None = None


class Judge:
    """Every check of a plan over a run's samples."""

    def __init__(self, observation: Observation) -> None:
        self.obs = observation
        self.plan = observation.plan
        self.samples = observation.samples
        self.findings: list[Finding] = []
        behaviour = self.plan.regmap.behaviour
        self.limit_max = behaviour.limit.max if behaviour.limit is not None else 80.0
        self.connector_count = len([c for c in observation.connectors if c is not None]) or 1

    # ------------------------------------------------------------------ helpers

    def words(self, point: Point, sample: Sample) -> tuple[int, ...] | None:
        if point.id in sample.failed:
            return None
        return sample.raw.get(point.id)

    def series(self, point: Point, alt: Alt = SAME) -> list[float | None]:
        return [numeric(point, self.words(point, s), alt) for s in self.samples]

    def add(self, kind: Kind, points: Iterable[Point], judged: Judged) -> None:
        self.findings.append(
            Finding(
                kind=kind,
                status=judged.status,
                code=judged.code,
                points=tuple(p.id for p in points),
                params=dict(judged.params),
            )
        )

    def contradicted(self, point: Point) -> bool:
        return any(f.status is Status.CONTRADICTED and point.id in f.points for f in self.findings)

    def value(self, sample: Sample, key: str, connector: int | None) -> Any:
        values = sample.values
        return values.get(pid(key, connector), values.get(key))

    # ------------------------------------------------------------------ all of it

    def run(self) -> list[Finding]:
        plan = self.plan
        ids = plan.by_id()
        for point in plan.dropped:
            self.add(
                Kind.SERVED,
                [point],
                Judged(
                    status=Status.CONTRADICTED,
                    code="not_served",
                    params={"table": str(point.table), "address": str(point.address)},
                ),
            )
        order = [
            Kind.IDENTITY_TEXT,
            Kind.TEXT,
            Kind.LAYOUT,
            Kind.CONNECTORS,
            Kind.ENUM,
            Kind.BITS,
            Kind.SETTING,
            Kind.RANGE,
            Kind.DURATION,
        ]
        for kind in order:
            for point_id, kinds in plan.kinds.items():
                if kind in kinds:
                    self.single(kind, ids[point_id])
        for date, time in plan.clocks:
            self.clock(date, time)
        for group in plan.groups:
            for phase, point in group.voltages.items():
                self.voltage(point, group, phase)
        for point_id, kinds in plan.kinds.items():
            point = ids[point_id]
            if Kind.VOLTAGE in kinds and not any(point in g.voltages.values() for g in plan.groups):
                self.lone_voltage(point)
        for group in plan.groups:
            for point in group.currents.values():
                self.current(point, group)
        for group in plan.groups:
            for phase, point in group.powers.items():
                self.power(point, group, [phase])
            if group.power is not None:
                self.power(group.power, group, sorted(group.currents))
        for point_id, power in plan.energy.items():
            self.energy(ids[point_id], power)
        self.keepalive()
        return self.findings

    def single(self, kind: Kind, point: Point) -> None:
        judges: dict[Kind, Callable[[Point], Judged]] = {
            Kind.IDENTITY_TEXT: self._text,
            Kind.TEXT: self._text,
            Kind.LAYOUT: self._layout,
            Kind.CONNECTORS: self._connectors,
            Kind.ENUM: self._enum,
            Kind.BITS: self._bits,
            Kind.SETTING: lambda p: with_hints(p, lambda a: self._setting(p, a)),
            Kind.RANGE: lambda p: with_hints(p, lambda a: self._range(p, a)),
            Kind.DURATION: lambda p: with_hints(p, lambda a: self._duration(p, a)),
        }
        self.add(kind, [point], judges[kind](point))

    # ------------------------------------------------------------------ identity and text

    def _latest_words(self, point: Point) -> tuple[int, ...] | None:
        for sample in reversed(self.samples):
            words = self.words(point, sample)
            if words is not None:
                return words
        return None

    def _text(self, point: Point) -> Judged:
        words = self._latest_words(point)
        if words is None or len(words) != point.count:
            return Judged(status=Status.NOT_OBSERVED, code="not_read")
        text = str(decode(point, words))
        if not text:
            return Judged(status=Status.NOT_OBSERVED, code="empty")
        shown = "(private)" if point.private else repr(text)
        if all(32 <= ord(c) < 127 for c in text):
            return Judged(status=Status.CONFIRMED, code="printable", params={"seen": shown})
        return Judged(status=Status.CONTRADICTED, code="not_printable", params={"seen": shown})

    def _layout(self, point: Point) -> Judged:
        words = self._latest_words(point)
        if words is None:
            return Judged(status=Status.NOT_OBSERVED, code="not_read")
        text = str(decode(point, words))
        variant = self.plan.regmap.variants[self.plan.variant]
        versions = _documented_versions(self.plan.regmap)
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

    def _connectors(self, point: Point) -> Judged:
        words = self._latest_words(point)
        if words is None:
            return Judged(status=Status.NOT_OBSERVED, code="not_read")
        count = decode_int(point, words)
        wanted = self.plan.regmap.variants[self.plan.variant].connectors
        fits = count == wanted
        return Judged(
            status=Status.CONFIRMED if fits else Status.CONTRADICTED,
            code="connectors_ok" if fits else "connectors_mismatch",
            params={"seen": str(count), "expected": str(wanted)},
        )

    # ------------------------------------------------------------------ enums, bits, settings

    def _raws(self, point: Point) -> list[int]:
        raws = [raw_int(point, self.words(point, s)) for s in self.samples]
        return [r for r in raws if r is not None]

    def _enum(self, point: Point) -> Judged:
        assert point.values is not None
        raws = self._raws(point)
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

    def _bits(self, point: Point) -> Judged:
        assert point.bits is not None
        raws = self._raws(point)
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

    def _setting(self, point: Point, alt: Alt) -> Judged:
        assert point.write is not None
        ok = bad = 0
        seen: list[float] = []
        ceiling: int | None = None
        for sample in self.samples:
            value = numeric(point, self.words(point, sample), alt)
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

    def _range(self, point: Point, alt: Alt) -> Judged:
        bounds = _unit_range(point, self.limit_max, self.connector_count)
        assert bounds is not None
        low, high = bounds
        skip_zero = point.unit not in UNIT_RANGES  # 0 A, 0 W: nothing to compare
        values = [v for v in self.series(point, alt) if v is not None]
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

    # ------------------------------------------------------------------ the clock

    def clock(self, date: Point, time: Point) -> None:
        plain = self._clock(date, time, SAME, SAME)
        if plain.status is Status.CONTRADICTED and plain.code == "clock_invalid":
            for alt_date, alt_time in ((True, False), (False, True), (True, True)):
                other = self._clock(
                    date,
                    time,
                    Alt(code="swapped", swap=True) if alt_date else SAME,
                    Alt(code="swapped", swap=True) if alt_time else SAME,
                )
                if other.status is Status.CONFIRMED or other.code == "clock_offset":
                    swapped = [p for p, s in ((date, alt_date), (time, alt_time)) if s]
                    self.add(
                        Kind.CLOCK,
                        [date, time],
                        Judged(
                            status=Status.CONTRADICTED,
                            code="swapped",
                            params={
                                **plain.params,
                                "expected": other.params.get("seen", "?"),
                                "swapped": ", ".join(p.id for p in swapped),
                            },
                        ),
                    )
                    return
        self.add(Kind.CLOCK, [date, time], plain)

    def _clock(self, date: Point, time: Point, alt_date: Alt, alt_time: Alt) -> Judged:
        readings: list[tuple[Sample, dt.datetime]] = []
        raw_seen = ""
        read = 0
        for sample in self.samples:
            d = raw_int(date, self.words(date, sample), alt_date)
            t = raw_int(time, self.words(time, sample), alt_time)
            if d is None or t is None:
                continue
            read += 1
            raw_seen = raw_seen or f"{d}, {t}"
            when = box_clock(d, t)
            if when is not None:
                readings.append((sample, when))
        if read == 0:
            return Judged(status=Status.NOT_OBSERVED, code="not_read")
        if len(readings) * 2 <= read:
            return Judged(
                status=Status.CONTRADICTED, code="clock_invalid", params={"seen": raw_seen}
            )
        offsets = [(when - _local(s.host)).total_seconds() for s, when in readings]
        offset = statistics.median(offsets)
        first_sample, first = readings[0]
        last_sample, last = readings[-1]
        params = {
            "seen": first.isoformat(sep=" "),
            "expected": _local(first_sample.host).isoformat(sep=" ", timespec="seconds"),
            "seconds": str(round(offset)),
        }
        if abs(offset) > CLOCK_SLACK:
            hours = round(offset / 3600)
            if hours and abs(offset - hours * 3600) <= CLOCK_SLACK:
                return Judged(
                    status=Status.CONTRADICTED,
                    code="clock_offset",
                    params={**params, "hours": f"{hours:+d}"},
                )
            return Judged(status=Status.CONTRADICTED, code="clock_off", params=params)
        host_span = (last_sample.host - first_sample.host).total_seconds()
        box_span = (last - first).total_seconds()
        slack = CLOCK_RATE_SLACK[0] + CLOCK_RATE_SLACK[1] * host_span
        if host_span >= CLOCK_MIN_SPAN and abs(box_span - host_span) > slack:
            return Judged(
                status=Status.CONTRADICTED,
                code="clock_stopped",
                params={**params, "seen": fmt(box_span, "s"), "expected": fmt(host_span, "s")},
            )
        return Judged(status=Status.CONFIRMED, code="clock_ok", params=params)

    # ------------------------------------------------------------------ electrical

    def _phase_voltages(self, group: Group, phase: int) -> list[Point]:
        """The voltage of a phase: the group's own, else the connector's, else every connector's."""
        if phase in group.voltages:
            return [group.voltages[phase]]
        plain = [g for g in self.plan.groups if g.prefix == "" and phase in g.voltages]
        same = [g.voltages[phase] for g in plain if g.connector == group.connector]
        if same:
            return same
        if group.connector is None:
            return [g.voltages[phase] for g in plain]
        return []

    def lone_voltage(self, point: Point) -> None:
        """A voltage without currents beside it: only its range is judged."""
        self.add(
            Kind.VOLTAGE, [point], with_hints(point, lambda alt: self._volts(point, alt, None, {}))
        )

    def voltage(self, point: Point, group: Group, phase: int) -> None:
        current = group.currents.get(phase)
        others = {n: v for n, v in group.voltages.items() if n != phase}
        self.add(
            Kind.VOLTAGE,
            [point],
            with_hints(point, lambda alt: self._volts(point, alt, current, others, group)),
        )

    def _volts(
        self,
        point: Point,
        alt: Alt,
        current: Point | None,
        others: Mapping[int, Point],
        group: Group | None = None,
    ) -> Judged:
        low, high = VOLTAGE_RANGE
        volts = self.series(point, alt)
        amps = self.series(current) if current is not None else [None] * len(volts)
        ok = bad = 0
        dead: list[int] = []  # samples where the phase carries current at 0 V
        seen: list[float] = []
        for i, value in enumerate(volts):
            if value is None:
                continue
            seen.append(value)
            if abs(value) < ZERO_VOLTS:
                flowing = amps[i]
                if flowing is not None and flowing >= PHASE_IN_USE:
                    bad += 1
                    dead.append(i)
                continue
            if low <= value <= high:
                ok += 1
            else:
                bad += 1
        params = {
            "seen": span(seen, "V") if seen else "?",
            "expected": f"{fmt(low)}–{fmt(high)} V, or 0 V on an unused phase",
        }
        status = majority(ok, bad)
        if status is None:
            return Judged(
                status=Status.NOT_OBSERVED, code="not_read" if not seen else "zero", params=params
            )
        if status is Status.CONFIRMED:
            return Judged(status=status, code="in_range", params=params)
        if dead and len(dead) * 2 >= bad and current is not None and group is not None:
            phase = next(n for n, p in group.voltages.items() if p is point)
            flowing = max(a for i in dead if (a := amps[i]) is not None)
            params = {**params, "phase": f"L{phase}", "current": fmt(flowing, "A")}
            for other_phase, other in sorted(others.items()):
                other_volts = self.series(other)
                other_amps = (
                    self.series(group.currents[other_phase])
                    if other_phase in group.currents
                    else [None] * len(volts)
                )
                live = [
                    v
                    for i in dead
                    if (v := other_volts[i]) is not None
                    and low <= v <= high
                    and (other_amps[i] or 0.0) < FLOWING_AMPS
                ]
                if len(live) * 2 > len(dead):
                    return Judged(
                        status=status,
                        code="wrong_phase",
                        params={
                            **params,
                            "other": f"L{other_phase}",
                            "voltage": fmt(max(live), "V"),
                        },
                    )
            return Judged(status=status, code="no_voltage", params=params)
        return Judged(status=status, code="out_of_range", params=params)

    def _limit_amps(self, sample: Sample, connector: int | None) -> float | None:
        limits = self.obs.limits
        if connector in limits:
            return limits[connector].observed(sample.values)
        if connector is None and limits:
            total = 0.0
            for limit in limits.values():
                amps = limit.observed(sample.values)
                if amps is None:
                    return None
                total += amps
            return total
        return None

    def current(self, point: Point, group: Group) -> None:
        if not self.obs.limits:
            self.add(Kind.CURRENT, [point], Judged(status=Status.NOT_OBSERVED, code="no_limit"))
            return
        self.add(
            Kind.CURRENT, [point], with_hints(point, lambda alt: self._amps(point, group, alt))
        )

    def _amps(self, point: Point, group: Group, alt: Alt) -> Judged:
        ok = bad = 0
        worst: tuple[float, float] | None = None
        best: tuple[float, float] | None = None
        for sample, amps in zip(self.samples, self.series(point, alt), strict=True):
            if amps is None or amps < FLOWING_AMPS:
                continue
            limit = self._limit_amps(sample, group.connector)
            if limit is None:
                continue
            slack = max(LIMIT_SLACK[0], LIMIT_SLACK[1] * limit)
            # Another reading of the registers fits only near the limit, not merely below it.
            floor = limit / 2 if alt is not SAME else 0.0
            if floor <= amps <= limit + slack:
                ok += 1
                best = (amps, limit) if best is None or amps > best[0] else best
            else:
                bad += 1
                worst = (amps, limit) if worst is None or amps > worst[0] else worst
        status = majority(ok, bad)
        if status is None:
            return Judged(status=Status.NOT_OBSERVED, code="no_current")
        amps, limit = worst if status is Status.CONTRADICTED and worst else best or (0.0, 0.0)
        params = {"seen": fmt(amps, "A"), "expected": fmt(limit, "A")}
        return Judged(
            status=status,
            code="current_ok" if status is Status.CONFIRMED else "above_limit",
            params=params,
        )

    def power(self, point: Point, group: Group, phases: list[int]) -> None:
        parts = [(group.currents[n], self._phase_voltages(group, n)) for n in phases]
        inputs = [p for current, volts in parts for p in (current, *volts)]
        if any(not volts for _, volts in parts):
            self.add(Kind.POWER, [point], Judged(status=Status.NOT_OBSERVED, code="no_check"))
            return
        if any(self.contradicted(p) for p in inputs):
            self.add(
                Kind.POWER, [point], Judged(status=Status.NOT_OBSERVED, code="inputs_contradicted")
            )
            return
        self.add(Kind.POWER, [point], with_hints(point, lambda alt: self._watts(point, parts, alt)))

    def _watts(self, point: Point, parts: list[tuple[Point, list[Point]]], alt: Alt) -> Judged:
        watts = self.series(point, alt)
        series = [
            (self.series(current), [self.series(v) for v in volts]) for current, volts in parts
        ]
        ok = bad = 0
        shown: tuple[float, float] | None = None
        for i, power in enumerate(watts):
            if power is None:
                continue
            total = 0.0
            slack = POWER_SLACK[0] + point.scale
            known = True
            for (current, _), (amps, volts) in zip(parts, series, strict=True):
                a = amps[i]
                vs = [u for v in volts if (u := v[i]) is not None]
                if a is None or not vs:
                    known = False
                    break
                u = sum(vs) / len(vs)
                total += u * a
                slack += u * current.scale
            if not known or (power < NOTHING_FLOWS and total < NOTHING_FLOWS):
                continue
            slack += POWER_SLACK[1] * max(power, total)
            good = abs(power - total) <= slack
            ok, bad = (ok + 1, bad) if good else (ok, bad + 1)
            if shown is None or not good:
                shown = (power, total)
        status = majority(ok, bad)
        if status is None or shown is None:
            return Judged(status=Status.NOT_OBSERVED, code="no_power")
        params = {"seen": fmt(shown[0], "W"), "expected": fmt(shown[1], "W")}
        return Judged(
            status=status,
            code="power_ok" if status is Status.CONFIRMED else "power_mismatch",
            params=params,
        )

    # ------------------------------------------------------------------ counters

    def energy(self, point: Point, power: Point | None) -> None:
        if power is not None and self.contradicted(power):
            self.add(
                Kind.ENERGY, [point], Judged(status=Status.NOT_OBSERVED, code="inputs_contradicted")
            )
            return
        self.add(Kind.ENERGY, [point], with_hints(point, lambda alt: self._kwh(point, power, alt)))

    def _restart(self, point: Point, before: Sample, after: Sample, value: float) -> bool:
        """Whether a counter going down is a restart the map allows (not a contradiction)."""
        if point.key in self.plan.regmap.behaviour.reboot_counters:
            return True
        if "session" not in point.key:
            return False
        arrived = (
            self.value(before, "vehicle_connected", point.connector) is False
            and self.value(after, "vehicle_connected", point.connector) is True
        )
        return arrived or abs(value) <= point.scale * 1.01

    def _kwh(self, point: Point, power: Point | None, alt: Alt) -> Judged:
        step = point.scale / (1000 if point.unit == "Wh" else 1)
        energy = self.series(point, alt)
        watts = self.series(power) if power is not None else [None] * len(energy)
        rise = integral = 0.0
        judged_pairs = 0
        for i in range(len(self.samples) - 1):
            e0, e1 = energy[i], energy[i + 1]
            if e0 is None or e1 is None:
                continue
            if e1 < e0 - step / 2:
                if self._restart(point, self.samples[i], self.samples[i + 1], e1):
                    continue
                return Judged(
                    status=Status.CONTRADICTED,
                    code="decreased",
                    params={"seen": fmt(e0, "kWh"), "expected": fmt(e1, "kWh")},
                )
            if power is None:
                rise += e1 - e0
                judged_pairs += 1
                continue
            p0, p1 = watts[i], watts[i + 1]
            if p0 is None or p1 is None:
                continue
            seconds = self.samples[i + 1].at - self.samples[i].at
            rise += e1 - e0
            integral += (p0 + p1) / 2 * seconds / 3_600_000
            judged_pairs += 1
        if judged_pairs == 0:
            return Judged(status=Status.NOT_OBSERVED, code="not_read")
        params = {
            "seen": fmt(rise, "kWh"),
            "expected": fmt(integral, "kWh"),
            "step": fmt(step, "kWh"),
        }
        if power is None:
            if rise > step / 2:
                return Judged(status=Status.CONFIRMED, code="energy_rose", params=params)
            return Judged(status=Status.NOT_OBSERVED, code="not_charging", params=params)
        if integral < step / 10:
            if rise > step * 1.5:
                return Judged(
                    status=Status.CONTRADICTED, code="energy_without_power", params=params
                )
            return Judged(status=Status.NOT_OBSERVED, code="no_power", params=params)
        if integral < ENERGY_STEPS * step:
            return Judged(status=Status.NOT_OBSERVED, code="too_little_energy", params=params)
        good = abs(rise - integral) <= ENERGY_SLACK * integral + step * 1.01
        return Judged(
            status=Status.CONFIRMED if good else Status.CONTRADICTED,
            code="energy_ok" if good else "energy_mismatch",
            params=params,
        )

    def _duration(self, point: Point, alt: Alt) -> Judged:
        values = self.series(point, alt)
        ok = bad = 0
        rose = charged = 0.0
        step = max(point.scale, 1.0)
        for i in range(len(self.samples) - 1):
            before, after = self.samples[i], self.samples[i + 1]
            v0, v1 = values[i], values[i + 1]
            if v0 is None or v1 is None:
                continue
            if not (
                self.value(before, "charging", point.connector) is True
                and self.value(after, "charging", point.connector) is True
            ):
                continue
            seconds = after.at - before.at
            if v1 < v0 and "session" in point.key and abs(v1) <= seconds + step:
                continue  # a new session started
            rose += v1 - v0
            charged += seconds
            slack = DURATION_SLACK[0] * step + DURATION_SLACK[1] * seconds
            ok, bad = (ok + 1, bad) if abs((v1 - v0) - seconds) <= slack else (ok, bad + 1)
        status = majority(ok, bad)
        params = {"seen": fmt(rose, "s"), "expected": fmt(charged, "s")}
        if status is None:
            return Judged(status=Status.NOT_OBSERVED, code="not_charging")
        return Judged(
            status=status,
            code="duration_ok" if status is Status.CONFIRMED else "duration_mismatch",
            params=params,
        )

    # ------------------------------------------------------------------ keepalive

    def keepalive(self) -> None:
        spec = self.plan.regmap.behaviour.keepalive
        if spec is None:
            return
        ids = self.plan.by_id()
        points = [
            ids[p] for p, kinds in self.plan.kinds.items() if Kind.KEEPALIVE in kinds and p in ids
        ]
        if not points:
            return
        timeout = self.obs.keepalive_timeout
        samples = self.samples
        if not samples:
            window = 0.0
        else:
            started = samples[0].at if self.obs.started is None else self.obs.started
            window = samples[-1].at - started
        params = {"seconds": str(round(window)), "timeout": fmt(timeout) if timeout else "0"}
        if not samples:
            judged = Judged(status=Status.NOT_OBSERVED, code="not_read", params=params)
        elif not timeout:
            judged = Judged(status=Status.NOT_OBSERVED, code="timeout_off", params=params)
        elif window <= timeout:
            judged = Judged(status=Status.NOT_OBSERVED, code="timeout_long", params=params)
        else:
            judged = self._fallback_sign(params) or Judged(
                status=Status.CONFIRMED, code="keepalive_ok", params=params
            )
        self.add(Kind.KEEPALIVE, points, judged)

    def _fallback_sign(self, params: Mapping[str, str]) -> Judged | None:
        first, last = self.samples[0], self.samples[-1]
        connects = first.connects if self.obs.start_connects is None else self.obs.start_connects
        fallbacks = (
            first.fallbacks if self.obs.start_fallbacks is None else self.obs.start_fallbacks
        )
        if (count := last.connects - connects) > 0:
            return Judged(
                status=Status.CONTRADICTED,
                code="reconnected",
                params={**params, "count": str(count)},
            )
        if (count := last.fallbacks - fallbacks) > 0:
            reasons = last.fallback_reasons[-count:]
            return Judged(
                status=Status.CONTRADICTED,
                code="reapplied",
                params={**params, "count": str(count), "reason": "; ".join(reasons)},
            )
        if any(s.lapsed for s in self.samples):
            return Judged(status=Status.CONTRADICTED, code="lapsed", params=params)
        connectors = self.obs.connectors
        if any(self.value(s, "status", c) == "faulted" for s in self.samples for c in connectors):
            return Judged(status=Status.CONTRADICTED, code="faulted", params=params)
        return None


def _local(when: dt.datetime) -> dt.datetime:
    """The host's wall-clock time, as a box shows its own (naive)."""
    return when.replace(tzinfo=None)


def _version(version: tuple[int, ...]) -> str:
    return ".".join(str(part) for part in version)


def _documented_versions(regmap: RegisterMap) -> list[tuple[int, ...]]:
    versions = {v.layout for v in regmap.variants.values() if v.layout is not None}
    for point in regmap.points:
        versions |= {m for m in point.variants.values() if m is not None}
    return sorted(versions)


def _list(items: Sequence[int]) -> str:
    """0, 1, 2, 3 -> '0–3'; 0, 1, 5 -> '0, 1, 5'."""
    if items and list(items) == list(range(items[0], items[-1] + 1)) and len(items) > 2:
        return f"{items[0]}–{items[-1]}"
    return ", ".join(map(str, items))


def point_status(findings: Iterable[Finding], point_id: str) -> Status | None:
    """Contradicted if any finding says so, confirmed if any confirms; None: no finding."""
    statuses = {f.status for f in findings if point_id in f.points}
    if not statuses:
        return None
    if Status.CONTRADICTED in statuses:
        return Status.CONTRADICTED
    if Status.CONFIRMED in statuses:
        return Status.CONFIRMED
    return Status.NOT_OBSERVED
