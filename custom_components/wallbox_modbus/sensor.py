"""Sensors of Wallbox Modbus."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from homeassistant.components.sensor import (
    RestoreSensor,
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    EntityCategory,
    UnitOfElectricCurrent,
    UnitOfElectricPotential,
    UnitOfEnergy,
    UnitOfPower,
    UnitOfTemperature,
    UnitOfTime,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType
from homeassistant.util import dt as dt_util

from .charger import STATUSES
from .coordinator import WallboxConfigEntry
from .entity import WallboxEntity, WallboxEntityDescription, entities_for

PARALLEL_UPDATES = 0

CABLE_STATES = ["not_connected", "cable_connected", "vehicle_connected", "vehicle_locked"]
EQUIPMENT_STATES = ["initialising", "running", "fault", "disabled", "updating"]
PHASE_SWITCH_STATES = ["switching", "1", "3"]
CHARGING_STATES = ["a1", "a2", "b1", "b2", "c1", "c2", "derating", "e", "f", "error"]
ERROR_CODES = [
    "connector_lock_failure",
    "ground_failure",
    "high_temperature",
    "internal_error",
    "local_list_conflict",
    "no_error",
    "not_available",
    "other_error",
    "over_current_failure",
    "over_voltage",
    "power_meter_failure",
    "power_switch_failure",
    "reader_failure",
    "reset_failure",
    "under_voltage",
    "weak_signal",
]
DERATING_STATES = ["none", "level_1", "level_2", "paused_overtemperature", "sensor_error"]


@dataclass(frozen=True, kw_only=True)
class WallboxSensorEntityDescription(WallboxEntityDescription, SensorEntityDescription):
    """Describe a Wallbox Modbus sensor.

    ``convert_fn`` turns the value into the state (default: the value itself).
    ``lifetime`` marks a counter that never goes back (a lower reading is a
    glitch, not a reset); counters of a session or since power-on may reset.
    """

    convert_fn: Callable[[Any], StateType | datetime] | None = None
    lifetime: bool = False


def _local_time(value: Any) -> datetime | None:
    """The box's clock (naive, local) in Home Assistant's time zone."""
    if not isinstance(value, datetime):
        return None
    return value.replace(tzinfo=dt_util.get_default_time_zone())


def _lower(value: Any) -> str | None:
    return value.lower() if isinstance(value, str) else None


def _phase_values(
    prefix: str,
    device_class: SensorDeviceClass,
    unit: str,
    *,
    enabled: bool = True,
) -> tuple[WallboxSensorEntityDescription, ...]:
    return tuple(
        WallboxSensorEntityDescription(
            key=f"{prefix}_{phase}",
            translation_key=f"{prefix}_{phase}",
            device_class=device_class,
            native_unit_of_measurement=unit,
            state_class=SensorStateClass.MEASUREMENT,
            entity_registry_enabled_default=enabled,
        )
        for phase in ("l1", "l2", "l3")
    )


def _energy(
    key: str, *, lifetime: bool, diagnostic: bool = False
) -> WallboxSensorEntityDescription:
    return WallboxSensorEntityDescription(
        key=key,
        translation_key=key,
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        state_class=SensorStateClass.TOTAL_INCREASING,
        entity_category=EntityCategory.DIAGNOSTIC if diagnostic else None,
        lifetime=lifetime,
    )


def _enum(
    key: str, options: list[str], *, diagnostic: bool = False, **kwargs: Any
) -> WallboxSensorEntityDescription:
    return WallboxSensorEntityDescription(
        key=key,
        translation_key=key,
        device_class=SensorDeviceClass.ENUM,
        options=options,
        entity_category=EntityCategory.DIAGNOSTIC if diagnostic else None,
        **kwargs,
    )


def _rating(key: str, device_class: SensorDeviceClass, unit: str) -> WallboxSensorEntityDescription:
    """A rating or limit the box reports: diagnostic, no statistics."""
    return WallboxSensorEntityDescription(
        key=key,
        translation_key=key,
        device_class=device_class,
        native_unit_of_measurement=unit,
        entity_category=EntityCategory.DIAGNOSTIC,
    )


def _diagnostic(key: str) -> WallboxSensorEntityDescription:
    return WallboxSensorEntityDescription(
        key=key, translation_key=key, entity_category=EntityCategory.DIAGNOSTIC
    )


SENSORS: tuple[WallboxSensorEntityDescription, ...] = (
    # Every charge point
    _enum("status", list(STATUSES)),
    WallboxSensorEntityDescription(
        key="power",
        translation_key="power",
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.WATT,
        state_class=SensorStateClass.MEASUREMENT,
    ),
    *_phase_values("current", SensorDeviceClass.CURRENT, UnitOfElectricCurrent.AMPERE),
    *_phase_values("voltage", SensorDeviceClass.VOLTAGE, UnitOfElectricPotential.VOLT),
    _energy("energy_session", lifetime=False),
    WallboxSensorEntityDescription(
        key="session_duration",
        translation_key="session_duration",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.SECONDS,
    ),
    # Vestel EVC04 and Amperfied
    _energy("energy_total", lifetime=True),
    # Vestel EVC04
    _enum("cable_state", CABLE_STATES),
    _enum("equipment_state", EQUIPMENT_STATES, diagnostic=True),
    _diagnostic("fault_code"),
    *_phase_values("power", SensorDeviceClass.POWER, UnitOfPower.WATT, enabled=False),
    _diagnostic("phases"),
    _rating("rated_power", SensorDeviceClass.POWER, UnitOfPower.WATT),
    _rating("evse_min_current", SensorDeviceClass.CURRENT, UnitOfElectricCurrent.AMPERE),
    _rating("evse_max_current", SensorDeviceClass.CURRENT, UnitOfElectricCurrent.AMPERE),
    _rating("cable_max_current", SensorDeviceClass.CURRENT, UnitOfElectricCurrent.AMPERE),
    _rating("session_max_current", SensorDeviceClass.CURRENT, UnitOfElectricCurrent.AMPERE),
    WallboxSensorEntityDescription(
        key="device_time",
        translation_key="device_time",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        convert_fn=_local_time,
    ),
    # Amperfied connect
    _energy("energy_since_power_on", lifetime=False, diagnostic=True),
    _energy("mid_energy_total", lifetime=True),
    WallboxSensorEntityDescription(
        key="temperature",
        translation_key="temperature",
        device_class=SensorDeviceClass.TEMPERATURE,
        native_unit_of_measurement=UnitOfTemperature.CELSIUS,
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
    ),
    _rating("hw_max_current", SensorDeviceClass.CURRENT, UnitOfElectricCurrent.AMPERE),
    _rating("hw_min_current", SensorDeviceClass.CURRENT, UnitOfElectricCurrent.AMPERE),
    _diagnostic("layout_version"),
    _enum("phase_switch_state", PHASE_SWITCH_STATES, diagnostic=True),
    _enum(
        "charging_state",
        CHARGING_STATES,
        diagnostic=True,
        convert_fn=_lower,
    ),
    # Compleo station
    WallboxSensorEntityDescription(
        key="station_power",
        translation_key="station_power",
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.WATT,
        state_class=SensorStateClass.MEASUREMENT,
    ),
    *_phase_values("station_current", SensorDeviceClass.CURRENT, UnitOfElectricCurrent.AMPERE),
    _diagnostic("connectors"),
    # Compleo connectors
    _enum("error_code", ERROR_CODES, diagnostic=True),
    _enum("derating", DERATING_STATES, diagnostic=True),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: WallboxConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up the sensors the box serves."""
    coordinator = entry.runtime_data.coordinator
    async_add_entities(
        entities_for(coordinator, SENSORS, _sensor_factory),
    )


def _sensor_factory(
    *, description: WallboxSensorEntityDescription, **kwargs: Any
) -> WallboxSensorEntity:
    if description.state_class is SensorStateClass.TOTAL_INCREASING:
        return WallboxEnergySensorEntity(description=description, **kwargs)
    return WallboxSensorEntity(description=description, **kwargs)


class WallboxSensorEntity(WallboxEntity, SensorEntity):
    """A value the box reports."""

    entity_description: WallboxSensorEntityDescription

    def _inputs(self) -> frozenset[str]:
        """Its own value only."""
        return self._own_value()

    def _value(self) -> StateType | datetime:
        description = self.entity_description
        value: StateType | datetime = self.snapshot.get(description.key, self.connector)
        if description.convert_fn is not None:
            value = description.convert_fn(value)
        if description.options is not None and value not in description.options:
            return None
        return value

    @property
    def native_value(self) -> StateType | datetime:
        """Return the value of the last refresh."""
        return self._value()


class WallboxEnergySensorEntity(WallboxSensorEntity, RestoreSensor):
    """An energy counter: keeps its value while the box is away, and over restarts."""

    _last: float | None = None

    async def async_added_to_hass(self) -> None:
        """Take back the value from before the restart, then the box's reading."""
        await super().async_added_to_hass()
        if (data := await self.async_get_last_sensor_data()) is not None and isinstance(
            data.native_value, (int, float, Decimal)
        ):
            self._last = float(data.native_value)
        self._take_reading()

    @callback
    def _handle_coordinator_update(self) -> None:
        self._take_reading()
        super()._handle_coordinator_update()

    def _take_reading(self) -> None:
        if not self._has_reading():
            return  # keep the last value
        value = self._value()
        if not isinstance(value, (int, float)):
            return
        if self.entity_description.lifetime and self._last is not None and value < self._last:
            return  # a lifetime counter never goes back
        self._last = float(value)

    @property
    def available(self) -> bool:
        """Available whenever a value is known, even while the box is away."""
        return self._last is not None

    @property
    def native_value(self) -> float | None:
        """Return the last known reading."""
        return self._last
