"""Selects of Wallbox Modbus: the phase switch."""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.components.select import SelectEntity, SelectEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .charger import PhaseSwitch
from .const import DOMAIN
from .coordinator import WallboxConfigEntry
from .entity import WallboxEntity, WallboxEntityDescription, entities_for, wallbox_command

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class WallboxSelectEntityDescription(WallboxEntityDescription, SelectEntityDescription):
    """Describe a Wallbox Modbus select."""


SELECTS: tuple[WallboxSelectEntityDescription, ...] = (
    WallboxSelectEntityDescription(
        key="phases",
        translation_key="phases",
        options=["1", "3"],
        exists_fn=lambda charger, connector: charger.phase_switch is not None
        and charger.phase_switch.connector == connector,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: WallboxConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up the selects the box serves."""
    async_add_entities(entities_for(entry.runtime_data.coordinator, SELECTS, WallboxSelectEntity))


class WallboxSelectEntity(WallboxEntity, SelectEntity):
    """The phases the box charges on."""

    entity_description: WallboxSelectEntityDescription

    @property
    def _switch(self) -> PhaseSwitch:
        assert self.charger.phase_switch is not None
        return self.charger.phase_switch

    @property
    def value_id(self) -> str:
        """The phase switch state: unknown while the box switches."""
        return self._switch.state.id

    @property
    def options(self) -> list[str]:
        """The choices the box offers."""
        return self._switch.options

    @property
    def current_option(self) -> str | None:
        """Return the choice in force (None while it changes)."""
        return self._switch.current(self.snapshot)

    @wallbox_command
    async def async_select_option(self, option: str) -> None:
        """Refuse while a previous change is in progress, else make the choice."""
        wait = self._switch.wait(self.snapshot.values)
        if wait > 0:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="phase_switch_busy",
                translation_placeholders={"seconds": f"{wait:.0f}"},
            )
        await self.charger.set_phases(option)
