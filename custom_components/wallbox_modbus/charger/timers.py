"""One timer facility for the device layer.

A capability that needs time (a keepalive, a held-back write) says when it is
next due; the charger answers with the earliest.  Whoever drives the charger
(the Home Assistant coordinator) keeps one timer for that moment and calls
``Charger.run_due()``; a task may ask for a poll instead of running itself
(a watchdog served by reading the box's values).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class Due:
    """When a task is next due (charger clock, seconds) and what it is."""

    at: float
    what: str
    poll: bool = False  # served by a poll of the fast tier, not by the task itself


def earliest(dues: list[Due | None]) -> Due | None:
    """The first of several due times (None: nothing is due)."""
    present = [due for due in dues if due is not None]
    return min(present, key=lambda due: due.at) if present else None


@dataclass(frozen=True, kw_only=True)
class Ran:
    """What running the due tasks did."""

    poll: bool = False  # a poll of the fast tier is asked for (a watchdog served by data)
    wrote: bool = False  # a held-back value was written: read the box back
