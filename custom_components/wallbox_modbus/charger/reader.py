"""Reading a box by its map: identity once, then each polling tier in planned blocks.

The reader owns the value cache.  It reads the identity and checks it against
the chosen model (layout version, marker points, connector count, the points
that must answer), plans each tier's reads, narrows down blocks the box
refuses, and computes the derived values.  Writes go through it too, so that
a read that started before a write never overwrites what the write set.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from .codec import decode, decode_int, split_bits, trim_hex_bytes
from .errors import IllegalAddressError, LayoutTooOldError, ModbusExceptionError, WrongModelError
from .mapcheck import parse_version
from .models import ModelInfo
from .planner import Readable, ReadBlock, plan
from .registers import TEXT_TYPES, Point, RegisterMap, Tier
from .snapshot import Identity, pid
from .spec import DeriveRule
from .transport import ModbusTransport

_LOGGER = logging.getLogger(__name__)


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


def _version_text(version: tuple[int, ...]) -> str:
    return ".".join(str(part) for part in version)


class PointReader:
    """The points of one box: what it serves, what they read, what was written."""

    def __init__(
        self, transport: ModbusTransport, model: ModelInfo, clock: Callable[[], float]
    ) -> None:
        self.transport = transport
        self.model = model
        self.map: RegisterMap = model.regmap
        self.clock = clock
        self.layout: tuple[int, ...] | None = None
        self.dropped: dict[str, str] = {}
        self.raw_blocks: dict[str, list[int]] = {}
        # point id -> the registers behind its cached value, as the box sent them: a raw
        # value outside the map's `values` decodes to None, the verification still sees it
        self.raw_words: dict[str, tuple[int, ...]] = {}
        self.recent_errors: list[str] = []
        self.values: dict[str, Any] = {}
        self.codes: dict[str, int] = {}  # raw number of every point read through its `values`
        self._points: list[Point] = self.map.available_points(model.variant, None)
        self._readable = Readable(self._points, self.map.safe_ranges)
        self._plans: dict[frozenset[Tier], list[ReadBlock]] = {}
        self._write_seq = 0
        self._written_at: dict[str, int] = {}  # point id -> seq of its last write
        self._read_at: dict[str, int] = {}  # point id -> seq when its value was last read
        self._writing: set[str] = set()  # point ids with a write on the wire

    # ------------------------------------------------------------------ points

    @property
    def connectors(self) -> list[int | None]:
        """None for a single-connector box, else the connector numbers."""
        count = self.map.variants[self.model.variant].connectors
        if count == 1:
            return [None] if not any(p.connector is not None for p in self.map.points) else [1]
        return list(range(1, count + 1))

    @property
    def points(self) -> list[Point]:
        """Points this box documents (variant, layout and conditions applied)."""
        return [p for p in self._points if p.id not in self.dropped]

    def find(self, key: str, connector: int | None = None) -> Point | None:
        point_id = pid(key, connector)
        return next((p for p in self.points if p.id == point_id), None)

    def derived_keys(self) -> set[str]:
        """Ids of the values computed from points (derive rules and bit fields)."""
        keys: set[str] = set()
        for rule in self.map.behaviour.derive:
            for connector in self.connectors:
                if all(self._source(k, connector) is not None for k in rule.sources):
                    keys.add(pid(rule.key, connector))
        for point in self.points:
            if point.bits and point.readable and point.tier is not Tier.NONE:
                keys |= {pid(name, point.connector) for name in point.bits}
        return keys

    def serves(self, key: str, connector: int | None = None) -> bool:
        """Whether the box reports this value (a polled point or a derived value)."""
        point = self.find(key, connector)
        if point is not None:
            return point.readable and point.tier is not Tier.NONE
        return pid(key, connector) in self.derived_keys()

    def _source(self, key: str, connector: int | None) -> Point | None:
        return self.find(key, connector) or self.find(key)

    # ------------------------------------------------------------------ identity

    async def identify(self) -> Identity:
        """Read the identity once and check that the box is the chosen model."""
        spec = self.map.behaviour.identity
        variant = self.map.variants[self.model.variant]
        title = self.model.title
        values: dict[str, Any] = {}
        if spec.layout is not None:
            layout_pt = self.map.point(spec.layout)
            try:
                words = await self.transport.read(
                    layout_pt.table, layout_pt.address, layout_pt.count
                )
            except IllegalAddressError as err:
                raise WrongModelError(title, "a box without a register layout version") from err
            text = str(decode(layout_pt, words))
            values[layout_pt.id] = text
            self.raw_words[layout_pt.id] = tuple(words)
            try:
                self.layout = parse_version(text)
            except ValueError as err:
                raise WrongModelError(title, f"register layout {text!r}") from err
            if variant.layout is not None and self.layout < variant.layout:
                raise LayoutTooOldError(title, text, _version_text(variant.layout))
        self._points = self.map.available_points(self.model.variant, self.layout)
        wanted = [p for p in self._points if p.tier is Tier.IDENTITY and p.id not in values]
        values.update(await self.read_points([p for p in wanted if not p.requires]))
        conditional = [p for p in wanted if p.requires and self._conditions_met(p, values)]
        values.update(await self.read_points(conditional))
        self._points = [
            p for p in self._points if not p.requires or self._conditions_met(p, values)
        ]
        for key in spec.required:
            if values.get(key) in (None, ""):
                raise WrongModelError(title, f"a box without {key.replace('_', ' ')}")
        await self._check_markers(values)
        connectors = variant.connectors
        if spec.connectors is not None:
            count = values.get(spec.connectors)
            if count != variant.connectors:
                raise WrongModelError(title, f"a box with {count} connector(s)")
        self.values.update(values)
        self._readable = Readable(self._points, self.map.safe_ranges)
        self._plans.clear()
        return Identity(
            serial=self._text(values, spec.serial),
            manufacturer=self._text(values, spec.manufacturer) or self.map.manufacturer,
            model=self._text(values, spec.model) or variant.name,
            firmware=next(
                (
                    source.format.format(values[source.point])
                    for source in spec.firmware
                    if values.get(source.point) not in (None, "")
                ),
                None,
            ),
            layout_version=None if spec.layout is None else str(values[spec.layout]),
            connectors=connectors,
            values=dict(values),
        )

    @staticmethod
    def _text(values: Mapping[str, Any], key: str | None) -> str | None:
        if key is None:
            return None
        value = values.get(key)
        return None if value in (None, "") else str(value)

    async def _check_markers(self, values: Mapping[str, Any]) -> None:
        """A variant's marker answers on that variant only: it tells variants apart."""
        chosen = self.map.variants[self.model.variant]
        layout_text = values.get(self.map.behaviour.identity.layout or "", "")
        for variant in self.map.variants.values():
            if variant.marker is None:
                continue
            if (
                variant.layout is not None
                and self.layout is not None
                and self.layout < variant.layout
            ):
                answers = False
            else:
                answers = await self._answers(self.map.point(variant.marker))
            found = f"{variant.name}" + (f" (register layout {layout_text})" if layout_text else "")
            if variant is chosen and not answers:
                raise WrongModelError(
                    self.model.title, f"a box without {variant.marker.replace('_', ' ')}"
                )
            if variant is not chosen and answers:
                raise WrongModelError(self.model.title, found)

    async def _answers(self, point: Point) -> bool:
        try:
            await self.transport.read(point.table, point.address, point.count)
        except IllegalAddressError:
            return False
        return True

    @staticmethod
    def _conditions_met(point: Point, values: Mapping[str, Any]) -> bool:
        return all(values.get(k) == v for k, v in point.requires.items())

    # ------------------------------------------------------------------ reading

    def plan_for(self, tiers: Iterable[Tier]) -> list[ReadBlock]:
        """The read requests of one refresh of these tiers (cached)."""
        key = frozenset(tiers)
        if key not in self._plans:
            wanted = [p for p in self.points if p.tier in key and p.readable]
            self._plans[key] = plan(wanted, self._readable)
        return self._plans[key]

    async def read_tiers(self, tiers: Iterable[Tier]) -> set[str]:
        """Read every block of these tiers into the cache; the ids of points that failed."""
        failed: set[str] = set()
        for block in self.plan_for(tiers):
            seq = self._write_seq
            try:
                words = await self.transport.read(block.table, block.address, block.count)
            except IllegalAddressError:
                self.values.update(await self._narrow(block, seq))
                continue
            except ModbusExceptionError as err:
                self.note_error(str(err))
                failed.update(p.id for p in block.points)
                continue
            self._store_block(block, words, self.values, seq)
        self._postprocess()
        self.values.update(self.derive())
        return failed

    async def read_points(self, points: list[Point]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for block in plan([p for p in points if p.readable], self._readable):
            seq = self._write_seq
            try:
                words = await self.transport.read(block.table, block.address, block.count)
            except IllegalAddressError:
                values.update(await self._narrow(block, seq))
                continue
            self._store_block(block, words, values, seq)
        return values

    def _store_block(
        self, block: ReadBlock, words: list[int], values: dict[str, Any], seq: int
    ) -> None:
        self.raw_blocks[f"{block.table}:{block.address}+{block.count}"] = list(words)
        for point in block.points:
            if self._written_at.get(point.id, 0) > seq:
                continue  # written after this read was sent: the write is newer
            self._read_at[point.id] = seq
            part = block.words(words, point)
            self.raw_words[point.id] = tuple(part)
            values[point.id] = decode(point, part)
            self._keep_code(point, part)
            if point.bits:
                flags = split_bits(point, decode_int(point, part))
                values.update({pid(k, point.connector): v for k, v in flags.items()})

    def _keep_code(self, point: Point, words: Sequence[int]) -> None:
        """The raw number of a point read through its values: a code the map lacks stays visible."""
        if point.values is not None and point.type not in TEXT_TYPES:
            self.codes[point.id] = decode_int(point, words)

    async def _narrow(self, block: ReadBlock, seq: int) -> dict[str, Any]:
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
            self._store_block(single, words, values, seq)
        if not refused:
            for start, end in _gap_runs(block):
                try:
                    await self.transport.read(block.table, start, end - start)
                except IllegalAddressError:
                    _LOGGER.info(
                        "%s: %s registers %s-%s are not served; not reading across them",
                        self.model.title,
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
                self.model.title,
                point.id,
                point.table,
                point.address,
                reason,
            )
            self.dropped[point.id] = reason
            self.values.pop(point.id, None)  # no stale value for a point no longer read
            self.codes.pop(point.id, None)
            self.raw_words.pop(point.id, None)
            for bit in point.bits or {}:
                self.values.pop(pid(bit, point.connector), None)

    def note_error(self, message: str) -> None:
        self.recent_errors = [*self.recent_errors[-19:], message]

    def _postprocess(self) -> None:
        for point in self.points:
            if point.length_from and point.id in self.values:
                length = self.values.get(pid(point.length_from, point.connector))
                if isinstance(length, int):
                    self.values[point.id] = trim_hex_bytes(str(self.values[point.id]), length)

    # ------------------------------------------------------------------ derived values

    def derive(self) -> dict[str, Any]:
        """Every derive rule, per connector."""
        derived: dict[str, Any] = {}
        for rule in self.map.behaviour.derive:
            for connector in self.connectors:
                if all(self._source(k, connector) is not None for k in rule.sources):
                    derived[pid(rule.key, connector)] = self._apply(rule, connector)
        return derived

    def _value(self, key: str, connector: int | None) -> Any:
        point = self._source(key, connector)
        if point is None:
            return self.values.get(pid(key, connector), self.values.get(key))
        return self.values.get(point.id)

    def _apply(self, rule: DeriveRule, connector: int | None) -> Any:
        if rule.date is not None and rule.time is not None:
            return box_clock(self._value(rule.date, connector), self._value(rule.time, connector))
        assert rule.source is not None
        value = self._value(rule.source, connector)
        if value is None:
            return None
        if rule.mapping is not None:
            return rule.mapping.get(value)
        assert rule.members is not None
        return value in rule.members

    def derived_sources(self, key: str, connector: int | None) -> set[str]:
        """Point ids a derived value is computed from (its availability follows them).

        A bit of a bit field comes from the point that holds it.
        """
        sources: set[str] = {
            p.id for p in self.points if p.bits and key in p.bits and p.connector == connector
        }
        for rule in self.map.behaviour.derive:
            if rule.key == key:
                for name in rule.sources:
                    point = self._source(name, connector)
                    if point is not None:
                        sources.add(point.id)
        return sources

    # ------------------------------------------------------------------ writing

    async def write(self, point: Point, raw: int) -> None:
        """Write one register; the box's acknowledgement updates the cache.

        A read sent before (or while) the write never overwrites what it wrote.
        """
        self._write_seq += 1
        self._written_at[point.id] = seq = self._write_seq
        self._writing.add(point.id)
        try:
            await self.transport.write_register(point.address, raw)
        finally:
            self._writing.discard(point.id)
        if point.readable and point.count == 1 and self._written_at[point.id] == seq:
            self._read_at[point.id] = seq
            self.raw_words[point.id] = (raw,)
            self.values[point.id] = decode(point, [raw])
            self._keep_code(point, [raw])
            if point.bits:
                self.values.update(
                    {pid(k, point.connector): v for k, v in split_bits(point, raw).items()}
                )

    def writing(self, point: Point) -> bool:
        return point.id in self._writing

    def fresh(self, point: Point) -> bool:
        """Whether the cached value was read (or acknowledged) after the point's last write."""
        if point.id in self._writing:
            return False
        return self._read_at.get(point.id, -1) >= self._written_at.get(point.id, 0)

    def forget_plans(self) -> None:
        self._plans.clear()


def box_clock(date: Any, clock: Any) -> dt.datetime | None:
    """yymmdd and hhmmss integers -> a naive datetime (the box's local time)."""
    if not isinstance(date, int) or not isinstance(clock, int):
        return None
    try:
        return dt.datetime(
            2000 + date // 10000,
            date // 100 % 100,
            date % 100,
            clock // 10000,
            clock // 100 % 100,
            clock % 100,
        )
    except ValueError:
        return None
