"""Config flow of the Wallbox Modbus integration."""

from __future__ import annotations

from collections.abc import Mapping
from ipaddress import ip_address
from typing import Any

import voluptuous as vol
from homeassistant.config_entries import (
    ConfigEntry,
    ConfigEntryState,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlow,
)
from homeassistant.const import CONF_HOST, CONF_MAC, CONF_PORT, CONF_SCAN_INTERVAL, UnitOfTime
from homeassistant.core import HomeAssistant, callback
from homeassistant.data_entry_flow import AbortFlow
from homeassistant.helpers.device_registry import format_mac
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
from homeassistant.helpers.service_info.dhcp import DhcpServiceInfo

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

# Seconds the probe waits for the box; a module constant so tests can shorten it.
PROBE_TIMEOUT = 5.0

# Probe errors the choice of the model causes: the details form offers the model again.
_MODEL_ERRORS = ("wrong_model", "layout_too_old")

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


def _model_selector(models: list[ModelInfo]) -> SelectSelector:
    return SelectSelector(
        SelectSelectorConfig(
            options=[
                SelectOptionDict(value=model.id, label=model_label(model)) for model in models
            ],
            mode=SelectSelectorMode.DROPDOWN,
        )
    )


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


def _is_ip_address(host: str) -> bool:
    try:
        ip_address(host)
    except ValueError:
        return False
    return True


def _names_the_box(host: str, ip: str, hostname: str) -> bool:
    """Whether an entry's host is the discovered box: its address or its DHCP name.

    A router may serve the name under its own domain (hdm-smart-connect-f431f2.fritz.box).
    """
    host = host.strip().lower()
    return host in (ip, hostname) or host.startswith(f"{hostname}.")


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


async def _async_models(hass: HomeAssistant) -> dict[str, ModelInfo]:
    """Every model that can be chosen now: the shipped maps', then the usable user maps'."""
    return {**MODELS, **(await async_user_maps(hass)).models}


class WallboxModbusConfigFlow(ConfigFlow, domain=DOMAIN):
    """Set up a wallbox: model first, then where it is."""

    VERSION = 1
    # 1.2: a box without a serial number has no unique id (1.1: one made of its address).
    MINOR_VERSION = 2

    _model: ModelInfo
    _discovered: DhcpServiceInfo
    _discovered_models: dict[str, ModelInfo]

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
        """Ask where the box is, probe it, and create the entry.

        When the box is not the chosen model (or its layout is too old for it),
        the form offers the model again, so that the user can correct either.
        """
        models = await _async_models(self.hass)
        errors: dict[str, str] = {}
        if user_input is not None and user_input.get(CONF_MODEL) in models:
            self._model = models[user_input[CONF_MODEL]]
        placeholders = {"model": self._model.title}
        if user_input is not None:
            data = _entry_data(self._model, user_input)
            self._async_abort_entries_match(
                {key: data[key] for key in (CONF_HOST, CONF_PORT, CONF_UNIT_ID)}
            )
            self._abort_if_too_many_connections(data)
            errors, identity = await _async_probe(self._model, data, placeholders)
            if identity is not None:
                return await self._async_create(identity, data)
        schema = _address_schema(self._model)
        if errors.get("base") in _MODEL_ERRORS:
            schema = vol.Schema(
                {vol.Required(CONF_MODEL): _model_selector(list(models.values()))}
            ).extend(schema.schema)
        if user_input is not None:
            schema = self.add_suggested_values_to_schema(
                schema, {**user_input, CONF_MODEL: self._model.id}
            )
        return self.async_show_form(
            step_id="details",
            data_schema=schema,
            errors=errors,
            description_placeholders=placeholders,
        )

    def _abort_if_too_many_connections(self, data: Mapping[str, Any]) -> None:
        """Refuse another entry for a box that takes no more connections."""
        allowed = self._model.regmap.max_connections
        if _connections_to(self._async_current_entries(), data) >= allowed:
            raise AbortFlow("too_many_connections", {"max": str(allowed)})

    async def _async_create(
        self, identity: Identity, data: dict[str, Any], updates: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Create the entry of a probed box, unless its serial number is configured already.

        The unique id is the serial number, or none at all: an address is not an
        identity (a second entry for the address is refused before probing).
        ``updates`` go into the entry that already has the serial number.
        """
        await self.async_set_unique_id(identity.serial, raise_on_progress=False)
        self._abort_if_unique_id_configured(updates=updates)
        return self.async_create_entry(title=self._model.title, data=data)

    async def async_step_dhcp(self, discovery_info: DhcpServiceInfo) -> ConfigFlowResult:
        """A box announced itself in DHCP by a host name its register map names.

        A configured box is recognised by its MAC address (recorded on an earlier
        discovery), its IP address or its host name; an entry that reaches the box
        by an IP address follows it to the new one.  Otherwise the user confirms
        the model (the host name does not tell the variant) and the box is probed.
        """
        ip = discovery_info.ip
        hostname = discovery_info.hostname.lower()
        mac = format_mac(discovery_info.macaddress)
        # The MAC address as the flow's id: one flow per box, and "ignore" sticks.
        await self.async_set_unique_id(mac)
        self._abort_if_unique_id_configured()
        for entry in self._async_current_entries(include_ignore=False):
            host = str(entry.data[CONF_HOST])
            if entry.data.get(CONF_MAC) == mac:
                if host != ip and _is_ip_address(host):
                    return self.async_update_reload_and_abort(
                        entry, data_updates={CONF_HOST: ip}, reason="already_configured"
                    )
            elif _names_the_box(host, ip, hostname):
                # The same box: remember its MAC address to follow it to a new address.
                self.hass.config_entries.async_update_entry(
                    entry, data={**entry.data, CONF_MAC: mac}
                )
            else:
                continue
            if entry.state is ConfigEntryState.SETUP_RETRY:
                # The box is on the network again: try now rather than at the next retry.
                self.hass.config_entries.async_schedule_reload(entry.entry_id)
            return self.async_abort(reason="already_configured")
        models = {
            model.id: model
            for model in (await _async_models(self.hass)).values()
            if model.announced_as(hostname)
        }
        if not models:
            return self.async_abort(reason="not_supported")
        self._discovered = discovery_info
        self._discovered_models = models
        manufacturers = sorted({model.manufacturer for model in models.values()})
        self.context["title_placeholders"] = {
            "name": f"{' / '.join(manufacturers)} {discovery_info.hostname.upper()}"
        }
        return await self.async_step_dhcp_confirm()

    async def async_step_dhcp_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Which of the models the host name fits it is; the host is prefilled."""
        models = self._discovered_models
        discovered = self._discovered
        first = next(iter(models.values()))
        errors: dict[str, str] = {}
        placeholders = {"name": discovered.hostname.upper(), "host": discovered.ip}
        if user_input is not None:
            self._model = models[user_input[CONF_MODEL]]
            placeholders["model"] = self._model.title
            mac = format_mac(discovered.macaddress)
            data = {**_entry_data(self._model, user_input), CONF_MAC: mac}
            self._async_abort_entries_match(
                {key: data[key] for key in (CONF_HOST, CONF_PORT, CONF_UNIT_ID)}
            )
            self._abort_if_too_many_connections(data)
            errors, identity = await _async_probe(self._model, data, placeholders)
            if identity is not None:
                return await self._async_create(
                    identity, data, updates={CONF_HOST: data[CONF_HOST], CONF_MAC: mac}
                )
        schema = vol.Schema(
            {vol.Required(CONF_MODEL): _model_selector(list(models.values()))}
        ).extend(_address_schema(first).schema)
        return self.async_show_form(
            step_id="dhcp_confirm",
            data_schema=self.add_suggested_values_to_schema(
                schema, user_input or {CONF_HOST: discovered.ip}
            ),
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
            if any(
                other.entry_id != entry.entry_id and _same_address(other, data)
                for other in self._async_current_entries(include_ignore=False)
            ):
                errors = {"base": "already_configured"}
            else:
                identity = await self._async_probe_in_place(
                    entry, model, data, errors, placeholders
                )
                if identity is not None:
                    return self.async_update_reload_and_abort(entry, data_updates=data)
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                _address_schema(model), user_input or dict(entry.data)
            ),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def _async_probe_in_place(
        self,
        entry: ConfigEntry,
        model: ModelInfo,
        data: Mapping[str, Any],
        errors: dict[str, str],
        placeholders: dict[str, str],
    ) -> Identity | None:
        """Probe the new address with the entry's own connection closed; errors into errors.

        Some boxes take one connection at a time, and the entry's would be a second
        one to the same box.  Unless the probe finds the entry's box, the entry is
        set up again as it was.
        """
        relinked = False
        if entry.state in _CONNECTED_STATES:
            relinked = await self.hass.config_entries.async_unload(entry.entry_id)
        found, identity = await _async_probe(model, data, placeholders)
        errors.update(found)
        # An entry without a unique id was added for a box without a serial number:
        # nothing to compare, and it stays keyed on the entry.
        if (
            identity is not None
            and entry.unique_id is not None
            and (identity.serial != entry.unique_id)
        ):
            errors["base"] = "wrong_device"
            identity = None
        if relinked and identity is None:
            await self.hass.config_entries.async_setup(entry.entry_id)
        return identity


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
