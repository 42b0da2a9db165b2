"""Tests of the diagnostics."""

from __future__ import annotations

import contextlib

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion
from syrupy.filters import props

from .common import plain
from .conftest import StartSimulator, block_frozen, entry_for, run_frozen

with contextlib.suppress(ImportError):
    # Imported by the diagnostics view; importing it under a frozen clock fails.
    import aiohasupervisor  # noqa: F401


@pytest.mark.freeze_time("2026-11-21 10:00:00")
@pytest.mark.parametrize("model_id", ["vestel_evc04", "amperfied_home", "compleo_duo"])
async def test_diagnostics(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    start_simulator: StartSimulator,
    freezer: FrozenDateTimeFactory,
    snapshot: SnapshotAssertion,
    model_id: str,
) -> None:
    """Host and serial numbers redacted; map, raw blocks, errors, keepalive, transport."""
    sim = await start_simulator(model_id)
    for connector in sim.cars:
        sim.plug(connector)
    freezer.tick(600)
    entry = entry_for(sim, model_id)
    entry.add_to_hass(hass)
    assert await run_frozen(hass, hass.config_entries.async_setup(entry.entry_id))
    await block_frozen(hass)

    diagnostics = await run_frozen(hass, get_diagnostics_for_config_entry(hass, hass_client, entry))
    text = str(diagnostics)
    assert "127.0.0.1" not in text
    serial = sim.bank.get("serial_number") if sim.bank.has("serial_number") else None
    if serial:
        assert serial not in text
    assert plain(diagnostics) == snapshot(exclude=props("port", "last", "last_success"))
    assert await run_frozen(hass, hass.config_entries.async_unload(entry.entry_id))
