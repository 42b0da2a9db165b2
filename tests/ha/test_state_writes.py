"""State writes: an entity writes its state only when what it shows changed.

Every write is counted (``state_changed`` and ``state_reported``, the event an
unchanged write fires) and compared, refresh by refresh, with the entities
whose state or attributes differ from the previous refresh.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from itertools import count
from typing import Any
from unittest.mock import patch

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import EVENT_STATE_CHANGED, EVENT_STATE_REPORTED, STATE_UNAVAILABLE
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.wallbox_modbus.charger import MODELS
from custom_components.wallbox_modbus.entity import WallboxEntity

from .conftest import StartSimulator, block_frozen, entry_for, run_frozen, tick

SCAN = 10  # default scan interval, seconds

type Shown = dict[str, tuple[str, dict[str, Any]]]


async def setup_frozen(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    entry.add_to_hass(hass)
    assert await run_frozen(hass, hass.config_entries.async_setup(entry.entry_id))
    await block_frozen(hass)


def entity_ids(hass: HomeAssistant, entry: MockConfigEntry) -> set[str]:
    """The entry's entities that have a state (enabled ones)."""
    registry = er.async_get(hass)
    return {
        e.entity_id
        for e in er.async_entries_for_config_entry(registry, entry.entry_id)
        if hass.states.get(e.entity_id) is not None
    }


def shown(hass: HomeAssistant, ids: set[str]) -> Shown:
    states = {entity_id: hass.states.get(entity_id) for entity_id in ids}
    return {e: (s.state, dict(s.attributes)) for e, s in states.items() if s is not None}


class Writes:
    """Per coordinator notification: the entities written, and those whose state changed.

    The recorder listens to the coordinator after the entities, so it sees each
    notification when every entity has reacted to it.
    """

    def __init__(self, hass: HomeAssistant, ids: set[str]) -> None:
        self.hass = hass
        self.ids = ids
        self.changed_events: list[str] = []
        self.reported_events: list[str] = []
        self.rounds: list[tuple[list[str], set[str]]] = []  # (written, changed)
        self._last = shown(hass, ids)

    @callback
    def _own(self, data: Mapping[str, Any]) -> bool:
        return data["entity_id"] in self.ids

    @callback
    def _changed(self, event: Event[Any]) -> None:
        self.changed_events.append(event.data["entity_id"])

    @callback
    def _reported(self, event: Event[Any]) -> None:
        self.reported_events.append(event.data["entity_id"])

    @callback
    def _notified(self) -> None:
        now = shown(self.hass, self.ids)
        changed = {e for e in self.ids if now.get(e) != self._last.get(e)}
        written = [*self.changed_events, *self.reported_events]
        self.rounds.append((sorted(written), changed))
        self.changed_events.clear()
        self.reported_events.clear()
        self._last = now

    @contextmanager
    def listening(
        self, listen: Callable[[Callable[[], None]], Callable[[], None]]
    ) -> Iterator[None]:
        bus = self.hass.bus
        removers = [
            bus.async_listen(EVENT_STATE_CHANGED, self._changed, event_filter=self._own),
            bus.async_listen(EVENT_STATE_REPORTED, self._reported, event_filter=self._own),
            listen(self._notified),
        ]
        try:
            yield
        finally:
            for remove in removers:
                remove()

    @property
    def written(self) -> int:
        return sum(len(written) for written, _ in self.rounds)

    @property
    def unchanged_writes(self) -> list[str]:
        """Entities written in a round in which their state did not change."""
        return [e for written, changed in self.rounds for e in written if e not in changed]

    @property
    def missed(self) -> list[str]:
        """Entities that changed in a round without being written."""
        return [e for written, changed in self.rounds for e in changed if e not in written]


@pytest.mark.freeze_time("2026-11-21 10:00:00")
@pytest.mark.parametrize("always_write", [False, True], ids=["changes_only", "control_always"])
@pytest.mark.parametrize("model_id", list(MODELS))
async def test_writes_per_refresh_are_the_changes(
    hass: HomeAssistant,
    start_simulator: StartSimulator,
    freezer: FrozenDateTimeFactory,
    model_id: str,
    always_write: bool,
) -> None:
    """Refreshes while charging, then errors, then back: one write per entity that changed.

    The control run makes every entity write at every refresh (what a plain
    coordinator entity does), which shows that the test sees unchanged writes.
    """
    sim = await start_simulator(model_id)
    for connector in sim.cars:
        sim.plug(connector)
    entry = entry_for(sim, model_id)
    await setup_frozen(hass, entry)
    ids = entity_ids(hass, entry)
    writes = Writes(hass, ids)
    coordinator = entry.runtime_data.coordinator
    with ExitStack() as stack:
        shown_calls = count()
        if always_write:
            fresh = count()
            stack.enter_context(patch.object(WallboxEntity, "_shown", lambda self: (next(fresh),)))
            # and is never told that nothing of its own changed
            stack.enter_context(patch.object(type(coordinator), "_changes", lambda self: None))
        else:
            original = WallboxEntity._shown

            def counted(self: WallboxEntity) -> tuple[Any, ...]:
                if self._inputs() is not None:  # an entity that shows one value
                    next(shown_calls)
                return original(self)

            stack.enter_context(patch.object(WallboxEntity, "_shown", counted))
        stack.enter_context(writes.listening(coordinator.async_add_listener))
        for _ in range(6):  # a minute of charging
            await tick(hass, freezer, SCAN)
        sim.server.faults.exception = 4  # every request answered with an error
        for _ in range(2):
            await tick(hass, freezer, SCAN)
        unavailable = [e for e in ids if hass.states.get(e).state == STATE_UNAVAILABLE]  # type: ignore[union-attr]
        sim.server.faults.exception = None
        for _ in range(2):
            await tick(hass, freezer, SCAN)
    await run_frozen(hass, hass.config_entries.async_unload(entry.entry_id))
    rounds = len(writes.rounds)
    assert rounds >= 6
    assert len(unavailable) >= len(ids) // 3  # the box answered with errors
    assert writes.missed == []
    if always_write:
        assert writes.written == rounds * len(ids)
        assert len(writes.unchanged_writes) > writes.written // 2
        return
    assert writes.unchanged_writes == []
    assert writes.reported_events == []
    for written, changed in writes.rounds:
        assert written == sorted(changed)  # each entity that changed written once
    # Charging moves the counters: some entities change, most do not.
    assert 0 < writes.written < rounds * len(ids) // 2
    # A sensor whose value did not change is not even worked out again.
    sensors = [e for e in ids if e.split(".")[0] in ("sensor", "binary_sensor")]
    assert next(shown_calls) < rounds * len(sensors) // 2
