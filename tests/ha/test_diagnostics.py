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
@pytest.mark.parametrize(
    "model_id", ["vestel_evc04", "amperfied_home", "amperfied_business", "compleo_duo"]
)
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
    private = {
        # personal data the box reports: a card, a tag, a vehicle (point id -> value)
        "rfid_uid": "04A1B2C3D4E5F6",
        "rfid_card_number": "CARD-0815",
        "tag@1": "TAG-RIGHT",
        "tag@2": "TAG-LEFT",
        "vehicle_number": "VIN-WVW123",
    }
    private = {key: value for key, value in private.items() if sim.bank.has(key)}
    for key, value in private.items():
        sim.bank.set(key, value)
    if sim.bank.has("rfid_uid_length"):
        sim.bank.set("rfid_uid_length", 7)
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
    for key, value in private.items():
        assert value not in text, key
        assert value.replace("-", "") not in text.replace(" ", ""), key
    # Counters depend on how far the start-up keepalive got: their presence is the contract.
    counters = ("count", "bytes_received", "bytes_sent", "registers_written", "requests", "writes")
    for name in counters[1:]:
        assert isinstance(diagnostics["transport"][name], int)
    assert plain(diagnostics) == snapshot(exclude=props("port", "last", "last_success", *counters))
    assert await run_frozen(hass, hass.config_entries.async_unload(entry.entry_id))
