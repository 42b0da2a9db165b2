"""Tests of polling, reconnecting, keepalive and energy counters, with a frozen clock."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
from contextlib import ExitStack
from datetime import timedelta
from typing import Any
from unittest.mock import PropertyMock, patch

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant, State
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    mock_restore_cache_with_extra_data,
)

from custom_components.wallbox_modbus.charger import Charger, Keepalive
from custom_components.wallbox_modbus.charger.keepalive import TrafficWatchdog
from custom_components.wallbox_modbus.charger.registers import Tier
from custom_components.wallbox_modbus.const import DOMAIN
from custom_components.wallbox_modbus.diagnostics import async_get_config_entry_diagnostics
from simulators.amperfied import AmperfiedSimulator
from simulators.vestel import VestelSimulator

from .common import attributes_of, state_of
from .conftest import StartSimulator, block_frozen, enable_entity, entry_for, run_frozen, tick

SCAN = 10  # default scan interval, seconds


async def setup_frozen(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Set up an entry under a frozen clock."""
    entry.add_to_hass(hass)
    assert await run_frozen(hass, hass.config_entries.async_setup(entry.entry_id))
    await block_frozen(hass)


async def unload_frozen(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Unload an entry under a frozen clock."""
    assert await run_frozen(hass, hass.config_entries.async_unload(entry.entry_id))


def own_records(caplog: pytest.LogCaptureFixture, text: str) -> list[str]:
    """Log lines of the integration containing a text."""
    return [
        f"{record.levelname} {record.getMessage()}"
        for record in caplog.records
        if record.name.startswith("custom_components.wallbox_modbus")
        and text in record.getMessage()
    ]


# ------------------------------------------------------------------ unreachable box

UNREACHABLE = {
    # model: (an ordinary sensor, energy counters)
    "amperfied_business": (
        "sensor.amperfied_connect_business_power",
        (
            "sensor.amperfied_connect_business_total_energy",
            "sensor.amperfied_connect_business_session_energy",
            "sensor.amperfied_connect_business_mid_meter_total_energy",
        ),
    ),
    "compleo_duo": (
        "sensor.compleo_duo_station_power",
        ("sensor.compleo_duo_connector_2_session_energy",),
    ),
}


@pytest.mark.freeze_time("2026-11-21 10:00:00")
@pytest.mark.parametrize("model_id", list(UNREACHABLE))
async def test_box_goes_away_and_comes_back(
    hass: HomeAssistant,
    start_simulator: StartSimulator,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
    model_id: str,
) -> None:
    """Unavailable while away (energy keeps its value), back without a reload; logged once each."""
    sensor, energies = UNREACHABLE[model_id]
    sim = await start_simulator(model_id)
    for connector in sim.cars:
        sim.plug(connector)
    freezer.tick(1800)
    entry = entry_for(sim, model_id)
    await setup_frozen(hass, entry)
    before = {entity_id: state_of(hass, entity_id) for entity_id in energies}
    assert all(float(value) > 0 for value in before.values())
    connects = entry.runtime_data.charger.transport.stats.connects

    await sim.stop()
    for _ in range(3):
        await tick(hass, freezer, SCAN)
        assert state_of(hass, sensor) == STATE_UNAVAILABLE
        for entity_id, value in before.items():
            assert state_of(hass, entity_id) == value
    # Said once, by the coordinator itself (the standard mechanism).
    silent = own_records(caplog, "Error fetching")
    assert len(silent) == 1
    assert silent[0].startswith(f"ERROR Error fetching {entry.title} data: The wallbox does not")

    await sim.start()  # the same port
    await tick(hass, freezer, SCAN)
    assert state_of(hass, sensor) != STATE_UNAVAILABLE
    for entity_id, value in before.items():
        assert float(state_of(hass, entity_id)) >= float(value)
    await tick(hass, freezer, SCAN)
    assert own_records(caplog, "recovered") == [f"INFO Fetching {entry.title} data recovered"]
    assert len(own_records(caplog, "Error fetching")) == 1
    # Reconnected by the transport, not by reloading the entry.
    assert entry.runtime_data.charger.transport.stats.connects == connects + 1
    await unload_frozen(hass, entry)


@pytest.mark.freeze_time("2026-11-21 10:00:00")
async def test_box_answers_with_errors(
    hass: HomeAssistant, start_simulator: StartSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """Modbus exceptions on every read: the entities go unavailable, energy stays."""
    sim = await start_simulator("vestel_evc04")
    sim.plug(1)
    freezer.tick(600)
    entry = entry_for(sim, "vestel_evc04")
    await setup_frozen(hass, entry)
    energy = state_of(hass, "sensor.vestel_evc04_total_energy")
    assert float(energy) > 0

    sim.server.faults.exception = 4
    await tick(hass, freezer, SCAN)
    assert state_of(hass, "sensor.vestel_evc04_power") == STATE_UNAVAILABLE
    assert state_of(hass, "sensor.vestel_evc04_status") == STATE_UNAVAILABLE
    assert state_of(hass, "sensor.vestel_evc04_total_energy") == energy

    sim.server.faults.exception = None
    await tick(hass, freezer, SCAN)
    assert state_of(hass, "sensor.vestel_evc04_power") == "11040"
    assert state_of(hass, "sensor.vestel_evc04_status") == "charging"
    await unload_frozen(hass, entry)


@pytest.mark.freeze_time("2026-11-21 10:00:00")
async def test_register_dropped_at_runtime(
    hass: HomeAssistant, start_simulator: StartSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """A register the box stops serving darkens its own entity only."""
    sim = await start_simulator("amperfied_solar")
    entry = entry_for(sim, "amperfied_solar")
    await setup_frozen(hass, entry)
    assert state_of(hass, "sensor.amperfied_connect_solar_temperature") == "25.0"

    sim.bank.remove("temperature")
    await tick(hass, freezer, SCAN)
    assert state_of(hass, "sensor.amperfied_connect_solar_temperature") == (STATE_UNAVAILABLE)
    assert state_of(hass, "sensor.amperfied_connect_solar_voltage_l1") == "230"
    assert "temperature" in entry.runtime_data.charger.dropped
    await unload_frozen(hass, entry)


@pytest.mark.freeze_time("2026-11-21 10:00:00")
async def test_slow_tier(
    hass: HomeAssistant, start_simulator: StartSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """Settings and ratings are read every five minutes, measurements every scan."""
    sim = await start_simulator("vestel_evc04")
    entry = entry_for(sim, "vestel_evc04")
    entry.add_to_hass(hass)
    # a rating: disabled by default
    enable_entity(hass, entry, "sensor", "rated_power", "vestel_evc04_rated_power")
    assert await run_frozen(hass, hass.config_entries.async_setup(entry.entry_id))
    await block_frozen(hass)
    assert state_of(hass, "sensor.vestel_evc04_rated_power") == "22000"

    sim.bank.set("rated_power", 11000)
    sim.bank.set("equipment_state", "disabled")  # fast tier; put back by the next update
    await tick(hass, freezer, SCAN)
    assert state_of(hass, "sensor.vestel_evc04_rated_power") == "22000"
    for _ in range(29):
        await tick(hass, freezer, SCAN)
    assert state_of(hass, "sensor.vestel_evc04_rated_power") == "11000"
    await unload_frozen(hass, entry)


# ------------------------------------------------------------------ keepalive


@pytest.mark.freeze_time("2026-11-21 10:00:00")
@pytest.mark.parametrize("keepalive", [True, False], ids=["keepalive", "control_without"])
async def test_vestel_failsafe_never_trips(
    hass: HomeAssistant,
    start_simulator: StartSimulator,
    freezer: FrozenDateTimeFactory,
    keepalive: bool,
) -> None:
    """Failsafe timeout 20 s, scan interval 30 s: the keepalive keeps the box out of failsafe.

    The control run without the keepalive shows the test can fail.
    """
    sim = await start_simulator("vestel_evc04")
    assert isinstance(sim, VestelSimulator)
    sim.plug(1)
    entry = entry_for(sim, "vestel_evc04", options={"scan_interval": 30})
    with ExitStack() as stack:
        if not keepalive:
            stack.enter_context(patch.object(Keepalive, "due", return_value=None))
        await setup_frozen(hass, entry)
        for _ in range(60):  # two minutes in steps of two seconds
            await tick(hass, freezer, 2)
    if keepalive:
        assert not sim.failsafe
        assert sim.failsafe_events == 0
        assert sim.alive_writes >= 120 // 5 - 1
        keepalive = entry.runtime_data.charger.keepalive
        assert keepalive is not None and keepalive.interval() == 5.0
        assert state_of(hass, "sensor.vestel_evc04_power") != STATE_UNAVAILABLE
    else:
        assert sim.failsafe_events >= 1
    await unload_frozen(hass, entry)


@pytest.mark.freeze_time("2026-11-21 10:00:00")
@pytest.mark.parametrize("keepalive", [True, False], ids=["keepalive", "control_without"])
async def test_amperfied_watchdog_never_trips(
    hass: HomeAssistant,
    start_simulator: StartSimulator,
    freezer: FrozenDateTimeFactory,
    keepalive: bool,
) -> None:
    """Watchdog 4 s, scan interval 10 s: the keepalive keeps the box out of time-out mode."""
    sim = await start_simulator("amperfied_solar")
    assert isinstance(sim, AmperfiedSimulator)
    sim.bank.set("watchdog_timeout", 4.0)
    entry = entry_for(sim, "amperfied_solar")
    with ExitStack() as stack:
        if not keepalive:
            stack.enter_context(patch.object(TrafficWatchdog, "due", return_value=None))
        await setup_frozen(hass, entry)
        for _ in range(60):  # one minute in steps of one second
            await tick(hass, freezer, 1)
    if keepalive:
        assert not sim.timeout_mode
        assert sim.timeout_events == 0
    else:
        assert sim.timeout_events >= 1
    await unload_frozen(hass, entry)


@pytest.mark.freeze_time("2026-11-21 10:00:00")
async def test_amperfied_watchdog_is_served_by_the_fast_tier(
    hass: HomeAssistant, start_simulator: StartSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """Watchdog 4 s, scan interval 10 s, ten minutes: never in time-out mode, on data alone.

    Every request is a block of a poll's plan (polls x fast-tier blocks, and the
    slow tier's every five minutes): nothing is read only to serve the
    watchdog.  Polls come every watchdog / 3 (the margin for one lost reply),
    not more often; one lost reply is survived.
    """
    sim = await start_simulator("amperfied_solar")
    assert isinstance(sim, AmperfiedSimulator)
    sim.plug(1)
    sim.bank.set("watchdog_timeout", 4.0)
    entry = entry_for(sim, "amperfied_solar")
    await setup_frozen(hass, entry)
    charger = entry.runtime_data.charger
    refresh = charger.refresh
    polls: list[tuple[float, bool]] = []

    async def counted(*, slow: bool = False) -> Any:
        polls.append((charger.clock(), slow))
        return await refresh(slow=slow)

    fast_plan = charger.reader.plan_for({Tier.FAST})
    slow_plan = charger.reader.plan_for({Tier.FAST, Tier.SLOW})
    stats = sim.server.stats
    requests, reads, writes = stats.requests, dict(stats.reads_by_block), stats.writes
    minutes = 10
    with patch.object(charger, "refresh", side_effect=counted):
        for _ in range(minutes * 60 * 2):
            await tick(hass, freezer, 0.5)
    assert not sim.timeout_mode
    assert sim.timeout_events == 0

    read = {key: n - reads.get(key, 0) for key, n in stats.reads_by_block.items()}
    read = {key: n for key, n in read.items() if n}
    slow_polls = sum(1 for _, slow in polls if slow)
    fast_polls = len(polls) - slow_polls
    expected: dict[tuple[str, int, int], int] = {}
    for plan, count in ((fast_plan, fast_polls), (slow_plan, slow_polls)):
        for block in plan:
            key = (str(block.table), block.address, block.count)
            expected[key] = expected.get(key, 0) + count
    assert read == {key: n for key, n in expected.items() if n}  # no other reads
    assert stats.writes == writes  # served by reading, not by writing
    assert stats.requests - requests == fast_polls * len(fast_plan) + slow_polls * len(slow_plan)
    assert slow_polls == minutes // 5
    # As often as the watchdog needs (timeout / 3: one lost reply is survived), no more.
    interval = 4.0 / 3
    gaps = [b - a for (a, _), (b, _) in itertools.pairwise(polls)]
    assert max(gaps) <= 4.0 / 2
    assert len(polls) <= minutes * 60 / interval + 1
    per_minute = (stats.requests - requests) / minutes
    assert per_minute <= (60 / interval + 1) * len(fast_plan) + len(slow_plan)

    # The margin: one reply lost, and the box still does not time out.  The
    # clock moves on while the request waits (tick() would wait for the reply).
    sim.server.faults.lose_replies = 1
    for _ in range(60 * 2):
        freezer.tick(timedelta(seconds=0.5))
        async_fire_time_changed(hass)
        for _ in range(200):
            await asyncio.sleep(0)
    assert sim.server.faults.lose_replies == 0
    assert sim.timeout_events == 0
    await unload_frozen(hass, entry)


@pytest.mark.freeze_time("2026-11-21 10:00:00")
async def test_keepalive_follows_the_setting(
    hass: HomeAssistant, start_simulator: StartSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """A shorter failsafe timeout written from Home Assistant shortens the keepalive at once."""
    sim = await start_simulator("vestel_evc04")
    assert isinstance(sim, VestelSimulator)
    entry = entry_for(sim, "vestel_evc04", options={"scan_interval": 60})
    await setup_frozen(hass, entry)
    await run_frozen(
        hass,
        hass.services.async_call(
            "number",
            "set_value",
            {"entity_id": "number.vestel_evc04_failsafe_timeout", "value": 8},
            blocking=True,
        ),
    )
    keepalive = entry.runtime_data.charger.keepalive
    assert keepalive is not None and keepalive.interval() == 2.0
    for _ in range(60):
        await tick(hass, freezer, 1)
    assert sim.failsafe_events == 0
    await unload_frozen(hass, entry)


@pytest.mark.freeze_time("2026-11-21 10:00:00")
async def test_keepalive_survives_errors(
    hass: HomeAssistant, start_simulator: StartSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """A failed keepalive does not end the keepalive timer."""
    sim = await start_simulator("vestel_evc04")
    assert isinstance(sim, VestelSimulator)
    entry = entry_for(sim, "vestel_evc04", options={"scan_interval": 60})
    await setup_frozen(hass, entry)
    sim.server.faults.exception = 4
    await tick(hass, freezer, 5)
    await tick(hass, freezer, 5)
    sim.server.faults.exception = None
    writes = sim.alive_writes
    await tick(hass, freezer, 5)
    assert sim.alive_writes == writes + 1
    await unload_frozen(hass, entry)


# ------------------------------------------------------------------ energy after a restart


@pytest.mark.parametrize(
    ("restored", "expected"),
    [
        # A lifetime counter never goes back; a session counter may start again.
        ({"total_energy": 1234.5, "session_energy": 50.0}, {"total": "1234.5", "session": "0.0"}),
        ({"total_energy": 0.0, "session_energy": 0.0}, {"total": "0.0", "session": "0.0"}),
    ],
)
async def test_energy_after_restart(
    hass: HomeAssistant,
    start_simulator: StartSimulator,
    restored: dict[str, float],
    expected: dict[str, str],
) -> None:
    """Energy counters start from the value they had before the restart."""
    sim = await start_simulator("vestel_evc04")
    entry = entry_for(sim, "vestel_evc04")
    serial = entry.unique_id
    mock_restore_cache_with_extra_data(
        hass,
        [
            (
                State(f"sensor.vestel_evc04_{key}", str(value)),
                {"native_value": value, "native_unit_of_measurement": "kWh"},
            )
            for key, value in restored.items()
        ],
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert serial is not None
    assert state_of(hass, "sensor.vestel_evc04_total_energy") == expected["total"]
    assert state_of(hass, "sensor.vestel_evc04_session_energy") == expected["session"]
    await hass.config_entries.async_unload(entry.entry_id)


async def test_energy_without_value(
    hass: HomeAssistant, start_simulator: StartSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An energy counter that has never been read has no state to keep."""
    sim = await start_simulator("amperfied_solar")
    sim.server.faults.exception = None
    entry = entry_for(sim, "amperfied_solar")
    entry.add_to_hass(hass)
    original = Charger.refresh

    async def refresh_failing_energy(self: Charger, *, slow: bool = False) -> Any:
        snapshot = await original(self, slow=slow)
        return dataclasses.replace(snapshot, failed=snapshot.failed | {"energy_total"})

    monkeypatch.setattr(Charger, "refresh", refresh_failing_energy)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert state_of(hass, "sensor.amperfied_connect_solar_total_energy") == STATE_UNAVAILABLE
    assert DOMAIN in hass.config.components
    await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.freeze_time("2026-11-21 10:00:00")
async def test_values_the_box_cannot_mean(
    hass: HomeAssistant, start_simulator: StartSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """An enum value outside the vocabulary and an impossible clock read as unknown."""
    sim = await start_simulator("vestel_evc04")
    entry = entry_for(sim, "vestel_evc04")
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        new_callable=PropertyMock,
        return_value=True,
    ):
        await setup_frozen(hass, entry)
    assert state_of(hass, "sensor.vestel_evc04_device_time") == "2026-11-21T18:00:00+00:00"
    sim.frozen_values = True  # the simulator stops writing its registers
    sim.bank.set_raw("equipment_state", 9)
    sim.bank.set("date", 0)
    await tick(hass, freezer, SCAN)
    assert state_of(hass, "sensor.vestel_evc04_equipment_state") == STATE_UNKNOWN
    assert state_of(hass, "sensor.vestel_evc04_device_time") == STATE_UNKNOWN
    await unload_frozen(hass, entry)


@pytest.mark.freeze_time("2026-11-21 10:00:00")
async def test_undocumented_error_code(
    hass: HomeAssistant, start_simulator: StartSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """A code the document does not list reads as unknown; the number stays visible."""
    sim = await start_simulator("compleo_duo")
    entry = entry_for(sim, "compleo_duo")
    await setup_frozen(hass, entry)
    right = "sensor.compleo_duo_connector_1_error_code"
    left = "sensor.compleo_duo_connector_2_error_code"
    assert state_of(hass, right) == "no_error"
    assert attributes_of(hass, right)["code"] == 7
    sim.bank.set_raw("error_code@1", 4)  # OCPP's InternalError + 1: not in the document
    sim.bank.set_raw("error_code@2", 15)  # UnderVoltage: listed for the left connector
    await tick(hass, freezer, SCAN)
    assert state_of(hass, right) == STATE_UNKNOWN
    assert attributes_of(hass, right)["code"] == 4
    assert state_of(hass, left) == "under_voltage"
    assert attributes_of(hass, left)["code"] == 15
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    assert diagnostics["unknown_codes"] == {"error_code@1": 4}
    # Another undocumented code: the value (unknown) is the same, the number is not,
    # so the entity is still told (its state is written when only the code changed).
    sim.bank.set_raw("error_code@1", 5)
    await tick(hass, freezer, SCAN)
    assert state_of(hass, right) == STATE_UNKNOWN
    assert attributes_of(hass, right)["code"] == 5
    await unload_frozen(hass, entry)


# ------------------------------------------------------------------ Vestel clock


@pytest.mark.freeze_time("2026-11-21 10:00:00")
async def test_vestel_static_clock_reopened_at_most_once(
    hass: HomeAssistant,
    start_simulator: StartSimulator,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A clock that never moves: one reopen in ten minutes, said once, then not trusted."""
    sim = await start_simulator("vestel_evc04", clock_runs=False)
    sim.plug(1)
    entry = entry_for(sim, "vestel_evc04")
    await setup_frozen(hass, entry)
    for _ in range(60):  # ten minutes of polls
        await tick(hass, freezer, SCAN)
    assert sim.server.stats.connections_accepted <= 2  # the first and at most one reopen
    assert len(own_records(caplog, "reopening the connection")) <= 1
    assert own_records(caplog, "the clock does not run") == [
        "INFO Vestel EVC04: the clock does not run; it is no longer used to tell a frozen "
        "Modbus server"
    ]
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    assert diagnostics["strategy"]["clock_trusted"] is False
    assert diagnostics["strategy"]["reopens_for_frozen_clock"] <= 1
    assert state_of(hass, "sensor.vestel_evc04_power") != STATE_UNAVAILABLE
    await unload_frozen(hass, entry)


@pytest.mark.freeze_time("2026-11-21 10:00:00")
async def test_vestel_clock_that_stops_after_it_moved_is_reopened(
    hass: HomeAssistant, start_simulator: StartSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """The firmware fault: the server freezes until the connection is reopened."""
    sim = await start_simulator("vestel_evc04")
    sim.plug(1)
    entry = entry_for(sim, "vestel_evc04")
    await setup_frozen(hass, entry)
    for _ in range(3):
        await tick(hass, freezer, SCAN)  # the clock moves
    assert sim.server.stats.connections_accepted == 1
    sim.server.faults.frozen = True  # every read returns what it returned last
    for _ in range(10):
        await tick(hass, freezer, SCAN)
        if sim.server.stats.connections_accepted > 1:
            break
    assert sim.server.stats.connections_accepted == 2  # reopened
    sim.server.faults.frozen = False  # a new connection gets fresh values
    energy = float(state_of(hass, "sensor.vestel_evc04_session_energy"))
    for _ in range(30):
        await tick(hass, freezer, SCAN)
    assert float(state_of(hass, "sensor.vestel_evc04_session_energy")) > energy
    assert sim.server.stats.connections_accepted == 2  # a running clock: no more reopens
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    assert diagnostics["strategy"] == {
        "name": "vestel",
        "clock_trusted": True,
        "reopens_for_frozen_clock": 1,
    }
    await unload_frozen(hass, entry)
