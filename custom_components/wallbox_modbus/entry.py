"""Setting up, unloading and migrating one config entry (one wallbox)."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_PORT, Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir

from .catalog import async_model_of_entry
from .charger import create_charger
from .const import CONF_MODEL, CONF_UNIT_ID, DOMAIN, LOGGER, REQUEST_TIMEOUT
from .coordinator import (
    WallboxConfigEntry,
    WallboxCoordinator,
    WallboxRuntimeData,
    desired_store,
)
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
    """The entry is deleted: so are the user's wishes, the last report and its repair issues.

    (It was unloaded first, which stored the wishes.)
    """
    await desired_store(hass, entry.entry_id).async_remove()
    await verification_store(hass, entry.entry_id).async_remove()
    prefix = f"{ISSUE_PREFIX}_{entry.entry_id}_"
    for domain, issue_id in list(ir.async_get(hass).issues):
        if domain == DOMAIN and issue_id.startswith(prefix):
            ir.async_delete_issue(hass, DOMAIN, issue_id)


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: WallboxConfigEntry, device: dr.DeviceEntry
) -> bool:
    """A device the entry no longer serves may be deleted; the box's own may not.

    The entry's devices follow from its box (the box, and each connector of a
    box with several); any other device of the entry is stale.  While the entry
    is not loaded its devices are not known, and none is deleted.
    """
    if entry.state is not ConfigEntryState.LOADED:
        return False
    coordinator = entry.runtime_data.coordinator
    current = {(DOMAIN, coordinator.device_unique_id(c)) for c in coordinator.connectors}
    return not device.identifiers & current


def _is_address_unique_id(entry: WallboxConfigEntry) -> bool:
    """Whether a version 1.1 entry was identified by its address (its box had no serial).

    Version 0.1 made such ids of model, host, port and unit id; checked by shape,
    not by value, because the address may have changed since.
    """
    return entry.unique_id is not None and entry.unique_id.startswith(f"{entry.data[CONF_MODEL]}_")


def _rekeyed(key: str, old: str, new: str) -> str | None:
    """A device or entity key that starts with the old base, on the new base."""
    if key == old:
        return new
    if key.startswith(f"{old}_"):
        return f"{new}{key.removeprefix(old)}"
    return None


async def _async_rekey(hass: HomeAssistant, entry: WallboxConfigEntry, old: str) -> None:
    """Devices and entities keyed on the old unique id, keyed on the entry id instead.

    The registry entries are changed in place, so entity ids, names the user
    gave, areas and the recorded history stay.
    """
    new = entry.entry_id
    device_registry = dr.async_get(hass)
    for device in dr.async_entries_for_config_entry(device_registry, entry.entry_id):
        identifiers = {
            (domain, rekeyed)
            if domain == DOMAIN and (rekeyed := _rekeyed(key, old, new)) is not None
            else (domain, key)
            for domain, key in device.identifiers
        }
        if identifiers != device.identifiers:
            device_registry.async_update_device(device.id, new_identifiers=identifiers)

    @callback
    def rekey_entity(entity: er.RegistryEntry) -> dict[str, str] | None:
        rekeyed = _rekeyed(entity.unique_id, old, new)
        return None if rekeyed is None else {"new_unique_id": rekeyed}

    await er.async_migrate_entries(hass, entry.entry_id, rekey_entity)


async def async_migrate_entry(hass: HomeAssistant, entry: WallboxConfigEntry) -> bool:
    """Bring an entry of an older version up to date.

    1.1 -> 1.2: a box without a serial number had a unique id made of its model
    and address; an address is not an identity.  The entry loses that unique id
    (duplicates are refused by address), and its devices and entities are keyed
    on the entry id from now on.
    """
    if entry.version > 1:
        return False  # written by a newer version of the integration
    if entry.minor_version < 2:
        if _is_address_unique_id(entry):
            old = str(entry.unique_id)
            await _async_rekey(hass, entry, old)
            hass.config_entries.async_update_entry(entry, unique_id=None, minor_version=2)
            LOGGER.info(
                "%s: devices and entities are keyed on the config entry now "
                "(the box has no serial number)",
                entry.title,
            )
        else:
            hass.config_entries.async_update_entry(entry, minor_version=2)
    return True
