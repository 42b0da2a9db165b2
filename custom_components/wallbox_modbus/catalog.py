"""The models a user can choose: the shipped maps' and the user's own maps'.

User maps live in ``<config>/wallbox_modbus/`` (YAML or JSON); the folder and
its README are created the first time the dialog opens.  Files are read in the
executor whenever the dialog opens, an entry starts, or an entry is
reconfigured, so an edited map takes effect without a restart.
"""

from __future__ import annotations

from pathlib import Path

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryError

from .charger import (
    MODELS,
    ModelInfo,
    RegisterMapError,
    UserMaps,
    ensure_folder,
    file_of,
    is_user_model,
    load_user_map,
    scan_user_maps,
)
from .const import CONF_MODEL, DEFAULT_PORT, DEFAULT_UNIT_ID, DOMAIN


def model_defaults(model: ModelInfo) -> tuple[int, int]:
    """The port and unit id the model's register map names as defaults."""
    defaults = model.regmap.defaults
    return int(defaults.get("port", DEFAULT_PORT)), int(defaults.get("unit_id", DEFAULT_UNIT_ID))


def model_label(model: ModelInfo) -> str:
    """What the model list shows: 'Amperfied connect.solar', or a user map's title and file."""
    if model.user_map:
        return f"{model.title} (user map {model.regmap.source.name})"
    return model.title


def user_maps_folder(hass: HomeAssistant) -> Path:
    return Path(hass.config.path(DOMAIN))


def _scan(folder: Path) -> UserMaps:
    ensure_folder(folder)
    return scan_user_maps(folder)


async def async_user_maps(hass: HomeAssistant) -> UserMaps:
    """Every user map, read now (the folder is created with its README if missing)."""
    return await hass.async_add_executor_job(_scan, user_maps_folder(hass))


async def async_model_of_entry(hass: HomeAssistant, entry: ConfigEntry) -> ModelInfo:
    """The model of a config entry; a user map is read again from its file."""
    model_id = str(entry.data[CONF_MODEL])
    if model_id in MODELS:
        return MODELS[model_id]
    model = None
    if is_user_model(model_id):
        path = user_maps_folder(hass) / file_of(model_id)
        try:
            models = await hass.async_add_executor_job(load_user_map, path)
        except RegisterMapError as err:
            if err.code != "unreadable" or path.exists():
                raise ConfigEntryError(
                    translation_domain=DOMAIN,
                    translation_key="map_invalid",
                    translation_placeholders={"file": path.name, "error": str(err)},
                ) from err
            models = []
        model = next((m for m in models if m.id == model_id), None)
    if model is None:
        raise ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key="unknown_model",
            translation_placeholders={"model": model_id},
        )
    return model
