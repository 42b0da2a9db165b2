"""Buttons of Wallbox Modbus: commands the box takes (teach a card, accept the card presented).

A command is written only when the button is pressed (by the user or an
automation), never by the integration on its own.

Checking the box against its register map: a diagnostic button on the box's
device starts a run (nothing is written); a second one, disabled by default,
runs it with the write test of the current limit (opt-in).
"""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .charger import Charger, pid
from .coordinator import WallboxConfigEntry
from .entity import WallboxEntity, WallboxEntityDescription, entities_for, wallbox_command

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class WallboxButtonEntityDescription(WallboxEntityDescription, ButtonEntityDescription):
    """Describe a Wallbox Modbus button: the command of the same key."""

    def exists(self, charger: Charger, connector: int | None) -> bool:
        """A button exists where the box takes its command."""
        return pid(self.key, connector) in charger.commands


def _command(key: str, *, category: EntityCategory | None = None) -> WallboxButtonEntityDescription:
    return WallboxButtonEntityDescription(key=key, translation_key=key, entity_category=category)


BUTTONS: tuple[WallboxButtonEntityDescription, ...] = (
    # The card presented, when authentication leaves the decision to Home Assistant.
    _command("rfid_card_accept"),
    _command("rfid_card_reject"),
    # Setting up cards.
    _command("rfid_teach_start", category=EntityCategory.CONFIG),
    _command("rfid_teach_cancel", category=EntityCategory.CONFIG),
    _command("rfid_card_allow", category=EntityCategory.CONFIG),
)


@dataclass(frozen=True, kw_only=True)
class WallboxVerifyButtonEntityDescription(WallboxEntityDescription, ButtonEntityDescription):
    """Describe a button that checks the box against its register map."""

    write_test: bool = False  # also write the current limit, read it back and restore it


VERIFY_BUTTONS: tuple[WallboxVerifyButtonEntityDescription, ...] = (
    WallboxVerifyButtonEntityDescription(
        key="verify",
        translation_key="verify",
        entity_category=EntityCategory.DIAGNOSTIC,
        exists_fn=lambda charger, connector: connector is None,
    ),
    WallboxVerifyButtonEntityDescription(
        key="verify_write_test",
        translation_key="verify_write_test",
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        write_test=True,
        exists_fn=lambda charger, connector: connector is None and bool(charger.limits),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: WallboxConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up the buttons of the commands the box takes, and of the check against its map."""
    coordinator = entry.runtime_data.coordinator
    async_add_entities(
        [
            *entities_for(coordinator, BUTTONS, WallboxButtonEntity),
            *entities_for(coordinator, VERIFY_BUTTONS, WallboxVerifyButtonEntity),
        ]
    )


class WallboxButtonEntity(WallboxEntity, ButtonEntity):
    """One command of the box."""

    entity_description: WallboxButtonEntityDescription

    @property
    def available(self) -> bool:
        """Available while the box answers (a command has no reading of its own)."""
        return self.coordinator.last_update_success

    @wallbox_command
    async def async_press(self) -> None:
        """Send the command."""
        await self.charger.send_command(self.entity_description.key, self.connector)


class WallboxVerifyButtonEntity(WallboxEntity, ButtonEntity):
    """Start a check of the box against its register map (progress in its sensors)."""

    entity_description: WallboxVerifyButtonEntityDescription

    @property
    def available(self) -> bool:
        """Available while the box answers."""
        return self.coordinator.last_update_success

    async def async_press(self) -> None:
        """Start the check; it runs in the background."""
        runner = self.coordinator.config_entry.runtime_data.verification
        runner.async_start(write_test=self.entity_description.write_test)
