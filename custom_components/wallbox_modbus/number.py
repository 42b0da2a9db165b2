"""Numbers of Wallbox Modbus: the current limit and the box's settings."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.number import (
    NumberDeviceClass,
    NumberEntity,
    NumberEntityDescription,
    NumberMode,
)
from homeassistant.const import (
    EntityCategory,
    UnitOfElectricCurrent,
    UnitOfPower,
    UnitOfTime,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .charger import Charger, pid
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
class WallboxNumberEntityDescription(WallboxEntityDescription, NumberEntityDescription):
    """Describe a Wallbox Modbus number.

    ``range_fn`` gives the lowest and highest value, ``check_fn`` refuses a
    value the box would not take (raising InvalidValueError) before
    ``set_fn`` writes anything.
    """

    range_fn: Callable[[Charger, int | None], tuple[float, float]]
    value_fn: Callable[[Charger, int | None], float | None]
    check_fn: Callable[[Charger, int | None, float], object]
    set_fn: Callable[[Charger, int | None, float], Awaitable[None]]


# ------------------------------------------------------------------ the current limit


def _limit_value(charger: Charger, connector: int | None) -> float | None:
    """The limit in force; while paused (or below the minimum) the last one set.

    A reading below the lowest limit means "paused", not a limit worth showing.
    """
    state = charger.limit_state(connector)
    low, _ = charger.current_range(connector)
    current = charger.charging_current(connector)
    if not state.paused and current is not None and current >= low:
        return current
    return state.last_limit


CHARGING_CURRENT = WallboxNumberEntityDescription(
    key="charging_current",
    translation_key="charging_current",
    device_class=NumberDeviceClass.CURRENT,
    native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
    mode=NumberMode.SLIDER,  # "auto" turns 0.1 A steps over 6-32 A into a box
    has_fn=lambda charger, connector: limit_point(charger, connector) is not None,
    range_fn=lambda charger, connector: charger.current_range(connector),
    value_fn=_limit_value,
    check_fn=lambda charger, connector, value: charger.check_current(value, connector),
    set_fn=lambda charger, connector, value: charger.set_charging_current(value, connector),
)


# ------------------------------------------------------------------ settings


def _setting_range(key: str) -> Callable[[Charger, int | None], tuple[float, float]]:
    """The lowest and highest value the map allows for a setting."""

    def range_fn(charger: Charger, connector: int | None) -> tuple[float, float]:
        point = charger.point(key, connector)
        assert point.write is not None
        raws = [*point.write.values, *(r for pair in point.write.ranges for r in pair)]
        return min(raws) * point.scale, max(raws) * point.scale

    return range_fn


def _setting(
    key: str,
    *,
    device_class: NumberDeviceClass,
    unit: str,
    step: float | None = None,
    category: EntityCategory | None = EntityCategory.CONFIG,
) -> WallboxNumberEntityDescription:
    """A setting written as it is; the step is the register's resolution unless given."""
    return WallboxNumberEntityDescription(
        key=key,
        translation_key=key,
        device_class=device_class,
        native_unit_of_measurement=unit,
        native_step=step,
        entity_category=category,
        mode=NumberMode.BOX,
        range_fn=_setting_range(key),
        value_fn=lambda charger, connector: charger.values.get(pid(key, connector)),
        check_fn=lambda charger, connector, value: charger.validate(
            charger.point(key, connector), value
        ),
        set_fn=lambda charger, connector, value: charger.write_setting(key, value, connector),
    )


NUMBERS: tuple[WallboxNumberEntityDescription, ...] = (
    CHARGING_CURRENT,
    # Vestel EVC04 and Amperfied
    _setting(
        "failsafe_current",
        device_class=NumberDeviceClass.CURRENT,
        unit=UnitOfElectricCurrent.AMPERE,
    ),
    # Vestel EVC04
    _setting("failsafe_timeout", device_class=NumberDeviceClass.DURATION, unit=UnitOfTime.SECONDS),
    # Amperfied (milliseconds on the wire, whole seconds in the form)
    _setting(
        "watchdog_timeout",
        device_class=NumberDeviceClass.DURATION,
        unit=UnitOfTime.SECONDS,
        step=1,
    ),
    # Compleo station
    _setting("station_max_power", device_class=NumberDeviceClass.POWER, unit=UnitOfPower.WATT),
    _setting("fallback_power", device_class=NumberDeviceClass.POWER, unit=UnitOfPower.WATT),
    _setting("fallback_timeout", device_class=NumberDeviceClass.DURATION, unit=UnitOfTime.SECONDS),
    # Compleo connectors
    _setting(
        "max_power", device_class=NumberDeviceClass.POWER, unit=UnitOfPower.WATT, category=None
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: WallboxConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up the numbers the box serves."""
    async_add_entities(entities_for(entry.runtime_data.coordinator, NUMBERS, WallboxNumberEntity))


class WallboxNumberEntity(WallboxEntity, NumberEntity):
    """A limit or setting of the box."""

    entity_description: WallboxNumberEntityDescription

    def __init__(self, **kwargs: Any) -> None:
        """Initialize the number; the limit's step follows the box's resolution."""
        super().__init__(**kwargs)
        description = self.entity_description
        if description.key == CHARGING_CURRENT.key:
            self._attr_native_step = self.charger.current_step(self.connector)
        elif description.native_step is None:
            self._attr_native_step = self.charger.point(description.key, self.connector).scale

    @property
    def point_key(self) -> str:
        """The limit lives in a power register on some boxes."""
        if self.entity_description.key == CHARGING_CURRENT.key:
            return limit_point(self.charger, self.connector) or CHARGING_CURRENT.key
        return super().point_key

    @property
    def native_min_value(self) -> float:
        """Return the lowest value the box takes (above zero for a limit)."""
        return self.entity_description.range_fn(self.charger, self.connector)[0]

    @property
    def native_max_value(self) -> float:
        """Return the highest value the box takes."""
        return self.entity_description.range_fn(self.charger, self.connector)[1]

    @property
    def native_value(self) -> float | None:
        """Return the value in force."""
        return self.entity_description.value_fn(self.charger, self.connector)

    @wallbox_command
    async def async_set_native_value(self, value: float) -> None:
        """Check the value against the box's rules, then write it."""
        description = self.entity_description
        description.check_fn(self.charger, self.connector, value)
        await description.set_fn(self.charger, self.connector, value)
