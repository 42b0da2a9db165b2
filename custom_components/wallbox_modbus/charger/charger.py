"""One box: its points, its capabilities and the user's wishes, behind one interface.

A ``Charger`` is built from a model (a map and a variant) and a transport.  It
reads the identity once, refreshes the polling tiers, and offers what the box
can do as capability objects built from the map: ``limits`` (per connector),
``phase_switch``, ``remote_lock``, ``settings``, ``commands``, ``toggles``,
``watches`` (the events the box announces) and a ``keepalive``.  A
capability the map does not describe is absent.  Commands and toggles are
written only when the user asks: never by the reconciler or a keepalive.  The user's wishes live in
``desired``; after every refresh the reconciler brings the box back to them
where the box left them on its own.  Timed work (keepalive, held-back writes)
is reported through ``next_due`` and done by ``run_due``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any

from .build import Capabilities, build_capabilities
from .capabilities import (
    Command,
    CurrentLimit,
    EventWatch,
    PhaseSwitch,
    RemoteLock,
    Setting,
    Toggle,
)
from .const import monotonic
from .desired import DesiredState, Reconciler
from .errors import ChargerError, InvalidValueError
from .keepalive import Keepalive, TrafficWatchdog, make_keepalive
from .models import MODELS, ModelInfo
from .reader import PointReader
from .registers import Point, RegisterMap, Tier
from .snapshot import ChargerEvent, Identity, Snapshot, VerificationStatus, pid
from .strategy import Strategy
from .timers import Due, Ran, earliest
from .transport import ModbusTransport

_LOGGER = logging.getLogger(__name__)


def _strategies() -> dict[str, type[Strategy]]:
    """Each strategy a shipped map names, from the module of that name next to this one.

    Imported with the package (Home Assistant imports integrations in an
    executor), never later inside the event loop.
    """
    found: dict[str, type[Strategy]] = {}
    names = {s for m in MODELS.values() if (s := m.regmap.behaviour.strategy) is not None}
    for name in sorted(names):
        module = import_module(f"{__package__}.{name}")
        found[name] = next(
            value
            for value in vars(module).values()
            if isinstance(value, type) and issubclass(value, Strategy) and value.name == name
        )
    return found


STRATEGIES: dict[str, type[Strategy]] = _strategies()


class Charger:
    """One box, one transport, one map."""

    def __init__(
        self,
        transport: ModbusTransport,
        model: ModelInfo,
        *,
        clock: Callable[[], float] = monotonic,
    ) -> None:
        self.transport = transport
        self.model = model
        self.map: RegisterMap = model.regmap
        self.clock = clock
        self.reader = PointReader(transport, model, clock)
        self.identity: Identity | None = None
        self.desired = DesiredState(self.reader.connectors)
        strategy = STRATEGIES.get(self.map.behaviour.strategy or "", Strategy)
        self.strategy = strategy(model.title, clock)
        self.limits: dict[int | None, CurrentLimit] = {}
        self.phase_switch: PhaseSwitch | None = None
        self.remote_lock: RemoteLock | None = None
        self.settings: dict[str, Setting] = {}
        self.commands: dict[str, Command] = {}
        self.toggles: dict[str, Toggle] = {}
        self.watches: list[EventWatch] = []
        self._built = Capabilities()
        self.keepalive: Keepalive | None = None
        self.reconciler = Reconciler(model.title, self.desired, self.map.behaviour.reboot_counters)
        self.verification = VerificationStatus()  # of the last (or running) check against the map
        self._build()

    # ------------------------------------------------------------------ capabilities

    def _build(self) -> None:
        """Capabilities from the map's sections and the points this box serves."""
        built = build_capabilities(self.map.behaviour, self.reader, self.clock, self._built)
        self._built = built
        self.limits = built.limits
        self.phase_switch = built.phase_switch
        self.remote_lock = built.remote_lock
        self.settings = built.settings
        self.commands = built.commands
        self.toggles = built.toggles
        self.watches = built.watches
        keepalive = self.map.behaviour.keepalive
        if keepalive is not None and self.keepalive is None:
            self.keepalive = make_keepalive(
                keepalive,
                self.reader,
                self.clock,
                rewrite=self._rewrite_limits,
                last_write=self._limits_last_write,
            )
        self.reconciler.bind(self.limits, self.phase_switch)

    def limit(self, connector: int | None = None) -> CurrentLimit:
        """The current limit of a connector, or InvalidValueError."""
        limit = self.limits.get(connector)
        if limit is None:
            raise InvalidValueError(
                pid("charging_current", connector), None, "nothing: no current limit here"
            )
        return limit

    def setting(self, key: str, connector: int | None = None) -> Setting:
        setting = self.settings.get(pid(key, connector))
        if setting is None:
            raise InvalidValueError(
                pid(key, connector), None, "nothing: this box has no such setting"
            )
        return setting

    # ------------------------------------------------------------------ identity and points

    @property
    def connectors(self) -> list[int | None]:
        """None for a single-connector box, else the connector numbers."""
        return self.reader.connectors

    @property
    def points(self) -> list[Point]:
        return self.reader.points

    @property
    def values(self) -> Mapping[str, Any]:
        return self.reader.values

    @property
    def layout(self) -> tuple[int, ...] | None:
        return self.reader.layout

    @property
    def dropped(self) -> dict[str, str]:
        return self.reader.dropped

    def serves(self, key: str, connector: int | None = None) -> bool:
        """Whether the box reports this value (a polled point or a derived value)."""
        return self.reader.serves(key, connector)

    def extra_readings(self, known: set[str]) -> list[Point]:
        """Read-only points polled for no one: not in `known`, not behind a derived value.

        The glue shows them as plain sensors, so that a map never reads a value
        nobody can see (a user's map in particular).
        """
        sources = {name for rule in self.map.behaviour.derive for name in rule.sources}
        return [
            p
            for p in self.reader.points
            if p.access == "r"
            and p.tier in (Tier.FAST, Tier.SLOW)
            and not p.bits
            and p.key not in known
            and p.key not in sources
        ]

    def point(self, key: str, connector: int | None = None) -> Point:
        point = self.reader.find(key, connector)
        if point is None:
            raise InvalidValueError(
                pid(key, connector), None, "nothing: this box has no such point"
            )
        return point

    async def identify(self) -> Identity:
        """Read the identity once and check that the box is the chosen model."""
        self.identity = await self.reader.identify()
        self._build()
        return self.identity

    # ------------------------------------------------------------------ reading

    async def refresh(self, *, slow: bool = False) -> Snapshot:
        """Read the fast tier (and the slow one), then bring the box back to the wishes."""
        if self.identity is None:
            await self.identify()
        self._cap_timeout()
        if self.strategy.take_reopen():
            await self.transport.close()
        if self.keepalive is not None and self.keepalive.lapsed():
            self.reconciler.note("the box went longer than its timeout without a keepalive")
        tiers = {Tier.FAST, Tier.SLOW} if slow else {Tier.FAST}
        try:
            failed = await self.reader.read_tiers(tiers)
        except ChargerError:
            self.reconciler.note("the box did not answer")
            raise
        values = self.reader.values
        self.reconciler.observe(values, self.transport.stats.connects)
        self.strategy.after_refresh(values, frozenset(failed))
        try:
            await self.reconciler.reconcile(values)
        except ChargerError as err:
            self.reader.note_error(f"re-applying the settings failed: {err}")
            _LOGGER.debug("%s: re-applying the settings failed: %s", self.model.title, err)
        events = [w.check(values, frozenset(failed)) for w in self.watches]
        return self.snapshot(failed, events=tuple(e for e in events if e is not None))

    def snapshot(
        self,
        failed: set[str] | frozenset[str] = frozenset(),
        *,
        events: tuple[ChargerEvent, ...] = (),
    ) -> Snapshot:
        """Every value known now, with the wishes; a derived value fails with its sources.

        Only a refresh announces events: a snapshot made after a write has none.
        """
        failed = set(failed)
        for key in list(self.reader.derived_keys()):
            name, _, connector = key.partition("@")
            sources = self.reader.derived_sources(name, int(connector) if connector else None)
            if sources & failed:
                failed.add(key)
        return Snapshot(
            values=dict(self.reader.values),
            failed=frozenset(failed),
            codes=dict(self.reader.codes),
            time=self.clock(),
            desired=self.desired.copy(),
            pending=frozenset(
                c for c, limit in self.limits.items() if limit.pending_raw is not None
            ),
            events=events,
            verification=self.verification,
        )

    # ------------------------------------------------------------------ the current limit

    async def set_charging_current(self, amps: float, connector: int | None = None) -> None:
        """Set the limit; while paused it is remembered and applied on resume."""
        limit = self.limit(connector)
        raw = limit.check(amps, self.values)
        if amps == 0:
            await self.pause(connector)
            return
        wish = self.desired[connector]
        self.desired.update(connector, limit=float(amps), paused=bool(wish.paused))
        if wish.paused:
            return
        await limit.write(raw)

    async def set_limit_power(self, watts: float, connector: int | None = None) -> None:
        """Set the limit as the power the register holds (a power-limited box)."""
        limit = self.limit(connector)
        raw = Setting(limit.point, self.reader).validate(watts, self.values)
        if raw == limit.spec.pause:
            await self.pause(connector)
            return
        self.desired.update(connector, limit=limit.amps_of(raw), paused=False)
        await limit.write(raw)

    async def pause(self, connector: int | None = None) -> None:
        """Stop charging: write the pause value at once and remember the limit."""
        limit = self.limit(connector)
        wish = self.desired[connector]
        last = wish.limit
        if last is None:
            observed = limit.observed(self.values)
            last = observed if observed else None
        self.desired.update(connector, paused=True, limit=last)
        await limit.write(limit.spec.pause)

    async def resume(self, connector: int | None = None) -> None:
        """Charge again at the last limit (the highest allowed if none is known)."""
        limit = self.limit(connector)
        target = limit.target(self.desired[connector].with_(paused=False), self.values)
        if target is None:
            raise InvalidValueError(limit.limit_id, None, limit.describe(self.values))
        amps, raw = target
        self.desired.update(connector, paused=False, limit=amps)
        await limit.write(raw)

    # ------------------------------------------------------------------ other controls

    async def set_phases(self, phases: int | str) -> None:
        """Switch between one and three phases."""
        if self.phase_switch is None:
            raise InvalidValueError("phases", phases, "nothing: no phase switch")
        await self.phase_switch.write(phases)
        self.desired.update(self.phase_switch.connector, phases=int(phases))

    async def set_remote_lock(self, locked: bool) -> None:
        if self.remote_lock is None:
            raise InvalidValueError("remote_lock", locked, "nothing: no remote lock")
        await self.remote_lock.write(locked)

    async def send_command(self, key: str, connector: int | None = None) -> None:
        """Write a command (teach a card, accept the card presented, ...), as the user asks."""
        command = self.commands.get(pid(key, connector))
        if command is None:
            raise InvalidValueError(pid(key, connector), None, "nothing: no such command")
        await command.send()

    async def set_toggle(self, key: str, on: bool, connector: int | None = None) -> None:
        """Switch a toggle on or off by its command; the box's state bit shows the result."""
        toggle = self.toggles.get(pid(key, connector))
        if toggle is None:
            raise InvalidValueError(pid(key, connector), on, "nothing: no such toggle")
        await toggle.turn(on)

    async def write_setting(self, key: str, value: Any, connector: int | None = None) -> None:
        """Write a setting in the user's units after checking it against the map."""
        setting = self.setting(key, connector)
        raw = setting.validate(value, self.values)
        if self.keepalive is not None and self.keepalive.is_timeout(setting.point.key):
            await self.keepalive.before_timeout_change(raw * setting.point.scale)
        await self.reader.write(setting.point, raw)

    # ------------------------------------------------------------------ timed work

    def next_due(self) -> Due | None:
        """The next timed task (keepalive, held-back write), charger clock."""
        dues: list[Due | None] = [None if self.keepalive is None else self.keepalive.due()]
        for limit in self.limits.values():
            at = limit.flush_due()
            if at is not None:
                dues.append(Due(at=at, what="held-back limit"))
        return earliest(dues)

    def _cap_timeout(self) -> None:
        """No request waits longer than one keepalive interval.

        The keepalive is due every timeout / per_timeout so that one lost reply
        is survived; that holds only if the lost reply is given up within one
        interval, leaving time to serve the box again before its own timeout.
        """
        keepalive = self.keepalive
        self.transport.cap_timeout(None if keepalive is None else keepalive.interval())

    async def run_due(self) -> Ran:
        """Do what is due: held-back writes, the keepalive (or ask for a poll)."""
        self._cap_timeout()
        now = self.clock() + 1e-3
        wrote = False
        for limit in self.limits.values():
            if limit.pending_raw is not None and limit.hold_left() <= 0:
                try:
                    wrote |= await limit.flush()
                except ChargerError as err:
                    _LOGGER.warning(
                        "%s: the held-back charging current could not be written: %s",
                        self.model.title,
                        err,
                    )
                    self.reconciler.note("a held-back write failed")
                    limit.pending_raw = None  # written again after the next refresh
        keepalive = self.keepalive
        due = None if keepalive is None else keepalive.due()
        if keepalive is None or due is None or due.at > now:
            return Ran(wrote=wrote)
        if isinstance(keepalive, TrafficWatchdog):
            keepalive.requested()
            return Ran(poll=True, wrote=wrote)
        await keepalive.run()
        return Ran(wrote=wrote)

    async def _rewrite_limits(self) -> bool:
        """Every connector's wish written again (keepalive of a box with a fallback timer).

        While reconciling is on hold (a test writes the limit and restores it), what the
        box holds now is written instead, so that the keepalive does not undo the test.
        """
        wrote = False
        for connector, limit in self.limits.items():
            wish = self.desired[connector]
            held = self.reconciler.held
            target = limit.target(wish, self.values) if wish.known and not held else None
            if target is not None:
                raw = target[1]
            else:  # on hold, nothing asked yet, or nothing valid to write: what it holds
                observed = limit.observed_raw(self.values)
                if observed is None:
                    continue
                raw = observed
            wrote |= await limit.write(raw)
        return wrote

    def _limits_last_write(self) -> float | None:
        """The last write of any limit (the box's fallback timer is the station's)."""
        times = [limit.last_write for limit in self.limits.values() if limit.last_write is not None]
        return max(times) if times else None

    # ------------------------------------------------------------------ the wishes

    def restore_desired(self, data: Mapping[str, Any]) -> bool:
        """Take back the wishes stored before a restart; they are written again at once."""
        if not self.desired.restore(data):
            return False
        self.reconciler.note("the integration restarted")
        return True

    # ------------------------------------------------------------------ diagnostics

    def diagnostics(self) -> dict[str, Any]:
        return {
            "connectors": self.connectors,
            "capabilities": {
                "limits": {str(c): limit.point.id for c, limit in self.limits.items()},
                "phase_switch": self.phase_switch is not None,
                "remote_lock": self.remote_lock is not None,
                "settings": sorted(self.settings),
                "commands": sorted(self.commands),
                "toggles": sorted(self.toggles),
                "events": sorted(pid(w.key, w.connector) for w in self.watches),
                "keepalive": None if self.keepalive is None else self.keepalive.kind,
            },
            "desired": self.desired.as_dict(),
            "reconciler": {
                "reapplied": self.reconciler.reapplied,
                "fallbacks": self.reconciler.fallbacks,
                "adopted": self.reconciler.adopted,
                "pending_disruption": self.reconciler.disruption,
            },
            "strategy": {"name": self.strategy.name, **self.strategy.info()},
            "dropped_points": dict(self.reader.dropped),
            "recent_errors": list(self.reader.recent_errors),
            "keepalive": None if self.keepalive is None else self.keepalive.info(),
            "transport": self.transport.stats.as_dict(),
        }

    async def close(self) -> None:
        await self.transport.close()
