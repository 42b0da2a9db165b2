"""A verification run against a simulator over TCP, on a fake clock."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from custom_components.wallbox_modbus.charger import MODELS, Charger, ModbusTransport, ModelInfo
from custom_components.wallbox_modbus.charger.verify import Report, Verification
from simulators.base import WallboxSimulator
from simulators.lies import Lie
from simulators.registry import SIMULATORS, simulator_for

BASE = dt.datetime(2026, 11, 21, 10, 0, 0)  # the host's local time when the clock reads START
START = 1000.0


class FakeClock:
    """The charger's and the simulator's monotonic clock, moved by the run's sleeps."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now

    def wall(self) -> dt.datetime:
        """The box's wall clock (naive local time), in step with the monotonic one."""
        return BASE + dt.timedelta(seconds=self.now - START)

    def host(self) -> dt.datetime:
        """The host's local time, aware."""
        return self.wall().astimezone()


@dataclass
class Box:
    sim: WallboxSimulator
    charger: Charger
    clock: FakeClock

    async def sleep(self, seconds: float) -> None:
        self.clock.now += seconds
        self.sim.advance(seconds)
        await asyncio.sleep(0)

    async def check(self, **kwargs: Any) -> Report:
        verification = Verification(
            self.charger, wall_clock=self.clock.host, sleep=self.sleep, **kwargs
        )
        return await verification.run()

    def writes(self, address: int | None = None) -> list[Any]:
        log = list(self.sim.server.stats.writes_log)
        return [v for a, v in log if address is None or a == address]


@contextlib.asynccontextmanager
async def box(
    model: str | ModelInfo,
    *,
    lie: Lie | None = None,
    plug: bool = True,
    **sim_kwargs: Any,
) -> AsyncIterator[Box]:
    """A simulator of a model (a car plugged in on every connector) and a charger on it."""
    info = MODELS[model] if isinstance(model, str) else model
    clock = FakeClock()
    factory = SIMULATORS.get(info.id) if info.id in MODELS and MODELS[info.id] is info else None
    factory = factory or simulator_for(info)
    sim = factory(port=0, clock=clock, wall_clock=clock.wall, lie=lie, **sim_kwargs)
    await sim.start()
    if plug:
        for connector in sim.cars:
            sim.plug(connector)
    unit_id = int(info.regmap.defaults.get("unit_id", 255))
    transport = ModbusTransport(
        "127.0.0.1", sim.port, unit_id, timeout=1.0, backoff_initial=0, clock=clock
    )
    charger = Charger(transport, info, clock=clock)
    try:
        await charger.identify()
        yield Box(sim=sim, charger=charger, clock=clock)
    finally:
        await charger.close()
        await sim.stop()
