"""Simulated Vestel EVC04.

- Input registers for everything read only; 2000, 2002, 5004, 6000 holding.
- The master writes 1 to the alive register (6000).  If it does not within
  the failsafe timeout (2002, default 20 s) the box drops the TCP socket,
  charges at the failsafe current (2000) and refuses new connections for a
  few seconds.  It stays in the failsafe state (alive writes keep the new
  socket up) until the master writes a charging current (5004) again.
- 5004 is the limit in whole amperes; 0 pauses.  When the car leaves while
  paused, the box puts 5004 back to 6 A.
- The clock (290 / 294) follows the wall clock; ``clock_runs=False`` plays a
  box whose clock never moves (not set, or none): it keeps the time it had
  when the simulator started.
"""

from __future__ import annotations

from typing import Any

from custom_components.wallbox_modbus.charger.registers import Point

from .base import NOMINAL_VOLTAGE, WallboxSimulator

REFUSE_AFTER_FAILSAFE = 5.0


class VestelSimulator(WallboxSimulator):
    def __init__(self, *, clock_runs: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.clock_runs = clock_runs
        self._clock_set = False
        self.failsafe = False
        self.failsafe_events = 0
        self.alive_writes = 0
        self._last_alive: float | None = None
        self._refuse_until = 0.0

    def setup(self) -> None:
        bank = self.bank
        bank.set("serial_number", "EVC04-SIM-00001")
        bank.set("chargepoint_id", "VESTEL-SIM-CP1")
        bank.set("brand", "Vestel")
        bank.set("model", "EVC04")
        bank.set("firmware", "v3.187.0")
        bank.set("rated_power", 22000)
        bank.set("phases", 3)
        bank.set("evse_min_current", 6)
        bank.set("evse_max_current", 32)
        bank.set("session_max_current", 32)
        bank.set("failsafe_current", 6)
        bank.set("failsafe_timeout", 20)
        bank.set("charging_current", 16)
        bank.hooks["alive"] = self._on_alive
        bank.hooks["charging_current"] = self._on_limit
        bank.on_transaction = None

    def _on_alive(self, _point: Point, _raw: int) -> None:
        self.alive_writes += 1
        self._last_alive = self.clock()

    def _on_limit(self, _point: Point, _raw: int) -> None:
        if self.failsafe:
            self.failsafe = False
            self.events.append("failsafe off")
        self.update()

    def check_timers(self, now: float) -> None:
        timeout = self.bank.raw("failsafe_timeout")
        if self._refuse_until and now >= self._refuse_until:
            self.server.faults.refuse_connections = False
            self._refuse_until = 0.0
        if self._last_alive is None:
            # The failsafe clock starts with the first client.
            if self.server.stats.connections_accepted:
                self._last_alive = now
            return
        if timeout and not self.failsafe and now - self._last_alive > timeout:
            self._last_alive = now  # the failsafe clock starts again with the next client
            self.failsafe = True
            self.failsafe_events += 1
            self.lapse(now, "failsafe on")
            self._refuse_until = now + REFUSE_AFTER_FAILSAFE
            self.server.faults.refuse_connections = True
            self.drop_connections()

    def keepalive_timeout(self) -> float | None:
        return float(self.bank.raw("failsafe_timeout")) or None

    def last_keepalive(self) -> float | None:
        return self._last_alive

    def fallen_back(self) -> bool:
        return self.failsafe

    def limit(self, connector: int) -> float:
        if self.failsafe:
            return float(self.bank.raw("failsafe_current"))
        return float(self.bank.raw("charging_current"))

    def on_unplug(self, connector: int) -> None:
        if self.bank.raw("charging_current") == 0:
            self.bank.set("charging_current", 6)

    def publish(self) -> None:
        bank = self.bank
        car = self.cars[1]
        amps, phases, watts = self.measured(1)
        limit = self.limit(1)
        if not car.plugged:
            status, cable = "available", "not_connected"
        elif amps:
            status, cable = "charging", "vehicle_locked"
        elif limit < 6:
            status, cable = "suspended_evse", "vehicle_locked"
        else:
            status, cable = "suspended_ev", "vehicle_locked"
        bank.set("status", status)
        bank.set("cable_state", cable)
        bank.set("charging", bool(amps))
        bank.set("equipment_state", "running")
        bank.set("cable_max_current", 32 if car.plugged else 0)
        for i, phase in enumerate(("l1", "l2", "l3"), start=1):
            on = i <= phases
            bank.set(f"current_{phase}", amps if on else 0)
            bank.set(f"voltage_{phase}", self.voltage(i))
            bank.set(f"power_{phase}", round(amps * NOMINAL_VOLTAGE) if on else 0)
        bank.set("power", round(watts))
        bank.set("energy_total", int(self.energy_total_wh / 100) / 10)
        session = self.sessions[1]
        bank.set("energy_session", int(session.energy_wh) / 1000)
        bank.set("session_duration", int(session.seconds))
        if session.started:
            bank.set("session_start_time", _hhmmss(session.started))
        if session.ended:
            bank.set("session_end_time", _hhmmss(session.ended))
        if self.clock_runs or not self._clock_set:
            now = self.wall_clock()
            bank.set("date", int(now.strftime("%y%m%d")))
            bank.set("time", _hhmmss(now))
            self._clock_set = True


def _hhmmss(when: Any) -> int:
    return int(when.strftime("%H%M%S"))
