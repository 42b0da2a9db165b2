"""The coordinator of one wallbox, and the runtime data of its config entry."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_HOST, CONF_MAC, CONF_SCAN_INTERVAL, STATE_OFF, Platform
from homeassistant.core import CALLBACK_TYPE, HassJob, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.debounce import Debouncer
from homeassistant.helpers.device_registry import CONNECTION_NETWORK_MAC, DeviceInfo
from homeassistant.helpers.event import async_call_later
from homeassistant.helpers.restore_state import async_get as async_get_restore_state
from homeassistant.helpers.storage import Store
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from .charger import (
    Charger,
    ChargerConnectionError,
    ChargerError,
    ChargerEvent,
    Identity,
    Ran,
    Snapshot,
    WrongModelError,
)
from .const import (
    DEFAULT_SCAN_INTERVAL,
    DOMAIN,
    LOGGER,
    REQUEST_REFRESH_COOLDOWN,
    SLOW_INTERVAL,
)

if TYPE_CHECKING:
    from .verification import VerificationRunner

type WallboxConfigEntry = ConfigEntry[WallboxRuntimeData]

STORAGE_VERSION = 1
SAVE_DELAY = 1.0  # seconds: the wishes are written to disk shortly after they change


def desired_store(hass: HomeAssistant, entry_id: str) -> Store[dict[str, Any]]:
    """Where an entry keeps the user's wishes (limit, pause, phases) over restarts."""
    return Store(hass, STORAGE_VERSION, f"{DOMAIN}.{entry_id}.desired")


@dataclass(kw_only=True)
class WallboxRuntimeData:
    """What a loaded entry holds."""

    coordinator: WallboxCoordinator
    verification: VerificationRunner

    @property
    def charger(self) -> Charger:
        """Return the entry's charger."""
        return self.coordinator.charger


class WallboxCoordinator(DataUpdateCoordinator[Snapshot]):
    """Polls one box and publishes what it reads.

    - The identity is read once, before the first poll.
    - The fast tier is read every scan interval; the slow tier (settings,
      ratings) every five minutes and right after a write.
    - Timed work of the device layer (keepalive, held-back writes) runs on one
      timer, at the moment the charger names; a watchdog served by data asks
      for a poll instead.
    - The user's wishes are stored, and given back to the charger at start.
    - A lost connection is not a reason to reload: the transport reconnects on
      the next request.  The box going silent and answering again are logged
      once each by the coordinator itself.
    - What the box announces in a poll (a card presented) is fired on the bus
      as ``wallbox_modbus_<event>`` once the entities show that poll, with the
      device id of the box (or connector) it concerns.
    """

    config_entry: WallboxConfigEntry

    def __init__(self, hass: HomeAssistant, entry: WallboxConfigEntry, charger: Charger) -> None:
        """Initialize the coordinator."""
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=entry.title,
            update_interval=timedelta(
                seconds=entry.options.get(CONF_SCAN_INTERVAL, DEFAULT_SCAN_INTERVAL)
            ),
            request_refresh_debouncer=Debouncer(
                hass, LOGGER, cooldown=REQUEST_REFRESH_COOLDOWN, immediate=True
            ),
        )
        self.charger = charger
        self._slow_at: datetime | None = None
        self._slow_requested = True
        self._closed = False
        self._timer: CALLBACK_TYPE | None = None
        self._store = desired_store(hass, entry.entry_id)
        self._events: tuple[ChargerEvent, ...] = ()
        # Work that must end while the connection is still open (a check putting back
        # the limit it tested), awaited first when the coordinator shuts down.
        self.before_shutdown: list[Callable[[], Awaitable[None]]] = []

    # ------------------------------------------------------------------ the wishes

    async def async_restore(self) -> None:
        """Give the charger the wishes stored before a restart; store them on change."""
        data = await self._store.async_load() or self._legacy_wishes()
        if data:
            self.charger.restore_desired(data)
        self.charger.desired.on_change = self._async_desired_changed

    def _legacy_wishes(self) -> dict[str, Any] | None:
        """Wishes that version 0.1 kept in the charging switch's restore data."""
        registry = er.async_get(self.hass)
        restore = async_get_restore_state(self.hass)
        # Home Assistant 2026.11 replaced the `last_states` dict with this method.
        stored_state = getattr(restore, "async_get_stored_state", None)
        lookup = stored_state if stored_state is not None else restore.last_states.get
        connectors: dict[str, Any] = {}
        for connector in self.charger.connectors:
            entity_id = registry.async_get_entity_id(
                Platform.SWITCH, DOMAIN, f"{self.device_unique_id(connector)}_charging_enabled"
            )
            stored = lookup(entity_id) if entity_id else None
            if stored is None:
                continue
            extra = stored.extra_data.as_dict() if stored.extra_data is not None else {}
            connectors["0" if connector is None else str(connector)] = {
                "paused": bool(extra.get("paused", stored.state.state == STATE_OFF)),
                "limit": extra.get("last_limit"),
            }
        return {"connectors": connectors} if connectors else None

    @callback
    def _async_desired_changed(self) -> None:
        self._store.async_delay_save(self.charger.desired.as_dict, SAVE_DELAY)

    # ------------------------------------------------------------------ identity

    @property
    def identity(self) -> Identity:
        """Return what the box said about itself (read before the first poll)."""
        assert self.charger.identity is not None
        return self.charger.identity

    @property
    def connectors(self) -> list[int | None]:
        """None for the box (or station) itself, then each connector's number."""
        return [None, *(c for c in self.charger.connectors if c is not None)]

    def device_connector(self, connector: int | None) -> int | None:
        """The connector whose own device an entity belongs to (None: the box's device).

        Only a box with several connectors has a device per connector; a single
        connector belongs to the box's device.
        """
        if sum(1 for c in self.charger.connectors if c is not None) > 1:
            return connector
        return None

    def device_unique_id(self, connector: int | None) -> str:
        """The serial number, with the connector if any.

        A box without a serial number (the entry has no unique id) is keyed on
        the config entry's id.
        """
        base = self.config_entry.unique_id or self.config_entry.entry_id
        connector = self.device_connector(connector)
        return base if connector is None else f"{base}_{connector}"

    def device_info(self, connector: int | None) -> DeviceInfo:
        """The device an entity of this connector (None: the box) belongs to."""
        connector = self.device_connector(connector)
        identity = self.identity
        info = DeviceInfo(
            identifiers={(DOMAIN, self.device_unique_id(connector))},
            manufacturer=identity.manufacturer,
            model=identity.model,
            serial_number=identity.serial,
            sw_version=identity.firmware,
        )
        if connector is None:
            info["name"] = self.config_entry.title
            if mac := self.config_entry.data.get(CONF_MAC):  # known from DHCP discovery
                info["connections"] = {(CONNECTION_NETWORK_MAC, mac)}
        else:
            # A device of its own per connector, attached to the entry (no via_device).
            info["translation_key"] = "connector"
            info["translation_placeholders"] = {
                "title": self.config_entry.title,
                "connector": str(connector),
            }
        return info

    async def _async_setup(self) -> None:
        """Read the identity once and check it is still the box of this entry."""
        try:
            identity = await self.charger.identify()
        except WrongModelError as err:
            raise ConfigEntryError(
                translation_domain=DOMAIN,
                translation_key="wrong_model",
                translation_placeholders={"title": self.config_entry.title, "error": str(err)},
            ) from err
        except ChargerError as err:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="communication_error",
                translation_placeholders={"error": str(err)},
            ) from err
        entry = self.config_entry
        # An entry without a unique id was added for a box without a serial number:
        # nothing to compare.
        if (
            identity.serial is not None
            and entry.unique_id is not None
            and identity.serial != entry.unique_id
        ):
            raise ConfigEntryError(
                translation_domain=DOMAIN,
                translation_key="wrong_device",
                translation_placeholders={"host": entry.data[CONF_HOST]},
            )

    # ------------------------------------------------------------------ polling

    async def _async_update_data(self) -> Snapshot:
        """Read the fast tier, and the slow one when it is due."""
        now = dt_util.utcnow()
        slow = self._slow_requested or self._slow_at is None or now - self._slow_at >= SLOW_INTERVAL
        try:
            snapshot = await self.charger.refresh(slow=slow)
        except ChargerError as err:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="communication_error",
                translation_placeholders={"error": str(err)},
            ) from err
        finally:
            self._async_arm()
        if slow:
            self._slow_at = now
            self._slow_requested = False
        self._events = snapshot.events
        return snapshot

    @callback
    def async_update_listeners(self) -> None:
        """Show the poll in the entities, then fire what the box announced in it."""
        super().async_update_listeners()
        events, self._events = self._events, ()
        for event in events:
            self._async_fire(event)

    @callback
    def _async_fire(self, event: ChargerEvent) -> None:
        # Looked up among the entry's own devices: registry.async_get_device is
        # deprecated from 2026.x, and its replacement is missing in 2025.4.
        identifier = (DOMAIN, self.device_unique_id(event.connector))
        device = next(
            (
                device
                for device in dr.async_entries_for_config_entry(
                    dr.async_get(self.hass), self.config_entry.entry_id
                )
                if identifier in device.identifiers
            ),
            None,
        )
        data: dict[str, Any] = {"device_id": device.id if device is not None else None}
        if event.connector is not None:
            data["connector"] = event.connector
        data.update(event.data)
        self.hass.bus.async_fire(f"{DOMAIN}_{event.key}", data)

    async def async_verification_refresh(self, slow: bool) -> Snapshot:
        """One refresh of a check against the map, published like any other.

        A refresh that fails raises, so that the check counts it as missed.
        """
        if slow:
            self._slow_requested = True
        await self.async_refresh()
        if not self.last_update_success or self.data is None:
            raise ChargerConnectionError(str(self.last_exception or "no answer"))
        return self.data

    @callback
    def async_publish_verification(self) -> None:
        """Show how far a check against the map is (between refreshes too)."""
        if self.data is not None:
            self.data = replace(self.data, verification=self.charger.verification)
        self.async_update_listeners()

    async def async_set_scan_interval(self, seconds: float) -> None:
        """Poll at a new interval from now on."""
        self.update_interval = timedelta(seconds=seconds)
        await self.async_request_refresh()

    async def async_after_write(self) -> None:
        """Publish what the box acknowledged, then read the box back (settings included)."""
        self._async_arm()
        self.async_set_updated_data(self.charger.snapshot())
        self._slow_requested = True
        await self.async_request_refresh()

    # ------------------------------------------------------------------ timed work

    @callback
    def _async_arm(self) -> None:
        """One timer, at the moment the charger's next timed task is due."""
        if self._timer is not None:
            self._timer()
            self._timer = None
        due = None if self._closed else self.charger.next_due()
        if due is None:
            return
        self._timer = async_call_later(
            self.hass,
            max(0.0, due.at - self.charger.clock()),
            HassJob(self._async_run_due, f"{self.name} {due.what}", cancel_on_shutdown=True),
        )

    async def _async_run_due(self, _now: datetime) -> None:
        self._timer = None
        try:
            ran = await self.charger.run_due()
        except ChargerError as err:
            LOGGER.debug("%s: timed work failed: %s", self.name, err)
            ran = Ran()
        if ran.poll:
            await self.async_refresh()  # arms the timer again
        elif ran.wrote:
            await self.async_after_write()
        else:
            self._async_arm()

    # ------------------------------------------------------------------ closing

    async def async_shutdown(self) -> None:
        """Cancel the timer, store the wishes and close the connection."""
        for stop in self.before_shutdown:
            await stop()
        await super().async_shutdown()
        self._closed = True
        if self._timer is not None:
            self._timer()
            self._timer = None
        self.charger.desired.on_change = None
        await self._store.async_save(self.charger.desired.as_dict())
        await self.charger.close()
