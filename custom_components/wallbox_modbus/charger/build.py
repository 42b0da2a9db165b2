"""From a map's behaviour sections and the points a box serves to its capabilities.

Built once at start and again after the identity is read (the variant and
layout decide which points the box has).  Objects that carry state (a limit's
held-back write, an event watch's baseline) are kept from the previous build
when their point is unchanged.  Keepalives are made by the ``Charger``, which
owns what they rewrite.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from .capabilities import (
    Command,
    CurrentLimit,
    EventWatch,
    PhaseSwitch,
    RemoteLock,
    Setting,
    Toggle,
)
from .reader import PointReader
from .registers import Point, Tier
from .snapshot import pid
from .spec import Behaviour


@dataclass(slots=True)
class Capabilities:
    """What one box can do; a capability it lacks is absent (None, or no key)."""

    limits: dict[int | None, CurrentLimit] = field(default_factory=dict)
    phase_switch: PhaseSwitch | None = None
    remote_lock: RemoteLock | None = None
    settings: dict[str, Setting] = field(default_factory=dict)
    commands: dict[str, Command] = field(default_factory=dict)
    toggles: dict[str, Toggle] = field(default_factory=dict)
    watches: list[EventWatch] = field(default_factory=list)


def value_id(reader: PointReader, key: str, connector: int | None) -> str | None:
    """The id of a value the box reports, on a connector or the box itself (None: none)."""
    if reader.serves(key, connector):
        return pid(key, connector)
    if connector is not None and reader.serves(key):
        return key
    return None


def build_capabilities(
    behaviour: Behaviour,
    reader: PointReader,
    clock: Callable[[], float],
    previous: Capabilities,
) -> Capabilities:
    """The capabilities the map describes and the box's points allow."""
    points = {p.id: p for p in reader.points}
    built = Capabilities()
    owned: set[str] = set()  # points a capability writes: not offered as plain settings
    if behaviour.limit is not None:
        old = {limit.point.id: limit for limit in previous.limits.values()}
        for point in points.values():
            if point.key == behaviour.limit.point and point.writable:
                built.limits[point.connector] = old.get(point.id) or CurrentLimit(
                    behaviour.limit, point, reader, clock
                )
                owned.add(point.id)
    switch = behaviour.phase_switch
    if switch is not None and switch.point in points and switch.state in points:
        built.phase_switch = PhaseSwitch(
            switch, points[switch.point], points[switch.state], reader, clock
        )
        owned.add(switch.point)
    lock = behaviour.remote_lock
    if lock is not None and lock.point in points:
        built.remote_lock = RemoteLock(lock, points[lock.point], reader)
        owned.add(lock.point)
    for command in behaviour.commands:
        for point in points.values():
            if point.key == command.point:
                built.commands[pid(command.key, point.connector)] = Command(command, point, reader)
                owned.add(point.id)
    for toggle in behaviour.toggles:
        for point in points.values():
            state = value_id(reader, toggle.state, point.connector)
            if point.key == toggle.point and state is not None:
                built.toggles[pid(toggle.key, point.connector)] = Toggle(
                    toggle, point, state, reader
                )
                owned.add(point.id)
    built.watches = _watches(behaviour, reader, previous.watches)
    if behaviour.keepalive is not None and behaviour.keepalive.point is not None:
        owned.add(behaviour.keepalive.point)
    built.settings = {p.id: Setting(p, reader) for p in _settings(points.values(), owned)}
    return built


def _settings(points: Iterable[Point], owned: set[str]) -> list[Point]:
    """Writable points that are read and that no capability writes."""
    return [
        p
        for p in points
        if p.writable and p.readable and p.tier is not Tier.NONE and p.id not in owned
    ]


def _watches(
    behaviour: Behaviour, reader: PointReader, previous: list[EventWatch]
) -> list[EventWatch]:
    """An event watch per event and connector where the box reports what it watches."""
    old = {(w.key, w.connector): w for w in previous}
    watches: list[EventWatch] = []
    for event in behaviour.events:
        for connector in reader.connectors:
            keys = {*event.when, *event.data.values()}
            sources = {k: v for k in keys if (v := value_id(reader, k, connector)) is not None}
            if not all(k in sources for k in event.when):
                continue
            kept = old.get((event.key, connector))
            if kept is None or kept.sources != sources:
                kept = EventWatch(event, connector, sources)
            watches.append(kept)
    return watches
