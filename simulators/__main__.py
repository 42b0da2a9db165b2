"""Run simulators standalone.

    python -m simulators vestel_evc04 --port 1502
    python -m simulators --all --base-port 15020     # one per model, ports printed
    python -m simulators --map my_wallbox.yaml --port 1502   # any register map file
    python -m simulators --all --time-zone Europe/Berlin   # the boxes' clocks in that zone

A simulated car is plugged in on every connector so that values move.  The
boxes' clocks show the machine's local time, or that of --time-zone (set it to
Home Assistant's, as a box set up by its owner would be).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import signal
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

from custom_components.wallbox_modbus.charger import RegisterMapError, load_user_map

from .base import WallboxSimulator
from .registry import SIMULATORS, simulator_for


def _wall_clock(time_zone: str | None) -> Callable[[], dt.datetime]:
    """The boxes' clock: local time of the machine, or of a time zone (naive, as a box has it)."""
    if time_zone is None:
        return dt.datetime.now
    zone = ZoneInfo(time_zone)
    return lambda: dt.datetime.now(zone).replace(tzinfo=None)


async def _serve(
    models: list[tuple[str, Callable[..., WallboxSimulator]]],
    base_port: int,
    host: str,
    plug: bool,
    time_zone: str | None = None,
) -> None:
    sims: list[tuple[str, WallboxSimulator]] = []
    wall_clock = _wall_clock(time_zone)
    for offset, (model, factory) in enumerate(models):
        sim = factory(host=host, port=base_port + offset if base_port else 0, wall_clock=wall_clock)
        await sim.start()
        if plug:
            for connector in sim.cars:
                sim.plug(connector, max_current=16 if connector == 1 else 10)
        sims.append((model, sim))
        print(json.dumps({"model": model, "host": host, "port": sim.port}), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        while not stop.is_set():
            for _, sim in sims:
                sim.update()  # move energy and timers forward even without traffic
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)
    finally:
        for _, sim in sims:
            await sim.stop()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m simulators", description=__doc__)
    parser.add_argument("model", nargs="?", choices=sorted(SIMULATORS))
    parser.add_argument("--all", action="store_true", help="one simulator per model")
    parser.add_argument("--map", type=Path, help="a register map file (JSON or YAML) to serve")
    parser.add_argument("--variant", help="the map's variant (default: each, one port apart)")
    parser.add_argument("--port", type=int, default=1502, help="port (single model)")
    parser.add_argument("--base-port", type=int, default=15020, help="first port with --all")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--no-car", action="store_true", help="leave the connectors empty")
    parser.add_argument("--time-zone", help="the boxes' clocks in this zone (e.g. Europe/Berlin)")
    args = parser.parse_args()
    if args.map is not None:
        try:
            found = load_user_map(args.map)
        except RegisterMapError as err:
            parser.exit(2, f"{err}\n")
        found = [m for m in found if args.variant in (None, m.variant)]
        if not found:
            parser.error(f"{args.map.name} has no variant {args.variant!r}")
        models = [(m.id, simulator_for(m)) for m in found]
        port = args.port
    elif args.all:
        models, port = list(SIMULATORS.items()), args.base_port
    elif args.model:
        models, port = [(args.model, SIMULATORS[args.model])], args.port
    else:
        parser.error("name a model, a --map file, or use --all")
    asyncio.run(_serve(models, port, args.host, not args.no_car, args.time_zone))


if __name__ == "__main__":
    main()
