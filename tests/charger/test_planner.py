"""Request planner: fewest reads, 125-register limit, tables apart, gaps only where safe."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

from custom_components.wallbox_modbus.charger.const import Table
from custom_components.wallbox_modbus.charger.models import MODELS
from custom_components.wallbox_modbus.charger.planner import Readable, plan
from custom_components.wallbox_modbus.charger.registers import Point, SafeRange, Tier, load_map

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
from bench_planner import lower_bound


def pt(key: str, address: int, count: int = 1, table: Table = Table.INPUT) -> Point:
    return Point(
        key=key,
        address=address,
        table=table,
        type="str2" if count > 1 else "u16",
        count=count,
    )


def test_contiguous_points_share_one_read() -> None:
    points = [pt("a", 10), pt("b", 11), pt("c", 12, 2)]
    blocks = plan(points, Readable(points))
    assert [(b.address, b.count) for b in blocks] == [(10, 4)]
    assert blocks[0].words([1, 2, 3, 4], points[2]) == [3, 4]


def test_gap_bridged_only_where_served() -> None:
    points = [pt("a", 10), pt("b", 14)]
    assert len(plan(points, Readable(points))) == 2
    safe = Readable(points, [SafeRange(table=Table.INPUT, start=11, end=13, why="test")])
    assert [(b.address, b.count) for b in plan(points, safe)] == [(10, 5)]
    # a documented but unwanted point also makes the gap readable
    gap = [pt("c", 11, 3)]
    assert len(plan(points, Readable(points + gap))) == 1


def test_tables_are_never_mixed() -> None:
    points = [pt("a", 10), pt("b", 11, table=Table.HOLDING)]
    blocks = plan(points, Readable(points))
    assert {(b.table, b.address) for b in blocks} == {(Table.INPUT, 10), (Table.HOLDING, 11)}


def test_limit_of_125_registers() -> None:
    points = [pt(f"p{i}", i * 50, 10) for i in range(6)]
    readable = Readable(points, [SafeRange(table=Table.INPUT, start=0, end=400, why="test")])
    blocks = plan(points, readable)
    assert all(b.count <= 125 for b in blocks)
    assert sum(len(b.points) for b in blocks) == 6
    assert len(blocks) == lower_bound(points, readable)


def test_forgotten_gap_is_not_bridged_again() -> None:
    points = [pt("a", 10), pt("b", 12)]
    readable = Readable(points, [SafeRange(table=Table.INPUT, start=11, end=11, why="test")])
    assert len(plan(points, readable)) == 1
    readable.forget(Table.INPUT, [11])
    assert len(plan(points, readable)) == 2


@pytest.mark.parametrize("seed", range(40))
def test_greedy_matches_independent_lower_bound(seed: int) -> None:
    rng = random.Random(seed)
    points = []
    address = rng.randrange(0, 50)
    for i in range(rng.randrange(1, 18)):
        count = rng.choice([1, 1, 2, 10, 40])
        points.append(pt(f"p{i}", address, count, rng.choice([Table.INPUT, Table.HOLDING])))
        address += count + rng.choice([0, 0, 1, 3, 30, 90])
    safe = [
        SafeRange(table=Table.INPUT, start=s, end=s + rng.randrange(1, 60), why="test")
        for s in rng.sample(range(0, address + 1), k=min(3, address + 1))
    ]
    readable = Readable(points, safe)
    blocks = plan(points, readable)
    assert len(blocks) == lower_bound(points, readable)
    served = {p.id for b in blocks for p in b.points}
    assert served == {p.id for p in points}
    for block in blocks:
        assert block.count <= 125
        for p in block.points:
            assert block.address <= p.address and p.end <= block.end


@pytest.mark.parametrize("model", sorted(MODELS))
def test_shipped_maps_plan_at_the_lower_bound(model: str) -> None:
    info = MODELS[model]
    regmap = load_map(info.map_name)
    layout = regmap.variants[info.variant].layout
    points = regmap.available_points(info.variant, layout)
    readable = Readable(points, regmap.safe_ranges)
    for tiers in ({Tier.FAST}, {Tier.FAST, Tier.SLOW}, {Tier.IDENTITY}):
        wanted = [p for p in points if p.tier in tiers and p.readable]
        blocks = plan(wanted, readable)
        assert len(blocks) == lower_bound(wanted, readable)
        assert len(blocks) <= len(wanted)
