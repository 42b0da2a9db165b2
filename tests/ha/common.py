"""Helpers of the Home Assistant tests."""

from __future__ import annotations

import json
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.json import JSONEncoder
from pytest_homeassistant_custom_component.common import MockConfigEntry


def plain(value: Any) -> Any:
    """JSON round trip: enums, datetimes and tuples become plain values.

    Keeps the snapshots independent of the Home Assistant and syrupy versions.
    """
    return json.loads(json.dumps(value, cls=JSONEncoder))


def entity_table(hass: HomeAssistant, entry: MockConfigEntry) -> dict[str, Any]:
    """Every entity of an entry: registry entry and state, by unique id; and its devices.

    Only the fields this integration decides are kept (registry entries carry
    version-specific fields); the simulator's port is replaced by PORT and the
    entry's id (the key of a box without a serial number) by ENTRY_ID.
    """
    entity_registry = er.async_get(hass)
    device_registry = dr.async_get(hass)
    entities: dict[str, Any] = {}
    for entity in sorted(
        er.async_entries_for_config_entry(entity_registry, entry.entry_id),
        key=lambda e: e.unique_id,
    ):
        device = device_registry.async_get(entity.device_id) if entity.device_id else None
        state = hass.states.get(entity.entity_id)
        entities[entity.unique_id] = {
            "entity_id": entity.entity_id,
            "translation_key": entity.translation_key,
            "original_name": entity.original_name,
            "device_class": entity.original_device_class,
            "unit_of_measurement": entity.unit_of_measurement,
            "entity_category": entity.entity_category,
            "disabled_by": entity.disabled_by,
            "capabilities": entity.capabilities,
            "device": device.name if device else None,
            "state": state.state if state else None,
            "attributes": dict(state.attributes) if state else None,
        }
    devices = {
        device.name or "": {
            "identifiers": sorted(list(identifier) for identifier in device.identifiers),
            "manufacturer": device.manufacturer,
            "model": device.model,
            "serial_number": device.serial_number,
            "sw_version": device.sw_version,
            "via_device_id": device.via_device_id,
        }
        for device in dr.async_entries_for_config_entry(device_registry, entry.entry_id)
    }
    table = plain({"devices": devices, "entities": entities})
    port = str(entry.data["port"])
    text = json.dumps(table).replace(f"_{port}_", "_PORT_").replace(entry.entry_id, "ENTRY_ID")
    cleaned: dict[str, Any] = json.loads(text)
    return cleaned


def state_of(hass: HomeAssistant, entity_id: str) -> str:
    """The state of an entity that must exist."""
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return state.state


def attributes_of(hass: HomeAssistant, entity_id: str) -> dict[str, Any]:
    """The attributes of an entity that must exist."""
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    attributes: dict[str, Any] = dict(state.attributes)
    return attributes
