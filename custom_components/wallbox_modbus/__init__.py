"""The Wallbox Modbus integration: EV wallboxes over Modbus TCP.

This module imports nothing from Home Assistant when it is imported: the device
layer (``charger/``) is a subpackage of it, and the simulators and the device
layer's own tests import ``custom_components.wallbox_modbus.charger`` where Home
Assistant is not installed.  The entry's set-up lives in ``entry.py``, imported
in Home Assistant's import executor when the first entry is set up.
"""

from __future__ import annotations

from importlib import import_module
from types import ModuleType
from typing import TYPE_CHECKING

from .const import DOMAIN

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.device_registry import DeviceEntry
    from homeassistant.helpers.typing import ConfigType

    from .coordinator import WallboxConfigEntry


def _config_entry_only(config: ConfigType) -> ConfigType:
    """Set up from the UI only: Home Assistant's own check, imported when it validates.

    (This module imports nothing from Home Assistant when it is imported.)
    """
    from homeassistant.helpers import config_validation as cv  # noqa: PLC0415

    checked: ConfigType = cv.config_entry_only_config_schema(DOMAIN)(config)
    return checked


CONFIG_SCHEMA = _config_entry_only


async def _module(hass: HomeAssistant, name: str) -> ModuleType:
    return await hass.async_add_import_executor_job(import_module, f"{__name__}.{name}")


async def _entry_module(hass: HomeAssistant) -> ModuleType:
    return await _module(hass, "entry")


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the actions, whether or not an entry is loaded."""
    module = await _module(hass, "services")
    module.async_setup_services(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: WallboxConfigEntry) -> bool:
    """Connect to the box, read its identity and first values, then add the entities."""
    module = await _entry_module(hass)
    result: bool = await module.async_setup_entry(hass, entry)
    return result


async def async_unload_entry(hass: HomeAssistant, entry: WallboxConfigEntry) -> bool:
    """Unload the entities; the coordinator's shutdown closes the connection."""
    module = await _entry_module(hass)
    result: bool = await module.async_unload_entry(hass, entry)
    return result


async def async_migrate_entry(hass: HomeAssistant, entry: WallboxConfigEntry) -> bool:
    """Bring an entry of an older version up to date (see entry.py)."""
    module = await _entry_module(hass)
    result: bool = await module.async_migrate_entry(hass, entry)
    return result


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: WallboxConfigEntry, device: DeviceEntry
) -> bool:
    """Let the user delete a device the entry no longer serves (see entry.py)."""
    module = await _entry_module(hass)
    result: bool = await module.async_remove_config_entry_device(hass, entry, device)
    return result


async def async_remove_entry(hass: HomeAssistant, entry: WallboxConfigEntry) -> None:
    """Forget what the entry stored (wishes, last report), and its repair issues."""
    module = await _entry_module(hass)
    await module.async_remove_entry(hass, entry)
