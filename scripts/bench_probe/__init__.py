"""Counters for scripts/bench_scale.py, loaded only in the benchmark's config dirs.

``state_reported`` cannot be subscribed to over the websocket (Home Assistant
requires an event filter for it), so this component counts in-process:

- state writes: ``state_changed`` and ``state_reported``, all of them and
  those of ``wallbox_modbus`` entities.  The counting happens in the event
  filter, which answers False: no event object and no listener job is ever
  made, so the probe costs a function call per write;
- refreshes of ``wallbox_modbus`` coordinators (``DataUpdateCoordinator._async_refresh``
  is wrapped), independent of the integration's version under test.

``{"type": "bench_probe/counts"}`` over the websocket returns the counters.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import voluptuous as vol
from homeassistant.components.websocket_api import async_register_command
from homeassistant.components.websocket_api.connection import ActiveConnection
from homeassistant.components.websocket_api.decorators import websocket_command
from homeassistant.const import EVENT_STATE_CHANGED, EVENT_STATE_REPORTED
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.typing import ConfigType
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator

DOMAIN = "bench_probe"
WATCHED = "wallbox_modbus"


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Start counting."""
    counts: dict[str, int] = {
        "state_changed": 0,
        "state_reported": 0,
        "own_changed": 0,
        "own_reported": 0,
        "refreshes": 0,
    }
    registry = er.async_get(hass)
    own: dict[str, bool] = {}

    def is_own(entity_id: str) -> bool:
        known = own.get(entity_id)
        if known is None:
            entry = registry.async_get(entity_id)
            known = own[entity_id] = entry is not None and entry.platform == WATCHED
        return known

    @callback
    def changed(data: Mapping[str, Any]) -> bool:
        counts["state_changed"] += 1
        if is_own(data["entity_id"]):
            counts["own_changed"] += 1
        return False

    @callback
    def reported(data: Mapping[str, Any]) -> bool:
        counts["state_reported"] += 1
        if is_own(data["entity_id"]):
            counts["own_reported"] += 1
        return False

    @callback
    def never(_event: Any) -> None:  # pragma: no cover - the filters answer False
        """Not called: the filters count and answer False."""

    hass.bus.async_listen(EVENT_STATE_CHANGED, never, event_filter=changed)
    hass.bus.async_listen(EVENT_STATE_REPORTED, never, event_filter=reported)

    original = DataUpdateCoordinator._async_refresh

    async def counted(self: DataUpdateCoordinator[Any], *args: Any, **kwargs: Any) -> None:
        entry = self.config_entry
        if entry is not None and entry.domain == WATCHED:
            counts["refreshes"] += 1
        await original(self, *args, **kwargs)

    DataUpdateCoordinator._async_refresh = counted  # type: ignore[method-assign]

    @websocket_command({vol.Required("type"): f"{DOMAIN}/counts"})
    @callback
    def ws_counts(hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]) -> None:
        entities = sum(1 for state in hass.states.async_all() if is_own(state.entity_id))
        connection.send_result(msg["id"], {**counts, "own_entities": entities})

    async_register_command(hass, ws_counts)
    return True
