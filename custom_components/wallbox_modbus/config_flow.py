"""Config flow of the Wallbox Modbus integration."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import voluptuous as vol
from homeassistant.config_entries import (
    ConfigEntry,
    ConfigEntryState,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlow,
)
from homeassistant.const import CONF_HOST, CONF_PORT, CONF_SCAN_INTERVAL, UnitOfTime
from homeassistant.core import callback
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
)

from .catalog import (
    async_user_maps,
    model_defaults,
    model_label,
    user_maps_folder,
)
from .charger import (
    MODELS,
    ChargerConnectionError,
    ChargerError,
    ChargerTimeoutError,
    Identity,
    LayoutTooOldError,
    ModelInfo,
    RegisterMapError,
    WrongModelError,
    create_charger,
    file_of,
)
from .const import (
    CONF_MODEL,
    CONF_UNIT_ID,
    DEFAULT_SCAN_INTERVAL,
    DOMAIN,
    LOGGER,
    MAX_SCAN_INTERVAL,
    MIN_SCAN_INTERVAL,
)
from .helpers import fallback_unique_id, has_fallback_unique_id

# Seconds the probe waits for the box; a module constant so tests can shorten it.
PROBE_TIMEOUT = 5.0

# The value of an unusable user map in the model list.
UNUSABLE = "unusable:"
# Placeholders of the map error messages (config.error.map_*).
MAP_PLACEHOLDERS = ("file", "place", "field", "value", "low", "high", "allowed")

# Entry states in which the entry holds (or is about to open) its connection.
_CONNECTED_STATES = (ConfigEntryState.LOADED, ConfigEntryState.SETUP_RETRY)


def _int_box(minimum: int, maximum: int, unit: str | None = None) -> vol.All:
    config = NumberSelectorConfig(min=minimum, max=maximum, step=1, mode=NumberSelectorMode.BOX)
    if unit is not None:
        config["unit_of_measurement"] = unit
    return vol.All(NumberSelector(config), vol.Coerce(int))


def _address_schema(model: ModelInfo) -> vol.Schema:
    """Host, port and unit id, with the model's defaults filled in."""
    port, unit_id = model_defaults(model)
    return vol.Schema(
        {
            vol.Required(CONF_HOST): TextSelector(),
            vol.Required(CONF_PORT, default=port): _int_box(1, 65535),
            vol.Required(CONF_UNIT_ID, default=unit_id): _int_box(0, 255),
        }
    )


def _entry_data(model: ModelInfo, user_input: Mapping[str, Any]) -> dict[str, Any]:
    """Form input -> config entry data (port and unit id default to the model's)."""
    default_port, default_unit_id = model_defaults(model)
    return {
        CONF_MODEL: model.id,
        CONF_HOST: str(user_input[CONF_HOST]).strip(),
        CONF_PORT: int(user_input.get(CONF_PORT, default_port)),
        CONF_UNIT_ID: int(user_input.get(CONF_UNIT_ID, default_unit_id)),
    }


async def _async_probe(
    model: ModelInfo, data: Mapping[str, Any], placeholders: dict[str, str]
) -> tuple[dict[str, str], Identity | None]:
    """Connect, read the identity, and always close the connection again.

    Some boxes accept one connection at a time: the probe's must be gone before
    the entry opens its own.
    """
    charger = create_charger(
        model,
        data[CONF_HOST],
        data[CONF_PORT],
        data[CONF_UNIT_ID],
        timeout=PROBE_TIMEOUT,
    )
    try:
        identity = await charger.identify()
    except LayoutTooOldError as err:
        LOGGER.debug("Probe of %s: %s", data[CONF_HOST], err)
        placeholders.update(layout=err.layout, minimum=err.minimum)
        return {"base": "layout_too_old"}, None
    except WrongModelError as err:
        LOGGER.debug("Probe of %s: %s", data[CONF_HOST], err)
        return {"base": "wrong_model"}, None
    except ChargerTimeoutError as err:
        LOGGER.debug("Probe of %s: %s", data[CONF_HOST], err)
        return {"base": "timeout"}, None
    except ChargerConnectionError as err:
        LOGGER.debug("Probe of %s: %s", data[CONF_HOST], err)
        return {CONF_HOST: "cannot_connect"}, None
    except ChargerError as err:
        LOGGER.debug("Probe of %s: %s", data[CONF_HOST], err)
        return {"base": "modbus_error"}, None
    except Exception:
        LOGGER.exception("Unexpected error while probing %s", data[CONF_HOST])
        return {"base": "unknown"}, None
    finally:
        await charger.close()
    return {}, identity


def _map_placeholders(error: RegisterMapError | None) -> dict[str, str]:
    """A map error's file, place and details, for its translated message."""
    values = dict.fromkeys(MAP_PLACEHOLDERS, "")
    if error is not None:
        values.update(error.params)
        values.update(file=error.file, place=error.place)
    return values


def _connections_to(
    entries: list[ConfigEntry], data: Mapping[str, Any], skip: str | None = None
) -> int:
    """How many entries already talk to this host and port (one connection each)."""
    return sum(
        1
        for e in entries
        if e.entry_id != skip
        and e.data.get(CONF_HOST) == data[CONF_HOST]
        and e.data.get(CONF_PORT) == data[CONF_PORT]
    )


def _same_address(entry: ConfigEntry, data: Mapping[str, Any]) -> bool:
    return all(entry.data.get(key) == data[key] for key in (CONF_HOST, CONF_PORT, CONF_UNIT_ID))


class WallboxModbusConfigFlow(ConfigFlow, domain=DOMAIN):
    """Set up a wallbox: model first, then where it is."""

    VERSION = 1
    MINOR_VERSION = 1

    _model: ModelInfo

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> WallboxModbusOptionsFlow:
        """Return the options flow."""
        return WallboxModbusOptionsFlow()

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Let the user choose the model: shipped maps first, then the user's own.

        The form shows the model only, so that the next step can fill in that
        model's defaults; a caller that already knows the address may send
        host, port and unit_id along with it and skip the second form.  A user
        map with a mistake is listed as unusable; choosing it shows the mistake.
        """
        user_maps = await async_user_maps(self.hass)
        models = {**MODELS, **user_maps.models}
        errors: dict[str, str] = {}
        placeholders = {"folder": str(user_maps_folder(self.hass)), **_map_placeholders(None)}
        if user_input is not None:
            choice = str(user_input.get(CONF_MODEL, ""))
            if choice in models:
                self._model = models[choice]
                address = {k: v for k, v in user_input.items() if k != CONF_MODEL}
                return await self.async_step_details(address if CONF_HOST in address else None)
            error = user_maps.unusable.get(choice.removeprefix(UNUSABLE))
            if error is not None:
                errors["base"] = f"map_{error.code}"
                placeholders.update(_map_placeholders(error))
            else:
                errors["base"] = "map_gone"
        options = [SelectOptionDict(value=m.id, label=model_label(m)) for m in models.values()]
        options += [
            SelectOptionDict(value=f"{UNUSABLE}{file}", label=f"{file} (unusable)")
            for file in user_maps.unusable
        ]
        return self.async_show_form(
            step_id="user",
            data_schema=vol.Schema(
                {
                    vol.Required(CONF_MODEL): SelectSelector(
                        SelectSelectorConfig(options=options, mode=SelectSelectorMode.DROPDOWN)
                    )
                },
                extra=vol.ALLOW_EXTRA,  # host, port, unit_id in one go (see above)
            ),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def async_step_details(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask where the box is, probe it, and create the entry."""
        errors: dict[str, str] = {}
        placeholders = {"model": self._model.title}
        if user_input is not None:
            data = _entry_data(self._model, user_input)
            self._async_abort_entries_match(
                {key: data[key] for key in (CONF_HOST, CONF_PORT, CONF_UNIT_ID)}
            )
            allowed = self._model.regmap.max_connections
            if _connections_to(self._async_current_entries(), data) >= allowed:
                return self.async_abort(
                    reason="too_many_connections", description_placeholders={"max": str(allowed)}
                )
            errors, identity = await _async_probe(self._model, data, placeholders)
            if identity is not None:
                await self.async_set_unique_id(identity.serial or fallback_unique_id(data))
                self._abort_if_unique_id_configured()
                return self.async_create_entry(title=self._model.title, data=data)
        schema = _address_schema(self._model)
        if user_input is not None:
            schema = self.add_suggested_values_to_schema(schema, user_input)
        return self.async_show_form(
            step_id="details",
            data_schema=schema,
            errors=errors,
            description_placeholders=placeholders,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Move the entry to another host, port or unit id; the box must stay the same."""
        entry = self._get_reconfigure_entry()
        user_maps = await async_user_maps(self.hass)  # a user map is read again
        model = {**MODELS, **user_maps.models}.get(entry.data[CONF_MODEL])
        if model is None:
            broken = user_maps.unusable.get(file_of(str(entry.data[CONF_MODEL])))
            if broken is not None:
                return self.async_abort(
                    reason="map_invalid",
                    description_placeholders={"file": broken.file, "error": str(broken)},
                )
            return self.async_abort(reason="unknown_model")
        errors: dict[str, str] = {}
        placeholders = {"model": entry.title}
        if user_input is not None:
            data = _entry_data(model, user_input)
            for other in self._async_current_entries(include_ignore=False):
                if other.entry_id != entry.entry_id and _same_address(other, data):
                    return self.async_abort(reason="already_configured")
            # The entry's own connection would be a second one to the same box.
            relinked = False
            if entry.state in _CONNECTED_STATES:
                relinked = await self.hass.config_entries.async_unload(entry.entry_id)
            errors, identity = await _async_probe(model, data, placeholders)
            if identity is not None:
                if has_fallback_unique_id(entry.unique_id, entry.data):
                    # The box had no serial number when it was added: nothing to compare.
                    await self.async_set_unique_id(entry.unique_id)
                else:
                    await self.async_set_unique_id(identity.serial or fallback_unique_id(data))
            if relinked and (identity is None or self.unique_id != entry.unique_id):
                await self.hass.config_entries.async_setup(entry.entry_id)
            if identity is not None:
                self._abort_if_unique_id_mismatch(reason="wrong_device")
                return self.async_update_reload_and_abort(entry, data_updates=data)
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                _address_schema(model), user_input or dict(entry.data)
            ),
            errors=errors,
            description_placeholders=placeholders,
        )


class WallboxModbusOptionsFlow(OptionsFlow):
    """How often the box is polled."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Manage the options."""
        if user_input is not None:
            if self.config_entry.state is ConfigEntryState.LOADED:
                await self.config_entry.runtime_data.coordinator.async_set_scan_interval(
                    user_input[CONF_SCAN_INTERVAL]
                )
            return self.async_create_entry(data=user_input)
        current = self.config_entry.options.get(CONF_SCAN_INTERVAL, DEFAULT_SCAN_INTERVAL)
        return self.async_show_form(
            step_id="init",
            data_schema=vol.Schema(
                {
                    vol.Required(CONF_SCAN_INTERVAL, default=current): _int_box(
                        MIN_SCAN_INTERVAL, MAX_SCAN_INTERVAL, UnitOfTime.SECONDS
                    )
                }
            ),
        )
