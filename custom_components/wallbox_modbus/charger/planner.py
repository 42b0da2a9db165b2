"""Request planning: the fewest reads that cover a set of points.

Points of one table are sorted by address and packed greedily into blocks of
at most 125 registers.  A block may only stretch over addresses the box is
known to serve: other documented points of the same variant, or ranges the
map marks safe.  For points on a line this greedy packing is optimal (every
block starts at the first point not yet covered and reaches as far as it
can), which the benchmark checks against an independent lower bound.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .const import MAX_READ_REGISTERS, Table
from .registers import Point, SafeRange


@dataclass(frozen=True)
class ReadBlock:
    """One read request and the points it serves."""

    table: Table
    address: int
    count: int
    points: tuple[Point, ...]

    @property
    def end(self) -> int:
        return self.address + self.count

    def words(self, registers: Sequence[int], point: Point) -> Sequence[int]:
        """The slice of a reply that belongs to one point."""
        offset = point.address - self.address
        return registers[offset : offset + point.count]


class Readable:
    """Which addresses of each table the box serves, as far as we know."""

    def __init__(self, points: Iterable[Point], safe: Iterable[SafeRange] = ()) -> None:
        self._served: dict[Table, set[int]] = {Table.INPUT: set(), Table.HOLDING: set()}
        for point in points:
            if point.readable:
                self._served[point.table].update(range(point.address, point.end))
        for rng in safe:
            self._served[rng.table].update(range(rng.start, rng.end + 1))

    def forget(self, table: Table, addresses: Iterable[int]) -> None:
        """The box refused these: never bridge over them again."""
        self._served[table].difference_update(addresses)

    def gap_ok(self, table: Table, start: int, end: int) -> bool:
        """Whether every address in [start, end) is served."""
        served = self._served[table]
        return all(address in served for address in range(start, end))


def plan(
    points: Iterable[Point], readable: Readable, max_count: int = MAX_READ_REGISTERS
) -> list[ReadBlock]:
    """Pack points into the fewest read blocks."""
    blocks: list[ReadBlock] = []
    by_table: dict[Table, list[Point]] = {}
    for point in points:
        if point.count > max_count:
            raise ValueError(f"{point.id} is longer than one request")
        by_table.setdefault(point.table, []).append(point)
    for table in sorted(by_table):
        ordered = sorted(by_table[table], key=lambda p: (p.address, p.end))
        current: list[Point] = []
        start = end = 0
        for point in ordered:
            if current:
                new_end = max(end, point.end)
                if new_end - start <= max_count and (
                    point.address <= end or readable.gap_ok(table, end, point.address)
                ):
                    current.append(point)
                    end = new_end
                    continue
                blocks.append(ReadBlock(table, start, end - start, tuple(current)))
            current, start, end = [point], point.address, point.end
        if current:
            blocks.append(ReadBlock(table, start, end - start, tuple(current)))
    return blocks
