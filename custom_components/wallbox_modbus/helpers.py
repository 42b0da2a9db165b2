"""The identity of a box without a serial number, shared by the config flow and the entry."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.const import CONF_HOST, CONF_PORT

from .const import CONF_MODEL, CONF_UNIT_ID


def fallback_unique_id(data: Mapping[str, Any]) -> str:
    """The identity of a box that has no serial number: model and address."""
    return f"{data[CONF_MODEL]}_{data[CONF_HOST]}_{data[CONF_PORT]}_{data[CONF_UNIT_ID]}"


def has_fallback_unique_id(unique_id: str | None, data: Mapping[str, Any]) -> bool:
    """Whether an entry was identified by its address (the box had no serial number).

    Checked by shape, not by value: the address may have changed since.
    """
    return unique_id is not None and unique_id.startswith(f"{data[CONF_MODEL]}_")
