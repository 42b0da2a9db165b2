"""The plan of a verification run: which checks apply to which point of a box.

Nothing here names a family or a register number, so a user's map gets the
same checks.  The electrical checks pair points by the catalog's words
(``voltage_l1``, ``current_l1``, ``power_l1``, ``power``, ``energy_…``) and a
shared prefix (``mid_``, ``station_``), on the same connector.  The plan is the
same for a run and for a listing of the checks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from .check_model import Group, Kind, Plan
from .check_readings import NUMERIC_TYPES, TEXT_TYPES, unit_range
from .registers import Point, RegisterMap, Tier
from .snapshot import pid

_PHASED = re.compile(r"^(?P<pre>(?:[a-z0-9]+_)*?)(?P<what>voltage|current|power)_l(?P<n>[1-9])$")
_TOTAL = re.compile(r"^(?P<pre>(?:[a-z0-9]+_)*?)power$")
_ENERGY = re.compile(r"^(?P<pre>(?:[a-z0-9]+_)*?)energy(?P<rest>(?:_[a-z0-9]+)*)$")


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
            elif unit_range(point, limit_max, 1) is not None:
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
