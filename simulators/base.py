"""What every simulated wallbox shares: a server, a bank, cars and a clock.

Time is evaluated lazily: on every request the simulator first catches up
with the clock (energy, session time, watchdogs), so tests that freeze or
move time see the same behaviour as the demo running in real time.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from custom_components.wallbox_modbus.charger.const import monotonic
from custom_components.wallbox_modbus.charger.models import ModelInfo

from .bank import MapBank
from .lies import Lie
from .modbus_server import ModbusTcpServer

_LOGGER = logging.getLogger(__name__)

NOMINAL_VOLTAGE = 230


@dataclass
class Car:
    """A simulated car on one connector."""

    plugged: bool = False
    wants_charge: bool = True
    max_current: float = 16.0  # what the car's onboard charger takes per phase
    phases: int = 3

    def draw(self, limit: float) -> float:
        """Current per phase the car draws under a limit (IEC 61851: nothing below 6 A)."""
        if not self.plugged or not self.wants_charge or limit < 6:
            return 0.0
        return min(limit, self.max_current)


@dataclass
class Session:
    """Energy and time of the current (or last) charging session on a connector."""

    energy_wh: float = 0.0
    seconds: float = 0.0
    started: dt.datetime | None = None
    ended: dt.datetime | None = None


class WallboxSimulator:
    """Base of the family simulators."""

    def __init__(
        self,
        *,
        model: ModelInfo,
        host: str = "127.0.0.1",
        port: int = 0,
        unit_id: int | None = None,
        clock: Callable[[], float] = monotonic,
        wall_clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(),
        layout: tuple[int, ...] | None = None,
        supply_phases: int = 3,
        lie: Lie | None = None,
    ) -> None:
        self.model = model
        self.variant = model.variant
        self.clock = clock
        self.lie = lie
        if lie is not None and lie.clock_offset:
            offset = dt.timedelta(seconds=lie.clock_offset)
            self.wall_clock: Callable[[], dt.datetime] = lambda: wall_clock() + offset
        else:
            self.wall_clock = wall_clock
        # Phases the installation feeds (a single-phase supply has 0 V on L2 and L3).
        self.supply_phases = lie.supply_phases if lie is not None else supply_phases
        variant = model.regmap.variants[model.variant]
        self.layout = layout or variant.layout
        # A layout older than the variant's minimum still serves what the minimum has.
        served = self.layout
        if served is not None and variant.layout is not None and served < variant.layout:
            served = variant.layout
        self.bank = MapBank(model.regmap, model.variant, layout=served, clock=clock, lie=lie)
        self.server = ModbusTcpServer(
            self.bank,
            host=host,
            port=port,
            unit_id=unit_id,
            max_connections=model.regmap.max_connections,
        )
        connectors = variant.connectors
        self.cars = {c: Car() for c in range(1, connectors + 1)}
        self.sessions = {c: Session() for c in range(1, connectors + 1)}
        self.energy_total_wh = 0.0
        self.frozen_values = False
        self._last_update = clock()
        self.bank.before_request = self.update
        self.server.before_accept = self.update
        self.events: list[str] = []
        # clock() of each time the box fell back for want of a keepalive
        self.lapses: list[float] = []
        self._set_up = False
        self._tasks: set[asyncio.Task[Any]] = set()

    # ------------------------------------------------------------ lifecycle

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def host(self) -> str:
        return "127.0.0.1"

    async def start(self) -> None:
        """Listen (again); the registers are set up the first time only (a restart of the
        server after stop() is an outage of the network, not a new box)."""
        if not self._set_up:
            self.setup()
            self._set_up = True
        self.update()
        await self.server.start()

    async def stop(self) -> None:
        await self.server.stop()
        for task in list(self._tasks):
            task.cancel()
        self._tasks.clear()

    def setup(self) -> None:
        """Family hook: identity and defaults."""

    def spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def drop_connections(self) -> None:
        """The box resets every TCP connection now (the request in hand gets no reply)."""
        self.server.abort_connections()

    # ------------------------------------------------------------ car

    def plug(self, connector: int = 1, *, max_current: float = 16.0, phases: int = 3) -> None:
        if self.lie is not None and self.lie.car_phases:
            phases = self.lie.car_phases
        car = self.cars[connector]
        car.plugged, car.max_current, car.phases, car.wants_charge = True, max_current, phases, True
        self.sessions[connector] = Session(started=self.wall_clock())
        self.events.append(f"plug {connector}")
        self.update()

    def unplug(self, connector: int = 1) -> None:
        self.update()
        self.cars[connector].plugged = False
        self.sessions[connector].ended = self.wall_clock()
        self.events.append(f"unplug {connector}")
        self.on_unplug(connector)
        self.update()

    def on_unplug(self, connector: int) -> None:
        """Family hook."""

    def car_full(self, connector: int = 1) -> None:
        self.cars[connector].wants_charge = False
        self.update()

    # ------------------------------------------------------------ time

    def limit(self, connector: int) -> float:
        """The current per phase the box offers the car now (family specific)."""
        raise NotImplementedError

    def update(self) -> None:
        """Catch up with the clock: watchdogs, energy, then the registers."""
        now = self.clock()
        elapsed = max(0.0, now - self._last_update)
        self._last_update = now
        self.check_timers(now)
        if self.frozen_values:
            return
        for connector, car in self.cars.items():
            amps = car.draw(self.limit(connector))
            watts = amps * NOMINAL_VOLTAGE * self.phases_of(car)
            if watts:
                session = self.sessions[connector]
                session.energy_wh += watts * elapsed / 3600
                session.seconds += elapsed
                self.energy_total_wh += watts * elapsed / 3600
                self.energy_counted(watts * elapsed / 3600)
        self.publish()

    def check_timers(self, now: float) -> None:
        """Family hook: watchdogs and delayed state changes."""

    # ------------------------------------------------------------ keepalive, as the box sees it

    def keepalive_timeout(self) -> float | None:
        """Family hook: seconds the box waits for its master before falling back (None: off)."""
        return None

    def last_keepalive(self) -> float | None:
        """Family hook: clock() of the last request that served the box's timer."""
        return None

    def fallen_back(self) -> bool:
        """Family hook: the box is in its fallback state (failsafe, time-out mode, ...)."""
        return False

    def lapse(self, now: float, event: str) -> None:
        """The box fell back because its master was silent for longer than its timeout."""
        self.lapses.append(now)
        self.events.append(event)

    def energy_counted(self, wh: float) -> None:
        """Family hook: energy that just flowed (counters of its own)."""

    def publish(self) -> None:
        """Family hook: write the state into the registers."""

    def advance(self, seconds: float) -> None:
        """For simulators on a fake clock: run the physics after the clock moved."""
        self.update()

    def phases_of(self, car: Car) -> int:
        """Phases a car draws on: its own, as far as the supply feeds them."""
        return min(car.phases, self.supply_phases)

    def voltage(self, phase: int) -> float:
        """The voltage of a phase (1..3) at the box: 0 on a phase the supply does not feed."""
        return NOMINAL_VOLTAGE if phase <= self.supply_phases else 0.0

    def measured(self, connector: int) -> tuple[float, int, float]:
        """(amps per phase, phases, watts) flowing on a connector now."""
        car = self.cars[connector]
        amps = car.draw(self.limit(connector))
        phases = self.phases_of(car) if amps else 0
        return amps, phases, amps * NOMINAL_VOLTAGE * phases

    def describe(self) -> dict[str, Any]:
        return {
            "model": type(self).__name__,
            "port": self.port,
            "cars": {c: vars(car) for c, car in self.cars.items()},
        }
