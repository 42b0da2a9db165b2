"""DHCP discovery: Amperfied boxes announce the host name HDM-SMART-CONNECT-<MAC suffix>.

The flows run against simulators over real TCP; the DHCP packet itself is what
Home Assistant's dhcp integration would hand over (host name lower case, MAC
address lower case without colons).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from homeassistant.config_entries import (
    SOURCE_DHCP,
    SOURCE_IGNORE,
    ConfigEntryState,
    ConfigFlowResult,
)
from homeassistant.const import CONF_HOST, CONF_MAC, CONF_PORT
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.service_info.dhcp import DhcpServiceInfo
from homeassistant.loader import async_get_dhcp

from custom_components.wallbox_modbus.const import CONF_MODEL, CONF_UNIT_ID, DOMAIN

from .conftest import StartSimulator, entry_for, settle

ROOT = Path(__file__).resolve().parents[2]
MAC = "00:60:34:f4:31:f2"
AMPERFIED = ["amperfied_home", "amperfied_business", "amperfied_solar"]


def dhcp(ip: str = "127.0.0.1", hostname: str = "hdm-smart-connect-f431f2") -> DhcpServiceInfo:
    """What the dhcp integration hands over for the box of the document's example."""
    return DhcpServiceInfo(ip=ip, hostname=hostname, macaddress="006034f431f2")


async def discover(hass: HomeAssistant, info: DhcpServiceInfo | None = None) -> ConfigFlowResult:
    result: ConfigFlowResult = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_DHCP}, data=info or dhcp()
    )
    return result


def confirm(model_id: str, port: int, host: str = "127.0.0.1") -> dict[str, Any]:
    return {CONF_MODEL: model_id, CONF_HOST: host, CONF_PORT: port, CONF_UNIT_ID: 255}


async def test_manifest_matcher_reaches_the_flow(hass: HomeAssistant) -> None:
    """Home Assistant's loader sees the integration's matcher (lower case, as dhcp compares)."""
    matchers = [m for m in await async_get_dhcp(hass) if m["domain"] == DOMAIN]
    assert matchers == [{"domain": DOMAIN, "hostname": "hdm-smart-connect-*"}]
    manifest = json.loads(
        (ROOT / "custom_components" / DOMAIN / "manifest.json").read_text(encoding="utf-8")
    )
    assert manifest["dhcp"] == [{"hostname": "hdm-smart-connect-*"}]


@pytest.mark.parametrize("model_id", AMPERFIED)
async def test_discovered_box_is_added(
    hass: HomeAssistant, start_simulator: StartSimulator, model_id: str
) -> None:
    """The user picks the variant (the name does not tell it); the host is prefilled."""
    sim = await start_simulator(model_id)
    result = await discover(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "dhcp_confirm"
    assert result["description_placeholders"] == {
        "name": "HDM-SMART-CONNECT-F431F2",
        "host": "127.0.0.1",
    }
    flow = hass.config_entries.flow.async_get(result["flow_id"])
    assert flow["context"]["title_placeholders"] == {"name": "Amperfied HDM-SMART-CONNECT-F431F2"}
    assert result["data_schema"] is not None
    fields = {str(key): key for key in result["data_schema"].schema}
    assert list(fields) == [CONF_MODEL, CONF_HOST, CONF_PORT, CONF_UNIT_ID]
    assert fields[CONF_HOST].description["suggested_value"] == "127.0.0.1"
    options = result["data_schema"].schema[fields[CONF_MODEL]].config["options"]
    assert [option["value"] for option in options] == AMPERFIED

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], confirm(model_id, sim.port)
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    assert entry.data == {
        CONF_MODEL: model_id,
        CONF_HOST: "127.0.0.1",
        CONF_PORT: sim.port,
        CONF_UNIT_ID: 255,
        CONF_MAC: MAC,
    }
    # The serial number, or none (layout 1.0.x): never the MAC address the flow was known by.
    expected = None if model_id == "amperfied_home" else sim.bank.get("serial_number")
    assert entry.unique_id == expected
    assert entry.state is ConfigEntryState.LOADED
    # The box's device carries the MAC address as its connection.
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    assert [d.connections for d in devices] == [{(dr.CONNECTION_NETWORK_MAC, MAC)}]
    assert sim.server.stats.max_concurrent == 1
    await hass.config_entries.async_unload(entry.entry_id)


async def test_discovered_box_wrong_variant_then_right(
    hass: HomeAssistant, start_simulator: StartSimulator
) -> None:
    """The wrong variant chosen: the error on the same form, then the right one adds it."""
    sim = await start_simulator("amperfied_solar")
    result = await discover(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], confirm("amperfied_home", sim.port)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "dhcp_confirm"
    assert result["errors"] == {"base": "wrong_model"}
    assert await settle(lambda: sim.server.open_connections == 0)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], confirm("amperfied_solar", sim.port)
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Amperfied connect.solar"
    await hass.config_entries.async_unload(result["result"].entry_id)


async def test_discovered_box_not_answering_then_answering(
    hass: HomeAssistant, start_simulator: StartSimulator
) -> None:
    """Modbus TCP not switched on yet (the port is closed): cannot_connect, then added."""
    sim = await start_simulator("amperfied_solar")
    port = sim.port
    await sim.stop()
    result = await discover(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], confirm("amperfied_solar", port)
    )
    assert result["errors"] == {CONF_HOST: "cannot_connect"}
    again = await start_simulator("amperfied_solar")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], confirm("amperfied_solar", again.port)
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.config_entries.async_unload(result["result"].entry_id)


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "hdm-smart-connect-f431f2", "HDM-SMART-CONNECT-F431F2.fritz.box"]
)
async def test_configured_box_is_recognised_by_address_or_name(
    hass: HomeAssistant, start_simulator: StartSimulator, host: str
) -> None:
    """An entry that reaches the box by this IP address or host name: aborted, and the
    box's MAC address recorded so that the entry can follow it to another address."""
    sim = await start_simulator("amperfied_home")
    entry = entry_for(sim, "amperfied_home")
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(entry, data={**entry.data, CONF_HOST: host})
    result = await discover(hass)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert entry.data[CONF_HOST] == host
    assert entry.data[CONF_MAC] == MAC
    assert sim.server.stats.connections_accepted == 0  # nothing probed


async def test_configured_box_follows_a_new_ip_address(
    hass: HomeAssistant, start_simulator: StartSimulator
) -> None:
    """discovery-update-info: the box known by its MAC address got another IP address."""
    sim = await start_simulator("amperfied_solar")
    entry = entry_for(sim, "amperfied_solar")
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        entry, data={**entry.data, CONF_HOST: "127.0.0.2", CONF_MAC: MAC}
    )
    result = await discover(hass, dhcp(ip="127.0.0.1"))
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    await hass.async_block_till_done()
    assert entry.data[CONF_HOST] == "127.0.0.1"
    # Reloaded at the new address.
    assert entry.state is ConfigEntryState.LOADED
    assert sim.server.open_connections == 1
    await hass.config_entries.async_unload(entry.entry_id)


async def test_configured_box_by_name_keeps_its_name(
    hass: HomeAssistant, start_simulator: StartSimulator
) -> None:
    """An entry that reaches the box by its host name follows it already: nothing changes."""
    sim = await start_simulator("amperfied_solar")
    entry = entry_for(sim, "amperfied_solar")
    entry.add_to_hass(hass)
    data = {**entry.data, CONF_HOST: "hdm-smart-connect-f431f2.fritz.box", CONF_MAC: MAC}
    hass.config_entries.async_update_entry(entry, data=data)
    result = await discover(hass, dhcp(ip="192.0.2.7"))
    assert result["reason"] == "already_configured"
    assert dict(entry.data) == data
    assert entry.state is ConfigEntryState.NOT_LOADED  # not reloaded


async def test_configured_box_waiting_for_retry_is_retried(
    hass: HomeAssistant, start_simulator: StartSimulator
) -> None:
    """A box that was off at startup announces itself: the entry is set up at once."""
    sim = await start_simulator("amperfied_business")
    port = sim.port
    await sim.stop()
    entry = entry_for(sim, "amperfied_business")
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    back = await start_simulator("amperfied_business", port=port)
    result = await discover(hass)
    assert result["reason"] == "already_configured"
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert back.server.open_connections == 1
    await hass.config_entries.async_unload(entry.entry_id)


async def test_moved_box_with_serial_updates_its_entry(
    hass: HomeAssistant, start_simulator: StartSimulator
) -> None:
    """An entry known by an old IP address and no MAC yet (retrying, the box is gone from
    there): the probe's serial number finds it, and it moves to the discovered address."""
    sim = await start_simulator("amperfied_business")
    entry = entry_for(sim, "amperfied_business")
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(entry, data={**entry.data, CONF_HOST: "127.0.0.2"})
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    result = await discover(hass)
    assert result["step_id"] == "dhcp_confirm"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], confirm("amperfied_business", sim.port)
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert entry.data[CONF_HOST] == "127.0.0.1"
    assert entry.data[CONF_MAC] == MAC
    assert len(hass.config_entries.async_entries(DOMAIN)) == 1
    assert entry.state is ConfigEntryState.LOADED
    await hass.config_entries.async_unload(entry.entry_id)


async def test_one_flow_per_box_and_ignore_sticks(hass: HomeAssistant) -> None:
    """A second announcement of the same box joins the first flow; an ignored box stays
    ignored."""
    result = await discover(hass)
    assert result["step_id"] == "dhcp_confirm"
    second = await discover(hass)
    assert second["type"] is FlowResultType.ABORT
    assert second["reason"] == "already_in_progress"
    hass.config_entries.flow.async_abort(result["flow_id"])

    ignored = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_IGNORE},
        data={"unique_id": MAC, "title": "HDM-SMART-CONNECT-F431F2"},
    )
    assert ignored["type"] is FlowResultType.CREATE_ENTRY
    result = await discover(hass)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_unknown_host_name_is_not_supported(hass: HomeAssistant) -> None:
    """Only names a register map claims start a flow (the manifest lists the same)."""
    result = await discover(hass, dhcp(hostname="evc04-garage"))
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "not_supported"
