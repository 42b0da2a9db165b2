"""A charger driven the way the Home Assistant coordinator drives it, on a clock of its own.

``Rig`` starts the simulator of a model and a charger on it, both on one fake
clock (the box's wall clock follows it, so the Vestel freeze watch sees a
running clock), and spies on every write the transport is asked to send.
``advance(seconds)`` moves the clock the way the coordinator's timers would:
a poll every scan interval (the slow tier every five minutes and after a
write), the timed work (keepalive, held-back writes) exactly when
``next_due`` names it, a poll when the watchdog asks for one.

The checks are the invariants of the issue "Hostile input and faults over time":

- ``bad_writes()``: writes outside the valid values, seen by the spy (against
  the map, with the maxima the box reports at that moment) and by the box;
- ``keepalive_late()``: the next keepalive is due later than the box's
  current timeout / per_timeout after the box was last served;
- ``lapses``: the box fell back for want of a keepalive;
- ``differences()``: after a quiet period, what the snapshot says (values and
  wishes) against what the box holds.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from custom_components.wallbox_modbus.charger import (
    MODELS,
    Charger,
    ChargerError,
    ModbusTransport,
    Snapshot,
    Tier,
)
from custom_components.wallbox_modbus.charger.codec import decode
from custom_components.wallbox_modbus.charger.registers import Point
from simulators.base import WallboxSimulator
from simulators.registry import SIMULATORS

SCAN = 10.0  # the coordinator's default scan interval
SLOW = 300.0  # the slow tier's interval
EPOCH = dt.datetime(2026, 11, 21, 10, 0, 0)


class FakeClock:
    """A monotonic clock the rig moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def wall(self) -> dt.datetime:
        return EPOCH + dt.timedelta(seconds=self.now)


@dataclass
class SpiedWrite:
    at: float
    address: int
    raw: int
    why: str | None  # None: valid


@dataclass
class Rig:
    """One simulated box of a model and a charger on it."""

    model: str
    sim: WallboxSimulator
    charger: Charger
    clock: FakeClock
    spied: list[SpiedWrite] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # ChargerErrors of polls and timed work
    polls: int = 0
    _next_poll: float = 0.0
    _next_slow: float = 0.0
    _slow_requested: bool = True

    # ------------------------------------------------------------------ set-up

    @classmethod
    async def start(cls, model: str, **sim_kwargs: Any) -> Rig:
        clock = FakeClock()
        sim = SIMULATORS[model](port=0, clock=clock, wall_clock=clock.wall, **sim_kwargs)
        await sim.start()
        for connector in sim.cars:
            sim.plug(connector)
        transport = ModbusTransport(
            "127.0.0.1", sim.port, 255, timeout=1.0, backoff_initial=0, clock=clock
        )
        charger = Charger(transport, MODELS[model], clock=clock)
        rig = cls(model=model, sim=sim, charger=charger, clock=clock)
        rig._spy()
        await charger.identify()
        await rig.poll(slow=True)
        return rig

    async def stop(self) -> None:
        await self.charger.close()
        await self.sim.stop()

    def _spy(self) -> None:
        transport = self.charger.transport
        send = transport.write_register

        async def write_register(address: int, value: int) -> None:
            point = self.sim.bank.points_at(address)
            why = "no such register" if point is None else self.sim.bank.why_invalid(point, value)
            self.spied.append(SpiedWrite(self.clock(), address, value, why))
            await send(address, value)

        transport.write_register = write_register  # type: ignore[method-assign]

    # ------------------------------------------------------------------ the coordinator

    async def poll(self, *, slow: bool = False) -> Snapshot | None:
        """One refresh as the coordinator does it (the slow tier when due or asked for)."""
        now = self.clock()
        slow = slow or self._slow_requested or now >= self._next_slow
        self._next_poll = now + SCAN
        self.polls += 1
        try:
            snapshot = await self.charger.refresh(slow=slow)
        except ChargerError as err:
            self.errors.append(f"poll: {err}")
            return None
        if slow:
            self._next_slow = now + SLOW
            self._slow_requested = False
        return snapshot

    async def after_write(self) -> None:
        """What a control does after a write: read the box back, settings included."""
        self._slow_requested = True
        await self.poll()

    async def command(self, action: Callable[[], Awaitable[None]]) -> str | None:
        """Run a control; None if it went through, else the error's class name."""
        try:
            await action()
        except ChargerError as err:
            await self.after_write()
            return type(err).__name__
        await self.after_write()
        return None

    async def run_due(self) -> None:
        try:
            ran = await self.charger.run_due()
        except ChargerError as err:
            self.errors.append(f"timed work: {err}")
            return
        if ran.poll:
            await self.poll()
        elif ran.wrote:
            await self.after_write()

    async def advance(self, seconds: float) -> None:
        """Move the clock, running every poll and timed task when it falls due."""
        end = self.clock() + seconds
        for _ in range(100_000):
            due = self.charger.next_due()
            when = min(self._next_poll, end if due is None else min(due.at, end))
            self.clock.now = max(self.clock.now, when)
            if due is not None and due.at <= self.clock.now:
                await self.run_due()
            elif self._next_poll <= self.clock.now:
                await self.poll()
            if self.clock.now >= end and (due is None or due.at > end):
                return
        raise AssertionError("advance() did not finish: timed work falls due without end")

    async def concurrently(self, *actions: Callable[[], Awaitable[Any]]) -> list[Any]:
        """Several things at once (a burst of commands, a poll running into a write)."""
        return list(await asyncio.gather(*(a() for a in actions), return_exceptions=True))

    # ------------------------------------------------------------------ invariants

    def bad_writes(self) -> list[str]:
        spied = [f"sent {w.raw} to {w.address} at {w.at:.1f}: {w.why}" for w in self.spied if w.why]
        box = [
            f"box got {w.raw} for {w.point} at {w.at:.1f}: {w.why}"
            for w in self.sim.bank.invalid_writes
        ]
        return spied + box

    def keepalive_late(self) -> str | None:
        """The next keepalive later than the box's timeout / per_timeout after its last serve.

        Only asked while the last attempt went through: a failed one is retried
        a second later, within the margin that per_timeout leaves.
        """
        keepalive = self.charger.keepalive
        timeout = self.sim.keepalive_timeout()
        last = self.sim.last_keepalive()
        if keepalive is None or timeout is None or last is None:
            return None
        due = keepalive.due()
        if due is None:
            return f"no keepalive due while the box waits {timeout:g} s"
        limit = last + timeout / keepalive.spec.per_timeout
        if due.at > limit + 1e-6:
            return (
                f"keepalive due at {due.at:.2f}, box served at {last:.2f} with a timeout of"
                f" {timeout:g} s: due by {limit:.2f}"
            )
        return None

    @property
    def lapses(self) -> list[float]:
        return self.sim.lapses

    def differences(self, snapshot: Snapshot) -> list[str]:
        """What the snapshot says against what the box holds (call right after a poll)."""
        found: list[str] = []
        bank = self.sim.bank
        for pt in self.charger.points:
            if not pt.readable or pt.tier not in (Tier.FAST, Tier.SLOW):
                continue
            if pt.id in snapshot.failed or pt.length_from:
                continue
            box = decode(pt, bank.words(pt))
            if snapshot.values.get(pt.id) != box:
                found.append(f"{pt.id}: snapshot {snapshot.values.get(pt.id)!r}, box {box!r}")
        for connector, limit in self.charger.limits.items():
            found += self._wish_differences(snapshot, connector, limit.point)
        switch = self.charger.phase_switch
        if switch is not None:
            wish = snapshot.wish(switch.connector).phases
            box_phases = bank.get(switch.state.id)
            if str(wish) != str(box_phases):
                found.append(f"phases: wish {wish}, box {box_phases}")
        if self.sim.fallen_back():
            found.append("the box is in its fallback state")
        return found

    def _wish_differences(self, snapshot: Snapshot, connector: int | None, pt: Point) -> list[str]:
        limit = self.charger.limits[connector]
        wish = snapshot.wish(connector)
        raw = self.sim.bank.raw(pt.id)
        where = f"limit {pt.id}"
        if wish.paused is None:
            return [f"{where}: no wish known"]
        if wish.paused:
            if raw == limit.spec.pause:
                return []
            reset = limit.spec.resets_when_unplugged
            plugged = snapshot.values.get("vehicle_connected" if connector is None
                                          else f"vehicle_connected@{connector}")  # fmt: skip
            if reset is not None and plugged is False and limit.matches(reset, {pt.id: raw}):
                return []  # the box's own reset with nothing plugged in, applied on arrival
            return [f"{where}: paused, box holds {raw}"]
        if raw == limit.spec.pause:
            return [f"{where}: charging at {wish.limit} A wished, box paused"]
        if wish.limit is None or not limit.matches(wish.limit, {pt.id: decode(pt, [raw])}):
            return [f"{where}: {wish.limit} A wished, box holds {raw}"]
        return []

    async def quiet(self, seconds: float = 130.0) -> list[str]:
        """No commands for a while (held-back writes, phase blocks and polls run out),
        then the snapshot of one more poll against the box."""
        await self.advance(seconds)
        await self.poll(slow=True)  # sees the last settings; may apply a wish again ...
        snapshot = await self.poll(slow=True)  # ... and this one reads what that did
        if snapshot is None:
            return [f"the box did not answer after the quiet period: {self.errors[-1:]}"]
        return self.differences(snapshot)
