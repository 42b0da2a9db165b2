"""Run simulators standalone.

    python -m simulators vestel_evc04 --port 1502
    python -m simulators --all --base-port 15020     # one per model, ports printed

A simulated car is plugged in on every connector so that values move.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal

from .base import WallboxSimulator
from .registry import SIMULATORS


async def _serve(models: list[str], base_port: int, host: str, plug: bool) -> None:
    sims: list[tuple[str, WallboxSimulator]] = []
    for offset, model in enumerate(models):
        sim = SIMULATORS[model](host=host, port=base_port + offset if base_port else 0)
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
    parser.add_argument("--port", type=int, default=1502, help="port (single model)")
    parser.add_argument("--base-port", type=int, default=15020, help="first port with --all")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--no-car", action="store_true", help="leave the connectors empty")
    args = parser.parse_args()
    if args.all:
        models, port = list(SIMULATORS), args.base_port
    elif args.model:
        models, port = [args.model], args.port
    else:
        parser.error("name a model or use --all")
    asyncio.run(_serve(models, port, args.host, not args.no_car))


if __name__ == "__main__":
    main()
