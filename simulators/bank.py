"""A register bank built from a register map.

It serves exactly the addresses the map documents for the simulated variant
and layout (anything else answers exception 2), keeps values in the map's
own encoding, checks writes against the map's valid values (exception 3),
and lets a family simulator react to writes and to the passing of time.

Every write outside the valid values is kept in ``invalid_writes``, with the
reason: outside the map's ranges (refused with exception 3, as the box's own
range), or above a maximum that follows another register of the box now
(``write.max_from``), or a current limit outside the range the box reports
(``limit.min_from`` / ``max_from``).  The last two are the map's derived
bounds, not documented refusals: they are accepted and recorded, so that
tools can check that nothing outside the valid values ever reached the box.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from custom_components.wallbox_modbus.charger.codec import decode, encode
from custom_components.wallbox_modbus.charger.const import Table, monotonic
from custom_components.wallbox_modbus.charger.registers import Point, RegisterMap

from .lies import Lie
from .modbus_server import ModbusReply

WriteHook = Callable[[Point, int], None]


@dataclass(frozen=True, kw_only=True)
class InvalidWrite:
    """A write that carried a value outside the valid values."""

    at: float  # the bank's clock
    point: str
    raw: int
    why: str
    refused: bool  # answered with exception 3


class MapBank:
    """Registers of one simulated box, addressed by the map's keys."""

    def __init__(
        self,
        regmap: RegisterMap,
        variant: str,
        *,
        layout: tuple[int, ...] | None = None,
        clock: Callable[[], float] = monotonic,
        extra: list[Point] | None = None,
        lie: Lie | None = None,
    ) -> None:
        self.map = regmap
        self.lie = lie
        self.variant = variant
        self.layout = layout
        self.clock = clock
        self.points = {p.id: p for p in self.map.available_points(variant, layout)}
        for point in extra or []:
            self.points[point.id] = point
        self._words: dict[Table, dict[int, int]] = {Table.INPUT: {}, Table.HOLDING: {}}
        self._owner: dict[tuple[Table, int], Point] = {}
        for point in self.points.values():
            for address in range(point.address, point.end):
                self._words[point.table][address] = 0
                self._owner[(point.table, address)] = point
        for rng in self.map.safe_ranges:
            # The map says the box serves these although they hold no documented point.
            for address in range(rng.start, rng.end + 1):
                self._words[rng.table].setdefault(address, 0)
        self.hooks: dict[str, WriteHook] = {}
        self.invalid_writes: list[InvalidWrite] = []
        self.transactions = 0
        self.last_transaction: float | None = None
        self.on_transaction: Callable[[], None] | None = None
        self.before_request: Callable[[], None] | None = None

    # ------------------------------------------------------------ by key

    def has(self, point_id: str) -> bool:
        return point_id in self.points

    def set(self, point_id: str, value: Any) -> None:
        """Store an engineering value (or mapped value) in the point's registers."""
        point = self.points[point_id]
        self._store(point, encode(point, value))

    def set_raw(self, point_id: str, raw: int) -> None:
        point = self.points[point_id]
        self._store(point, [raw, *self.words(point)[1:]])

    def _store(self, point: Point, words: list[int]) -> None:
        """Write a point's registers, as a lying box would serve them (see lies.py)."""
        served = [(point, words)] if self.lie is None else self.lie.serve(self, point, words)
        for target, target_words in served:
            for offset, word in enumerate(target_words):
                self._words[target.table][target.address + offset] = word

    def get(self, point_id: str) -> Any:
        point = self.points[point_id]
        return decode(point, self.words(point))

    def raw(self, point_id: str) -> int:
        point = self.points[point_id]
        return self._words[point.table][point.address]

    def words(self, point: Point) -> list[int]:
        return [self._words[point.table][a] for a in range(point.address, point.end)]

    def remove(self, point_id: str) -> None:
        """Stop serving a point (a firmware that lacks a documented register)."""
        point = self.points.pop(point_id)
        for address in range(point.address, point.end):
            del self._words[point.table][address]
            del self._owner[(point.table, address)]

    def unserve(self, table: str, start: int, end: int) -> None:
        """Refuse addresses start..end (inclusive) that hold no point (a stricter firmware)."""
        for address in range(start, end + 1):
            if (Table(table), address) in self._owner:
                raise ValueError(f"{table} {address} holds a point: use remove()")
            self._words[Table(table)].pop(address, None)

    # ------------------------------------------------------------ RegisterBank

    def read(self, table: str, address: int, count: int) -> list[int]:
        words = self._words[Table(table)]
        if any(a not in words for a in range(address, address + count)):
            raise ModbusReply(2)
        owners = (self._owner.get((Table(table), a)) for a in range(address, address + count))
        if any(p is not None and not p.readable for p in owners):
            raise ModbusReply(2)
        if self.before_request is not None:
            self.before_request()
        return [words[a] for a in range(address, address + count)]

    def write(self, address: int, values: list[int]) -> None:
        if self.before_request is not None:
            self.before_request()
        holding = self._words[Table.HOLDING]
        if any(address + i not in holding for i in range(len(values))):
            raise ModbusReply(2)
        for offset, raw in enumerate(values):
            point = self._owner.get((Table.HOLDING, address + offset))
            if point is None or not point.writable:
                raise ModbusReply(2)
            if point.count == 1 and point.write is not None and not point.write.allows(raw):
                self._invalid(point, raw, f"outside {point.write.describe()}", refused=True)
                raise ModbusReply(3)
        for offset, raw in enumerate(values):
            point = self._owner[(Table.HOLDING, address + offset)]
            why = self.beyond_bounds(point, raw)
            if why is not None:
                self._invalid(point, raw, why, refused=False)
        for offset, raw in enumerate(values):
            point = self._owner[(Table.HOLDING, address + offset)]
            if self.lie is not None and point.id in self.lie.ignore_writes:
                continue  # acknowledged, and without effect
            if point.readable:
                holding[address + offset] = raw
            hook = self.hooks.get(point.id)
            if hook is not None:
                hook(point, raw)

    def points_at(self, address: int) -> Point | None:
        """The holding point a write to this address goes to (None: no such register)."""
        return self._owner.get((Table.HOLDING, address))

    def why_invalid(self, point: Point, raw: int) -> str | None:
        """Why a write of raw to a point would be outside the valid values (None: valid)."""
        if point.write is None or not point.writable:
            return "not writable"
        if not point.write.allows(raw):
            return f"outside {point.write.describe()}"
        return self.beyond_bounds(point, raw)

    def _invalid(self, point: Point, raw: int, why: str, *, refused: bool) -> None:
        self.invalid_writes.append(
            InvalidWrite(at=self.clock(), point=point.id, raw=raw, why=why, refused=refused)
        )

    def _number(self, key: str, connector: int | None) -> float | None:
        """A numeric value of the box now: the connector's point, else the station's."""
        for point_id in ((f"{key}@{connector}",) if connector is not None else ()) + (key,):
            if point_id in self.points:
                value = self.get(point_id)
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    return float(value)
        return None

    def beyond_bounds(self, point: Point, raw: int) -> str | None:
        """Why a raw value the map's ranges allow is still outside what the box takes now.

        A maximum that follows another register (``write.max_from``), and a
        current limit's range (``limit``: min, max, min_from, max_from, step),
        both read from this bank's registers at the moment of the write.
        """
        spec = point.write
        if spec is None:
            return None
        if spec.max_from is not None and raw not in spec.values:
            source = self._number(spec.max_from.point, point.connector)
            if source is not None and source > 0:
                ceiling = math.floor(round(source * spec.max_from.times, 6))
                if raw > ceiling:
                    return f"above {ceiling} ({spec.max_from.point} = {source:g})"
        limit = self.map.behaviour.limit
        if limit is None or limit.point != point.key or limit.power is not None:
            return None
        if raw == limit.pause:
            return None
        amps = raw * point.scale
        lows = [limit.min, *(self._number(k, point.connector) for k in limit.min_from)]
        highs = [limit.max, *(self._number(k, point.connector) for k in limit.max_from)]
        low = max(v for v in lows if v is not None)
        high = min(v for v in highs if v is not None and v > 0)
        if not low - 1e-9 <= amps <= max(low, high) + 1e-9:
            return f"{amps:g} A outside {low:g}-{max(low, high):g} A"
        steps = amps / limit.step
        if abs(steps - round(steps)) > 1e-6:
            return f"{amps:g} A not in steps of {limit.step:g} A"
        return None

    def transaction(self) -> None:
        self.transactions += 1
        self.last_transaction = self.clock()
        if self.on_transaction is not None:
            self.on_transaction()
