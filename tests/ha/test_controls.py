"""Tests of pause and resume (switch), the phase switch (select) and the remote lock."""

from __future__ import annotations

from typing import Any
from unittest.mock import patch

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.select import ATTR_OPTION, SERVICE_SELECT_OPTION
from homeassistant.const import (
    ATTR_ENTITY_ID,
    SERVICE_LOCK,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    SERVICE_UNLOCK,
    STATE_OFF,
    STATE_ON,
    STATE_UNKNOWN,
    Platform,
)
from homeassistant.core import HomeAssistant, State
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    mock_restore_cache_with_extra_data,
)

from custom_components.wallbox_modbus.charger import (
    BusyError,
    Charger,
)
from custom_components.wallbox_modbus.const import DOMAIN
from simulators.base import WallboxSimulator

from .common import attributes_of, state_of
from .conftest import (
    StartSimulator,
    block_frozen,
    enable_entity,
    entry_for,
    legacy_entry_for,
    run_frozen,
    store_wishes,
    tick,
)
from .test_number import set_value, writes


async def switch(hass: HomeAssistant, entity_id: str, on: bool) -> None:
    """Turn a switch on or off and wait."""
    await hass.services.async_call(
        Platform.SWITCH,
        SERVICE_TURN_ON if on else SERVICE_TURN_OFF,
        {ATTR_ENTITY_ID: entity_id},
        blocking=True,
    )
    await hass.async_block_till_done()


# ------------------------------------------------------------------ pause and resume

PAUSE = {
    # model: (switch, number, limit register, raw of the limit before pausing)
    "vestel_evc04": (
        "switch.vestel_evc04_charging_enabled",
        "number.vestel_evc04_charging_current",
        5004,
        16,
    ),
    "compleo_duo": (
        "switch.compleo_duo_connector_2_charging_enabled",
        "number.compleo_duo_connector_2_charging_current",
        272,
        110,
    ),
}


@pytest.mark.parametrize("model_id", list(PAUSE))
@pytest.mark.usefixtures("init_integration")
async def test_pause_and_resume(
    hass: HomeAssistant, simulator: WallboxSimulator, model_id: str
) -> None:
    """Off writes 0 and the number keeps showing the last limit; on writes it back."""
    switch_id, number_id, address, raw = PAUSE[model_id]
    assert state_of(hass, switch_id) == STATE_ON
    shown = state_of(hass, number_id)

    await switch(hass, switch_id, on=False)
    assert writes(simulator, address) == [0]
    assert state_of(hass, switch_id) == STATE_OFF
    assert state_of(hass, number_id) == shown

    await switch(hass, switch_id, on=True)
    assert writes(simulator, address) == [0, raw]
    assert state_of(hass, switch_id) == STATE_ON


@pytest.mark.parametrize("model_id", ["vestel_evc04"])
@pytest.mark.usefixtures("init_integration")
async def test_limit_while_paused(hass: HomeAssistant, simulator: WallboxSimulator) -> None:
    """A new limit while paused is remembered, shown, and applied on resume."""
    switch_id, number_id, address, _ = PAUSE["vestel_evc04"]
    await switch(hass, switch_id, on=False)
    await set_value(hass, number_id, 10)
    assert writes(simulator, address) == [0]
    assert state_of(hass, number_id) == "10.0"
    await switch(hass, switch_id, on=True)
    assert writes(simulator, address) == [0, 10]


@pytest.mark.parametrize("model_id", ["vestel_evc04"])
async def test_pause_survives_a_restart(
    hass: HomeAssistant,
    simulator: WallboxSimulator,
    mock_config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    """The pause and the last limit come back after a restart, and are applied again."""
    switch_id, number_id, address, _ = PAUSE["vestel_evc04"]
    entry = mock_config_entry
    store_wishes(hass_storage, entry, {"0": {"paused": True, "limit": 10.0}})
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert state_of(hass, switch_id) == STATE_OFF
    assert state_of(hass, number_id) == "10.0"
    # The box was charging at 16 A: the restored pause is applied again.
    assert writes(simulator, address) == [0]
    await switch(hass, switch_id, on=True)
    assert writes(simulator, address) == [0, 10]
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    stored = hass_storage[f"{DOMAIN}.{entry.entry_id}.desired"]["data"]
    assert stored == {"connectors": {"0": {"limit": 10.0, "paused": False, "phases": None}}}


AMPERFIED_SWITCH = "switch.amperfied_connect_home_charging_enabled"


@pytest.mark.freeze_time("2026-11-21 10:00:00")
async def test_amperfied_pause_and_resume(
    hass: HomeAssistant, start_simulator: StartSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """Amperfied holds a setting 20 s: a resume right after a pause waits for the hold."""
    sim = await start_simulator("amperfied_home")
    sim.plug(1)
    entry = entry_for(sim, "amperfied_home")
    entry.add_to_hass(hass)
    assert await run_frozen(hass, hass.config_entries.async_setup(entry.entry_id))
    await block_frozen(hass)

    await run_frozen(hass, switch(hass, AMPERFIED_SWITCH, on=False))
    assert writes(sim, 261) == [0]
    await run_frozen(hass, switch(hass, AMPERFIED_SWITCH, on=True))
    assert state_of(hass, AMPERFIED_SWITCH) == STATE_ON
    assert writes(sim, 261) == [0]
    await tick(hass, freezer, 20)
    assert writes(sim, 261) == [0, 160]
    assert state_of(hass, "binary_sensor.amperfied_connect_home_charging") == STATE_ON
    assert await run_frozen(hass, hass.config_entries.async_unload(entry.entry_id))


class _StoredStateApi:
    """Restore data as Home Assistant 2026.11 offers it: no `last_states` dict, only
    `async_get_stored_state(entity_id)` (here over the running release's dict)."""

    def __init__(self, data: Any) -> None:
        self._data = data

    def async_get_stored_state(self, entity_id: str) -> Any:
        return self._data.last_states.get(entity_id)


@pytest.mark.parametrize("model_id", ["amperfied_home"])
@pytest.mark.parametrize("restore_api", ["last_states", "async_get_stored_state"])
async def test_wishes_of_version_0_1_are_taken_over(
    hass: HomeAssistant,
    simulator: WallboxSimulator,
    restore_api: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without a store yet, the switch's restore data of version 0.1 is taken back.

    A box without a serial number: its entry (1.1) is migrated first, and the
    switch found under its new unique id.
    """
    if restore_api == "async_get_stored_state":
        from custom_components.wallbox_modbus import coordinator

        real = coordinator.async_get_restore_state
        monkeypatch.setattr(
            coordinator, "async_get_restore_state", lambda hass: _StoredStateApi(real(hass))
        )
    entry = legacy_entry_for(simulator, "amperfied_home")
    entry.add_to_hass(hass)
    er.async_get(hass).async_get_or_create(
        Platform.SWITCH, DOMAIN, f"{entry.unique_id}_charging_enabled",
        suggested_object_id="amperfied_connect_home_charging_enabled", config_entry=entry,
    )  # fmt: skip
    mock_restore_cache_with_extra_data(
        hass, [(State(AMPERFIED_SWITCH, STATE_OFF), {"paused": True, "last_limit": 12.0})]
    )
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.unique_id is None
    assert (
        er.async_get(hass).async_get_entity_id(
            Platform.SWITCH, DOMAIN, f"{entry.entry_id}_charging_enabled"
        )
        == AMPERFIED_SWITCH
    )
    assert state_of(hass, AMPERFIED_SWITCH) == STATE_OFF
    assert writes(simulator, 261) == [0]
    assert state_of(hass, "number.amperfied_connect_home_charging_current") == "12.0"
    await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.freeze_time("2026-11-21 10:00:00")
@pytest.mark.parametrize("model_id", ["compleo_solo"])
async def test_wish_the_box_refuses_is_tried_again(
    hass: HomeAssistant,
    simulator: WallboxSimulator,
    mock_config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
) -> None:
    """A restored pause the box refuses is written again after the next refresh."""
    switch_id = "switch.compleo_solo_charging_enabled"
    entry = mock_config_entry
    store_wishes(hass_storage, entry, {"1": {"paused": True, "limit": None}})
    simulator.server.faults.write_exception = 4
    entry.add_to_hass(hass)
    assert await run_frozen(hass, hass.config_entries.async_setup(entry.entry_id))
    await block_frozen(hass)
    assert state_of(hass, switch_id) == STATE_OFF
    assert writes(simulator, 256) == []
    simulator.server.faults.write_exception = None
    await tick(hass, freezer, 10)
    assert writes(simulator, 256) == [0]
    assert await run_frozen(hass, hass.config_entries.async_unload(entry.entry_id))


# ------------------------------------------------------------------ phase switch


async def select(hass: HomeAssistant, option: str) -> None:
    """Choose the phases of the connect.solar."""
    await hass.services.async_call(
        Platform.SELECT,
        SERVICE_SELECT_OPTION,
        {ATTR_ENTITY_ID: "select.amperfied_connect_solar_phases", ATTR_OPTION: option},
        blocking=True,
    )


@pytest.mark.freeze_time("2026-11-21 10:00:00")
async def test_phase_switch(
    hass: HomeAssistant, start_simulator: StartSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """1 or 3 phases; unknown while switching; a second switch is refused for 90 s."""
    sim = await start_simulator("amperfied_solar")
    entry = entry_for(sim, "amperfied_solar")
    entry.add_to_hass(hass)
    # disabled by default (the select shows the same)
    enable_entity(
        hass, entry, "sensor", "phase_switch_state", "amperfied_connect_solar_phase_switch_state"
    )
    assert await run_frozen(hass, hass.config_entries.async_setup(entry.entry_id))
    await block_frozen(hass)
    entity_id = "select.amperfied_connect_solar_phases"
    assert state_of(hass, entity_id) == "3"
    assert attributes_of(hass, entity_id)["options"] == ["1", "3"]

    await run_frozen(hass, select(hass, "1"))
    await block_frozen(hass)
    assert writes(sim, 501) == [1]
    assert state_of(hass, entity_id) == STATE_UNKNOWN
    assert state_of(hass, "sensor.amperfied_connect_solar_phase_switch_state") == "switching"

    with pytest.raises(ServiceValidationError) as err:
        await run_frozen(hass, select(hass, "3"))
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == "phase_switch_busy"
    assert writes(sim, 501) == [1]

    await tick(hass, freezer, 10)
    assert state_of(hass, entity_id) == "1"
    with pytest.raises(ServiceValidationError) as err:
        await run_frozen(hass, select(hass, "3"))
    assert err.value.translation_key == "phase_switch_busy"

    for _ in range(8):
        await tick(hass, freezer, 10)
    await run_frozen(hass, select(hass, "3"))
    assert writes(sim, 501) == [1, 3]
    assert await run_frozen(hass, hass.config_entries.async_unload(entry.entry_id))


@pytest.mark.parametrize("model_id", ["amperfied_solar"])
@pytest.mark.usefixtures("init_integration")
async def test_phase_switch_refused_by_charger(
    hass: HomeAssistant, simulator: WallboxSimulator
) -> None:
    """The charger's own refusal (BusyError) is translated too."""
    with (
        patch.object(Charger, "set_phases", side_effect=BusyError("busy")),
        pytest.raises(ServiceValidationError) as err,
    ):
        await select(hass, "1")
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == "busy"
    assert writes(simulator, 501) == []


@pytest.mark.parametrize("model_id", ["amperfied_business", "vestel_evc04", "compleo_duo"])
@pytest.mark.usefixtures("init_integration")
async def test_no_phase_switch(hass: HomeAssistant, model_id: str) -> None:
    """Only the connect.solar has a phase switch."""
    assert not hass.states.async_entity_ids(Platform.SELECT)


# ------------------------------------------------------------------ remote lock


@pytest.mark.parametrize("model_id", ["amperfied_home"])
@pytest.mark.usefixtures("init_integration")
async def test_remote_lock(hass: HomeAssistant, simulator: WallboxSimulator) -> None:
    """Locked: 259 = 0; unlocked: 259 = 1; the box stops charging while locked."""
    entity_id = "lock.amperfied_connect_home_remote_lock"
    assert state_of(hass, entity_id) == "unlocked"
    await hass.services.async_call(
        Platform.LOCK, SERVICE_LOCK, {ATTR_ENTITY_ID: entity_id}, blocking=True
    )
    await hass.async_block_till_done()
    assert writes(simulator, 259) == [0]
    assert state_of(hass, entity_id) == "locked"
    assert state_of(hass, "sensor.amperfied_connect_home_status") == "unavailable"
    await hass.services.async_call(
        Platform.LOCK, SERVICE_UNLOCK, {ATTR_ENTITY_ID: entity_id}, blocking=True
    )
    await hass.async_block_till_done()
    assert writes(simulator, 259) == [0, 1]
    assert state_of(hass, entity_id) == "unlocked"


@pytest.mark.parametrize("model_id", ["vestel_evc04", "compleo_solo"])
@pytest.mark.usefixtures("init_integration")
async def test_no_remote_lock(hass: HomeAssistant, model_id: str) -> None:
    """Only the Amperfied boxes have a remote lock."""
    assert not hass.states.async_entity_ids(Platform.LOCK)
