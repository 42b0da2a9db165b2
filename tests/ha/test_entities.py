"""Every entity of every model and variant: registry entry, device and state (snapshots)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from syrupy.assertion import SnapshotAssertion

from custom_components.wallbox_modbus.charger import MODELS

from .common import entity_table
from .conftest import StartSimulator, block_frozen, entry_for, run_frozen

# (model, simulator arguments, snapshot name): every model, and variants of some.
NAMES = {
    "amperfied_home": "amperfied_home_layout_1_0_8",
    "amperfied_business": "amperfied_business_mid",
}
VARIANTS: list[tuple[str, dict[str, Any], str]] = [
    *((model_id, {}, NAMES.get(model_id, model_id)) for model_id in MODELS),
    ("amperfied_home", {"layout": (2, 0, 0)}, "amperfied_home_layout_2_0_0"),
    ("amperfied_business", {"mid": False}, "amperfied_business_without_mid"),
]

# Entities per model, from the tables below; a change here is a change of the catalog.
COUNTS = {
    "vestel_evc04": 30,
    "amperfied_home_layout_1_0_8": 23,
    "amperfied_home_layout_2_0_0": 24,
    "amperfied_business_mid": 25,
    "amperfied_business_without_mid": 24,
    "amperfied_solar": 26,
    "compleo_solo": 28,
    "compleo_duo": 45,
}

# The catalog (entities.md): every key a model must have.
EVERY_CHARGE_POINT = {
    "status",
    "vehicle_connected",
    "charging",
    "power",
    "current_l1",
    "current_l2",
    "current_l3",
    "voltage_l1",
    "voltage_l2",
    "voltage_l3",
    "charging_current",
    "charging_enabled",
}
CATALOG = {
    "vestel_evc04": EVERY_CHARGE_POINT
    | {
        "energy_session",
        "energy_total",
        "cable_state",
        "equipment_state",
        "fault_code",
        "power_l1",
        "power_l2",
        "power_l3",
        "session_duration",
        "phases",
        "rated_power",
        "evse_min_current",
        "evse_max_current",
        "cable_max_current",
        "session_max_current",
        "device_time",
        "failsafe_current",
        "failsafe_timeout",
    },
    "amperfied": EVERY_CHARGE_POINT
    | {
        "energy_total",
        "energy_since_power_on",
        "temperature",
        "external_lock",
        "remote_lock",
        "hw_max_current",
        "hw_min_current",
        "layout_version",
        "failsafe_current",
        "watchdog_timeout",
    },
    "compleo_station": {
        "station_max_power",
        "fallback_power",
        "fallback_timeout",
        "station_power",
        "connectors",
    },
    "compleo_connector": EVERY_CHARGE_POINT
    | {"max_power", "error_code", "session_duration", "energy_session", "derating"},
}


def catalog_keys(name: str) -> set[str]:
    """The unique id suffixes a variant must have."""
    if name.startswith("amperfied"):
        keys = set(CATALOG["amperfied"])
        if not name.endswith("1_0_8"):
            keys.add("energy_session")
        if name == "amperfied_business_mid":
            keys.add("mid_energy_total")
        if name == "amperfied_solar":
            keys |= {"phases", "phase_switch_state"}
        return keys
    if name == "compleo_solo":  # one device: the station and its only connector
        return set(CATALOG["compleo_station"]) | set(CATALOG["compleo_connector"])
    if name == "compleo_duo":  # the station, and a device per connector
        return set(CATALOG["compleo_station"]) | {
            f"{connector}_{key}" for connector in (1, 2) for key in CATALOG["compleo_connector"]
        }
    return set(CATALOG.get(name, EVERY_CHARGE_POINT))


@pytest.mark.freeze_time("2026-11-21 10:00:00")
@pytest.mark.parametrize(
    ("model_id", "sim_kwargs", "name"), VARIANTS, ids=[name for *_, name in VARIANTS]
)
async def test_entities(
    hass: HomeAssistant,
    snapshot: SnapshotAssertion,
    start_simulator: StartSimulator,
    freezer: FrozenDateTimeFactory,
    model_id: str,
    sim_kwargs: dict[str, Any],
    name: str,
) -> None:
    """An hour into a charging session, every entity the box serves, and nothing else."""
    sim = await start_simulator(model_id, **sim_kwargs)
    for connector in sim.cars:
        sim.plug(connector)
    freezer.tick(timedelta(hours=1))

    entry = entry_for(sim, model_id)
    entry.add_to_hass(hass)
    assert await run_frozen(hass, hass.config_entries.async_setup(entry.entry_id))
    await block_frozen(hass)

    # Registry entries as created (disabled by default included) ...
    created = entity_table(hass, entry)
    # ... then every entity enabled, to see the values of all of them.
    registry = er.async_get(hass)
    for entity in er.async_entries_for_config_entry(registry, entry.entry_id):
        if entity.disabled_by is not None:
            registry.async_update_entity(entity.entity_id, disabled_by=None)
    await run_frozen(hass, hass.config_entries.async_reload(entry.entry_id))
    await block_frozen(hass)
    assert entry.state is ConfigEntryState.LOADED
    enabled = entity_table(hass, entry)

    for unique_id, entity in enabled["entities"].items():
        entity["disabled_by"] = created["entities"][unique_id]["disabled_by"]
        assert entity["state"] not in (None, "unavailable", "unknown"), unique_id
    assert enabled == snapshot

    serial = str(entry.unique_id).replace(f"_{sim.port}_", "_PORT_")
    suffixes = {unique_id.removeprefix(f"{serial}_") for unique_id in enabled["entities"]}
    assert catalog_keys(name) <= suffixes
    assert len(enabled["entities"]) == COUNTS.get(name, len(enabled["entities"]))
    # Every translation key is the key: the unique id's suffix.
    for unique_id, entity in enabled["entities"].items():
        assert unique_id.endswith(f"_{entity['translation_key']}")
    await hass.config_entries.async_unload(entry.entry_id)
