"""Switches of Wallbox Modbus: pause and resume charging, and the box's toggles.

A toggle (whitelist, card security, authentication) shows the state the box
reports and is switched by the box's on or off command; it is written only
when the user switches it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .charger import Charger, CurrentLimit, Toggle, pid
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


@dataclass(frozen=True, kw_only=True)
class WallboxToggleEntityDescription(WallboxEntityDescription, SwitchEntityDescription):
    """Describe a switch over a toggle of the box (the toggle of the same key)."""

    def exists(self, charger: Charger, connector: int | None) -> bool:
        """A toggle switch exists where the box has the toggle."""
        return pid(self.key, connector) in charger.toggles


def _toggle(key: str) -> WallboxToggleEntityDescription:
    return WallboxToggleEntityDescription(
        key=key, translation_key=key, entity_category=EntityCategory.CONFIG
    )


TOGGLES: tuple[WallboxToggleEntityDescription, ...] = (
    _toggle("rfid_whitelist_enabled"),
    _toggle("rfid_card_security_enabled"),
    _toggle("rfid_authentication_enabled"),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: WallboxConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up the switches the box serves."""
    coordinator = entry.runtime_data.coordinator
    async_add_entities(
        [
            *entities_for(coordinator, SWITCHES, WallboxSwitchEntity),
            *entities_for(coordinator, TOGGLES, WallboxToggleEntity),
        ]
    )


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


class WallboxToggleEntity(WallboxEntity, SwitchEntity):
    """A toggle of the box: its state as the box reports it, switched by its commands."""

    entity_description: WallboxToggleEntityDescription

    @property
    def _toggle(self) -> Toggle:
        return self.charger.toggles[pid(self.entity_description.key, self.connector)]

    @property
    def value_id(self) -> str:
        """The state the box reports (a bit of a status register)."""
        return self._toggle.state_id

    @property
    def is_on(self) -> bool | None:
        """Return the state the box reports."""
        return self._toggle.is_on(self.snapshot)

    @wallbox_command
    async def async_turn_on(self, **kwargs: Any) -> None:
        """Send the on command."""
        await self.charger.set_toggle(self.entity_description.key, True, self.connector)

    @wallbox_command
    async def async_turn_off(self, **kwargs: Any) -> None:
        """Send the off command."""
        await self.charger.set_toggle(self.entity_description.key, False, self.connector)
