"""The user's wishes, held in one place, and the box brought back to them.

``DesiredState`` holds per connector the current limit, whether charging is
paused and (where the box switches phases) the phase count.  Whoever drives
the charger persists it (``as_dict`` / ``restore``), so it survives a restart.

``Reconciler`` compares it with what the box reports after every refresh:

- after a disruption (the connection was lost or reopened, the box restarted,
  the integration itself restarted) the box may have fallen back on its own
  (Vestel's failsafe current, Amperfied's time-out mode or its power-on limit
  of 0, Compleo's fallback power): the wishes are written again, once the box
  answers, and that is logged once with the reason;
- a vehicle arriving at a box that puts its own limit back while nothing is
  plugged in (Vestel's 6 A) gets the wishes written again;
- any other difference, seen while connected, is a change made at the box by
  someone else (an app, another client): it is adopted, not fought.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from .capabilities import CurrentLimit, PhaseSwitch
from .errors import ChargerError
from .snapshot import Desired, pid

_LOGGER = logging.getLogger(__name__)


def _amps(value: float) -> str:
    return f"{round(value, 3):g} A"


class DesiredState:
    """What the user asked, per connector (None: the box itself)."""

    def __init__(self, connectors: Iterable[int | None]) -> None:
        self._wishes: dict[int | None, Desired] = {c: Desired() for c in connectors}
        self.on_change: Callable[[], None] | None = None

    def __getitem__(self, connector: int | None) -> Desired:
        return self._wishes[connector]

    def connectors(self) -> list[int | None]:
        return list(self._wishes)

    def update(self, connector: int | None, **changes: Any) -> None:
        current = self._wishes[connector]
        new = current.with_(**changes)
        if new != current:
            self._wishes[connector] = new
            if self.on_change is not None:
                self.on_change()

    def copy(self) -> dict[int | None, Desired]:
        return dict(self._wishes)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-friendly form, for storage."""
        return {
            "connectors": {
                "0" if c is None else str(c): wish.as_dict() for c, wish in self._wishes.items()
            }
        }

    def restore(self, data: Mapping[str, Any]) -> bool:
        """Take back stored wishes; True if any were known."""
        stored = data.get("connectors")
        if not isinstance(stored, Mapping):
            return False
        restored = False
        for connector in self._wishes:
            raw = stored.get("0" if connector is None else str(connector))
            if isinstance(raw, Mapping):
                wish = Desired.from_dict(raw)
                self._wishes[connector] = wish
                restored = restored or wish.known
        return restored


class Reconciler:
    """Brings the box back to the desired state when it left it on its own."""

    def __init__(self, title: str, desired: DesiredState, reboot_counters: Iterable[str]) -> None:
        self._title = title
        self._desired = desired
        self._limits: Mapping[int | None, CurrentLimit] = {}
        self._phase_switch: PhaseSwitch | None = None
        self._reboot_counters = tuple(reboot_counters)
        self.disruption: str | None = None
        self._phases_due: str | None = None
        self._plugged: dict[int | None, bool | None] = {}
        self._counters: dict[str, float] = {}
        self._connects: int | None = None
        self._deferred = False
        self._held = 0
        self.reapplied = 0
        self.adopted = 0
        # Re-applications after a disruption (not after a vehicle arrived), with the reasons:
        # each one is a sign that the box may have fallen back.
        self.fallbacks = 0
        self.fallback_reasons: list[str] = []

    def bind(
        self, limits: Mapping[int | None, CurrentLimit], phase_switch: PhaseSwitch | None
    ) -> None:
        """The capabilities to keep at the wishes (built again once the layout is known)."""
        self._limits = limits
        self._phase_switch = phase_switch

    @property
    def held(self) -> bool:
        """Whether reconciling is on hold (a test writes the box and puts it back itself)."""
        return self._held > 0

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Neither adopt nor re-apply anything while the block runs.

        A disruption noted meanwhile is kept and handled after the hold.
        """
        self._held += 1
        try:
            yield
        finally:
            self._held -= 1

    def note(self, reason: str) -> None:
        """Something happened that may have made the box fall back (the first reason wins)."""
        if self.disruption is None:
            self.disruption = reason

    def observe(self, values: Mapping[str, Any], connects: int) -> None:
        """Disruptions told by the transport and by the box's own counters."""
        if self._connects is not None and connects > self._connects:
            self.note("the connection was lost and opened again")
        self._connects = connects
        for key in self._reboot_counters:
            value = values.get(key)
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                continue
            previous = self._counters.get(key)
            if previous is not None and value < previous:
                self.note(f"the box restarted ({key.replace('_', ' ')} went down)")
            self._counters[key] = float(value)

    async def reconcile(self, values: Mapping[str, Any]) -> bool:
        """Adopt or re-apply after a refresh; True if anything was written."""
        if self.held:
            return False
        reason, self.disruption = self.disruption, None
        self._deferred = False
        wrote = False
        try:
            for connector, limit in self._limits.items():
                wrote |= await self._limit(connector, limit, values, reason)
            if self._phase_switch is not None:
                wrote |= await self._phases(self._phase_switch, values, reason)
        except ChargerError:
            self._deferred = True
            raise
        finally:
            if reason is not None and self._deferred:
                self.note(reason)  # try again after the next refresh
        return wrote

    async def _limit(
        self,
        connector: int | None,
        limit: CurrentLimit,
        values: Mapping[str, Any],
        reason: str | None,
    ) -> bool:
        limit.learn(values)
        plugged = values.get(pid("vehicle_connected", connector))
        arrived = plugged is True and self._plugged.get(connector) is False
        if isinstance(plugged, bool):
            self._plugged[connector] = plugged
        observed = limit.observed(values)
        wish = self._desired[connector]
        if observed is None:
            return False
        if not wish.known:
            # Nothing asked yet: the box's own limit is the starting point.
            self._desired.update(
                connector,
                paused=observed == 0,
                limit=wish.limit if observed == 0 else observed,
            )
            return False
        if limit.pending_raw is not None or limit.writing():
            self._deferred = True
            return False  # a held-back write brings the box there, or one is under way
        target = limit.target(wish, values)
        reset = limit.spec.resets_when_unplugged
        disrupted = reason is not None
        if reason is None and arrived and reset is not None:
            reason = "a vehicle was plugged in (the box resets its limit while none is)"
        if reason is None and limit.relearned and not wish.paused:
            # The same power is another current on another phase count: not a change
            # made at the box, but our wish to be written again in the new count.
            reason = f"the car charges on {limit.phases()} phase(s)"
        if reason is not None:
            if target is None:
                limit.relearned = False
                return False  # the box's range changed under the wish: nothing valid to write
            applied = await self._apply(connector, limit, target, reason)
            limit.relearned = False  # (kept when the write failed: tried again next time)
            if applied and disrupted:
                self._fell_back(reason)
            return applied
        if not limit.fresh():
            return False  # not read since our last write: nothing to adopt yet
        if target is not None and limit.observed_raw(values) == target[1]:
            return False
        if reset is not None and limit.matches(reset, values):
            if plugged is not True:
                return False  # the box's own reset while no vehicle is plugged in
            if wish.paused and target is not None:
                # A car left and one came between two readings of the limit: the box
                # put its own value back meanwhile; a pause is ours to keep.
                return await self._apply(
                    connector, limit, target, "a vehicle came while the box had reset its limit"
                )
        self._adopt(connector, observed)
        return False

    async def _apply(
        self,
        connector: int | None,
        limit: CurrentLimit,
        target: tuple[float, int],
        reason: str,
    ) -> bool:
        amps, raw = target
        await limit.write(raw)
        what = "the pause" if amps == 0 else f"the charging current {_amps(amps)}"
        where = "" if connector is None else f" (connector {connector})"
        _LOGGER.info("%s: %s applied again%s: %s", self._title, what, where, reason)
        self.reapplied += 1
        return True

    def _fell_back(self, reason: str) -> None:
        self.fallbacks += 1
        self.fallback_reasons = [*self.fallback_reasons[-9:], reason]

    def _adopt(self, connector: int | None, observed: float) -> None:
        wish = self._desired[connector]
        where = "" if connector is None else f" (connector {connector})"
        if observed == 0:
            self._desired.update(connector, paused=True)
            _LOGGER.info("%s: paused at the box%s; kept as the new setting", self._title, where)
        else:
            self._desired.update(connector, paused=False, limit=observed)
            _LOGGER.info(
                "%s: charging current %s set at the box%s (was %s); kept as the new setting",
                self._title,
                _amps(observed),
                where,
                "paused" if wish.paused else _amps(wish.limit or 0),
            )
        self.adopted += 1

    async def _phases(
        self, switch: PhaseSwitch, values: Mapping[str, Any], reason: str | None
    ) -> bool:
        if reason is not None:
            self._phases_due = reason  # kept until the box can take the switch
        current = switch.current_from(values)
        wish = self._desired[switch.connector]
        if current is None or not switch.fresh():
            return False  # switching, not read yet, or our own switch under way
        if wish.phases is None:
            self._desired.update(switch.connector, phases=int(current))
            return False
        if str(wish.phases) == current:
            self._phases_due = None
            return False
        if self._phases_due is not None:
            if switch.wait(values) > 0:
                return False  # the box blocks switches for a while: try after the next refresh
            await switch.write(wish.phases)
            _LOGGER.info(
                "%s: %s phase(s) applied again: %s", self._title, wish.phases, self._phases_due
            )
            self._fell_back(self._phases_due)
            self._phases_due = None
            self.reapplied += 1
            return True
        if switch.wait(values) > 0:
            return False  # our own switch is still under way
        self._desired.update(switch.connector, phases=int(current))
        _LOGGER.info(
            "%s: %s phase(s) set at the box; kept as the new setting", self._title, current
        )
        self.adopted += 1
        return False
