"""Vestel EVC04: what its map cannot say.

- The status register is already OCPP.
- The current limit (5004) is in whole amperes; 0 pauses.  With no vehicle
  plugged in the box may put the limit back to 6 A, so "paused" is the
  integration's own state and is applied again when a vehicle connects.
- Keepalive: write 1 to the alive register well inside the failsafe timeout
  (every timeout / 4, as evcc does), or the box drops the socket and falls
  back to the failsafe current.
- A known firmware fault freezes the Modbus server: the clock stops moving.
  After a frozen clock over several refreshes the connection is reopened.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

from .charger import Charger, Identity, Snapshot
from .errors import InvalidValueError, WrongModelError
from .registers import Point

_LOGGER = logging.getLogger(__name__)

FROZEN_AFTER = 3  # refreshes with an unchanged clock, at least FROZEN_SECONDS apart
FROZEN_SECONDS = 5.0


class VestelCharger(Charger):
    family = "vestel"
    required_identity = ("serial_number", "model")
    own_pause_state = True  # the box puts 6 A back while no vehicle is plugged in

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clock_seen: tuple[Any, float] | None = None
        self._clock_stuck = 0
        self._reopen = False
        self._plugged: bool | None = None

    def _make_identity(self, values: Mapping[str, Any]) -> Identity:
        serial = str(values.get("serial_number") or "") or None
        if not serial:
            raise WrongModelError(self.model.name, "a box without a serial number")
        brand = str(values.get("brand") or "") or "Vestel"
        model = str(values.get("model") or "") or self.model.name
        return Identity(
            serial=serial,
            manufacturer=brand,
            model=model,
            firmware=str(values.get("firmware") or "") or None,
            layout_version=None,
            connectors=1,
            values=dict(values),
        )

    def _derive(self, values: Mapping[str, Any]) -> dict[str, Any]:
        cable = values.get("cable_state")
        derived: dict[str, Any] = {
            "vehicle_connected": None
            if cable is None
            else cable in ("vehicle_connected", "vehicle_locked"),
        }
        date, clock = values.get("date"), values.get("time")
        derived["device_time"] = _clock(date, clock)
        return derived

    def _status_sources(self) -> tuple[str, ...]:
        return ("status", "cable_state", "charging")

    def current_range(self, connector: int | None = None) -> tuple[float, float]:
        point = self.point("charging_current")
        assert point.write is not None
        low = self._values.get("evse_min_current") or 6
        high = self._values.get("evse_max_current") or max(hi for _, hi in point.write.ranges)
        return float(max(low, 6)), float(high)

    def charging_current(self, connector: int | None = None) -> float | None:
        value = self._values.get("charging_current")
        return None if value is None else float(value)

    def current_step(self, connector: int | None = None) -> float:
        return 1.0  # whole amperes

    def _limit_raw(self, amps: float, connector: int | None) -> tuple[Point, int]:
        point = self.point("charging_current")
        if amps != int(amps):
            raise InvalidValueError(point.id, amps, "whole amperes")
        return point, int(amps)

    @property
    def keepalive_interval(self) -> float | None:
        timeout = self._values.get("failsafe_timeout") or self.map.defaults.get(
            "failsafe_timeout", 20
        )
        return max(1.0, float(timeout) / 4)

    async def _keepalive(self) -> None:
        point = self.point("alive")
        await self.transport.write_register(point.address, 1)

    async def _after_refresh(self, snapshot: Snapshot) -> None:
        state = self.limit_state()
        plugged = snapshot.get("vehicle_connected")
        arrived = plugged is True and self._plugged is False
        self._plugged = plugged if isinstance(plugged, bool) else self._plugged
        if state.paused and plugged and (arrived or snapshot.get("charging_current")):
            # The box may have put its own limit back while no vehicle was
            # plugged in: apply the pause again now that one is.
            _LOGGER.debug("re-applying the pause for the vehicle that connected")
            await self.write_point(self.point("charging_current"), 0)
        self._watch_clock(snapshot)

    def _watch_clock(self, snapshot: Snapshot) -> None:
        stamp = (snapshot.get("date"), snapshot.get("time"))
        if stamp[1] is None:
            return
        if self._clock_seen is None or self._clock_seen[0] != stamp:
            self._clock_seen = (stamp, snapshot.time)
            self._clock_stuck = 0
            return
        self._clock_stuck += 1
        stuck_for = snapshot.time - self._clock_seen[1]
        if self._clock_stuck >= FROZEN_AFTER and stuck_for >= FROZEN_SECONDS:
            _LOGGER.warning(
                "%s: the clock has not moved for %.0f s; reopening the connection",
                self.model.name,
                stuck_for,
            )
            self._clock_seen = None
            self._clock_stuck = 0
            self._reopen = True

    async def refresh(self, *, slow: bool = False) -> Snapshot:
        if self._reopen:
            self._reopen = False
            await self.transport.close()
        return await super().refresh(slow=slow)


def _clock(date: Any, clock: Any) -> dt.datetime | None:
    """yymmdd and hhmmss integers -> a naive datetime (the box's local time)."""
    if not isinstance(date, int) or not isinstance(clock, int):
        return None
    try:
        return dt.datetime(
            2000 + date // 10000,
            date // 100 % 100,
            date % 100,
            clock // 10000,
            clock // 100 % 100,
            clock % 100,
        )
    except ValueError:
        return None
