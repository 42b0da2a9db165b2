"""Numbers of Wallbox Modbus: the current limit and the box's settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from homeassistant.components.number import (
    NumberDeviceClass,
    NumberEntity,
    NumberEntityDescription,
    NumberMode,
)
from homeassistant.const import (
    PERCENTAGE,
    EntityCategory,
    UnitOfElectricCurrent,
    UnitOfPower,
    UnitOfTime,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .charger import Charger, CurrentLimit, Setting, Snapshot, pid
from .coordinator import WallboxConfigEntry
from .entity import WallboxEntity, WallboxEntityDescription, entities_for, wallbox_command

PARALLEL_UPDATES = 1


class NumberControl(Protocol):
    """What a number shows and sets, in the user's units."""

    @property
    def value_id(self) -> str: ...

    @property
    def step(self) -> float: ...

    def range(self, snapshot: Snapshot) -> tuple[float, float]: ...

    def value(self, snapshot: Snapshot) -> float | None: ...

    async def set(self, value: float) -> None: ...


class _Limit:
    """The current limit in amperes; while paused the limit that resuming restores."""

    def __init__(self, charger: Charger, limit: CurrentLimit) -> None:
        self._charger = charger
        self._limit = limit

    @property
    def value_id(self) -> str:
        return self._limit.point.id

    @property
    def step(self) -> float:
        return self._limit.step

    def range(self, snapshot: Snapshot) -> tuple[float, float]:
        return self._limit.range(snapshot.values)

    def value(self, snapshot: Snapshot) -> float | None:
        return self._limit.shown(snapshot)

    async def set(self, value: float) -> None:
        await self._charger.set_charging_current(value, self._limit.connector)


class _LimitPower(_Limit):
    """The same limit as the power the register holds."""

    def __init__(self, charger: Charger, limit: CurrentLimit) -> None:
        super().__init__(charger, limit)
        self._setting = Setting(limit.point, charger.reader)

    @property
    def step(self) -> float:
        return self._setting.step

    def range(self, snapshot: Snapshot) -> tuple[float, float]:
        return self._setting.range(snapshot.values)

    def value(self, snapshot: Snapshot) -> float | None:
        return self._limit.power_shown(snapshot)

    async def set(self, value: float) -> None:
        await self._charger.set_limit_power(value, self._limit.connector)


class _Setting:
    """A setting written as it is, within the values its register takes."""

    def __init__(self, charger: Charger, setting: Setting) -> None:
        self._charger = charger
        self._setting = setting

    @property
    def value_id(self) -> str:
        return self._setting.point.id

    @property
    def step(self) -> float:
        return self._setting.step

    def range(self, snapshot: Snapshot) -> tuple[float, float]:
        return self._setting.range(snapshot.values)

    def value(self, snapshot: Snapshot) -> float | None:
        value = self._setting.value(snapshot)
        return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    async def set(self, value: float) -> None:
        await self._charger.write_setting(self._setting.key, value, self._setting.connector)


@dataclass(frozen=True, kw_only=True)
class WallboxNumberEntityDescription(WallboxEntityDescription, NumberEntityDescription):
    """Describe a Wallbox Modbus number: ``control_fn`` finds the capability behind it."""

    control_fn: Callable[[Charger, int | None], NumberControl | None]

    def exists(self, charger: Charger, connector: int | None) -> bool:
        """A number exists where its capability does."""
        return self.control_fn(charger, connector) is not None


def _limit(charger: Charger, connector: int | None) -> NumberControl | None:
    limit = charger.limits.get(connector)
    return None if limit is None else _Limit(charger, limit)


def _limit_power(charger: Charger, connector: int | None) -> NumberControl | None:
    limit = charger.limits.get(connector)
    return None if limit is None or not limit.is_power else _LimitPower(charger, limit)


def _setting(
    key: str,
    *,
    device_class: NumberDeviceClass | None,
    unit: str,
    step: float | None = None,
    category: EntityCategory | None = EntityCategory.CONFIG,
    enabled: bool = True,
) -> WallboxNumberEntityDescription:
    """A setting of the box, written as it is; the step is the register's unless given."""

    def control(charger: Charger, connector: int | None) -> NumberControl | None:
        setting = charger.settings.get(pid(key, connector))
        return None if setting is None else _Setting(charger, setting)

    return WallboxNumberEntityDescription(
        key=key,
        translation_key=key,
        device_class=device_class,
        native_unit_of_measurement=unit,
        native_step=step,
        entity_category=category,
        entity_registry_enabled_default=enabled,
        mode=NumberMode.BOX,
        control_fn=control,
    )


NUMBERS: tuple[WallboxNumberEntityDescription, ...] = (
    WallboxNumberEntityDescription(
        key="charging_current",
        translation_key="charging_current",
        device_class=NumberDeviceClass.CURRENT,
        native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
        mode=NumberMode.SLIDER,  # "auto" turns 0.1 A steps over 6-32 A into a box
        control_fn=_limit,
    ),
    WallboxNumberEntityDescription(
        key="max_power",
        translation_key="max_power",
        device_class=NumberDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.WATT,
        mode=NumberMode.BOX,
        control_fn=_limit_power,
    ),
    _setting(
        "failsafe_current",
        device_class=NumberDeviceClass.CURRENT,
        unit=UnitOfElectricCurrent.AMPERE,
    ),
    _setting("failsafe_timeout", device_class=NumberDeviceClass.DURATION, unit=UnitOfTime.SECONDS),
    # milliseconds on the wire, whole seconds in the form
    _setting(
        "watchdog_timeout",
        device_class=NumberDeviceClass.DURATION,
        unit=UnitOfTime.SECONDS,
        step=1,
    ),
    _setting("station_max_power", device_class=NumberDeviceClass.POWER, unit=UnitOfPower.WATT),
    _setting("fallback_power", device_class=NumberDeviceClass.POWER, unit=UnitOfPower.WATT),
    _setting("fallback_timeout", device_class=NumberDeviceClass.DURATION, unit=UnitOfTime.SECONDS),
    _setting("station_relative_power", device_class=None, unit=PERCENTAGE, enabled=False),
    _setting(
        "max_unbalanced_current",
        device_class=NumberDeviceClass.CURRENT,
        unit=UnitOfElectricCurrent.AMPERE,
        enabled=False,
    ),
    _setting("fallback_relative_power", device_class=None, unit=PERCENTAGE, enabled=False),
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
        """Initialize the number; the step follows the box's resolution unless described."""
        super().__init__(**kwargs)
        control = self.entity_description.control_fn(self.charger, self.connector)
        assert control is not None
        self._control: NumberControl = control
        if self.entity_description.native_step is None:
            self._attr_native_step = control.step

    @property
    def value_id(self) -> str:
        """The register behind the control."""
        return self._control.value_id

    @property
    def native_min_value(self) -> float:
        """Return the lowest value the box takes (above zero for a limit)."""
        return self._control.range(self.snapshot)[0]

    @property
    def native_max_value(self) -> float:
        """Return the highest value the box takes now."""
        return self._control.range(self.snapshot)[1]

    @property
    def native_value(self) -> float | None:
        """Return the value in force."""
        return self._control.value(self.snapshot)

    @wallbox_command
    async def async_set_native_value(self, value: float) -> None:
        """Check the value against the box's rules, then write it."""
        await self._control.set(value)
