"""Vestel EVC04: the one thing its map cannot say.

A known firmware fault freezes the Modbus server: it keeps returning the same
old values until the TCP connection is reopened, and its clock (290 / 294)
stops moving.  When the clock has not moved over several refreshes the
connection is reopened.

Some boxes have a clock that never runs (not set, or no clock at all).  Such a
box is not a frozen server: the connection is reopened at most once for it,
then its clock is no longer taken as the freeze signal (said once in the log
and in diagnostics) until it moves.  A clock that stops after it moved still
gets the connection reopened.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from .strategy import Strategy

_LOGGER = logging.getLogger(__name__)

FROZEN_AFTER = 3  # refreshes with an unchanged clock ...
FROZEN_SECONDS = 5.0  # ... over at least this long


class VestelStrategy(Strategy):
    name = "vestel"

    def __init__(self, title: str, clock: Callable[[], float]) -> None:
        super().__init__(title, clock)
        self._stamp: tuple[Any, Any] | None = None
        self._since = 0.0
        self._stuck = 0
        self._moved = False  # the clock moved since the last reopen
        self._tried_static = False  # one reopen spent on a clock that did not move
        self.clock_trusted = True
        self.reopens = 0

    def after_refresh(self, values: Mapping[str, Any], failed: frozenset[str]) -> None:
        stamp = (values.get("date"), values.get("time"))
        if stamp[1] is None or "time" in failed:
            return
        now = self.clock()
        if stamp != self._stamp:
            if self._stamp is not None:
                self._moved = True
                if not self.clock_trusted:
                    _LOGGER.info(
                        "%s: the clock runs again; watching it for a frozen server", self.title
                    )
                self.clock_trusted = True
                self._tried_static = False
            self._stamp, self._since, self._stuck = stamp, now, 0
            return
        self._stuck += 1
        stuck_for = now - self._since
        if not self.clock_trusted or self._stuck < FROZEN_AFTER or stuck_for < FROZEN_SECONDS:
            return
        if self._moved or not self._tried_static:
            _LOGGER.warning(
                "%s: the clock has not moved for %.0f s; reopening the connection",
                self.title,
                stuck_for,
            )
            self._tried_static = self._tried_static or not self._moved
            self._moved = False
            self._stamp, self._stuck = None, 0
            self.reopens += 1
            self.request_reopen()
            return
        self.clock_trusted = False
        _LOGGER.info(
            "%s: the clock does not run; it is no longer used to tell a frozen Modbus server",
            self.title,
        )

    def info(self) -> dict[str, Any]:
        return {"clock_trusted": self.clock_trusted, "reopens_for_frozen_clock": self.reopens}
