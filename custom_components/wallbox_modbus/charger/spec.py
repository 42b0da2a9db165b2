"""What a box can do, as data: the behaviour sections of a register map.

Beside its points a map says, in its own sections:

- ``identity``: which points give the serial number, model and firmware, the
  layout version and the number of connectors, and which must answer;
- ``derive``: values computed from points (the catalog status, whether a
  vehicle is plugged in or charging, the box's clock);
- ``limit``: the current limit, in whatever the register holds (A, 0.1 A, mA,
  or power with a phase count), its range, step, pause value and quirks;
- ``keepalive``: what keeps the box from falling back (a write to an alive
  register, any traffic within a watchdog, or the limits written again);
- ``phase_switch``, ``remote_lock``: optional controls;
- ``commands``: named values of write-only command registers, sent only when
  the user asks (a button each);
- ``toggles``: a state the box reports (a bit or a flag) that is switched by
  writing one command value for on and another for off;
- ``events``: values whose change the box announces (a card presented), with
  the values the announcement carries;
- ``reboot``: a counter that only goes down when the box restarts.

Each section builds a capability of the charger; a section that is absent is
a capability the box lacks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from .mapcheck import Check, shown

if TYPE_CHECKING:
    from .registers import Point

# The catalog's status vocabulary (OCPP 1.6 ChargePointStatus).
STATUSES = (
    "available",
    "preparing",
    "charging",
    "suspended_evse",
    "suspended_ev",
    "finishing",
    "reserved",
    "unavailable",
    "faulted",
)


@dataclass(frozen=True, kw_only=True)
class FirmwareSource:
    """A point that may name the firmware, and how to show it."""

    point: str
    format: str = "{}"


@dataclass(frozen=True, kw_only=True)
class IdentitySpec:
    serial: str | None = None
    manufacturer: str | None = None  # a point; else the map's manufacturer
    model: str | None = None  # a point; else the variant's name
    firmware: tuple[FirmwareSource, ...] = ()
    layout: str | None = None  # a version point deciding which registers exist
    connectors: str | None = None  # a point that must equal the variant's connector count
    required: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class DeriveRule:
    """One derived value: mapped from a point, membership of a point's value, or a clock."""

    key: str
    source: str | None = None
    mapping: Mapping[Any, Any] | None = None
    members: tuple[Any, ...] | None = None
    date: str | None = None
    time: str | None = None

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(k for k in (self.source, self.date, self.time) if k is not None)


@dataclass(frozen=True, kw_only=True)
class PowerSpec:
    """A limit told as power: amperes x phases x voltage, rounded up to the register's step."""

    voltage: float = 230.0
    phases: int = 3
    learn_from: tuple[str, ...] = ()  # per-phase currents that tell how many phases are in use
    in_use: float = 1.0  # a phase carrying at least this many amperes is in use


@dataclass(frozen=True, kw_only=True)
class LimitSpec:
    point: str
    min: float  # amperes
    max: float
    min_from: tuple[str, ...] = ()
    max_from: tuple[str, ...] = ()
    step: float = 1.0
    pause: int = 0  # raw value that pauses
    hold: float = 0.0  # seconds a written value must stay before the next write
    resets_when_unplugged: float | None = None  # the box puts this back with no vehicle
    power: PowerSpec | None = None
    why_max: str = ""


KeepaliveKind = Literal["write", "traffic", "rewrite"]


@dataclass(frozen=True, kw_only=True)
class KeepaliveSpec:
    kind: KeepaliveKind
    point: str | None = None  # write: the alive register
    value: int = 1  # write: what goes into it
    timeout_point: str | None = None  # the box's timeout, in seconds
    timeout: float | None = None  # a fixed timeout, or the one before the point is read
    every: float | None = None  # a fixed period instead of a part of the timeout
    per_timeout: int = 3  # keepalives within one timeout (at least 2: one may be lost)


@dataclass(frozen=True, kw_only=True)
class PhaseSwitchSpec:
    point: str
    state: str
    switching: Any = "switching"
    block: float = 0.0  # seconds the box refuses another switch


@dataclass(frozen=True, kw_only=True)
class LockSpec:
    point: str
    locked: Any = "locked"
    unlocked: Any = "unlocked"


@dataclass(frozen=True, kw_only=True)
class CommandSpec:
    """One command: a value written to a command register when the user asks."""

    key: str
    point: str
    value: Any  # the point's named value (or a raw number)


@dataclass(frozen=True, kw_only=True)
class ToggleSpec:
    """A state read from the box, switched by writing one command for on, another for off."""

    key: str
    state: str  # a bit, or a point read as true / false: true means on
    point: str  # the command register
    on: Any
    off: Any


@dataclass(frozen=True, kw_only=True)
class EventSpec:
    """The box announces something when one of ``when`` changes, carrying ``data``."""

    key: str
    when: tuple[str, ...]
    data: Mapping[str, str]  # name in the announcement -> point


@dataclass(frozen=True, kw_only=True)
class Behaviour:
    """Every behaviour section of a map."""

    identity: IdentitySpec = field(default_factory=IdentitySpec)
    derive: tuple[DeriveRule, ...] = ()
    limit: LimitSpec | None = None
    keepalive: KeepaliveSpec | None = None
    phase_switch: PhaseSwitchSpec | None = None
    remote_lock: LockSpec | None = None
    commands: tuple[CommandSpec, ...] = ()
    toggles: tuple[ToggleSpec, ...] = ()
    events: tuple[EventSpec, ...] = ()
    reboot_counters: tuple[str, ...] = ()
    strategy: str | None = None


class _Refs:
    """Point references of a map, checked against its points."""

    def __init__(self, check: Check, points: Sequence[Point]) -> None:
        self.check = check
        self.points = points
        self.keys = {p.key for p in points} | {b for p in points for b in (p.bits or {})}

    def any(self, value: Any, where: str, name: str) -> str:
        key = self.check.key(value, where, name)
        self.check.expect(key in self.keys, where, "unknown_point", field=name, value=key)
        return key

    def readable(self, value: Any, where: str, name: str) -> str:
        key = self.any(value, where, name)
        self.check.expect(
            any(p.readable for p in self.points if p.key == key)
            or key not in {p.key for p in self.points},
            where,
            "not_readable",
            field=name,
            value=key,
        )
        return key

    def writable(self, value: Any, where: str, name: str) -> str:
        key = self.any(value, where, name)
        self.check.expect(
            any(p.writable for p in self.points if p.key == key),
            where,
            "not_writable",
            field=name,
            value=key,
        )
        return key

    def many(self, value: Any, where: str, name: str) -> tuple[str, ...]:
        items = [value] if isinstance(value, str) else self.check.items(value, where, name)
        return tuple(self.readable(item, where, name) for item in items)


def _identity(raw: Any, refs: _Refs) -> IdentitySpec:
    check, where = refs.check, "identity"
    data = check.obj(raw, where, "identity")
    check.only(
        data,
        {"serial", "manufacturer", "model", "firmware", "layout", "connectors", "required"},
        where,
    )

    def ref(name: str) -> str | None:
        return None if data.get(name) is None else refs.readable(data[name], where, name)

    firmware: list[FirmwareSource] = []
    raw_fw = data.get("firmware", [])
    for item in (
        [raw_fw] if isinstance(raw_fw, (str, dict)) else check.items(raw_fw, where, "firmware")
    ):
        if isinstance(item, str):
            firmware.append(FirmwareSource(point=refs.readable(item, where, "firmware")))
        else:
            entry = check.obj(item, where, "firmware")
            fmt = str(entry.get("format", "{}"))
            check.expect("{}" in fmt, where, "not_text", field="firmware.format", value=fmt)
            firmware.append(
                FirmwareSource(
                    point=refs.readable(entry.get("point"), where, "firmware.point"), format=fmt
                )
            )
    return IdentitySpec(
        serial=ref("serial"),
        manufacturer=ref("manufacturer"),
        model=ref("model"),
        firmware=tuple(firmware),
        layout=ref("layout"),
        connectors=ref("connectors"),
        required=refs.many(data.get("required", []), where, "required"),
    )


def _derive(raw: Any, refs: _Refs) -> tuple[DeriveRule, ...]:
    check = refs.check
    rules: list[DeriveRule] = []
    for key, spec_raw in check.obj(raw, "derive", "derive").items():
        where = f"derive `{key}`"
        check.key(key, where, "derive")
        spec = check.obj(spec_raw, where, key)
        check.only(spec, {"from", "map", "in", "clock"}, where)
        if "clock" in spec:
            clock = check.obj(spec["clock"], where, "clock")
            rules.append(
                DeriveRule(
                    key=key,
                    date=refs.readable(clock.get("date"), where, "clock.date"),
                    time=refs.readable(clock.get("time"), where, "clock.time"),
                )
            )
            continue
        source = refs.readable(check.need(spec, "from", where), where, "from")
        if "map" in spec:
            mapping = dict(check.obj(spec["map"], where, "map"))
            if key == "status":
                for target in mapping.values():
                    check.expect(target in STATUSES, where, "unknown_status", field="map",
                                 value=target)  # fmt: skip
            rules.append(DeriveRule(key=key, source=source, mapping=mapping))
        else:
            members = check.items(check.need(spec, "in", where), where, "in")
            rules.append(DeriveRule(key=key, source=source, members=tuple(members)))
    return tuple(rules)


def _limit(raw: Any, refs: _Refs) -> LimitSpec:
    check, where = refs.check, "limit"
    data = check.obj(raw, where, "limit")
    check.only(
        data,
        {"point", "min", "max", "min_from", "max_from", "step", "pause", "hold",
         "resets_when_unplugged", "power", "why_max"},
        where,
    )  # fmt: skip
    point = refs.writable(check.need(data, "point", where), where, "point")
    low = check.number(check.need(data, "min", where), where, "min", positive=True)
    high = check.number(check.need(data, "max", where), where, "max", positive=True)
    check.expect(low <= high, where, "empty_range", field="min..max", value=f"{low:g}..{high:g}")
    power = None
    if "power" in data:
        spec = check.obj(data["power"], where, "power")
        check.only(spec, {"voltage", "phases", "learn_from", "in_use"}, where)
        power = PowerSpec(
            voltage=check.number(spec.get("voltage", 230), where, "power.voltage", positive=True),
            phases=check.integer(spec.get("phases", 3), where, "power.phases", 1, 3),
            learn_from=refs.many(spec.get("learn_from", []), where, "power.learn_from"),
            in_use=check.number(spec.get("in_use", 1.0), where, "power.in_use", positive=True),
        )
    reset = data.get("resets_when_unplugged")
    return LimitSpec(
        point=point,
        min=low,
        max=high,
        min_from=refs.many(data.get("min_from", []), where, "min_from"),
        max_from=refs.many(data.get("max_from", []), where, "max_from"),
        step=check.number(data.get("step", 1), where, "step", positive=True),
        pause=check.integer(data.get("pause", 0), where, "pause"),
        hold=check.number(data.get("hold", 0), where, "hold"),
        resets_when_unplugged=None
        if reset is None
        else check.number(reset, where, "resets_when_unplugged"),
        power=power,
        why_max=str(data.get("why_max", "")),
    )


def _keepalive(raw: Any, refs: _Refs) -> KeepaliveSpec:
    check, where = refs.check, "keepalive"
    data = check.obj(raw, where, "keepalive")
    check.only(
        data, {"kind", "point", "value", "timeout", "default", "every", "per_timeout"}, where
    )
    kind = check.choice(data.get("kind"), ("write", "traffic", "rewrite"), where, "kind")
    timeout_point: str | None = None
    timeout: float | None = None
    raw_timeout = data.get("timeout")
    if isinstance(raw_timeout, str):
        timeout_point = refs.readable(raw_timeout, where, "timeout")
        if "default" in data:
            timeout = check.number(data["default"], where, "default", positive=True)
    elif raw_timeout is not None:
        timeout = check.number(raw_timeout, where, "timeout", positive=True)
    every = (
        None
        if data.get("every") is None
        else check.number(data["every"], where, "every", positive=True)
    )
    check.expect(every is not None or timeout_point is not None or timeout is not None, where,
                 "missing", field="timeout")  # fmt: skip
    per_timeout = check.integer(data.get("per_timeout", 3), where, "per_timeout", 2, 100)
    point = None
    if kind == "write":
        point = refs.writable(check.need(data, "point", where), where, "point")
    return KeepaliveSpec(
        kind=kind,  # type: ignore[arg-type]
        point=point,
        value=check.integer(data.get("value", 1), where, "value"),
        timeout_point=timeout_point,
        timeout=timeout,
        every=every,
        per_timeout=per_timeout,
    )


def _phase_switch(raw: Any, refs: _Refs) -> PhaseSwitchSpec:
    check, where = refs.check, "phase_switch"
    data = check.obj(raw, where, "phase_switch")
    check.only(data, {"point", "state", "switching", "block"}, where)
    return PhaseSwitchSpec(
        point=refs.writable(check.need(data, "point", where), where, "point"),
        state=refs.readable(check.need(data, "state", where), where, "state"),
        switching=data.get("switching", "switching"),
        block=check.number(data.get("block", 0), where, "block"),
    )


def _remote_lock(raw: Any, refs: _Refs) -> LockSpec:
    check, where = refs.check, "remote_lock"
    data = check.obj(raw, where, "remote_lock")
    check.only(data, {"point", "locked", "unlocked"}, where)
    return LockSpec(
        point=refs.writable(check.need(data, "point", where), where, "point"),
        locked=data.get("locked", "locked"),
        unlocked=data.get("unlocked", "unlocked"),
    )


def _command_value(refs: _Refs, key: str, value: Any, where: str, name: str) -> Any:
    """A command value (a named value of the point, or a raw number) every such point takes."""
    check = refs.check
    for point in (p for p in refs.points if p.key == key):
        assert point.write is not None
        raw = value
        if point.values is not None and not isinstance(value, int):
            raw = next((r for r, v in point.values.items() if v == value), None)
        check.expect(
            isinstance(raw, int) and not isinstance(raw, bool) and point.write.allows(raw),
            where,
            "not_a_command",
            field=name,
            value=shown(value),
            allowed=point.id,
        )
    return value


def _commands(raw: Any, refs: _Refs) -> tuple[CommandSpec, ...]:
    check = refs.check
    out: list[CommandSpec] = []
    for key, spec_raw in check.obj(raw, "commands", "commands").items():
        where = f"command `{key}`"
        check.key(key, where, "commands")
        spec = check.obj(spec_raw, where, key)
        check.only(spec, {"point", "value", "doc"}, where)
        point = refs.writable(check.need(spec, "point", where), where, "point")
        value = _command_value(refs, point, check.need(spec, "value", where), where, "value")
        out.append(CommandSpec(key=key, point=point, value=value))
    return tuple(out)


def _toggles(raw: Any, refs: _Refs) -> tuple[ToggleSpec, ...]:
    check = refs.check
    out: list[ToggleSpec] = []
    for key, spec_raw in check.obj(raw, "toggles", "toggles").items():
        where = f"toggle `{key}`"
        check.key(key, where, "toggles")
        spec = check.obj(spec_raw, where, key)
        check.only(spec, {"state", "point", "on", "off", "doc"}, where)
        point = refs.writable(check.need(spec, "point", where), where, "point")
        out.append(
            ToggleSpec(
                key=key,
                state=refs.readable(check.need(spec, "state", where), where, "state"),
                point=point,
                on=_command_value(refs, point, check.need(spec, "on", where), where, "on"),
                off=_command_value(refs, point, check.need(spec, "off", where), where, "off"),
            )
        )
    return tuple(out)


def _events(raw: Any, refs: _Refs) -> tuple[EventSpec, ...]:
    check = refs.check
    out: list[EventSpec] = []
    for key, spec_raw in check.obj(raw, "events", "events").items():
        where = f"event `{key}`"
        check.key(key, where, "events")
        spec = check.obj(spec_raw, where, key)
        check.only(spec, {"when", "data", "doc"}, where)
        when = refs.many(check.need(spec, "when", where), where, "when")
        check.expect(bool(when), where, "missing", field="when")
        data = {
            check.key(name, where, "data"): refs.readable(point, where, f"data.{name}")
            for name, point in check.obj(spec.get("data", {}), where, "data").items()
        }
        out.append(EventSpec(key=key, when=when, data=data))
    return tuple(out)


def parse_behaviour(top: Mapping[str, Any], check: Check, points: Sequence[Point]) -> Behaviour:
    """Build the behaviour sections of a map (its points already parsed)."""
    refs = _Refs(check, points)
    reboot: Iterable[str] = ()
    if "reboot" in top:
        data = check.obj(top["reboot"], "reboot", "reboot")
        check.only(data, {"counter"}, "reboot")
        reboot = refs.many(check.need(data, "counter", "reboot"), "reboot", "counter")
    strategy = top.get("strategy")
    return Behaviour(
        identity=_identity(top["identity"], refs) if "identity" in top else IdentitySpec(),
        derive=_derive(top["derive"], refs) if "derive" in top else (),
        limit=_limit(top["limit"], refs) if "limit" in top else None,
        keepalive=_keepalive(top["keepalive"], refs) if "keepalive" in top else None,
        phase_switch=_phase_switch(top["phase_switch"], refs) if "phase_switch" in top else None,
        remote_lock=_remote_lock(top["remote_lock"], refs) if "remote_lock" in top else None,
        commands=_commands(top["commands"], refs) if "commands" in top else (),
        toggles=_toggles(top["toggles"], refs) if "toggles" in top else (),
        events=_events(top["events"], refs) if "events" in top else (),
        reboot_counters=tuple(reboot),
        strategy=None if strategy is None else check.key(strategy, "map", "strategy"),
    )
