"""Tests of the config flow, against simulators over real TCP."""

from __future__ import annotations

import socket
from typing import Any
from unittest.mock import AsyncMock, patch

import pytest
from homeassistant.config_entries import SOURCE_USER, ConfigEntryState, ConfigFlowResult
from homeassistant.const import CONF_HOST, CONF_PORT, CONF_SCAN_INTERVAL
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.wallbox_modbus.charger import MODELS as CHARGER_MODELS
from custom_components.wallbox_modbus.charger import Charger, create_charger
from custom_components.wallbox_modbus.const import CONF_MODEL, CONF_UNIT_ID, DOMAIN
from simulators.base import WallboxSimulator

from .common import state_of
from .conftest import StartSimulator, device_with, entry_for, serial_of, settle

MODELS = [
    "vestel_evc04",
    "amperfied_home",
    "amperfied_business",
    "amperfied_solar",
    "compleo_solo",
    "compleo_duo",
]
TITLES = {
    "vestel_evc04": "Vestel EVC04",
    "amperfied_home": "Amperfied connect.home",
    "amperfied_business": "Amperfied connect.business",
    "amperfied_solar": "Amperfied connect.solar",
    "compleo_solo": "Compleo SOLO",
    "compleo_duo": "Compleo DUO",
}


def address(port: int, unit_id: int = 255) -> dict[str, Any]:
    """Input of the details step."""
    return {CONF_HOST: "127.0.0.1", CONF_PORT: port, CONF_UNIT_ID: unit_id}


def free_port() -> int:
    """A port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def start_flow(hass: HomeAssistant, model_id: str) -> ConfigFlowResult:
    """Start the flow and choose a model."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_MODEL: model_id}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "details"
    return result


@pytest.mark.parametrize("model_id", MODELS)
async def test_user_flow(
    hass: HomeAssistant, start_simulator: StartSimulator, model_id: str
) -> None:
    """Every model: choose, probe, create; the entry then sets up on its own connection."""
    sim = await start_simulator(model_id)
    result = await start_flow(hass, model_id)
    # The form is prefilled with the model's defaults.
    assert result["data_schema"] is not None
    schema = result["data_schema"].schema
    defaults = {str(key): key.default() for key in schema if callable(key.default)}
    assert defaults[CONF_PORT] == 502
    assert defaults[CONF_UNIT_ID] == 255
    result = await hass.config_entries.flow.async_configure(result["flow_id"], address(sim.port))
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == TITLES[model_id]
    assert result["data"] == {
        CONF_MODEL: model_id,
        CONF_HOST: "127.0.0.1",
        CONF_PORT: sim.port,
        CONF_UNIT_ID: 255,
    }
    entry = result["result"]
    serial = serial_of(sim)
    # The serial number; a box without one (layout 1.0.x) gets no unique id at all.
    assert entry.unique_id == serial
    # The probe's connection was closed before the entry opened its own.
    assert entry.state is ConfigEntryState.LOADED
    assert sim.server.stats.max_concurrent == 1
    assert sim.server.stats.connections_refused == 0
    await hass.config_entries.async_unload(entry.entry_id)


async def test_port_and_unit_id_default_to_the_model(
    hass: HomeAssistant, start_simulator: StartSimulator
) -> None:
    """A client that sends the host only gets the model's port and unit id."""
    sim = await start_simulator("compleo_solo")
    result = await start_flow(hass, "compleo_solo")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: sim.port}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_UNIT_ID] == 255
    await hass.config_entries.async_unload(result["result"].entry_id)


async def test_all_fields_in_one_step(hass: HomeAssistant, start_simulator: StartSimulator) -> None:
    """model, host, port and unit_id sent together skip the second form."""
    sim = await start_simulator("amperfied_solar")
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_MODEL: "amperfied_solar", CONF_HOST: "127.0.0.1", CONF_PORT: sim.port,
         CONF_UNIT_ID: 255},
    )  # fmt: skip
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {
        CONF_MODEL: "amperfied_solar",
        CONF_HOST: "127.0.0.1",
        CONF_PORT: sim.port,
        CONF_UNIT_ID: 255,
    }
    await hass.config_entries.async_unload(result["result"].entry_id)


@pytest.mark.usefixtures("socket_enabled")
async def test_all_fields_in_one_step_with_an_error_shows_the_address_form(
    hass: HomeAssistant,
) -> None:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_MODEL: "vestel_evc04", CONF_HOST: "127.0.0.1", CONF_PORT: free_port()},
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "details"
    assert result["errors"] == {CONF_HOST: "cannot_connect"}


async def test_cannot_connect(hass: HomeAssistant, start_simulator: StartSimulator) -> None:
    """A closed port: cannot_connect on the host field; the user can try again."""
    result = await start_flow(hass, "vestel_evc04")
    result = await hass.config_entries.flow.async_configure(result["flow_id"], address(free_port()))
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_HOST: "cannot_connect"}

    sim = await start_simulator("vestel_evc04")
    result = await hass.config_entries.flow.async_configure(result["flow_id"], address(sim.port))
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.config_entries.async_unload(result["result"].entry_id)


async def test_timeout(hass: HomeAssistant, start_simulator: StartSimulator) -> None:
    """A box that takes the connection but never answers: timeout; once it answers, added."""
    sim = await start_simulator("amperfied_business")
    sim.server.faults.silent = True
    result = await start_flow(hass, "amperfied_business")
    with patch("custom_components.wallbox_modbus.config_flow.PROBE_TIMEOUT", 0.2):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], address(sim.port)
        )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "timeout"}
    # The probe's connection is closed again.
    assert await settle(lambda: sim.server.open_connections == 0)

    sim.server.faults.silent = False  # e.g. its Modbus server switched on
    result = await hass.config_entries.flow.async_configure(result["flow_id"], address(sim.port))
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == "AMP-BUSINESS-0001"
    await hass.config_entries.async_unload(result["result"].entry_id)


async def test_modbus_error(hass: HomeAssistant, start_simulator: StartSimulator) -> None:
    """A box that answers every request with a Modbus exception (e.g. a wrong unit id)."""
    sim = await start_simulator("vestel_evc04", unit_id=1)
    result = await start_flow(hass, "vestel_evc04")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], address(sim.port, unit_id=255)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "modbus_error"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], address(sim.port, unit_id=1)
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_UNIT_ID] == 1
    await hass.config_entries.async_unload(result["result"].entry_id)


async def test_unknown_error(
    hass: HomeAssistant, start_simulator: StartSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    """Anything unexpected: unknown, logged; a second try that works adds the box."""
    sim = await start_simulator("vestel_evc04")
    result = await start_flow(hass, "vestel_evc04")
    with patch(
        "custom_components.wallbox_modbus.charger.Charger.identify",
        side_effect=RuntimeError("boom"),
    ):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], address(sim.port)
        )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "unknown"}
    assert "Unexpected error while probing 127.0.0.1" in caplog.text
    assert await settle(lambda: sim.server.open_connections == 0)

    result = await hass.config_entries.flow.async_configure(result["flow_id"], address(sim.port))
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == serial_of(sim)
    await hass.config_entries.async_unload(result["result"].entry_id)


def failing_probe(*args: Any, **kwargs: Any) -> Charger:
    """A probe's charger whose identify fails unexpectedly (the entry's own is not touched)."""
    charger = create_charger(*args, **kwargs)
    charger.identify = AsyncMock(side_effect=RuntimeError("boom"))  # type: ignore[method-assign]
    return charger


def model_field(result: ConfigFlowResult) -> Any:
    """The model field of a form (None: the form has none)."""
    assert result["data_schema"] is not None
    return next((key for key in result["data_schema"].schema if str(key) == CONF_MODEL), None)


@pytest.mark.parametrize(
    ("chosen", "actual"),
    [
        ("vestel_evc04", "amperfied_business"),
        ("amperfied_business", "vestel_evc04"),
        ("compleo_duo", "compleo_solo"),
        ("compleo_solo", "compleo_duo"),
        ("amperfied_home", "amperfied_solar"),  # the phase switch answers: a connect.solar
        ("amperfied_business", "amperfied_solar"),
    ],
)
async def test_wrong_model(
    hass: HomeAssistant, start_simulator: StartSimulator, chosen: str, actual: str
) -> None:
    """The box at the address is not the chosen model: the form offers the model again."""
    sim = await start_simulator(actual)
    result = await start_flow(hass, chosen)
    assert model_field(result) is None
    result = await hass.config_entries.flow.async_configure(result["flow_id"], address(sim.port))
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "details"
    assert result["errors"] == {"base": "wrong_model"}
    assert await settle(lambda: sim.server.open_connections == 0)
    field = model_field(result)
    assert field is not None and field.description["suggested_value"] == chosen

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_MODEL: actual, **address(sim.port)}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == TITLES[actual]
    assert result["data"][CONF_MODEL] == actual
    await hass.config_entries.async_unload(result["result"].entry_id)


async def test_wrong_model_fixed_by_the_address(
    hass: HomeAssistant, start_simulator: StartSimulator
) -> None:
    """The address was that of another box: the right one's address adds the chosen model."""
    other = await start_simulator("compleo_duo")
    sim = await start_simulator("vestel_evc04")
    result = await start_flow(hass, "vestel_evc04")
    result = await hass.config_entries.flow.async_configure(result["flow_id"], address(other.port))
    assert result["errors"] == {"base": "wrong_model"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_MODEL: "vestel_evc04", **address(sim.port)}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {CONF_MODEL: "vestel_evc04", **address(sim.port)}
    await hass.config_entries.async_unload(result["result"].entry_id)


@pytest.mark.parametrize(
    ("actual", "layout", "chosen", "found", "minimum", "fix"),
    [
        ("amperfied_home", None, "amperfied_business", "1.0.8", "2.0.0", "amperfied_home"),
        ("amperfied_home", (2, 0, 0), "amperfied_solar", "2.0.0", "2.0.1", "amperfied_home"),
        # no model takes layout 1.0.0: the firmware is updated
        ("amperfied_home", (1, 0, 0), "amperfied_home", "1.0.0", "1.0.8", None),
    ],
)
async def test_layout_too_old(
    hass: HomeAssistant,
    start_simulator: StartSimulator,
    actual: str,
    layout: tuple[int, ...] | None,
    chosen: str,
    found: str,
    minimum: str,
    fix: str | None,
) -> None:
    """A layout below the chosen model's minimum: refused, naming the layout and minimum.

    The form offers the model again: the model the box is, chosen there, adds it; or
    the box, updated, is added as the model chosen.
    """
    sim = await start_simulator(actual, **({"layout": layout} if layout else {}))
    result = await start_flow(hass, chosen)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], address(sim.port))
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "layout_too_old"}
    assert result["description_placeholders"] == {
        "model": CHARGER_MODELS[chosen].title,
        "layout": found,
        "minimum": minimum,
    }
    assert await settle(lambda: sim.server.open_connections == 0)
    assert sim.server.stats.writes_log == []
    assert model_field(result) is not None

    if fix is None:
        sim = await start_simulator(actual)  # the same box on current firmware
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_MODEL: fix or chosen, **address(sim.port)}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == TITLES[fix or chosen]
    await hass.config_entries.async_unload(result["result"].entry_id)


@pytest.mark.parametrize(
    ("actual", "kwargs", "serial"),
    [
        ("amperfied_home", {"layout": (2, 0, 0)}, "AMP-HOME-0001"),
        # The registers cannot tell home from business: the user's choice stands.
        ("amperfied_business", {"mid": False}, "AMP-BUSINESS-0001"),
    ],
)
async def test_connect_home_on_layout_2_0_0(
    hass: HomeAssistant,
    start_simulator: StartSimulator,
    actual: str,
    kwargs: dict[str, Any],
    serial: str,
) -> None:
    """A connect.home on current firmware (layout 2.0.0) is added with its serial number."""
    sim = await start_simulator(actual, **kwargs)
    sim.plug(1)
    result = await start_flow(hass, "amperfied_home")
    result = await hass.config_entries.flow.async_configure(result["flow_id"], address(sim.port))
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Amperfied connect.home"
    assert result["result"].unique_id == serial
    await hass.async_block_till_done()
    device = device_with(hass, serial)
    assert device is not None and device.serial_number == serial
    assert device.model == "connect.home"
    assert float(state_of(hass, "sensor.amperfied_connect_home_session_energy")) >= 0
    await hass.config_entries.async_unload(result["result"].entry_id)


async def test_already_configured_serial(
    hass: HomeAssistant, start_simulator: StartSimulator
) -> None:
    """The same box (serial number) under another address (here: another unit id)."""
    sim = await start_simulator("compleo_duo")
    entry = entry_for(sim, "compleo_duo")
    entry.add_to_hass(hass)
    result = await start_flow(hass, "compleo_duo")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], address(sim.port, unit_id=1)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_already_configured_address(
    hass: HomeAssistant, start_simulator: StartSimulator
) -> None:
    """A box without a serial number: the same host, port and unit id is refused."""
    sim = await start_simulator("amperfied_home")
    entry_for(sim, "amperfied_home").add_to_hass(hass)
    result = await start_flow(hass, "amperfied_home")
    result = await hass.config_entries.flow.async_configure(result["flow_id"], address(sim.port))
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    # Refused before probing: nothing connected.
    assert sim.server.stats.connections_accepted == 0


async def start_reconfigure(hass: HomeAssistant, entry: MockConfigEntry) -> ConfigFlowResult:
    """Start the reconfigure flow of an entry."""
    result: ConfigFlowResult = await entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    return result


async def test_reconfigure(hass: HomeAssistant, start_simulator: StartSimulator) -> None:
    """The box moved (another port): the entry follows, after checking it is the same box."""
    old = await start_simulator("amperfied_solar")
    entry = entry_for(old, "amperfied_solar")
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    await old.stop()
    new = await start_simulator("amperfied_solar")

    result = await start_reconfigure(hass, entry)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], address(new.port))
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_PORT] == new.port
    assert entry.state is ConfigEntryState.LOADED
    assert new.server.stats.max_concurrent == 1
    await hass.config_entries.async_unload(entry.entry_id)


async def test_reconfigure_same_address(
    hass: HomeAssistant, start_simulator: StartSimulator
) -> None:
    """Reconfiguring in place frees the entry's connection first (one connection allowed)."""
    sim = await start_simulator("amperfied_business")
    entry = entry_for(sim, "amperfied_business")
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    result = await start_reconfigure(hass, entry)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], address(sim.port))
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.state is ConfigEntryState.LOADED
    assert sim.server.stats.max_concurrent == 1
    assert sim.server.stats.connections_refused == 0
    await hass.config_entries.async_unload(entry.entry_id)


# (error, model of the entry): what the user got wrong on the reconfigure form.
RECONFIGURE_ERRORS = [
    ("cannot_connect", "compleo_solo"),
    ("timeout", "vestel_evc04"),
    ("modbus_error", "vestel_evc04"),
    ("unknown", "amperfied_solar"),
    ("wrong_model", "vestel_evc04"),
    ("layout_too_old", "amperfied_business"),
    ("wrong_device", "vestel_evc04"),
    ("already_configured", "amperfied_home"),
]


@pytest.mark.parametrize(
    ("error", "model_id"), RECONFIGURE_ERRORS, ids=[e for e, _ in RECONFIGURE_ERRORS]
)
async def test_reconfigure_error_then_success(
    hass: HomeAssistant, start_simulator: StartSimulator, error: str, model_id: str
) -> None:
    """Every error: shown on the form, the entry put back as it was; then the right address
    (here: the box's own) reconfigures the entry."""
    sim = await start_simulator(model_id)
    entry = entry_for(sim, model_id)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    wrong = address(free_port())
    probe_fails = False
    if error == "timeout":
        silent = await start_simulator(model_id)
        silent.server.faults.silent = True
        wrong = address(silent.port)
    elif error == "modbus_error":
        other = await start_simulator(model_id, unit_id=1)  # answers unit id 1 only
        wrong = address(other.port, unit_id=255)
    elif error == "unknown":
        wrong = address(sim.port)
        probe_fails = True
    elif error == "wrong_model":
        wrong = address((await start_simulator("compleo_duo")).port)
    elif error == "layout_too_old":
        wrong = address((await start_simulator("amperfied_home")).port)
    elif error == "wrong_device":
        other = await start_simulator(model_id)
        other.bank.set("serial_number", "EVC04-SIM-00002")
        wrong = address(other.port)
    elif error == "already_configured":
        other = await start_simulator(model_id)
        entry_for(other, model_id).add_to_hass(hass)
        wrong = address(other.port)

    result = await start_reconfigure(hass, entry)
    with (
        patch("custom_components.wallbox_modbus.config_flow.PROBE_TIMEOUT", 0.2),
        patch(
            "custom_components.wallbox_modbus.config_flow.create_charger",
            failing_probe if probe_fails else create_charger,
        ),
    ):
        result = await hass.config_entries.flow.async_configure(result["flow_id"], wrong)
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    field = CONF_HOST if error == "cannot_connect" else "base"
    assert result["errors"] == {field: error}
    assert entry.data[CONF_PORT] == sim.port
    assert entry.state is ConfigEntryState.LOADED

    result = await hass.config_entries.flow.async_configure(result["flow_id"], address(sim.port))
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_PORT] == sim.port
    assert entry.state is ConfigEntryState.LOADED
    assert sim.server.stats.connections_refused == 0
    await hass.config_entries.async_unload(entry.entry_id)


async def test_reconfigure_without_serial(
    hass: HomeAssistant, start_simulator: StartSimulator
) -> None:
    """A box without a serial number moves: nothing to compare, the entry stays keyed on itself."""
    old = await start_simulator("amperfied_home")
    entry = entry_for(old, "amperfied_home")
    entry.add_to_hass(hass)
    new = await start_simulator("amperfied_home")
    result = await start_reconfigure(hass, entry)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], address(new.port))
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_PORT] == new.port
    assert entry.unique_id is None
    await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.usefixtures("init_integration")
async def test_options(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, simulator: WallboxSimulator
) -> None:
    """The scan interval: at least 2 s, applied without a reload."""
    result = await hass.config_entries.options.async_init(mock_config_entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["data_schema"] is not None
    key = next(iter(result["data_schema"].schema))
    assert key.default() == 10

    with pytest.raises(InvalidData, match="scan_interval"):
        await hass.config_entries.options.async_configure(
            result["flow_id"], {CONF_SCAN_INTERVAL: 1}
        )

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_SCAN_INTERVAL: 30}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert mock_config_entry.options == {CONF_SCAN_INTERVAL: 30}
    coordinator = mock_config_entry.runtime_data.coordinator
    assert coordinator.update_interval.total_seconds() == 30


async def test_options_not_loaded(hass: HomeAssistant, start_simulator: StartSimulator) -> None:
    """Options of an entry that is not loaded are stored for its next setup."""
    sim = await start_simulator("vestel_evc04")
    entry = entry_for(sim, "vestel_evc04")
    entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_SCAN_INTERVAL: 5}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == {CONF_SCAN_INTERVAL: 5}
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.runtime_data.coordinator.update_interval.total_seconds() == 5
    await hass.config_entries.async_unload(entry.entry_id)


async def test_reconfigure_model_gone(hass: HomeAssistant) -> None:
    """An entry whose model's map is gone cannot be reconfigured: said so."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Old box",
        data={CONF_MODEL: "gone_model", **address(502)},
        version=1,
        minor_version=2,
    )
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "unknown_model"
