"""Diagnostics of Wallbox Modbus: what helps to find out why a box misbehaves.

Users attach these to public issues: the host, the MAC address, every serial number, card and
tag (the map's private points) are redacted, in values and in raw blocks.

A device's download also holds the report of the last check against the
register map (``verification_report``, redacted by the check itself): the file
an owner attaches to contribute it as evidence.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_HOST, CONF_MAC
from homeassistant.core import HomeAssistant
from homeassistant.helpers.device_registry import DeviceEntry

from .charger import Charger, Point
from .coordinator import WallboxConfigEntry

TO_REDACT_ENTRY = {CONF_HOST, CONF_MAC}
TO_REDACT_IDENTITY = {"serial"}


def _private(charger: Charger) -> list[Point]:
    return [p for p in charger.map.points if p.private]


def _covers_private(private: list[Point], block: str) -> bool:
    """Whether a raw block ("input:100+25") covers a private point."""
    table, _, span = block.partition(":")
    start, _, count = span.partition("+")
    first, end = int(start), int(start) + int(count)
    return any(str(p.table) == table and p.address < end and first < p.end for p in private)


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: WallboxConfigEntry
) -> dict[str, Any]:
    """Return what helps to find out why a box misbehaves."""
    coordinator = entry.runtime_data.coordinator
    charger = coordinator.charger
    private = _private(charger)
    private_ids = {p.id for p in private} | {p.key for p in private}
    snapshot = coordinator.data
    identity = asdict(charger.identity) if charger.identity is not None else {}
    return {
        "entry": {
            "data": async_redact_data(dict(entry.data), TO_REDACT_ENTRY),
            "options": dict(entry.options),
        },
        "identity": async_redact_data(identity, TO_REDACT_IDENTITY | private_ids),
        "map": {
            "name": charger.map.name,
            "rung": str(charger.map.rung),
            "document_revision": charger.map.document.get("revision"),
        },
        "last_update_success": coordinator.last_update_success,
        "values": async_redact_data(dict(snapshot.values), private_ids)
        if snapshot is not None
        else None,
        "failed_points": sorted(snapshot.failed) if snapshot is not None else [],
        # Codes the map has no name for (the entity shows unknown): the raw number.
        "unknown_codes": {
            point: code
            for point, code in sorted(snapshot.codes.items())
            if snapshot.values.get(point) is None
        }
        if snapshot is not None
        else {},
        "raw_blocks": {
            block: "**REDACTED**" if _covers_private(private, block) else words
            for block, words in charger.reader.raw_blocks.items()
        },
        **charger.diagnostics(),
    }


async def async_get_device_diagnostics(
    hass: HomeAssistant, entry: WallboxConfigEntry, device: DeviceEntry
) -> dict[str, Any]:
    """The report of the last check against the map, then the entry's diagnostics."""
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    report = entry.runtime_data.verification.report
    return {"verification_report": report, **diagnostics}
