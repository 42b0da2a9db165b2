"""Locks of Wallbox Modbus: the remote lock."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from homeassistant.components.lock import LockEntity, LockEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .charger import RemoteLock
from .coordinator import WallboxConfigEntry
from .entity import WallboxEntity, WallboxEntityDescription, entities_for, wallbox_command

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class WallboxLockEntityDescription(WallboxEntityDescription, LockEntityDescription):
    """Describe a Wallbox Modbus lock."""


LOCKS: tuple[WallboxLockEntityDescription, ...] = (
    # Locked: the box does not charge, whatever the limit.
    WallboxLockEntityDescription(
        key="remote_lock",
        translation_key="remote_lock",
        exists_fn=lambda charger, connector: charger.remote_lock is not None
        and charger.remote_lock.connector == connector,
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
    def _lock(self) -> RemoteLock:
        assert self.charger.remote_lock is not None
        return self.charger.remote_lock

    @property
    def value_id(self) -> str:
        """The lock register."""
        return self._lock.point.id

    @property
    def is_locked(self) -> bool | None:
        """Return whether the box is locked."""
        return self._lock.is_locked(self.snapshot)

    @wallbox_command
    async def async_lock(self, **kwargs: Any) -> None:
        """Lock the box."""
        await self.charger.set_remote_lock(True)

    @wallbox_command
    async def async_unlock(self, **kwargs: Any) -> None:
        """Unlock the box."""
        await self.charger.set_remote_lock(False)
