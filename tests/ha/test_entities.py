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
from simulators.amperfied import AmperfiedSimulator
from simulators.base import WallboxSimulator

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
# Every box has the check against its map: two buttons (one disabled) and two sensors.
COUNTS = {
    "vestel_evc04": 37,
    "amperfied_home_layout_1_0_8": 28,
    "amperfied_home_layout_2_0_0": 50,
    "amperfied_business_mid": 59,
    "amperfied_business_without_mid": 50,
    "amperfied_solar": 52,
    "compleo_solo": 39,
    "compleo_duo": 59,
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
        "session_start_time",
        "session_end_time",
        "chargepoint_id",
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
        "software_revision",
    },
    # Amperfied on layout >= 2.0.0: identity strings and RFID
    "amperfied_2": {
        "energy_session",
        "item_number",
        "production_date",
        "firmware_variant",
        "mid_available",
        "rfid_card_counter",
        "charging_permission",
        "rfid_security_type",
        "rfid_uid",
        "rfid_card_number",
        "ready_for_charging",
        "rfid_whitelist",
        "rfid_card_security",
        "rfid_authentication",
        "rfid_whitelist_enabled",
        "rfid_card_security_enabled",
        "rfid_authentication_enabled",
        "rfid_teach_start",
        "rfid_teach_cancel",
        "rfid_card_accept",
        "rfid_card_reject",
        "rfid_card_allow",
    },
    "amperfied_mid": {
        "mid_energy_total",
        "mid_current_l1",
        "mid_current_l2",
        "mid_current_l3",
        "mid_voltage_l1",
        "mid_voltage_l2",
        "mid_voltage_l3",
        "mid_power",
        "mid_serial_number",
    },
    "compleo_station": {
        "station_max_power",
        "station_relative_power",
        "max_unbalanced_current",
        "fallback_power",
        "fallback_relative_power",
        "fallback_timeout",
        "station_power",
        "used_power",
        "connectors",
        "hardware_type",
        "hardware_revision",
        "vehicle_number",
    },
    "compleo_connector": EVERY_CHARGE_POINT
    | {
        "max_power",
        "error_code",
        "session_duration",
        "energy_session",
        "derating",
        "tag",
        "limited",
        "error",
    },
}


def catalog_keys(name: str) -> set[str]:
    """The unique id suffixes a variant must have."""
    if name.startswith("amperfied"):
        keys = set(CATALOG["amperfied"])
        if not name.endswith("1_0_8"):
            keys |= CATALOG["amperfied_2"]
        if name == "amperfied_business_mid":
            keys |= CATALOG["amperfied_mid"]
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


def personal(sim: WallboxSimulator) -> None:
    """A card presented, tags and a vehicle number: the values personal entities show."""
    if isinstance(sim, AmperfiedSimulator) and sim.bank.has("rfid_uid"):
        sim.present_card("04 49 62 FA BA 10 90", "00040550791897041156")
    for key, value in (("tag@1", "TAG-RIGHT"), ("tag@2", "TAG-LEFT"), ("vehicle_number", "VIN-1")):
        if sim.bank.has(key):
            sim.bank.set(key, value)


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
        sim.plug(connector)  # a short session before: its end time is known
        sim.unplug(connector)
        sim.plug(connector)
    personal(sim)
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
        if entity["entity_id"].startswith("button."):
            assert entity["state"] == "unknown", unique_id  # never pressed: nothing sent
            continue
        assert entity["state"] not in (None, "unavailable", "unknown"), unique_id
    assert enabled == snapshot

    base = entry.unique_id or "ENTRY_ID"  # the serial, else the entry id (see entity_table)
    suffixes = {unique_id.removeprefix(f"{base}_") for unique_id in enabled["entities"]}
    assert catalog_keys(name) <= suffixes, sorted(catalog_keys(name) - suffixes)
    assert len(enabled["entities"]) == COUNTS.get(name, len(enabled["entities"]))
    # Every translation key is the key: the unique id's suffix.
    for unique_id, entity in enabled["entities"].items():
        assert unique_id.endswith(f"_{entity['translation_key']}")
    await hass.config_entries.async_unload(entry.entry_id)
