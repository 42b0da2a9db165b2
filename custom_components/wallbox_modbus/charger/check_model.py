"""The data of a verification run: what a check is, what it found, what a run saw.

The kinds of check and what each needs to see something; a finding and a
judgement; a refresh's sample; another reading of a point's registers; the
plan (which checks apply to which point) and the observation it is judged on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from .capabilities import CurrentLimit
from .check_messages import message
from .registers import Point, RegisterMap


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


@dataclass(frozen=True, kw_only=True)
class Alt:
    """Another reading of the same registers: words swapped, or scaled."""

    code: str  # the finding's code when this reading fits
    swap: bool = False
    factor: float = 1.0  # multiplies the value
    shown: str = ""  # "10" in "looks 10x too large"


SAME = Alt(code="")


@dataclass(frozen=True, kw_only=True)
class Judged:
    status: Status
    code: str
    params: Mapping[str, str] = field(default_factory=dict)


@dataclass(kw_only=True)
class Group:
    """Measurements of one connector (None: the box or station) with one prefix."""

    connector: int | None
    prefix: str
    currents: dict[int, Point] = field(default_factory=dict)
    voltages: dict[int, Point] = field(default_factory=dict)
    powers: dict[int, Point] = field(default_factory=dict)
    power: Point | None = None


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
