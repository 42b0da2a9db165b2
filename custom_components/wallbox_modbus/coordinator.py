"""The coordinator of one wallbox, and the runtime data of its config entry."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_HOST, CONF_SCAN_INTERVAL
from homeassistant.core import CALLBACK_TYPE, HassJob, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryError
from homeassistant.helpers.debounce import Debouncer
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.event import async_call_later
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from .charger import Charger, ChargerError, Identity, Snapshot, WrongModelError
from .const import (
    DEFAULT_SCAN_INTERVAL,
    DOMAIN,
    LOGGER,
    REQUEST_REFRESH_COOLDOWN,
    SLOW_INTERVAL,
)
from .helpers import has_fallback_unique_id

type WallboxConfigEntry = ConfigEntry[WallboxRuntimeData]


def _drop_plain_records(record: logging.LogRecord) -> bool:
    """Keep the coordinator's debug lines and unexpected errors, drop the rest.

    The coordinator below logs the box going silent (warning) and answering
    again (info) itself, once each; Home Assistant's own error and recovery
    lines for the same events would say it a second time.
    """
    return record.levelno < logging.INFO or record.exc_info is not None


# The logger handed to DataUpdateCoordinator (its timing and housekeeping lines).
_POLL_LOGGER = logging.getLogger(f"{__package__}.poll")
_POLL_LOGGER.addFilter(_drop_plain_records)


@dataclass(kw_only=True)
class WallboxRuntimeData:
    """What a loaded entry holds."""

    coordinator: WallboxCoordinator

    @property
    def charger(self) -> Charger:
        """Return the entry's charger."""
        return self.coordinator.charger


class WallboxCoordinator(DataUpdateCoordinator[Snapshot]):
    """Polls one box and keeps it alive.

    - The identity is read once, before the first poll.
    - The fast tier is read every scan interval; the slow tier (settings,
      ratings) every five minutes and right after a write.
    - A keepalive timer of its own runs at the box's keepalive interval,
      whatever the scan interval, and never lapses.
    - Held-back writes (a box that wants a setting kept for a while) are
      flushed when their hold ends.
    - A lost connection is not a reason to reload: the transport reconnects on
      the next request.
    """

    config_entry: WallboxConfigEntry

    def __init__(self, hass: HomeAssistant, entry: WallboxConfigEntry, charger: Charger) -> None:
        """Initialize the coordinator."""
        super().__init__(
            hass,
            _POLL_LOGGER,
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
        self._silent = False
        self._closed = False
        self._keepalive_unsub: CALLBACK_TYPE | None = None
        self._keepalive_due: float | None = None
        self._flush_unsub: CALLBACK_TYPE | None = None

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

        Only a box with several connectors (Compleo DUO) has a device per
        connector; a single connector (Compleo SOLO) belongs to the box's device.
        """
        if sum(1 for c in self.charger.connectors if c is not None) > 1:
            return connector
        return None

    def device_unique_id(self, connector: int | None) -> str:
        """The serial number (or the entry's fallback), with the connector if any."""
        base = str(self.config_entry.unique_id)
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
        if (
            identity.serial is not None
            and not has_fallback_unique_id(entry.unique_id, entry.data)
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
            if not self._silent and self.data is not None:
                LOGGER.warning("%s does not answer: %s", self.name, err)
            self._silent = True
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="communication_error",
                translation_placeholders={"error": str(err)},
            ) from err
        if self._silent:
            if self.data is not None:
                LOGGER.info("%s answers again", self.name)
            self._silent = False
        if slow:
            self._slow_at = now
            self._slow_requested = False
        self._async_schedule_keepalive()
        return snapshot

    async def async_set_scan_interval(self, seconds: float) -> None:
        """Poll at a new interval from now on."""
        self.update_interval = timedelta(seconds=seconds)
        await self.async_request_refresh()

    async def async_after_write(self) -> None:
        """Show what was written, flush held writes later, re-read the settings."""
        self.async_schedule_flush()
        self._async_schedule_keepalive()
        self._slow_requested = True
        self.async_update_listeners()
        await self.async_request_refresh()

    # ---------------------------------------------------------------- keepalive

    @callback
    def _async_schedule_keepalive(self, *, previous_due: float | None = None) -> None:
        """Run the keepalive at the box's interval; pull it forward when that shrinks.

        After a keepalive the next one is due one interval after the previous
        due time (not after it finished), so the period never drifts.
        """
        if self._closed:
            return
        interval = self.charger.keepalive_interval
        now = self.hass.loop.time()
        if self._keepalive_unsub is not None:
            assert self._keepalive_due is not None
            if interval is not None and now + interval >= self._keepalive_due:
                return
            self._keepalive_unsub()
            self._keepalive_unsub = None
        if interval is None:
            return
        due = now + interval if previous_due is None else max(now, previous_due + interval)
        self._keepalive_due = due
        self._keepalive_unsub = async_call_later(
            self.hass,
            due - now,
            HassJob(self._async_keepalive, f"{self.name} keepalive", cancel_on_shutdown=True),
        )

    async def _async_keepalive(self, _now: datetime) -> None:
        self._keepalive_unsub = None
        due = self._keepalive_due
        try:
            await self.charger.keepalive()
        except ChargerError as err:
            LOGGER.debug("%s: keepalive failed: %s", self.name, err)
        finally:
            self._async_schedule_keepalive(previous_due=due)

    # ----------------------------------------------------------- held-back writes

    @callback
    def async_schedule_flush(self) -> None:
        """Write held-back settings when their hold time is over."""
        if self._flush_unsub is not None:
            self._flush_unsub()
            self._flush_unsub = None
        delay = self.charger.pending_delay()
        if delay is None or self._closed:
            return
        self._flush_unsub = async_call_later(
            self.hass,
            delay,
            HassJob(self._async_flush, f"{self.name} held-back write", cancel_on_shutdown=True),
        )

    async def _async_flush(self, _now: datetime) -> None:
        self._flush_unsub = None
        try:
            wrote = await self.charger.flush_pending()
        except ChargerError as err:
            LOGGER.warning("%s: a held-back setting could not be written: %s", self.name, err)
            wrote = False
        self.async_schedule_flush()
        if wrote:
            self._slow_requested = True
            await self.async_request_refresh()

    # ------------------------------------------------------------------ closing

    async def async_shutdown(self) -> None:
        """Cancel the timers and close the connection."""
        await super().async_shutdown()
        self._closed = True
        for unsub in (self._keepalive_unsub, self._flush_unsub):
            if unsub is not None:
                unsub()
        self._keepalive_unsub = self._flush_unsub = None
        await self.charger.close()
