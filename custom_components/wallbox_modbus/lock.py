"""Locks of Wallbox Modbus: the Amperfied remote lock."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.lock import LockEntity, LockEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .charger import AmperfiedCharger, Charger, pid
from .coordinator import WallboxConfigEntry
from .entity import WallboxEntity, WallboxEntityDescription, entities_for, wallbox_command

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class WallboxLockEntityDescription(WallboxEntityDescription, LockEntityDescription):
    """Describe a Wallbox Modbus lock."""

    is_locked_fn: Callable[[Charger, int | None], bool | None]
    lock_fn: Callable[[Charger, bool], Awaitable[None]]


def _is_locked(charger: Charger, connector: int | None) -> bool | None:
    value = charger.values.get(pid("remote_lock", connector))
    return None if value is None else value == "locked"


async def _set_remote_lock(charger: Charger, locked: bool) -> None:
    assert isinstance(charger, AmperfiedCharger)
    await charger.set_remote_lock(locked)


LOCKS: tuple[WallboxLockEntityDescription, ...] = (
    # Locked: the box does not charge, whatever the limit.
    WallboxLockEntityDescription(
        key="remote_lock",
        translation_key="remote_lock",
        has_fn=lambda charger, connector: isinstance(charger, AmperfiedCharger)
        and charger.has("remote_lock", connector),
        is_locked_fn=_is_locked,
        lock_fn=_set_remote_lock,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: WallboxConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up the locks the box serves."""
    async_add_entities(entities_for(entry.runtime_data.coordinator, LOCKS, WallboxLockEntity))


class WallboxLockEntity(WallboxEntity, LockEntity):
    """A lock of the box."""

    entity_description: WallboxLockEntityDescription

    @property
    def is_locked(self) -> bool | None:
        """Return whether the box is locked."""
        return self.entity_description.is_locked_fn(self.charger, self.connector)

    @wallbox_command
    async def async_lock(self, **kwargs: Any) -> None:
        """Lock the box."""
        await self.entity_description.lock_fn(self.charger, True)

    @wallbox_command
    async def async_unlock(self, **kwargs: Any) -> None:
        """Unlock the box."""
        await self.entity_description.lock_fn(self.charger, False)
