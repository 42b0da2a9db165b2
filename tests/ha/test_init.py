"""Tests of setting up and unloading an entry."""

from __future__ import annotations

from typing import Any
from unittest.mock import patch

import pytest
from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_PORT, Platform
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.wallbox_modbus import async_remove_config_entry_device
from custom_components.wallbox_modbus.const import CONF_MODEL, CONF_UNIT_ID, DOMAIN
from simulators.base import WallboxSimulator

from .common import state_of
from .conftest import StartSimulator, entry_for, legacy_entry_for, settle


@pytest.mark.parametrize("model_id", ["vestel_evc04", "amperfied_solar", "compleo_duo"])
async def test_setup_and_unload(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: WallboxSimulator
) -> None:
    """The entry holds one connection while loaded and none after unloading."""
    assert init_integration.state is ConfigEntryState.LOADED
    assert simulator.server.open_connections == 1
    coordinator = init_integration.runtime_data.coordinator
    assert coordinator.last_update_success

    assert await hass.config_entries.async_unload(init_integration.entry_id)
    await hass.async_block_till_done()
    entry = hass.config_entries.async_get_entry(init_integration.entry_id)
    assert entry is not None
    assert entry.state is ConfigEntryState.NOT_LOADED
    assert await settle(lambda: simulator.server.open_connections == 0)
    assert not coordinator.charger.transport.connected


async def test_not_ready(
    hass: HomeAssistant, start_simulator: StartSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    """A box that is off at startup: retried later, its connection closed meanwhile."""
    sim = await start_simulator("compleo_solo")
    entry = entry_for(sim, "compleo_solo")
    await sim.stop()
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    # The setup retry says so; the coordinator adds no warning of its own.
    assert not [
        record
        for record in caplog.records
        if record.name.startswith("custom_components.wallbox_modbus")
        and record.levelname == "WARNING"
    ]


async def test_not_ready_timeout(hass: HomeAssistant, start_simulator: StartSimulator) -> None:
    """A box that takes the connection and never answers."""
    sim = await start_simulator("vestel_evc04")
    sim.server.faults.silent = True
    entry = entry_for(sim, "vestel_evc04")
    entry.add_to_hass(hass)
    with patch("custom_components.wallbox_modbus.entry.REQUEST_TIMEOUT", 0.2):
        assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert await settle(lambda: sim.server.open_connections == 0)


async def test_other_box_at_the_address(
    hass: HomeAssistant, start_simulator: StartSimulator
) -> None:
    """Another box (another serial number) answers at the entry's address."""
    sim = await start_simulator("amperfied_business")
    entry = entry_for(sim, "amperfied_business")
    sim.bank.set("serial_number", "AMP-BUSINESS-0002")
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert entry.reason is not None
    assert "different one" in entry.reason


async def test_other_model_at_the_address(
    hass: HomeAssistant, start_simulator: StartSimulator
) -> None:
    """The box at the entry's address is no longer the configured model."""
    sim = await start_simulator("amperfied_business")
    entry = entry_for(sim, "amperfied_solar")
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert entry.reason is not None
    assert "not the configured model" in entry.reason


# ------------------------------------------------------------------ migration 1.1 -> 1.2


async def test_migration_keys_a_box_without_serial_on_the_entry(
    hass: HomeAssistant, start_simulator: StartSimulator
) -> None:
    """1.1 keyed a box without a serial number on its address; 1.2 keys it on the entry.

    The registry entries are rewritten in place: the entity keeps its entity id
    (and with it its history), the device stays the same device.
    """
    sim = await start_simulator("amperfied_home")
    entry = legacy_entry_for(sim, "amperfied_home")
    entry.add_to_hass(hass)
    old = f"amperfied_home_127.0.0.1_{sim.port}_255"
    assert entry.unique_id == old
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id, identifiers={(DOMAIN, old)}, name="Garage"
    )
    registry = er.async_get(hass)
    renamed = registry.async_get_or_create(
        Platform.SENSOR, DOMAIN, f"{old}_power", suggested_object_id="garage_power",
        config_entry=entry, device_id=device.id,
    )  # fmt: skip
    registry.async_get_or_create(
        Platform.SWITCH, DOMAIN, f"{old}_charging_enabled", config_entry=entry, device_id=device.id
    )

    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    assert entry.state is ConfigEntryState.LOADED
    assert (entry.version, entry.minor_version) == (1, 2)
    assert entry.unique_id is None
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    assert [(d.id, d.identifiers) for d in devices] == [(device.id, {(DOMAIN, entry.entry_id)})]
    entities = er.async_entries_for_config_entry(registry, entry.entry_id)
    assert {e.unique_id.removeprefix(f"{entry.entry_id}_") for e in entities} >= {
        "power",
        "charging_enabled",
        "status",
    }
    assert not [e.unique_id for e in entities if e.unique_id.startswith(old)]
    assert registry.async_get_entity_id(Platform.SENSOR, DOMAIN, f"{entry.entry_id}_power") == (
        renamed.entity_id
    )
    assert state_of(hass, "sensor.garage_power") not in ("unavailable", "unknown")
    # Duplicates are still refused by address.
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_MODEL: "amperfied_home", CONF_HOST: "127.0.0.1", CONF_PORT: sim.port,
         CONF_UNIT_ID: 255},
    )  # fmt: skip
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    await hass.config_entries.async_unload(entry.entry_id)


async def test_migration_keeps_a_serial_number(
    hass: HomeAssistant, start_simulator: StartSimulator
) -> None:
    """An entry identified by its serial number only gets the new minor version."""
    sim = await start_simulator("compleo_duo")
    entry = legacy_entry_for(sim, "compleo_duo")
    entry.add_to_hass(hass)
    serial = str(entry.unique_id)
    registry = er.async_get(hass)
    before = registry.async_get_or_create(
        Platform.SENSOR, DOMAIN, f"{serial}_1_power", config_entry=entry
    )

    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    assert (entry.minor_version, entry.unique_id) == (2, serial)
    assert registry.async_get_entity_id(Platform.SENSOR, DOMAIN, f"{serial}_1_power") == (
        before.entity_id
    )
    identifiers = {
        key
        for device in dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
        for _, key in device.identifiers
    }
    assert identifiers == {serial, f"{serial}_1", f"{serial}_2"}
    await hass.config_entries.async_unload(entry.entry_id)


async def test_migration_refuses_a_newer_version(
    hass: HomeAssistant, start_simulator: StartSimulator
) -> None:
    """An entry written by a newer major version is not touched."""
    sim = await start_simulator("vestel_evc04")
    entry = entry_for(sim, "vestel_evc04", version=2)
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.MIGRATION_ERROR
    assert sim.server.stats.connections_accepted == 0


# ------------------------------------------------------------------ stale devices


@pytest.mark.parametrize("model_id", ["compleo_duo"])
async def test_stale_device_can_be_deleted(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """A device the entry does not serve any more can be deleted; the box's own cannot."""
    assert await async_setup_component(hass, "config", {})
    entry = init_integration
    registry = dr.async_get(hass)
    stale = registry.async_get_or_create(
        config_entry_id=entry.entry_id, identifiers={(DOMAIN, f"{entry.unique_id}_3")}
    )
    # (not registry.async_get_device: deprecated in 2026.x, its replacement missing in 2025.4)
    served = next(
        device
        for device in dr.async_entries_for_config_entry(registry, entry.entry_id)
        if (DOMAIN, f"{entry.unique_id}_2") in device.identifiers
    )
    client = await hass_ws_client(hass)

    async def remove(device_id: str) -> dict[str, Any]:
        await client.send_json_auto_id(
            {
                "type": "config/device_registry/remove_config_entry",
                "config_entry_id": entry.entry_id,
                "device_id": device_id,
            }
        )
        response: dict[str, Any] = await client.receive_json()
        return response

    assert (await remove(served.id))["success"] is False
    assert registry.async_get(served.id) is not None
    assert (await remove(stale.id))["success"] is True
    assert registry.async_get(stale.id) is None


async def test_no_device_deleted_while_not_loaded(
    hass: HomeAssistant, start_simulator: StartSimulator
) -> None:
    """Unloaded, the entry cannot tell its devices: none is deleted."""
    sim = await start_simulator("vestel_evc04")
    entry = entry_for(sim, "vestel_evc04")
    entry.add_to_hass(hass)
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id, identifiers={(DOMAIN, "EVC04-SIM-99999")}
    )
    assert not await async_remove_config_entry_device(hass, entry, device)


async def test_deleting_the_entry_deletes_its_wishes(
    hass: HomeAssistant, start_simulator: StartSimulator, hass_storage: dict[str, Any]
) -> None:
    """The wishes stored for an entry do not outlive it."""
    sim = await start_simulator("vestel_evc04")
    entry = entry_for(sim, "vestel_evc04")
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await hass.config_entries.async_unload(entry.entry_id)  # stores the wishes
    key = f"{DOMAIN}.{entry.entry_id}.desired"
    assert key in hass_storage
    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert key not in hass_storage


async def test_the_action_is_there_without_an_entry(hass: HomeAssistant) -> None:
    """Registered when the integration loads, not per entry."""
    assert await async_setup_component(hass, "wallbox_modbus", {})
    assert hass.services.has_service("wallbox_modbus", "verify")


async def test_yaml_is_refused_with_a_repair(hass: HomeAssistant) -> None:
    """The integration is set up from the UI only: YAML gets Home Assistant's own repair."""
    assert await async_setup_component(hass, "wallbox_modbus", {"wallbox_modbus": {}})
    issues = ir.async_get(hass).issues
    assert ("homeassistant", "config_entry_only_wallbox_modbus") in issues
