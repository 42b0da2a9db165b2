"""What the user asked is what the box does: wishes re-applied after the box left them.

Every family's fallback against its simulator over TCP, under a frozen clock
moved in scan intervals: the box falls back on its own (Vestel failsafe,
Amperfied reboot and time-out mode, Compleo fallback); once it answers again
the user's limit is written within two scan intervals, and the number shows
the user's limit, not the fallback value.  A change made at the box by someone
else while connected is adopted, not fought.
"""

from __future__ import annotations

from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.wallbox_modbus.charger import ModbusTransport
from simulators.amperfied import AmperfiedSimulator
from simulators.base import WallboxSimulator
from simulators.compleo import CompleoSimulator
from simulators.vestel import VestelSimulator

from .common import state_of
from .conftest import StartSimulator, block_frozen, entry_for, run_frozen, store_wishes, tick
from .test_controls import switch
from .test_number import set_value, writes

SCAN = 10


async def setup(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    entry.add_to_hass(hass)
    assert await run_frozen(hass, hass.config_entries.async_setup(entry.entry_id))
    await block_frozen(hass)


async def unload(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    assert await run_frozen(hass, hass.config_entries.async_unload(entry.entry_id))


async def outage(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, sim: WallboxSimulator, seconds: int
) -> None:
    """The box is away (power, network) for a while, then listens again on its port."""
    await sim.stop()
    for _ in range(seconds // SCAN):
        await tick(hass, freezer, SCAN)
    await sim.start()


async def until_written(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    sim: WallboxSimulator,
    address: int,
    count: int,
    *,
    rounds: int = 2,
) -> int:
    """Scan intervals until the register has had `count` writes (at most `rounds`)."""
    for done in range(1, rounds + 1):
        await tick(hass, freezer, SCAN)
        if len(writes(sim, address)) >= count:
            return done
    return rounds + 1


@pytest.mark.freeze_time("2026-11-21 10:00:00")
async def test_vestel_failsafe(
    hass: HomeAssistant,
    start_simulator: StartSimulator,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Away longer than the failsafe timeout: the box charges at 8 A; then 10 A again."""
    sim = await start_simulator("vestel_evc04")
    assert isinstance(sim, VestelSimulator)
    sim.plug(1, max_current=32)
    sim.bank.set("failsafe_current", 8)
    entry = entry_for(sim, "vestel_evc04")
    await setup(hass, entry)
    number = "number.vestel_evc04_charging_current"
    await run_frozen(hass, set_value(hass, number, 10))
    assert writes(sim, 5004) == [10]

    await outage(hass, freezer, sim, 30)
    sim.update()
    assert sim.failsafe and sim.limit(1) == 8
    # The box refuses connections for a few seconds after the failsafe, then answers.
    assert await until_written(hass, freezer, sim, 5004, 2, rounds=2) <= 2
    assert writes(sim, 5004) == [10, 10]
    assert not sim.failsafe and sim.limit(1) == 10
    assert state_of(hass, number) == "10.0"
    await tick(hass, freezer, SCAN)  # measured at 8 A before the write, at 10 A after
    assert state_of(hass, "sensor.vestel_evc04_current_l1") == "10.0"
    assert "Vestel EVC04: the charging current 10 A applied again" in caplog.text
    await unload(hass, entry)


@pytest.mark.freeze_time("2026-11-21 10:00:00")
async def test_amperfied_reboot(
    hass: HomeAssistant, start_simulator: StartSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """A reboot puts 261 back to 0: the user's 10 A is written again, the switch stays on."""
    sim = await start_simulator("amperfied_business")
    assert isinstance(sim, AmperfiedSimulator)
    sim.plug(1)
    entry = entry_for(sim, "amperfied_business")
    await setup(hass, entry)
    number = "number.amperfied_connect_business_charging_current"
    await run_frozen(hass, set_value(hass, number, 10))
    for _ in range(3):
        await tick(hass, freezer, SCAN)  # past the 20 s hold
    sim.reboot()
    assert sim.limit(1) == 0
    assert await until_written(hass, freezer, sim, 261, 2) <= 2
    assert writes(sim, 261) == [100, 100]
    assert sim.limit(1) == 10
    assert state_of(hass, number) == "10.0"
    assert state_of(hass, "switch.amperfied_connect_business_charging_enabled") == STATE_ON
    await unload(hass, entry)


@pytest.mark.freeze_time("2026-11-21 10:00:00")
async def test_amperfied_time_out_mode(
    hass: HomeAssistant, start_simulator: StartSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """Away longer than the watchdog: time-out mode at the failsafe current; then 12 A again."""
    sim = await start_simulator("amperfied_home")
    assert isinstance(sim, AmperfiedSimulator)
    sim.plug(1)
    sim.bank.set("failsafe_current", 6.0)
    entry = entry_for(sim, "amperfied_home")
    await setup(hass, entry)
    number = "number.amperfied_connect_home_charging_current"
    await run_frozen(hass, set_value(hass, number, 12))
    await outage(hass, freezer, sim, 30)
    sim.update()
    assert sim.timeout_mode and sim.limit(1) == 6
    assert await until_written(hass, freezer, sim, 261, 2) <= 2
    assert writes(sim, 261) == [120, 120]
    assert not sim.timeout_mode and sim.limit(1) == 12
    assert state_of(hass, number) == "12.0"
    await unload(hass, entry)


@pytest.mark.freeze_time("2026-11-21 10:00:00")
async def test_compleo_fallback(
    hass: HomeAssistant, start_simulator: StartSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """Away longer than the fallback timeout: the fallback power; then each connector's limit."""
    sim = await start_simulator("compleo_duo")
    assert isinstance(sim, CompleoSimulator)
    for connector in sim.cars:
        sim.plug(connector)
    sim.bank.set("fallback_timeout", 30)
    entry = entry_for(sim, "compleo_duo")
    await setup(hass, entry)
    number = "number.compleo_duo_connector_2_charging_current"
    await run_frozen(hass, set_value(hass, number, 8))
    assert writes(sim, 272)[-1] == 56
    await outage(hass, freezer, sim, 40)
    sim.update()
    assert sim.fallback
    before = len(writes(sim, 272))
    assert await until_written(hass, freezer, sim, 272, before + 1) <= 2
    assert writes(sim, 272)[-1] == 56
    assert not sim.fallback
    assert state_of(hass, number) == "8.0"
    await unload(hass, entry)


@pytest.mark.freeze_time("2026-11-21 10:00:00")
async def test_vestel_pause_while_the_box_puts_6_a_back(
    hass: HomeAssistant, start_simulator: StartSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """Paused, vehicle unplugged, the box puts 6 A back; vehicle plugged in: 0 again."""
    sim = await start_simulator("vestel_evc04")
    sim.plug(1)
    entry = entry_for(sim, "vestel_evc04")
    await setup(hass, entry)
    switch_id = "switch.vestel_evc04_charging_enabled"
    await run_frozen(hass, switch(hass, switch_id, on=False))
    assert writes(sim, 5004) == [0]
    sim.unplug(1)
    assert sim.bank.get("charging_current") == 6
    for _ in range(31):  # past a slow refresh, which reads the 6 A
        await tick(hass, freezer, SCAN)
    assert state_of(hass, switch_id) == STATE_OFF
    assert writes(sim, 5004) == [0]  # not fought while no vehicle is plugged in
    sim.plug(1)
    await tick(hass, freezer, SCAN)
    assert writes(sim, 5004) == [0, 0]
    assert sim.bank.get("charging_current") == 0
    assert state_of(hass, switch_id) == STATE_OFF
    await tick(hass, freezer, SCAN)  # the box's own 6 A let the car start: seen stopping
    assert state_of(hass, "binary_sensor.vestel_evc04_charging") == STATE_OFF
    await unload(hass, entry)


@pytest.mark.freeze_time("2026-11-21 10:00:00")
async def test_limit_set_by_another_client_is_adopted(
    hass: HomeAssistant,
    start_simulator: StartSimulator,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Another client writes 12 A while we are connected: the number follows, no write back."""
    sim = await start_simulator("vestel_evc04")
    sim.plug(1)
    entry = entry_for(sim, "vestel_evc04")
    await setup(hass, entry)
    number = "number.vestel_evc04_charging_current"
    await run_frozen(hass, set_value(hass, number, 10))
    other = ModbusTransport("127.0.0.1", sim.port, 255, timeout=1.0)
    try:
        await run_frozen(hass, other.write_register(5004, 12))
    finally:
        await run_frozen(hass, other.close())
    for _ in range(31):  # the limit is a setting: read every five minutes
        await tick(hass, freezer, SCAN)
    assert writes(sim, 5004) == [10, 12]
    assert state_of(hass, number) == "12.0"
    assert "charging current 12 A set at the box (was 10 A)" in caplog.text
    await unload(hass, entry)


@pytest.mark.freeze_time("2026-11-21 10:00:00")
@pytest.mark.parametrize("stored", [True, False], ids=["restored", "first_start"])
async def test_compleo_fallback_timer_served_at_start(
    hass: HomeAssistant,
    start_simulator: StartSimulator,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
    stored: bool,
) -> None:
    """After a restart a limit write reaches the box within half the fallback timeout."""
    sim = await start_simulator("compleo_solo")
    assert isinstance(sim, CompleoSimulator)
    sim.plug(1)
    sim.bank.set("fallback_timeout", 30)
    entry = entry_for(sim, "compleo_solo")
    if stored:
        store_wishes(hass_storage, entry, {"1": {"paused": False, "limit": 10}})
    await setup(hass, entry)
    for _ in range(14):  # 14 s: half the fallback timeout, in one-second steps
        if writes(sim, 256):
            break
        await tick(hass, freezer, 1)
    assert writes(sim, 256) == ([69] if stored else [110])
    for _ in range(12):
        await tick(hass, freezer, SCAN)
    assert sim.fallback_events == 0
    await unload(hass, entry)
