"""Tests of setting up and unloading an entry."""

from __future__ import annotations

from unittest.mock import patch

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry

from simulators.base import WallboxSimulator

from .conftest import StartSimulator, entry_for, settle


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


async def test_the_action_is_there_without_an_entry(hass: HomeAssistant) -> None:
    """Registered when the integration loads, not per entry."""
    assert await async_setup_component(hass, "wallbox_modbus", {})
    assert hass.services.has_service("wallbox_modbus", "verify")


async def test_yaml_is_refused_with_a_repair(hass: HomeAssistant) -> None:
    """The integration is set up from the UI only: YAML gets Home Assistant's own repair."""
    assert await async_setup_component(hass, "wallbox_modbus", {"wallbox_modbus": {}})
    issues = ir.async_get(hass).issues
    assert ("homeassistant", "config_entry_only_wallbox_modbus") in issues
