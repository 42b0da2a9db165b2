"""Long-term statistics of values that do not change, now that unchanged states are not rewritten.

The recorder never sees an unchanged write (``state_reported`` is not recorded),
and each five-minute compile starts from the last state before its period: an
unchanged power sensor still gets a row every hour, with mean = min = max.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder import Recorder
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_recorder_block_till_done,
    async_wait_recording_done,
    do_adhoc_statistics,
    statistics_during_period,
)
from pytest_homeassistant_custom_component.typing import RecorderInstanceContextManager

from .conftest import StartSimulator, block_frozen, entry_for, run_frozen, tick

POWER = "sensor.compleo_solo_power"  # measurement
ENERGY = "sensor.compleo_solo_session_energy"  # total_increasing
HOURS = 3


@pytest.fixture
async def mock_recorder_before_hass(
    async_test_recorder: RecorderInstanceContextManager,
) -> None:
    """The recorder's patches must be in place before the hass fixture."""


@pytest.fixture(autouse=True)
def setup_recorder(recorder_mock: Recorder) -> Recorder:
    """The in-memory recorder (statistics compiled by hand, below)."""
    return recorder_mock


async def setup_frozen(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    entry.add_to_hass(hass)
    assert await run_frozen(hass, hass.config_entries.async_setup(entry.entry_id))
    await block_frozen(hass)


async def test_unchanged_power_still_has_hourly_statistics(
    hass: HomeAssistant, start_simulator: StartSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """A constant charge for three hours: the power is written once, its statistics every hour."""
    hour0 = dt_util.utcnow().replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    freezer.move_to(hour0 - timedelta(minutes=10))
    sim = await start_simulator("compleo_solo")
    sim.plug(1)
    entry = entry_for(sim, "compleo_solo")
    await setup_frozen(hass, entry)
    await async_recorder_block_till_done(hass)
    first = hass.states.get(POWER)
    assert first is not None
    power = float(first.state)
    assert power > 0
    energy = hass.states.get(ENERGY)
    assert energy is not None

    for _ in range((HOURS * 60 + 15) // 5):  # a poll every five minutes
        await tick(hass, freezer, 300)
    now = hass.states.get(POWER)
    assert now is not None
    assert now.state == first.state
    assert now.last_reported == first.last_reported  # not written again, not even unchanged
    later = hass.states.get(ENERGY)
    assert later is not None
    assert float(later.state) > float(energy.state)  # the counter was written as it moved
    await run_frozen(hass, hass.config_entries.async_unload(entry.entry_id))
    await async_wait_recording_done(hass)

    for slot in range(HOURS * 12):  # every five-minute period of the three hours
        do_adhoc_statistics(hass, start=hour0 + timedelta(minutes=5 * slot))
    await async_wait_recording_done(hass)

    end = hour0 + timedelta(hours=HOURS)
    stats = statistics_during_period(hass, hour0, end, {POWER, ENERGY}, period="hour")
    hours = [(hour0 + timedelta(hours=h)).timestamp() for h in range(HOURS)]
    assert [row["start"] for row in stats[POWER]] == hours
    for row in stats[POWER]:
        assert row["mean"] == row["min"] == row["max"] == pytest.approx(power)
    # The energy counter keeps its total_increasing statistics: a sum that grows each hour.
    sums = [row["sum"] for row in stats[ENERGY]]
    assert [row["start"] for row in stats[ENERGY]] == hours
    assert sums == sorted(sums)
    assert sums[-1] > sums[0]
    short = statistics_during_period(hass, hour0, end, {POWER}, period="5minute")
    assert len(short[POWER]) == HOURS * 12
