"""Setting up and unloading one config entry (one wallbox)."""

from __future__ import annotations

from homeassistant.const import CONF_HOST, CONF_PORT, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir

from .catalog import async_model_of_entry
from .charger import create_charger
from .const import CONF_UNIT_ID, DOMAIN, REQUEST_TIMEOUT
from .coordinator import WallboxConfigEntry, WallboxCoordinator, WallboxRuntimeData
from .verification import ISSUE_PREFIX, VerificationRunner, verification_store

PLATFORMS: list[Platform] = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.LOCK,
    Platform.NUMBER,
    Platform.SELECT,
    Platform.SENSOR,
    Platform.SWITCH,
]


async def async_setup_entry(hass: HomeAssistant, entry: WallboxConfigEntry) -> bool:
    """Connect to the box, read its identity and first values, then add the entities."""
    model = await async_model_of_entry(hass, entry)
    charger = create_charger(
        model,
        entry.data[CONF_HOST],
        entry.data[CONF_PORT],
        entry.data[CONF_UNIT_ID],
        timeout=REQUEST_TIMEOUT,
    )
    # The coordinator closes the charger when the entry unloads or fails to set up.
    coordinator = WallboxCoordinator(hass, entry, charger)
    await coordinator.async_restore()
    verification = VerificationRunner(hass, entry, coordinator)
    await verification.async_load()
    await coordinator.async_config_entry_first_refresh()
    entry.runtime_data = WallboxRuntimeData(coordinator=coordinator, verification=verification)
    coordinator.before_shutdown.append(verification.async_stop)
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: WallboxConfigEntry) -> bool:
    """Unload the entities; the coordinator's shutdown closes the connection."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_entry(hass: HomeAssistant, entry: WallboxConfigEntry) -> None:
    """Forget the last report and the entry's repair issues."""
    await verification_store(hass, entry.entry_id).async_remove()
    prefix = f"{ISSUE_PREFIX}_{entry.entry_id}_"
    for domain, issue_id in list(ir.async_get(hass).issues):
        if domain == DOMAIN and issue_id.startswith(prefix):
            ir.async_delete_issue(hass, DOMAIN, issue_id)
