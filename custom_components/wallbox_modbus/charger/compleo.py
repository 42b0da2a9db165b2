"""Compleo DUO / SOLO: what its map cannot say.

- The box is told a power, not a current: 100 W steps per connector.  A
  current limit is converted with the connector's phase count and a nominal
  230 V, rounded UP to the next 100 W so the car is never offered less than
  asked (6 A on one phase is 1400 W, not 1300 W).  The phase count is learnt
  from the measured currents while charging, else the map's default (3).
- The status registers are already OCPP; the status word gives the plug and
  charging flags.
- Keepalive: register 5 (seconds until fallback) is a setting; the limits
  this integration wrote are written again inside that time.  Whether reads
  also reset it is not confirmed on hardware, so writes are used.
- The connector count (register 8) tells SOLO (1) from DUO (2).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from .charger import Charger, Identity, pid
from .errors import WrongModelError
from .registers import Point

MIN_CURRENT = 6.0
MAX_CURRENT = 32.0
CHARGING_CURRENT = 1.0  # a phase carrying at least this much is in use


class CompleoCharger(Charger):
    family = "compleo"
    required_identity = ("serial_number", "connectors")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._phases: dict[int | None, int] = {}
        self._written: dict[str, int] = {}

    @property
    def nominal_voltage(self) -> float:
        return float(self.map.defaults.get("nominal_voltage", 230))

    def _make_identity(self, values: Mapping[str, Any]) -> Identity:
        count = values.get("connectors")
        if count != self.model.connectors:
            raise WrongModelError(self.model.name, f"a box with {count} connector(s)")
        return Identity(
            serial=str(values["serial_number"]) or None,
            manufacturer=self.model.manufacturer,
            model=self.model.name,
            firmware=values.get("firmware"),
            layout_version=None,
            connectors=int(count),
            values=dict(values),
        )

    def _derive(self, values: Mapping[str, Any]) -> dict[str, Any]:
        for connector in self.connectors:
            if values.get(pid("charging", connector)):
                in_use = sum(
                    1
                    for phase in ("current_l1", "current_l2", "current_l3")
                    if (values.get(pid(phase, connector)) or 0) >= CHARGING_CURRENT
                )
                if in_use in (1, 2, 3):
                    self._phases[connector] = in_use
        return {}

    def _status_sources(self) -> tuple[str, ...]:
        return ("status", "status_word")

    def phases(self, connector: int | None) -> int:
        return self._phases.get(connector, int(self.map.defaults.get("phases", 3)))

    def current_range(self, connector: int | None = None) -> tuple[float, float]:
        return MIN_CURRENT, MAX_CURRENT

    def watts_for(self, amps: float, connector: int | None) -> int:
        """Amperes -> watts in 100 W steps, rounded up."""
        watts = amps * self.phases(connector) * self.nominal_voltage
        return math.ceil(round(watts, 6) / 100) * 100

    def charging_current(self, connector: int | None = None) -> float | None:
        watts = self._values.get(pid("max_power", connector))
        if watts is None:
            return None
        state = self.limit_state(connector)
        if state.last_limit and self.watts_for(state.last_limit, connector) == watts:
            return state.last_limit  # what the user asked for, not the rounded power
        return round(float(watts) / (self.phases(connector) * self.nominal_voltage), 1)

    def _limit_raw(self, amps: float, connector: int | None) -> tuple[Point, int]:
        point = self.point("max_power", connector)
        return point, self.validate(point, self.watts_for(amps, connector))

    async def write_point(self, point: Point, raw: int) -> None:
        await super().write_point(point, raw)
        if point.key in ("max_power", "station_max_power"):
            self._written[point.id] = raw

    @property
    def keepalive_interval(self) -> float | None:
        timeout = self._values.get("fallback_timeout")
        if not timeout:
            return None  # no fallback configured: nothing to keep alive
        return max(1.0, float(timeout) / 3)

    async def _keepalive(self) -> None:
        if not self._written:
            point = self.point("fallback_timeout")
            await self.transport.read(point.table, point.address, 1)
            return
        for point_id, raw in self._written.items():
            point = next(p for p in self.points if p.id == point_id)
            await self.transport.write_register(point.address, raw)
