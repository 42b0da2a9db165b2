"""What a box can do, in the user's words: a current limit, a phase switch, a lock, settings,
commands, toggles, and the events it announces.

Each capability is built from a map section and the points it names; a box
that lacks the section lacks the capability (it is absent, not a stub).  A
capability reads only the values it is given (a snapshot's), checks every
value against the map before anything goes on the wire, and writes through
the reader.  The user's wishes are kept by ``desired.DesiredState``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from .codec import raw_of
from .errors import BusyError, InvalidValueError
from .reader import PointReader
from .registers import Point, WriteSpec
from .snapshot import ChargerEvent, Desired, Snapshot, pid
from .spec import CommandSpec, EventSpec, LimitSpec, LockSpec, PhaseSwitchSpec, ToggleSpec

# A value is on a register's step when it is a whole number of steps up to float noise
# (0.1 A x 61 = 6.1000000000000005); 0.001 s on a 1 s register is not, nor 6.001 A.
ON_STEP = 1e-6


def ceiling_of(point: Point, values: Mapping[str, Any]) -> int | None:
    """The highest raw value another register allows now (None: no such register, or 0)."""
    assert point.write is not None
    source = point.write.max_from
    if source is None:
        return None
    value = values.get(pid(source.point, point.connector), values.get(source.point))
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
        return None
    return math.floor(round(value * source.times, 6))


def _fmt(value: float) -> str:
    return f"{round(value, 6):g}"


class Setting:
    """A writable register, written as it is (scaled) within the map's valid values."""

    def __init__(self, point: Point, reader: PointReader) -> None:
        assert point.write is not None
        self.point = point
        self.write_spec: WriteSpec = point.write
        self._reader = reader

    @property
    def key(self) -> str:
        return self.point.key

    @property
    def connector(self) -> int | None:
        return self.point.connector

    @property
    def step(self) -> float:
        return self.point.scale

    def value(self, snapshot: Snapshot) -> Any:
        return snapshot.values.get(self.point.id)

    def range(self, values: Mapping[str, Any]) -> tuple[float, float]:
        """The lowest and highest value the box takes now, in the point's unit."""
        low, high = self.write_spec.bounds(ceiling_of(self.point, values))
        return low * self.point.scale, high * self.point.scale

    def describe(self, values: Mapping[str, Any]) -> str:
        point = self.point
        if point.values is not None:
            return ", ".join(str(point.values.get(v, v)) for v in self.write_spec.values)
        text = self.write_spec.describe(point.scale, ceiling_of(point, values))
        return f"{text} {point.unit}" if point.unit else text

    def validate(self, value: Any, values: Mapping[str, Any]) -> int:
        """An engineering value -> a raw value the map allows, or InvalidValueError."""
        point = self.point
        try:
            raw = raw_of(point, value)
        except (TypeError, ValueError, OverflowError) as err:
            raise InvalidValueError(point.id, value, self.describe(values)) from err
        if point.values is None and not math.isclose(
            raw * point.scale, float(value), rel_tol=0, abs_tol=point.scale * ON_STEP
        ):
            raise InvalidValueError(point.id, value, self.describe(values))
        if not self.write_spec.allows(raw, ceiling_of(point, values)):
            raise InvalidValueError(point.id, value, self.describe(values))
        return raw

    async def write(self, value: Any) -> None:
        raw = self.validate(value, self._reader.values)
        await self._reader.write(self.point, raw)


class CurrentLimit:
    """The current a connector may offer the car, in amperes whatever the register holds.

    The register may take amperes in any scale (A, 0.1 A, mA) or a power: then
    amperes x phases x voltage, rounded UP to the register's step so the car is
    never offered less than asked, and never beyond the register's maximum.
    The phase count is learnt from the measured currents while charging.
    A written value is held for the map's hold time: writes inside it wait,
    and the last one wins; a pause is never delayed.
    """

    def __init__(
        self,
        spec: LimitSpec,
        point: Point,
        reader: PointReader,
        clock: Callable[[], float],
    ) -> None:
        assert point.write is not None
        self.spec = spec
        self.point = point
        self.connector = point.connector
        self._reader = reader
        self._clock = clock
        self.is_power = spec.power is not None
        self._phases: int | None = None
        self.relearned = False  # the phase count changed since the wish was last written
        self.pending_raw: int | None = None
        self._held = 0  # values held back so far
        self.last_write: float | None = None

    # ------------------------------------------------------------------ conversions

    @property
    def step(self) -> float:
        return self.spec.step

    def phases(self) -> int:
        """Phases the car draws on (power limits): learnt, else the map's default."""
        assert self.spec.power is not None
        return self._phases or self.spec.power.phases

    def learn(self, values: Mapping[str, Any]) -> None:
        """While charging, count the phases that carry current.

        When the count changes, the same power is another current: ``relearned``
        says so until the wish is written again with the new count.
        """
        power = self.spec.power
        if power is None or not power.learn_from:
            return
        if values.get(pid("charging", self.connector)) is False:
            return
        in_use = sum(
            1
            for key in power.learn_from
            if (values.get(pid(key, self.connector)) or 0) >= power.in_use
        )
        if in_use in (1, 2, 3):
            if in_use != self.phases():
                self.relearned = True
            self._phases = in_use

    def _watts_per_amp(self) -> float:
        assert self.spec.power is not None
        return self.phases() * self.spec.power.voltage

    def ceiling(self, values: Mapping[str, Any]) -> int | None:
        return ceiling_of(self.point, values)

    def range(self, values: Mapping[str, Any]) -> tuple[float, float]:
        """The lowest and highest limit above zero the box takes now, in amperes."""
        low = max([self.spec.min, *self._numbers(values, self.spec.min_from)])
        high = min(
            [self.spec.max, *(v for v in self._numbers(values, self.spec.max_from) if v > 0)]
        )
        return low, max(low, high)

    def _numbers(self, values: Mapping[str, Any], keys: tuple[str, ...]) -> list[float]:
        out = []
        for key in keys:
            value = values.get(pid(key, self.connector), values.get(key))
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                out.append(float(value))
        return out

    def raw_for(self, amps: float) -> int:
        """Amperes -> the raw register value (not checked against the range)."""
        scale = self.point.scale
        if self.is_power:
            raw = self._power_raw(amps)
            assert self.point.write is not None
            top = self.point.write.bounds(self.ceiling(self._reader.values))[1]
            return min(raw, top)  # rounding up stops at the box's maximum
        raw = round(amps / scale)
        if not math.isclose(raw * scale, amps, rel_tol=0, abs_tol=scale * ON_STEP):
            raise InvalidValueError(self.limit_id, amps, f"steps of {_fmt(scale)} A")
        return raw

    def amps_of(self, raw: int) -> float:
        """The raw register value -> amperes (0 while paused).

        A power: the highest value on the limit's step that gives this raw value
        back (4200 W on three phases: 6.0 A, not 6.1 A, which is 4300 W), so that
        a limit set at the box and taken over as the wish is the box's value.
        """
        if raw == self.spec.pause:
            return 0.0
        value = raw * self.point.scale
        if not self.is_power:
            return round(float(value), 6)
        exact = self.amps_exact(raw)
        step = self.spec.step
        on_step = round(math.floor(round(exact / step, 6)) * step, 6)
        return on_step if self._power_raw(on_step) == raw else exact

    def _power_raw(self, amps: float) -> int:
        """Amperes -> the power register's raw value, rounded up to its step."""
        return math.ceil(round(amps * self._watts_per_amp() / self.point.scale, 6))

    def amps_exact(self, raw: int) -> float:
        """The amperes a raw value stands for, floored to 1 mA (raw_for gives raw back)."""
        value = raw * self.point.scale
        if self.is_power:
            value /= self._watts_per_amp()
        return math.floor(round(value * 1000, 6)) / 1000

    @property
    def limit_id(self) -> str:
        return pid("charging_current", self.connector)

    def observed_raw(self, values: Mapping[str, Any]) -> int | None:
        value = values.get(self.point.id)
        return None if value is None else raw_of(self.point, value)

    def observed(self, values: Mapping[str, Any]) -> float | None:
        raw = self.observed_raw(values)
        return None if raw is None else self.amps_of(raw)

    def check(self, amps: float, values: Mapping[str, Any]) -> int:
        """0 (pause) or a limit within range -> its raw value; else InvalidValueError."""
        if not isinstance(amps, (int, float)) or isinstance(amps, bool) or math.isnan(amps):
            raise InvalidValueError(self.limit_id, amps, self.describe(values))
        if amps == 0:
            return self.spec.pause
        low, high = self.range(values)
        if not low <= amps <= high:
            raise InvalidValueError(self.limit_id, amps, self.describe(values))
        if not self.is_power and not math.isclose(
            round(amps / self.spec.step) * self.spec.step, amps, rel_tol=0, abs_tol=1e-6
        ):
            raise InvalidValueError(self.limit_id, amps, self.describe(values))
        raw = self.raw_for(amps)
        assert self.point.write is not None
        if not self.point.write.allows(raw, self.ceiling(values)):
            raise InvalidValueError(self.limit_id, amps, self.describe(values))
        return raw

    def describe(self, values: Mapping[str, Any]) -> str:
        low, high = self.range(values)
        steps = f" in steps of {_fmt(self.spec.step)} A" if self.spec.step >= 1 else ""
        return f"0 or {_fmt(low)}–{_fmt(high)} A{steps}"

    def matches(self, amps: float, values: Mapping[str, Any]) -> bool:
        """Whether the box's register holds this limit (0: paused)."""
        observed = self.observed_raw(values)
        if observed is None:
            return False
        try:
            return observed == (self.spec.pause if amps == 0 else self.raw_for(amps))
        except InvalidValueError:
            return False

    def clamp(self, amps: float, values: Mapping[str, Any]) -> float:
        low, high = self.range(values)
        return min(max(amps, low), high)

    def target(self, wish: Desired, values: Mapping[str, Any]) -> tuple[float, int] | None:
        """The amperes and raw value that put the box at a wish (None: nothing valid).

        Paused: the pause value.  A current: the wish within the range the box
        takes now (a cable or a box maximum may have come down under it).  A
        power: the wish's power, checked against the power register's range
        only, since it may have been set as a power below 6 A on three phases
        (1400 W for a car on one phase); no limit: the highest the box takes.
        """
        if wish.paused:
            return 0.0, self.spec.pause
        amps = wish.limit or self.range(values)[1]
        if self.is_power:
            raw = self.raw_for(amps)
            assert self.point.write is not None
            if raw == self.spec.pause or not self.point.write.allows(raw, self.ceiling(values)):
                return None
            return self.amps_of(raw), raw
        amps = self.clamp(amps, values)
        try:
            return amps, self.check(amps, values)
        except InvalidValueError:
            return None

    # ------------------------------------------------------------------ what to show

    def shown(self, snapshot: Snapshot) -> float | None:
        """The limit to show: the box's; while paused, the one resuming restores.

        A power register shows the user's amperes when they give the power it holds.
        """
        wish = snapshot.wish(self.connector)
        observed = self.observed(snapshot.values)
        low, _ = self.range(snapshot.values)
        if not wish.paused and observed is not None and observed >= low:
            if wish.limit is not None and self.matches(wish.limit, snapshot.values):
                return wish.limit
            return observed
        return wish.limit

    def power_shown(self, snapshot: Snapshot) -> float | None:
        value = snapshot.values.get(self.point.id)
        return None if value is None else float(value)

    # ------------------------------------------------------------------ writing

    def hold_left(self) -> float:
        if not self.spec.hold or self.last_write is None:
            return 0.0
        return max(0.0, self.spec.hold - (self._clock() - self.last_write))

    async def write(self, raw: int) -> bool:
        """Write a raw limit now, or hold it back (the last one wins); True if written.

        A held-back value stays pending until a write of it succeeds; a pause
        supersedes it, but only one held back before the pause went out.
        """
        if raw != self.spec.pause and self.hold_left() > 0:
            self.pending_raw = raw
            self._held += 1
            return False
        held = self._held
        await self._reader.write(self.point, raw)
        if held == self._held and raw in (self.pending_raw, self.spec.pause):
            self.pending_raw = None  # nothing newer was held back while this one was sent
        self.last_write = self._clock()
        return True

    def fresh(self) -> bool:
        """Whether the box's reading of the limit is newer than our last write of it."""
        return self._reader.fresh(self.point)

    def writing(self) -> bool:
        """Whether a write of the limit is on the wire now."""
        return self._reader.writing(self.point)

    def flush_due(self) -> float | None:
        """When a held-back write is due (charger clock), or None."""
        if self.pending_raw is None:
            return None
        return self._clock() + self.hold_left()

    async def flush(self) -> bool:
        if self.pending_raw is None or self.hold_left() > 0:
            return False
        return await self.write(self.pending_raw)


class PhaseSwitch:
    """One or three phases; the box reports a switch in progress and blocks the next."""

    def __init__(
        self,
        spec: PhaseSwitchSpec,
        point: Point,
        state: Point,
        reader: PointReader,
        clock: Callable[[], float],
    ) -> None:
        assert point.write is not None
        self.spec = spec
        self.point = point
        self.state = state
        self.connector = point.connector
        self._reader = reader
        self._clock = clock
        self.last_switch: float | None = None

    @property
    def options(self) -> list[str]:
        """The choices, as text ('1', '3')."""
        assert self.point.write is not None
        mapping = self.point.values or {}
        return [str(mapping.get(raw, raw)) for raw in self.point.write.values]

    def current(self, snapshot: Snapshot) -> str | None:
        """The phases in force; None while the box is switching."""
        return self.current_from(snapshot.values)

    def current_from(self, values: Mapping[str, Any]) -> str | None:
        value = values.get(self.state.id)
        text = None if value is None else str(value)
        return text if text in self.options else None

    def fresh(self) -> bool:
        """Whether the state was read after our last switch."""
        return self._reader.fresh(self.point) and self._reader.fresh(self.state)

    def switching(self, values: Mapping[str, Any]) -> bool:
        return bool(values.get(self.state.id) == self.spec.switching)

    def wait(self, values: Mapping[str, Any]) -> float:
        """Seconds until the box takes a new switch (0: now)."""
        if self.switching(values):
            return self.spec.block
        if self.last_switch is None:
            return 0.0
        return max(0.0, self.spec.block - (self._clock() - self.last_switch))

    def raw_for(self, option: str | int) -> int:
        text = str(option)
        if text not in self.options:
            raise InvalidValueError(self.point.id, option, ", ".join(self.options))
        return raw_of(self.point, (self.point.values or {}).get(int(text), int(text)))

    async def write(self, option: str | int) -> None:
        """Switch; a second switch asked for while the first is on the wire is refused too
        (the box would ignore it inside its block, and the wish would not be the box's)."""
        raw = self.raw_for(option)
        wait = self.wait(self._reader.values)
        if wait > 0:
            raise BusyError(f"a phase switch is in progress; try again in {wait:.0f} s")
        previous, self.last_switch = self.last_switch, self._clock()
        try:
            await self._reader.write(self.point, raw)
        except BaseException:
            self.last_switch = previous  # not switched: the next one may go at once
            raise
        self.last_switch = self._clock()


class RemoteLock:
    """Locked: the box does not charge, whatever the limit."""

    def __init__(self, spec: LockSpec, point: Point, reader: PointReader) -> None:
        self.spec = spec
        self.point = point
        self.connector = point.connector
        self._setting = Setting(point, reader)

    def is_locked(self, snapshot: Snapshot) -> bool | None:
        value = snapshot.values.get(self.point.id)
        return None if value is None else bool(value == self.spec.locked)

    async def write(self, locked: bool) -> None:
        await self._setting.write(self.spec.locked if locked else self.spec.unlocked)


class Command:
    """A value written to a command register, only when the user asks (a button)."""

    def __init__(self, spec: CommandSpec, point: Point, reader: PointReader) -> None:
        self.spec = spec
        self.point = point
        self.connector = point.connector
        value = spec.value  # a raw number, or one of the point's named values
        self.raw = value if isinstance(value, int) else raw_of(point, value)
        self._reader = reader

    @property
    def key(self) -> str:
        return self.spec.key

    async def send(self) -> None:
        await self._reader.write(self.point, self.raw)


class Toggle:
    """On or off as the box reports it; switched by writing one command or the other."""

    def __init__(self, spec: ToggleSpec, point: Point, state_id: str, reader: PointReader) -> None:
        self.spec = spec
        self.point = point
        self.connector = point.connector
        self.state_id = state_id  # the value (point or bit) that tells on or off
        self._on = Command(
            CommandSpec(key=spec.key, point=spec.point, value=spec.on), point, reader
        )
        self._off = Command(
            CommandSpec(key=spec.key, point=spec.point, value=spec.off), point, reader
        )

    @property
    def key(self) -> str:
        return self.spec.key

    def is_on(self, snapshot: Snapshot) -> bool | None:
        value = snapshot.values.get(self.state_id)
        return None if value is None else bool(value)

    async def turn(self, on: bool) -> None:
        await (self._on if on else self._off).send()


class EventWatch:
    """Tells when one of the watched values changed between two readings.

    The first reading is the baseline (nothing announced); a reading in which
    a watched value failed, or is missing, announces nothing and keeps the
    baseline, so a value seen again after an outage is compared with the last
    one that was read.
    """

    def __init__(self, spec: EventSpec, connector: int | None, sources: Mapping[str, str]) -> None:
        self.spec = spec
        self.connector = connector
        self._sources = sources  # every point the spec names (watched, carried) -> value id
        self._last: tuple[Any, ...] | None = None

    @property
    def key(self) -> str:
        return self.spec.key

    @property
    def sources(self) -> Mapping[str, str]:
        return self._sources

    def watched(self) -> tuple[str, ...]:
        return tuple(self._sources[key] for key in self.spec.when)

    def check(self, values: Mapping[str, Any], failed: frozenset[str]) -> ChargerEvent | None:
        ids = self.watched()
        if any(i in failed or values.get(i) is None for i in ids):
            return None
        now = tuple(values[i] for i in ids)
        last, self._last = self._last, now
        if last is None or last == now:
            return None
        return ChargerEvent(
            key=self.spec.key,
            connector=self.connector,
            data={
                name: values.get(self._sources[key]) if key in self._sources else None
                for name, key in self.spec.data.items()
            },
        )
