"""A register bank built from a register map.

It serves exactly the addresses the map documents for the simulated variant
and layout (anything else answers exception 2), keeps values in the map's
own encoding, checks writes against the map's valid values (exception 3),
and lets a family simulator react to writes and to the passing of time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from custom_components.wallbox_modbus.charger.codec import decode, encode
from custom_components.wallbox_modbus.charger.const import Table, monotonic
from custom_components.wallbox_modbus.charger.registers import Point, RegisterMap

from .lies import Lie
from .modbus_server import ModbusReply

WriteHook = Callable[[Point, int], None]


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
                raise ModbusReply(3)
        for offset, raw in enumerate(values):
            point = self._owner[(Table.HOLDING, address + offset)]
            if self.lie is not None and point.id in self.lie.ignore_writes:
                continue  # acknowledged, and without effect
            if point.readable:
                holding[address + offset] = raw
            hook = self.hooks.get(point.id)
            if hook is not None:
                hook(point, raw)

    def transaction(self) -> None:
        self.transactions += 1
        self.last_transaction = self.clock()
        if self.on_transaction is not None:
            self.on_transaction()
