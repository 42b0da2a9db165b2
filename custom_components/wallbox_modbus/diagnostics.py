"""Diagnostics of Wallbox Modbus."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_HOST
from homeassistant.core import HomeAssistant

from .coordinator import WallboxConfigEntry

TO_REDACT_ENTRY = {CONF_HOST}
# Anything that names this very box.
PRIVATE_POINTS = frozenset({"serial_number", "mid_serial_number", "chargepoint_id"})
TO_REDACT_IDENTITY = {"serial", *PRIVATE_POINTS}


def _private_block(charger_points: list[tuple[str, int, int, str]], block: str) -> bool:
    """Whether a raw block ("input:100+25") covers a private point."""
    table, _, span = block.partition(":")
    start, _, count = span.partition("+")
    first, end = int(start), int(start) + int(count)
    return any(
        point_table == table and address < end and first < address + size
        for point_table, address, size, _ in charger_points
    )


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: WallboxConfigEntry
) -> dict[str, Any]:
    """Return what helps to find out why a box misbehaves."""
    coordinator = entry.runtime_data.coordinator
    charger = coordinator.charger
    private = [
        (str(p.table), p.address, p.count, p.id)
        for p in charger.map.points
        if p.key in PRIVATE_POINTS
    ]
    snapshot = coordinator.data
    return {
        "entry": {
            "data": async_redact_data(dict(entry.data), TO_REDACT_ENTRY),
            "options": dict(entry.options),
        },
        "identity": async_redact_data(
            asdict(charger.identity) if charger.identity is not None else {},
            TO_REDACT_IDENTITY,
        ),
        "map": {
            "name": charger.map.source.stem,
            "rung": str(charger.map.rung),
            "document_revision": charger.map.document.get("revision"),
        },
        "connectors": charger.connectors,
        "last_update_success": coordinator.last_update_success,
        "values": async_redact_data(dict(snapshot.values), PRIVATE_POINTS)
        if snapshot is not None
        else None,
        "failed_points": sorted(snapshot.failed) if snapshot is not None else [],
        "dropped_points": dict(charger.dropped),
        "raw_blocks": {
            block: "**REDACTED**" if _private_block(private, block) else words
            for block, words in charger.raw_blocks.items()
        },
        "recent_errors": list(charger.recent_errors),
        "keepalive": charger.keepalive_info(),
        "transport": charger.transport.stats.as_dict(),
    }
