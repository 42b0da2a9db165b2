"""A simulator for any register map: what the map declares is what it plays.

It serves exactly the map's points (everything else answers exception 2), takes
the values of its ``simulate`` section (``values``: point id -> value;
``failsafe_current``: amperes in a failsafe; ``drops_connections``: whether a
missed keepalive drops every socket), and plays from the map's own sections:

- the current limit: the car draws what the limit allows (amperes, or power
  over the phases at 230 V), measured on the current, voltage, power and energy
  points the map has;
- the status: a status point whose values are catalog statuses, or the value of
  a derive rule's source point whose mapping gives the wanted status, plug and
  charging state; plug and charging points (bits or values) directly;
- the keepalive: write (the alive point), traffic (any transaction) or rewrite
  (a limit write) within the timeout, else a failsafe at the failsafe current
  until the limit is written again;
- a phase switch (the state follows the switch point) and a remote lock.

``python -m simulators --map FILE`` runs one.
"""

from __future__ import annotations

from typing import Any

from custom_components.wallbox_modbus.charger.codec import raw_of
from custom_components.wallbox_modbus.charger.registers import Point
from custom_components.wallbox_modbus.charger.snapshot import pid
from custom_components.wallbox_modbus.charger.spec import DeriveRule

from .base import NOMINAL_VOLTAGE, WallboxSimulator

TEXT = ("str1", "str2")


class MapSimulator(WallboxSimulator):
    """Any map, played from its data."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.behaviour = self.model.regmap.behaviour
        self.simulate = dict(self.model.regmap.simulate)
        self.failsafe = False
        self.failsafe_events = 0
        self.keepalives = 0
        self._last_served: float | None = None
        self._phases = 3

    # ------------------------------------------------------------ set-up

    def _pid(self, key: str, connector: int | None) -> str | None:
        """The id of a key's point on a connector, or on the box, if the bank serves it."""
        for candidate in (pid(key, connector), key):
            if self.bank.has(candidate):
                return candidate
        return None

    def _set(self, key: str, connector: int | None, value: Any) -> None:
        point_id = self._pid(key, connector)
        if point_id is not None:
            self.bank.set(point_id, value)

    def setup(self) -> None:
        bank = self.bank
        values = dict(self.simulate.get("values", {}))
        identity = self.behaviour.identity
        if identity.serial and identity.serial not in values:
            values[identity.serial] = f"SIM-{self.model.family.upper()}-0001"[:16]
        if identity.connectors:
            values.setdefault(identity.connectors, len(self.cars))
        for point_id, value in values.items():
            if bank.has(point_id):
                bank.set(point_id, value)
        limit = self.behaviour.limit
        for point in list(bank.points.values()):
            if limit is not None and point.key == limit.point:
                if point.id not in values:
                    bank.set_raw(point.id, self._raw_limit(point, min(16.0, limit.max), 3))
                bank.hooks[point.id] = self._on_limit
            keepalive = self.behaviour.keepalive
            if keepalive is not None and keepalive.point == point.key:
                bank.hooks[point.id] = self._on_alive
        switch = self.behaviour.phase_switch
        if switch is not None and bank.has(switch.point):
            bank.hooks[switch.point] = self._on_phase_switch
            if switch.point not in values:
                bank.set_raw(switch.point, self._options(bank.points[switch.point])[-1])
            self._on_phase_switch(bank.points[switch.point], bank.raw(switch.point))
        lock = self.behaviour.remote_lock
        if lock is not None and bank.has(lock.point) and lock.point not in values:
            bank.set(lock.point, lock.unlocked)

    @staticmethod
    def _options(point: Point) -> list[int]:
        assert point.write is not None
        return sorted(point.write.values) or [lo for lo, _ in point.write.ranges]

    def _raw_limit(self, point: Point, amps: float, phases: int) -> int:
        limit = self.behaviour.limit
        assert limit is not None
        if limit.power is not None:
            return round(amps * phases * limit.power.voltage / point.scale)
        return round(amps / point.scale)

    # ------------------------------------------------------------ writes

    def _on_limit(self, _point: Point, _raw: int) -> None:
        if self.behaviour.keepalive is not None and self.behaviour.keepalive.kind == "rewrite":
            self._served()
        if self.failsafe:
            self.failsafe = False
            self.events.append("failsafe off")
        self.update()

    def _on_alive(self, _point: Point, _raw: int) -> None:
        self._served()

    def _served(self) -> None:
        self.keepalives += 1
        self._last_served = self.clock()

    def _on_phase_switch(self, point: Point, raw: int) -> None:
        switch = self.behaviour.phase_switch
        assert switch is not None
        value = (point.values or {}).get(raw, raw)
        self._phases = int(value)
        if self.bank.has(switch.state):
            state = self.bank.points[switch.state]
            target = next((r for r, v in (state.values or {}).items() if str(v) == str(value)), raw)
            self.bank.set_raw(switch.state, target)

    # ------------------------------------------------------------ time

    def _timeout(self) -> float | None:
        spec = self.behaviour.keepalive
        if spec is None:
            return None
        if spec.timeout_point is not None and self.bank.has(spec.timeout_point):
            value = self.bank.get(spec.timeout_point)
            return float(value) if value else None
        return spec.timeout

    def check_timers(self, now: float) -> None:
        spec = self.behaviour.keepalive
        if spec is None:
            return
        if spec.kind == "traffic" and self.bank.last_transaction is not None:
            self._last_served = max(self._last_served or 0.0, self.bank.last_transaction)
        if self._last_served is None:
            if self.server.stats.connections_accepted:
                self._last_served = now  # the box's timer starts with the first client
            return
        timeout = self._timeout()
        if timeout and not self.failsafe and now - self._last_served > timeout:
            self.failsafe = True
            self.failsafe_events += 1
            self.events.append("failsafe on")
            self._last_served = now
            if self.simulate.get("drops_connections"):
                self.drop_connections()

    def limit(self, connector: int) -> float:
        spec = self.behaviour.limit
        if spec is None:
            return 16.0
        lock = self.behaviour.remote_lock
        if (
            lock is not None
            and self.bank.has(lock.point)
            and self.bank.get(lock.point) == lock.locked
        ):
            return 0.0
        if self.failsafe:
            return float(self.simulate.get("failsafe_current", spec.min))
        point_id = self._pid(spec.point, connector)
        if point_id is None:
            return 0.0
        point = self.bank.points[point_id]
        raw = self.bank.raw(point_id)
        if raw == spec.pause:
            return 0.0
        if spec.power is not None:
            return float(raw * point.scale / (self.cars[connector].phases * spec.power.voltage))
        return float(raw * point.scale)

    def measured(self, connector: int) -> tuple[float, int, float]:
        amps, phases, _ = super().measured(connector)
        if amps and self.behaviour.phase_switch is not None:
            phases = min(phases, self._phases)
        return amps, phases, amps * NOMINAL_VOLTAGE * phases

    # ------------------------------------------------------------ registers

    def publish(self) -> None:
        connectors: list[int | None] = [None] if len(self.cars) == 1 else list(self.cars)
        for number, car in self.cars.items():
            connector = None if connectors == [None] else number
            if self._pid("current_l1", connector) is None and connector is None:
                connector = number  # a single connector kept in connector points
            amps, phases, watts = self.measured(number)
            if not car.plugged:
                status = "available"
            elif amps:
                status = "charging"
            elif self.limit(number) < 6:
                status = "suspended_evse"
            else:
                status = "suspended_ev"
            self._status(connector, status, car.plugged, bool(amps))
            for i, phase in enumerate(("l1", "l2", "l3"), start=1):
                self._set(f"current_{phase}", connector, amps if i <= phases else 0)
                self._set(f"voltage_{phase}", connector, NOMINAL_VOLTAGE)
                self._set(
                    f"power_{phase}", connector, round(amps * NOMINAL_VOLTAGE) if i <= phases else 0
                )
            self._set("power", connector, round(watts))
            session = self.sessions[number]
            self._set("energy_session", connector, self._energy(session.energy_wh))
            self._set("session_duration", connector, int(session.seconds))
        self._set("energy_total", None, self._energy(self.energy_total_wh))

    def _energy(self, wh: float) -> float:
        return round(wh) / 1000  # kWh; the codec rounds to the point's scale

    def _status(self, connector: int | None, status: str, plugged: bool, charging: bool) -> None:
        wanted = {"status": status, "vehicle_connected": plugged, "charging": charging}
        for key, value in wanted.items():
            point_id = self._pid(key, connector)
            if point_id is not None and self._can_hold(self.bank.points[point_id], value):
                self.bank.set(point_id, value)
        for point in self.bank.points.values():  # bits of a status word
            if point.bits and (connector is None or point.connector in (connector, None)):
                raw = self.bank.raw(point.id)
                for name, bit in point.bits.items():
                    if name in wanted and isinstance(wanted[name], bool):
                        raw = raw | 1 << bit if wanted[name] else raw & ~(1 << bit)
                self.bank.set_raw(point.id, raw)
        rules = [r for r in self.behaviour.derive if r.key in wanted and r.source is not None]
        for source in {r.source for r in rules if r.source is not None}:
            point_id = self._pid(source, connector)
            if point_id is not None:
                self._derived_source(point_id, [r for r in rules if r.source == source], wanted)

    @staticmethod
    def _can_hold(point: Point, value: Any) -> bool:
        if point.values is None:
            return not isinstance(value, str)
        return value in point.values.values()

    def _derived_source(
        self, point_id: str, rules: list[DeriveRule], wanted: dict[str, Any]
    ) -> None:
        """The source value whose derived values match the wanted ones best."""
        point = self.bank.points[point_id]
        if point.values is None:
            return

        def score(value: Any) -> int:
            hits = 0
            for rule in rules:
                if rule.mapping is not None:
                    got = rule.mapping.get(value)
                    hits += 2 if got == wanted[rule.key] else 0
                elif rule.members is not None:
                    hits += int((value in rule.members) == wanted[rule.key])
            return hits

        best = max(point.values.values(), key=score)
        self.bank.set_raw(point_id, raw_of(point, best))
