"""Selects of Wallbox Modbus: the phase switch of the Amperfied connect.solar."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from homeassistant.components.select import SelectEntity, SelectEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .charger import AmperfiedCharger, Charger, pid
from .const import DOMAIN
from .coordinator import WallboxConfigEntry
from .entity import WallboxEntity, WallboxEntityDescription, entities_for, wallbox_command

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class WallboxSelectEntityDescription(WallboxEntityDescription, SelectEntityDescription):
    """Describe a Wallbox Modbus select.

    ``wait_fn`` gives the seconds until the box takes a new choice (0: now).
    """

    current_fn: Callable[[Charger, int | None], str | None]
    wait_fn: Callable[[Charger], float]
    select_fn: Callable[[Charger, str], Awaitable[None]]


def _phases(charger: Charger, connector: int | None) -> str | None:
    """'1' or '3'; None while the box is switching."""
    value = charger.values.get(pid("phase_switch_state", connector))
    return value if value in ("1", "3") else None


def _phase_switch_wait(charger: Charger) -> float:
    assert isinstance(charger, AmperfiedCharger)
    return charger.phase_switch_wait()


async def _set_phases(charger: Charger, option: str) -> None:
    assert isinstance(charger, AmperfiedCharger)
    await charger.set_phases(int(option))


SELECTS: tuple[WallboxSelectEntityDescription, ...] = (
    WallboxSelectEntityDescription(
        key="phases",
        translation_key="phases",
        options=["1", "3"],
        point="phase_switch_state",
        has_fn=lambda charger, connector: isinstance(charger, AmperfiedCharger)
        and charger.has("phase_switch", connector)
        and charger.has("phase_switch_state", connector),
        current_fn=_phases,
        wait_fn=_phase_switch_wait,
        select_fn=_set_phases,
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
    """A choice the box offers."""

    entity_description: WallboxSelectEntityDescription

    @property
    def current_option(self) -> str | None:
        """Return the choice in force (None while it changes)."""
        return self.entity_description.current_fn(self.charger, self.connector)

    @wallbox_command
    async def async_select_option(self, option: str) -> None:
        """Refuse while a previous change is in progress, else make the choice."""
        wait = self.entity_description.wait_fn(self.charger)
        if wait > 0:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="phase_switch_busy",
                translation_placeholders={"seconds": f"{wait:.0f}"},
            )
        await self.entity_description.select_fn(self.charger, option)
