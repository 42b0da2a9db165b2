"""Simulator profiles that get the register map wrong on purpose.

A check against the map (``charger/verify.py``) is only worth something if it
catches a box that does not do what the map says.  Each profile here makes a
simulator serve one mistake a real firmware could make — the two words of a
32-bit value swapped, a scale off by ten, a voltage on the wrong phase, a value
the document does not list, a clock an hour off, a keepalive that does
nothing — and names the finding the report must give it.

A lie is applied where the simulator stores a value (``MapBank``): the family
simulator goes on computing the truth, the box serves it wrongly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from custom_components.wallbox_modbus.charger.codec import decode_int, encode_int
from custom_components.wallbox_modbus.charger.registers import Point

if TYPE_CHECKING:
    from .bank import MapBank


@dataclass(frozen=True, kw_only=True)
class Lie:
    """One mistake of a firmware, and what the report must call it."""

    name: str
    model: str  # the model the profile plays
    says: str  # the mistake, in words
    swap_words: frozenset[str] = frozenset()  # 32-bit points served low word first
    scale: Mapping[str, int] = field(default_factory=dict)  # raw value multiplied by this
    route: Mapping[str, str] = field(default_factory=dict)  # value served at another point
    raw: Mapping[str, int] = field(default_factory=dict)  # this raw value served instead
    clock_offset: float = 0.0  # seconds the box's clock is off
    supply_phases: int = 3  # phases the installation feeds
    car_phases: int = 0  # phases the car draws on (0: as plugged)
    ignore_writes: frozenset[str] = frozenset()  # writes acknowledged and without effect
    expect: Mapping[str, str] = field(default_factory=dict)  # point id -> finding code

    def serve(self, bank: MapBank, point: Point, words: list[int]) -> list[tuple[Point, list[int]]]:
        """The registers a point's value lands in, and what they hold."""
        if point.id in self.raw:
            words = encode_int(point, self.raw[point.id])
        if point.id in self.scale:
            words = encode_int(point, decode_int(point, words) * self.scale[point.id])
        if point.id in self.swap_words:
            words = list(reversed(words))
        target = bank.points[self.route[point.id]] if point.id in self.route else point
        return [(target, words)]


_PHASES_SWAPPED = {"voltage_l1@1": "voltage_l2@1", "voltage_l2@1": "voltage_l1@1"}

LIES: dict[str, Lie] = {
    lie.name: lie
    for lie in (
        Lie(
            name="clock_words_swapped",
            model="vestel_evc04",
            says="date (290) and time (294) are served low word first",
            swap_words=frozenset({"date", "time"}),
            expect={"date": "swapped", "time": "swapped"},
        ),
        Lie(
            name="clock_hour_off",
            model="vestel_evc04",
            says="the clock runs an hour ahead (another time zone, or daylight saving time)",
            clock_offset=3600.0,
            expect={"date": "clock_offset", "time": "clock_offset"},
        ),
        Lie(
            name="energy_scale_10",
            model="vestel_evc04",
            says="the meter reading (1036) counts in 0.01 kWh, not 0.1 kWh",
            scale={"energy_total": 10},
            expect={"energy_total": "too_large"},
        ),
        Lie(
            name="current_scale_10",
            model="amperfied_business",
            says="the phase currents (6-8) count in 0.01 A, not 0.1 A",
            scale={"current_l1": 10, "current_l2": 10, "current_l3": 10},
            expect={
                "current_l1": "too_large",
                "current_l2": "too_large",
                "current_l3": "too_large",
            },
        ),
        Lie(
            name="energy_words_swapped",
            model="amperfied_solar",
            says="the energy since installation (17-18) is served low word first",
            swap_words=frozenset({"energy_total"}),
            expect={"energy_total": "swapped"},
        ),
        Lie(
            name="voltage_wrong_phase",
            model="compleo_solo",
            says="on a single-phase supply, the voltage of L1 is served as L2's (and L2's as L1's)",
            route=_PHASES_SWAPPED,
            supply_phases=1,
            car_phases=1,
            expect={"voltage_l1@1": "wrong_phase"},
        ),
        Lie(
            name="status_undocumented",
            model="compleo_duo",
            says="the left connector's status (284) reads 9, which OCPP 1.6 does not have",
            raw={"status@2": 9},
            expect={"status@2": "undocumented_value"},
        ),
        Lie(
            name="keepalive_ignored",
            model="vestel_evc04",
            says="the alive register (6000) takes the write but does not reset the failsafe timer",
            ignore_writes=frozenset({"alive"}),
            expect={"alive": "reconnected", "failsafe_timeout": "reconnected"},
        ),
    )
}
