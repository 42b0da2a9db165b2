"""Watchdog benchmark: Amperfied with a short watchdog, real time, a real Home Assistant.

Two simulated Amperfied boxes (``--model``, default amperfied_business), a car
charging on each, their watchdog (register 257) set to ``--watchdog`` seconds
(default 4), are added through the config flow to one real Home Assistant at
its default scan interval.  One box answers every request; the other loses one
reply every ``--lose-every`` seconds (default 60: the margin against a lost
reply).  Over ``--minutes`` (default 10) it prints, per box:

- the time-outs the simulator saw (it goes into time-out mode when no
  transaction came within the watchdog), and the longest silence between two
  transactions;
- requests and polls per minute, against what the watchdog needs: a poll of
  the fast tier every watchdog / 3 (the keepalive's interval; the slow tier
  every five minutes on top), each poll as many requests as the fast tier's
  plan has blocks (worked out by the device layer on the same simulator);
- reads that are not a block of a poll's plan, and writes (both should be 0:
  the watchdog is served by the data, not by a register nobody shows).

It prints figures and asserts nothing.  Run::

    ~/.cache/wallbox-modbus/ha2025/bin/python scripts/bench_watchdog.py [--minutes 10]
        [--watchdog 4] [--lose-every 60] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT, ROOT / "scripts"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from bench_scale import add_entry, custom_components_dir, start_side, wait_loaded  # noqa: E402

from custom_components.wallbox_modbus.charger import MODELS, Charger, ModbusTransport  # noqa: E402
from custom_components.wallbox_modbus.charger.registers import Tier  # noqa: E402
from simulators.amperfied import AmperfiedSimulator  # noqa: E402
from simulators.registry import SIMULATORS  # noqa: E402

SLOW_EVERY = 300.0  # seconds: the coordinator's slow tier
SAMPLE = 0.05  # seconds between looks at the simulators' last transaction

Block = tuple[str, int, int]


@dataclass
class Box:
    name: str
    sim: AmperfiedSimulator
    lose_every: float
    lost: int = 0
    longest_silence: float = 0.0
    start_requests: int = 0
    start_writes: int = 0
    start_reads: dict[Block, int] = field(default_factory=dict)
    start_timeouts: int = 0


async def plans(model: str, sim: AmperfiedSimulator) -> tuple[set[Block], set[Block], float]:
    """The fast tier's blocks, the slow poll's, and the keepalive interval (device layer)."""
    transport = ModbusTransport("127.0.0.1", sim.port, 255, timeout=2.0)
    charger = Charger(transport, MODELS[model])
    try:
        await charger.identify()
        await charger.refresh(slow=True)
        fast = {(str(b.table), b.address, b.count) for b in charger.reader.plan_for({Tier.FAST})}
        slow = {
            (str(b.table), b.address, b.count)
            for b in charger.reader.plan_for({Tier.FAST, Tier.SLOW})
        }
        assert charger.keepalive is not None
        interval = charger.keepalive.interval()
        assert interval is not None
    finally:
        await charger.close()
    return fast, slow, interval


async def watch(boxes: list[Box], stop: asyncio.Event) -> None:
    """The longest time without a transaction, and the replies to lose."""
    next_loss = {box.name: time.monotonic() + box.lose_every for box in boxes if box.lose_every}
    while not stop.is_set():
        now = time.monotonic()
        for box in boxes:
            box.sim.update()  # the simulator notices a lapsed watchdog now, not at the next request
            last = box.sim.bank.last_transaction
            if last is not None:
                box.longest_silence = max(box.longest_silence, box.sim.clock() - last)
            if box.name in next_loss and now >= next_loss[box.name]:
                box.sim.server.faults.lose_replies = 1
                box.lost += 1
                next_loss[box.name] = now + box.lose_every
        await asyncio.sleep(SAMPLE)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    boxes: list[Box] = []
    for name, lose in (("clean", 0.0), ("lossy", args.lose_every)):
        sim = SIMULATORS[args.model]()
        assert isinstance(sim, AmperfiedSimulator)
        await sim.start()
        if sim.bank.has("serial_number"):  # the config flow refuses a second box of one serial
            sim.bank.set("serial_number", f"BENCH-WATCHDOG-{name.upper()}")
        sim.plug(1)
        sim.bank.set("watchdog_timeout", float(args.watchdog))
        boxes.append(Box(name, sim, lose))
    fast, slow, interval = await plans(args.model, boxes[0].sim)
    workdir = Path(tempfile.mkdtemp(prefix="wallbox-watchdog-"))
    cc = custom_components_dir(workdir, ROOT)
    args.no_recorder = False
    instance = start_side("hass", workdir, cc, args)
    try:
        for box in boxes:
            await asyncio.to_thread(add_entry, instance, args.model, box.sim.port)
        await wait_loaded(instance, len(boxes))
        print(f"{len(boxes)} entries loaded; warming up {args.warmup:.0f} s ...", flush=True)
        await asyncio.sleep(args.warmup)
        for box in boxes:
            stats = box.sim.server.stats
            box.start_requests, box.start_writes = stats.requests, stats.writes
            box.start_reads = dict(stats.reads_by_block)
            box.start_timeouts = box.sim.timeout_events
            box.longest_silence = 0.0
        stop = asyncio.Event()
        watcher = asyncio.create_task(watch(boxes, stop))
        print(f"measuring {args.minutes} min ...", flush=True)
        started = time.monotonic()
        await asyncio.sleep(args.minutes * 60)
        minutes = (time.monotonic() - started) / 60
        stop.set()
        await watcher
    finally:
        instance.stop()
        for box in boxes:
            await box.sim.stop()

    polls_needed = 60 / interval  # per minute, for the watchdog
    slow_extra = len(slow - fast) * 60 / SLOW_EVERY  # requests per minute of the slow tier
    expected = polls_needed * len(fast) + slow_extra
    result: dict[str, Any] = {
        "model": args.model,
        "watchdog_s": args.watchdog,
        "minutes": round(minutes, 2),
        "keepalive_interval_s": interval,
        "fast_blocks": len(fast),
        "slow_blocks": len(slow),
        "expected_requests_per_min": round(expected, 1),
        "boxes": {},
    }
    for box in boxes:
        stats = box.sim.server.stats
        reads = {k: n - box.start_reads.get(k, 0) for k, n in stats.reads_by_block.items()}
        fast_reads = [n for k, n in reads.items() if k in fast]
        other = sum(n for k, n in reads.items() if k not in slow)
        requests = stats.requests - box.start_requests
        result["boxes"][box.name] = {
            "timeouts": box.sim.timeout_events - box.start_timeouts,
            "longest_silence_s": round(box.longest_silence, 2),
            "replies_lost": box.lost,
            "requests_per_min": round(requests / minutes, 1),
            "fast_polls_per_min": round(max(fast_reads, default=0) / minutes, 1),
            "reads_outside_poll_plans": other,
            "writes": stats.writes - box.start_writes,
        }
    return result


def report(result: dict[str, Any]) -> None:
    print()
    print(
        f"model {result['model']}, watchdog {result['watchdog_s']} s, "
        f"{result['minutes']} min measured"
    )
    print(
        f"keepalive interval {result['keepalive_interval_s']:.2f} s (watchdog / 3); fast tier "
        f"{result['fast_blocks']} request(s) a poll, slow poll {result['slow_blocks']}"
    )
    print(f"requests / min the watchdog needs: {result['expected_requests_per_min']}")
    rows = [
        ("time-outs seen by the simulator", "timeouts"),
        ("longest silence, s", "longest_silence_s"),
        ("replies lost on purpose", "replies_lost"),
        ("requests / min", "requests_per_min"),
        ("polls of the fast tier / min", "fast_polls_per_min"),
        ("reads outside the poll plans", "reads_outside_poll_plans"),
        ("writes", "writes"),
    ]
    names = list(result["boxes"])
    print(f"{'':34}" + "".join(f"{n:>10}" for n in names))
    for label, key in rows:
        print(f"{label:34}" + "".join(f"{result['boxes'][n][key]:>10}" for n in names))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--model", default="amperfied_business", help="an Amperfied model")
    parser.add_argument("--watchdog", type=float, default=4.0, help="seconds (default 4)")
    parser.add_argument("--minutes", type=float, default=10, help="measured (default 10)")
    parser.add_argument("--warmup", type=float, default=20, help="seconds before measuring")
    parser.add_argument("--lose-every", type=float, default=60, help="s between lost replies")
    parser.add_argument("--hass", type=Path, help="hass executable (default: this venv's)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    result = asyncio.run(run(args))
    report(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
