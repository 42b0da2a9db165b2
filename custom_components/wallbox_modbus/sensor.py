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
    PERCENTAGE,
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

from .binary_sensor import BINARY_SENSORS
from .charger import STATUSES, Point, Snapshot
from .coordinator import WallboxConfigEntry
from .entity import WallboxEntity, WallboxEntityDescription, entities_for

PARALLEL_UPDATES = 0

CABLE_STATES = ["not_connected", "cable_connected", "vehicle_connected", "vehicle_locked"]
EQUIPMENT_STATES = ["initialising", "running", "fault", "disabled", "updating"]
PHASE_SWITCH_STATES = ["switching", "1", "3"]
CHARGING_STATES = ["a1", "a2", "b1", "b2", "c1", "c2", "derating", "e", "f", "error"]
# The codes the vendor's list names (any other reads as unknown, its number in `code`).
ERROR_CODES = [
    "connector_lock_failure",
    "ground_failure",
    "local_list_conflict",
    "no_error",
    "not_available",
    "other_error",
    "over_current_failure",
    "power_meter_failure",
    "power_switch_failure",
    "under_voltage",
]
CHARGING_PERMISSIONS = ["none", "rfid", "web", "app", "ocpp", "modbus"]
RFID_SECURITY_TYPES = ["no_secure_card", "secure_card"]
DERATING_STATES = ["none", "level_1", "level_2", "paused_overtemperature", "sensor_error"]
VERIFICATION_STATES = ["not_run", "running", "confirmed", "contradicted", "incomplete", "failed"]


@dataclass(frozen=True, kw_only=True)
class WallboxSensorEntityDescription(WallboxEntityDescription, SensorEntityDescription):
    """Describe a Wallbox Modbus sensor.

    ``convert_fn`` turns the value into the state (default: the value itself).
    ``lifetime`` marks a counter that never goes back (a lower reading is a
    glitch, not a reset); counters of a session or since power-on may reset.
    ``code_attribute`` adds the raw number the box sent, so that a code the
    vendor's list lacks (the state is unknown) is still visible.
    """

    convert_fn: Callable[[Any], StateType | datetime] | None = None
    lifetime: bool = False
    code_attribute: bool = False  # the raw number behind the state, as attribute `code`
    # Not a value of the box: read from the snapshot as a whole (always available).
    snapshot_fn: Callable[[Snapshot], StateType] | None = None


def _local_time(value: Any) -> datetime | None:
    """The box's clock (naive, local) in Home Assistant's time zone."""
    if not isinstance(value, datetime):
        return None
    return value.replace(tzinfo=dt_util.get_default_time_zone())


def _lower(value: Any) -> str | None:
    return value.lower() if isinstance(value, str) else None


def _time_of_day(value: Any) -> str | None:
    """An hhmmss number (143015) as the time of day it stands for ("14:30:15").

    0 is no time: the box has no session to tell of (a session that began at
    midnight sharp reads as unknown too).
    """
    if not isinstance(value, int) or isinstance(value, bool) or value == 0:
        return None
    hours, minutes, seconds = value // 10000, value // 100 % 100, value % 100
    if not (0 <= hours < 24 and minutes < 60 and seconds < 60):
        return None
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}"


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
    key: str, *, lifetime: bool, diagnostic: bool = False, enabled: bool = True
) -> WallboxSensorEntityDescription:
    return WallboxSensorEntityDescription(
        key=key,
        translation_key=key,
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        state_class=SensorStateClass.TOTAL_INCREASING,
        entity_category=EntityCategory.DIAGNOSTIC if diagnostic else None,
        entity_registry_enabled_default=enabled,
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
    """A rating or limit the box reports: diagnostic, no statistics, disabled by default.

    The charging current's slider already spans what the ratings allow.
    """
    return WallboxSensorEntityDescription(
        key=key,
        translation_key=key,
        device_class=device_class,
        native_unit_of_measurement=unit,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
    )


def _diagnostic(key: str, *, enabled: bool = True, **kwargs: Any) -> WallboxSensorEntityDescription:
    return WallboxSensorEntityDescription(
        key=key,
        translation_key=key,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=enabled,
        **kwargs,
    )


def _power(key: str, *, enabled: bool = True) -> WallboxSensorEntityDescription:
    return WallboxSensorEntityDescription(
        key=key,
        translation_key=key,
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.WATT,
        state_class=SensorStateClass.MEASUREMENT,
        entity_registry_enabled_default=enabled,
    )


SENSORS: tuple[WallboxSensorEntityDescription, ...] = (
    # Every charge point
    _enum("status", list(STATUSES)),
    _power("power"),
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
    _diagnostic("phases", enabled=False),  # how the box is wired: fixed
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
    # Times of day without a date: a timestamp would need a date the box does not give.
    _diagnostic("session_start_time", enabled=False, convert_fn=_time_of_day),
    _diagnostic("session_end_time", enabled=False, convert_fn=_time_of_day),
    _diagnostic("chargepoint_id", enabled=False),
    # Amperfied connect
    # starts again at every power-on; energy_total is the counter to use
    _energy("energy_since_power_on", lifetime=False, diagnostic=True, enabled=False),
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
    _diagnostic("layout_version", enabled=False),  # identity, in the diagnostics too
    # the phases select shows the same (unknown while switching)
    _enum(
        "phase_switch_state",
        PHASE_SWITCH_STATES,
        diagnostic=True,
        entity_registry_enabled_default=False,
    ),
    # the IEC 61851 state behind status, vehicle_connected and charging
    _enum(
        "charging_state",
        CHARGING_STATES,
        diagnostic=True,
        entity_registry_enabled_default=False,
        convert_fn=_lower,
    ),
    _diagnostic("software_revision", enabled=False),
    _diagnostic("item_number", enabled=False),
    _diagnostic("production_date", enabled=False),
    _diagnostic("firmware_variant", enabled=False),
    # Internal MID meter: the same quantities as the box's own, from the calibrated meter.
    *_phase_values(
        "mid_current", SensorDeviceClass.CURRENT, UnitOfElectricCurrent.AMPERE, enabled=False
    ),
    *_phase_values(
        "mid_voltage", SensorDeviceClass.VOLTAGE, UnitOfElectricPotential.VOLT, enabled=False
    ),
    _power("mid_power", enabled=False),
    _diagnostic("mid_serial_number", enabled=False),
    # RFID: the card counter and who allowed charging; the last card (personal) disabled.
    _diagnostic("rfid_card_counter"),
    _enum("charging_permission", CHARGING_PERMISSIONS, diagnostic=True),
    _enum(
        "rfid_security_type",
        RFID_SECURITY_TYPES,
        diagnostic=True,
        entity_registry_enabled_default=False,
    ),
    _diagnostic("rfid_uid", enabled=False),
    _diagnostic("rfid_card_number", enabled=False),
    # Compleo station
    _power("station_power"),
    *_phase_values("station_current", SensorDeviceClass.CURRENT, UnitOfElectricCurrent.AMPERE),
    _power("used_power", enabled=False),
    _diagnostic("connectors", enabled=False),  # how many the station has: fixed
    _diagnostic("hardware_type", enabled=False),
    _diagnostic("hardware_revision", enabled=False),
    _diagnostic("vehicle_number", enabled=False),
    # Compleo connectors
    _enum("error_code", ERROR_CODES, diagnostic=True, code_attribute=True),
    _enum("derating", DERATING_STATES, diagnostic=True),
    _diagnostic("tag", enabled=False),
    # The check of the box against its register map (started by its button)
    _enum(
        "verification",
        VERIFICATION_STATES,
        diagnostic=True,
        exists_fn=lambda charger, connector: connector is None,
        snapshot_fn=lambda snapshot: snapshot.verification.state,
    ),
    WallboxSensorEntityDescription(
        key="verification_progress",
        translation_key="verification_progress",
        native_unit_of_measurement=PERCENTAGE,
        entity_category=EntityCategory.DIAGNOSTIC,
        exists_fn=lambda charger, connector: connector is None,
        snapshot_fn=lambda snapshot: snapshot.verification.progress,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: WallboxConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up the sensors the box serves."""
    coordinator = entry.runtime_data.coordinator
    charger = coordinator.charger
    known = {d.key for d in (*SENSORS, *BINARY_SENSORS)}
    # A user's map may read points the catalog has no word for; a shipped map may not.
    extras = charger.extra_readings(known) if charger.model.user_map else []
    async_add_entities(
        [
            *entities_for(coordinator, SENSORS, _sensor_factory),
            *(
                WallboxSensorEntity(
                    coordinator=coordinator,
                    description=_extra_description(point),
                    connector=point.connector,
                )
                for point in extras
            ),
        ]
    )


# A map's own points that the catalog has no word for: named after their key.
_DEVICE_CLASSES = {
    "W": SensorDeviceClass.POWER,
    "kW": SensorDeviceClass.POWER,
    "A": SensorDeviceClass.CURRENT,
    "V": SensorDeviceClass.VOLTAGE,
    "kWh": SensorDeviceClass.ENERGY,
    "Wh": SensorDeviceClass.ENERGY,
    "°C": SensorDeviceClass.TEMPERATURE,
    "s": SensorDeviceClass.DURATION,
}


def _extra_description(point: Point) -> WallboxSensorEntityDescription:
    """A plain diagnostic sensor for a point without a catalog description."""
    options = None
    if point.values is not None and all(isinstance(v, str) for v in point.values.values()):
        options = [str(v) for v in point.values.values()]
    unit = point.unit if options is None else None
    device_class = SensorDeviceClass.ENUM if options else _DEVICE_CLASSES.get(unit or "")
    numeric = unit is not None and device_class is not SensorDeviceClass.ENERGY
    return WallboxSensorEntityDescription(
        key=point.key,
        name=point.key.replace("_", " ").capitalize(),
        native_unit_of_measurement=unit,
        device_class=device_class,
        options=options,
        state_class=SensorStateClass.MEASUREMENT if numeric else None,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
    )


def _sensor_factory(
    *, description: WallboxSensorEntityDescription, **kwargs: Any
) -> WallboxSensorEntity:
    if description.snapshot_fn is not None:
        return WallboxRunSensorEntity(description=description, **kwargs)
    if description.state_class is SensorStateClass.TOTAL_INCREASING:
        return WallboxEnergySensorEntity(description=description, **kwargs)
    return WallboxSensorEntity(description=description, **kwargs)


class WallboxSensorEntity(WallboxEntity, SensorEntity):
    """A value the box reports."""

    entity_description: WallboxSensorEntityDescription

    def _value(self) -> StateType | datetime:
        description = self.entity_description
        value: StateType | datetime = self.snapshot.get(description.key, self.connector)
        if value == "":
            return None  # an empty text (no card yet, no tag): no value
        if description.convert_fn is not None:
            value = description.convert_fn(value)
        if description.options is not None and value not in description.options:
            return None
        return value

    @property
    def native_value(self) -> StateType | datetime:
        """Return the value of the last refresh."""
        return self._value()

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """The raw number the box sent, where the description asks for it."""
        if not self.entity_description.code_attribute:
            return None
        return {"code": self.snapshot.codes.get(self.value_id)}


class WallboxRunSensorEntity(WallboxSensorEntity):
    """What the integration does with the box (not a reading): known even while it is away."""

    def _value(self) -> StateType | datetime:
        assert self.entity_description.snapshot_fn is not None
        return self.entity_description.snapshot_fn(self.snapshot)

    @property
    def available(self) -> bool:
        """Always: the state is the integration's own."""
        return self.coordinator.data is not None


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
