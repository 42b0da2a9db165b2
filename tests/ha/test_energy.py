"""The energy counters the README recommends pass Home Assistant's energy validation.

The recorder runs in memory; statistics are compiled by hand (the harness
patches the periodic compile out), then the Energy dashboard's own validation
(homeassistant.components.energy.validate) runs on the preferences a user
would set: the counter as an individual device's consumption.  (The grid
source's format differs between 2025.4 and 2026.x; the device section does not.)
"""

from __future__ import annotations

from typing import Any

import pytest
from homeassistant.components.energy import data as energy_data
from homeassistant.components.energy.validate import async_validate
from homeassistant.components.recorder import Recorder
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_recorder_block_till_done,
    async_wait_recording_done,
    do_adhoc_statistics,
    get_start_time,
)

from .common import state_of
from .conftest import StartSimulator, entry_for


@pytest.fixture
async def mock_recorder_before_hass(async_test_recorder: Any) -> None:
    """The recorder's patches go in before the hass fixture (core's pattern)."""


@pytest.fixture(autouse=True)
def setup_recorder(recorder_mock: Recorder) -> Recorder:
    """The in-memory recorder."""
    return recorder_mock


# (model, the counter the README tells to pick): the lifetime counters, and the
# session counter where the box has nothing else (Compleo).
COUNTERS = [
    ("vestel_evc04", "sensor.vestel_evc04_total_energy"),
    ("amperfied_home", "sensor.amperfied_connect_home_total_energy"),
    ("amperfied_business", "sensor.amperfied_connect_business_mid_meter_total_energy"),
    ("compleo_solo", "sensor.compleo_solo_session_energy"),
]


@pytest.mark.parametrize(("model_id", "entity_id"), COUNTERS)
async def test_energy_dashboard_accepts_the_counter(
    hass: HomeAssistant, start_simulator: StartSimulator, model_id: str, entity_id: str
) -> None:
    sim = await start_simulator(model_id)
    for connector in sim.cars:
        sim.plug(connector)
    await async_setup_component(hass, "sensor", {})
    await async_recorder_block_till_done(hass)
    entry = entry_for(sim, model_id)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    float(state_of(hass, entity_id))  # a reading
    await async_wait_recording_done(hass)
    do_adhoc_statistics(hass, start=get_start_time(dt_util.utcnow()))
    await async_wait_recording_done(hass)

    manager = await energy_data.async_get_manager(hass)
    await manager.async_update(
        {
            "device_consumption": [
                {"stat_consumption": entity_id, "name": None, "included_in_stat": None}
            ]
        }
    )
    validation = (await async_validate(hass)).as_dict()
    assert validation["device_consumption"] == [[]]
    # nothing else configured, nothing else to say (2026.x adds water devices)
    assert all(issues in ([[]], []) for issues in validation.values()), validation
    await hass.config_entries.async_unload(entry.entry_id)


async def test_the_validation_would_object(
    hass: HomeAssistant, start_simulator: StartSimulator
) -> None:
    """The check can fail: a power sensor picked as a counter is refused."""
    sim = await start_simulator("vestel_evc04")
    await async_setup_component(hass, "sensor", {})
    await async_recorder_block_till_done(hass)
    entry = entry_for(sim, "vestel_evc04")
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await async_wait_recording_done(hass)
    do_adhoc_statistics(hass, start=get_start_time(dt_util.utcnow()))
    await async_wait_recording_done(hass)
    manager = await energy_data.async_get_manager(hass)
    await manager.async_update(
        {
            "device_consumption": [
                {"stat_consumption": "sensor.vestel_evc04_power", "name": None,
                 "included_in_stat": None}
            ]
        }
    )  # fmt: skip
    issues = (await async_validate(hass)).as_dict()["device_consumption"][0]
    assert {issue["type"] for issue in issues} >= {"entity_unexpected_device_class"}
    await hass.config_entries.async_unload(entry.entry_id)
