"""Simulated Amperfied connect.home / .business / .solar.

- One TCP connection at a time; a second is closed at once.
- Layout version per variant (home 1.0.8, business 2.0.0, solar 2.0.1);
  registers the layout or variant lacks answer exception 2.
- Watchdog (257, ms): without a successful transaction for that long the box
  enters time-out mode and charges at the failsafe current (262) until the
  master writes the maximal current (261) again.
- A reboot (power cycle) drops every connection; 261 is back at its
  documented default 0 (no charging), the energy since power on starts from
  0, and the phase switch is back in three-phase mode.
- 261 in 0.1 A: 0 or 60–160 (1–59 would be 0; the map refuses them).
- Phase switch (solar): after a write to 501, 5001 reads 0 for a few seconds,
  then the new phase count; further switches are ignored for 90 s.  After a
  reboot the box is back in three-phase mode.
"""

from __future__ import annotations

from typing import Any

from custom_components.wallbox_modbus.charger.registers import Point

from .base import NOMINAL_VOLTAGE, WallboxSimulator

SWITCH_SECONDS = 5.0
SWITCH_BLOCK = 90.0


class AmperfiedSimulator(WallboxSimulator):
    def __init__(self, *, mid: bool | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.mid = self.variant == "business" if mid is None else mid
        self.energy_since_power_on_wh = 0.0
        self.reboots = 0
        self.timeout_mode = False
        self.timeout_events = 0
        self.phases_active = 3
        self._switch_done: float | None = None
        self._switch_target = 3
        self._switch_blocked_until = 0.0

    def setup(self) -> None:
        bank = self.bank
        layout = self.layout or (1, 0, 8)
        bank.set("layout_version", ".".join(str(p) for p in layout))
        bank.set("temperature", 25.0)
        bank.set("hw_max_current", 16)
        bank.set("hw_min_current", 6)
        bank.set("software_revision", 23)
        bank.set("external_lock", "unlocked")
        bank.set("watchdog_timeout", 15.0)
        bank.set("remote_lock", "unlocked")
        bank.set("charging_current", 16.0)
        bank.set("failsafe_current", 6.0)
        if bank.has("serial_number"):
            bank.set("serial_number", f"AMP-{self.variant.upper()}-0001")
            bank.set("item_number", "00.779.2965")
            bank.set("production_date", "1723")
            bank.set("firmware", "V" + ".".join(str(p) for p in layout))
            bank.set("firmware_variant", "HDM")
            bank.set("mid_available", self.mid)
        if self.mid and bank.has("mid_serial_number"):
            bank.set("mid_serial_number", "553914896")
        if not self.mid:
            for key in [k for k in bank.points if k.startswith("mid_") and k != "mid_available"]:
                bank.remove(key)
        if bank.has("phase_switch"):
            bank.set("phase_switch", 3)
            bank.set("phase_switch_state", "3")
            bank.hooks["phase_switch"] = self._on_phase_switch
        bank.hooks["charging_current"] = self._on_limit

    def _on_limit(self, _point: Point, _raw: int) -> None:
        if self.timeout_mode:
            self.timeout_mode = False
            self.events.append("timeout mode off")
        self.update()

    def _on_phase_switch(self, point: Point, raw: int) -> None:
        now = self.clock()
        if now < self._switch_blocked_until:
            self.bank.set("phase_switch", self._switch_target)  # ignored while blocked
            self.events.append("phase switch ignored")
            return
        self._switch_target = raw
        self._switch_done = now + SWITCH_SECONDS
        self._switch_blocked_until = now + SWITCH_BLOCK
        self.bank.set("phase_switch_state", "switching")
        self.events.append(f"phase switch to {raw}")

    def reboot(self) -> None:
        """Power cycle: 261 at its default 0, three phases, counters since power on reset."""
        self.update()
        self.reboots += 1
        self.events.append("reboot")
        if self.bank.has("phase_switch"):
            self.phases_active = self._switch_target = 3
            self._switch_done = None
            self._switch_blocked_until = 0.0
            self.bank.set("phase_switch", 3)
            self.bank.set("phase_switch_state", "3")
        self.bank.set_raw("charging_current", 0)
        self.timeout_mode = False
        self.energy_since_power_on_wh = 0.0
        self.sessions = {c: type(s)(started=s.started) for c, s in self.sessions.items()}
        self.drop_connections()
        self.update()

    def energy_counted(self, wh: float) -> None:
        self.energy_since_power_on_wh += wh

    def check_timers(self, now: float) -> None:
        if self._switch_done is not None and now >= self._switch_done:
            self._switch_done = None
            self.phases_active = self._switch_target
            self.bank.set("phase_switch_state", str(self._switch_target))
        watchdog = self.bank.get("watchdog_timeout")
        last = self.bank.last_transaction
        if watchdog and last is not None and not self.timeout_mode and now - last > watchdog:
            self.timeout_mode = True
            self.timeout_events += 1
            self.lapse(now, "timeout mode on")

    def keepalive_timeout(self) -> float | None:
        return float(self.bank.get("watchdog_timeout")) or None

    def last_keepalive(self) -> float | None:
        return self.bank.last_transaction

    def fallen_back(self) -> bool:
        return self.timeout_mode

    def limit(self, connector: int) -> float:
        if self.bank.get("remote_lock") == "locked" or self.bank.get("external_lock") == "locked":
            return 0.0
        if self._switch_done is not None:
            return 0.0  # no charging while the contactors switch
        raw = self.bank.raw("failsafe_current" if self.timeout_mode else "charging_current")
        return raw / 10 if raw >= 60 else 0.0

    def measured(self, connector: int) -> tuple[float, int, float]:
        amps, phases, _ = super().measured(connector)
        if amps and self.bank.has("phase_switch"):
            phases = min(phases, self.phases_active)
        return amps, phases, amps * NOMINAL_VOLTAGE * phases

    def publish(self) -> None:
        bank = self.bank
        car = self.cars[1]
        amps, phases, watts = self.measured(1)
        allowed = self.limit(1) >= 6
        locked = bank.get("remote_lock") == "locked" or bank.get("external_lock") == "locked"
        if locked:
            state = "F"
        elif not car.plugged:
            state = "A2" if allowed else "A1"
        elif amps:
            state = "C2"
        elif car.wants_charge:
            state = "C1" if not allowed else "B2"
        else:
            state = "B2" if allowed else "B1"
        bank.set("charging_state", state)
        for i, phase in enumerate(("l1", "l2", "l3"), start=1):
            bank.set(f"current_{phase}", amps if i <= phases else 0)
            bank.set(f"voltage_{phase}", NOMINAL_VOLTAGE)
        bank.set("power", round(watts))
        total_vah = round(self.energy_total_wh)
        bank.set("energy_total", total_vah / 1000)
        bank.set("energy_since_power_on", round(self.energy_since_power_on_wh) / 1000)
        if bank.has("energy_session"):
            bank.set("energy_session", round(self.sessions[1].energy_wh) / 1000)
        if bank.has("mid_energy_total"):
            bank.set("mid_energy_total", total_vah / 1000)
            for i, phase in enumerate(("l1", "l2", "l3"), start=1):
                bank.set(f"mid_current_{phase}", amps if i <= phases else 0)
                bank.set(f"mid_voltage_{phase}", NOMINAL_VOLTAGE)
            bank.set("mid_power", round(watts))
