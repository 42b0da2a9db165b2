"""RFID in Home Assistant (Amperfied, layout >= 2.0.0), against the simulator over TCP.

Toggles (whitelist, card security, authentication) are switches that show
2100's bits and write 300's commands; buttons write 301 / 302; a card
presented fires ``wallbox_modbus_rfid``.  Nothing is written unless asked.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.button import SERVICE_PRESS
from homeassistant.const import (
    ATTR_ENTITY_ID,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    STATE_OFF,
    STATE_ON,
    STATE_UNKNOWN,
    EntityCategory,
    Platform,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events

from custom_components.wallbox_modbus.const import DOMAIN
from simulators.amperfied import AmperfiedSimulator

from .common import state_of
from .conftest import StartSimulator, block_frozen, device_with, entry_for, run_frozen, tick

README = Path(__file__).resolve().parents[2] / "README.md"
HOME = "amperfied_connect_home"
SCAN = 10
RFID_REGISTERS = (300, 301, 302)

TOGGLES = {
    # switch: (binary sensor of the bit, on command, off command)
    f"switch.{HOME}_rfid_whitelist": (
        f"binary_sensor.{HOME}_rfid_whitelist_active", 0x1001, 0x1000,
    ),
    f"switch.{HOME}_rfid_card_security": (
        f"binary_sensor.{HOME}_rfid_card_security_active", 0x1003, 0x1002,
    ),
    f"switch.{HOME}_rfid_authentication": (
        f"binary_sensor.{HOME}_rfid_authentication_active", 0x1005, 0x1004,
    ),
}  # fmt: skip
BUTTONS = {
    f"button.{HOME}_start_teaching_an_rfid_card": (301, 0x2002),
    f"button.{HOME}_cancel_teaching": (301, 0x2003),
    f"button.{HOME}_accept_rfid_card": (301, 0x2004),
    f"button.{HOME}_reject_rfid_card": (301, 0x2008),
    f"button.{HOME}_allow_rfid_card": (302, 0x3001),
}


def rfid_writes(sim: AmperfiedSimulator) -> list[tuple[int, int]]:
    """RFID commands written, in order: (register, value)."""
    return [
        (start, value)
        for start, values in sim.server.stats.writes_log
        if start in RFID_REGISTERS
        for value in values
    ]


async def setup_home(
    hass: HomeAssistant, start_simulator: StartSimulator, *, bits_enabled: bool = False
) -> tuple[AmperfiedSimulator, MockConfigEntry]:
    """A connect.home on layout 2.0.0 with a car plugged in, set up under a frozen clock."""
    sim = await start_simulator("amperfied_home", layout=(2, 0, 0))
    assert isinstance(sim, AmperfiedSimulator)
    sim.plug(1)
    entry = entry_for(sim, "amperfied_home")
    entry.add_to_hass(hass)
    if bits_enabled:  # the status bits' binary sensors are disabled by default
        registry = er.async_get(hass)
        for key in ("rfid_whitelist", "rfid_card_security", "rfid_authentication"):
            registry.async_get_or_create(
                Platform.BINARY_SENSOR,
                DOMAIN,
                f"{entry.unique_id}_{key}",
                config_entry=entry,
                suggested_object_id=f"{HOME}_{key}_active",
            )
    assert await run_frozen(hass, hass.config_entries.async_setup(entry.entry_id))
    await block_frozen(hass)
    return sim, entry


async def call(hass: HomeAssistant, domain: str, service: str, entity_id: str) -> None:
    await run_frozen(
        hass,
        hass.services.async_call(domain, service, {ATTR_ENTITY_ID: entity_id}, blocking=True),
    )
    await block_frozen(hass)


@pytest.mark.freeze_time("2026-11-21 10:00:00")
async def test_rfid_controls_are_config_and_write_nothing_by_themselves(
    hass: HomeAssistant, start_simulator: StartSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """Ten minutes of polls, keepalive and slow reads: not one RFID command."""
    sim, entry = await setup_home(hass, start_simulator)
    registry = er.async_get(hass)
    for entity_id in TOGGLES:
        assert state_of(hass, entity_id) == STATE_OFF
        entity = registry.async_get(entity_id)
        assert entity is not None and entity.entity_category is EntityCategory.CONFIG
    for entity_id in BUTTONS:
        assert state_of(hass, entity_id) == STATE_UNKNOWN  # never pressed
    for _ in range(60):
        await tick(hass, freezer, SCAN)
    assert rfid_writes(sim) == []
    assert sim.bank.raw("rfid_status") == 0
    assert await run_frozen(hass, hass.config_entries.async_unload(entry.entry_id))


@pytest.mark.freeze_time("2026-11-21 10:00:00")
@pytest.mark.parametrize("switch", list(TOGGLES))
async def test_rfid_toggle(
    hass: HomeAssistant, start_simulator: StartSimulator, switch: str
) -> None:
    """On writes the on command, off the off command; the state is the box's bit."""
    bit_sensor, on, off = TOGGLES[switch]
    sim, entry = await setup_home(hass, start_simulator, bits_enabled=True)
    assert state_of(hass, bit_sensor) == STATE_OFF
    await call(hass, Platform.SWITCH, SERVICE_TURN_ON, switch)
    assert rfid_writes(sim) == [(300, on)]
    assert state_of(hass, switch) == STATE_ON
    assert state_of(hass, bit_sensor) == STATE_ON
    others = [s for s in TOGGLES if s != switch]
    assert all(state_of(hass, other) == STATE_OFF for other in others)
    await call(hass, Platform.SWITCH, SERVICE_TURN_OFF, switch)
    assert rfid_writes(sim) == [(300, on), (300, off)]
    assert state_of(hass, switch) == STATE_OFF
    assert state_of(hass, bit_sensor) == STATE_OFF
    assert await run_frozen(hass, hass.config_entries.async_unload(entry.entry_id))


@pytest.mark.freeze_time("2026-11-21 10:00:00")
@pytest.mark.parametrize("button", list(BUTTONS))
async def test_rfid_button(
    hass: HomeAssistant, start_simulator: StartSimulator, button: str
) -> None:
    """Pressing writes the command, once."""
    sim, entry = await setup_home(hass, start_simulator)
    await call(hass, Platform.BUTTON, SERVICE_PRESS, button)
    assert rfid_writes(sim) == [BUTTONS[button]]
    assert state_of(hass, button) != STATE_UNKNOWN  # the time it was pressed
    assert await run_frozen(hass, hass.config_entries.async_unload(entry.entry_id))


@pytest.mark.freeze_time("2026-11-21 10:00:00")
async def test_teaching_through_the_buttons(
    hass: HomeAssistant, start_simulator: StartSimulator
) -> None:
    sim, entry = await setup_home(hass, start_simulator)
    await call(hass, Platform.BUTTON, SERVICE_PRESS, f"button.{HOME}_start_teaching_an_rfid_card")
    assert sim.teaching
    await call(hass, Platform.BUTTON, SERVICE_PRESS, f"button.{HOME}_cancel_teaching")
    assert not sim.teaching
    await call(hass, Platform.BUTTON, SERVICE_PRESS, f"button.{HOME}_start_teaching_an_rfid_card")
    assert sim.present_card("0A0B0C0D") == "taught"
    await call(hass, Platform.SWITCH, SERVICE_TURN_ON, f"switch.{HOME}_rfid_whitelist")
    assert sim.present_card("0A0B0C0D") == "accepted"
    assert sim.present_card("01020304") == "refused"
    assert await run_frozen(hass, hass.config_entries.async_unload(entry.entry_id))


@pytest.mark.freeze_time("2026-11-21 10:00:00")
async def test_rfid_event_on_a_card(
    hass: HomeAssistant, start_simulator: StartSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """A card presented is announced once, within a scan interval, with who it is."""
    sim, entry = await setup_home(hass, start_simulator)
    events = async_capture_events(hass, f"{DOMAIN}_rfid")
    await tick(hass, freezer, SCAN)
    assert events == []  # the first reading is the baseline
    sim.present_card("04 49 62 FA BA 10 90", "00040550791897041156", secure=True)
    await tick(hass, freezer, SCAN)
    device = device_with(hass, "AMP-HOME-0001")
    assert device is not None
    assert [event.data for event in events] == [
        {
            "device_id": device.id,
            "card_counter": 1,
            "uid": "04 49 62 FA BA 10 90",
            "card_number": "00040550791897041156",
            "security_type": "secure_card",
            "permission": "none",
        }
    ]
    assert state_of(hass, f"sensor.{HOME}_rfid_card_counter") == "1"
    for _ in range(3):
        await tick(hass, freezer, SCAN)
    assert len(events) == 1  # nothing new: nothing announced
    sim.present_card("11 22 33 44", "CARD-2")
    await tick(hass, freezer, SCAN)
    assert [event.data["uid"] for event in events] == ["04 49 62 FA BA 10 90", "11 22 33 44"]
    assert rfid_writes(sim) == []
    assert await run_frozen(hass, hass.config_entries.async_unload(entry.entry_id))


@pytest.mark.freeze_time("2026-11-21 10:00:00")
async def test_authentication_decided_by_an_automation(
    hass: HomeAssistant, start_simulator: StartSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """The README's automation: accept a known card (04 49 62 FA BA 10 90), reject any other."""
    sim, entry = await setup_home(hass, start_simulator)
    assert await run_frozen(hass, _automation(hass))
    events = async_capture_events(hass, f"{DOMAIN}_rfid")
    await call(hass, Platform.SWITCH, SERVICE_TURN_ON, f"switch.{HOME}_rfid_authentication")
    await tick(hass, freezer, SCAN)
    assert state_of(hass, f"binary_sensor.{HOME}_charging") == STATE_OFF  # no card yet

    assert sim.present_card("55 66 77 88", "STRANGER") == "waiting"
    await tick(hass, freezer, SCAN)
    assert rfid_writes(sim)[-1] == (301, 0x2008)  # rejected by the automation
    assert state_of(hass, f"binary_sensor.{HOME}_charging") == STATE_OFF

    assert sim.present_card("04 49 62 FA BA 10 90", "00040550791897041156") == "waiting"
    await tick(hass, freezer, SCAN)
    assert rfid_writes(sim)[-1] == (301, 0x2004)  # accepted by the automation
    await tick(hass, freezer, SCAN)
    assert state_of(hass, f"binary_sensor.{HOME}_charging") == STATE_ON
    assert state_of(hass, f"sensor.{HOME}_charging_permission") == "modbus"
    # The accepted card is counted: announced again, with the permission, and left alone.
    assert [e.data["permission"] for e in events] == ["none", "none", "modbus"]
    assert rfid_writes(sim) == [(300, 0x1005), (301, 0x2008), (301, 0x2004)]
    assert await run_frozen(hass, hass.config_entries.async_unload(entry.entry_id))


def readme_automation() -> dict[str, Any]:
    """The README's "accept or reject the presented card" automation, for this box."""
    text = README.read_text(encoding="utf-8")
    section = text.split("### Accept or reject the presented card", 1)[1]
    block = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    block = block.replace("button.my_wallbox_", f"button.{HOME}_")
    config: dict[str, Any] = yaml.safe_load(block)
    return config


async def _automation(hass: HomeAssistant) -> bool:
    from homeassistant.setup import async_setup_component

    return await async_setup_component(hass, "automation", readme_automation())
