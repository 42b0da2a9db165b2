"""The solar-surplus blueprint loads, validates, and steers a wallbox through catalog entities."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from homeassistant.components.blueprint import models as blueprint_models
from homeassistant.components.blueprint.schemas import BLUEPRINT_SCHEMA
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from homeassistant.util.yaml import load_yaml_dict
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.wallbox_modbus.const import DOMAIN
from simulators.base import WallboxSimulator

from .conftest import device_key

ROOT = Path(__file__).resolve().parents[2]
BLUEPRINT = ROOT / "blueprints" / "automation" / "wallbox_modbus" / "solar_surplus_charging.yaml"
GRID = "sensor.grid_power"


def test_blueprint_is_valid() -> None:
    blueprint = blueprint_models.Blueprint(
        load_yaml_dict(str(BLUEPRINT)), expected_domain="automation", schema=BLUEPRINT_SCHEMA
    )
    assert blueprint.domain == "automation"
    assert set(blueprint.inputs) >= {
        "grid_power",
        "charging_current",
        "charging_enabled",
        "charger_power",
    }


def entity_id(hass: HomeAssistant, entry: MockConfigEntry, platform: str, key: str) -> str:
    found = er.async_get(hass).async_get_entity_id(platform, DOMAIN, f"{device_key(entry)}_{key}")
    assert found is not None, key
    return found


async def at_minute(hass: HomeAssistant, minutes: int) -> None:
    """Fire the time pattern's next run, `minutes` whole minutes from now."""
    when = dt_util.utcnow().replace(second=0, microsecond=0) + timedelta(minutes=minutes)
    async_fire_time_changed(hass, when)
    await hass.async_block_till_done(wait_background_tasks=True)


@pytest.mark.parametrize("model_id", ["vestel_evc04"])
async def test_blueprint_follows_the_surplus(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: WallboxSimulator,
    tmp_path: Path,
) -> None:
    hass.config.config_dir = str(tmp_path)
    target = tmp_path / "blueprints" / "automation" / "wallbox_modbus"
    target.mkdir(parents=True)
    shutil.copy(BLUEPRINT, target / BLUEPRINT.name)
    entry = init_integration
    hass.states.async_set(GRID, "3000", {"unit_of_measurement": "W", "device_class": "power"})
    power = entity_id(hass, entry, "sensor", "power")
    assert float(hass.states.get(power).state) == 16 * 230 * 3  # the car charges at 16 A
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": {
                "id": "surplus",
                "use_blueprint": {
                    "path": "wallbox_modbus/solar_surplus_charging.yaml",
                    "input": {
                        "grid_power": GRID,
                        "charging_current": entity_id(hass, entry, "number", "charging_current"),
                        "charging_enabled": entity_id(hass, entry, "switch", "charging_enabled"),
                        "charger_power": power,
                        "max_current": 16,
                    },
                },
            }
        },
    )
    await hass.async_block_till_done()
    automations = hass.states.async_entity_ids("automation")
    assert len(automations) == 1
    assert hass.states.get(automations[0]).state == "on"

    # Importing 3000 W while the car draws 11040 W: 7940 W of surplus -> 11 A.
    await at_minute(hass, 1)
    assert simulator.bank.get("charging_current") == 11

    # Importing far more than the car draws: no surplus -> paused.
    hass.states.async_set(GRID, "15000", {"unit_of_measurement": "W", "device_class": "power"})
    await at_minute(hass, 2)
    assert simulator.bank.get("charging_current") == 0

    # Exporting 6000 W with the car paused: 5900 W of surplus -> 8 A, charging again.
    assert float(hass.states.get(power).state) == 0
    hass.states.async_set(GRID, "-6000", {"unit_of_measurement": "W", "device_class": "power"})
    await at_minute(hass, 3)
    assert simulator.bank.get("charging_current") == 8
    await hass.services.async_call(
        "automation", "turn_off", {"entity_id": automations[0]}, blocking=True
    )
