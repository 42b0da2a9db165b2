"""The models a user can choose, as the config flow and the entries know them."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryError

from .charger import MODELS, ModelInfo
from .const import CONF_MODEL, DEFAULT_PORT, DEFAULT_UNIT_ID, DOMAIN


def model_title(model: ModelInfo) -> str:
    """'Amperfied connect.solar'."""
    return model.title


def model_defaults(model: ModelInfo) -> tuple[int, int]:
    """The port and unit id the model's register map names as defaults."""
    defaults = model.regmap.defaults
    return int(defaults.get("port", DEFAULT_PORT)), int(defaults.get("unit_id", DEFAULT_UNIT_ID))


async def async_models(hass: HomeAssistant) -> dict[str, ModelInfo]:
    """Every model the user can choose now."""
    return dict(MODELS)


async def async_model_of_entry(hass: HomeAssistant, entry: ConfigEntry) -> ModelInfo:
    """The model of a config entry (its map read again)."""
    model_id = entry.data[CONF_MODEL]
    model = (await async_models(hass)).get(model_id)
    if model is None:
        raise ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key="unknown_model",
            translation_placeholders={"model": str(model_id)},
        )
    return model
