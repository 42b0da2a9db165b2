"""Small helpers shared by the config flow and the entry: titles, defaults, identities."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.const import CONF_HOST, CONF_PORT

from .charger import MODELS, load_map
from .const import CONF_MODEL, CONF_UNIT_ID, DEFAULT_PORT, DEFAULT_UNIT_ID


def model_title(model_id: str) -> str:
    """'amperfied_solar' -> 'Amperfied connect.solar'."""
    model = MODELS[model_id]
    return f"{model.manufacturer} {model.name}"


def model_defaults(model_id: str) -> tuple[int, int]:
    """The port and unit id the model's register map names as defaults."""
    defaults = load_map(MODELS[model_id].map_name).defaults
    return int(defaults.get("port", DEFAULT_PORT)), int(defaults.get("unit_id", DEFAULT_UNIT_ID))


def fallback_unique_id(data: Mapping[str, Any]) -> str:
    """The identity of a box that has no serial number: model and address."""
    return f"{data[CONF_MODEL]}_{data[CONF_HOST]}_{data[CONF_PORT]}_{data[CONF_UNIT_ID]}"


def has_fallback_unique_id(unique_id: str | None, data: Mapping[str, Any]) -> bool:
    """Whether an entry was identified by its address (the box had no serial number).

    Checked by shape, not by value: the address may have changed since.
    """
    return unique_id is not None and unique_id.startswith(f"{data[CONF_MODEL]}_")
