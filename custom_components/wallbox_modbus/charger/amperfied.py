"""Amperfied connect series: what its map cannot say.

- The layout version (register 4) decides which registers exist and which
  variant the box is: 1.0.x home, 2.0.0 business, 2.0.1 solar (whose phase
  switch state 5001 answers; a 2.0.1 box without it is a business).  The
  document's tables also list connect.home at 2.0.0 for some registers; the
  variant check follows shared/spec/devices.md's mapping instead, so a
  connect.business is never accepted as a connect.home.
- Charging state is IEC 61851 and is normalised to the OCPP vocabulary.
- The limit is in 0.1 A: 0 or 6.0–16.0 A, never above the hardware switch
  (register 100).  The vendor asks to keep a setting 20 s after a change:
  writes inside that time are held back and the last one wins.
- Keepalive: the watchdog (257, ms) is served by any successful transaction.
- Phase switching (solar): 5001 reads 0 while switching; the box blocks
  further switches for about 90 s.
- The box accepts one TCP connection at a time: never open a second one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .charger import Charger, Identity
from .errors import BusyError, IllegalAddressError, WrongModelError
from .registers import Point

STATUS = {
    "A1": "available",
    "A2": "available",
    "B1": "suspended_evse",
    "B2": "suspended_ev",
    "C1": "suspended_evse",
    "C2": "charging",
    "derating": "charging",
    "E": "faulted",
    "error": "faulted",
    "F": "unavailable",
}
PLUGGED = frozenset({"B1", "B2", "C1", "C2", "derating"})
MAX_LIMIT = 16.0


class AmperfiedCharger(Charger):
    family = "amperfied"
    required_identity = ("layout_version",)
    layout_point = "layout_version"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._last_phase_switch: float | None = None

    async def _probe(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Whether the phase switch state answers: only connect.solar has it."""
        if (self.layout or (0,)) < (2, 0, 1):
            return {"has_phase_switch": False}
        point = self.map.point("phase_switch_state")
        try:
            await self.transport.read(point.table, point.address, point.count)
        except IllegalAddressError:
            return {"has_phase_switch": False}
        return {"has_phase_switch": True}

    def _make_identity(self, values: Mapping[str, Any]) -> Identity:
        layout = self.layout or (0,)
        text = str(values["layout_version"])
        if layout[0] == 1:
            found = "home"
        elif layout[0] == 2:
            found = "solar" if values.get("has_phase_switch") else "business"
        else:
            raise WrongModelError(self.model.name, f"a box with layout {text}")
        if self.model.variant != found:
            name = self.map.variants[found].name
            raise WrongModelError(self.model.name, f"{name} (layout {text})")
        serial = str(values.get("serial_number") or "") or None
        firmware = str(values.get("firmware") or "") or None
        if firmware is None and values.get("software_revision") is not None:
            firmware = f"revision {values['software_revision']}"
        return Identity(
            serial=serial,
            manufacturer=self.model.manufacturer,
            model=self.model.name,
            firmware=firmware,
            layout_version=text,
            connectors=1,
            values=dict(values),
        )

    def _derive(self, values: Mapping[str, Any]) -> dict[str, Any]:
        state = values.get("charging_state")
        return {
            "status": STATUS.get(state) if isinstance(state, str) else None,
            "vehicle_connected": None if state is None else state in PLUGGED,
            "charging": None if state is None else state in ("C2", "derating"),
        }

    def _status_sources(self) -> tuple[str, ...]:
        return ("charging_state",)

    def current_range(self, connector: int | None = None) -> tuple[float, float]:
        hw_max = self._values.get("hw_max_current")
        high = MAX_LIMIT if not hw_max else min(MAX_LIMIT, float(hw_max))
        low = float(self._values.get("hw_min_current") or 6)
        return max(low, 6.0), max(high, 6.0)

    def charging_current(self, connector: int | None = None) -> float | None:
        value = self._values.get("charging_current")
        return None if value is None else float(value)

    def _limit_raw(self, amps: float, connector: int | None) -> tuple[Point, int]:
        point = self.point("charging_current")
        return point, self.validate(point, amps)

    @property
    def keepalive_interval(self) -> float | None:
        timeout = self._values.get("watchdog_timeout", self.map.defaults["watchdog_timeout"])
        if not timeout:
            return None  # watchdog off
        return max(0.5, float(timeout) / 3)

    async def _keepalive(self) -> None:
        last = self.transport.stats.last_success
        interval = self.keepalive_interval
        if last is not None and interval is not None and self.clock() - last < interval / 2:
            return  # recent traffic already served the watchdog
        point = self.point("layout_version")
        await self.transport.read(point.table, point.address, 1)

    # ------------------------------------------------------------ phase switch

    @property
    def phase_switch_block(self) -> float:
        return float(self.map.defaults.get("phase_switch_block", 90))

    def phase_switch_wait(self) -> float:
        """Seconds until a new phase switch is allowed (0: now)."""
        if self._values.get("phase_switch_state") == "switching":
            return self.phase_switch_block
        if self._last_phase_switch is None:
            return 0.0
        return max(0.0, self.phase_switch_block - (self.clock() - self._last_phase_switch))

    async def set_phases(self, phases: int) -> None:
        """Switch between one and three phases (connect.solar)."""
        point = self.point("phase_switch")
        raw = self.validate(point, phases)
        wait = self.phase_switch_wait()
        if wait > 0:
            raise BusyError(f"a phase switch is in progress; try again in {wait:.0f} s")
        await self.write_point(point, raw)
        self._values["phase_switch_state"] = "switching"
        self._last_phase_switch = self.clock()

    async def set_remote_lock(self, locked: bool) -> None:
        await self.write_setting("remote_lock", "locked" if locked else "unlocked")
