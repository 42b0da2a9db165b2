"""Fixtures of the Home Assistant tests: the integration against simulated wallboxes.

The simulators are real Modbus TCP servers on 127.0.0.1, started inside the
test's event loop and stopped at teardown.  Their clocks are looked up on every
call so that ``freezer`` moves them together with Home Assistant's.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from freezegun.api import FrozenDateTimeFactory  # noqa: E402
from homeassistant.config_entries import ConfigEntryState  # noqa: E402
from homeassistant.const import CONF_HOST, CONF_PORT  # noqa: E402
from homeassistant.core import HomeAssistant  # noqa: E402
from homeassistant.helpers import device_registry as dr  # noqa: E402
from homeassistant.helpers import entity_registry as er  # noqa: E402
from pytest_homeassistant_custom_component.common import (  # noqa: E402
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.wallbox_modbus.charger import MODELS, ModelInfo  # noqa: E402
from custom_components.wallbox_modbus.const import (  # noqa: E402
    CONF_MODEL,
    CONF_UNIT_ID,
    DOMAIN,
)
from simulators.base import WallboxSimulator  # noqa: E402
from simulators.registry import SIMULATORS, simulator_for  # noqa: E402

type StartSimulator = Callable[..., Awaitable[WallboxSimulator]]


def sim_clock() -> float:
    """The simulators' monotonic clock, patchable by freezer."""
    return time.monotonic()


def sim_wall_clock() -> dt.datetime:
    """The simulators' wall clock, patchable by freezer."""
    return dt.datetime.now()


def serial_of(sim: WallboxSimulator) -> str | None:
    """The serial number a simulator reports (None: a box without one)."""
    if not sim.bank.has("serial_number"):
        return None
    return str(sim.bank.get("serial_number"))


def entry_for(sim: WallboxSimulator, model_id: str, **kwargs: Any) -> MockConfigEntry:
    """A config entry for a simulator, as the config flow creates it (version 1.2).

    The unique id is the serial number; a box without one gets none.
    """
    data = {CONF_MODEL: model_id, CONF_HOST: sim.host, CONF_PORT: sim.port, CONF_UNIT_ID: 255}
    kwargs.setdefault("unique_id", serial_of(sim))
    kwargs.setdefault("version", 1)
    kwargs.setdefault("minor_version", 2)
    return MockConfigEntry(domain=DOMAIN, title=MODELS[model_id].title, data=data, **kwargs)


def legacy_entry_for(sim: WallboxSimulator, model_id: str) -> MockConfigEntry:
    """A config entry as versions up to 1.1 created it.

    A box without a serial number got a unique id made of model, host, port and unit id.
    """
    address_id = f"{model_id}_{sim.host}_{sim.port}_255"
    return entry_for(sim, model_id, minor_version=1, unique_id=serial_of(sim) or address_id)


def enable_entity(
    hass: HomeAssistant, entry: MockConfigEntry, platform: str, key: str, object_id: str
) -> str:
    """Register an entity that is disabled by default as enabled, before the entry is set up."""
    registry_entry = er.async_get(hass).async_get_or_create(
        platform,
        DOMAIN,
        f"{device_key(entry)}_{key}",
        suggested_object_id=object_id,
        config_entry=entry,
    )
    assert registry_entry.disabled_by is None
    return registry_entry.entity_id


def device_with(hass: HomeAssistant, identifier: str) -> dr.DeviceEntry | None:
    """The device registered under one of our identifiers.

    (Not registry.async_get_device: deprecated in 2026.x, its replacement
    missing in 2025.4.)
    """
    registry = dr.async_get(hass)
    return next(
        (
            device
            for entry in hass.config_entries.async_entries(DOMAIN)
            for device in dr.async_entries_for_config_entry(registry, entry.entry_id)
            if (DOMAIN, identifier) in device.identifiers
        ),
        None,
    )


def device_key(entry: MockConfigEntry) -> str:
    """What an entry's devices and entities are keyed on: the serial, else the entry id."""
    return entry.unique_id or entry.entry_id


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Load the integration from custom_components/."""


@pytest.fixture(autouse=True)
def own_config_dir(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """Each test's Home Assistant gets a config folder of its own (user maps go there).

    The harness's shared testing_config lives inside the installed package.
    """
    if "hass" in request.fixturenames:
        hass: HomeAssistant = request.getfixturevalue("hass")
        hass.config.config_dir = str(tmp_path / "config")


@pytest.fixture
async def start_simulator(socket_enabled: None) -> AsyncIterator[StartSimulator]:
    """Start simulators on free ports; every one is stopped at teardown.

    Home Assistant's harness blocks sockets; the simulators and the integration
    need them (connections stay limited to 127.0.0.1).
    """
    started: list[WallboxSimulator] = []

    async def start(model: str | ModelInfo, **kwargs: Any) -> WallboxSimulator:
        kwargs.setdefault("clock", sim_clock)
        kwargs.setdefault("wall_clock", sim_wall_clock)
        kwargs.setdefault("port", 0)
        factory = SIMULATORS[model] if isinstance(model, str) else simulator_for(model)
        sim = factory(**kwargs)
        await sim.start()
        started.append(sim)
        return sim

    yield start
    for sim in started:
        await sim.stop()


@pytest.fixture
def model_id() -> str:
    """The model under test (parametrize to change)."""
    return "vestel_evc04"


@pytest.fixture
def sim_kwargs() -> dict[str, Any]:
    """Extra arguments of the simulator under test (parametrize to change)."""
    return {}


@pytest.fixture
async def simulator(
    start_simulator: StartSimulator, model_id: str, sim_kwargs: dict[str, Any]
) -> WallboxSimulator:
    """The simulator of the model under test, with a car plugged in on every connector."""
    sim = await start_simulator(model_id, **sim_kwargs)
    for connector in sim.cars:
        sim.plug(connector)
    return sim


@pytest.fixture
def mock_config_entry(simulator: WallboxSimulator, model_id: str) -> MockConfigEntry:
    """The config entry of the simulator under test."""
    return entry_for(simulator, model_id)


@pytest.fixture
async def init_integration(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> AsyncIterator[MockConfigEntry]:
    """Set up the entry; unload it (closing its connection) before the simulator stops."""
    mock_config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert mock_config_entry.state is ConfigEntryState.LOADED
    yield mock_config_entry
    if mock_config_entry.state is ConfigEntryState.LOADED:
        await hass.config_entries.async_unload(mock_config_entry.entry_id)
        await hass.async_block_till_done()


async def settle(predicate: Callable[[], bool], *, rounds: int = 2000) -> bool:
    """Let the event loop run (without moving any clock) until predicate holds.

    Socket events (a peer closing, a reply arriving) need a few loop rounds;
    sleep(0) works under a frozen clock too.
    """
    for _ in range(rounds):
        if predicate():
            return True
        await asyncio.sleep(0)
    return predicate()


async def run_frozen[T](hass: HomeAssistant, awaitable: Awaitable[T], *, rounds: int = 500) -> T:
    """Await something under a frozen clock, firing the timers due within half a second.

    pymodbus sleeps 0.1 s after every connect; with freezer the event loop's
    clock stands still, so that sleep (and nothing further away) is fired here.
    """
    task = asyncio.ensure_future(awaitable)
    for _ in range(rounds):
        for _ in range(20):
            if task.done():
                return task.result()
            await asyncio.sleep(0)
        async_fire_time_changed(hass)
    task.cancel()
    raise TimeoutError("still waiting after firing timers")


async def block_frozen(hass: HomeAssistant) -> None:
    """hass.async_block_till_done() under a frozen clock (see run_frozen).

    Background tasks included: scheduled refreshes run as background tasks and
    wait for the simulator's replies.
    """
    await run_frozen(hass, hass.async_block_till_done(wait_background_tasks=True))


async def tick(hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float) -> None:
    """Move the frozen clock, fire the timers that are due, and wait for their work."""
    freezer.tick(timedelta(seconds=seconds))
    async_fire_time_changed(hass)
    await block_frozen(hass)


def store_wishes(
    hass_storage: dict[str, Any], entry: MockConfigEntry, connectors: dict[str, Any]
) -> None:
    """What an entry stored of the user's wishes before a restart."""
    hass_storage[f"{DOMAIN}.{entry.entry_id}.desired"] = {
        "version": 1,
        "minor_version": 1,
        "key": f"{DOMAIN}.{entry.entry_id}.desired",
        "data": {"connectors": connectors},
    }
