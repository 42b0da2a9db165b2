"""Simulated wallboxes in the test process, on a thread with an asyncio loop of its own.

The browser test needs to see what a wallbox received, and an Amperfied box accepts
only one TCP connection (Home Assistant holds it), so the test does not ask the box
over Modbus: it reads the in-process simulator objects instead.  Everything that
touches a simulator runs on the simulators' loop (``SimulatorThread.call``), so the
test thread never races the server.

    with SimulatorThread(["vestel_evc04", "compleo_duo"]) as sims:
        port = sims.port("vestel_evc04")
        ...
        sims.wait_for_write("vestel_evc04", 5004, [10], timeout=10)
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from custom_components.wallbox_modbus.charger import ModelInfo  # noqa: E402
from simulators.base import WallboxSimulator  # noqa: E402
from simulators.registry import SIMULATORS, simulator_for  # noqa: E402

T = TypeVar("T")

Write = tuple[int, list[int]]


class SimulatorThread:
    """One simulator per model, each on a free port of 127.0.0.1, a car on every connector.

    A model is a shipped model's id, or a ModelInfo (a user's map), known by its id.
    """

    THREAD_NAME = "wallbox-simulators"

    def __init__(
        self,
        models: Sequence[str | ModelInfo],
        *,
        car_current: float = 16.0,
        car_phases: int = 3,
        tick: float = 1.0,
    ) -> None:
        self._factories: dict[str, Callable[..., WallboxSimulator]] = {
            m.id if isinstance(m, ModelInfo) else m: (
                simulator_for(m) if isinstance(m, ModelInfo) else SIMULATORS[m]
            )
            for m in models
        }
        self.models = list(self._factories)
        self.car_current = car_current
        self.car_phases = car_phases
        self.tick = tick
        self.sims: dict[str, WallboxSimulator] = {}
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run_loop, name=self.THREAD_NAME, daemon=True)
        self._ticker: asyncio.Task[None] | None = None

    # -- lifecycle -----------------------------------------------------------------------

    def _run_loop(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()

    def start(self, timeout: float = 30.0) -> SimulatorThread:
        self._thread.start()
        try:
            self._run(self._start_all(), timeout)
        except BaseException:
            self.stop()
            raise
        return self

    async def _start_all(self) -> None:
        for model in self.models:
            sim = self._factories[model](port=0)
            await sim.start()
            self.sims[model] = sim
            for connector in sim.cars:
                sim.plug(connector, max_current=self.car_current, phases=self.car_phases)
        self._ticker = asyncio.ensure_future(self._tick())

    async def _tick(self) -> None:
        """Move energy and timers forward even between requests (as `python -m simulators`)."""
        while True:
            await asyncio.sleep(self.tick)
            for sim in self.sims.values():
                sim.update()

    async def _stop_all(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
        for sim in self.sims.values():
            await sim.stop()

    def stop(self, timeout: float = 15.0) -> None:
        """Stop the servers, then the loop and the thread (idempotent)."""
        if self._thread.is_alive():
            with contextlib.suppress(Exception):
                self._run(self._stop_all(), timeout)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout)
        if not self._thread.is_alive() and not self._loop.is_closed():
            self._loop.close()

    def __enter__(self) -> SimulatorThread:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- access from the test thread -------------------------------------------------------

    def _run(self, coro: Any, timeout: float) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def call(self, func: Callable[[], T], timeout: float = 10.0) -> T:
        """Run `func` on the simulators' loop and return its result."""

        async def wrapper() -> T:
            return func()

        result: T = self._run(wrapper(), timeout)
        return result

    def run(self, coro: Any, timeout: float = 30.0) -> Any:
        """Run a coroutine on the simulators' loop (stop or start a server) and wait for it."""
        return self._run(coro, timeout)

    def port(self, model: str) -> int:
        return self.sims[model].port

    def writes(self, model: str) -> list[Write]:
        """Copy of the accepted writes of one simulator: (address, [raw values]) in order."""
        sim = self.sims[model]
        return self.call(lambda: [(a, list(v)) for a, v in sim.server.stats.writes_log])

    def raw(self, model: str, point_id: str) -> int:
        """Raw first register of a point of one simulator's bank."""
        sim = self.sims[model]
        return self.call(lambda: sim.bank.raw(point_id))

    def wait_for_write(
        self, model: str, address: int, values: list[int], *, since: int = 0, timeout: float = 15
    ) -> list[Write]:
        """Wait until writes_log[since:] holds (address, values); return writes_log[since:].

        Raises AssertionError with every write seen since `since` if it does not come.
        """
        deadline = time.monotonic() + timeout
        while True:
            seen = self.writes(model)[since:]
            if (address, values) in seen:
                return seen
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{model}: no write of {values} to register {address} within {timeout:.0f} s;"
                    f" writes since the action: {seen}"
                )
            time.sleep(0.2)
