"""Simulated Compleo SOLO / DUO.

- Holding 0-5 (station power, fallback) and per-connector maximum power
  (256 right/single, 272 left), everything else input.
- Limits are powers in 100 W steps; the car draws the current that power
  allows on its phases at 230 V.
- Fallback: with register 5 above zero, when no limit was written for that
  many seconds the box charges at the fallback power (register 3) until the
  next write.
"""

from __future__ import annotations

from typing import Any

from custom_components.wallbox_modbus.charger.registers import Point

from .base import NOMINAL_VOLTAGE, WallboxSimulator


class CompleoSimulator(WallboxSimulator):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.fallback = False
        self.fallback_events = 0
        self._last_write: float | None = None

    def setup(self) -> None:
        bank = self.bank
        bank.set("serial_number", f"CMP-{self.variant.upper()}-0001")
        bank.set("firmware", "6.4.1")
        bank.set("connectors", len(self.cars))
        bank.set("hardware_type", "P51 with PM51")
        bank.set("hardware_revision", "13.1")  # board P51 revision 13, PM51 version 1
        bank.set("station_max_power", 22000 * len(self.cars))
        bank.set("max_unbalanced_current", 20.0)
        bank.set("fallback_power", 4200)
        bank.set("fallback_timeout", 0)
        for connector in self.cars:
            bank.set(f"max_power@{connector}", 11000)
            bank.set(f"derating@{connector}", "none")
            bank.set(f"error_code@{connector}", "no_error")
            bank.set(f"tag@{connector}", "")
            bank.hooks[f"max_power@{connector}"] = self._on_limit
        for key in ("station_max_power", "fallback_power", "fallback_timeout"):
            bank.hooks[key] = self._on_limit

    def _on_limit(self, _point: Point, _raw: int) -> None:
        self._last_write = self.clock()
        if self.fallback:
            self.fallback = False
            self.events.append("fallback off")
        self.update()

    def check_timers(self, now: float) -> None:
        timeout = self.bank.raw("fallback_timeout")
        if self._last_write is None:
            if self.server.stats.connections_accepted:
                self._last_write = now
            return
        if timeout and not self.fallback and now - self._last_write > timeout:
            self.fallback = True
            self.fallback_events += 1
            self.lapse(now, "fallback on")

    def keepalive_timeout(self) -> float | None:
        return float(self.bank.raw("fallback_timeout")) or None

    def last_keepalive(self) -> float | None:
        return self._last_write

    def fallen_back(self) -> bool:
        return self.fallback

    def limit(self, connector: int) -> float:
        bank = self.bank
        key = "fallback_power" if self.fallback else f"max_power@{connector}"
        watts = min(float(bank.get(key)), float(bank.get("station_max_power")))
        phases = self.phases_of(self.cars[connector])
        return watts / (phases * NOMINAL_VOLTAGE)

    def publish(self) -> None:
        bank = self.bank
        station_watts = 0.0
        station_amps = [0.0, 0.0, 0.0]
        for connector, car in self.cars.items():
            amps, phases, watts = self.measured(connector)
            limited = car.plugged and car.wants_charge and amps < car.max_current
            if not car.plugged:
                status = "available"
            elif amps:
                status = "charging"
            elif car.wants_charge:
                status = "suspended_evse"
            else:
                status = "suspended_ev"
            bank.set(f"status@{connector}", status)
            word = int(car.plugged) | int(bool(amps)) << 1 | int(bool(limited)) << 2
            bank.set_raw(f"status_word@{connector}", word)
            bank.set(f"power@{connector}", int(watts / 100) * 100)
            for i, phase in enumerate(("l1", "l2", "l3")):
                on = i < phases
                bank.set(f"current_{phase}@{connector}", round(amps, 1) if on else 0)
                bank.set(f"voltage_{phase}@{connector}", self.voltage(i + 1))
                station_amps[i] += amps if on else 0
            session = self.sessions[connector]
            bank.set(f"session_duration@{connector}", int(session.seconds))
            bank.set(f"energy_session@{connector}", int(session.energy_wh / 100) / 10)
            station_watts += watts
        bank.set("station_power", int(station_watts / 100) * 100)
        bank.set("used_power", int(station_watts / 100) * 100)
        for i, phase in enumerate(("l1", "l2", "l3")):
            bank.set(f"station_current_{phase}", round(station_amps[i], 1))
