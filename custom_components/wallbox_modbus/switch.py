"""Switches of Wallbox Modbus: pause and resume charging."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .charger import CurrentLimit
from .coordinator import WallboxConfigEntry
from .entity import WallboxEntity, WallboxEntityDescription, entities_for, wallbox_command

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class WallboxSwitchEntityDescription(WallboxEntityDescription, SwitchEntityDescription):
    """Describe a Wallbox Modbus switch."""


SWITCHES: tuple[WallboxSwitchEntityDescription, ...] = (
    # Off writes the limit's pause value; on writes back the last limit.
    WallboxSwitchEntityDescription(
        key="charging_enabled",
        translation_key="charging_enabled",
        exists_fn=lambda charger, connector: connector in charger.limits,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: WallboxConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up the switches the box serves."""
    async_add_entities(entities_for(entry.runtime_data.coordinator, SWITCHES, WallboxSwitchEntity))


class WallboxSwitchEntity(WallboxEntity, SwitchEntity):
    """Charging on or paused: the user's wish, which the box is brought back to."""

    entity_description: WallboxSwitchEntityDescription

    @property
    def _limit(self) -> CurrentLimit:
        return self.charger.limits[self.connector]

    @property
    def value_id(self) -> str:
        """The limit register (a current or a power)."""
        return self._limit.point.id

    @property
    def is_on(self) -> bool | None:
        """Return whether charging is allowed."""
        wish = self.snapshot.wish(self.connector)
        if wish.paused is not None:
            return not wish.paused
        observed = self._limit.observed(self.snapshot.values)
        return None if observed is None else observed > 0

    @wallbox_command
    async def async_turn_on(self, **kwargs: Any) -> None:
        """Charge again at the last limit."""
        await self.charger.resume(self.connector)

    @wallbox_command
    async def async_turn_off(self, **kwargs: Any) -> None:
        """Pause charging."""
        await self.charger.pause(self.connector)
