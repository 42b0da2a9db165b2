"""Actions of Wallbox Modbus: check a box against its register map."""

from __future__ import annotations

import voluptuous as vol
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_DEVICE_ID
from homeassistant.core import HomeAssistant, ServiceCall, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr

from .charger import DEFAULT_DURATION
from .const import DOMAIN
from .coordinator import WallboxConfigEntry
from .verification import MAX_DURATION, MIN_DURATION

SERVICE_VERIFY = "verify"
ATTR_DURATION = "duration"
ATTR_WRITE_TEST = "write_test"

VERIFY_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_DEVICE_ID): cv.string,
        vol.Optional(ATTR_DURATION, default=DEFAULT_DURATION): vol.All(
            vol.Coerce(float), vol.Range(min=MIN_DURATION, max=MAX_DURATION)
        ),
        vol.Optional(ATTR_WRITE_TEST, default=False): cv.boolean,
    }
)


def _entry_of(hass: HomeAssistant, device_id: str) -> WallboxConfigEntry:
    """The loaded entry a device (the box, its station or a connector) belongs to."""
    device = dr.async_get(hass).async_get(device_id)
    if device is not None:
        for entry_id in device.config_entries:
            entry = hass.config_entries.async_get_entry(entry_id)
            if entry is None or entry.domain != DOMAIN:
                continue
            if entry.state is not ConfigEntryState.LOADED:
                raise ServiceValidationError(
                    translation_domain=DOMAIN,
                    translation_key="entry_not_loaded",
                    translation_placeholders={"title": entry.title},
                )
            loaded: WallboxConfigEntry = entry
            return loaded
    raise ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="device_not_found",
        translation_placeholders={"device_id": device_id},
    )


async def _async_verify(call: ServiceCall) -> None:
    entry = _entry_of(call.hass, call.data[ATTR_DEVICE_ID])
    entry.runtime_data.verification.async_start(
        write_test=call.data[ATTR_WRITE_TEST], duration=call.data[ATTR_DURATION]
    )


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the actions (once, whatever the number of entries)."""
    hass.services.async_register(DOMAIN, SERVICE_VERIFY, _async_verify, schema=VERIFY_SCHEMA)
