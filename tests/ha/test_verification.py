"""The check of a box against its register map, from Home Assistant (frozen clock).

The button (or the action) starts it; its sensors show the progress and the
verdict; the report is in the device's diagnostics download; a contradiction
becomes a translated repair issue.  Without the opt-in nothing is written but
the box's keepalive; with it, the limit is written, read back and put back,
also when the entry unloads in the middle.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import string
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import ATTR_ENTITY_ID, Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.translation import async_get_translations
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_device,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.wallbox_modbus.charger import CONTRADICTION_CODES
from custom_components.wallbox_modbus.const import DOMAIN
from custom_components.wallbox_modbus.verification import ISSUE_PLACEHOLDERS
from simulators.base import WallboxSimulator
from simulators.lies import LIES

from .common import state_of
from .conftest import StartSimulator, block_frozen, entry_for, run_frozen

with contextlib.suppress(ImportError):
    # Imported by the diagnostics view; importing it under a frozen clock fails.
    import aiohasupervisor  # noqa: F401

pytestmark = pytest.mark.freeze_time("2026-11-21 10:00:00")

INTEGRATION = Path(__file__).resolve().parents[2] / "custom_components" / "wallbox_modbus"
BUTTON = {
    "vestel_evc04": "button.vestel_evc04_verify_against_the_register_map",
    "amperfied_business": "button.amperfied_connect_business_verify_against_the_register_map",
    "compleo_duo": "button.compleo_duo_verify_against_the_register_map",
}
STATE = {
    "vestel_evc04": "sensor.vestel_evc04_register_map_verification",
    "amperfied_business": "sensor.amperfied_connect_business_register_map_verification",
    "compleo_duo": "sensor.compleo_duo_register_map_verification",
}


def local_wall_clock() -> datetime:
    """The box's clock set to Home Assistant's time zone (the harness's is not the host's)."""
    return dt_util.now().replace(tzinfo=None)


async def start(
    hass: HomeAssistant, start_simulator: StartSimulator, model_id: str, *, plug: bool = True,
    **kwargs: Any,
) -> tuple[WallboxSimulator, MockConfigEntry]:  # fmt: skip
    sim = await start_simulator(model_id, wall_clock=local_wall_clock, **kwargs)
    if plug:
        for connector in sim.cars:
            sim.plug(connector)
    entry = entry_for(sim, model_id)
    entry.add_to_hass(hass)
    assert await run_frozen(hass, hass.config_entries.async_setup(entry.entry_id))
    await block_frozen(hass)
    return sim, entry


async def quiet(hass: HomeAssistant) -> None:
    """Let every request on the wire get its answer before the clock moves again.

    The check runs in the background (not waited for by block_till_done); moving
    the frozen clock while it waits for a reply would fire the request's timeout.
    """
    entries = hass.config_entries.async_entries(DOMAIN)
    locks = [
        e.runtime_data.charger.transport._lock
        for e in entries
        if getattr(e, "runtime_data", None) is not None
    ]
    calm = 0
    for _ in range(2000):
        calm = calm + 1 if not any(lock.locked() for lock in locks) else 0
        if calm > 50:
            return
        await asyncio.sleep(0)
        if calm == 0:
            async_fire_time_changed(hass)  # timers due within half a second (pymodbus's)
    raise AssertionError("a request is still on the wire")


async def step(hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float) -> None:
    """Move the clock; a check in the background sleeps on it (not waited for)."""
    await quiet(hass)
    freezer.tick(timedelta(seconds=seconds))
    async_fire_time_changed(hass)
    await run_frozen(hass, hass.async_block_till_done())
    await quiet(hass)


async def until_done(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, entry: MockConfigEntry, *, limit: int = 80
) -> None:
    runner = entry.runtime_data.verification
    for _ in range(limit):
        await step(hass, freezer, 5)
        if not runner.running:
            await block_frozen(hass)
            return
    raise AssertionError("the check did not end")


async def press(hass: HomeAssistant, entity_id: str) -> None:
    await hass.services.async_call(
        Platform.BUTTON, "press", {ATTR_ENTITY_ID: entity_id}, blocking=True
    )


def device_of(hass: HomeAssistant, entry: MockConfigEntry) -> dr.DeviceEntry:
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    return next(d for d in devices if d.name == entry.title)


def issues_of(hass: HomeAssistant, entry: MockConfigEntry) -> dict[str, ir.IssueEntry]:
    return {
        issue_id: issue
        for (domain, issue_id), issue in ir.async_get(hass).issues.items()
        if domain == DOMAIN and entry.entry_id in issue_id
    }


def writes(sim: WallboxSimulator) -> list[tuple[int, list[int]]]:
    return list(sim.server.stats.writes_log)


# ------------------------------------------------------------------ the button


@pytest.mark.parametrize("model_id", ["vestel_evc04", "compleo_duo"])
async def test_the_button_checks_the_box(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    start_simulator: StartSimulator,
    freezer: FrozenDateTimeFactory,
    model_id: str,
) -> None:
    """Progress in the sensors, the verdict, the report in every device's download."""
    sim, entry = await start(hass, start_simulator, model_id)
    assert state_of(hass, STATE[model_id]) == "not_run"
    await press(hass, BUTTON[model_id])
    for _ in range(6):  # the keepalive runs in between: the box must not fall back
        await step(hass, freezer, 5)
    assert state_of(hass, STATE[model_id]) == "running"
    progress = float(state_of(hass, f"{STATE[model_id]}_progress"))
    assert 10 < progress < 90
    await until_done(hass, freezer, entry)
    assert state_of(hass, STATE[model_id]) == "confirmed"
    assert state_of(hass, f"{STATE[model_id]}_progress") == "100.0"
    assert issues_of(hass, entry) == {}

    devices = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    for device in devices:  # the station and each connector of a DUO alike
        download = await run_frozen(
            hass, get_diagnostics_for_device(hass, hass_client, entry, device)
        )
        report = download["verification_report"]
        assert report["summary"]["verdict"] == "confirmed"
        assert report["model"]["id"] == model_id
        assert report["software"]["home_assistant"]
        assert report["software"]["integration"] == "0.1.0"
        text = json.dumps(report)
        assert "127.0.0.1" not in text
        assert str(sim.bank.get("serial_number")) not in text
    assert await run_frozen(hass, hass.config_entries.async_unload(entry.entry_id))


async def test_running_twice_is_refused(
    hass: HomeAssistant, start_simulator: StartSimulator, freezer: FrozenDateTimeFactory
) -> None:
    _, entry = await start(hass, start_simulator, "vestel_evc04")
    await press(hass, BUTTON["vestel_evc04"])
    with pytest.raises(HomeAssistantError) as err:
        await press(hass, BUTTON["vestel_evc04"])
    assert err.value.translation_key == "verification_running"
    await until_done(hass, freezer, entry)
    assert await run_frozen(hass, hass.config_entries.async_unload(entry.entry_id))


async def test_the_write_test_button_is_disabled_by_default(
    hass: HomeAssistant, start_simulator: StartSimulator
) -> None:
    _, entry = await start(hass, start_simulator, "vestel_evc04")
    entity = er.async_get(hass).async_get(f"{BUTTON['vestel_evc04']}_with_write_test")
    assert entity is not None and entity.disabled_by is er.RegistryEntryDisabler.INTEGRATION
    assert await run_frozen(hass, hass.config_entries.async_unload(entry.entry_id))


# ------------------------------------------------------------------ writes


@pytest.mark.parametrize(
    ("model_id", "allowed"), [("vestel_evc04", {6000}), ("amperfied_business", set())]
)
async def test_nothing_is_written_unless_asked(
    hass: HomeAssistant,
    start_simulator: StartSimulator,
    freezer: FrozenDateTimeFactory,
    model_id: str,
    allowed: set[int],
) -> None:
    """No vehicle, so a write test could run: without the opt-in only the keepalive writes."""
    sim, entry = await start(hass, start_simulator, model_id, plug=False)
    before = len(writes(sim))
    await press(hass, BUTTON[model_id])
    await until_done(hass, freezer, entry)
    written = {address for address, _ in writes(sim)[before:]}
    assert written <= allowed
    report = entry.runtime_data.verification.report
    assert report is not None and report["run"]["write_test"] == "not requested"
    assert await run_frozen(hass, hass.config_entries.async_unload(entry.entry_id))


async def test_the_action_runs_the_write_test_and_restores(
    hass: HomeAssistant, start_simulator: StartSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """Asked for, with no vehicle: 6 A written, read back, 16 A put back; the wish stays."""
    sim, entry = await start(hass, start_simulator, "vestel_evc04", plug=False)
    number = "number.vestel_evc04_charging_current"
    shown = state_of(hass, number)
    await hass.services.async_call(
        DOMAIN,
        "verify",
        {"device_id": device_of(hass, entry).id, "duration": 30, "write_test": True},
        blocking=True,
    )
    await until_done(hass, freezer, entry)
    assert [values for address, values in writes(sim) if address == 5004] == [[6], [16]]
    assert sim.bank.get("charging_current") == 16
    await step(hass, freezer, 10)
    assert state_of(hass, number) == shown
    assert state_of(hass, "switch.vestel_evc04_charging_enabled") == "on"
    report = entry.runtime_data.verification.report
    assert report is not None and report["run"]["write_test"] == "done"
    assert report["run"]["duration"] == 30
    assert report["points"]["charging_current"]["status"] == "confirmed"
    assert await run_frozen(hass, hass.config_entries.async_unload(entry.entry_id))


async def test_an_unload_in_the_middle_puts_the_limit_back(
    hass: HomeAssistant, start_simulator: StartSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """Amperfied holds a setting 20 s: the entry unloads meanwhile, 16 A is back at once."""
    sim, entry = await start(hass, start_simulator, "amperfied_business", plug=False)
    await hass.services.async_call(
        DOMAIN,
        "verify",
        {"device_id": device_of(hass, entry).id, "duration": 30, "write_test": True},
        blocking=True,
    )
    for _ in range(40):
        await step(hass, freezer, 2)
        if [v for a, v in writes(sim) if a == 261]:
            break
    assert [v for a, v in writes(sim) if a == 261] == [[60]]
    assert entry.runtime_data.verification.running
    assert await run_frozen(hass, hass.config_entries.async_unload(entry.entry_id))
    assert [v for a, v in writes(sim) if a == 261] == [[60], [160]]
    assert sim.bank.raw("charging_current") == 160


async def test_the_action_names_a_device_of_this_integration(
    hass: HomeAssistant, start_simulator: StartSimulator
) -> None:
    _, entry = await start(hass, start_simulator, "vestel_evc04")
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, "verify", {"device_id": "no-such-device"}, blocking=True
        )
    assert err.value.translation_key == "device_not_found"
    assert await run_frozen(hass, hass.config_entries.async_unload(entry.entry_id))


# ------------------------------------------------------------------ repairs


async def test_a_contradiction_is_a_translated_repair(
    hass: HomeAssistant, start_simulator: StartSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """'register 1036 looks 10x too large for this firmware'; gone after a clean run."""
    sim, entry = await start(hass, start_simulator, "vestel_evc04", lie=LIES["energy_scale_10"])
    await press(hass, BUTTON["vestel_evc04"])
    await until_done(hass, freezer, entry)
    assert state_of(hass, STATE["vestel_evc04"]) == "contradicted"
    (issue_id, issue), *rest = issues_of(hass, entry).items()
    assert rest == []
    assert issue_id == f"verification_{entry.entry_id}_energy_total_too_large"
    assert issue.translation_key == "verification_too_large"
    placeholders = issue.translation_placeholders or {}
    assert (placeholders["register"], placeholders["factor"]) == ("1036", "10")
    assert placeholders["firmware"] == "v3.187.0"
    assert issue.is_persistent and issue.severity is ir.IssueSeverity.WARNING
    for language, title in (
        ("en", "Vestel EVC04: register 1036 looks 10× too large for this firmware"),
        ("de", "Vestel EVC04: Register 1036 wirkt für diese Firmware 10× zu groß"),
    ):
        texts = await async_get_translations(hass, language, "issues", [DOMAIN])
        prefix = f"component.{DOMAIN}.issues.verification_too_large"
        assert texts[f"{prefix}.title"].format(**placeholders) == title
        description = texts[f"{prefix}.description"].format(**placeholders)
        assert "energy_total" in description and "?" not in description

    sim.bank.lie = None  # the same box, now serving the meter reading as documented
    await press(hass, BUTTON["vestel_evc04"])
    await until_done(hass, freezer, entry)
    assert issues_of(hass, entry) == {}
    assert state_of(hass, STATE["vestel_evc04"]) == "confirmed"
    assert await run_frozen(hass, hass.config_entries.async_unload(entry.entry_id))


async def test_the_report_survives_a_restart(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    start_simulator: StartSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    _, entry = await start(hass, start_simulator, "amperfied_business")
    await press(hass, BUTTON["amperfied_business"])
    await until_done(hass, freezer, entry)
    assert await run_frozen(hass, hass.config_entries.async_reload(entry.entry_id))
    await block_frozen(hass)
    assert state_of(hass, STATE["amperfied_business"]) == "confirmed"
    download = await run_frozen(
        hass, get_diagnostics_for_device(hass, hass_client, entry, device_of(hass, entry))
    )
    assert download["verification_report"]["box"]["layout_version"] == "2.0.0"
    assert await run_frozen(hass, hass.config_entries.async_unload(entry.entry_id))


async def test_removing_the_entry_removes_its_issues(
    hass: HomeAssistant, start_simulator: StartSimulator, freezer: FrozenDateTimeFactory
) -> None:
    _, entry = await start(hass, start_simulator, "compleo_duo", lie=LIES["status_undocumented"])
    await press(hass, BUTTON["compleo_duo"])
    await until_done(hass, freezer, entry)
    assert [i.translation_key for i in issues_of(hass, entry).values()] == [
        "verification_undocumented_value"
    ]
    assert await run_frozen(hass, hass.config_entries.async_remove(entry.entry_id))
    assert issues_of(hass, entry) == {}


def test_every_contradiction_has_a_repair_text() -> None:
    """Each code a contradiction can carry has a title and text, in both languages."""
    for language in ("strings.json", "translations/de.json"):
        issues = json.loads((INTEGRATION / language).read_text(encoding="utf-8"))["issues"]
        assert set(issues) == {f"verification_{c}" for c in CONTRADICTION_CODES} | {
            "verification_more"
        }
        for key, texts in issues.items():
            for text in (texts["title"], texts["description"]):
                used = {name for _, name, _, _ in string.Formatter().parse(text) if name}
                assert used <= set(ISSUE_PLACEHOLDERS), (language, key, used)
