"""The one charger interface every family implements.

A :class:`Charger` owns a transport and a register map.  It reads the box's
identity once, plans the reads of each polling tier, narrows down blocks the
box refuses, and offers the controls in the user's words (current limit,
pause and resume, settings).  A family subclass holds only what the map cannot
say: how the model is recognised, how the status is normalised, how a limit
is written, and how the box is kept alive.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from .codec import decode, decode_int, raw_of, split_bits, trim_hex_bytes
from .const import monotonic
from .errors import (
    ChargerError,
    IllegalAddressError,
    InvalidValueError,
    ModbusExceptionError,
    WrongModelError,
)
from .models import ModelInfo
from .planner import Readable, ReadBlock, plan
from .registers import Point, RegisterMap, Tier, load_map, parse_version
from .transport import ModbusTransport

_LOGGER = logging.getLogger(__name__)

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


def _gap_runs(block: ReadBlock) -> list[tuple[int, int]]:
    """Runs [start, end) of a block's addresses that no point of the block covers."""
    covered = {a for p in block.points for a in range(p.address, p.end)}
    runs: list[tuple[int, int]] = []
    for address in range(block.address, block.end):
        if address in covered:
            continue
        if runs and runs[-1][1] == address:
            runs[-1] = (runs[-1][0], address + 1)
        else:
            runs.append((address, address + 1))
    return runs


def pid(key: str, connector: int | None) -> str:
    """Point id of a key on a connector (None: the charger itself)."""
    return key if connector is None else f"{key}@{connector}"


@dataclass(frozen=True, kw_only=True)
class Identity:
    """What the box says about itself."""

    serial: str | None
    manufacturer: str
    model: str
    firmware: str | None
    layout_version: str | None
    connectors: int
    values: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class Snapshot:
    """Every decoded point after a refresh, plus derived values."""

    values: Mapping[str, Any]
    failed: frozenset[str] = frozenset()
    time: float = 0.0

    def get(self, key: str, connector: int | None = None) -> Any:
        return self.values.get(pid(key, connector))

    def ok(self, key: str, connector: int | None = None) -> bool:
        """Whether the point was read (or derived) in its last refresh."""
        point_id = pid(key, connector)
        return point_id in self.values and point_id not in self.failed


@dataclass
class LimitState:
    """What the integration itself knows about a connector's current limit."""

    known: bool = False  # paused was set from the box, a restore or a command
    paused: bool = False
    last_limit: float | None = None  # the last limit above zero, in amperes
    pending_raw: int | None = None  # a write held back (Amperfied holds settings 20 s)
    last_write: float | None = None


class Charger:
    """Base class: one box, one transport, one map."""

    family: ClassVar[str]
    #: identity points that must answer for the box to be this model
    required_identity: ClassVar[tuple[str, ...]] = ()
    #: point read first, deciding which other points exist (layout version)
    layout_point: ClassVar[str | None] = None
    #: True where the box's own limit cannot be trusted to say "paused" (Vestel
    #: puts 6 A back): the integration's pause state is then only initialised
    #: from the box, never overwritten by it.
    own_pause_state: ClassVar[bool] = False

    def __init__(
        self,
        transport: ModbusTransport,
        model: ModelInfo,
        *,
        clock: Callable[[], float] = monotonic,
    ) -> None:
        self.transport = transport
        self.model = model
        self.map: RegisterMap = load_map(model.map_name)
        self.clock = clock
        self.identity: Identity | None = None
        self.layout: tuple[int, ...] | None = None
        self.dropped: dict[str, str] = {}
        self.raw_blocks: dict[str, list[int]] = {}
        self.recent_errors: list[str] = []
        self._values: dict[str, Any] = {}
        self._points: list[Point] = self.map.available_points(model.variant, None)
        self._readable = Readable(self._points, self.map.safe_ranges)
        self._plans: dict[frozenset[Tier], list[ReadBlock]] = {}
        self._limits: dict[int | None, LimitState] = {c: LimitState() for c in self.connectors}
        self.keepalives = 0
        self.last_keepalive: float | None = None

    # ------------------------------------------------------------------ identity

    @property
    def connectors(self) -> list[int | None]:
        """None for a single-connector box, else the connector numbers."""
        if self.model.connectors == 1:
            return [None] if not self._connector_points() else [1]
        return list(range(1, self.model.connectors + 1))

    def _connector_points(self) -> bool:
        return any(p.connector is not None for p in self.map.points)

    @property
    def points(self) -> list[Point]:
        """Points this box documents (variant, layout and conditions applied)."""
        return [p for p in self._points if p.id not in self.dropped]

    def has(self, key: str, connector: int | None = None) -> bool:
        """Whether this box serves the point (or derives the value)."""
        point_id = pid(key, connector)
        return any(p.id == point_id for p in self.points) or point_id in self._derived_keys()

    def _derived_keys(self) -> set[str]:
        keys = {pid(k, c) for c in self.connectors for k in ("vehicle_connected", "charging")}
        keys |= {pid("status", c) for c in self.connectors}
        for point in self.points:
            if point.bits:
                keys |= {pid(name, point.connector) for name in point.bits}
        return keys

    async def identify(self) -> Identity:
        """Read the identity once and check that the box is the chosen model."""
        values: dict[str, Any] = {}
        if self.layout_point is not None:
            layout_pt = self.map.point(self.layout_point)
            try:
                words = await self.transport.read(layout_pt.table, layout_pt.address, 1)
            except IllegalAddressError as err:
                raise WrongModelError(self.model.name, "a box without a layout register") from err
            values[layout_pt.id] = decode(layout_pt, words)
            try:
                self.layout = parse_version(str(values[layout_pt.id]))
            except ValueError as err:
                raise WrongModelError(self.model.name, f"layout {values[layout_pt.id]}") from err
        self._points = self.map.available_points(self.model.variant, self.layout)
        wanted = [p for p in self._points if p.tier is Tier.IDENTITY and p.id not in values]
        values.update(await self._read_points([p for p in wanted if not p.requires], values))
        conditional = [p for p in wanted if p.requires and self._conditions_met(p, values)]
        values.update(await self._read_points(conditional, values))
        self._points = [
            p for p in self._points if not p.requires or self._conditions_met(p, values)
        ]
        for key in self.required_identity:
            if key not in values:
                raise WrongModelError(self.model.name, f"a box without {key}")
        values.update(await self._probe(values))
        self.identity = self._make_identity(values)  # may raise WrongModelError
        self._values.update(values)
        self._readable = Readable(self._points, self.map.safe_ranges)
        self._plans.clear()
        self._limits = {c: self._limits.get(c, LimitState()) for c in self.connectors}
        return self.identity

    @staticmethod
    def _conditions_met(point: Point, values: Mapping[str, Any]) -> bool:
        return all(values.get(k) == v for k, v in point.requires.items())

    async def _probe(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Family hook: extra reads that tell models apart."""
        return {}

    def _make_identity(self, values: Mapping[str, Any]) -> Identity:
        """Build the identity; a family raises WrongModelError when it does not fit."""
        raise NotImplementedError

    # ------------------------------------------------------------------ reading

    def plan_for(self, tiers: Iterable[Tier]) -> list[ReadBlock]:
        """The read requests of one refresh of these tiers (cached)."""
        key = frozenset(tiers)
        if key not in self._plans:
            wanted = [p for p in self.points if p.tier in key and p.readable]
            self._plans[key] = plan(wanted, self._readable)
        return self._plans[key]

    async def refresh(self, *, slow: bool = False) -> Snapshot:
        """Read the fast tier (and the slow one) and return every value known."""
        if self.identity is None:
            await self.identify()
        tiers = {Tier.FAST, Tier.SLOW} if slow else {Tier.FAST}
        blocks = self.plan_for(tiers)
        failed: set[str] = set()
        values: dict[str, Any] = {}
        for block in blocks:
            try:
                words = await self.transport.read(block.table, block.address, block.count)
            except IllegalAddressError:
                values.update(await self._narrow(block))
                continue
            except ModbusExceptionError as err:
                self._note_error(str(err))
                failed.update(p.id for p in block.points)
                continue
            self._store_block(block, words, values)
        self._values.update(values)
        self._postprocess(self._values)
        self._values.update(self._derive(self._values))
        self._sync_limit_states()
        derived_failed = {
            pid(k, c)
            for c in self.connectors
            for k in ("status", "vehicle_connected", "charging")
            if self._derived_failed(k, c, failed)
        }
        snapshot = Snapshot(
            values=dict(self._values),
            failed=frozenset(failed | derived_failed),
            time=self.clock(),
        )
        await self._after_refresh(snapshot)
        return snapshot

    def _sync_limit_states(self) -> None:
        """Follow the box's limit: 0 means paused, above 0 is the limit to restore."""
        for connector, state in self._limits.items():
            current = self.charging_current(connector)
            if current is None or state.pending_raw is not None:
                continue
            if self.own_pause_state and state.known:
                if not state.paused and current > 0:
                    state.last_limit = current
                continue
            state.known = True
            state.paused = current == 0
            if current > 0:
                state.last_limit = current

    def _derived_failed(self, key: str, connector: int | None, failed: set[str]) -> bool:
        return bool(failed & {pid(s, connector) for s in self._status_sources()})

    def _status_sources(self) -> tuple[str, ...]:
        return ("status",)

    def _store_block(self, block: ReadBlock, words: list[int], values: dict[str, Any]) -> None:
        self.raw_blocks[f"{block.table}:{block.address}+{block.count}"] = list(words)
        for point in block.points:
            part = block.words(words, point)
            values[point.id] = decode(point, part)
            if point.bits:
                flags = split_bits(point, decode_int(point, part))
                values.update({pid(k, point.connector): v for k, v in flags.items()})

    async def _read_points(self, points: list[Point], known: Mapping[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for block in plan([p for p in points if p.readable], self._readable):
            try:
                words = await self.transport.read(block.table, block.address, block.count)
            except IllegalAddressError:
                values.update(await self._narrow(block))
                continue
            self._store_block(block, words, values)
        return values

    async def _narrow(self, block: ReadBlock) -> dict[str, Any]:
        """A block answered exception 2: find what the box lacks, keep the rest.

        Each point is read alone; points refused alone are dropped (logged
        once).  When every point answers alone, a gap between them is what
        the box refuses: each gap run is probed and the refused ones are never
        bridged again.  Either way the plans are rebuilt.
        """
        values: dict[str, Any] = {}
        refused = False
        for point in block.points:
            try:
                words = await self.transport.read(point.table, point.address, point.count)
            except IllegalAddressError:
                self._drop(point, "the box answers exception 2 (illegal address)")
                self._readable.forget(point.table, range(point.address, point.end))
                refused = True
                continue
            single = ReadBlock(point.table, point.address, point.count, (point,))
            self._store_block(single, words, values)
        if not refused:
            for start, end in _gap_runs(block):
                try:
                    await self.transport.read(block.table, start, end - start)
                except IllegalAddressError:
                    _LOGGER.info(
                        "%s: %s registers %s-%s are not served; not reading across them",
                        self.model.name,
                        block.table,
                        start,
                        end - 1,
                    )
                    self._readable.forget(block.table, range(start, end))
        self._plans.clear()
        return values

    def _drop(self, point: Point, reason: str) -> None:
        if point.id not in self.dropped:
            _LOGGER.warning(
                "%s: %s (%s register %s) dropped: %s",
                self.model.name,
                point.id,
                point.table,
                point.address,
                reason,
            )
            self.dropped[point.id] = reason
            self._values.pop(point.id, None)  # no stale value for a point no longer read

    def _note_error(self, message: str) -> None:
        self.recent_errors = [*self.recent_errors[-19:], message]

    def _postprocess(self, values: dict[str, Any]) -> None:
        for point in self.points:
            if point.length_from and point.id in values:
                length = values.get(pid(point.length_from, point.connector))
                if isinstance(length, int):
                    values[point.id] = trim_hex_bytes(str(values[point.id]), length)

    def _derive(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Normalised status, vehicle_connected and charging, per connector."""
        raise NotImplementedError

    async def _after_refresh(self, snapshot: Snapshot) -> None:
        """Family hook run after each refresh."""

    @property
    def values(self) -> Mapping[str, Any]:
        return self._values

    # ------------------------------------------------------------------ writing

    def point(self, key: str, connector: int | None = None) -> Point:
        point_id = pid(key, connector)
        for point in self.points:
            if point.id == point_id:
                return point
        raise InvalidValueError(point_id, None, "nothing: this box has no such setting")

    def validate(self, point: Point, value: Any) -> int:
        """An engineering value -> a raw value the map allows, or InvalidValueError."""
        if point.write is None:
            raise InvalidValueError(point.id, value, "nothing: read only")
        try:
            raw = raw_of(point, value)
        except (TypeError, ValueError) as err:
            raise InvalidValueError(point.id, value, self.describe(point)) from err
        if point.values is None and not math.isclose(
            raw * point.scale, float(value), rel_tol=0, abs_tol=point.scale / 1000
        ):
            raise InvalidValueError(point.id, value, self.describe(point))
        if not point.write.allows(raw):
            raise InvalidValueError(point.id, value, self.describe(point))
        return raw

    @staticmethod
    def describe(point: Point) -> str:
        assert point.write is not None
        if point.values is not None:
            return ", ".join(str(point.values.get(v, v)) for v in point.write.values)
        text = point.write.describe(point.scale)
        return f"{text} {point.unit}" if point.unit else text

    async def write_point(self, point: Point, raw: int) -> None:
        await self.transport.write_register(point.address, raw)
        self._values[point.id] = (
            decode(point, [raw]) if point.count == 1 else self._values.get(point.id)
        )

    async def write_setting(self, key: str, value: Any, connector: int | None = None) -> None:
        """Write a setting in the user's units after checking it against the map."""
        point = self.point(key, connector)
        raw = self.validate(point, value)
        await self.write_point(point, raw)

    # ------------------------------------------------------------ current limit

    def current_range(self, connector: int | None = None) -> tuple[float, float]:
        """The lowest and highest limit above zero this box accepts, in amperes."""
        raise NotImplementedError

    def charging_current(self, connector: int | None = None) -> float | None:
        """The limit the box reports now, in amperes (0 while paused)."""
        raise NotImplementedError

    def current_step(self, connector: int | None = None) -> float:
        """The finest step of a limit, in amperes."""
        return 0.1

    def _limit_raw(self, amps: float, connector: int | None) -> tuple[Point, int]:
        """Amperes -> the point and raw value that carry the limit."""
        raise NotImplementedError

    def limit_state(self, connector: int | None = None) -> LimitState:
        return self._limits[connector]

    def check_current(self, amps: float, connector: int | None = None) -> None:
        """Raise InvalidValueError unless amps is 0 or inside current_range."""
        low, high = self.current_range(connector)
        if amps != 0 and not low <= amps <= high:
            raise InvalidValueError(
                pid("charging_current", connector), amps, f"0 or {low:g}–{high:g} A"
            )

    async def set_charging_current(self, amps: float, connector: int | None = None) -> None:
        """Set the limit; while paused it is remembered and applied on resume."""
        self.check_current(amps, connector)
        state = self._limits[connector]
        if amps == 0:
            await self.pause(connector)
            return
        point, raw = self._limit_raw(amps, connector)
        state.last_limit = amps
        if state.paused:
            return
        await self._write_limit(point, raw, connector)

    async def pause(self, connector: int | None = None) -> None:
        """Stop charging: write a limit of 0 and remember the last one."""
        state = self._limits[connector]
        current = self.charging_current(connector)
        if not state.paused and current:
            state.last_limit = state.last_limit or current
        point, _ = self._limit_raw(self.current_range(connector)[0], connector)
        state.paused = state.known = True
        await self._write_limit(point, 0, connector)

    async def resume(self, connector: int | None = None) -> None:
        """Charge again at the last limit (the lowest allowed if none is known)."""
        state = self._limits[connector]
        low, high = self.current_range(connector)
        amps = min(max(state.last_limit or high, low), high)
        point, raw = self._limit_raw(amps, connector)
        state.paused, state.known = False, True
        state.last_limit = amps
        await self._write_limit(point, raw, connector)

    def restore(
        self, connector: int | None = None, *, paused: bool, last_limit: float | None
    ) -> None:
        """Take back what the integration knew before a restart."""
        state = self._limits[connector]
        state.paused, state.known = paused, True
        if last_limit:
            state.last_limit = last_limit

    @property
    def setting_hold(self) -> float:
        """Seconds a limit must stay unchanged after a write (0: none)."""
        return float(self.map.defaults.get("setting_hold", 0))

    async def _write_limit(self, point: Point, raw: int, connector: int | None) -> None:
        state = self._limits[connector]
        now = self.clock()
        if state.last_write is not None and now - state.last_write < self.setting_hold:
            state.pending_raw = raw  # the last value wins when the hold ends
            return
        state.pending_raw = None
        await self.write_point(point, raw)
        state.last_write = now

    def pending_delay(self) -> float | None:
        """Seconds until the first held-back write is due, or None."""
        delays = [
            max(0.0, self.setting_hold - (self.clock() - (s.last_write or 0)))
            for s in self._limits.values()
            if s.pending_raw is not None
        ]
        return min(delays) if delays else None

    async def flush_pending(self) -> bool:
        """Write held-back limits whose hold time is over; True if one was written."""
        wrote = False
        for connector, state in self._limits.items():
            if state.pending_raw is None:
                continue
            if state.last_write is not None and self.clock() - state.last_write < self.setting_hold:
                continue
            point, _ = self._limit_raw(self.current_range(connector)[0], connector)
            raw, state.pending_raw = state.pending_raw, None
            await self.write_point(point, raw)
            state.last_write = self.clock()
            wrote = True
        return wrote

    # ---------------------------------------------------------------- keepalive

    @property
    def keepalive_interval(self) -> float | None:
        """Seconds between keepalives derived from the box's own timeout, or None."""
        return None

    async def keepalive(self) -> None:
        """Keep the box from falling back; counted for diagnostics."""
        await self._keepalive()
        self.keepalives += 1
        self.last_keepalive = self.clock()

    async def _keepalive(self) -> None:
        """Family hook."""

    def keepalive_info(self) -> dict[str, Any]:
        return {
            "interval": self.keepalive_interval,
            "count": self.keepalives,
            "last": self.last_keepalive,
        }

    async def close(self) -> None:
        await self.transport.close()


__all__ = ["STATUSES", "Charger", "ChargerError", "Identity", "Snapshot", "pid"]
