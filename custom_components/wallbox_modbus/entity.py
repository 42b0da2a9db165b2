"""The base entity of Wallbox Modbus, and what every platform shares.

Entities are built from the charger's capabilities and the platform's
descriptions only: a description says which value or capability it shows
(by the catalog's key), never which family or register is behind it.  Every
entity reads the coordinator's snapshot and nothing else.

An entity writes its state only when what it shows changed: its availability,
its state or its attributes.  A refresh that changes one value writes one
state, not one per entity; long-term statistics do not need the rewrites
(they take the last state before each period).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass
from functools import wraps
from typing import Any, cast

from homeassistant.core import callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .charger import BusyError, Charger, ChargerError, InvalidValueError, Snapshot, pid
from .const import DOMAIN
from .coordinator import WallboxCoordinator


@dataclass(frozen=True, kw_only=True)
class WallboxEntityDescription(EntityDescription):
    """What every Wallbox Modbus entity description adds.

    ``exists_fn`` decides whether the entity is created for a connector
    (default: the box reports the value named by the key).
    """

    exists_fn: Callable[[Charger, int | None], bool] | None = None

    def exists(self, charger: Charger, connector: int | None) -> bool:
        """Whether this box (and connector) can serve the entity."""
        if self.exists_fn is not None:
            return self.exists_fn(charger, connector)
        return charger.serves(self.key, connector)


class WallboxEntity(CoordinatorEntity[WallboxCoordinator]):
    """One value or control of one box (or one of its connectors)."""

    _attr_has_entity_name = True
    entity_description: WallboxEntityDescription
    _written: tuple[Any, ...] | None = None  # what the last state write showed
    _own: frozenset[str] | None = None

    def __init__(
        self,
        *,
        coordinator: WallboxCoordinator,
        description: WallboxEntityDescription,
        connector: int | None,
    ) -> None:
        """Initialize the entity."""
        super().__init__(coordinator)
        self.entity_description = description
        self.connector = connector
        self._attr_unique_id = f"{coordinator.device_unique_id(connector)}_{description.key}"
        self._attr_device_info = coordinator.device_info(connector)

    @property
    def charger(self) -> Charger:
        """Return the box."""
        return self.coordinator.charger

    @property
    def snapshot(self) -> Snapshot:
        """What the last refresh (or write) published."""
        return self.coordinator.data

    @property
    def value_id(self) -> str:
        """The value whose last read decides availability."""
        return pid(self.entity_description.key, self.connector)

    def _has_reading(self) -> bool:
        """Whether the box answered and this entity's value was read in the last poll.

        A point the box stopped serving (dropped after exception 2) leaves the
        snapshot, so it is not a reading any more.
        """
        if not self.coordinator.last_update_success:
            return False
        snapshot = self.snapshot
        return self.value_id in snapshot.values and self.value_id not in snapshot.failed

    @property
    def available(self) -> bool:
        """Available while the box answers and this entity's value was read."""
        return self._has_reading()

    def _shown(self) -> tuple[Any, ...]:
        """What a state write would show: availability, state and attributes.

        The parts Home Assistant takes from the entity's properties at every
        write; names, units and icons do not change between refreshes (a change
        in the registry writes the state itself, through async_write_ha_state).
        """
        capabilities = self.capability_attributes
        if not self.available:
            return (False, capabilities)
        return (
            True,
            capabilities,
            self.state,
            self.state_attributes,
            self.extra_state_attributes,
        )

    def _inputs(self) -> frozenset[str] | None:
        """The value ids all it shows comes from (None: not known, always work it out).

        Availability comes from them too, and from the box answering at all.
        """
        return None

    def _own_value(self) -> frozenset[str]:
        """Inputs of an entity that shows its own value and nothing else."""
        if self._own is None:
            self._own = frozenset((self.value_id,))
        return self._own

    @callback
    def _handle_coordinator_update(self) -> None:
        """Write the state if the refresh changed what the entity shows."""
        changed, inputs = self.coordinator.changed, self._inputs()
        if changed is not None and inputs is not None and changed.isdisjoint(inputs):
            return  # none of its values changed: what it shows did not either
        shown = self._shown()
        if shown != self._written:
            self._written = shown
            super().async_write_ha_state()

    @callback
    def async_write_ha_state(self) -> None:
        """Write the state, and remember what it showed (every write, whatever the cause)."""
        self._written = self._shown()
        super().async_write_ha_state()


def entities_for[D: WallboxEntityDescription, E: WallboxEntity](
    coordinator: WallboxCoordinator,
    descriptions: Iterable[D],
    factory: Callable[..., E],
) -> list[E]:
    """One entity per description and connector that the box serves."""
    return [
        factory(coordinator=coordinator, description=description, connector=connector)
        for connector in coordinator.connectors
        for description in descriptions
        if description.exists(coordinator.charger, connector)
    ]


def wallbox_command[F: Callable[..., Coroutine[Any, Any, None]]](func: F) -> F:
    """Run a control: box errors become translated errors; re-read after a write."""

    @wraps(func)
    async def handler(self: WallboxEntity, *args: Any, **kwargs: Any) -> None:
        try:
            await func(self, *args, **kwargs)
        except InvalidValueError as err:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="invalid_value",
                translation_placeholders={
                    "entity": self.entity_id,
                    "value": str(err.value),
                    "allowed": err.allowed,
                },
            ) from err
        except BusyError as err:
            # Asked too soon (a phase switch still under way): usage, not a failure
            # of the box, so no traceback in the log.
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="busy",
                translation_placeholders={"error": str(err)},
            ) from err
        except ChargerError as err:
            await self.coordinator.async_after_write()  # show what the box has now
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="write_failed",
                translation_placeholders={"error": str(err)},
            ) from err
        await self.coordinator.async_after_write()

    return cast(F, handler)
