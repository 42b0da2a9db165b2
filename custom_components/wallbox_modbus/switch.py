"""Switches of Wallbox Modbus: pause and resume charging."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import STATE_OFF
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.restore_state import ExtraStoredData, RestoredExtraData, RestoreEntity

from .charger import Charger, ChargerError
from .const import LOGGER
from .coordinator import WallboxConfigEntry
from .entity import (
    WallboxEntity,
    WallboxEntityDescription,
    entities_for,
    limit_point,
    wallbox_command,
)

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class WallboxSwitchEntityDescription(WallboxEntityDescription, SwitchEntityDescription):
    """Describe a Wallbox Modbus switch."""

    is_on_fn: Callable[[Charger, int | None], bool | None]
    turn_on_fn: Callable[[Charger, int | None], Awaitable[None]]
    turn_off_fn: Callable[[Charger, int | None], Awaitable[None]]


SWITCHES: tuple[WallboxSwitchEntityDescription, ...] = (
    # Off writes a limit of 0; on writes back the last limit.
    WallboxSwitchEntityDescription(
        key="charging_enabled",
        translation_key="charging_enabled",
        has_fn=lambda charger, connector: limit_point(charger, connector) is not None,
        is_on_fn=lambda charger, connector: not charger.limit_state(connector).paused,
        turn_on_fn=lambda charger, connector: charger.resume(connector),
        turn_off_fn=lambda charger, connector: charger.pause(connector),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: WallboxConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up the switches the box serves."""
    async_add_entities(entities_for(entry.runtime_data.coordinator, SWITCHES, WallboxSwitchEntity))


class WallboxSwitchEntity(WallboxEntity, SwitchEntity, RestoreEntity):
    """Charging on or paused; the pause and the last limit survive a restart."""

    entity_description: WallboxSwitchEntityDescription

    @property
    def point_key(self) -> str:
        """The limit register (a current or a power)."""
        return limit_point(self.charger, self.connector) or self.entity_description.key

    async def async_added_to_hass(self) -> None:
        """Hand the charger what it knew before the restart."""
        await super().async_added_to_hass()
        extra = await self.async_get_last_extra_data()
        if extra is not None:
            data = extra.as_dict()
            last_limit = data.get("last_limit")
            self.charger.restore(
                self.connector,
                paused=bool(data.get("paused")),
                last_limit=float(last_limit) if isinstance(last_limit, (int, float)) else None,
            )
        elif (state := await self.async_get_last_state()) is not None:
            self.charger.restore(self.connector, paused=state.state == STATE_OFF, last_limit=None)
        else:
            return
        if self.charger.limit_state(self.connector).paused and self.charger.charging_current(
            self.connector
        ):
            # Paused before the restart, but the box offers current again: pause it again.
            self.coordinator.config_entry.async_create_task(
                self.hass, self._async_pause_again(), eager_start=False
            )
        self.coordinator.async_update_listeners()

    async def _async_pause_again(self) -> None:
        try:
            await self.charger.pause(self.connector)
        except ChargerError as err:
            LOGGER.warning("%s: the pause could not be applied again: %s", self.entity_id, err)
            return
        await self.coordinator.async_after_write()

    @property
    def extra_restore_state_data(self) -> ExtraStoredData:
        """Remember the pause and the last limit."""
        state = self.charger.limit_state(self.connector)
        return RestoredExtraData({"paused": state.paused, "last_limit": state.last_limit})

    @property
    def is_on(self) -> bool | None:
        """Return whether charging is allowed."""
        return self.entity_description.is_on_fn(self.charger, self.connector)

    @wallbox_command
    async def async_turn_on(self, **kwargs: Any) -> None:
        """Charge again at the last limit."""
        await self.entity_description.turn_on_fn(self.charger, self.connector)

    @wallbox_command
    async def async_turn_off(self, **kwargs: Any) -> None:
        """Pause charging."""
        await self.entity_description.turn_off_fn(self.charger, self.connector)
