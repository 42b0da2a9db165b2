"""Planner benchmark: requests, registers, bytes and time per refresh, per model and tier.

For every model and variant, and for each polling tier (fast = every refresh,
fast+slow = a refresh that also reads settings, identity = once per connection):

- planned:   requests and registers the planner issues,
- naive:     one request per point,
- bound:     the fewest requests possible, computed here independently of the
             planner (dynamic programming over every way to split the points),
- measured:  requests, registers, bytes and wall time per refresh against the
             simulator over real TCP on 127.0.0.1 (mean of several refreshes).

It prints figures and asserts nothing about speed; exit status 1 only if a plan
is above its lower bound.  Run:  python scripts/bench_planner.py [--rounds N]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from custom_components.wallbox_modbus.charger import MODELS, Charger, ModbusTransport  # noqa: E402
from custom_components.wallbox_modbus.charger.const import MAX_READ_REGISTERS, Table  # noqa: E402
from custom_components.wallbox_modbus.charger.planner import Readable  # noqa: E402
from custom_components.wallbox_modbus.charger.registers import Point, Tier  # noqa: E402
from simulators.registry import SIMULATORS  # noqa: E402

TIERS: dict[str, frozenset[Tier]] = {
    "fast": frozenset({Tier.FAST}),
    "fast+slow": frozenset({Tier.FAST, Tier.SLOW}),
    "identity": frozenset({Tier.IDENTITY}),
}


def lower_bound(
    points: Iterable[Point], readable: Readable, limit: int = MAX_READ_REGISTERS
) -> int:
    """Fewest read requests that cover the points (exact, O(n^2) per table)."""
    total = 0
    for table in (Table.INPUT, Table.HOLDING):
        pts = sorted((p for p in points if p.table is table), key=lambda p: p.address)
        best = [0] + [len(pts) + 1] * len(pts)
        for i in range(1, len(pts) + 1):
            for j in range(i):
                group = pts[j:i]
                start, end = group[0].address, max(p.end for p in group)
                covered = {a for p in group for a in range(p.address, p.end)}
                served = all(
                    readable.gap_ok(table, a, a + 1) for a in range(start, end) if a not in covered
                )
                if end - start <= limit and served:
                    best[i] = min(best[i], best[j] + 1)
        total += best[-1]
    return total


async def bench_model(model_id: str, rounds: int) -> list[dict[str, object]]:
    info = MODELS[model_id]
    sim = SIMULATORS[model_id](port=0)
    await sim.start()
    for connector in sim.cars:
        sim.plug(connector)
    transport = ModbusTransport("127.0.0.1", sim.port, 255, timeout=5)
    charger = Charger(transport, info)
    rows: list[dict[str, object]] = []
    try:
        stats = transport.stats
        before = (stats.requests, stats.registers_read, stats.bytes_sent + stats.bytes_received)
        started = time.perf_counter()
        await charger.identify()
        identity_cost = (
            stats.requests - before[0],
            stats.registers_read - before[1],
            stats.bytes_sent + stats.bytes_received - before[2],
            time.perf_counter() - started,
        )
        readable = Readable(charger.points, charger.map.safe_ranges)
        for name, tiers in TIERS.items():
            wanted = [p for p in charger.points if p.tier in tiers and p.readable]
            blocks = charger.reader.plan_for(tiers)
            if name == "identity":
                measured = identity_cost
            else:
                slow = Tier.SLOW in tiers
                await charger.refresh(slow=slow)  # warm: connection open
                before = (
                    stats.requests,
                    stats.registers_read,
                    stats.bytes_sent + stats.bytes_received,
                )
                started = time.perf_counter()
                for _ in range(rounds):
                    await charger.refresh(slow=slow)
                elapsed = time.perf_counter() - started
                measured = (
                    (stats.requests - before[0]) / rounds,
                    (stats.registers_read - before[1]) / rounds,
                    (stats.bytes_sent + stats.bytes_received - before[2]) / rounds,
                    elapsed / rounds,
                )
            rows.append(
                {
                    "model": model_id,
                    "tier": name,
                    "points": len(wanted),
                    "naive": len(wanted),
                    "bound": lower_bound(wanted, readable),
                    "planned": len(blocks),
                    "registers": sum(b.count for b in blocks),
                    "req": measured[0],
                    "regs": measured[1],
                    "bytes": measured[2],
                    "ms": measured[3] * 1000,
                }
            )
    finally:
        await charger.close()
        await sim.stop()
    return rows


def print_table(rows: list[dict[str, object]]) -> None:
    head = (
        f"{'model':20} {'tier':10} {'points':>6} {'naive':>6} {'bound':>6} {'planned':>8}"
        f" {'regs':>6} | {'req/refresh':>11} {'regs':>6} {'bytes':>7} {'ms':>7}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        print(
            f"{r['model']!s:20} {r['tier']!s:10} {r['points']:>6} {r['naive']:>6} {r['bound']:>6}"
            f" {r['planned']:>8} {r['registers']:>6} | {r['req']:>11.1f} {r['regs']:>6.0f}"
            f" {r['bytes']:>7.0f} {r['ms']:>7.2f}"
        )


async def main(rounds: int) -> int:
    rows: list[dict[str, object]] = []
    for model_id in MODELS:
        rows.extend(await bench_model(model_id, rounds))
    print_table(rows)
    above = [r for r in rows if r["planned"] != r["bound"]]
    for r in above:
        print(f"ABOVE LOWER BOUND: {r['model']} {r['tier']}: {r['planned']} > {r['bound']}")
    return 1 if above else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="refreshes measured per tier")
    sys.exit(asyncio.run(main(parser.parse_args().rounds)))
