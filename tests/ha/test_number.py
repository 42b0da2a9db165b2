"""Tests of the numbers: the current limit and the settings."""

from __future__ import annotations

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.number.const import ATTR_VALUE, SERVICE_SET_VALUE
from homeassistant.const import ATTR_ENTITY_ID, EntityCategory, Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.wallbox_modbus.const import DOMAIN
from simulators.base import WallboxSimulator

from .common import attributes_of, state_of
from .conftest import StartSimulator, block_frozen, entry_for, run_frozen, tick


def writes(sim: WallboxSimulator, address: int) -> list[int]:
    """Values written to one register, in order."""
    return [
        value
        for start, values in sim.server.stats.writes_log
        for value in values
        if start == address
    ]


async def set_value(hass: HomeAssistant, entity_id: str, value: float) -> None:
    """Call number.set_value and wait for it."""
    await hass.services.async_call(
        Platform.NUMBER,
        SERVICE_SET_VALUE,
        {ATTR_ENTITY_ID: entity_id, ATTR_VALUE: value},
        blocking=True,
    )
    await hass.async_block_till_done()


@pytest.mark.parametrize(
    ("model_id", "entity_id", "value", "address", "raw", "state"),
    [
        ("vestel_evc04", "number.vestel_evc04_charging_current", 10, 5004, 10, "10.0"),
        (
            "amperfied_business",
            "number.amperfied_connect_business_charging_current",
            8.5,
            261,
            85,
            "8.5",
        ),
        ("compleo_duo", "number.compleo_duo_connector_2_charging_current", 6, 272, 42, "6.0"),
        ("compleo_solo", "number.compleo_solo_charging_current", 16, 256, 111, "16.0"),
    ],
)
@pytest.mark.usefixtures("init_integration")
async def test_charging_current(
    hass: HomeAssistant,
    simulator: WallboxSimulator,
    entity_id: str,
    value: float,
    address: int,
    raw: int,
    state: str,
) -> None:
    """The limit is written in the box's own unit (Compleo: power, rounded up)."""
    await set_value(hass, entity_id, value)
    assert writes(simulator, address) == [raw]
    assert state_of(hass, entity_id) == state


@pytest.mark.parametrize(
    ("model_id", "entity_id", "minimum", "maximum", "step"),
    [
        ("vestel_evc04", "number.vestel_evc04_charging_current", 6, 32, 1),
        ("amperfied_solar", "number.amperfied_connect_solar_charging_current", 6, 16, 0.1),
        ("compleo_duo", "number.compleo_duo_connector_1_charging_current", 6, 32, 0.1),
        ("amperfied_solar", "number.amperfied_connect_solar_failsafe_current", 0, 16, 0.1),
        ("amperfied_solar", "number.amperfied_connect_solar_watchdog_timeout", 0, 65.535, 1),
        ("vestel_evc04", "number.vestel_evc04_failsafe_timeout", 6, 3600, 1),
        ("compleo_duo", "number.compleo_duo_station_maximum_power", 0, 44000, 100),
    ],
)
@pytest.mark.usefixtures("init_integration")
async def test_ranges(
    hass: HomeAssistant, entity_id: str, minimum: float, maximum: float, step: float
) -> None:
    """Minimum, maximum and step come from the box (or its register map)."""
    attributes = attributes_of(hass, entity_id)
    assert attributes["min"] == minimum
    assert attributes["max"] == maximum
    assert attributes["step"] == step


@pytest.mark.parametrize(
    ("model_id", "entity_id", "value"),
    [
        ("vestel_evc04", "number.vestel_evc04_charging_current", 40),
        ("vestel_evc04", "number.vestel_evc04_charging_current", 0),
        ("vestel_evc04", "number.vestel_evc04_failsafe_timeout", 5),
        ("amperfied_home", "number.amperfied_connect_home_charging_current", 16.5),
    ],
)
@pytest.mark.usefixtures("init_integration")
async def test_out_of_range(
    hass: HomeAssistant, simulator: WallboxSimulator, entity_id: str, value: float
) -> None:
    """Outside minimum and maximum: refused by Home Assistant, nothing written."""
    before = list(simulator.server.stats.writes_log)
    with pytest.raises(ServiceValidationError) as err:
        await set_value(hass, entity_id, value)
    assert err.value.translation_key == "out_of_range"
    assert [w for w in simulator.server.stats.writes_log if w[0] != 6000] == [
        w for w in before if w[0] != 6000
    ]


@pytest.mark.parametrize(
    ("model_id", "entity_id", "value"),
    [
        ("vestel_evc04", "number.vestel_evc04_charging_current", 6.5),
        ("vestel_evc04", "number.vestel_evc04_failsafe_current", 3),
        ("amperfied_solar", "number.amperfied_connect_solar_failsafe_current", 3),
        ("amperfied_solar", "number.amperfied_connect_solar_charging_current", 6.55),
        ("compleo_duo", "number.compleo_duo_connector_1_maximum_power", 1050),
        ("compleo_duo", "number.compleo_duo_fallback_power", 150),
    ],
)
@pytest.mark.usefixtures("init_integration")
async def test_invalid_value(
    hass: HomeAssistant, simulator: WallboxSimulator, entity_id: str, value: float
) -> None:
    """Inside the range but not a value the box takes: a translated error, nothing written."""
    with pytest.raises(ServiceValidationError) as err:
        await set_value(hass, entity_id, value)
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == "invalid_value"
    assert err.value.translation_placeholders is not None
    assert err.value.translation_placeholders["entity"] == entity_id
    assert [w for w in simulator.server.stats.writes_log if w[0] != 6000] == []


@pytest.mark.parametrize(
    ("model_id", "entity_id", "value", "address", "raw"),
    [
        ("vestel_evc04", "number.vestel_evc04_failsafe_current", 10, 2000, 10),
        ("vestel_evc04", "number.vestel_evc04_failsafe_timeout", 60, 2002, 60),
        ("amperfied_home", "number.amperfied_connect_home_failsafe_current", 8.5, 262, 85),
        ("amperfied_home", "number.amperfied_connect_home_failsafe_current", 0, 262, 0),
        ("amperfied_home", "number.amperfied_connect_home_watchdog_timeout", 30, 257, 30000),
        ("compleo_duo", "number.compleo_duo_station_maximum_power", 11000, 0, 110),
        ("compleo_duo", "number.compleo_duo_fallback_power", 4500, 3, 45),
        ("compleo_duo", "number.compleo_duo_fallback_timeout", 120, 5, 120),
        ("compleo_duo", "number.compleo_duo_connector_2_maximum_power", 7400, 272, 74),
    ],
)
@pytest.mark.usefixtures("init_integration")
async def test_settings(
    hass: HomeAssistant,
    simulator: WallboxSimulator,
    entity_id: str,
    value: float,
    address: int,
    raw: int,
) -> None:
    """Settings are written as they are and read back."""
    await set_value(hass, entity_id, value)
    assert writes(simulator, address) == [raw]
    assert float(state_of(hass, entity_id)) == value


@pytest.mark.parametrize("model_id", ["vestel_evc04"])
@pytest.mark.usefixtures("init_integration")
async def test_write_fails(hass: HomeAssistant, simulator: WallboxSimulator) -> None:
    """The box refuses the write: a translated error."""
    simulator.server.faults.exception = 4
    with pytest.raises(HomeAssistantError) as err:
        await set_value(hass, "number.vestel_evc04_failsafe_current", 10)
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == "write_failed"


@pytest.mark.freeze_time("2026-11-21 10:00:00")
async def test_amperfied_holds_a_setting(
    hass: HomeAssistant, start_simulator: StartSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """Amperfied keeps a limit 20 s; changes meanwhile are held and the last one wins."""
    sim = await start_simulator("amperfied_solar")
    sim.plug(1)
    entry = entry_for(sim, "amperfied_solar")
    entry.add_to_hass(hass)
    assert await run_frozen(hass, hass.config_entries.async_setup(entry.entry_id))
    await block_frozen(hass)
    entity_id = "number.amperfied_connect_solar_charging_current"

    async def change(value: float) -> None:
        await run_frozen(hass, set_value(hass, entity_id, value))

    await change(10)
    assert writes(sim, 261) == [100]
    await tick(hass, freezer, 5)
    await change(12)
    await tick(hass, freezer, 5)
    await change(14)
    assert writes(sim, 261) == [100]
    await tick(hass, freezer, 9)
    assert writes(sim, 261) == [100]
    assert state_of(hass, entity_id) == "10.0"
    await tick(hass, freezer, 1)  # 20 s after the first write
    assert writes(sim, 261) == [100, 140]
    assert state_of(hass, entity_id) == "14.0"
    assert sim.bank.get("charging_current") == 14.0
    for _ in range(3):
        await tick(hass, freezer, 10)
    assert writes(sim, 261) == [100, 140]
    assert await run_frozen(hass, hass.config_entries.async_unload(entry.entry_id))


@pytest.mark.freeze_time("2026-11-21 10:00:00")
async def test_held_write_fails(
    hass: HomeAssistant,
    start_simulator: StartSimulator,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A held-back write that the box refuses is logged."""
    sim = await start_simulator("amperfied_home")
    entry = entry_for(sim, "amperfied_home")
    entry.add_to_hass(hass)
    assert await run_frozen(hass, hass.config_entries.async_setup(entry.entry_id))
    await block_frozen(hass)
    entity_id = "number.amperfied_connect_home_charging_current"
    await run_frozen(hass, set_value(hass, entity_id, 10))
    await run_frozen(hass, set_value(hass, entity_id, 12))
    sim.server.faults.exception = 4
    await tick(hass, freezer, 20)
    assert "the held-back charging current could not be written" in caplog.text
    assert writes(sim, 261) == [100]
    sim.server.faults.exception = None
    await tick(hass, freezer, 10)  # the next refresh writes the wish again
    assert writes(sim, 261) == [100, 120]
    assert state_of(hass, entity_id) == "12.0"
    assert await run_frozen(hass, hass.config_entries.async_unload(entry.entry_id))


@pytest.mark.usefixtures("init_integration")
@pytest.mark.parametrize("model_id", ["compleo_duo"])
async def test_connector_controls_are_separate(
    hass: HomeAssistant, simulator: WallboxSimulator, mock_config_entry: MockConfigEntry
) -> None:
    """Each DUO connector has its own limit register."""
    await set_value(hass, "number.compleo_duo_connector_1_charging_current", 10)
    await set_value(hass, "number.compleo_duo_connector_2_charging_current", 8)
    assert writes(simulator, 256) == [69]
    assert writes(simulator, 272) == [56]


COMPLEO_RELATIVE = {
    # entity: (value written, register, raw, minimum, maximum)
    "number.compleo_duo_station_relative_power": (50, 1, 50, 0, 100),
    "number.compleo_duo_maximum_unbalanced_current": (25.5, 2, 255, 20, 64),
    "number.compleo_duo_relative_fallback_power": (80, 4, 80, 0, 100),
}


@pytest.mark.usefixtures("init_integration")
@pytest.mark.parametrize("model_id", ["compleo_duo"])
async def test_compleo_relative_power_and_unbalance(
    hass: HomeAssistant, simulator: WallboxSimulator, mock_config_entry: MockConfigEntry
) -> None:
    """Registers 1, 2 and 4: config, disabled by default (they can limit charging)."""
    registry = er.async_get(hass)
    for entity_id in COMPLEO_RELATIVE:
        entity = registry.async_get(entity_id)
        assert entity is not None, entity_id
        assert entity.entity_category is EntityCategory.CONFIG
        assert entity.disabled_by is er.RegistryEntryDisabler.INTEGRATION
        registry.async_update_entity(entity_id, disabled_by=None)
    await hass.config_entries.async_reload(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    for entity_id, (value, address, raw, minimum, maximum) in COMPLEO_RELATIVE.items():
        attributes = attributes_of(hass, entity_id)
        assert (attributes["min"], attributes["max"]) == (minimum, maximum), entity_id
        await set_value(hass, entity_id, value)
        assert writes(simulator, address) == [raw]
        assert float(state_of(hass, entity_id)) == value
    with pytest.raises(ServiceValidationError):
        await set_value(hass, "number.compleo_duo_maximum_unbalanced_current", 19.9)
    assert writes(simulator, 2) == [255]
