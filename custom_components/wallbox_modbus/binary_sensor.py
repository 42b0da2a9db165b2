"""Binary sensors of Wallbox Modbus."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import WallboxConfigEntry
from .entity import WallboxEntity, WallboxEntityDescription, entities_for

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class WallboxBinarySensorEntityDescription(WallboxEntityDescription, BinarySensorEntityDescription):
    """Describe a Wallbox Modbus binary sensor."""

    is_on_fn: Callable[[Any], bool | None] = bool


BINARY_SENSORS: tuple[WallboxBinarySensorEntityDescription, ...] = (
    WallboxBinarySensorEntityDescription(
        key="vehicle_connected",
        translation_key="vehicle_connected",
        device_class=BinarySensorDeviceClass.PLUG,
    ),
    WallboxBinarySensorEntityDescription(
        key="charging",
        translation_key="charging",
        device_class=BinarySensorDeviceClass.BATTERY_CHARGING,
    ),
    # Amperfied: on means unlocked (the lock device class)
    WallboxBinarySensorEntityDescription(
        key="external_lock",
        translation_key="external_lock",
        device_class=BinarySensorDeviceClass.LOCK,
        entity_category=EntityCategory.DIAGNOSTIC,
        is_on_fn=lambda value: value == "unlocked",
    ),
    WallboxBinarySensorEntityDescription(
        key="ready_for_charging",
        translation_key="ready_for_charging",
        entity_category=EntityCategory.DIAGNOSTIC,
    ),
    # RFID status bits: the toggles show (and switch) the same states.
    *(
        WallboxBinarySensorEntityDescription(
            key=key,
            translation_key=key,
            entity_category=EntityCategory.DIAGNOSTIC,
            entity_registry_enabled_default=False,
        )
        for key in ("rfid_whitelist", "rfid_card_security", "rfid_authentication")
    ),
    WallboxBinarySensorEntityDescription(
        key="mid_available",
        translation_key="mid_available",
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
    ),
    # Compleo status word: charging is limited; the connector reports an error.
    WallboxBinarySensorEntityDescription(
        key="limited",
        translation_key="limited",
        entity_category=EntityCategory.DIAGNOSTIC,
    ),
    WallboxBinarySensorEntityDescription(
        key="error",
        translation_key="error",
        device_class=BinarySensorDeviceClass.PROBLEM,
        entity_category=EntityCategory.DIAGNOSTIC,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: WallboxConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up the binary sensors the box serves."""
    async_add_entities(
        entities_for(entry.runtime_data.coordinator, BINARY_SENSORS, WallboxBinarySensorEntity)
    )


class WallboxBinarySensorEntity(WallboxEntity, BinarySensorEntity):
    """A flag the box reports."""

    entity_description: WallboxBinarySensorEntityDescription

    @property
    def is_on(self) -> bool | None:
        """Return the flag of the last refresh."""
        value = self.snapshot.get(self.entity_description.key, self.connector)
        return None if value is None else self.entity_description.is_on_fn(value)
