"""Any Modbus TCP wallbox from a register map file: the whole product, no code.

The Acme Flux (tests/fixtures/maps/acme_flux.yaml) is a fictional box unlike the
three families; its map goes into <config>/wallbox_modbus/, the map-driven
simulator plays it, and it is added through the config flow like any model.
"""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_RECONFIGURE, SOURCE_USER, ConfigEntryState
from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er

from custom_components.wallbox_modbus.charger import MAP_MESSAGES, load_user_map
from custom_components.wallbox_modbus.const import DOMAIN
from simulators.base import WallboxSimulator
from simulators.mapsim import MapSimulator

from .common import attributes_of, state_of
from .conftest import StartSimulator, block_frozen, run_frozen, tick
from .test_controls import switch
from .test_number import set_value, writes

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "maps"
ACME = FIXTURES / "acme_flux.yaml"
MAPS = Path(__file__).resolve().parents[2] / "custom_components" / DOMAIN / "charger" / "maps"
ACME_ID = "user:acme_flux.yaml#flux11"
SCAN = 10


def folder(hass: HomeAssistant) -> Path:
    path = Path(hass.config.path(DOMAIN))
    path.mkdir(parents=True, exist_ok=True)
    return path


async def add_through_the_flow(
    hass: HomeAssistant, model_id: str, sim: WallboxSimulator, unit_id: int
) -> Any:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.FORM
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"model": model_id})
    assert result["step_id"] == "details"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"host": "127.0.0.1", "port": sim.port, "unit_id": unit_id}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    return result["result"]


def model_options(result: Any) -> dict[str, str]:
    schema = result["data_schema"].schema
    selector = next(v for k, v in schema.items() if k == "model")
    return {o["value"]: o["label"] for o in selector.config["options"]}


@pytest.mark.freeze_time("2026-11-21 10:00:00")
async def test_acme_flux_from_its_map(
    hass: HomeAssistant, start_simulator: StartSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """Catalog entities, the limit in mA on the wire, pause, heartbeat, fallback, energy."""
    shutil.copy(ACME, folder(hass) / ACME.name)
    (model,) = load_user_map(ACME)
    sim = await start_simulator(model)
    assert isinstance(sim, MapSimulator)  # no code knows the Acme: its map is all there is
    assert model.regmap.behaviour.strategy is None
    sim.plug(1, max_current=16, phases=3)

    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    options = model_options(result)
    assert options[ACME_ID] == "Acme Flux 11 (user map acme_flux.yaml)"
    assert list(options)[-1] == ACME_ID  # below the shipped models
    hass.config_entries.flow.async_abort(result["flow_id"])
    entry = await run_frozen(hass, add_through_the_flow(hass, ACME_ID, sim, 7))
    await block_frozen(hass)
    assert entry.state is ConfigEntryState.LOADED
    assert entry.unique_id == "ACME-FLUX-0042"
    assert entry.title == "Acme Flux 11"

    units = {
        "sensor.acme_flux_11_power": "W",
        "sensor.acme_flux_11_current_l1": "A",
        "sensor.acme_flux_11_voltage_l3": "V",
        "sensor.acme_flux_11_total_energy": "kWh",
        "sensor.acme_flux_11_session_energy": "kWh",
        "sensor.acme_flux_11_temperature": "°C",
    }
    for entity_id, unit in units.items():
        assert attributes_of(hass, entity_id)["unit_of_measurement"] == unit, entity_id
    assert state_of(hass, "sensor.acme_flux_11_status") == "charging"
    assert state_of(hass, "binary_sensor.acme_flux_11_vehicle_connected") == STATE_ON
    assert state_of(hass, "sensor.acme_flux_11_current_l2") == "16.0"
    number = "number.acme_flux_11_charging_current"
    assert {k: attributes_of(hass, number)[k] for k in ("min", "max", "step")} == {
        "min": 6,
        "max": 16,
        "step": 0.5,
    }
    keys = {
        e.unique_id.removeprefix("ACME-FLUX-0042_")
        for e in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
    }
    assert keys >= {"status", "vehicle_connected", "charging", "power", "current_l1",
                    "voltage_l1", "energy_total", "energy_session", "temperature",
                    "charging_current", "charging_enabled"}  # fmt: skip

    await run_frozen(hass, set_value(hass, number, 10.5))
    assert writes(sim, 3000) == [10500]
    switch_id = "switch.acme_flux_11_charging_enabled"
    await run_frozen(hass, switch(hass, switch_id, on=False))
    assert state_of(hass, switch_id) == STATE_OFF
    await run_frozen(hass, switch(hass, switch_id, on=True))
    assert writes(sim, 3000) == [10500, 0, 10500]

    energies: list[float] = []
    for _ in range(60):  # a minute in steps of a second: four heartbeat timeouts
        await tick(hass, freezer, 1)
        energies.append(float(state_of(hass, "sensor.acme_flux_11_total_energy")))
    assert sim.failsafe_events == 0
    assert set(writes(sim, 3100)) == {42405} and len(writes(sim, 3100)) >= 11

    await sim.stop()  # away for longer than the heartbeat timeout
    for _ in range(2):
        await tick(hass, freezer, SCAN)
        energies.append(float(state_of(hass, "sensor.acme_flux_11_total_energy")))
    await sim.start()
    sim.update()
    assert sim.failsafe and sim.limit(1) == 6
    for _ in range(2):
        await tick(hass, freezer, SCAN)
        energies.append(float(state_of(hass, "sensor.acme_flux_11_total_energy")))
    assert writes(sim, 3000)[-1] == 10500 and not sim.failsafe
    assert state_of(hass, number) == "10.5"
    assert energies == sorted(energies) and energies[-1] > energies[0]
    assert await run_frozen(hass, hass.config_entries.async_unload(entry.entry_id))


def _acme() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(ACME.read_text(encoding="utf-8"))
    return data


def _point(data: dict[str, Any], key: str) -> dict[str, Any]:
    return next(p for p in data["points"] if p["key"] == key)


# One broken map per kind of mistake (every code of MAP_MESSAGES).
BROKEN: dict[str, Any] = {
    "not_object": lambda d: d.update(limit=["charging_current"]),
    "not_list": lambda d: d.update(points={"power": 1}),
    "missing": lambda d: d.pop("variants"),
    "not_integer": lambda d: _point(d, "power").update(address=70000),
    "not_number": lambda d: _point(d, "power").update(scale="ten"),
    "not_positive": lambda d: _point(d, "power").update(scale=-1),
    "not_text": lambda d: d.update(title=""),
    "not_key": lambda d: _point(d, "power").update(key="Power Total"),
    "not_lower_case": lambda d: d.update(discovery={"dhcp": [{"hostname": "FLUX-*"}], "doc": "-"}),
    "unknown_choice": lambda d: _point(d, "power").update(table="coils"),
    "unknown_fields": lambda d: _point(d, "power").update(colour="red"),
    "unknown_point": lambda d: d["limit"].update(point="max_current"),
    "not_writable": lambda d: d["limit"].update(point="power"),
    "not_readable": lambda d: d["derive"]["charging"].update({"from": "heartbeat"}),
    "overlap": lambda d: _point(d, "power").update(address=2015),
    "duplicate": lambda d: d["points"].append(copy.deepcopy(_point(d, "power"))),
    "fixed_width": lambda d: _point(d, "power").update(count=3),
    "past_end": lambda d: _point(d, "serial_number").update(address=65530),
    "empty_range": lambda d: _point(d, "charging_current")["write"].update(ranges=[[9, 1]]),
    "write_allows_nothing": lambda d: _point(d, "charging_current").update(write={}),
    "write_without_access": lambda d: _point(d, "power").update(write={"values": [1]}),
    "input_read_only": lambda d: _point(d, "power").update(table="input", access="rw"),
    "write_only_polled": lambda d: _point(d, "heartbeat").update(tier="fast"),
    "text_scaled": lambda d: _point(d, "firmware").update(scale=0.1),
    "no_evidence": lambda d: d["trust"].update(rung="interoperable"),
    "verified_below_rung": lambda d: d["trust"].update(
        hardware_verified=[{"firmware": "3.2.7", "report": "evidence/acme_flux/3.2.7.json"}]
    ),
    "bad_report_path": lambda d: d["trust"].update(
        rung="hardware-verified", hardware_verified=[{"firmware": "3.2.7", "report": "../x.json"}]
    ),
    "bad_version": lambda d: _point(d, "power").update(variants={"flux11": "one"}),
    "unknown_status": lambda d: d["derive"]["status"]["map"].update(idle="sleeping"),
    "no_points": lambda d: d.update(points=[]),
    "not_a_command": lambda d: d.update(commands={"beat": {"point": "heartbeat", "value": 1}}),
}
FILE_ERRORS = {
    "not_yaml": ("broken.yaml", b"points: [unclosed\n"),
    "not_json": ("broken.json", b'{"family": '),
    "unreadable": ("broken.yaml", b"\xff\xfe\x00not text"),
}


def test_every_map_mistake_has_a_broken_map() -> None:
    assert set(BROKEN) | set(FILE_ERRORS) == set(MAP_MESSAGES)


@pytest.mark.parametrize("code", sorted(MAP_MESSAGES))
async def test_a_broken_map_shows_its_mistake_and_creates_nothing(
    hass: HomeAssistant, code: str
) -> None:
    """Listed as unusable; choosing it shows the translated mistake; nothing is created."""
    if code in FILE_ERRORS:
        name, content = FILE_ERRORS[code]
        (folder(hass) / name).write_bytes(content)
    else:
        data = _acme()
        BROKEN[code](data)
        name = "broken.yaml"
        (folder(hass) / name).write_text(yaml.safe_dump(data), encoding="utf-8")
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    options = model_options(result)
    assert options[f"unusable:{name}"] == f"{name} (unusable)"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"model": f"unusable:{name}"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": f"map_{code}"}
    placeholders = result["description_placeholders"]
    assert placeholders["file"] == name
    strings = json.loads((MAPS.parents[1] / "translations" / "en.json").read_text(encoding="utf-8"))
    text = strings["config"]["error"][f"map_{code}"].format(**placeholders)
    assert name in text and "{" not in text
    assert hass.config_entries.async_entries(DOMAIN) == []


async def test_the_folder_and_its_readme_are_made_on_first_use(hass: HomeAssistant) -> None:
    path = Path(hass.config.path(DOMAIN))
    assert not path.exists()
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["description_placeholders"]["folder"] == str(path)
    assert "python -m simulators --map" in (path / "README.md").read_text(encoding="utf-8")


@pytest.mark.freeze_time("2026-11-21 10:00:00")
async def test_a_map_broken_later_fails_the_entry_and_reconfigure_reads_it_again(
    hass: HomeAssistant, start_simulator: StartSimulator
) -> None:
    shutil.copy(ACME, folder(hass) / ACME.name)
    (model,) = load_user_map(ACME)
    sim = await start_simulator(model)
    entry = await run_frozen(hass, add_through_the_flow(hass, ACME_ID, sim, 7))
    await block_frozen(hass)
    assert await run_frozen(hass, hass.config_entries.async_unload(entry.entry_id))
    (folder(hass) / ACME.name).write_text(
        ACME.read_text(encoding="utf-8").replace("scale: 0.01", "scale: ten", 1), encoding="utf-8"
    )
    assert not await run_frozen(hass, hass.config_entries.async_setup(entry.entry_id))
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert entry.reason is not None and "acme_flux.yaml" in entry.reason
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_RECONFIGURE, "entry_id": entry.entry_id}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "map_invalid"
    assert "`scale` must be a number, found 'ten'" in result["description_placeholders"]["error"]


@pytest.mark.freeze_time("2026-11-21 10:00:00")
async def test_one_connection_box_takes_one_entry(
    hass: HomeAssistant, start_simulator: StartSimulator
) -> None:
    """The map says one connection: a second entry at the same host and port is refused."""
    shutil.copy(ACME, folder(hass) / ACME.name)
    (model,) = load_user_map(ACME)
    sim = await start_simulator(model)
    entry = await run_frozen(hass, add_through_the_flow(hass, ACME_ID, sim, 7))
    await block_frozen(hass)
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"model": ACME_ID, "host": "127.0.0.1", "port": sim.port, "unit_id": 8}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "too_many_connections"
    assert sim.server.stats.max_concurrent == 1
    assert await run_frozen(hass, hass.config_entries.async_unload(entry.entry_id))


@pytest.mark.freeze_time("2026-11-21 10:00:00")
async def test_vestel_rebuilt_as_a_user_map(
    hass: HomeAssistant, start_simulator: StartSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """The shipped Vestel map as a user's file, without its strategy: every entity and
    control is kept (they are data); only the frozen-server watch needs the strategy."""
    data = json.loads((MAPS / "vestel_evc04.json").read_text(encoding="utf-8"))
    data.pop("strategy")
    (folder(hass) / "my_evc04.json").write_text(json.dumps(data), encoding="utf-8")
    (model,) = load_user_map(folder(hass) / "my_evc04.json")
    sim = await start_simulator(model)
    sim.plug(1)
    entry = await run_frozen(hass, add_through_the_flow(hass, model.id, sim, 255))
    await block_frozen(hass)
    registry = er.async_get(hass)
    user_entities = {
        e.unique_id.removeprefix(f"{entry.unique_id}_"): e
        for e in er.async_entries_for_config_entry(registry, entry.entry_id)
    }
    # Points the catalog has no word for become plain diagnostic sensors, off by default.
    plain = {k for k, e in user_entities.items() if e.translation_key is None}
    assert all(user_entities[k].disabled_by is not None for k in plain)
    assert await run_frozen(hass, hass.config_entries.async_remove(entry.entry_id))

    shipped = await start_simulator("vestel_evc04")
    shipped.plug(1)
    entry = await run_frozen(hass, add_through_the_flow(hass, "vestel_evc04", shipped, 255))
    await block_frozen(hass)
    shipped_keys = {
        e.unique_id.removeprefix(f"{entry.unique_id}_")
        for e in er.async_entries_for_config_entry(registry, entry.entry_id)
    }
    assert set(user_entities) - plain == shipped_keys
    # What only the strategy does: a server whose clock stopped is reopened.
    shipped.server.faults.frozen = True
    connects = entry.runtime_data.charger.transport.stats.connects
    for _ in range(4):
        await tick(hass, freezer, SCAN)
    assert entry.runtime_data.charger.transport.stats.connects == connects + 1
    assert await run_frozen(hass, hass.config_entries.async_unload(entry.entry_id))
